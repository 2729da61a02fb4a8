//! Each command as the event the function's README documents: pure, so each shape is tested
//! against the function's own decoder.

use crate::cli::{ClusterRef, Command, RolloutCommand, RolloutName};
use serde_json::{json, Map, Value};

/// A cluster reference as events carry it.
pub fn cluster(c: &ClusterRef) -> Value {
    match (&c.account, &c.cluster_region) {
        (Some(account), Some(region)) => json!({ "name": c.cluster, "account": account, "region": region }),
        _ => json!(c.cluster),
    }
}

fn with_request(mut event: Value, request_id: &Option<String>) -> Value {
    if let (Some(id), Some(object)) = (request_id, event.as_object_mut()) {
        object.insert("requestId".into(), json!(id));
    }
    event
}

/// `{"status": ...}` for a cluster (and a request).
pub fn status(c: &ClusterRef, request_id: &Option<String>) -> Value {
    json!({ "status": with_request(json!({ "cluster": cluster(c) }), request_id) })
}

/// `{"rolloutStatus": ...}`.
pub fn rollout_status(r: &RolloutName) -> Value {
    json!({ "rolloutStatus": with_request(json!({ "name": r.name }), &r.request_id) })
}

fn control(r: &RolloutName, action: &str, extra: Value) -> Value {
    let mut body = with_request(json!({ "name": r.name, "action": action }), &r.request_id);
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    json!({ "rolloutControl": body })
}

/// The event of a command that sends one event (watches send status queries instead), or why
/// it can't be made (a rollout file that is not a rollout event).
pub fn event_for(command: &Command) -> Result<Value, String> {
    Ok(match command {
        Command::Plan { cluster: c, target } => {
            json!({ "cluster": cluster(c), "targetVersion": target, "dryRun": true })
        }
        Command::Upgrade {
            cluster: c,
            target,
            request_id,
            force,
            ..
        } => with_request(
            json!({ "cluster": cluster(c), "targetVersion": target, "force": force }),
            request_id,
        ),
        Command::Status { cluster: c, request_id }
        | Command::Watch {
            cluster: c, request_id, ..
        } => status(c, request_id),
        Command::Rollback {
            cluster: c,
            request_id,
            force,
            dry_run,
        } => json!({ "rollback": {
            "cluster": cluster(c), "requestId": request_id, "force": force, "dryRun": dry_run } }),
        Command::Cancel { cluster: c, request_id } => {
            json!({ "cancel": { "cluster": cluster(c), "requestId": request_id } })
        }
        Command::Fleet {
            accounts,
            regions,
            tags,
            notify,
        } => {
            let tags: Map<String, Value> = tags.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
            json!({ "fleetReport": { "accounts": accounts, "regions": regions, "tags": tags, "notify": notify } })
        }
        Command::Rollout(r) => rollout_event(r)?,
    })
}

fn rollout_event(command: &RolloutCommand) -> Result<Value, String> {
    Ok(match command {
        RolloutCommand::Start { file, dry_run, .. } => {
            let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
            let mut event: Value =
                serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", file.display()))?;
            let Some(body) = event.get_mut("rollout").and_then(Value::as_object_mut) else {
                return Err(format!(
                    "{}: expected a rollout event, {{\"rollout\": {{...}}}}",
                    file.display()
                ));
            };
            if *dry_run {
                body.insert("dryRun".into(), json!(true));
            }
            event
        }
        RolloutCommand::Status(r) | RolloutCommand::Watch { rollout: r, .. } => rollout_status(r),
        RolloutCommand::Approve { rollout, stage } => control(rollout, "approve", json!({ "stage": stage })),
        RolloutCommand::Pause(r) => control(r, "pause", json!({})),
        RolloutCommand::Resume(r) => control(r, "resume", json!({})),
        RolloutCommand::Cancel(r) => control(r, "cancel", json!({})),
        RolloutCommand::Skip { rollout, cluster } => control(rollout, "skip", json!({ "cluster": cluster })),
    })
}
