//! The upgrades table, as an operator looks at it: one record, a tally by status, and a record
//! followed change by change.

use aws_sdk_dynamodb::types::AttributeValue;
use eks_upgrade_orchestrator::domain::{UpgradeRecord, UpgradeStatus};
use local_stack::{dynamodb_client, Error};
use std::collections::HashMap;
use std::time::{Duration, Instant};

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

pub async fn show(endpoint: &str, table: &str, cluster: &str, request_id: &str) -> Result<i32, Error> {
    let client = dynamodb_client(endpoint).await;
    let Some(item) = read_item(&client, table, cluster, request_id).await? else {
        eprintln!("no record {cluster}/{request_id}");
        return Ok(1);
    };
    let record: UpgradeRecord = serde_dynamo::from_item(item)?;
    println!("{}", serde_json::to_string(&record)?);
    Ok(0)
}

pub async fn tally(endpoint: &str, table: &str, expect: usize) -> Result<i32, Error> {
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
        let item = item?;
        // Clusters' locks (sort key `#lock`) and rollouts (partition `rollout#<name>`).
        if matches!(item.get("requestId"), Some(AttributeValue::S(key)) if key.starts_with('#'))
            || matches!(item.get("cluster"), Some(AttributeValue::S(key)) if key.contains('#'))
        {
            continue;
        }
        let record: UpgradeRecord = serde_dynamo::from_item(item)?;
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
pub fn status_name(status: UpgradeStatus) -> String {
    serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// What `watch` follows, and the status it expects at the end.
pub struct Watched<'a> {
    pub cluster: &'a str,
    pub request_id: &'a str,
    pub expect: &'a str,
}

/// What `watch` printed so far.
#[derive(Default)]
struct Shown {
    history: usize,
    invocations: u32,
    update: Option<String>,
    rollback_update: Option<String>,
}

/// Prints the record's history (every status change, with its time) and each new invocation
/// that takes it up, as they appear; returns once the record is finished: 0 if it ended with
/// the expected status.
pub async fn watch(endpoint: &str, table: &str, watched: Watched<'_>, timeout: Duration) -> Result<i32, Error> {
    let client = dynamodb_client(endpoint).await;
    let start = Instant::now();
    let mut shown = Shown::default();
    loop {
        // The table may be briefly unreachable (the fault runs stop it): keep watching.
        if let Ok(Some(item)) = read_item(&client, table, watched.cluster, watched.request_id).await {
            let record: UpgradeRecord = serde_dynamo::from_item(item)?;
            show_changes(&record, &mut shown);
            if record.is_finished() {
                println!(
                    "  {} after {}: {}",
                    status_name(record.status),
                    seconds(start.elapsed()),
                    record.message.as_deref().unwrap_or_default()
                );
                println!(
                    "  ({} invocation(s) in a row at its last stretch, wake-ups after a park not counted; {} fault(s) met)",
                    record.invocations, record.faults
                );
                return Ok(if status_name(record.status) == watched.expect {
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

/// Prints what changed in the record since the last look.
fn show_changes(record: &UpgradeRecord, shown: &mut Shown) {
    let offset = |at: i64| format!("+{:>4}s", at - record.created_at);
    if shown.history == 0 {
        println!(
            "  {}  clientRequestToken {} (stored before any EKS call)",
            offset(record.created_at),
            record.client_request_token
        );
    }
    for (i, entry) in record.history.iter().enumerate().skip(shown.history) {
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
    shown.history = record.history.len();
    if record.update_id.is_some() && shown.update != record.update_id {
        shown.update = record.update_id.clone();
        let how = if record.adopted { "adopted" } else { "ours" };
        println!(
            "  {}  update id {} ({how}); tracked with DescribeUpdate",
            offset(record.updated_at),
            record.update_id.as_deref().unwrap_or_default()
        );
    }
    let rollback_update = record.rollback.as_ref().and_then(|rb| rb.update_id.clone());
    if rollback_update.is_some() && shown.rollback_update != rollback_update {
        shown.rollback_update = rollback_update;
        println!(
            "  {}  control-plane rollback {} (a VersionRollback, token stored first); tracked with DescribeUpdate",
            offset(record.updated_at),
            shown.rollback_update.as_deref().unwrap_or_default()
        );
    }
    if record.invocations > shown.invocations {
        if record.invocations > 1 {
            println!(
                "  {}  invocation {} of the function carries on (a continuation it sent itself)",
                offset(record.heartbeat_at),
                record.invocations
            );
        }
        shown.invocations = record.invocations;
    }
}

/// Waits until the record is at `step` (as stored, e.g. `VERIFY`).
pub async fn wait_step(
    endpoint: &str,
    table: &str,
    cluster: &str,
    request_id: &str,
    step: &str,
    timeout: Duration,
) -> Result<i32, Error> {
    let client = dynamodb_client(endpoint).await;
    let start = Instant::now();
    loop {
        if let Ok(Some(item)) = read_item(&client, table, cluster, request_id).await {
            let record: UpgradeRecord = serde_dynamo::from_item(item)?;
            if serde_json::to_value(record.step)?.as_str() == Some(step) {
                return Ok(0);
            }
            if record.is_finished() {
                eprintln!("{cluster}/{request_id} finished before reaching {step}");
                return Ok(1);
            }
        }
        if start.elapsed() > timeout {
            eprintln!(
                "{cluster}/{request_id} did not reach {step} within {}",
                seconds(timeout)
            );
            return Ok(2);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
