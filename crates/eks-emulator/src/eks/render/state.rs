//! The admin API's `GET /_emulator/state`: every cluster as DescribeCluster shows it,
//! with its node groups, add-ons, updates (plus `target` and `endsAt`) and insights, and
//! the tables, faults and durations.

use serde::Serialize;
use serde_json::Value;

use super::cluster::{cluster_view, ClusterView};
use super::resources::{
    addon_view, insight_view, nodegroup_view, update_view, AddonView, InsightView, NodegroupView, UpdateView,
};
use super::shared::to_json;
use crate::faults::{Durations, Faults};
use crate::model::{ClusterDump, StateDump, Target, VersionInfo, ROLLBACK_WINDOW_SECS};
use crate::seed::{AddonCatalogEntry, SeedVersion};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StateView<'a> {
    account_id: &'a str,
    region: &'a str,
    now: f64,
    clusters: Vec<ClusterDumpView<'a>>,
    kubernetes_versions: Vec<SeedVersion>,
    addon_catalog: &'a [AddonCatalogEntry],
    faults: &'a Faults,
    durations: Durations,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClusterDumpView<'a> {
    #[serde(flatten)]
    cluster: ClusterView<'a>,
    nodegroups: Vec<NodegroupView<'a>>,
    addons: Vec<AddonView<'a>>,
    updates: Vec<UpdateDumpView<'a>>,
    insights: Vec<InsightView<'a>>,
    /// The in-place upgrade a rollback may undo (absent for a cluster created at its
    /// version or rolled back).
    #[serde(skip_serializing_if = "Option::is_none")]
    last_upgrade: Option<LastUpgradeView<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LastUpgradeView<'a> {
    from_version: &'a str,
    completed_at: f64,
    /// When the 7-day rollback window closes.
    rollback_until: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UpdateDumpView<'a> {
    #[serde(flatten)]
    update: UpdateView<'a>,
    target: TargetView<'a>,
    ends_at: f64,
    /// When the control plane starts changing (later than `createdAt` only for the node
    /// phase of an Auto Mode rollback).
    control_plane_at: f64,
}

/// What an update changes: `{"cluster": name}`, `{"nodegroup": name}` or `{"addon": name}`.
#[derive(Serialize)]
#[serde(rename_all = "lowercase")]
enum TargetView<'a> {
    Cluster(&'a str),
    Nodegroup(&'a str),
    Addon(&'a str),
}

fn cluster_dump_view<'a>(d: &'a ClusterDump<'a>) -> ClusterDumpView<'a> {
    let name = d.cluster.cluster.name.as_str();
    ClusterDumpView {
        cluster: cluster_view(&d.cluster),
        nodegroups: d.nodegroups.iter().map(nodegroup_view).collect(),
        addons: d.addons.iter().map(addon_view).collect(),
        updates: d
            .updates
            .iter()
            .map(|u| UpdateDumpView {
                update: update_view(u),
                target: match &u.target {
                    Target::Cluster => TargetView::Cluster(name),
                    Target::Nodegroup(n) => TargetView::Nodegroup(n),
                    Target::Addon(a) => TargetView::Addon(a),
                },
                ends_at: u.ends_at,
                control_plane_at: u.control_plane_at,
            })
            .collect(),
        insights: d.insights.iter().map(insight_view).collect(),
        last_upgrade: d.cluster.cluster.last_upgrade().map(|l| LastUpgradeView {
            from_version: &l.from_version,
            completed_at: l.at,
            rollback_until: l.at + ROLLBACK_WINDOW_SECS,
        }),
    }
}

/// The whole state for `GET /_emulator/state` (without the relay settings).
pub(crate) fn state(d: &StateDump) -> Value {
    to_json(StateView {
        account_id: d.account_id,
        region: d.region,
        now: d.now,
        clusters: d.clusters.iter().map(cluster_dump_view).collect(),
        kubernetes_versions: d.versions.iter().map(VersionInfo::to_seed).collect(),
        addon_catalog: d.catalog,
        faults: d.faults,
        durations: d.durations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_render_as_one_member_objects() {
        assert_eq!(
            to_json(TargetView::Nodegroup("ng-1")),
            serde_json::json!({"nodegroup": "ng-1"})
        );
        assert_eq!(
            to_json(TargetView::Cluster("demo")),
            serde_json::json!({"cluster": "demo"})
        );
    }
}
