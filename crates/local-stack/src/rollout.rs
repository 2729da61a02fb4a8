//! A rollout followed as it goes: a progress bar per stage and a line per cluster on a
//! terminal; on anything else (a log, CI), a line per change.

use aws_sdk_dynamodb::types::AttributeValue;
use eks_upgrade_orchestrator::domain::rollout::{partition, ClusterState, RolloutRecord};
use eks_upgrade_orchestrator::domain::UpgradeRecord;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use local_stack::{dynamodb_client, Error};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// Which rollout to follow, and the status it should end with.
pub struct Followed<'a> {
    pub name: &'a str,
    pub request_id: Option<&'a str>,
    pub expect: &'a str,
}

/// Follows the rollout until it ends: 0 if it ended with the expected status, 1 if not, 2 on
/// time-out.
pub async fn watch(endpoint: &str, table: &str, followed: Followed<'_>, timeout: Duration) -> Result<i32, Error> {
    let client = dynamodb_client(endpoint).await;
    let start = Instant::now();
    let mut view = View::new(std::io::stderr().is_terminal());
    loop {
        if let Ok(Some(rollout)) = read(&client, table, &followed).await {
            let upgrades = children(&client, table, &rollout).await;
            view.show(&rollout, &upgrades, start.elapsed());
            if rollout.is_finished() {
                view.finish();
                println!(
                    "  {} after {:.0}s: {}",
                    status_name(rollout.status),
                    start.elapsed().as_secs_f64(),
                    rollout.message.as_deref().unwrap_or_default()
                );
                return Ok(if status_name(rollout.status) == followed.expect {
                    0
                } else {
                    1
                });
            }
        }
        if start.elapsed() > timeout {
            view.finish();
            eprintln!("gave up watching after {}s", timeout.as_secs());
            return Ok(2);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn status_name<T: serde::Serialize>(status: T) -> String {
    serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The rollout named, or (without a request id) its unfinished run, else its latest.
async fn read(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    followed: &Followed<'_>,
) -> Result<Option<RolloutRecord>, Error> {
    let out = client
        .query()
        .table_name(table)
        .key_condition_expression("#cluster = :partition")
        .expression_attribute_names("#cluster", "cluster")
        .expression_attribute_values(":partition", AttributeValue::S(partition(followed.name)))
        .consistent_read(true)
        .send()
        .await?;
    let mut all: Vec<RolloutRecord> = Vec::new();
    for item in out.items.unwrap_or_default() {
        all.push(serde_dynamo::from_item(item)?);
    }
    if let Some(id) = followed.request_id {
        return Ok(all.into_iter().find(|r| r.request_id == id));
    }
    all.sort_by_key(|r| (!r.is_finished(), r.created_at));
    Ok(all.pop())
}

/// The upgrade records of the rollout's started clusters (for small rollouts: one read each).
async fn children(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    rollout: &RolloutRecord,
) -> BTreeMap<String, UpgradeRecord> {
    let mut found = BTreeMap::new();
    let clusters: Vec<_> = rollout.stages.iter().flat_map(|s| s.clusters.iter()).collect();
    if clusters.len() > 30 {
        return found;
    }
    for entry in clusters.iter().filter(|c| c.state.is_active()) {
        let item = client
            .get_item()
            .table_name(table)
            .key("cluster", AttributeValue::S(entry.name.clone()))
            .key("requestId", AttributeValue::S(rollout.child_request_id()))
            .send()
            .await;
        if let Some(record) = item
            .ok()
            .and_then(|o| o.item)
            .and_then(|i| serde_dynamo::from_item(i).ok())
        {
            found.insert(entry.name.clone(), record);
        }
    }
    found
}

/// Bars on a terminal, lines otherwise.
struct View {
    bars: Option<(MultiProgress, Vec<ProgressBar>, BTreeMap<String, ProgressBar>)>,
    shown_history: usize,
    last_line: BTreeMap<String, String>,
}

impl View {
    fn new(terminal: bool) -> Self {
        Self {
            bars: terminal.then(|| (MultiProgress::new(), Vec::new(), BTreeMap::new())),
            shown_history: 0,
            last_line: BTreeMap::new(),
        }
    }

    fn show(&mut self, rollout: &RolloutRecord, upgrades: &BTreeMap<String, UpgradeRecord>, elapsed: Duration) {
        for entry in rollout.history.iter().skip(self.shown_history) {
            let line = format!("  +{:>4}s  {}", entry.at - rollout.created_at, entry.note);
            self.print(line);
        }
        self.shown_history = rollout.history.len();
        let small = rollout.stages.iter().map(|s| s.clusters.len()).sum::<usize>() <= 30;
        for (i, stage) in rollout.stages.iter().enumerate() {
            let over = stage.clusters.iter().filter(|c| c.state.is_over()).count();
            let summary = format!(
                "{:<10} {:<17} {} running, {} failed",
                stage.name,
                status_name(stage.status),
                stage.active(),
                stage.count(ClusterState::Failed)
            );
            self.stage_bar(i, stage.clusters.len(), over, summary);
            for cluster in stage.clusters.iter().filter(|_| small) {
                let upgrade = upgrades.get(&cluster.name).map(|u| {
                    let hop = u.hop_version.map(|h| format!(" to {h}")).unwrap_or_default();
                    let message = u.message.as_deref().map(|m| format!(": {m}")).unwrap_or_default();
                    format!(" (upgrade {}{hop}{message})", status_name(u.status))
                });
                let note = cluster.note.as_deref().map(|n| format!(" - {n}")).unwrap_or_default();
                // A member account's cluster by name, account and region, not its ARN.
                let shown = eks_upgrade_orchestrator::domain::ClusterId::parse(&cluster.name)
                    .map(|id| id.to_string())
                    .unwrap_or_else(|_| cluster.name.clone());
                let line = format!(
                    "    {:<12} {:<10}{}{note}",
                    shown,
                    status_name(cluster.state),
                    upgrade.unwrap_or_default()
                );
                self.cluster_line(&cluster.name, line, elapsed);
            }
        }
    }

    fn print(&self, line: String) {
        match &self.bars {
            Some((multi, _, _)) => {
                let _ = multi.println(line);
            }
            None => println!("{line}"),
        }
    }

    fn stage_bar(&mut self, i: usize, len: usize, over: usize, summary: String) {
        if let Some((multi, stages, _)) = &mut self.bars {
            while stages.len() <= i {
                let bar = multi.add(ProgressBar::new(len as u64));
                bar.set_style(
                    ProgressStyle::with_template("  {bar:30.cyan/blue} {pos:>4}/{len:<4} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                stages.push(bar);
            }
            stages[i].set_position(over as u64);
            stages[i].set_message(summary);
        } else if self.last_line.get(&format!("#stage{i}")) != Some(&summary) {
            println!("  stage {summary} ({over}/{len} done)");
            self.last_line.insert(format!("#stage{i}"), summary);
        }
    }

    fn cluster_line(&mut self, name: &str, line: String, elapsed: Duration) {
        if let Some((multi, _, lines)) = &mut self.bars {
            let bar = lines.entry(name.to_owned()).or_insert_with(|| {
                let bar = multi.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("{msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar
            });
            bar.set_message(line);
        } else if self.last_line.get(name) != Some(&line) {
            println!("  +{:>4}s  {}", elapsed.as_secs(), line.trim_start());
            self.last_line.insert(name.to_owned(), line);
        }
    }

    fn finish(&mut self) {
        if let Some((_, stages, lines)) = &self.bars {
            for bar in stages.iter().chain(lines.values()) {
                bar.finish();
            }
        }
    }
}

/// Waits until a stage of the rollout has `status` (e.g. AWAITING_APPROVAL): 0 then, 1 if
/// the rollout ended first, 2 on time-out.
pub async fn wait_stage(
    endpoint: &str,
    table: &str,
    followed: Followed<'_>,
    stage: &str,
    status: &str,
    timeout: Duration,
) -> Result<i32, Error> {
    let client = dynamodb_client(endpoint).await;
    let start = Instant::now();
    loop {
        if let Ok(Some(rollout)) = read(&client, table, &followed).await {
            if rollout
                .stages
                .iter()
                .any(|s| s.name == stage && status_name(s.status) == status)
            {
                return Ok(0);
            }
            if rollout.is_finished() {
                eprintln!("rollout {} ended before stage {stage} was {status}", followed.name);
                return Ok(1);
            }
        }
        if start.elapsed() > timeout {
            eprintln!("stage {stage} was not {status} within {}s", timeout.as_secs());
            return Ok(2);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
