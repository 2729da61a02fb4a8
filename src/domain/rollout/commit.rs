//! Committing a rollout's change: the one place its revision, timestamps, history bound, TTL
//! and notifications are set. Notifications are derived from the change (old, new) and go to
//! the record's outbox in the same write, as for an upgrade.

use super::{RolloutRecord, RolloutStatus, StageStatus, HISTORY_HEAD, MAX_HISTORY};
use crate::domain::record::outbox::Notification;
use serde_json::{json, Value};

/// `detail-type`s of a rollout's notifications; each `detail` has `notificationId`, `rollout`,
/// `requestId`, `status`, `targetVersion`, `message`, and the fields named here.
pub const DETAIL_STARTED: &str = "EKS Rollout Started";
/// `stage`, `clusters`.
pub const DETAIL_STAGE_STARTED: &str = "EKS Rollout Stage Started";
/// `stage`, `soakUntil`.
pub const DETAIL_STAGE_SOAKING: &str = "EKS Rollout Stage Soaking";
/// `stage`: send `{"rolloutControl": {"action": "approve", ...}}`.
pub const DETAIL_APPROVAL_NEEDED: &str = "EKS Rollout Approval Needed";
/// `stage`, `succeeded`, `failed`, `skipped`.
pub const DETAIL_STAGE_DONE: &str = "EKS Rollout Stage Done";
pub const DETAIL_PAUSED: &str = "EKS Rollout Paused";
/// The failed clusters, in `message`.
pub const DETAIL_STOPPED: &str = "EKS Rollout Stopped";
/// SUCCEEDED, STOPPED or CANCELLED.
pub const DETAIL_ENDED: &str = "EKS Rollout Ended";

/// Options of a commit.
#[derive(Debug, Clone, Copy)]
pub struct RolloutCommit {
    pub now: i64,
    pub notify: bool,
    pub retention_secs: i64,
}

/// `next` as it is written after `previous` (`previous` None: the first write).
pub fn commit(previous: Option<&RolloutRecord>, mut next: RolloutRecord, options: RolloutCommit) -> RolloutRecord {
    if let Some(previous) = previous {
        next.revision = previous.revision + 1;
    }
    next.updated_at = options.now;
    next.heartbeat_at = options.now;
    if next.is_finished() && next.expires_at.is_none() {
        next.expires_at = Some(options.now + options.retention_secs);
    }
    if next.history.len() > MAX_HISTORY {
        let drop = next.history.len() - MAX_HISTORY;
        next.history.drain(HISTORY_HEAD..HISTORY_HEAD + drop);
        next.history_dropped += drop as u32;
    }
    if options.notify {
        for (detail_type, extra) in notifications_for(previous, &next) {
            next.notifications += 1;
            let id = format!("{}/{}/{}", next.cluster, next.request_id, next.notifications);
            let mut detail = base(&next);
            if let (Some(d), Some(e)) = (detail.as_object_mut(), extra.as_object()) {
                d.extend(e.clone());
                d.insert("notificationId".into(), Value::String(id.clone()));
            }
            next.outbox.push(Notification {
                id,
                detail_type: detail_type.to_owned(),
                detail,
            });
        }
        // A publisher down for long: the oldest go first, the record stays small.
        let excess = next.outbox.len().saturating_sub(crate::domain::record::MAX_OUTBOX);
        next.outbox.drain(..excess);
    }
    next
}

fn base(r: &RolloutRecord) -> Value {
    json!({
        "rollout": r.name,
        "requestId": r.request_id,
        "status": r.status,
        "targetVersion": r.target_version,
        "message": r.message,
    })
}

/// What the change from `old` to `new` tells the outside world, in order.
pub fn notifications_for(old: Option<&RolloutRecord>, new: &RolloutRecord) -> Vec<(&'static str, Value)> {
    let mut out = Vec::new();
    let Some(old) = old else {
        let stages: Vec<Value> = new
            .stages
            .iter()
            .map(|s| json!({ "stage": s.name, "clusters": s.clusters.len() }))
            .collect();
        out.push((DETAIL_STARTED, json!({ "stages": stages })));
        return out;
    };
    for (before, stage) in old.stages.iter().zip(&new.stages) {
        if before.status == stage.status {
            continue;
        }
        let name = json!(stage.name);
        match stage.status {
            StageStatus::AwaitingApproval => out.push((DETAIL_APPROVAL_NEEDED, json!({ "stage": name }))),
            StageStatus::Running => out.push((
                DETAIL_STAGE_STARTED,
                json!({ "stage": name, "clusters": stage.clusters.len() }),
            )),
            StageStatus::Soaking => out.push((
                DETAIL_STAGE_SOAKING,
                json!({ "stage": name, "soakUntil": stage.soak_until }),
            )),
            StageStatus::Succeeded => out.push((
                DETAIL_STAGE_DONE,
                json!({ "stage": name, "succeeded": stage.count(super::ClusterState::Succeeded),
                        "failed": stage.count(super::ClusterState::Failed),
                        "skipped": stage.count(super::ClusterState::Skipped) }),
            )),
            StageStatus::Waiting | StageStatus::Stopped => {}
        }
    }
    if new.status != old.status {
        match new.status {
            RolloutStatus::Paused => out.push((DETAIL_PAUSED, json!({}))),
            RolloutStatus::Stopping => out.push((DETAIL_STOPPED, json!({}))),
            RolloutStatus::Stopped => {
                if old.status != RolloutStatus::Stopping {
                    out.push((DETAIL_STOPPED, json!({})));
                }
                out.push((DETAIL_ENDED, json!({})))
            }
            RolloutStatus::Succeeded | RolloutStatus::Cancelled => out.push((DETAIL_ENDED, json!({}))),
            RolloutStatus::Running | RolloutStatus::Cancelling => {}
        }
    }
    out
}
