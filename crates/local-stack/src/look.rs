//! Looking at the emulated EKS and at JSON answers, for scripts: what used to be inline Python.

use local_stack::Error;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Read;

/// The parts of the emulator's `GET /_emulator/stats` read here (its README documents it).
#[derive(Debug, Default, Deserialize)]
struct Stats {
    #[serde(default)]
    clusters: BTreeMap<String, ClusterCounts>,
    #[serde(default)]
    relay: RelayCounts,
    #[serde(default)]
    schedules: ScheduleCounts,
}

/// The EventBridge Scheduler stand-in's counts.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct ScheduleCounts {
    fired: u64,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct ClusterCounts {
    cluster_version_updates_created: u64,
    update_cluster_version_calls: u64,
    addon_updates_created: u64,
    nodegroup_updates_created: u64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RelayCounts {
    delivered: u64,
}

/// DescribeCluster through the SDK, as the function does, against `endpoint`.
async fn eks_client(endpoint: &str) -> aws_sdk_eks::Client {
    aws_sdk_eks::Client::new(&local_stack::local_sdk_config(endpoint).await)
}

/// The client that sees `cluster` (a name, or the ARN of a member account's cluster, reached as
/// the function does: the emulator's STS, the spoke role `eks-upgrade-spoke`), and its name.
async fn reach(endpoint: &str, cluster: &str) -> Result<(aws_sdk_eks::Client, String), Error> {
    use eks_upgrade_orchestrator::adapters::aws::{AwsConfig, LazyClient};
    use eks_upgrade_orchestrator::adapters::spokes::{SpokeRole, Spokes};
    let id = eks_upgrade_orchestrator::domain::ClusterId::parse(cluster)?;
    let Some(at) = &id.at else {
        return Ok((eks_client(endpoint).await, cluster.to_owned()));
    };
    let base = local_stack::local_sdk_config(endpoint).await;
    let sts = aws_sdk_sts::Client::new(&base);
    let role = SpokeRole {
        name: "eks-upgrade-spoke".into(),
        external_id: None,
    };
    let spokes = Spokes::new(AwsConfig::ready(base), LazyClient::ready(sts), role);
    let client = spokes.eks(at, "local-stack").await.map_err(|e| e.to_string())?;
    Ok((client, id.name.as_str().to_owned()))
}

pub async fn cluster(endpoint: &str, cluster: &str) -> Result<i32, Error> {
    let (client, name) = reach(endpoint, cluster).await?;
    let shown = eks_upgrade_orchestrator::domain::ClusterId::parse(cluster)
        .map(|id| id.to_string())
        .unwrap_or_else(|_| cluster.to_owned());
    let name = name.as_str();
    let out = client
        .describe_cluster()
        .name(name)
        .send()
        .await
        .map_err(|e| format!("DescribeCluster {name}: {}", aws_sdk_eks::error::DisplayErrorContext(e)))?;
    let cluster = out.cluster().ok_or("DescribeCluster answered without a cluster")?;
    println!(
        "   cluster {shown}: Kubernetes {}, {}, platform {}",
        cluster.version().unwrap_or("?"),
        cluster.status().map(|s| s.as_str()).unwrap_or("?"),
        cluster.platform_version().unwrap_or("?")
    );
    Ok(0)
}

fn admin(endpoint: &str, path: &str) -> Result<ureq::Body, Error> {
    let url = format!("{}/{}", endpoint.trim_end_matches('/'), path.trim_start_matches('/'));
    Ok(ureq::get(&url).call()?.into_body())
}

/// The cluster's updates by type, oldest first (ListUpdates, DescribeUpdate); exit 1 unless
/// there are `expect_rollbacks` VersionRollback (when given).
pub async fn update_types(endpoint: &str, cluster: &str, expect_rollbacks: Option<usize>) -> Result<i32, Error> {
    let eks = eks_client(endpoint).await;
    let sdk = |e: &dyn std::fmt::Display| format!("{cluster}: {e}");
    let listed = eks.list_updates().name(cluster).send().await.map_err(|e| sdk(&e))?;
    let mut updates = Vec::new();
    for id in listed.update_ids() {
        let described = eks
            .describe_update()
            .name(cluster)
            .update_id(id)
            .send()
            .await
            .map_err(|e| sdk(&e))?;
        let update = described.update().ok_or("DescribeUpdate answered without an update")?;
        let created = update.created_at().map(|t| t.as_secs_f64()).unwrap_or_default();
        let what = format!(
            "{} {}",
            update.r#type().map(|t| t.as_str()).unwrap_or("?"),
            update.status().map(|s| s.as_str()).unwrap_or("?")
        );
        updates.push((created, what));
    }
    updates.sort_by(|a, b| a.0.total_cmp(&b.0));
    let types: Vec<String> = updates.into_iter().map(|(_, what)| what).collect();
    println!("   its updates, oldest first: {}", types.join(", "));
    let rollbacks = types.iter().filter(|t| t.starts_with("VersionRollback ")).count();
    Ok(match expect_rollbacks {
        Some(n) if n != rollbacks => 1,
        _ => 0,
    })
}

/// Sets an alarm of the emulator's CloudWatch stand-in.
pub fn alarm(endpoint: &str, name: &str, state: &str, reason: &str) -> Result<i32, Error> {
    let url = format!("{}/_emulator/alarms", endpoint.trim_end_matches('/'));
    ureq::post(&url).send_json(serde_json::json!({ "name": name, "state": state, "reason": reason }))?;
    println!("   alarm {name}: {state} ({reason})");
    Ok(0)
}

/// The emulator's admin API's answer at `path`, printed as is.
pub fn emulator(endpoint: &str, path: &str) -> Result<i32, Error> {
    println!("{}", admin(endpoint, path)?.read_to_string()?);
    Ok(0)
}

/// The emulator's counts for `cluster`, from its admin API.
pub fn counts(endpoint: &str, cluster: &str, expect_control_plane: Option<u64>) -> Result<i32, Error> {
    let stats: Stats = admin(endpoint, "/_emulator/stats")?.read_json()?;
    let c = stats.clusters.get(cluster).cloned().unwrap_or_default();
    println!(
        "   EKS (emulator) counted {} control-plane update(s) from {} UpdateClusterVersion call(s),",
        c.cluster_version_updates_created, c.update_cluster_version_calls
    );
    println!(
        "   {} add-on update(s) and {} node-group update(s);",
        c.addon_updates_created, c.nodegroup_updates_created
    );
    println!(
        "   {} wake-up(s) fired by EventBridge Scheduler (emulator) after a park; the relay delivered {} \
         invocation(s) of the function to itself in all.",
        stats.schedules.fired, stats.relay.delivered
    );
    Ok(match expect_control_plane {
        Some(n) if n != c.cluster_version_updates_created => 1,
        _ => 0,
    })
}

fn stdin_json() -> Result<Value, Error> {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text)?;
    Ok(serde_json::from_str(&text)?)
}

/// The function's answer: a summary line, or a line per record of a status query.
pub fn reply() -> Result<i32, Error> {
    let answer = stdin_json()?;
    let text = |v: &Value, k: &str| match &v[k] {
        Value::String(s) => s.clone(),
        Value::Null => "-".to_owned(),
        other => other.to_string(),
    };
    if let Some(stages) = answer.get("stages").and_then(Value::as_array) {
        rollout_reply(&answer, stages);
        return Ok(0);
    }
    match answer.get("records").and_then(Value::as_array) {
        Some(records) => {
            for r in records {
                println!(
                    "   {} {}: {}, update {}, token {}",
                    text(r, "cluster"),
                    text(r, "requestId"),
                    text(r, "status"),
                    text(r, "updateId"),
                    text(r, "clientRequestToken")
                );
            }
        }
        None => println!(
            "   status {}, updateId {}, outcome: {}",
            text(&answer, "status"),
            text(&answer, "updateId"),
            text(&answer, "outcome")
        ),
    }
    Ok(0)
}

/// A rollout's answer (a start, a control, a status, a dry run): a line per stage and cluster.
fn rollout_reply(answer: &Value, stages: &[Value]) {
    let text = |v: &Value, k: &str| match &v[k] {
        Value::String(s) => s.clone(),
        Value::Null => "-".to_owned(),
        other => other.to_string(),
    };
    println!(
        "   rollout {} to {}: {}",
        text(answer, "rollout"),
        text(answer, "targetVersion"),
        if answer["dryRun"] == Value::Bool(true) {
            "dry run".to_owned()
        } else {
            text(answer, "status")
        }
    );
    for stage in stages {
        println!(
            "     stage {} ({}; maxConcurrent {}{})",
            text(stage, "name"),
            if stage["status"].is_null() {
                "planned".to_owned()
            } else {
                text(stage, "status")
            },
            text(stage, "maxConcurrent"),
            if stage["approval"] == Value::Bool(true) {
                ", approval"
            } else {
                ""
            }
        );
        for cluster in stage["clusters"].as_array().into_iter().flatten() {
            let what = match (&cluster["state"], &cluster["hops"]) {
                (Value::String(state), _) => state.clone(),
                (_, Value::Array(hops)) => format!(
                    "from {} by {} hop(s){}",
                    text(cluster, "fromVersion"),
                    hops.len(),
                    match cluster["blockers"].as_array() {
                        Some(b) if !b.is_empty() => format!(", blocked: {}", b.len()),
                        _ => String::new(),
                    }
                ),
                _ => text(cluster, "error"),
            };
            let name = text(cluster, "name");
            let shown = eks_upgrade_orchestrator::domain::ClusterId::parse(&name).map_or(name, |id| id.to_string());
            println!("       {shown:<12} {what}");
        }
    }
    println!("   outcome: {}", text(answer, "outcome"));
}

/// The value at a dotted path: object keys and array indexes (`records.0.status`).
fn at_path<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .filter(|p| !p.is_empty())
        .try_fold(value, |v, part| match v {
            Value::Array(items) => items.get(part.parse::<usize>().ok()?),
            _ => v.get(part),
        })
}

pub fn json_get(paths: &[String]) -> Result<i32, Error> {
    let value = stdin_json()?;
    for path in paths {
        match at_path(&value, path) {
            Some(Value::String(s)) => println!("{s}"),
            Some(other) => println!("{other}"),
            None => {
                eprintln!("no value at {path}");
                return Ok(1);
            }
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_paths_reach_into_objects_and_arrays() {
        let v = serde_json::json!({"records": [{"status": "SUCCEEDED"}], "relay": {"delivered": 2}});
        assert_eq!(at_path(&v, "records.0.status"), Some(&Value::from("SUCCEEDED")));
        assert_eq!(at_path(&v, "relay.delivered"), Some(&Value::from(2)));
        assert_eq!(at_path(&v, "records.1"), None);
        assert_eq!(at_path(&v, "nothing"), None);
    }
}
