//! `local-stack`: the local stack's helper commands, used by `scripts/demo`.
//!
//! - `create-table`: creates the upgrades table in dynalite from `template.yaml`;
//! - `watch`: follows one upgrade record and prints each change as it happens.

use aws_sdk_dynamodb::types::AttributeValue;
use clap::{Parser, Subcommand};
use eks_upgrade_orchestrator::domain::{UpgradeRecord, UpgradeStatus};
use local_stack::{create_table, dynamodb_client, table_spec_from_template, Error};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(about = "Helpers for the local stack (dynalite, EKS emulator, cargo lambda watch)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the upgrades table is: every subcommand takes these.
#[derive(clap::Args)]
struct TableArgs {
    #[arg(long, env = "AWS_ENDPOINT_URL_DYNAMODB")]
    endpoint: String,
    #[arg(long, env = "UPGRADES_TABLE")]
    table: String,
}

#[derive(Subcommand)]
enum Command {
    /// Create the upgrades table as template.yaml defines it (does nothing if it exists).
    CreateTable {
        #[command(flatten)]
        at: TableArgs,
        #[arg(long, default_value_os_t = local_stack::template_path())]
        template: PathBuf,
    },
    /// Print one upgrade record as JSON.
    Show {
        #[command(flatten)]
        at: TableArgs,
        #[arg(long)]
        cluster: String,
        #[arg(long)]
        request_id: String,
    },
    /// Count the table's records by status (one JSON line); exit 0 once at least `--expect`
    /// of them SUCCEEDED, 2 before. For the fleet benchmark.
    Tally {
        #[command(flatten)]
        at: TableArgs,
        #[arg(long, default_value_t = 1)]
        expect: usize,
    },
    /// Print each change of an upgrade record until it finishes; exit 0 if it SUCCEEDED.
    Watch {
        #[command(flatten)]
        at: TableArgs,
        #[arg(long)]
        cluster: String,
        #[arg(long)]
        request_id: String,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 600)]
        timeout: u64,
    },
}

#[tokio::main]
async fn main() {
    let result = match Cli::parse().command {
        Command::CreateTable { at, template } => create(&at.endpoint, &at.table, &template).await,
        Command::Show {
            at,
            cluster,
            request_id,
        } => show(&at.endpoint, &at.table, &cluster, &request_id).await,
        Command::Tally { at, expect } => tally(&at.endpoint, &at.table, expect).await,
        Command::Watch {
            at,
            cluster,
            request_id,
            timeout,
        } => {
            watch(
                &at.endpoint,
                &at.table,
                &cluster,
                &request_id,
                Duration::from_secs(timeout),
            )
            .await
        }
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}

async fn create(endpoint: &str, table: &str, template: &std::path::Path) -> Result<i32, Error> {
    let spec = table_spec_from_template(template)?;
    let client = dynamodb_client(endpoint).await;
    let created = create_table(&client, table, &spec).await?;
    let what = if created { "created" } else { "already there" };
    println!("table {table}: {what} (keys cluster/requestId, index resumable, as in template.yaml)");
    Ok(0)
}

fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 60.0 {
        format!("{s:.1}s")
    } else {
        format!("{}m{:02}s", (s / 60.0) as u64, (s % 60.0) as u64)
    }
}

/// One upgrade record's item, read consistently; `None` if there is none.
async fn read_item(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    cluster: &str,
    request_id: &str,
) -> Result<Option<HashMap<String, AttributeValue>>, aws_sdk_dynamodb::Error> {
    let out = client
        .get_item()
        .table_name(table)
        .key("cluster", AttributeValue::S(cluster.to_owned()))
        .key("requestId", AttributeValue::S(request_id.to_owned()))
        .consistent_read(true)
        .send()
        .await?;
    Ok(out.item)
}

async fn show(endpoint: &str, table: &str, cluster: &str, request_id: &str) -> Result<i32, Error> {
    let client = dynamodb_client(endpoint).await;
    let Some(item) = read_item(&client, table, cluster, request_id).await? else {
        eprintln!("no record {cluster}/{request_id}");
        return Ok(1);
    };
    let record: UpgradeRecord = serde_dynamo::from_item(item)?;
    println!("{}", serde_json::to_string(&record)?);
    Ok(0)
}

async fn tally(endpoint: &str, table: &str, expect: usize) -> Result<i32, Error> {
    let client = dynamodb_client(endpoint).await;
    let mut pages = client
        .scan()
        .table_name(table)
        .consistent_read(true)
        .into_paginator()
        .items()
        .send();
    let (mut by_status, mut records, mut invocations, mut writes) = (std::collections::BTreeMap::new(), 0, 0, 0);
    while let Some(item) = pages.next().await {
        let record: UpgradeRecord = serde_dynamo::from_item(item?)?;
        *by_status.entry(status_name(record.status)).or_insert(0usize) += 1;
        records += 1;
        invocations += u64::from(record.invocations);
        // Every write of a record bumps its revision, from 0 at the first put.
        writes += record.revision + 1;
    }
    let succeeded = by_status.get("SUCCEEDED").copied().unwrap_or(0);
    println!(
        "{}",
        serde_json::json!({ "records": records, "byStatus": by_status, "invocations": invocations, "writes": writes })
    );
    Ok(if succeeded >= expect { 0 } else { 2 })
}

/// The status as stored (`IN_PROGRESS`).
fn status_name(status: UpgradeStatus) -> String {
    serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Prints the record's history (every status change, with its time) and each new invocation
/// that takes it up, as they appear; returns once the record is finished.
async fn watch(endpoint: &str, table: &str, cluster: &str, request_id: &str, timeout: Duration) -> Result<i32, Error> {
    let client = dynamodb_client(endpoint).await;
    let start = Instant::now();
    let (mut shown_history, mut shown_invocations, mut shown_update) = (0, 0, None);
    loop {
        // The table may be briefly unreachable (the fault runs stop it): keep watching.
        if let Ok(Some(item)) = read_item(&client, table, cluster, request_id).await {
            let record: UpgradeRecord = serde_dynamo::from_item(item)?;
            let offset = |at: i64| format!("+{:>4}s", at - record.created_at);
            if shown_history == 0 {
                println!(
                    "  {}  clientRequestToken {} (stored before any EKS call)",
                    offset(record.created_at),
                    record.client_request_token
                );
            }
            for (i, entry) in record.history.iter().enumerate().skip(shown_history) {
                let took = match i.checked_sub(1).and_then(|p| record.history.get(p)) {
                    Some(previous) => format!("  ({} for {}s)", status_name(previous.status), entry.at - previous.at),
                    None => String::new(),
                };
                println!(
                    "  {}  {:<12} {}{took}",
                    offset(entry.at),
                    status_name(entry.status),
                    entry.note
                );
            }
            shown_history = record.history.len();
            if record.update_id.is_some() && shown_update != record.update_id {
                shown_update = record.update_id.clone();
                let how = if record.adopted { "adopted" } else { "ours" };
                println!(
                    "  {}  update id {} ({how}); tracked with DescribeUpdate",
                    offset(record.updated_at),
                    record.update_id.as_deref().unwrap_or_default()
                );
            }
            if record.invocations > shown_invocations {
                if record.invocations > 1 {
                    println!(
                        "  {}  invocation {} of the function carries on (a continuation it sent itself)",
                        offset(record.heartbeat_at),
                        record.invocations
                    );
                }
                shown_invocations = record.invocations;
            }
            if record.is_finished() {
                println!(
                    "  {} after {}: {}",
                    status_name(record.status),
                    seconds(start.elapsed()),
                    record.message.as_deref().unwrap_or_default()
                );
                println!(
                    "  ({} invocation(s) of the function worked on it; {} fault(s) met)",
                    record.invocations, record.faults
                );
                return Ok(if record.status == UpgradeStatus::Succeeded {
                    0
                } else {
                    1
                });
            }
        }
        if start.elapsed() > timeout {
            eprintln!("gave up watching after {}", seconds(timeout));
            return Ok(2);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
