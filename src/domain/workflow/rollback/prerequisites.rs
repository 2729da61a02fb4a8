//! What must hold before a rollback touches anything: EKS's prerequisites, and the node groups
//! and add-ons this tool can bring back.

use super::timing::{previous_minor, ROLLBACK_WINDOW_SECS, WINDOW_MARGIN_SECS};
use crate::domain::eks::RollbackSurvey;
use crate::domain::record::safety::Check;
use crate::domain::record::safety::Rollback;
use crate::domain::record::{ItemKind, ItemPurpose, ItemStatus, UpgradeRecord};
use crate::domain::text::human_duration;
use crate::domain::workflow::Limits;

/// What must hold before anything is rolled back (EKS's prerequisites, and the node groups this
/// tool can bring back).
pub fn prerequisites(
    r: &UpgradeRecord,
    rollback: &Rollback,
    survey: &RollbackSurvey,
    now: i64,
    limits: &Limits,
) -> Vec<Check> {
    let (from, to) = (rollback.from, rollback.to);
    let check = |name: &str, passed: bool, detail: String| Check {
        check: name.to_owned(),
        passed,
        detail,
    };
    let finished = r.rollback_window_start().unwrap_or(i64::MIN);
    let mut checks = vec![
        check(
            "upgraded in place by this upgrade",
            !r.control_plane_updates.is_empty() && r.hop_reached == Some(from) && !adopted(r, from),
            if adopted(r, from) {
                format!(
                    "the update to {from} was adopted, not started by this upgrade (it may be EKS's own end-of-support \
                     upgrade, which EKS does not roll back): roll it back by hand if it was in place"
                )
            } else {
                format!("its last control-plane hop went to {from}")
            },
        ),
        check(
            "within 7 days of the upgrade",
            now - finished <= ROLLBACK_WINDOW_SECS - WINDOW_MARGIN_SECS,
            format!(
                "the hop to {from} began {} ago by EKS's clock (EKS allows 7 days from its end; an hour is kept back \
                 for the node groups)",
                human_duration(now - finished)
            ),
        ),
        check(
            "cluster enrolled",
            limits.admits(&r.cluster, &survey.cluster),
            format!(
                "the cluster must still carry {}=true (IAM checks it too)",
                limits.enrollment_tag
            ),
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
    checks.extend(addons_active(r, rollback, survey));
    checks
}

/// Whether the hop to `from` was reached by an update this upgrade adopted (a record written
/// before adoptions named their hop: any adoption counts, the safe reading).
fn adopted(r: &UpgradeRecord, from: crate::domain::KubeVersion) -> bool {
    match r.adopted_hop {
        Some(hop) => hop == from,
        None => r.adopted,
    }
}

/// EKS refuses to update an add-on that is not ACTIVE: one that must go back must be.
fn addons_active(r: &UpgradeRecord, rollback: &Rollback, survey: &RollbackSurvey) -> Vec<Check> {
    survey
        .addons
        .iter()
        .filter(|a| a.status != "ACTIVE" && moved_addon(r, rollback, &a.name))
        .map(|a| Check {
            check: format!("add-on {} can go back", a.name),
            passed: false,
            detail: format!("it is {}: EKS refuses its update; fix it first", a.status),
        })
        .collect()
}

fn moved_addon(r: &UpgradeRecord, rollback: &Rollback, name: &str) -> bool {
    r.items.iter().any(|i| {
        i.purpose == ItemPurpose::Upgrade
            && i.kind == ItemKind::Addon
            && i.name == name
            && i.hop == rollback.from
            && i.status == ItemStatus::Succeeded
    })
}

fn extended_support(rollback: &Rollback, survey: &RollbackSurvey) -> Check {
    let to = rollback.to;
    let policy = survey.cluster.support_type.clone().unwrap_or_else(|| "STANDARD".into());
    let (passed, detail) = match survey.versions.iter().find(|v| v.version == to) {
        // Not listed: whether it needs EXTENDED can't be told, and is not guessed.
        None => (false, format!("EKS does not list {to} among the versions it offers")),
        Some(v) if v.status == "EXTENDED_SUPPORT" => (
            policy == "EXTENDED",
            format!("{to} is in extended support; the cluster's upgrade policy is {policy} (EXTENDED needed)"),
        ),
        Some(v) => (true, format!("{to} is in {}", v.status)),
    };
    Check {
        check: "upgrade policy for extended support".into(),
        passed,
        detail,
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
            let active = ng.status == "ACTIVE";
            Check {
                check: format!("node group {} can go back", ng.name),
                passed: back && active,
                detail: match (ours.is_some(), back) {
                    (_, true) if !active => format!(
                        "it is {}: EKS refuses its update; fix it (or roll it back by hand) first",
                        ng.status
                    ),
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
