//! The upgrade plan: from the cluster's version to the target, one minor per hop; each hop is
//! its preflight gates, the control plane, the add-ons, then the managed node groups. Made from
//! a [`Survey`] of read-only EKS answers, with no I/O, so a dry run and a real run plan alike.

mod addons;
mod alarms;
mod insights;
mod nodegroups;

pub use addons::addon_version_order;
pub use alarms::{unknown_alarm, ALARMS_GATE};

use super::eks::Survey;
use super::version::{KubeVersion, TargetVersion};
use addons::{finish_addons, plan_addons};
use insights::insights_gate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// One gate of a hop's preflight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GateResult {
    pub gate: String,
    /// Whether the gate lets the hop go (an unchecked gate does not block it).
    pub passed: bool,
    /// False when nothing could be checked yet (EKS computes upgrade insights for the next
    /// minor only): checked again at that hop's preflight.
    #[serde(default = "checked_by_default")]
    pub checked: bool,
    pub detail: String,
}

fn checked_by_default() -> bool {
    true
}

/// What happens to one add-on in a hop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddonStep {
    pub name: String,
    pub from: String,
    /// The version it goes to; `None` when it stays (or can't move: see the hop's gates).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    pub why: String,
}

/// A managed node group update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodegroupStep {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<KubeVersion>,
    pub to: KubeVersion,
    /// A custom-AMI node group goes to `to` by this launch template version (the request's
    /// `nodegroupLaunchTemplates`), not by `version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_template_version: Option<String>,
}

/// A node group this tool cannot move: an operator rolls it (a custom AMI with no launch
/// template version named for `needs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperatorNodegroup {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<KubeVersion>,
    /// The Kubernetes version it must reach.
    pub needs: KubeVersion,
    pub why: String,
}

/// `nodegroupLaunchTemplates` of a request: for a custom-AMI node group, the launch template
/// version that carries an AMI for each Kubernetes version,
/// `{"ng-custom": {"1.31": "7", "1.32": "8"}}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NodegroupLaunchTemplates(BTreeMap<String, BTreeMap<KubeVersion, LaunchTemplateVersion>>);

impl NodegroupLaunchTemplates {
    /// The launch template version named for node group `name` at Kubernetes `version`.
    pub fn version_for(&self, name: &str, version: KubeVersion) -> Option<&str> {
        self.0.get(name)?.get(&version).map(|v| v.0.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A launch template version number, as EKS takes it: digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct LaunchTemplateVersion(String);

impl<'de> Deserialize<'de> for LaunchTemplateVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        if !text.is_empty() && text.len() <= 10 && text.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(text))
        } else {
            Err(serde::de::Error::custom(format!(
                "expected a launch template version number such as \"7\", got {}",
                super::text::shown(&text)
            )))
        }
    }
}

/// What shapes a plan besides the survey: the request's options.
#[derive(Debug, Clone, Copy)]
pub struct PlanOptions<'a> {
    /// Override ERROR upgrade insights (reported as warnings).
    pub force: bool,
    pub launch_templates: &'a NodegroupLaunchTemplates,
}

/// What the EKS API cannot show, said in every plan with hops.
pub const UNSEEN_NODES_NOTE: &str = "The EKS API shows managed node groups only: nodes launched by \
    Karpenter, self-managed node groups and Fargate are not seen or upgraded here. Keep their kubelets \
    within the Kubernetes version skew policy (at most three minors older than the control plane, never \
    newer) before and after each hop.";

/// One minor version: gates, control plane, add-ons, node groups, in that order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hop {
    pub from: KubeVersion,
    pub to: KubeVersion,
    pub gates: Vec<GateResult>,
    pub addons: Vec<AddonStep>,
    pub nodegroups: Vec<NodegroupStep>,
    /// Custom-AMI node groups the operator rolls to `to` after the control plane (the next hop
    /// waits for them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodegroups_for_operator: Vec<OperatorNodegroup>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpgradePlan {
    pub cluster: String,
    pub requested: TargetVersion,
    pub from_version: KubeVersion,
    pub target_version: KubeVersion,
    /// Node groups behind the control plane: EKS refuses the next hop until they catch up, so
    /// they go first.
    pub node_groups_first: Vec<NodegroupStep>,
    /// Custom-AMI node groups behind the control plane, for the operator to roll first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub node_groups_for_operator: Vec<OperatorNodegroup>,
    /// With the control plane at (or past) the target: add-ons behind the default for its
    /// version, moved to it (the upgrade finishes the whole cluster, not only the control plane).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub finish_addons: Vec<AddonStep>,
    pub hops: Vec<Hop>,
    /// Failed gates: the upgrade would park as BLOCKED with these reasons.
    pub blockers: Vec<String>,
    /// Reported, not blocking (WARNING insights, ERROR insights overridden by force).
    pub warnings: Vec<String>,
    /// What the plan cannot see (nodes outside managed node groups).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl UpgradePlan {
    /// Whether the plan changes anything, or needs the operator to.
    pub fn has_work(&self) -> bool {
        !(self.hops.is_empty()
            && self.node_groups_first.is_empty()
            && self.node_groups_for_operator.is_empty()
            && self.finish_addons.is_empty())
    }
}

/// Why no plan can be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError(pub String);

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PlanError {}

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
            gate: "version offered".into(),
            passed: false,
            checked: true,
            detail: format!("EKS does not offer {to} (it lists {})", offered_list(survey)),
        });
    }
    if first {
        gates.push(GateResult {
            gate: "cluster ACTIVE".into(),
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
