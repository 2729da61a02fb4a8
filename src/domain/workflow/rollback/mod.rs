//! Rolling the last hop back (EKS version rollback): its prerequisites checked before anything
//! is touched (`RollbackPreflight`), the hop's node groups back first (`RunItems`), then the
//! control plane by UpdateClusterVersion one minor down (`StartRollback`, `TrackRollback`: a
//! VersionRollback), then the add-ons back to their versions before the hop. Every call with a
//! token stored first, as for the upgrade.

mod prerequisites;
mod timing;

use super::flow::Flow;
use super::status::{describe_errors, finish, set_status};
use super::work::{add_item_for, derived_token};
use super::{Limits, Next};
use crate::domain::eks::{policy, Action, EksFailure, FailureKind, Operation, RollbackSurvey, UpdateState, UpdateView};
use crate::domain::record::safety::{AddonBack, Rollback, RollbackCause};
use crate::domain::record::{ItemKind, ItemPurpose, ItemStatus, Step, UpgradeRecord, UpgradeStatus, RESUMABLE};
use crate::domain::text::human_duration;
pub use prerequisites::prerequisites;
pub use timing::{
    followed_until, previous_minor, timeout_minutes, ROLLBACK_TIMEOUT_MINUTES, ROLLBACK_WINDOW_SECS, WINDOW_MARGIN_SECS,
};

/// A rollback of the last hop begins: its prerequisites are looked at first.
pub(super) fn begin(r: &mut UpgradeRecord, cause: RollbackCause, reason: String, force: bool, now: i64) -> Next {
    let timeout = r.rollback_timeout_minutes.unwrap_or(ROLLBACK_TIMEOUT_MINUTES);
    let from = r.hop_reached.or(r.hop_version).unwrap_or(r.target_version);
    let to = previous_minor(from);
    r.rollback = Some(Rollback {
        from,
        to,
        cause,
        reason: reason.clone(),
        requested_at: now,
        force,
        client_request_token: derived_token(&r.client_request_token, &format!("rollback:{to}:{now}")),
        prerequisites: Vec::new(),
        update_id: None,
        update_started_at: None,
        addons_back: Vec::new(),
        notes: Vec::new(),
        attempt: 0,
        timeout_minutes: Some(timeout),
    });
    r.step = Step::RollbackPreflight;
    set_status(
        r,
        UpgradeStatus::RollingBack,
        format!("rolling back from {from} to {to}: {reason}"),
        now,
    );
    Next::Now
}

/// A rollback asked for by an operator (`{"rollback": ...}`) of this record's last hop; `Err`
/// says why it can't be.
pub fn begin_on_request(
    record: &UpgradeRecord,
    force: bool,
    timeout_minutes: Option<u32>,
    now: i64,
) -> Result<UpgradeRecord, String> {
    let Some(hop) = record.hop_reached.filter(|_| !record.control_plane_updates.is_empty()) else {
        return Err("this upgrade updated no control plane: there is no hop of it to roll back".into());
    };
    if let Some(next) = &record.released_to {
        return Err(format!(
            "the cluster has since been taken by upgrade {next}: this upgrade's hop is no longer the cluster's last"
        ));
    }
    let finished = record.rollback_window_start().unwrap_or(i64::MIN);
    if now - finished > ROLLBACK_WINDOW_SECS - WINDOW_MARGIN_SECS {
        return Err(format!(
            "its last hop (to {hop}) began {} ago by EKS's clock: EKS rolls back only within 7 days of an upgrade",
            human_duration(now - finished)
        ));
    }
    if record.lease_owner.is_some() && record.lease_until > now {
        return Err("an invocation is working on it right now; send the rollback again in a minute".into());
    }
    let rollable = matches!(
        record.status,
        UpgradeStatus::Succeeded
            | UpgradeStatus::Failed
            | UpgradeStatus::TimedOut
            | UpgradeStatus::Blocked
            | UpgradeStatus::RollbackBlocked
            | UpgradeStatus::RollbackFailed
    );
    // (An item still IN_PROGRESS in a stopped record is a stale view: the prerequisites look
    // at EKS's updates in progress instead.)
    if !rollable {
        return Err(format!(
            "it is {:?}: only an upgrade that has stopped can be rolled back",
            record.status
        ));
    }
    let mut r = record.clone();
    r.sweep_bucket = Some(RESUMABLE.to_owned());
    r.finished_at = None;
    r.expires_at = None;
    r.wait_until = None;
    // The same hop again after a blocked or failed rollback: go on from where it stopped.
    let (from, to) = (hop, previous_minor(hop));
    if r.rollback.as_ref().is_some_and(|rb| rb.from == from && rb.to == to) {
        again(&mut r, record, force, timeout_minutes, now);
    } else {
        if timeout_minutes.is_some() {
            r.rollback_timeout_minutes = timeout_minutes;
        }
        begin(&mut r, RollbackCause::Requested, "requested".into(), force, now);
    }
    Ok(r)
}

/// The same hop again after a blocked or failed rollback: it goes on from where it stopped.
fn again(r: &mut UpgradeRecord, record: &UpgradeRecord, force: bool, timeout_minutes: Option<u32>, now: i64) {
    let Some(rb) = r.rollback.as_mut() else { return };
    let (from, to) = (rb.from, rb.to);
    // A new token only where the old one can't serve: its update ended without
    // success, or `force` changes (EKS refuses a token again with other parameters).
    // Otherwise the call may have gone out before a crash: the same token finds it.
    // (A control plane already back is seen by the survey: only the add-ons are left.)
    let back = record.control_plane_version == Some(to) && rb.update_id.is_some();
    let new_timeout = timeout_minutes.is_some_and(|m| Some(m) != rb.timeout_minutes);
    if back || rb.update_id.is_some() || rb.force != force || new_timeout {
        // (Once the control plane is back its token is spent; a new one gives the
        // add-ons asked again new tokens.)
        if !back {
            rb.update_id = None;
            rb.update_started_at = None;
        }
        rb.client_request_token = derived_token(&record.client_request_token, &format!("rollback:{to}:{now}"));
    }
    rb.force = force;
    rb.cause = RollbackCause::Requested;
    rb.attempt += 1;
    if let Some(minutes) = timeout_minutes.filter(|_| rb.update_id.is_none()) {
        // (A new token goes with it: EKS refuses a token again with other parameters.)
        rb.timeout_minutes = Some(minutes);
    }
    // Node groups that failed to go back are asked again, with new tokens.
    r.items
        .retain(|i| i.purpose != ItemPurpose::Rollback || !i.status.is_failure());
    r.step = Step::RollbackPreflight;
    let note = format!(
        "rollback from {from} to {to} requested again{}",
        if force { " with force" } else { "" }
    );
    set_status(r, UpgradeStatus::RollingBack, note, now);
}

/// `RollbackPreflight`: the prerequisites, then the rollback's items (node groups back) and
/// add-ons to move back after the control plane. Nothing is touched unless all hold.
pub(super) fn on_survey(
    r: &mut UpgradeRecord,
    answer: Result<RollbackSurvey, EksFailure>,
    now: i64,
    limits: &Limits,
) -> Flow {
    let Some(rollback) = r.rollback.clone() else {
        r.step = Step::InspectCluster;
        return Next::Now.into();
    };
    let survey = match answer {
        Ok(survey) => survey,
        Err(e) => {
            let note = format!("the rollback's read-only look: {e}");
            return finish(r, UpgradeStatus::RollbackFailed, note, now, limits).into();
        }
    };
    let back = r.control_plane_version == Some(rollback.to) && rollback.update_id.is_some();
    if back && survey.cluster.version == Some(rollback.to) {
        // Our control-plane rollback succeeded before (then an add-on failed, or a crash):
        // only the add-ons are left.
        return control_plane_back(r, &rollback);
    }
    let checks = prerequisites(r, &rollback, &survey, now, limits);
    let blocked: Vec<String> = checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| format!("{}: {}", c.check, c.detail))
        .collect();
    if let Some(rb) = r.rollback.as_mut() {
        rb.prerequisites = checks;
    }
    if !blocked.is_empty() {
        let note = format!(
            "rollback from {} to {} not started, nothing was touched: {}",
            rollback.from,
            rollback.to,
            blocked.join("; ")
        );
        return finish(r, UpgradeStatus::RollbackBlocked, note, now, limits).into();
    }
    plan(r, &rollback, &survey);
    r.control_plane_version = Some(rollback.from);
    r.step = Step::RunItems;
    Flow::Items
}

/// A dry run of `RollbackPreflight`: the prerequisites, and what would go back whether or not
/// they hold (the node groups as rollback items, the add-ons in `addonsBack`).
pub fn preview(r: &UpgradeRecord, survey: &RollbackSurvey, now: i64, limits: &Limits) -> UpgradeRecord {
    let mut preview = r.clone();
    if let Some(rollback) = r.rollback.clone() {
        let checks = prerequisites(r, &rollback, survey, now, limits);
        if let Some(rb) = preview.rollback.as_mut() {
            rb.prerequisites = checks;
        }
        plan(&mut preview, &rollback, survey);
    }
    preview
}

/// The base of the tokens of the node groups a rollback brings back: the rollback's own, and
/// for a later attempt one of that attempt, so a failed node group is asked again with a new
/// token (EKS hands back the failed update for the old one); one that did not fail keeps its
/// item, and so its token.
fn items_token_base(rollback: &Rollback) -> String {
    if rollback.attempt == 0 {
        rollback.client_request_token.clone()
    } else {
        derived_token(&rollback.client_request_token, &format!("attempt:{}", rollback.attempt))
    }
}

/// The node groups back (items, with tokens derived from the rollback's), and the add-ons to
/// move back once the control plane is.
fn plan(r: &mut UpgradeRecord, rollback: &Rollback, survey: &RollbackSurvey) {
    let base = items_token_base(rollback);
    let to = rollback.to.to_string();
    let moved: Vec<crate::domain::WorkItem> = r
        .items
        .iter()
        .filter(|i| i.purpose == ItemPurpose::Upgrade && i.hop == rollback.from && i.status == ItemStatus::Succeeded)
        .cloned()
        .collect();
    for item in moved.iter().filter(|i| i.kind == ItemKind::Nodegroup) {
        let at = survey.nodegroups.iter().find(|n| n.name == item.name);
        if at.is_none_or(|n| n.version != Some(rollback.from)) {
            continue; // gone, or already back
        }
        let before = r.items.len();
        let from = Some(rollback.from.to_string());
        add_item_for(
            r,
            ItemPurpose::Rollback,
            ItemKind::Nodegroup,
            &item.name,
            &to,
            from,
            rollback.to,
            &base,
        );
        if r.items.len() > before {
            if let Some(added) = r.items.last_mut() {
                added.launch_template = item.from_launch_template.clone();
            }
        }
    }
    let mut addons_back = Vec::new();
    let mut notes = Vec::new();
    for item in moved.iter().filter(|i| i.kind == ItemKind::Addon) {
        let Some(before) = item.from.clone() else { continue };
        let offered = survey
            .addon_versions
            .iter()
            .find(|(n, _)| *n == item.name)
            .is_some_and(|(_, options)| {
                options
                    .iter()
                    .any(|o| o.version == before && o.compatible.iter().any(|(k, _)| *k == rollback.to))
            });
        if offered {
            addons_back.push(AddonBack {
                name: item.name.clone(),
                from: item.version.clone(),
                to: before,
            });
        } else {
            notes.push(format!(
                "add-on {} stays at {}: EKS no longer offers {before} for {}",
                item.name, item.version, rollback.to
            ));
        }
    }
    if let Some(rb) = r.rollback.as_mut() {
        rb.addons_back = addons_back;
        rb.notes = notes;
    }
}

/// Nothing left to start in the rollback: the control plane next, or done.
pub(super) fn after_items(r: &mut UpgradeRecord, now: i64, limits: &Limits) -> Next {
    match r.rollback.as_ref().map(|rb| rb.update_id.is_some()) {
        Some(false) => {
            let finished = r.rollback_window_start().unwrap_or(i64::MIN);
            if now - finished > ROLLBACK_WINDOW_SECS - WINDOW_MARGIN_SECS / 2 {
                let note = format!(
                    "EKS's 7 days for a rollback ran out while the node groups went back ({} since the hop): the \
                     control plane stays; move the node groups forward again or roll back by hand",
                    human_duration(now - finished)
                );
                return finish(r, UpgradeStatus::RollbackFailed, note, now, limits);
            }
            r.step = Step::StartRollback;
            Next::Now
        }
        Some(true) => finished(r, now, limits),
        None => {
            r.step = Step::InspectCluster;
            Next::Now
        }
    }
}

/// `StartRollback`: what UpdateClusterVersion one minor down answered.
pub(super) fn on_started(
    r: &mut UpgradeRecord,
    answer: Result<UpdateView, EksFailure>,
    now: i64,
    limits: &Limits,
) -> Flow {
    match answer {
        Ok(update) => {
            if let Some(rb) = r.rollback.as_mut() {
                rb.update_id = Some(update.id.clone());
                rb.update_started_at.get_or_insert(now);
            }
            r.step = Step::TrackRollback;
            r.message = Some(format!(
                "control-plane rollback {} ({}) started",
                update.id, update.kind
            ));
            track(r, &update, now, limits)
        }
        // Another update first (EKS said so right after the look): try again.
        Err(e) if policy(Operation::RollBackClusterVersion, &e) == Action::WaitForOther => {
            Next::After(limits.poll_interval_secs).into()
        }
        Err(e) => {
            let hint = if e.kind == FailureKind::InvalidState {
                " (send {\"rollback\": {..., \"force\": true}} to override the rollback-readiness insights)"
            } else {
                ""
            };
            let note = format!("EKS refused the control plane's rollback: {e}{hint}");
            finish(r, UpgradeStatus::RollbackFailed, note, now, limits).into()
        }
    }
}

/// `TrackRollback`: the VersionRollback, until it ends.
pub(super) fn on_update(
    r: &mut UpgradeRecord,
    answer: Result<UpdateView, EksFailure>,
    now: i64,
    limits: &Limits,
) -> Flow {
    match answer {
        Ok(update) => track(r, &update, now, limits),
        Err(e) => {
            let note = format!("DescribeUpdate of the control plane's rollback: {e}");
            finish(r, UpgradeStatus::RollbackFailed, note, now, limits).into()
        }
    }
}

fn track(r: &mut UpgradeRecord, update: &UpdateView, now: i64, limits: &Limits) -> Flow {
    match &update.state {
        UpdateState::InProgress | UpdateState::Other(_) => Next::After(limits.update_poll_secs).into(),
        UpdateState::Successful => {
            let Some(rollback) = r.rollback.clone() else {
                return Next::Now.into();
            };
            r.message = Some(format!("control plane back at {} (update {})", rollback.to, update.id));
            control_plane_back(r, &rollback)
        }
        UpdateState::Failed | UpdateState::Cancelled => {
            r.eks_errors = update.errors.clone();
            let note = format!(
                "the control plane's rollback {} ended {:?}: {}",
                update.id,
                update.state,
                describe_errors(update)
            );
            finish(r, UpgradeStatus::RollbackFailed, note, now, limits).into()
        }
    }
}

/// The control plane is back: the add-ons go back next (items with tokens derived from the
/// rollback's), then the rollback ends.
fn control_plane_back(r: &mut UpgradeRecord, rollback: &Rollback) -> Flow {
    r.control_plane_version = Some(rollback.to);
    let base = derived_token(&rollback.client_request_token, "addons");
    for addon in &rollback.addons_back {
        let from = Some(addon.from.clone());
        add_item_for(
            r,
            ItemPurpose::Rollback,
            ItemKind::Addon,
            &addon.name,
            &addon.to,
            from,
            rollback.to,
            &base,
        );
    }
    r.step = Step::RunItems;
    Flow::Items
}

fn finished(r: &mut UpgradeRecord, now: i64, limits: &Limits) -> Next {
    let Some(rollback) = r.rollback.clone() else {
        return Next::Now;
    };
    let back = |kind| {
        r.items
            .iter()
            .filter(|i| i.purpose == ItemPurpose::Rollback && i.kind == kind && i.status == ItemStatus::Succeeded)
            .count()
    };
    let notes = if rollback.notes.is_empty() {
        String::new()
    } else {
        format!("; {}", rollback.notes.join("; "))
    };
    let note = format!(
        "rolled back {} from {} to {}: {} node group(s), the control plane (VersionRollback {}), {} add-on(s){notes}",
        r.cluster,
        rollback.from,
        rollback.to,
        back(ItemKind::Nodegroup),
        rollback.update_id.as_deref().unwrap_or("?"),
        back(ItemKind::Addon)
    );
    finish(r, UpgradeStatus::RolledBack, note, now, limits)
}

#[cfg(test)]
mod tests;
