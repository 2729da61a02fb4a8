//! Read-only calls that several steps make together: the updates in progress, the survey a plan
//! is made from, a verification's evidence, a rollback's prerequisites.

use crate::domain::eks::{
    policy, Action, AddonVersionOption, AddonView, AlarmView, ClusterView, EksFailure, FailureKind, InsightCategory,
    InsightView, NodegroupView, OfferedVersion, Operation, RollbackSurvey, Survey, VerifyEvidence,
};
use crate::domain::plan::unknown_alarm;
use crate::domain::{ClusterId, Location};
use crate::domain::{InvalidEvent, UpdateState, UpdateView};
use crate::handler::HandlerError;
use crate::ports::{Alarms, Eks, Ports};
use futures_util::future::join_all;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;
use tracing::warn;

/// DescribeUpdate calls made at once when looking for the updates in progress.
const DESCRIBES_AT_ONCE: usize = 8;

impl<P: Ports> super::Orchestrator<P> {
    /// The cluster's updates in progress. EKS documents no order for ListUpdates, so every id
    /// of every page is described (a few at once), not only the first ones.
    pub(super) async fn updates_in_progress(&self, cluster: &str) -> Result<Vec<UpdateView>, EksFailure> {
        let ids = self.eks.list_updates(cluster).await?;
        let mut running = Vec::new();
        for chunk in ids.chunks(DESCRIBES_AT_ONCE) {
            let mut calls = Vec::with_capacity(chunk.len());
            for id in chunk {
                calls.push(self.eks.describe_update(cluster, id));
            }
            for update in join_all(calls).await {
                match update {
                    Ok(update) if update.state == UpdateState::InProgress => running.push(update),
                    Ok(_) => {}
                    // Listed, then gone (EKS keeps no update forever): not in progress.
                    Err(e) if policy(Operation::ListUpdates, &e) == Action::Gone => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(running)
    }

    /// Everything a plan is made from, by read-only calls. The cluster first: a cluster that is
    /// gone answers NotFound; a node group or add-on gone between its listing and its
    /// description is a fault (looked at again later).
    pub(super) async fn survey(&self, cluster: &str, alarms: &[String]) -> Result<Survey, EksFailure> {
        self.survey_cached(cluster, alarms, &SurveyCache::default()).await
    }

    /// The same, with what is the same for every cluster (the versions EKS offers, each add-on's
    /// versions) taken from `cache` once asked.
    pub(crate) async fn survey_cached(
        &self,
        cluster: &str,
        alarms: &[String],
        cache: &SurveyCache,
    ) -> Result<Survey, EksFailure> {
        let parts = self
            .cluster_parts(cluster, InsightCategory::UpgradeReadiness, cache)
            .await?;
        Ok(Survey {
            cluster: parts.cluster,
            versions: parts.versions,
            nodegroups: parts.nodegroups,
            addons: parts.addons,
            addon_versions: parts.addon_versions,
            insights: parts.insights,
            alarms: self.named_alarms(located(cluster).as_ref(), alarms).await?,
        })
    }

    /// What an upgrade's and a rollback's surveys both read, in one place: the cluster first (a
    /// cluster that is gone answers NotFound), its add-ons with their versions, the versions
    /// EKS offers, its node groups, and the insights of `category`.
    async fn cluster_parts(
        &self,
        cluster: &str,
        category: InsightCategory,
        cache: &SurveyCache,
    ) -> Result<ClusterParts, EksFailure> {
        let cluster_view = self.eks.describe_cluster(cluster).await?;
        let addons = self.eks.addons(cluster).await.map_err(vanished)?;
        // The catalogue of the cluster's own account and region.
        let at = located(cluster);
        let addon_versions = self.addon_versions(at.as_ref(), &addons, cache).await?;
        let versions = cache
            .versions(&at)
            .get_or_try_init(|| self.eks.describe_cluster_versions(at.as_ref()))
            .await?
            .clone();
        Ok(ClusterParts {
            cluster: cluster_view,
            versions,
            nodegroups: self.eks.nodegroups(cluster).await.map_err(vanished)?,
            addons,
            addon_versions,
            insights: self.eks.insights(cluster, category).await?,
        })
    }

    /// Each installed add-on's versions (DescribeAddonVersions), once per add-on per `cache`.
    async fn addon_versions(
        &self,
        at: Option<&Location>,
        addons: &[AddonView],
        cache: &SurveyCache,
    ) -> Result<Vec<(String, Vec<AddonVersionOption>)>, EksFailure> {
        let mut all = Vec::new();
        for addon in addons {
            let cell = cache.addon(at, &addon.name);
            let versions = cell
                .get_or_try_init(|| self.eks.addon_versions(at, &addon.name))
                .await?;
            all.push((addon.name.clone(), versions.clone()));
        }
        Ok(all)
    }

    /// Each named alarm with what CloudWatch says of it at `at` (`None`: it has no metric
    /// alarm of that name there).
    pub(super) async fn named_alarms(
        &self,
        at: Option<&Location>,
        names: &[String],
    ) -> Result<Vec<(String, Option<AlarmView>)>, EksFailure> {
        let seen = self.alarms.describe(at, names).await?;
        Ok(names
            .iter()
            .map(|name| (name.clone(), seen.iter().find(|a| &a.name == name).cloned()))
            .collect())
    }

    /// Refuses (naming `field[i]`) the first of `names` CloudWatch has no metric alarm of: a
    /// mistyped name, or a composite alarm, which the function's scoped permission can't read.
    /// Refuses too (naming `field`, with AWS's message) when they can never be read there: the
    /// permission missing (a spoke stack without it), no spoke role for that account. If
    /// CloudWatch can't answer now, nothing is refused: each hop's preflight reads them again.
    pub(super) async fn refuse_unknown_alarms(
        &self,
        at: Option<&Location>,
        names: &[String],
        field: &str,
    ) -> Result<(), HandlerError> {
        if names.is_empty() {
            return Ok(());
        }
        let seen = match self.named_alarms(at, names).await {
            Ok(seen) => seen,
            Err(e) if e.kind == FailureKind::Transient => return Ok(()),
            Err(e) => {
                warn!("refused: the alarms can't be read: {e}");
                return Err(InvalidEvent {
                    field: field.to_owned(),
                    problem: format!("the alarms can't be read where the cluster is: {e}"),
                }
                .into());
            }
        };
        match seen.iter().position(|(_, alarm)| alarm.is_none()) {
            None => Ok(()),
            Some(i) => {
                let problem = unknown_alarm(&names[i]);
                warn!("refused: {problem}");
                Err(InvalidEvent {
                    field: format!("{field}[{i}]"),
                    problem,
                }
                .into())
            }
        }
    }

    /// A hop's verification: the cluster, its node groups and add-ons, and the named alarms.
    pub(super) async fn verify_evidence(&self, cluster: &str, alarms: &[String]) -> Result<VerifyEvidence, EksFailure> {
        Ok(VerifyEvidence {
            cluster: self.eks.describe_cluster(cluster).await?,
            nodegroups: self.eks.nodegroups(cluster).await.map_err(vanished)?,
            addons: self.eks.addons(cluster).await.map_err(vanished)?,
            alarms: self.alarms.describe(located(cluster).as_ref(), alarms).await?,
        })
    }

    /// What a rollback's prerequisites are checked on: the cluster, the versions EKS offers,
    /// the updates in progress, the ROLLBACK_READINESS insights, the node groups, and the
    /// versions of the add-ons that may go back.
    pub(super) async fn rollback_survey(&self, cluster: &str) -> Result<RollbackSurvey, EksFailure> {
        let parts = self
            .cluster_parts(cluster, InsightCategory::RollbackReadiness, &SurveyCache::default())
            .await?;
        Ok(RollbackSurvey {
            cluster: parts.cluster,
            versions: parts.versions,
            updates_in_progress: self.updates_in_progress(cluster).await?,
            insights: parts.insights,
            nodegroups: parts.nodegroups,
            addons: parts.addons,
            addon_versions: parts.addon_versions,
        })
    }
}

/// What both surveys read of a cluster.
struct ClusterParts {
    cluster: ClusterView,
    versions: Vec<OfferedVersion>,
    nodegroups: Vec<NodegroupView>,
    addons: Vec<AddonView>,
    addon_versions: Vec<(String, Vec<AddonVersionOption>)>,
    insights: Vec<InsightView>,
}

/// What is the same for every cluster of a survey in one account and region, asked once per
/// invocation that surveys many (a fleet's dry run, clusters side by side): the versions EKS
/// offers, and each add-on's versions. A failed ask is not kept: the next survey asks again.
#[derive(Debug, Default)]
pub(crate) struct SurveyCache {
    versions: Mutex<HashMap<Option<Location>, Asked<OfferedVersion>>>,
    addons: Mutex<HashMap<AddonAt, Asked<AddonVersionOption>>>,
}

/// An add-on in an account and region.
type AddonAt = (Option<Location>, String);

/// An answer asked for once, by whichever survey needs it first.
type Asked<T> = Arc<OnceCell<Vec<T>>>;

impl SurveyCache {
    fn versions(&self, at: &Option<Location>) -> Asked<OfferedVersion> {
        let mut versions = self.versions.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        versions.entry(at.clone()).or_default().clone()
    }

    fn addon(&self, at: Option<&Location>, name: &str) -> Asked<AddonVersionOption> {
        let mut addons = self.addons.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        addons.entry((at.cloned(), name.to_owned())).or_default().clone()
    }
}

/// A node group or add-on gone between its listing and its description: a fault, looked at
/// again later (a cluster that is gone answers NotFound to DescribeCluster first).
fn vanished(e: EksFailure) -> EksFailure {
    match policy(Operation::DescribeSurveyedItem, &e) {
        Action::Retry => EksFailure::new(FailureKind::Transient, e.code, e.message),
        Action::WaitForOther | Action::Gone | Action::Block | Action::Fail => e,
    }
}

/// Where the cluster of a record's key lives (`None`: the function's own account and region).
fn located(cluster: &str) -> Option<Location> {
    ClusterId::parse(cluster).ok().and_then(|id| id.at)
}
