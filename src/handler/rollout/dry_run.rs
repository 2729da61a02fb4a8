//! A rollout's dry run: the plan each cluster's own upgrade would make, with the stage's
//! options. A fleet's clusters are surveyed a few at a time, and what is the same for every
//! cluster (the versions EKS offers, each add-on's versions) is asked once: a 1,000-cluster dry
//! run answers well within one invocation (BENCHMARKS.md).

use super::reply::{DryRunCluster, DryRunStage, RolloutDryRunReply, UnreachableLocation};
use crate::domain::event::rollout::RolloutRequest;
use crate::domain::plan::{make_plan, PlanOptions};
use crate::domain::rollout::assign::Unreachable;
use crate::domain::rollout::{ClusterEntry, ClusterState, RolloutRecord, StageState};
use crate::domain::{ClusterId, TargetVersion};
use crate::handler::gather::SurveyCache;
use crate::ports::Ports;
use futures_util::future::join_all;

/// Clusters surveyed at once.
const SURVEYS_AT_ONCE: usize = 16;

impl<P: Ports> crate::handler::Orchestrator<P> {
    /// Each stage's clusters with their plans; read-only.
    pub(super) async fn rollout_dry_run(
        &self,
        rollout: &RolloutRecord,
        unreachable: &[Unreachable],
    ) -> RolloutDryRunReply {
        let cache = SurveyCache::default();
        let mut stages = Vec::new();
        for stage in &rollout.stages {
            let mut clusters = Vec::new();
            for chunk in stage.clusters.chunks(SURVEYS_AT_ONCE) {
                let mut plans = Vec::with_capacity(chunk.len());
                for entry in chunk {
                    plans.push(self.planned(rollout, stage, entry, &cache));
                }
                clusters.extend(join_all(plans).await);
            }
            stages.push(DryRunStage {
                name: stage.name.clone(),
                max_concurrent: stage.max_concurrent,
                max_concurrent_per_account: stage.max_concurrent_per_account,
                soak_minutes: stage.soak_minutes,
                failure_budget: stage.failure_budget,
                approval: stage.approval,
                clusters,
            });
        }
        RolloutDryRunReply {
            dry_run: true,
            rollout: rollout.name.clone(),
            request_id: rollout.request_id.clone(),
            target_version: rollout.target_version,
            stages,
            not_enrolled: rollout.not_enrolled.clone(),
            left_out: rollout.left_out.clone(),
            unreachable: unreachable
                .iter()
                .map(|u| UnreachableLocation {
                    account: u.at.account.as_str().to_owned(),
                    region: u.at.region.as_str().to_owned(),
                    error: u.message.clone(),
                })
                .collect(),
            outcome: "planned only: nothing was changed in EKS or in the table".into(),
        }
    }

    /// The plan the cluster's own upgrade would make: the stage's options, as the start reads
    /// them.
    async fn planned(
        &self,
        rollout: &RolloutRecord,
        stage: &StageState,
        entry: &ClusterEntry,
        cache: &SurveyCache,
    ) -> DryRunCluster {
        let mut planned = self.plan_of(rollout, stage, entry, cache).await;
        // (An unreachable location's entry is no cluster: its label says where.)
        if let Ok(id) = ClusterId::parse(&entry.name) {
            if let Some(at) = id.at.as_ref().or(self.config.home.as_ref()) {
                planned.account = Some(at.account.as_str().to_owned());
                planned.region = Some(at.region.as_str().to_owned());
            }
        }
        planned
    }

    async fn plan_of(
        &self,
        rollout: &RolloutRecord,
        stage: &StageState,
        entry: &ClusterEntry,
        cache: &SurveyCache,
    ) -> DryRunCluster {
        if entry.state == ClusterState::Failed {
            // An account or region discovery could not reach: why, as the rollout keeps it.
            return DryRunCluster::failed(&entry.name, entry.note.clone().unwrap_or_default());
        }
        let target = TargetVersion::Exact(rollout.target_version);
        let upgrade =
            match RolloutRequest::upgrade_for(&stage.options, &entry.name, target, &rollout.child_request_id()) {
                Ok(upgrade) => upgrade,
                Err(e) => return DryRunCluster::failed(&entry.name, e.to_string()),
            };
        let alarms = upgrade.verify.as_ref().map(|v| v.alarms.clone()).unwrap_or_default();
        let survey = match self.survey_cached(&entry.name, &alarms, cache).await {
            Ok(survey) => survey,
            Err(e) => return DryRunCluster::failed(&entry.name, e.to_string()),
        };
        let options = PlanOptions {
            force: upgrade.force,
            launch_templates: &upgrade.nodegroup_launch_templates,
        };
        make_plan(&entry.name, target, options, &survey)
            .map(|plan| DryRunCluster::planned(&entry.name, &plan))
            .unwrap_or_else(|e| DryRunCluster::failed(&entry.name, e.0))
    }
}
