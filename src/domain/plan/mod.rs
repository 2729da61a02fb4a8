//! The upgrade plan: from the cluster's version to the target, one minor per hop; each hop is
//! its preflight gates, the control plane, the add-ons, then the managed node groups. Made from
//! a [`Survey`] of read-only EKS answers, with no I/O, so a dry run and a real run plan alike.

mod addons;
mod alarms;
mod insights;
mod nodegroups;
mod steps;

pub use addons::addon_version_order;
pub use alarms::unknown_alarm;
pub use steps::{
    AddonStep, Gate, GateResult, Hop, LaunchTemplateVersion, NodegroupLaunchTemplates, NodegroupStep,
    OperatorNodegroup, PlanError, PlanOptions, UpgradePlan, UNSEEN_NODES_NOTE,
};

use super::eks::Survey;
use super::version::{KubeVersion, TargetVersion};
use addons::{finish_addons, plan_addons};
use insights::insights_gate;

/// Makes the plan.
pub fn make_plan(
    cluster_name: &str,
    requested: TargetVersion,
    options: PlanOptions<'_>,
    survey: &Survey,
) -> Result<UpgradePlan, PlanError> {
    let current = survey
        .cluster
        .version
        .ok_or_else(|| PlanError(format!("cluster {cluster_name} reports no Kubernetes version")))?;
    let target = target_of(cluster_name, requested, current, survey)?;
    let (node_groups_first, node_groups_for_operator) = nodegroups::behind(survey, current, options.launch_templates);
    let mut plan = UpgradePlan {
        cluster: cluster_name.to_owned(),
        requested,
        from_version: current,
        target_version: target,
        node_groups_first,
        node_groups_for_operator,
        finish_addons: Vec::new(),
        hops: Vec::new(),
        blockers: Vec::new(),
        warnings: Vec::new(),
        notes: Vec::new(),
    };
    if target <= current {
        plan.finish_addons = finish_addons(survey, current);
        for left in &plan.node_groups_for_operator {
            plan.blockers.push(format!("node group {}: {}", left.name, left.why));
        }
        return Ok(plan);
    }
    plan.notes.push(UNSEEN_NODES_NOTE.to_owned());
    // Add-on versions as they will be when each hop starts.
    let mut addon_versions: Vec<(String, String)> = survey
        .addons
        .iter()
        .map(|a| (a.name.clone(), a.version.clone()))
        .collect();
    let mut from = current;
    while from < target {
        let hop = plan_hop(&mut plan, survey, from, options, &mut addon_versions);
        for gate in hop.gates.iter().filter(|g| !g.passed) {
            let line = format!("hop {} to {}: {}: {}", hop.from, hop.to, gate.gate, gate.detail);
            plan.blockers.push(line);
        }
        from = hop.to;
        plan.hops.push(hop);
    }
    if let Some(last) = plan.hops.last() {
        for left in &last.nodegroups_for_operator {
            plan.warnings.push(format!("node group {} {}", left.name, left.why));
        }
    }
    Ok(plan)
}

fn offered_list(survey: &Survey) -> String {
    let offered: Vec<String> = survey.versions.iter().map(|v| v.version.to_string()).collect();
    offered.join(", ")
}

/// The version the plan goes to: the request's, if EKS offers it, or the newest in standard
/// support for `latest`. Never below the cluster.
fn target_of(
    cluster_name: &str,
    requested: TargetVersion,
    current: KubeVersion,
    survey: &Survey,
) -> Result<KubeVersion, PlanError> {
    let target = match requested {
        TargetVersion::Exact(v) => {
            if !survey.versions.iter().any(|o| o.version == v) && v > current {
                return Err(PlanError(format!(
                    "Kubernetes {v} is not a version EKS offers (it lists {})",
                    offered_list(survey)
                )));
            }
            v
        }
        TargetVersion::Latest => survey
            .versions
            .iter()
            .filter(|v| v.status == "STANDARD_SUPPORT")
            .map(|v| v.version)
            .max()
            .ok_or_else(|| {
                PlanError(format!(
                    "EKS lists no version in standard support (it lists {})",
                    offered_list(survey)
                ))
            })?,
        // Resolved for the whole fleet before any cluster's plan (refused for one cluster).
        TargetVersion::StandardSupport => {
            return Err(PlanError(
                "\"standard-support\" is a rollout's target, resolved once for its fleet".into(),
            ))
        }
    };
    if target < current {
        return Err(PlanError(format!(
            "cluster {cluster_name} is at {current}; {target} would be a downgrade, which this tool does not do"
        )));
    }
    Ok(target)
}

/// One hop from `from` to the next minor: its gates, add-ons and node groups. `addon_versions`
/// moves on to the versions the add-ons will run after the hop.
fn plan_hop(
    plan: &mut UpgradePlan,
    survey: &Survey,
    from: KubeVersion,
    options: PlanOptions<'_>,
    addon_versions: &mut [(String, String)],
) -> Hop {
    let to = from.next_minor();
    let first = from == plan.from_version;
    let mut gates = Vec::new();
    if !survey.versions.iter().any(|o| o.version == to) {
        gates.push(GateResult {
            gate: Gate::VersionOffered,
            passed: false,
            checked: true,
            detail: format!("EKS does not offer {to} (it lists {})", offered_list(survey)),
        });
    }
    if first {
        gates.push(GateResult {
            gate: Gate::ClusterActive,
            passed: survey.cluster.status == "ACTIVE",
            checked: true,
            detail: format!("cluster is {}", survey.cluster.status),
        });
        // Read now, for the hop about to start; a later hop's preflight reads them again.
        gates.extend(alarms::alarms_gate(survey));
    }
    // Custom-AMI node groups left behind: by the cluster now (first hop), or by the hop before.
    let left_behind = match plan.hops.last() {
        None => plan.node_groups_for_operator.clone(),
        Some(previous) => previous.nodegroups_for_operator.clone(),
    };
    let first_steps = if first { plan.node_groups_first.as_slice() } else { &[] };
    gates.push(nodegroups::skew_gate(from, first_steps, &left_behind));
    gates.push(insights_gate(survey, to, first, options.force, &mut plan.warnings));
    let (addons, addons_gate) = plan_addons(survey, to, addon_versions);
    gates.push(addons_gate);
    let (nodegroups, nodegroups_for_operator) = nodegroups::in_hop(survey, from, to, options.launch_templates);
    Hop {
        from,
        to,
        gates,
        addons,
        nodegroups,
        nodegroups_for_operator,
    }
}

#[cfg(test)]
mod tests;
