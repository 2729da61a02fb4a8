//! Rolling the last hop back (EKS version rollback): its prerequisites checked before anything
//! is touched (`RollbackPreflight`), the hop's node groups back first (`RunItems`), then the
//! control plane by UpdateClusterVersion one minor down (`StartRollback`, `TrackRollback`: a
//! VersionRollback), then the add-ons back to their versions before the hop. Every call with a
//! token stored first, as for the upgrade.

use super::items::next_item;
use super::preflight::{add_item_for, derived_token};
use super::status::{describe_errors, finish, set_status};
use super::{Limits, Next};
use crate::domain::eks::{EksFailure, FailureKind, RollbackSurvey, UpdateState, UpdateView};
use crate::domain::record::safety::{AddonBack, Check, Rollback, RollbackCause};
use crate::domain::record::{ItemKind, ItemPurpose, ItemStatus, Step, UpgradeRecord, UpgradeStatus, RESUMABLE};
use crate::domain::text::human_duration;

/// EKS allows a rollback this long after the upgrade completed.
pub const ROLLBACK_WINDOW_SECS: i64 = 7 * 86400;

/// A rollback of the last hop begins: its prerequisites are looked at first.
pub(super) fn begin(r: &mut UpgradeRecord, cause: RollbackCause, reason: String, force: bool, now: i64) -> Next {
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
pub fn begin_on_request(record: &UpgradeRecord, force: bool, now: i64) -> Result<UpgradeRecord, String> {
    let Some(hop) = record.hop_reached.filter(|_| !record.control_plane_updates.is_empty()) else {
        return Err("this upgrade updated no control plane: there is no hop of it to roll back".into());
    };
    if let Some(next) = &record.released_to {
        return Err(format!(
            "the cluster has since been taken by upgrade {next}: this upgrade's hop is no longer the cluster's last"
        ));
    }
    let finished = record.hop_finished_at.unwrap_or(i64::MIN);
    if now - finished > ROLLBACK_WINDOW_SECS {
        return Err(format!(
            "its last hop (to {hop}) finished {} ago: EKS rolls back only within 7 days of an upgrade",
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
    let running = record.items.iter().any(|i| i.status == ItemStatus::InProgress);
    if !rollable || running {
        return Err(format!(
            "it is {:?}{}: only an upgrade that has stopped can be rolled back",
            record.status,
            if running { " with an update running" } else { "" }
        ));
    }
    let mut r = record.clone();
    r.sweep_bucket = Some(RESUMABLE.to_owned());
    r.finished_at = None;
    r.expires_at = None;
    r.wait_until = None;
    // The same hop again after a blocked or failed rollback: go on from where it stopped.
    let (from, to) = (hop, previous_minor(hop));
    match r.rollback.as_mut().filter(|rb| rb.from == from && rb.to == to) {
        Some(_) if record.control_plane_version == Some(to) => {
            return Err(format!(
                "its control plane is already back at {to}; what did not go back is in its message: finish that by hand"
            ));
        }
        Some(rb) => {
            rb.force = force;
            rb.cause = RollbackCause::Requested;
            // The control plane's rollback ended without success (or never started): a new
            // one, with a new token (the old one names the update that ended).
            if rb.update_id.is_some() {
                rb.update_id = None;
                rb.update_started_at = None;
            }
            rb.client_request_token = derived_token(&record.client_request_token, &format!("rollback:{to}:{now}"));
            // Node groups that failed to go back are asked again, with new tokens.
            r.items
                .retain(|i| i.purpose != ItemPurpose::Rollback || !i.status.is_failure());
            r.step = Step::RollbackPreflight;
            let note = format!(
                "rollback from {from} to {to} requested again{}",
                if force { " with force" } else { "" }
            );
            set_status(&mut r, UpgradeStatus::RollingBack, note, now);
        }
        None => {
            begin(&mut r, RollbackCause::Requested, "requested".into(), force, now);
        }
    }
    Ok(r)
}

fn previous_minor(version: crate::domain::KubeVersion) -> crate::domain::KubeVersion {
    crate::domain::KubeVersion::new(version.major, version.minor.saturating_sub(1))
}

/// `RollbackPreflight`: the prerequisites, then the rollback's items (node groups back) and
/// add-ons to move back after the control plane. Nothing is touched unless all hold.
pub(super) fn on_survey(
    r: &mut UpgradeRecord,
    answer: Result<RollbackSurvey, EksFailure>,
    now: i64,
    limits: &Limits,
) -> Next {
    let Some(rollback) = r.rollback.clone() else {
        r.step = Step::InspectCluster;
        return Next::Now;
    };
    let survey = match answer {
        Ok(survey) => survey,
        Err(e) => {
            let note = format!("the rollback's read-only look: {e}");
            return finish(r, UpgradeStatus::RollbackFailed, note, now, limits);
        }
    };
    let checks = prerequisites(r, &rollback, &survey, now);
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
        return finish(r, UpgradeStatus::RollbackBlocked, note, now, limits);
    }
    plan(r, &rollback, &survey);
    r.control_plane_version = Some(rollback.from);
    r.step = Step::RunItems;
    next_item(r, now, limits)
}

/// A dry run of `RollbackPreflight`: the prerequisites, and what would go back whether or not
/// they hold (the node groups as rollback items, the add-ons in `addonsBack`).
pub fn preview(r: &UpgradeRecord, survey: &RollbackSurvey, now: i64) -> UpgradeRecord {
    let mut preview = r.clone();
    if let Some(rollback) = r.rollback.clone() {
        let checks = prerequisites(r, &rollback, survey, now);
        if let Some(rb) = preview.rollback.as_mut() {
            rb.prerequisites = checks;
        }
        plan(&mut preview, &rollback, survey);
    }
    preview
}

/// What must hold before anything is rolled back (EKS's prerequisites, and the node groups this
/// tool can bring back).
pub fn prerequisites(r: &UpgradeRecord, rollback: &Rollback, survey: &RollbackSurvey, now: i64) -> Vec<Check> {
    let (from, to) = (rollback.from, rollback.to);
    let check = |name: &str, passed: bool, detail: String| Check {
        check: name.to_owned(),
        passed,
        detail,
    };
    let finished = r.hop_finished_at.unwrap_or(i64::MIN);
    let mut checks = vec![
        check(
            "upgraded in place by this upgrade",
            !r.control_plane_updates.is_empty() && r.hop_reached == Some(from),
            format!("its last control-plane hop went to {from}"),
        ),
        check(
            "within 7 days of the upgrade",
            now - finished <= ROLLBACK_WINDOW_SECS,
            format!("the hop to {from} finished {} ago", human_duration(now - finished)),
        ),
        check(
            "exactly one minor down",
            survey.cluster.version == Some(from) && previous_minor(from) == to,
            format!(
                "the control plane is at {}; the rollback goes from {from} to {to}",
                survey.cluster.version.map_or("?".into(), |v| v.to_string())
            ),
        ),
        check(
            "cluster ACTIVE, no update in progress",
            survey.cluster.status == "ACTIVE" && survey.updates_in_progress.is_empty(),
            match survey.updates_in_progress.first() {
                Some(u) => format!("update {} ({}) is in progress", u.id, u.kind),
                None => format!("cluster is {}", survey.cluster.status),
            },
        ),
    ];
    checks.push(extended_support(rollback, survey));
    checks.push(insights(rollback, survey));
    checks.extend(nodegroups_back(r, rollback, survey));
    checks
}

fn extended_support(rollback: &Rollback, survey: &RollbackSurvey) -> Check {
    let to = rollback.to;
    let extended = survey
        .versions
        .iter()
        .any(|v| v.version == to && v.status == "EXTENDED_SUPPORT");
    let policy = survey.cluster.support_type.clone().unwrap_or_else(|| "STANDARD".into());
    Check {
        check: "upgrade policy for extended support".into(),
        passed: !extended || policy == "EXTENDED",
        detail: if extended {
            format!("{to} is in extended support; the cluster's upgrade policy is {policy} (EXTENDED needed)")
        } else {
            format!("{to} is not in extended support")
        },
    }
}

fn insights(rollback: &Rollback, survey: &RollbackSurvey) -> Check {
    let errors: Vec<String> = survey
        .insights
        .iter()
        .filter(|i| i.category == "ROLLBACK_READINESS" && i.status == "ERROR")
        .map(|i| format!("{}: {}", i.name, i.reason))
        .collect();
    let detail = match (errors.is_empty(), rollback.force) {
        (true, _) => format!(
            "no ERROR rollback-readiness insight ({} checked)",
            survey.insights.len()
        ),
        (false, true) => format!("ERROR insights overridden by force: {}", errors.join("; ")),
        (false, false) => format!(
            "ERROR insights (send {{\"rollback\": {{..., \"force\": true}}}} to override): {}",
            errors.join("; ")
        ),
    };
    Check {
        check: "rollback readiness insights".into(),
        passed: errors.is_empty() || rollback.force,
        detail,
    }
}

/// Every node group at `from` must go back first (EKS rolls back the control plane only, and
/// refuses it while a node group is newer): the ones this upgrade moved, it brings back.
fn nodegroups_back(r: &UpgradeRecord, rollback: &Rollback, survey: &RollbackSurvey) -> Vec<Check> {
    survey
        .nodegroups
        .iter()
        .filter(|ng| ng.version == Some(rollback.from))
        .map(|ng| {
            let ours = moved_by_hop(r, rollback, &ng.name);
            let back = ours.is_some_and(|i| !ng.custom_ami() || i.from_launch_template.is_some());
            Check {
                check: format!("node group {} can go back", ng.name),
                passed: back,
                detail: match (ours.is_some(), back) {
                    (_, true) => format!(
                        "this upgrade moved it to {}; it goes back to {}",
                        rollback.from, rollback.to
                    ),
                    (true, false) => "a custom AMI whose launch template version before the hop is unknown: roll it \
                                      back by hand first"
                        .into(),
                    (false, _) => format!(
                        "it is at {} but this upgrade did not move it: roll it back to {} first",
                        rollback.from, rollback.to
                    ),
                },
            }
        })
        .collect()
}

fn moved_by_hop<'a>(r: &'a UpgradeRecord, rollback: &Rollback, name: &str) -> Option<&'a crate::domain::WorkItem> {
    r.items.iter().find(|i| {
        i.purpose == ItemPurpose::Upgrade
            && i.kind == ItemKind::Nodegroup
            && i.name == name
            && i.hop == rollback.from
            && i.status == ItemStatus::Succeeded
    })
}

/// The node groups back (items, with tokens derived from the rollback's), and the add-ons to
/// move back once the control plane is.
fn plan(r: &mut UpgradeRecord, rollback: &Rollback, survey: &RollbackSurvey) {
    let base = rollback.client_request_token.clone();
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
) -> Next {
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
        Err(e) if e.kind == FailureKind::ResourceInUse => Next::After(limits.poll_interval_secs),
        Err(e) => {
            let hint = if e.kind == FailureKind::InvalidState {
                " (send {\"rollback\": {..., \"force\": true}} to override the rollback-readiness insights)"
            } else {
                ""
            };
            let note = format!("EKS refused the control plane's rollback: {e}{hint}");
            finish(r, UpgradeStatus::RollbackFailed, note, now, limits)
        }
    }
}

/// `TrackRollback`: the VersionRollback, until it ends.
pub(super) fn on_update(
    r: &mut UpgradeRecord,
    answer: Result<UpdateView, EksFailure>,
    now: i64,
    limits: &Limits,
) -> Next {
    match answer {
        Ok(update) => track(r, &update, now, limits),
        Err(e) => {
            let note = format!("DescribeUpdate of the control plane's rollback: {e}");
            finish(r, UpgradeStatus::RollbackFailed, note, now, limits)
        }
    }
}

fn track(r: &mut UpgradeRecord, update: &UpdateView, now: i64, limits: &Limits) -> Next {
    match &update.state {
        UpdateState::InProgress | UpdateState::Other(_) => Next::After(limits.poll_interval_secs),
        UpdateState::Successful => {
            let Some(rollback) = r.rollback.clone() else {
                return Next::Now;
            };
            r.control_plane_version = Some(rollback.to);
            r.message = Some(format!("control plane back at {} (update {})", rollback.to, update.id));
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
            next_item(r, now, limits)
        }
        UpdateState::Failed | UpdateState::Cancelled => {
            r.eks_errors = update.errors.clone();
            let note = format!(
                "the control plane's rollback {} ended {:?}: {}",
                update.id,
                update.state,
                describe_errors(update)
            );
            finish(r, UpgradeStatus::RollbackFailed, note, now, limits)
        }
    }
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
