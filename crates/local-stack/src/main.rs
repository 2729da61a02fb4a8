//! `local-stack`: the local stack's helper commands, used by `scripts/demo`.
//!
//! - `create-table`: creates the upgrades table in dynalite from `template.yaml`;
//! - `watch`: follows one upgrade record and prints each change as it happens.

use aws_sdk_dynamodb::types::AttributeValue;
use clap::{Parser, Subcommand};
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

#[derive(Subcommand)]
enum Command {
    /// Create the upgrades table as template.yaml defines it (does nothing if it exists).
    CreateTable {
        #[arg(long, env = "AWS_ENDPOINT_URL_DYNAMODB")]
        endpoint: String,
        #[arg(long, env = "UPGRADES_TABLE")]
        table: String,
        #[arg(long, default_value_os_t = local_stack::template_path())]
        template: PathBuf,
    },
    /// Print each change of an upgrade record until it finishes; exit 0 if it SUCCEEDED.
    Watch {
        #[arg(long, env = "AWS_ENDPOINT_URL_DYNAMODB")]
        endpoint: String,
        #[arg(long, env = "UPGRADES_TABLE")]
        table: String,
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
        Command::CreateTable { endpoint, table, template } => create(&endpoint, &table, &template).await,
        Command::Watch { endpoint, table, cluster, request_id, timeout } => {
            watch(&endpoint, &table, &cluster, &request_id, Duration::from_secs(timeout)).await
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

fn text(item: &HashMap<String, AttributeValue>, name: &str) -> Option<String> {
    match item.get(name)? {
        AttributeValue::S(s) => Some(s.clone()),
        AttributeValue::N(n) => Some(n.clone()),
        AttributeValue::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 60.0 {
        format!("{s:.1}s")
    } else {
        format!("{}m{:02}s", (s / 60.0) as u64, (s % 60.0) as u64)
    }
}

async fn watch(endpoint: &str, table: &str, cluster: &str, request_id: &str, timeout: Duration) -> Result<i32, Error> {
    let client = dynamodb_client(endpoint).await;
    let start = Instant::now();
    let mut last: Option<(String, String, Option<String>)> = None;
    let mut since = start;
    loop {
        let out = client
            .get_item()
            .table_name(table)
            .key("cluster", AttributeValue::S(cluster.to_owned()))
            .key("requestId", AttributeValue::S(request_id.to_owned()))
            .consistent_read(true)
            .send()
            .await;
        if let Ok(Some(item)) = out.map(|o| o.item) {
            let status = text(&item, "status").unwrap_or_default();
            let step = text(&item, "step").unwrap_or_default();
            let update_id = text(&item, "updateId");
            let now = (status.clone(), step.clone(), update_id.clone());
            if last.as_ref() != Some(&now) {
                let elapsed = seconds(start.elapsed());
                let mut line = format!("  +{elapsed:>7}  {status:<11} {step:<24}");
                match &last {
                    None => {
                        let token = text(&item, "clientRequestToken").unwrap_or_default();
                        line.push_str(&format!(" record written, clientRequestToken {token}"));
                    }
                    Some((previous, _, previous_update)) => {
                        if previous_update.is_none() {
                            if let Some(id) = &update_id {
                                line.push_str(&format!(" update id {id}"));
                            }
                        }
                        if *previous != status {
                            line.push_str(&format!(" ({previous} for {})", seconds(since.elapsed())));
                            since = Instant::now();
                        }
                    }
                }
                println!("{line}");
                if !matches!(status.as_str(), "PENDING" | "IN_PROGRESS") {
                    let message = text(&item, "message").unwrap_or_default();
                    let invocations = text(&item, "invocations").unwrap_or_default();
                    println!("  {status}: {message}");
                    println!("  ({invocations} invocation(s) of the function worked on it)");
                    return Ok(if status == "SUCCEEDED" { 0 } else { 1 });
                }
                last = Some(now);
            }
        }
        if start.elapsed() > timeout {
            eprintln!("gave up watching after {}", seconds(timeout));
            return Ok(2);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
