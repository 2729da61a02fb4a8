//! A rollout's clusters as their upgrade records show them, and starting one: its upgrade
//! record (keyed by the rollout, so a start happens once) with the cluster's lock, handed to a
//! new invocation of its own.

use crate::domain::eks::{policy, Action, Operation};
use crate::domain::event::rollout::RolloutRequest;
use crate::domain::rollout::advance::{ChildSeen, StartOutcome};
use crate::domain::rollout::{ClusterState, RolloutRecord};
use crate::domain::workflow::{RolloutConsent, ROLLOUT_CONSENT_GRACE_SECS};
use crate::domain::{ClusterId, EksFailure, FailureKind, TargetVersion, UpgradeRecord};
use crate::handler::{new_token, HandlerError};
use crate::ports::{Clock, Eks, Inserted, Ports, RecordStore, RolloutStore, SelfInvoker};
use tracing::{info, warn};

impl<P: Ports> crate::handler::Orchestrator<P> {
    /// What the upgrade records of the rollout's started clusters say.
    pub(super) async fn children(&self, rollout: &RolloutRecord) -> Result<Vec<(String, ChildSeen)>, HandlerError> {
        let child_id = rollout.child_request_id();
        let mut seen = Vec::new();
        let active = rollout
            .stages
            .iter()
            .flat_map(|s| s.clusters.iter())
            .filter(|c| c.state.is_active());
        for entry in active {
            let child = match self.store.get(&entry.name, &child_id).await? {
                None => ChildSeen::Missing,
                Some(record) if record.holds_cluster() => ChildSeen::Going { status: record.status },
                Some(record) => ChildSeen::Ended {
                    status: record.status,
                    message: record.message,
                },
            };
            seen.push((entry.name.clone(), child));
        }
        Ok(seen)
    }

    /// Starts the upgrade of one of the rollout's clusters, once.
    pub(super) async fn start_child(
        &self,
        rollout: &RolloutRecord,
        cluster: &str,
    ) -> Result<StartOutcome, HandlerError> {
        let Some((s, _)) = rollout.find(cluster) else {
            return Ok(StartOutcome::Refused("not in the rollout".into()));
        };
        let child_id = rollout.child_request_id();
        if self.store.get(cluster, &child_id).await?.is_some() {
            return Ok(StartOutcome::Started);
        }
        let target = TargetVersion::Exact(rollout.target_version);
        let request = match RolloutRequest::upgrade_for(&rollout.stages[s].options, cluster, target, &child_id) {
            Ok(request) => request,
            Err(e) => return Ok(StartOutcome::Refused(e.to_string())),
        };
        // Enrolled still? (It was when the rollout started.)
        match self.eks.describe_cluster(cluster).await {
            Ok(view) if !self.config.limits.admits(cluster, &view) => {
                return Ok(StartOutcome::Refused(self.config.limits.not_enrolled(cluster)));
            }
            Ok(_) => {}
            Err(e) => match policy(Operation::DescribeMember, &e) {
                Action::Gone => return Ok(StartOutcome::Refused(e.to_string())),
                // A member account that refuses the hub (its spoke role missing or not trusting
                // it, a region not enabled): a failure of the stage, which its budget counts, so
                // the other accounts go on.
                Action::Block | Action::Fail if ClusterId::parse(cluster).is_ok_and(|id| id.at.is_some()) => {
                    return Ok(StartOutcome::Refused(e.to_string()))
                }
                // The next tick looks again (and the failure budget bounds a cluster that
                // stays unreachable).
                Action::Retry | Action::WaitForOther | Action::Block | Action::Fail => {
                    return Ok(StartOutcome::Busy(format!("EKS did not answer ({e}); tried again")))
                }
            },
        }
        match self.hold(cluster, &child_id).await {
            Ok(()) => {}
            Err(HandlerError::ClusterBusy { holder, why, .. }) => {
                return Ok(StartOutcome::Busy(format!("held by upgrade {holder}, which {why}")));
            }
            Err(e) => return Err(e),
        }
        let mut fresh = UpgradeRecord::new(&request, rollout.target_version, new_token(), self.clock.now_secs());
        fresh.rollout = Some(rollout.key().map_err(HandlerError::Misconfigured)?);
        if let Inserted::Created = self.store.insert_new(&fresh).await? {
            info!(cluster, rollout = %rollout.name, request_id = %child_id, "rollout started a cluster's upgrade");
            // Its own chain of invocations; if the send fails, the sweep resumes it.
            if let Err(e) = self.hand_off(fresh).await {
                warn!(cluster, rollout = %rollout.name, error = %e, "the cluster's upgrade was not handed on; the sweep will");
            }
        }
        Ok(StartOutcome::Started)
    }

    /// What its rollout says to an upgrade of one of its clusters about to make its first
    /// change. A rollout that can't be read now is a fault (asked again); one that is gone gave
    /// the cluster up.
    pub(crate) async fn rollout_consent(&self, record: &UpgradeRecord) -> Result<RolloutConsent, EksFailure> {
        let Some(key) = record.rollout.as_ref() else {
            return Ok(RolloutConsent::Started);
        };
        match self.store.get_rollout(key.name.as_str(), key.request_id.as_str()).await {
            Ok(Some(rollout)) => {
                let consent = rollout.consent(&record.cluster);
                if let RolloutConsent::NotYet { since } = consent {
                    let waited = self.clock.now_secs() - since.unwrap_or(record.created_at);
                    if waited < ROLLOUT_CONSENT_GRACE_SECS {
                        return Ok(consent);
                    }
                    // The tick that started it died before writing RUNNING, or is about to:
                    // a tick now sees the upgrade's record and writes it (best effort; the
                    // sweep ticks too).
                    if let Err(e) = self.invoker.send_tick(&key.tick(None)).await {
                        warn!(cluster = %record.cluster, rollout = %key.name, error = %e, "rollout not ticked; the sweep will");
                    }
                }
                Ok(consent)
            }
            Ok(None) => Ok(RolloutConsent::GivenUp(format!(
                "its rollout {} is gone",
                key.name.as_str()
            ))),
            Err(e) => Err(EksFailure::new(
                FailureKind::Transient,
                "",
                format!("reading its rollout: {e}"),
            )),
        }
    }

    /// Tells a rollout that one of its clusters' upgrades ended (best effort: the sweep ticks
    /// every unfinished rollout too).
    pub(crate) async fn tell_rollout(&self, previous: &UpgradeRecord, written: &UpgradeRecord) {
        let Some(key) = written.rollout.as_ref() else { return };
        if !previous.holds_cluster() || written.holds_cluster() {
            return;
        }
        let cluster = ClusterId::parse(&written.cluster).ok();
        if let Err(e) = self.invoker.send_tick(&key.tick(cluster.as_ref())).await {
            warn!(cluster = %written.cluster, rollout = %key.name, error = %e, "rollout not told; the sweep will tick it");
        }
    }
}

/// Whether any cluster of the rollout is still to start.
pub(super) fn starting(rollout: &RolloutRecord) -> bool {
    rollout
        .stages
        .iter()
        .flat_map(|s| s.clusters.iter())
        .any(|c| c.state == ClusterState::Starting)
}
