//! The upgrade plan: from the cluster's version to the target, one minor per hop; each hop is
//! its preflight gates, the control plane, the add-ons, then the managed node groups. Made from
//! a [`Survey`] of read-only EKS answers, with no I/O, so a dry run and a real run plan alike.

use super::eks::{AddonVersionOption, Survey};
use super::version::{KubeVersion, TargetVersion};
use serde::{Deserialize, Serialize};
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
}

/// One minor version: gates, control plane, add-ons, node groups, in that order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hop {
    pub from: KubeVersion,
    pub to: KubeVersion,
    pub gates: Vec<GateResult>,
    pub addons: Vec<AddonStep>,
    pub nodegroups: Vec<NodegroupStep>,
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
    pub hops: Vec<Hop>,
    /// Failed gates: the upgrade would park as BLOCKED with these reasons.
    pub blockers: Vec<String>,
    /// Reported, not blocking (WARNING insights, ERROR insights overridden by force).
    pub warnings: Vec<String>,
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

/// Makes the plan. `force` overrides ERROR upgrade insights (reported as warnings).
pub fn make_plan(
    cluster_name: &str,
    requested: TargetVersion,
    force: bool,
    survey: &Survey,
) -> Result<UpgradePlan, PlanError> {
    let current = survey
        .cluster
        .version
        .ok_or_else(|| PlanError(format!("cluster {cluster_name} reports no Kubernetes version")))?;
    let target = target_of(cluster_name, requested, current, survey)?;
    let mut plan = UpgradePlan {
        cluster: cluster_name.to_owned(),
        requested,
        from_version: current,
        target_version: target,
        node_groups_first: node_groups_behind(survey, current),
        hops: Vec::new(),
        blockers: Vec::new(),
        warnings: Vec::new(),
    };
    // Add-on versions as they will be when each hop starts.
    let mut addon_versions: Vec<(String, String)> = survey
        .addons
        .iter()
        .map(|a| (a.name.clone(), a.version.clone()))
        .collect();
    let mut from = current;
    while from < target {
        let hop = plan_hop(&mut plan, survey, from, force, &mut addon_versions);
        for gate in hop.gates.iter().filter(|g| !g.passed) {
            let line = format!("hop {} to {}: {}: {}", hop.from, hop.to, gate.gate, gate.detail);
            plan.blockers.push(line);
        }
        from = hop.to;
        plan.hops.push(hop);
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

/// Node groups behind the control plane: they go first, to its version.
fn node_groups_behind(survey: &Survey, current: KubeVersion) -> Vec<NodegroupStep> {
    survey
        .nodegroups
        .iter()
        .filter_map(|ng| match ng.version {
            Some(v) if v < current => Some(NodegroupStep {
                name: ng.name.clone(),
                from: Some(v),
                to: current,
            }),
            _ => None,
        })
        .collect()
}

/// One hop from `from` to the next minor: its gates, add-ons and node groups. `addon_versions`
/// moves on to the versions the add-ons will run after the hop.
fn plan_hop(
    plan: &mut UpgradePlan,
    survey: &Survey,
    from: KubeVersion,
    force: bool,
    addon_versions: &mut [(String, String)],
) -> Hop {
    let to = from.next_minor();
    let first = from == plan.from_version;
    let mut gates = Vec::new();
    if !survey.versions.iter().any(|o| o.version == to) {
        gates.push(GateResult {
            checked: true,
            gate: "version offered".into(),
            passed: false,
            detail: format!("EKS does not offer {to} (it lists {})", offered_list(survey)),
        });
    }
    if first {
        gates.push(GateResult {
            checked: true,
            gate: "cluster ACTIVE".into(),
            passed: survey.cluster.status == "ACTIVE",
            detail: format!("cluster is {}", survey.cluster.status),
        });
    }
    let behind: Vec<&str> = plan.node_groups_first.iter().map(|n| n.name.as_str()).collect();
    gates.push(GateResult {
        checked: true,
        gate: "node groups at the control plane's version".into(),
        passed: true,
        detail: if first && !behind.is_empty() {
            format!("{} behind; upgraded to {from} first", behind.join(", "))
        } else {
            "all node groups follow each hop".into()
        },
    });
    gates.push(insights_gate(survey, to, first, force, &mut plan.warnings));
    let (addons, addons_gate) = plan_addons(survey, to, addon_versions);
    gates.push(addons_gate);
    let nodegroups = survey
        .nodegroups
        .iter()
        .map(|ng| NodegroupStep {
            name: ng.name.clone(),
            from: Some(from),
            to,
        })
        .collect();
    Hop {
        from,
        to,
        gates,
        addons,
        nodegroups,
    }
}

/// Each add-on's move in the hop to `to`, and the gate: every add-on has a version for `to`.
fn plan_addons(
    survey: &Survey,
    to: KubeVersion,
    addon_versions: &mut [(String, String)],
) -> (Vec<AddonStep>, GateResult) {
    let mut steps = Vec::new();
    let mut incompatible = Vec::new();
    for (name, version) in addon_versions.iter_mut() {
        let options = survey
            .addon_versions
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, o)| o.as_slice())
            .unwrap_or_default();
        let step = addon_step(name, version, options, to);
        match &step.to {
            Some(next) => *version = next.clone(),
            None if !runs_on(options, version, to) => incompatible.push(format!("{name} ({version})")),
            None => {}
        }
        steps.push(step);
    }
    let gate = GateResult {
        checked: true,
        gate: "add-ons have a version for the new Kubernetes".into(),
        passed: incompatible.is_empty(),
        detail: if incompatible.is_empty() {
            format!("every installed add-on has a version compatible with {to}")
        } else {
            format!("no version compatible with {to} for: {}", incompatible.join(", "))
        },
    };
    (steps, gate)
}

/// The upgrade-readiness insights for `to`. EKS computes them for the next minor only (about
/// daily), so a later hop's insights are not checked yet: its preflight checks them.
fn insights_gate(
    survey: &Survey,
    to: KubeVersion,
    next_minor: bool,
    force: bool,
    warnings: &mut Vec<String>,
) -> GateResult {
    let to_text = to.to_string();
    let relevant: Vec<_> = survey
        .insights
        .iter()
        .filter(|i| i.category == "UPGRADE_READINESS" && i.kubernetes_version.as_deref() == Some(to_text.as_str()))
        .collect();
    let unchecked = |detail: String| GateResult {
        gate: "upgrade insights".into(),
        passed: true,
        checked: false,
        detail,
    };
    if !next_minor {
        return unchecked(format!(
            "not checked yet: EKS computes upgrade insights for the next minor only; checked at the preflight of the hop to {to}"
        ));
    }
    if relevant.is_empty() {
        return unchecked(format!(
            "not checked: EKS reports no upgrade insight for {to} yet (it computes them about daily); EKS checks them again when the update is asked for"
        ));
    }
    let errors: Vec<String> = relevant
        .iter()
        .filter(|i| i.status == "ERROR")
        .map(|i| format!("{}: {}", i.name, i.reason))
        .collect();
    for warning in relevant.iter().filter(|i| i.status == "WARNING") {
        warnings.push(format!(
            "upgrade insight for {to}: {}: {}",
            warning.name, warning.reason
        ));
    }
    if !errors.is_empty() && force {
        for error in &errors {
            warnings.push(format!(
                "upgrade insight for {to} (ERROR, overridden by force): {error}"
            ));
        }
    }
    GateResult {
        gate: "upgrade insights".into(),
        passed: errors.is_empty() || force,
        checked: true,
        detail: if errors.is_empty() {
            format!("no ERROR insight for {to} ({} checked)", relevant.len())
        } else if force {
            format!("ERROR insights for {to} overridden by force: {}", errors.join("; "))
        } else {
            format!(
                "ERROR insights for {to} (send \"force\": true to override): {}",
                errors.join("; ")
            )
        },
    }
}

/// Whether `version` of an add-on runs on Kubernetes `on`.
fn runs_on(options: &[AddonVersionOption], version: &str, on: KubeVersion) -> bool {
    options
        .iter()
        .any(|o| o.version == version && o.compatible.iter().any(|(k, _)| *k == on))
}

/// The add-on's move in the hop to `to`: to EKS's default version for `to`, unless the installed
/// version already runs on `to` and is at least as new.
fn addon_step(name: &str, installed: &str, options: &[AddonVersionOption], to: KubeVersion) -> AddonStep {
    let compatible: Vec<&AddonVersionOption> = options
        .iter()
        .filter(|o| o.compatible.iter().any(|(k, _)| *k == to))
        .collect();
    let default = compatible
        .iter()
        .find(|o| o.compatible.iter().any(|(k, d)| *k == to && *d))
        .or_else(|| {
            compatible
                .iter()
                .max_by(|a, b| addon_version_order(&a.version, &b.version))
        })
        .map(|o| o.version.clone());
    let step = |to_version: Option<String>, why: String| AddonStep {
        name: name.to_owned(),
        from: installed.to_owned(),
        to: to_version,
        why,
    };
    match default {
        None => step(None, format!("no version compatible with {to}")),
        Some(default) => {
            let installed_runs = runs_on(options, installed, to);
            if installed_runs && addon_version_order(installed, &default) != std::cmp::Ordering::Less {
                step(None, format!("{installed} already runs on {to}"))
            } else if default == installed {
                step(None, format!("{installed} is the default for {to}"))
            } else {
                step(Some(default), format!("the default version for {to}"))
            }
        }
    }
}

/// Orders add-on versions such as `v1.18.6-eksbuild.1` by their numbers.
pub fn addon_version_order(a: &str, b: &str) -> std::cmp::Ordering {
    let numbers = |v: &str| -> Vec<u64> {
        v.split(|c: char| !c.is_ascii_digit())
            .filter(|p| !p.is_empty())
            .filter_map(|p| p.parse().ok())
            .collect()
    };
    numbers(a).cmp(&numbers(b)).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::eks::{AddonView, ClusterView, InsightView, NodegroupView, OfferedVersion};

    fn v(text: &str) -> KubeVersion {
        text.parse().unwrap()
    }

    fn survey() -> Survey {
        let versions = (28..=36)
            .map(|m| OfferedVersion {
                version: KubeVersion::new(1, m),
                status: if m >= 34 {
                    "STANDARD_SUPPORT"
                } else {
                    "EXTENDED_SUPPORT"
                }
                .into(),
                default: m == 34,
            })
            .collect();
        let coredns = |k: u16, default: bool| (KubeVersion::new(1, k), default);
        Survey {
            cluster: ClusterView {
                status: "ACTIVE".into(),
                version: Some(v("1.30")),
                platform_version: Some("eks.5".into()),
                tags: Default::default(),
                ..Default::default()
            },
            versions,
            nodegroups: vec![
                NodegroupView {
                    name: "ng-1".into(),
                    version: Some(v("1.30")),
                    status: "ACTIVE".into(),
                    ..Default::default()
                },
                NodegroupView {
                    name: "ng-old".into(),
                    version: Some(v("1.29")),
                    status: "ACTIVE".into(),
                    ..Default::default()
                },
            ],
            addons: vec![AddonView {
                name: "coredns".into(),
                version: "v1.11.1-eksbuild.1".into(),
                status: "ACTIVE".into(),
                ..Default::default()
            }],
            addon_versions: vec![(
                "coredns".into(),
                vec![
                    AddonVersionOption {
                        version: "v1.11.1-eksbuild.1".into(),
                        compatible: vec![coredns(30, true), coredns(31, false)],
                    },
                    AddonVersionOption {
                        version: "v1.11.3-eksbuild.2".into(),
                        compatible: vec![coredns(31, true), coredns(32, false)],
                    },
                    AddonVersionOption {
                        version: "v1.11.4-eksbuild.1".into(),
                        compatible: vec![coredns(32, true), coredns(33, true)],
                    },
                ],
            )],
            insights: vec![],
        }
    }

    #[test]
    fn three_hops_with_add_ons_and_node_groups() {
        let plan = make_plan("devel", TargetVersion::Exact(v("1.33")), false, &survey()).unwrap();
        assert_eq!(
            plan.hops.iter().map(|h| h.to.to_string()).collect::<Vec<_>>(),
            ["1.31", "1.32", "1.33"]
        );
        assert_eq!(
            plan.node_groups_first,
            [NodegroupStep {
                name: "ng-old".into(),
                from: Some(v("1.29")),
                to: v("1.30")
            }]
        );
        let coredns: Vec<Option<String>> = plan.hops.iter().map(|h| h.addons[0].to.clone()).collect();
        assert_eq!(
            coredns,
            [
                Some("v1.11.3-eksbuild.2".into()),
                Some("v1.11.4-eksbuild.1".into()),
                None
            ],
            "to the default of each hop; left alone once it runs on the next"
        );
        assert!(plan.hops[2].addons[0].why.contains("already runs on 1.33"));
        assert!(plan.hops.iter().all(|h| h.nodegroups.len() == 2));
        assert!(plan.blockers.is_empty(), "{:?}", plan.blockers);
    }

    #[test]
    fn latest_is_the_newest_in_standard_support() {
        let plan = make_plan("devel", TargetVersion::Latest, false, &survey()).unwrap();
        assert_eq!(plan.target_version, v("1.36"));
        assert_eq!(plan.hops.len(), 6);
        // coredns has no version for 1.34: blocked there, with the reason.
        assert!(
            plan.blockers
                .iter()
                .any(|b| b.contains("1.33 to 1.34") && b.contains("coredns")),
            "{:?}",
            plan.blockers
        );
    }

    #[test]
    fn downgrades_and_unknown_versions_are_refused() {
        let err = make_plan("devel", TargetVersion::Exact(v("1.29")), false, &survey()).unwrap_err();
        assert!(err.0.contains("downgrade"), "{err}");
        let err = make_plan("devel", TargetVersion::Exact(v("1.40")), false, &survey()).unwrap_err();
        assert!(
            err.0.contains("not a version EKS offers") && err.0.contains("1.36"),
            "{err}"
        );
    }

    #[test]
    fn already_at_target_is_an_empty_plan() {
        let plan = make_plan("devel", TargetVersion::Exact(v("1.30")), false, &survey()).unwrap();
        assert!(plan.hops.is_empty());
    }

    #[test]
    fn insights_errors_block_unless_forced_and_warnings_are_reported() {
        let mut s = survey();
        let insight = |status: &str| InsightView {
            name: "Deprecated APIs removed in Kubernetes v1.31".into(),
            category: "UPGRADE_READINESS".into(),
            kubernetes_version: Some("1.31".into()),
            status: status.into(),
            reason: "flowcontrol.apiserver.k8s.io/v1beta3 in use".into(),
        };
        s.insights = vec![insight("ERROR")];
        let plan = make_plan("devel", TargetVersion::Exact(v("1.31")), false, &s).unwrap();
        assert_eq!(plan.blockers.len(), 1);
        assert!(plan.blockers[0].contains("force"), "{:?}", plan.blockers);
        let forced = make_plan("devel", TargetVersion::Exact(v("1.31")), true, &s).unwrap();
        assert!(forced.blockers.is_empty());
        assert!(forced.warnings[0].contains("overridden by force"));
        s.insights = vec![insight("WARNING")];
        let warned = make_plan("devel", TargetVersion::Exact(v("1.31")), false, &s).unwrap();
        assert!(warned.blockers.is_empty());
        assert_eq!(warned.warnings.len(), 1);
    }

    #[test]
    fn insights_of_later_hops_are_not_checked_yet_never_passed() {
        let mut s = survey();
        s.insights = vec![InsightView {
            name: "Kubelet version skew".into(),
            category: "UPGRADE_READINESS".into(),
            kubernetes_version: Some("1.31".into()),
            status: "PASSING".into(),
            reason: "Node kubelet versions match the control plane version.".into(),
        }];
        let plan = make_plan("devel", TargetVersion::Exact(v("1.33")), false, &s).unwrap();
        let gate = |hop: usize| {
            plan.hops[hop]
                .gates
                .iter()
                .find(|g| g.gate == "upgrade insights")
                .unwrap()
                .clone()
        };
        assert!(gate(0).checked && gate(0).detail.contains("1 checked"), "{:?}", gate(0));
        for later in [1, 2] {
            let g = gate(later);
            assert!(!g.checked, "{g:?}");
            assert!(g.detail.starts_with("not checked yet"), "{g:?}");
            assert!(!g.detail.contains("0 checked"), "{g:?}");
        }
        // No insight computed yet for the next minor either: not a pass.
        s.insights.clear();
        let plan = make_plan("devel", TargetVersion::Exact(v("1.31")), false, &s).unwrap();
        let g = plan.hops[0]
            .gates
            .iter()
            .find(|g| g.gate == "upgrade insights")
            .unwrap();
        assert!(!g.checked && g.detail.starts_with("not checked"), "{g:?}");
    }

    #[test]
    fn a_cluster_not_active_fails_the_first_gate() {
        let mut s = survey();
        s.cluster.status = "UPDATING".into();
        let plan = make_plan("devel", TargetVersion::Exact(v("1.31")), false, &s).unwrap();
        assert!(plan.blockers.iter().any(|b| b.contains("cluster ACTIVE")));
    }

    #[test]
    fn add_on_versions_order_by_numbers() {
        use std::cmp::Ordering::*;
        assert_eq!(addon_version_order("v1.18.6-eksbuild.1", "v1.18.10-eksbuild.1"), Less);
        assert_eq!(addon_version_order("v1.11.4-eksbuild.2", "v1.11.4-eksbuild.1"), Greater);
    }

    #[test]
    fn target_version_accepts_latest() {
        let t: TargetVersion = serde_json::from_value(serde_json::json!("latest")).unwrap();
        assert_eq!(t, TargetVersion::Latest);
        let err = serde_json::from_value::<TargetVersion>(serde_json::json!("newest")).unwrap_err();
        assert!(err.to_string().contains("\"latest\""), "{err}");
    }
}
