//! Managed node groups in a plan. One on an EKS AMI follows each hop by `version`; one on a
//! custom AMI (`amiType` CUSTOM: a launch template names the image) can't be given a `version`
//! ("You cannot specify the field kubernetesVersion when using custom AMIs"): it follows by the
//! launch template version the request names for that Kubernetes version, or it is the
//! operator's to roll. EKS refuses a control-plane hop while a node group is behind, so a
//! custom one left behind blocks the next hop, as EKS would.

use super::{Gate, GateResult, NodegroupLaunchTemplates, NodegroupStep, OperatorNodegroup};
use crate::domain::eks::{NodegroupView, Survey};
use crate::domain::version::KubeVersion;

/// How node group `ng` reaches `to`: a step, or the operator's to roll.
fn reach(
    ng: &NodegroupView,
    from: Option<KubeVersion>,
    to: KubeVersion,
    templates: &NodegroupLaunchTemplates,
) -> Result<NodegroupStep, OperatorNodegroup> {
    let step = |launch_template_version: Option<String>| NodegroupStep {
        name: ng.name.clone(),
        from,
        to,
        launch_template_version,
    };
    if !ng.custom_ami() {
        return Ok(step(None));
    }
    match templates.version_for(&ng.name, to) {
        Some(version) => Ok(step(Some(version.to_owned()))),
        None => Err(OperatorNodegroup {
            name: ng.name.clone(),
            version: ng.version,
            needs: to,
            why: format!(
                "runs a custom AMI (amiType CUSTOM): EKS takes no version for it; roll it to an AMI for {to} with a \
                 new launch template version, or name that version in nodegroupLaunchTemplates"
            ),
        }),
    }
}

/// Node groups behind the control plane (`current`): the ones this tool brings to it first,
/// and the custom-AMI ones an operator must.
pub(super) fn behind(
    survey: &Survey,
    current: KubeVersion,
    templates: &NodegroupLaunchTemplates,
) -> (Vec<NodegroupStep>, Vec<OperatorNodegroup>) {
    let mut steps = Vec::new();
    let mut operator = Vec::new();
    for ng in survey
        .nodegroups
        .iter()
        .filter(|n| n.version.is_some_and(|v| v < current))
    {
        match reach(ng, ng.version, current, templates) {
            Ok(step) => steps.push(step),
            Err(left) => operator.push(left),
        }
    }
    (steps, operator)
}

/// Every node group in the hop from `from` to `to`: the ones that follow it, and the custom-AMI
/// ones an operator rolls after it.
pub(super) fn in_hop(
    survey: &Survey,
    from: KubeVersion,
    to: KubeVersion,
    templates: &NodegroupLaunchTemplates,
) -> (Vec<NodegroupStep>, Vec<OperatorNodegroup>) {
    let mut steps = Vec::new();
    let mut operator = Vec::new();
    for ng in &survey.nodegroups {
        match reach(ng, Some(from), to, templates) {
            Ok(step) => steps.push(step),
            Err(left) => operator.push(left),
        }
    }
    (steps, operator)
}

/// The hop from `from` may start only with every node group at `from` (EKS refuses it
/// otherwise): the ones this tool brings there first pass; custom-AMI ones left behind fail.
pub(super) fn skew_gate(
    from: KubeVersion,
    first_steps: &[NodegroupStep],
    left_behind: &[OperatorNodegroup],
) -> GateResult {
    let gate = Gate::NodegroupSkew;
    if !left_behind.is_empty() {
        let names: Vec<String> = left_behind
            .iter()
            .map(|n| format!("{} ({})", n.name, n.version.map_or("?".to_owned(), |v| v.to_string())))
            .collect();
        return GateResult {
            gate,
            passed: false,
            checked: true,
            detail: format!(
                "{} behind the control plane at {from} on a custom AMI: EKS refuses the next hop until they match; roll \
                 them to an AMI for {from} (a new launch template version), or name that version in \
                 nodegroupLaunchTemplates",
                names.join(", ")
            ),
        };
    }
    GateResult {
        gate,
        passed: true,
        checked: true,
        detail: if first_steps.is_empty() {
            "all node groups follow each hop".into()
        } else {
            let names: Vec<&str> = first_steps.iter().map(|n| n.name.as_str()).collect();
            format!("{} behind; upgraded to {from} first", names.join(", "))
        },
    }
}
