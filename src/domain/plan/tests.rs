use super::*;
use crate::domain::eks::{AddonVersionOption, AddonView, ClusterView, InsightView, NodegroupView, OfferedVersion};
use std::collections::BTreeMap;

static NO_TEMPLATES: NodegroupLaunchTemplates = NodegroupLaunchTemplates(BTreeMap::new());

fn opts(force: bool) -> PlanOptions<'static> {
    PlanOptions {
        force,
        launch_templates: &NO_TEMPLATES,
    }
}

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
            end_of_standard: None,
            end_of_extended: None,
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
        alarms: vec![],
    }
}

#[test]
fn three_hops_with_add_ons_and_node_groups() {
    let plan = make_plan("devel", TargetVersion::Exact(v("1.33")), opts(false), &survey()).unwrap();
    assert_eq!(
        plan.hops.iter().map(|h| h.to.to_string()).collect::<Vec<_>>(),
        ["1.31", "1.32", "1.33"]
    );
    assert_eq!(
        plan.node_groups_first,
        [NodegroupStep {
            name: "ng-old".into(),
            from: Some(v("1.29")),
            to: v("1.30"),
            launch_template_version: None,
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
    let plan = make_plan("devel", TargetVersion::Latest, opts(false), &survey()).unwrap();
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
    let err = make_plan("devel", TargetVersion::Exact(v("1.29")), opts(false), &survey()).unwrap_err();
    assert!(err.0.contains("downgrade"), "{err}");
    let err = make_plan("devel", TargetVersion::Exact(v("1.40")), opts(false), &survey()).unwrap_err();
    assert!(
        err.0.contains("not a version EKS offers") && err.0.contains("1.36"),
        "{err}"
    );
}

#[test]
fn already_at_target_is_an_empty_plan() {
    let plan = make_plan("devel", TargetVersion::Exact(v("1.30")), opts(false), &survey()).unwrap();
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
    let plan = make_plan("devel", TargetVersion::Exact(v("1.31")), opts(false), &s).unwrap();
    assert_eq!(plan.blockers.len(), 1);
    assert!(plan.blockers[0].contains("force"), "{:?}", plan.blockers);
    let forced = make_plan("devel", TargetVersion::Exact(v("1.31")), opts(true), &s).unwrap();
    assert!(forced.blockers.is_empty());
    assert!(forced.warnings[0].contains("overridden by force"));
    s.insights = vec![insight("WARNING")];
    let warned = make_plan("devel", TargetVersion::Exact(v("1.31")), opts(false), &s).unwrap();
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
    let plan = make_plan("devel", TargetVersion::Exact(v("1.33")), opts(false), &s).unwrap();
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
    let plan = make_plan("devel", TargetVersion::Exact(v("1.31")), opts(false), &s).unwrap();
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
    let plan = make_plan("devel", TargetVersion::Exact(v("1.31")), opts(false), &s).unwrap();
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

#[test]
fn gates_are_stored_as_their_phrase_and_an_unknown_phrase_is_kept() {
    for gate in Gate::ALL {
        let json = serde_json::to_value(&gate).unwrap();
        assert_eq!(json, serde_json::json!(gate.phrase()));
        assert_eq!(serde_json::from_value::<Gate>(json).unwrap(), gate);
    }
    let other: Gate = serde_json::from_value(serde_json::json!("a gate of a later version")).unwrap();
    assert_eq!(other, Gate::Other("a gate of a later version".into()));
    assert_eq!(
        serde_json::to_value(&other).unwrap(),
        serde_json::json!("a gate of a later version")
    );
}
