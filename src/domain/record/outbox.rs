//! Notifications: what the upgrade tells the outside world (EventBridge), derived from each
//! change of the record with no I/O. They are written to the record's outbox together with the
//! change, then published, so none is lost: a crash after the write publishes them on resume.
//!
//! Schema: `source` is [`SOURCE`]; `detail-type` one of the `DETAIL_*` constants; `detail` holds
//! `notificationId` (`<cluster>/<requestId>/<n>`, stable across a re-publish, for dedupe),
//! `cluster`, `requestId`, `status`, `targetVersion`, `fromVersion`, `message`, plus the fields
//! named at each constant.

pub use super::notification::Notification;
use super::{ItemStatus, UpgradeRecord, UpgradeStatus};
use serde_json::{json, Value};

pub const SOURCE: &str = "eks-upgrade-orchestrator";
/// A hop was planned (at each hop's preflight). `hops`: the versions; `blockers`, `warnings`.
pub const DETAIL_PLANNED: &str = "EKS Upgrade Planned";
/// An update started. `step`: CONTROL_PLANE, ADDON or NODEGROUP; `name`, `version`, `updateId`.
pub const DETAIL_STEP_STARTED: &str = "EKS Upgrade Step Started";
/// An update ended Successful. Same fields as a start.
pub const DETAIL_STEP_SUCCEEDED: &str = "EKS Upgrade Step Succeeded";
/// An update ended Failed or Cancelled. `errors`: EKS's errors.
pub const DETAIL_STEP_FAILED: &str = "EKS Upgrade Step Failed";
/// A gate or EKS refused (BLOCKED). `reason`.
pub const DETAIL_BLOCKED: &str = "EKS Upgrade Blocked";
/// Parked outside the maintenance window. `waitUntil` (epoch seconds), `reason`.
pub const DETAIL_PARKED: &str = "EKS Upgrade Parked";
/// The upgrade ended: SUCCEEDED, FAILED, CANCELLED, TIMED_OUT, or after a rollback
/// ROLLED_BACK, ROLLBACK_FAILED or ROLLBACK_BLOCKED. `controlPlaneUpdates`, and `rollback`.
pub const DETAIL_ENDED: &str = "EKS Upgrade Ended";
/// A hop's verification passed. `hop`, `checks` (the evidence).
pub const DETAIL_VERIFIED: &str = "EKS Upgrade Verified";
/// A hop's verification failed. `hop`, `checks` (the evidence), `onVerifyFailure`.
pub const DETAIL_VERIFICATION_FAILED: &str = "EKS Upgrade Verification Failed";
/// A rollback began. `rollback`: from, to, cause, reason.
pub const DETAIL_ROLLBACK_STARTED: &str = "EKS Rollback Started";

fn base(r: &UpgradeRecord) -> Value {
    json!({
        "cluster": r.cluster,
        "requestId": r.request_id,
        "status": r.status,
        "targetVersion": r.target_version,
        "fromVersion": r.from_version,
        "message": r.message,
    })
}

fn with(mut detail: Value, extra: Value) -> Value {
    if let (Some(d), Some(e)) = (detail.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            d.insert(k.clone(), v.clone());
        }
    }
    detail
}

/// The notifications a change from `old` to `new` makes, in the order they happened.
pub fn notifications_for(old: &UpgradeRecord, new: &UpgradeRecord) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let mut emit = |detail_type: &str, extra: Value| out.push((detail_type.to_owned(), with(base(new), extra)));
    if new.plan.is_some() && new.plan != old.plan {
        // A plan with nothing left to do (the last look at a finished cluster) says nothing.
        if let Some(plan) = new.plan.as_ref().filter(|p| p.has_work()) {
            let hops: Vec<String> = plan.hops.iter().map(|h| h.to.to_string()).collect();
            emit(
                DETAIL_PLANNED,
                json!({ "hops": hops, "blockers": plan.blockers, "warnings": plan.warnings }),
            );
        }
    }
    for id in new
        .control_plane_updates
        .iter()
        .filter(|id| !old.control_plane_updates.contains(id))
    {
        emit(
            DETAIL_STEP_SUCCEEDED,
            json!({ "step": "CONTROL_PLANE", "updateId": id }),
        );
    }
    item_notices(old, new, &mut emit);
    if new.update_id.is_some() && new.update_id != old.update_id {
        let version = new.hop_version.unwrap_or(new.target_version);
        emit(
            DETAIL_STEP_STARTED,
            json!({ "step": "CONTROL_PLANE", "version": version, "updateId": new.update_id, "adopted": new.adopted }),
        );
    }
    verification_notices(old, new, &mut emit);
    if new.status == UpgradeStatus::RollingBack && old.status != UpgradeStatus::RollingBack {
        emit(DETAIL_ROLLBACK_STARTED, json!({ "rollback": new.rollback }));
    }
    if new.status != old.status {
        match new.status {
            UpgradeStatus::Failed | UpgradeStatus::Cancelled if !new.eks_errors.is_empty() => {
                emit(DETAIL_STEP_FAILED, json!({ "errors": new.eks_errors }));
            }
            _ => {}
        }
        match new.status {
            UpgradeStatus::Blocked => emit(DETAIL_BLOCKED, json!({ "reason": new.message })),
            UpgradeStatus::WaitingForWindow => emit(
                DETAIL_PARKED,
                json!({ "waitUntil": new.wait_until, "reason": new.message }),
            ),
            UpgradeStatus::Succeeded
            | UpgradeStatus::Failed
            | UpgradeStatus::Cancelled
            | UpgradeStatus::TimedOut
            | UpgradeStatus::RolledBack
            | UpgradeStatus::RollbackFailed
            | UpgradeStatus::RollbackBlocked => emit(
                DETAIL_ENDED,
                json!({ "controlPlaneUpdates": new.control_plane_updates, "rollback": new.rollback }),
            ),
            UpgradeStatus::Pending | UpgradeStatus::InProgress | UpgradeStatus::RollingBack => {}
        }
    }
    out
}

/// An add-on or node-group update that started or succeeded.
fn item_notices(old: &UpgradeRecord, new: &UpgradeRecord, emit: &mut impl FnMut(&str, Value)) {
    for (i, item) in new.items.iter().enumerate() {
        let before = old
            .items
            .get(i)
            .filter(|o| o.client_request_token == item.client_request_token);
        let was = before.map(|o| o.status);
        let step = json!({ "step": item.kind, "name": item.name, "version": item.version, "updateId": item.update_id });
        if item.status == ItemStatus::Succeeded && was != Some(ItemStatus::Succeeded) {
            emit(DETAIL_STEP_SUCCEEDED, step.clone());
        }
        if item.status == ItemStatus::InProgress && was != Some(ItemStatus::InProgress) {
            emit(DETAIL_STEP_STARTED, step);
        }
    }
}

/// A verdict on a hop's verification, once.
fn verification_notices(old: &UpgradeRecord, new: &UpgradeRecord, emit: &mut impl FnMut(&str, Value)) {
    let Some(v) = new.verification.as_ref() else {
        return;
    };
    let before = old
        .verification
        .as_ref()
        .filter(|o| o.hop == v.hop && o.started_at == v.started_at);
    if before.and_then(|o| o.passed) == v.passed {
        return;
    }
    match v.passed {
        Some(true) => emit(DETAIL_VERIFIED, json!({ "hop": v.hop, "checks": v.checks })),
        Some(false) => emit(
            DETAIL_VERIFICATION_FAILED,
            json!({ "hop": v.hop, "checks": v.checks, "onVerifyFailure": new.on_verify_failure }),
        ),
        None => {}
    }
}

/// Adds the notifications of the change from `old` to `new` to `new`'s outbox, numbered.
pub fn queue(old: &UpgradeRecord, new: &mut UpgradeRecord) {
    for (detail_type, detail) in notifications_for(old, new) {
        new.notifications += 1;
        let id = format!("{}/{}/{}", new.cluster, new.request_id, new.notifications);
        let detail = with(detail, json!({ "notificationId": id }));
        new.outbox.push(Notification {
            id,
            detail_type,
            detail,
        });
    }
}
