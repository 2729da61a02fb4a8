//! `Preflight`: the hop's plan from a read-only survey; node groups behind go first; the gates;
//! then the hop's token and its add-on and node-group items, written before any update starts.

use super::items::next_item;
use super::status::{finish, refused};
use super::{Limits, Next};
use crate::domain::eks::{EksFailure, Survey};
use crate::domain::plan::{make_plan, Hop, UpgradePlan};
use crate::domain::record::{ItemKind, ItemStatus, Step, UpgradeRecord, UpgradeStatus, WorkItem};
use crate::domain::version::{KubeVersion, TargetVersion};

/// The step's function: the answer to the survey.
pub(super) fn on_survey(r: &mut UpgradeRecord, answer: Result<Survey, EksFailure>, now: i64, limits: &Limits) -> Next {
    match answer {
        Ok(survey) => preflight(r, &survey, now, limits),
        Err(e) => refused(r, "the preflight's read-only survey", &e, now, limits),
    }
}

fn preflight(r: &mut UpgradeRecord, survey: &Survey, now: i64, limits: &Limits) -> Next {
    let current = match survey.cluster.version {
        Some(v) if survey.cluster.status == "ACTIVE" => v,
        _ => {
            // Not ACTIVE any more (someone else's update?): look again.
            r.step = Step::InspectCluster;
            return Next::After(limits.poll_interval_secs);
        }
    };
    if current >= r.target_version {
        r.step = Step::InspectCluster;
        return Next::Now;
    }
    if !limits.admits(&r.cluster, &survey.cluster) {
        // Checked before every hop: a cluster taken out of enrollment is not touched again.
        let note = limits.not_enrolled(&r.cluster);
        return finish(r, UpgradeStatus::Blocked, note, now, limits);
    }
    let plan = match make_plan(&r.cluster, TargetVersion::Exact(r.target_version), r.force, survey) {
        Ok(plan) => plan,
        Err(e) => return finish(r, UpgradeStatus::Failed, e.0, now, limits),
    };
    r.plan = Some(plan.clone());
    r.nodegroup_parallelism = limits.nodegroup_parallelism;
    if !plan.node_groups_first.is_empty() {
        return node_groups_first(r, &plan, current, now, limits);
    }
    let Some(hop) = plan.hops.first() else {
        r.step = Step::InspectCluster;
        return Next::Now;
    };
    let failed: Vec<String> = hop
        .gates
        .iter()
        .filter(|g| !g.passed)
        .map(|g| format!("{}: {}", g.gate, g.detail))
        .collect();
    if !failed.is_empty() {
        let note = format!("hop {} to {} blocked: {}", hop.from, hop.to, failed.join("; "));
        return finish(r, UpgradeStatus::Blocked, note, now, limits);
    }
    start_hop(r, hop);
    Next::Now
}

/// Node groups behind the control plane: EKS refuses the next hop until they catch up.
fn node_groups_first(
    r: &mut UpgradeRecord,
    plan: &UpgradePlan,
    current: KubeVersion,
    now: i64,
    limits: &Limits,
) -> Next {
    let base = r.client_request_token.clone();
    for ng in &plan.node_groups_first {
        let from = ng.from.map(|v| v.to_string());
        add_item(
            r,
            ItemKind::Nodegroup,
            &ng.name,
            &ng.to.to_string(),
            from,
            current,
            &base,
        );
    }
    let names: Vec<&str> = plan.node_groups_first.iter().map(|n| n.name.as_str()).collect();
    r.message = Some(format!(
        "node groups behind the control plane go first: {}",
        names.join(", ")
    ));
    next_item(r, now, limits)
}

/// The hop's token and items. Each hop has its own token; the first hop's is the one written
/// when the request came. The tokens are stored with this write: from here a crash resumes by
/// sending them again.
fn start_hop(r: &mut UpgradeRecord, hop: &Hop) {
    if r.hop_version.is_some_and(|h| h != hop.to) {
        r.client_request_token = derived_token(&r.client_request_token, &format!("control-plane:{}", hop.to));
    }
    r.hop_version = Some(hop.to);
    let token = r.client_request_token.clone();
    for addon in &hop.addons {
        if let Some(to) = &addon.to {
            add_item(
                r,
                ItemKind::Addon,
                &addon.name,
                to,
                Some(addon.from.clone()),
                hop.to,
                &token,
            );
        }
    }
    for ng in &hop.nodegroups {
        let from = ng.from.map(|v| v.to_string());
        add_item(
            r,
            ItemKind::Nodegroup,
            &ng.name,
            &ng.to.to_string(),
            from,
            hop.to,
            &token,
        );
    }
    r.step = Step::StartUpdate;
    r.message = None;
}

/// A deterministic clientRequestToken for a step, derived from the hop's token: the same step
/// always gets the same token, so a resumed step sends EKS the token it sent before.
pub fn derived_token(base: &str, what: &str) -> String {
    let namespace = uuid::Uuid::parse_str(base).unwrap_or(uuid::Uuid::NAMESPACE_OID);
    uuid::Uuid::new_v5(&namespace, what.as_bytes()).to_string()
}

pub(super) fn add_item(
    r: &mut UpgradeRecord,
    kind: ItemKind,
    name: &str,
    version: &str,
    from: Option<String>,
    hop: KubeVersion,
    base: &str,
) {
    let exists = r
        .items
        .iter()
        .any(|i| i.kind == kind && i.name == name && i.version == version);
    if !exists {
        let what = format!("{kind:?}:{name}:{version}");
        r.items.push(WorkItem {
            kind,
            name: name.to_owned(),
            version: version.to_owned(),
            from,
            hop,
            client_request_token: derived_token(base, &what),
            status: ItemStatus::Planned,
            update_id: None,
            started_at: None,
            finished_at: None,
            polled_at: None,
            deferred: false,
            errors: Vec::new(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::workflow::testing::*;
    #[test]
    fn preflight_starts_the_next_hop_with_its_own_token_and_items() {
        let mut r = record_at(Step::Preflight);
        r.target_version = KubeVersion::new(1, 33);
        let t = step(&r, Answer::Survey(Ok(survey_at("1.30"))));
        assert_eq!((t.record.step, t.next), (Step::StartUpdate, Next::Now));
        assert_eq!(t.record.hop_version, Some(KubeVersion::new(1, 31)));
        assert_eq!(
            t.record.client_request_token, r.client_request_token,
            "the first hop keeps the request's token"
        );
        assert!(
            matches!(next_call(&t.record), Some(Call::UpdateClusterVersion { version, .. }) if version == KubeVersion::new(1, 31))
        );
        assert_eq!(t.record.items.len(), 1);
        assert_eq!(
            (t.record.items[0].name.as_str(), t.record.items[0].version.as_str()),
            ("ng-1", "1.31")
        );
        assert!(t.record.plan.as_ref().is_some_and(|p| p.hops.len() == 3));

        // The next hop gets a token of its own, the same one however often it is planned.
        let mut second = t.record.clone();
        second.step = Step::Preflight;
        let a = step(&second, Answer::Survey(Ok(survey_at("1.31"))));
        let b = step(&second, Answer::Survey(Ok(survey_at("1.31"))));
        assert_eq!(a.record.hop_version, Some(KubeVersion::new(1, 32)));
        assert_ne!(a.record.client_request_token, t.record.client_request_token);
        assert_eq!(a.record.client_request_token, b.record.client_request_token);
        assert_eq!(
            a.record.items[1].client_request_token,
            b.record.items[1].client_request_token
        );

        // A hop's in-progress update to that hop's version is adopted.
        let mut finding = a.record.clone();
        finding.step = Step::FindUpdateInProgress;
        let adopted = step(
            &finding,
            Answer::FindUpdatesInProgress(Ok(vec![update(
                "u-9",
                UpdateState::InProgress,
                "VersionUpdate",
                Some("1.32"),
            )])),
        );
        assert_eq!(adopted.record.update_id.as_deref(), Some("u-9"));
        assert!(adopted.record.adopted);
    }
}
