//! The admin API's `GET /_emulator/state`: every cluster as DescribeCluster shows it,
//! with its node groups, add-ons, updates (plus `target` and `endsAt`) and insights, and
//! the tables, faults and durations.

use serde::Serialize;
use serde_json::Value;

use super::{
    addon_view, cluster_view, insight_view, nodegroup_view, to_json, update_view, AddonView, ClusterView, InsightView,
    NodegroupView, UpdateView,
};
use crate::faults::{Durations, Faults};
use crate::model::{ClusterDump, StateDump, Target, VersionInfo};
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
struct ClusterDumpView<'a> {
    #[serde(flatten)]
    cluster: ClusterView<'a>,
    nodegroups: Vec<NodegroupView<'a>>,
    addons: Vec<AddonView<'a>>,
    updates: Vec<UpdateDumpView<'a>>,
    insights: Vec<InsightView<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UpdateDumpView<'a> {
    #[serde(flatten)]
    update: UpdateView<'a>,
    target: TargetView<'a>,
    ends_at: f64,
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
            })
            .collect(),
        insights: d.insights.iter().map(insight_view).collect(),
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
