//! Following an upgrade or a rollout to its end: a status query every few seconds, a line for
//! each change (so a log or a pipe shows the story), and progress bars on a terminal.

use crate::cli::{ClusterRef, RolloutName};
use crate::events;
use crate::function::{CliError, Function};
use crate::render::cell;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

/// Statuses an upgrade does not leave by itself (BLOCKED waits for a new request or a re-check).
const UPGRADE_ENDS: [&str; 8] = [
    "SUCCEEDED",
    "FAILED",
    "CANCELLED",
    "TIMED_OUT",
    "ROLLED_BACK",
    "ROLLBACK_FAILED",
    "ROLLBACK_BLOCKED",
    "BLOCKED",
];
const ROLLOUT_ENDS: [&str; 3] = ["SUCCEEDED", "STOPPED", "CANCELLED"];

fn bar(len: u64, prefix: String) -> ProgressBar {
    let style = ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    ProgressBar::new(len).with_style(style).with_prefix(prefix)
}

/// The record a watch follows: the one asked for, else the running one, else the latest.
fn pick<'a>(records: &'a [Value], request_id: &Option<String>) -> Option<&'a Value> {
    if let Some(id) = request_id {
        return records.iter().find(|r| r["requestId"] == id.as_str());
    }
    let running = records
        .iter()
        .find(|r| !UPGRADE_ENDS.contains(&r["status"].as_str().unwrap_or_default()));
    running.or_else(|| {
        records
            .iter()
            .max_by_key(|r| r["updatedAt"].as_i64().unwrap_or_default())
    })
}

/// `from` plus `n` minors ("1.30" + 2 = "1.32").
fn minors_after(from: &str, n: usize) -> String {
    match from
        .split_once('.')
        .map(|(major, minor)| (major, minor.parse::<usize>()))
    {
        Some((major, Ok(minor))) => format!("{major}.{}", minor + n),
        _ => "?".into(),
    }
}

/// How many control-plane hops the upgrade makes in all (its plan is remade at each hop, so
/// it is counted from the versions).
fn hops_in_all(r: &Value) -> u64 {
    let minor = |k: &str| {
        r[k].as_str()
            .and_then(|v| v.split_once('.'))
            .and_then(|(_, m)| m.parse::<u64>().ok())
    };
    match (minor("fromVersion"), minor("targetVersion")) {
        (Some(from), Some(to)) if to > from => to - from,
        _ => 1,
    }
}

/// The lines a record's state shows, by what they are about (a change of one prints it).
fn upgrade_lines(r: &Value) -> BTreeMap<String, String> {
    let mut lines = BTreeMap::new();
    lines.insert(
        "0".into(),
        format!("{}  {}  {}", cell(&r["status"]), cell(&r["step"]), cell(&r["message"])),
    );
    let from = cell(&r["fromVersion"]);
    for (i, id) in r["controlPlaneUpdates"].as_array().into_iter().flatten().enumerate() {
        let to = minors_after(&from, i + 1);
        lines.insert(
            format!("1-{i}"),
            format!("control plane -> {to}  update {}  Successful", cell(id)),
        );
    }
    if !r["updateId"].is_null() && r["step"] == "TRACK_UPDATE" {
        lines.insert(
            "1-now".into(),
            format!(
                "control plane -> {}  update {}  InProgress",
                cell(&r["hopVersion"]),
                cell(&r["updateId"])
            ),
        );
    }
    let rollback = &r["rollback"];
    if !rollback["updateId"].is_null() {
        lines.insert(
            "3-rollback".into(),
            format!(
                "rollback {} -> {}  update {}  {}",
                cell(&rollback["from"]),
                cell(&rollback["to"]),
                cell(&rollback["updateId"]),
                cell(&r["status"])
            ),
        );
    }
    for item in r["items"].as_array().into_iter().flatten() {
        if item["updateId"].is_null() && item["status"] == "PLANNED" {
            continue;
        }
        let key = format!(
            "2-{}-{}-{}",
            cell(&item["hop"]),
            cell(&item["kind"]),
            cell(&item["name"])
        );
        lines.insert(
            key,
            format!(
                "{} {} -> {}  update {}  {}",
                cell(&item["kind"]).to_lowercase(),
                cell(&item["name"]),
                cell(&item["version"]),
                cell(&item["updateId"]),
                cell(&item["status"])
            ),
        );
    }
    if r["status"] == "WAITING_FOR_WINDOW" {
        lines.insert(
            "4-window".into(),
            format!(
                "parked until {} (epoch seconds): outside its maintenance window",
                cell(&r["waitUntil"])
            ),
        );
    }
    lines
}

/// How long a watch waits for a record asked for by id to appear (a schedule about to send it).
const APPEAR_WITHIN: Duration = Duration::from_secs(120);

/// Follows one upgrade until it ends; its last record. Lines go to `out` (stderr with
/// `--output json`, so stdout holds only JSON).
pub async fn upgrade(
    f: &Function,
    c: &ClusterRef,
    request_id: &Option<String>,
    interval: u64,
    out: &mut dyn Write,
) -> Result<Value, CliError> {
    let mut shown: BTreeMap<String, String> = BTreeMap::new();
    let progress = bar(1, "hops".into());
    // The record followed: the one asked for, else the first picked, kept from then on.
    let mut following = request_id.clone();
    let started = std::time::Instant::now();
    loop {
        let reply = f.invoke(&events::status(c, &following)).await?;
        let records = reply["records"].as_array().cloned().unwrap_or_default();
        let Some(record) = pick(&records, &following).cloned() else {
            if following.is_some() && started.elapsed() < APPEAR_WITHIN {
                tokio::time::sleep(Duration::from_secs(interval)).await;
                continue;
            }
            progress.finish_and_clear();
            let which = following.as_deref().unwrap_or("any");
            return Err(CliError::Usage(format!(
                "no upgrade recorded for {} (request {which})",
                c.cluster
            )));
        };
        following = record["requestId"].as_str().map(str::to_owned);
        progress.set_length(hops_in_all(&record));
        progress.set_position(record["controlPlaneUpdates"].as_array().map_or(0, Vec::len) as u64);
        progress.set_message(cell(&record["status"]));
        for (key, line) in upgrade_lines(&record) {
            if shown.get(&key) != Some(&line) {
                progress
                    .suspend(|| writeln!(out, "{line}"))
                    .map_err(|e| CliError::Usage(e.to_string()))?;
                shown.insert(key, line);
            }
        }
        if UPGRADE_ENDS.contains(&record["status"].as_str().unwrap_or_default()) {
            progress.finish_and_clear();
            return Ok(record);
        }
        tokio::time::sleep(Duration::from_secs(interval)).await;
    }
}

/// Follows a rollout until it ends: a bar per stage, a line per cluster's change; its last
/// answer (also when it waits for an approval or is paused: it would wait for ever).
pub async fn rollout(f: &Function, r: &RolloutName, interval: u64, out: &mut dyn Write) -> Result<Value, CliError> {
    let bars = MultiProgress::new();
    let mut stage_bars: BTreeMap<String, ProgressBar> = BTreeMap::new();
    let mut shown: BTreeMap<String, String> = BTreeMap::new();
    loop {
        let reply = f.invoke(&events::rollout_status(r)).await?;
        for stage in reply["stages"].as_array().into_iter().flatten() {
            let name = cell(&stage["name"]);
            let clusters = stage["clusters"].as_array().cloned().unwrap_or_default();
            let done = clusters
                .iter()
                .filter(|c| ["SUCCEEDED", "FAILED", "SKIPPED"].contains(&c["state"].as_str().unwrap_or_default()))
                .count();
            let b = stage_bars
                .entry(name.clone())
                .or_insert_with(|| bars.add(bar(clusters.len() as u64, name.clone())));
            b.set_position(done as u64);
            b.set_message(cell(&stage["status"]));
            for c in &clusters {
                let note = c["upgrade"]["message"].as_str().or(c["note"].as_str()).unwrap_or("");
                let line = format!("{name}  {}  {}  {note}", cell(&c["name"]), cell(&c["state"]));
                let key = format!("{name}/{}", cell(&c["name"]));
                if shown.get(&key) != Some(&line) {
                    bars.suspend(|| writeln!(out, "{}", line.trim_end()))
                        .map_err(|e| CliError::Usage(e.to_string()))?;
                    shown.insert(key, line);
                }
            }
        }
        let status = cell(&reply["status"]);
        if shown.get("status") != Some(&status) {
            bars.suspend(|| writeln!(out, "rollout {}: {status}  {}", r.name, cell(&reply["message"])))
                .map_err(|e| CliError::Usage(e.to_string()))?;
            shown.insert("status".into(), status.clone());
        }
        if ROLLOUT_ENDS.contains(&status.as_str()) {
            bars.clear().ok();
            return Ok(reply);
        }
        if status == "PAUSED" {
            bars.clear().ok();
            writeln!(out, "paused: eks-upgrade rollout resume --name {} goes on", r.name)
                .map_err(|e| CliError::Usage(e.to_string()))?;
            return Ok(reply);
        }
        if let Some(stage) = awaiting(&reply) {
            bars.clear().ok();
            let line = format!(
                "stage {stage} awaits approval: eks-upgrade rollout approve --name {} --stage {stage}",
                r.name
            );
            writeln!(out, "{line}").map_err(|e| CliError::Usage(e.to_string()))?;
            return Ok(reply);
        }
        tokio::time::sleep(Duration::from_secs(interval)).await;
    }
}

/// The stage waiting for an operator: a watch ends there, saying so (it would wait for ever).
fn awaiting(reply: &Value) -> Option<String> {
    reply["stages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["status"] == "AWAITING_APPROVAL")
        .map(|s| cell(&s["name"]))
}
