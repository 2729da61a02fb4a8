//! `Preflight`: the hop's plan from a read-only survey; node groups behind go first; the gates;
//! then the hop's token and its add-on and node-group items, written before any update starts.
//! With the control plane at (or past) the target, the same survey finishes the cluster: node
//! groups to the control plane's version, add-ons to their default for it.

use super::flow::Flow;
use super::status::{block_for_good, finish, refused};
use super::work::{add_item_for, derived_token};
use super::{Limits, Next};
use crate::domain::eks::{EksFailure, LaunchTemplateRef, Operation, Survey};
use crate::domain::plan::{make_plan, Hop, NodegroupStep, PlanOptions, UpgradePlan};
use crate::domain::record::{ItemKind, ItemPurpose, ItemStatus, Step, UpgradeRecord, UpgradeStatus};
use crate::domain::version::{KubeVersion, TargetVersion};

/// The step's function: the answer to the survey.
pub(super) fn on_survey(r: &mut UpgradeRecord, answer: Result<Survey, EksFailure>, now: i64, limits: &Limits) -> Flow {
    match answer {
        Ok(survey) => preflight(r, &survey, now, limits),
        Err(e) => refused(
            r,
            Operation::Survey,
            "the preflight's read-only survey",
            &e,
            now,
            limits,
        )
        .into(),
    }
}

fn preflight(r: &mut UpgradeRecord, survey: &Survey, now: i64, limits: &Limits) -> Flow {
    let current = match survey.cluster.version {
        Some(v) if survey.cluster.status == "ACTIVE" => v,
        _ => {
            // Not ACTIVE any more (someone else's update?): look again.
            r.step = Step::InspectCluster;
            return Next::After(limits.poll_interval_secs).into();
        }
    };
    r.control_plane_version = Some(current);
    if !limits.admits(&r.cluster, &survey.cluster) {
        // Checked before every hop: a cluster taken out of enrollment is not touched again,
        // nor checked again by the sweep (a new request, once enrolled, goes on).
        let note = limits.not_enrolled(&r.cluster);
        return block_for_good(r, note, now, limits).into();
    }
    if r.items
        .iter()
        .any(|i| i.status == ItemStatus::Planned && i.hop <= current)
    {
        // Updates planned before for a hop the control plane has made, not made yet (an
        // upgrade blocked, then checked again), go first, in their order. (Those of a hop not
        // made yet wait for its control plane: the hop plans them again, as they are.)
        r.message = Some("the updates planned before go first".into());
        return Flow::Items;
    }
    let options = PlanOptions {
        force: r.force,
        launch_templates: &r.nodegroup_launch_templates,
    };
    // Past the target, the plan only finishes the cluster where it is (never a downgrade).
    let target = TargetVersion::Exact(r.target_version.max(current));
    let plan = match make_plan(&r.cluster, target, options, survey) {
        Ok(plan) => plan,
        Err(e) => return finish(r, UpgradeStatus::Failed, e.0, now, limits).into(),
    };
    r.plan = Some(plan.clone());
    r.nodegroup_parallelism = limits.nodegroup_parallelism;
    if !plan.node_groups_first.is_empty() {
        return node_groups_first(r, &plan, survey, current, now, limits);
    }
    let Some(hop) = plan.hops.first() else {
        return finish_cluster(r, &plan, current, now, limits);
    };
    let failed: Vec<String> = hop
        .gates
        .iter()
        .filter(|g| !g.passed)
        .map(|g| format!("{}: {}", g.gate, g.detail))
        .collect();
    if !failed.is_empty() {
        let note = format!("hop {} to {} blocked: {}", hop.from, hop.to, failed.join("; "));
        return finish(r, UpgradeStatus::Blocked, note, now, limits).into();
    }
    start_hop(r, hop, survey);
    Next::Now.into()
}

/// Node groups behind the control plane: EKS refuses the next hop until they catch up.
fn node_groups_first(
    r: &mut UpgradeRecord,
    plan: &UpgradePlan,
    survey: &Survey,
    current: KubeVersion,
    now: i64,
    limits: &Limits,
) -> Flow {
    let base = r.client_request_token.clone();
    let added = plan
        .node_groups_first
        .iter()
        .filter(|ng| add_nodegroup(r, ng, survey, current, &base))
        .count();
    let names: Vec<&str> = plan.node_groups_first.iter().map(|n| n.name.as_str()).collect();
    let pending = r
        .items
        .iter()
        .any(|i| i.status == ItemStatus::InProgress || (i.status == ItemStatus::Planned && i.hop <= current));
    if added == 0 && !pending {
        // Updated already, yet still behind (a launch template whose AMI is for another
        // version?): asking again would change nothing.
        let note = format!(
            "node groups {} were updated to {current} but still report an older version; check the AMI of their \
             launch template, then send the request again",
            names.join(", ")
        );
        return finish(r, UpgradeStatus::Blocked, note, now, limits).into();
    }
    r.message = Some(format!(
        "node groups behind the control plane go first: {}",
        names.join(", ")
    ));
    Flow::Items
}

/// No hop left: the whole cluster is finished when its add-ons are at their default for the
/// control plane's version and every node group matches it.
fn finish_cluster(r: &mut UpgradeRecord, plan: &UpgradePlan, current: KubeVersion, now: i64, limits: &Limits) -> Flow {
    let base = crate::domain::workflow::derived_token(&r.client_request_token, &format!("finish:{current}"));
    for addon in &plan.finish_addons {
        if let Some(to) = &addon.to {
            add_item(
                r,
                ItemKind::Addon,
                &addon.name,
                to,
                Some(addon.from.clone()),
                current,
                &base,
            );
        }
    }
    if r.items.iter().any(|i| i.status == ItemStatus::Planned) {
        r.message = Some(format!("add-ons to their default for {current}, to finish the cluster"));
        return Flow::Items;
    }
    if !plan.node_groups_for_operator.is_empty() {
        let left: Vec<String> = plan
            .node_groups_for_operator
            .iter()
            .map(|n| format!("node group {} {}", n.name, n.why))
            .collect();
        let note = format!(
            "the control plane is at {current}, but not the whole cluster: {}. The upgrade finishes once they \
             match (checked again after BLOCKED_RECHECK_SECONDS)",
            left.join("; ")
        );
        return finish(r, UpgradeStatus::Blocked, note, now, limits).into();
    }
    let note = at_target_note(r, current);
    finish(r, UpgradeStatus::Succeeded, note, now, limits).into()
}

fn at_target_note(r: &UpgradeRecord, current: KubeVersion) -> String {
    let items = r.items.iter().filter(|i| i.status == ItemStatus::Succeeded).count();
    if !r.control_plane_updates.is_empty() {
        format!(
            "upgraded {} from {} to {}: {} control-plane update(s), {items} add-on and node-group update(s)",
            r.cluster,
            r.from_version.unwrap_or(current),
            current,
            r.control_plane_updates.len()
        )
    } else if items > 0 {
        format!(
            "cluster {} finished at {current}: the control plane was there already; {items} add-on and node-group update(s)",
            r.cluster
        )
    } else if current == r.target_version {
        format!("cluster {} is already at {}; nothing to do", r.cluster, current)
    } else {
        format!(
            "cluster {} is at {}, past the target {}; nothing to do",
            r.cluster, current, r.target_version
        )
    }
}

/// The hop's token and items. Each hop has its own token; the first hop's is the one written
/// when the request came. The tokens are stored with this write: from here a crash resumes by
/// sending them again.
fn start_hop(r: &mut UpgradeRecord, hop: &Hop, survey: &Survey) {
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
        add_nodegroup(r, ng, survey, hop.to, &token);
    }
    r.step = Step::StartUpdate;
    r.message = None;
}

/// A node group's item: by `version`, or by the launch template version the request names
/// (with the node group's own template, by id or name). Whether it was new.
fn add_nodegroup(r: &mut UpgradeRecord, ng: &NodegroupStep, survey: &Survey, hop: KubeVersion, base: &str) -> bool {
    let from = ng.from.map(|v| v.to_string());
    let before = r.items.len();
    add_item(r, ItemKind::Nodegroup, &ng.name, &ng.to.to_string(), from, hop, base);
    let added = r.items.len() > before;
    if let (true, Some(version)) = (added, &ng.launch_template_version) {
        let own = survey
            .nodegroups
            .iter()
            .find(|n| n.name == ng.name)
            .and_then(|n| n.launch_template.clone())
            .unwrap_or_default();
        if let Some(item) = r.items.last_mut() {
            // The template as it is now, to roll the node group back to it if need be.
            item.from_launch_template = Some(own.clone());
            item.launch_template = Some(LaunchTemplateRef {
                version: Some(version.clone()),
                ..own
            });
        }
    }
    added
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
    add_item_for(r, ItemPurpose::Upgrade, kind, name, version, from, hop, base)
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
        // (The first hop's items are done by then.)
        for item in &mut second.items {
            item.status = ItemStatus::Succeeded;
        }
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

    #[test]
    fn at_the_target_the_rest_of_the_cluster_is_finished() {
        use crate::domain::eks::{AddonVersionOption, AddonView, NodegroupView};
        let mut r = record_at(Step::Preflight);
        let mut survey = survey_at("1.31");
        survey.nodegroups[0].version = Some(KubeVersion::new(1, 30));
        survey.addons = vec![AddonView {
            name: "kube-proxy".into(),
            version: "v1.30.3-eksbuild.2".into(),
            status: "ACTIVE".into(),
            ..Default::default()
        }];
        survey.addon_versions = vec![(
            "kube-proxy".into(),
            (30..=31)
                .map(|m| AddonVersionOption {
                    version: format!("v1.{m}.3-eksbuild.2"),
                    compatible: vec![(KubeVersion::new(1, m), true)],
                })
                .collect(),
        )];
        // The node group behind goes first ...
        let t = step(&r, Answer::Survey(Ok(survey.clone())));
        assert_eq!((t.record.step, t.next), (Step::RunItems, Next::Now));
        let items: Vec<(&str, &str)> = t
            .record
            .items
            .iter()
            .map(|i| (i.name.as_str(), i.version.as_str()))
            .collect();
        assert_eq!(items, [("ng-1", "1.31")]);
        // ... then the add-on behind its default for 1.31.
        r = t.record;
        r.items[0].status = ItemStatus::Succeeded;
        r.step = Step::Preflight;
        survey.nodegroups[0].version = Some(KubeVersion::new(1, 31));
        let t = step(&r, Answer::Survey(Ok(survey.clone())));
        let items: Vec<(&str, &str)> = t
            .record
            .items
            .iter()
            .map(|i| (i.name.as_str(), i.version.as_str()))
            .collect();
        assert_eq!(items, [("ng-1", "1.31"), ("kube-proxy", "v1.31.3-eksbuild.2")]);
        // A custom-AMI node group behind is the operator's: BLOCKED until it matches.
        let mut custom = survey.clone();
        custom.addons.clear();
        custom.nodegroups.push(NodegroupView {
            name: "ng-custom".into(),
            version: Some(KubeVersion::new(1, 30)),
            status: "ACTIVE".into(),
            ami_type: "CUSTOM".into(),
            ..Default::default()
        });
        let t = step(&record_at(Step::Preflight), Answer::Survey(Ok(custom)));
        assert_eq!(t.record.status, UpgradeStatus::Blocked, "{:?}", t.record.message);
        let said = t.record.message.unwrap();
        assert!(said.contains("node group ng-custom runs a custom AMI"), "{said}");
    }
}
