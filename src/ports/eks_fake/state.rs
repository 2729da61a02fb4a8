//! What the fake EKS holds, and what an update's end changes in it.

use super::refusals;
use super::update::FakeUpdate;
use crate::domain::eks::{AddonVersionOption, AddonView, InsightView, NodegroupView, OfferedVersion};
use crate::domain::{EksFailure, EksUpdateError, KubeVersion, UpdateState, UpdateView};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

#[derive(Debug, Default)]
pub struct FakeEksState {
    /// Where each catalogue call (DescribeClusterVersions, DescribeAddonVersions) was asked:
    /// `account/region`, or `home`.
    pub catalogue_asked_at: Vec<String>,
    /// Accounts whose spoke role can't be assumed, and what assuming it answers.
    pub unreachable: HashMap<String, EksFailure>,
    /// Cluster key (a name here, an ARN in another account or region) to (status, version).
    pub clusters: HashMap<String, (String, KubeVersion)>,
    pub updates: BTreeMap<String, FakeUpdate>,
    /// Clusters whose upgrade insights block an update unless `force` is set.
    pub blocking_insights: Vec<String>,
    /// DescribeUpdate calls an update of ours takes before it ends.
    pub update_polls: u32,
    /// How the next update of ours ends, with which errors.
    pub next_outcome: Option<(UpdateState, Vec<EksUpdateError>)>,
    /// Failures to answer with, in order, before any call is served.
    pub faults: VecDeque<EksFailure>,
    pub calls: Vec<String>,
    pub update_cluster_version_calls: usize,
    pub next_id: usize,
    /// What the survey calls answer (DescribeClusterVersions offers 1.28 to 1.36 when empty).
    pub offered: Vec<OfferedVersion>,
    /// What DescribeClusterVersions answers in a member's region instead, by region.
    pub offered_in: std::collections::BTreeMap<String, Vec<OfferedVersion>>,
    pub nodegroups: Vec<NodegroupView>,
    pub addons: Vec<AddonView>,
    pub addon_catalog: Vec<(String, Vec<AddonVersionOption>)>,
    pub insights: Vec<InsightView>,
    /// Clusters without the enrollment tag (every other cluster carries it).
    pub unenrolled: Vec<String>,
    /// UpdateClusterVersion answers this (once) instead of starting an update.
    pub update_refusal: Option<EksFailure>,
    /// UpdateAddon / UpdateNodegroupVersion of the named add-on or node group answer this
    /// (until removed) instead of starting an update.
    pub item_refusals: HashMap<String, EksFailure>,
    /// The cluster's `health.issues`.
    pub cluster_health: Vec<crate::domain::eks::HealthIssue>,
    /// How the named add-on's or node group's next update ends, with which errors.
    pub item_outcomes: HashMap<String, (UpdateState, Vec<EksUpdateError>)>,
    /// DescribeUpdate calls the named add-on's or node group's update takes (else
    /// `update_polls`).
    pub item_polls: HashMap<String, u32>,
    /// Answer ResourceInUse this many times to an update of the named add-on or node group.
    pub item_busy: HashMap<String, u32>,
    /// Every UpdateNodegroupVersion accepted: (node group, `version:<v>` or
    /// `launchTemplate:<version>`).
    pub nodegroup_targets: Vec<(String, String)>,
    /// Cluster name to the version its last in-place upgrade came from (set when one of
    /// ours succeeds): UpdateClusterVersion back to it is a VersionRollback.
    pub upgraded_from: HashMap<String, KubeVersion>,
    /// Tags of each cluster, besides the enrollment tag.
    pub cluster_tags: HashMap<String, BTreeMap<String, String>>,
    /// The `rollbackConfig.timeoutMinutes` of each rollback call.
    pub rollback_timeouts: Vec<u32>,
    /// The clusters' `upgradePolicy.supportType` (none: EXTENDED, EKS's default).
    pub support_type: Option<String>,
    /// `upgradePolicy.supportType` of one cluster, over `support_type`.
    pub support_types: std::collections::BTreeMap<String, String>,
    /// EKS's clock (epoch seconds), when a test sets it: new updates' `createdAt`.
    pub now: Option<i64>,
    /// DescribeCluster of these clusters waits until the test notifies (once each): a slow
    /// caller, for interleavings.
    pub describe_gates: HashMap<String, Arc<tokio::sync::Notify>>,
    /// Ids ListUpdates lists first that DescribeUpdate no longer finds (gone between the two).
    pub vanished_updates: Vec<String>,
}

impl FakeEksState {
    /// DescribeUpdate: one poll of the update, and, as it ends, what it changed (the add-on's or
    /// node group's version; the cluster's status and version, once).
    pub(super) fn describe_update(&mut self, cluster: &str, update_id: &str) -> Result<UpdateView, EksFailure> {
        let missing = || {
            refusals::failure(eks_rules::Refusal {
                code: eks_rules::Code::ResourceNotFound,
                message: eks_rules::messages::update_not_found(update_id),
            })
        };
        let update = self
            .updates
            .get_mut(update_id)
            .filter(|u| u.cluster == cluster)
            .ok_or_else(missing)?;
        let was_running = update.state == UpdateState::InProgress;
        if was_running {
            if update.polls_left == 0 {
                update.state = update.outcome.clone();
            } else {
                update.polls_left -= 1;
            }
        }
        let mut view = update.view();
        if view.state == UpdateState::InProgress {
            // EKS shows an update's errors once it has ended.
            view.errors.clear();
            return Ok(view);
        }
        let update = update.clone();
        match &update.target {
            Some(item) if update.state == UpdateState::Successful => self.item_updated(&update, item),
            Some(_) => {}
            None => self.cluster_update_ended(&update, was_running),
        }
        Ok(view)
    }

    /// A successful add-on or node-group update: the item is at its new version.
    fn item_updated(&mut self, update: &FakeUpdate, item: &str) {
        let Some(version) = &update.version else { return };
        match update.kind.as_str() {
            "AddonUpdate" => {
                if let Some(a) = self.addons.iter_mut().find(|a| a.name == item) {
                    a.version = version.clone();
                }
            }
            "VersionUpdate" => {
                if let Some(n) = self.nodegroups.iter_mut().find(|n| n.name == item) {
                    n.version = version.parse().ok();
                }
            }
            _ => {}
        }
    }

    /// A control-plane update that ended: the cluster is ACTIVE again, and its version changes
    /// once, as the update ends (it is described again later).
    fn cluster_update_ended(&mut self, update: &FakeUpdate, was_running: bool) {
        let Some(c) = self.clusters.get_mut(&update.cluster) else {
            return;
        };
        c.0 = "ACTIVE".to_owned();
        let to: Option<KubeVersion> = update.version.as_deref().and_then(|v| v.parse().ok());
        match (
            was_running && update.state == UpdateState::Successful,
            update.kind.as_str(),
            to,
        ) {
            (true, "VersionUpdate", Some(v)) => {
                let from = c.1;
                c.1 = v;
                self.upgraded_from.insert(update.cluster.clone(), from);
            }
            (true, "VersionRollback", Some(v)) => {
                c.1 = v;
                self.upgraded_from.remove(&update.cluster);
            }
            _ => {}
        }
    }
}
