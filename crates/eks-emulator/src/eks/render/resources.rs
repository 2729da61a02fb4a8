//! The JSON of node groups, add-ons, add-on versions, updates and insights.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::faults::UpdateErrorDetail;
use crate::model::{
    AddonOut, AddonStatus, AddonVersions, Cancellation, Insight, InsightCategory, InsightStatus, LaunchTemplate,
    NodegroupOut, NodegroupStatus, Page, Update, UpdateParamType, UpdateStatus, UpdateType,
};
use crate::seed::ScalingConfig;

use super::shared::{health, page, wrap, Health};

// ---------------------------------------------------------------- node groups

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct NodegroupView<'a> {
    nodegroup_name: &'a str,
    nodegroup_arn: &'a str,
    cluster_name: &'a str,
    version: &'a str,
    release_version: &'a str,
    created_at: f64,
    modified_at: f64,
    status: &'a NodegroupStatus,
    capacity_type: &'a str,
    scaling_config: ScalingConfig,
    instance_types: &'a [String],
    subnets: &'a [String],
    ami_type: &'a str,
    node_role: &'a str,
    labels: &'a BTreeMap<String, String>,
    resources: ResourcesView<'a>,
    disk_size: i64,
    health: Health<'a>,
    update_config: UpdateConfigView,
    #[serde(skip_serializing_if = "Option::is_none")]
    launch_template: Option<LaunchTemplateView<'a>>,
    tags: &'a BTreeMap<String, String>,
}

/// The model's LaunchTemplateSpecification (no `name` when only the id is known).
#[derive(Serialize)]
struct LaunchTemplateView<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    version: &'a str,
    id: &'a str,
}

fn launch_template_view(lt: &LaunchTemplate) -> LaunchTemplateView<'_> {
    LaunchTemplateView {
        name: lt.name.as_deref(),
        version: &lt.version,
        id: &lt.id,
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResourcesView<'a> {
    auto_scaling_groups: [AsgView<'a>; 1],
}

#[derive(Serialize)]
struct AsgView<'a> {
    name: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UpdateConfigView {
    max_unavailable: u32,
}

pub(super) fn nodegroup_view<'a>(out: &'a NodegroupOut<'a>) -> NodegroupView<'a> {
    let ng = out.nodegroup;
    NodegroupView {
        nodegroup_name: &ng.name,
        nodegroup_arn: &ng.arn,
        cluster_name: out.cluster,
        version: &ng.version,
        release_version: &ng.release_version,
        created_at: ng.created_at,
        modified_at: ng.modified_at,
        status: &out.status,
        capacity_type: &ng.capacity_type,
        scaling_config: ng.scaling,
        instance_types: &ng.instance_types,
        subnets: &ng.subnets,
        ami_type: &ng.ami_type,
        node_role: &ng.node_role,
        labels: &ng.labels,
        resources: ResourcesView {
            auto_scaling_groups: [AsgView { name: &ng.asg }],
        },
        disk_size: ng.disk_size,
        health: health(&ng.health),
        update_config: UpdateConfigView { max_unavailable: 1 },
        launch_template: ng.launch_template.as_ref().map(launch_template_view),
        tags: &ng.tags,
    }
}

/// `{"nodegroup": ...}`.
pub(crate) fn nodegroup(out: &NodegroupOut) -> Value {
    wrap("nodegroup", nodegroup_view(out))
}

// ---------------------------------------------------------------- add-ons

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct AddonView<'a> {
    addon_name: &'a str,
    cluster_name: &'a str,
    status: &'a AddonStatus,
    addon_version: &'a str,
    health: Health<'a>,
    addon_arn: &'a str,
    created_at: f64,
    modified_at: f64,
    tags: &'a BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    configuration_values: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_account_role_arn: Option<&'a str>,
}

pub(super) fn addon_view<'a>(out: &'a AddonOut<'a>) -> AddonView<'a> {
    let a = out.addon;
    AddonView {
        addon_name: &a.name,
        cluster_name: out.cluster,
        status: &out.status,
        addon_version: &a.version,
        health: health(&a.health),
        addon_arn: &a.arn,
        created_at: a.created_at,
        modified_at: a.modified_at,
        tags: &a.tags,
        configuration_values: a.configuration_values.as_deref(),
        service_account_role_arn: a.service_account_role_arn.as_deref(),
    }
}

/// `{"addon": ...}`.
pub(crate) fn addon(out: &AddonOut) -> Value {
    wrap("addon", addon_view(out))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AddonInfoView<'a> {
    addon_name: &'a str,
    #[serde(rename = "type")]
    addon_type: &'a str,
    addon_versions: Vec<AddonVersionView<'a>>,
    publisher: &'a str,
    owner: &'a str,
    default_namespace: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AddonVersionView<'a> {
    addon_version: &'a str,
    architecture: [&'static str; 2],
    compute_types: [&'static str; 3],
    compatibilities: Vec<CompatibilityView<'a>>,
    requires_configuration: bool,
    requires_iam_permissions: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CompatibilityView<'a> {
    cluster_version: &'a str,
    platform_versions: [&'static str; 1],
    default_version: bool,
}

fn addon_info_view<'a>(a: &'a AddonVersions<'a>) -> AddonInfoView<'a> {
    AddonInfoView {
        addon_name: a.name,
        addon_type: &a.addon_type,
        addon_versions: a
            .versions
            .iter()
            .map(|v| AddonVersionView {
                addon_version: v.version,
                architecture: ["amd64", "arm64"],
                compute_types: ["ec2", "auto", "hybrid"],
                compatibilities: v
                    .compatibilities
                    .iter()
                    .map(|c| CompatibilityView {
                        cluster_version: c.cluster_version,
                        platform_versions: ["*"],
                        default_version: c.default_version,
                    })
                    .collect(),
                requires_configuration: false,
                requires_iam_permissions: v.requires_iam_permissions,
            })
            .collect(),
        publisher: &a.publisher,
        owner: &a.owner,
        default_namespace: "kube-system",
    }
}

/// DescribeAddonVersions: `{"addons": [...], "nextToken": ...}`.
pub(crate) fn addon_versions(p: Page<AddonVersions>) -> Value {
    let Page { items, next_token } = p;
    let items: Vec<AddonInfoView> = items.iter().map(addon_info_view).collect();
    page("addons", Page { items, next_token })
}

// ---------------------------------------------------------------- updates

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UpdateView<'a> {
    id: &'a str,
    status: UpdateStatus,
    #[serde(rename = "type")]
    kind: UpdateType,
    params: Vec<ParamView<'a>>,
    created_at: f64,
    errors: Vec<ErrorView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cancellation: Option<CancellationView<'a>>,
}

#[derive(Serialize)]
struct ParamView<'a> {
    #[serde(rename = "type")]
    kind: UpdateParamType,
    value: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorView<'a> {
    error_code: &'a str,
    error_message: &'a str,
    resource_ids: &'a [String],
}

#[derive(Serialize)]
struct CancellationView<'a> {
    status: UpdateStatus,
    reason: &'a str,
}

pub(super) fn update_view(u: &Update) -> UpdateView<'_> {
    UpdateView {
        id: &u.id,
        status: u.status,
        kind: u.kind,
        params: u
            .params
            .iter()
            .map(|p| ParamView {
                kind: p.kind,
                value: &p.value,
            })
            .collect(),
        created_at: u.created_at,
        errors: u.errors.iter().map(error_view).collect(),
        cancellation: u
            .cancellation
            .as_ref()
            .map(|Cancellation { status, reason }| CancellationView {
                status: *status,
                reason,
            }),
    }
}

fn error_view(e: &UpdateErrorDetail) -> ErrorView<'_> {
    ErrorView {
        error_code: &e.error_code,
        error_message: &e.error_message,
        resource_ids: &e.resource_ids,
    }
}

/// `{"update": ...}`.
pub(crate) fn update(u: &Update) -> Value {
    wrap("update", update_view(u))
}

// ---------------------------------------------------------------- insights

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct InsightView<'a> {
    id: &'a str,
    name: &'a str,
    category: InsightCategory,
    kubernetes_version: &'a str,
    last_refresh_time: f64,
    last_transition_time: f64,
    description: &'a str,
    insight_status: InsightStatusView<'a>,
}

#[derive(Serialize)]
struct InsightStatusView<'a> {
    status: InsightStatus,
    reason: &'a str,
}

pub(super) fn insight_view(i: &Insight) -> InsightView<'_> {
    InsightView {
        id: &i.id,
        name: &i.name,
        category: i.category,
        kubernetes_version: &i.kubernetes_version,
        last_refresh_time: i.last_refresh,
        last_transition_time: i.last_transition,
        description: &i.description,
        insight_status: InsightStatusView {
            status: i.status,
            reason: &i.reason,
        },
    }
}

/// ListInsights: `{"insights": [...], "nextToken": ...}`.
pub(crate) fn insights(p: Page<Insight>) -> Value {
    let Page { items, next_token } = p;
    let items: Vec<InsightView> = items.iter().map(insight_view).collect();
    page("insights", Page { items, next_token })
}
