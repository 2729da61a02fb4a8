//! What a record asks EKS next, and what EKS answered, paired by type: each [`Call`] variant is
//! answered by the [`Answer`] variant of the same name, which goes to the function of the step
//! that asked. The driver makes the call ([`next_call`]) and hands the answer to
//! [`super::reconcile`]; an answer that does not answer the record's call changes nothing.

use super::rollback::timeout_minutes;
use super::work::{item_to_poll, next_startable};
use crate::domain::eks::{
    ClusterView, EksFailure, LaunchTemplateRef, Operation, RollbackSurvey, Survey, UpdateView, VerifyEvidence,
};
use crate::domain::record::{ItemKind, Step, UpgradeRecord};
use crate::domain::version::KubeVersion;

/// The EKS call a record's step asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// `InspectCluster`: DescribeCluster. Is it ACTIVE, and below the target?
    DescribeCluster,
    /// `Preflight`: read-only survey (versions offered, node groups, add-ons and their
    /// versions, insights, and the alarms `verify` names).
    Survey { alarms: Vec<String> },
    /// `StartUpdate`: UpdateClusterVersion with the hop's stored token.
    UpdateClusterVersion {
        version: KubeVersion,
        token: String,
        force: bool,
    },
    /// `FindUpdateInProgress`: ListUpdates, then DescribeUpdate on each; the ones in progress.
    FindUpdatesInProgress,
    /// `AwaitOtherUpdate`: DescribeUpdate on someone else's update.
    DescribeOtherUpdate { update_id: String },
    /// `TrackUpdate`: DescribeUpdate on our control-plane update.
    DescribeUpdate { update_id: String },
    /// `RunItems`: UpdateAddon or UpdateNodegroupVersion with the item's token; a custom-AMI
    /// node group by `launch_template` (its version), never by `version`.
    StartItem {
        kind: ItemKind,
        name: String,
        version: String,
        launch_template: Option<LaunchTemplateRef>,
        token: String,
        force: bool,
    },
    /// `RunItems`: DescribeUpdate with the add-on's or node group's name.
    DescribeItemUpdate {
        kind: ItemKind,
        name: String,
        update_id: String,
    },
    /// `Verify`: DescribeCluster, the node groups and add-ons, and the named CloudWatch alarms.
    Verify { alarms: Vec<String> },
    /// `RollbackPreflight`: read-only look at the rollback's prerequisites.
    RollbackSurvey,
    /// `StartRollback`: UpdateClusterVersion one minor down with the rollback's stored token.
    StartRollback {
        version: KubeVersion,
        token: String,
        force: bool,
        /// `rollbackConfig.timeoutMinutes`.
        timeout_minutes: u32,
    },
    /// `TrackRollback`: DescribeUpdate on the VersionRollback.
    DescribeRollback { update_id: String },
    /// Before the first change of a rollout's upgrade (any step): does its rollout show the
    /// cluster started? (A read of the rollout's record, not of EKS.)
    ConfirmRolloutStart,
}

/// What a rollout's record says of one of its upgrades about to make its first change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RolloutConsent {
    /// The rollout shows the cluster started (RUNNING): go on.
    Started,
    /// Not yet (STARTING, WAITING): the tick that started it writes RUNNING next. `since`:
    /// when the rollout recorded the start.
    NotYet { since: Option<i64> },
    /// The rollout gave the cluster up (skipped, not started by a stop or cancel) or is gone:
    /// nothing may change.
    GivenUp(String),
}

/// What EKS answered to a [`Call`]: the variant of the same name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    DescribeCluster(Result<ClusterView, EksFailure>),
    Survey(Result<Survey, EksFailure>),
    UpdateClusterVersion(Result<UpdateView, EksFailure>),
    FindUpdatesInProgress(Result<Vec<UpdateView>, EksFailure>),
    DescribeOtherUpdate(Result<UpdateView, EksFailure>),
    DescribeUpdate(Result<UpdateView, EksFailure>),
    StartItem(Result<UpdateView, EksFailure>),
    DescribeItemUpdate(Result<UpdateView, EksFailure>),
    Verify(Result<VerifyEvidence, EksFailure>),
    RollbackSurvey(Result<RollbackSurvey, EksFailure>),
    StartRollback(Result<UpdateView, EksFailure>),
    DescribeRollback(Result<UpdateView, EksFailure>),
    ConfirmRolloutStart(Result<RolloutConsent, EksFailure>),
}

impl Call {
    /// The EKS operation's name, for logs and crash points.
    pub fn name(&self) -> &'static str {
        match self {
            Self::DescribeCluster => "DescribeCluster",
            Self::Survey { .. } => "Survey",
            Self::UpdateClusterVersion { .. } => "UpdateClusterVersion",
            Self::FindUpdatesInProgress => "FindUpdatesInProgress",
            Self::DescribeOtherUpdate { .. } | Self::DescribeUpdate { .. } => "DescribeUpdate",
            Self::StartItem {
                kind: ItemKind::Addon, ..
            } => "UpdateAddon",
            Self::StartItem {
                kind: ItemKind::Nodegroup,
                ..
            } => "UpdateNodegroupVersion",
            Self::DescribeItemUpdate { .. } => "DescribeItemUpdate",
            Self::Verify { .. } => "Verify",
            Self::RollbackSurvey => "RollbackSurvey",
            Self::StartRollback { .. } => "UpdateClusterVersion(rollback)",
            Self::DescribeRollback { .. } => "DescribeUpdate(rollback)",
            Self::ConfirmRolloutStart => "ConfirmRolloutStart",
        }
    }
}

impl Answer {
    /// Whether this is the answer to `call`.
    pub fn answers(&self, call: &Call) -> bool {
        matches!(
            (call, self),
            (Call::DescribeCluster, Answer::DescribeCluster(_))
                | (Call::Survey { .. }, Answer::Survey(_))
                | (Call::UpdateClusterVersion { .. }, Answer::UpdateClusterVersion(_))
                | (Call::FindUpdatesInProgress, Answer::FindUpdatesInProgress(_))
                | (Call::DescribeOtherUpdate { .. }, Answer::DescribeOtherUpdate(_))
                | (Call::DescribeUpdate { .. }, Answer::DescribeUpdate(_))
                | (Call::StartItem { .. }, Answer::StartItem(_))
                | (Call::DescribeItemUpdate { .. }, Answer::DescribeItemUpdate(_))
                | (Call::Verify { .. }, Answer::Verify(_))
                | (Call::RollbackSurvey, Answer::RollbackSurvey(_))
                | (Call::StartRollback { .. }, Answer::StartRollback(_))
                | (Call::DescribeRollback { .. }, Answer::DescribeRollback(_))
                | (Call::ConfirmRolloutStart, Answer::ConfirmRolloutStart(_))
        )
    }

    /// The operation this answers (`item`: the kind of the item being started, for `StartItem`).
    pub fn operation(&self, item: ItemKind) -> Operation {
        match self {
            Self::DescribeCluster(_) => Operation::DescribeCluster,
            Self::Survey(_) => Operation::Survey,
            Self::UpdateClusterVersion(_) => Operation::UpdateClusterVersion,
            Self::FindUpdatesInProgress(_) => Operation::ListUpdates,
            Self::DescribeOtherUpdate(_) => Operation::DescribeOtherUpdate,
            Self::DescribeUpdate(_) => Operation::DescribeUpdate,
            Self::StartItem(_) => item_operation(item),
            Self::DescribeItemUpdate(_) => Operation::DescribeItemUpdate,
            Self::Verify(_) => Operation::Verify,
            Self::RollbackSurvey(_) => Operation::RollbackSurvey,
            Self::StartRollback(_) => Operation::RollBackClusterVersion,
            Self::DescribeRollback(_) => Operation::DescribeRollback,
            Self::ConfirmRolloutStart(_) => Operation::ReadRollout,
        }
    }

    /// The failure EKS answered with, if it did.
    pub fn failure(&self) -> Option<&EksFailure> {
        match self {
            Self::DescribeCluster(Err(e))
            | Self::Survey(Err(e))
            | Self::UpdateClusterVersion(Err(e))
            | Self::FindUpdatesInProgress(Err(e))
            | Self::DescribeOtherUpdate(Err(e))
            | Self::DescribeUpdate(Err(e))
            | Self::StartItem(Err(e))
            | Self::DescribeItemUpdate(Err(e))
            | Self::Verify(Err(e))
            | Self::RollbackSurvey(Err(e))
            | Self::StartRollback(Err(e))
            | Self::DescribeRollback(Err(e))
            | Self::ConfirmRolloutStart(Err(e)) => Some(e),
            _ => None,
        }
    }
}

/// The call the record's step asks for; `None` once finished. A rollout's upgrade first asks
/// its rollout whether it was started, before anything else (so one the rollout gave up frees
/// its cluster at once) and surely before its first change.
pub fn next_call(record: &UpgradeRecord) -> Option<Call> {
    let call = step_call(record)?;
    if record.rollout.is_some() && !record.rollout_started && !made_changes(record) {
        return Some(Call::ConfirmRolloutStart);
    }
    Some(call)
}

/// Whether the record shows a change it asked EKS for (a record written before rollouts'
/// upgrades asked first is not stopped half-way by the question).
fn made_changes(record: &UpgradeRecord) -> bool {
    record.update_id.is_some()
        || !record.control_plane_updates.is_empty()
        || record.rollback.is_some()
        || record.items.iter().any(|i| i.update_id.is_some())
}

fn step_call(record: &UpgradeRecord) -> Option<Call> {
    if record.is_finished() {
        return None;
    }
    match record.step {
        Step::InspectCluster => Some(Call::DescribeCluster),
        Step::Preflight => Some(Call::Survey {
            alarms: verify_alarms(record),
        }),
        Step::StartUpdate => Some(Call::UpdateClusterVersion {
            version: record.hop_version.unwrap_or(record.target_version),
            token: record.client_request_token.clone(),
            force: record.force,
        }),
        Step::FindUpdateInProgress => Some(Call::FindUpdatesInProgress),
        // Without an id to follow (a record edited by hand), look at the cluster again.
        Step::AwaitOtherUpdate => Some(match &record.awaited_update_id {
            Some(id) => Call::DescribeOtherUpdate { update_id: id.clone() },
            None => Call::DescribeCluster,
        }),
        Step::TrackUpdate => Some(match &record.update_id {
            Some(id) => Call::DescribeUpdate { update_id: id.clone() },
            None => Call::DescribeCluster,
        }),
        Step::RunItems => item_call(record),
        Step::Verify => Some(Call::Verify {
            alarms: verify_alarms(record),
        }),
        Step::RollbackPreflight => Some(Call::RollbackSurvey),
        Step::StartRollback | Step::TrackRollback => rollback_call(record),
        Step::Done => None,
    }
}

fn verify_alarms(record: &UpgradeRecord) -> Vec<String> {
    record.verify.as_ref().map(|v| v.alarms.clone()).unwrap_or_default()
}

fn rollback_call(record: &UpgradeRecord) -> Option<Call> {
    let rollback = record.rollback.as_ref()?;
    Some(match (&rollback.update_id, record.step) {
        (Some(id), Step::TrackRollback) => Call::DescribeRollback { update_id: id.clone() },
        _ => Call::StartRollback {
            version: rollback.to,
            token: rollback.client_request_token.clone(),
            force: rollback.force,
            timeout_minutes: timeout_minutes(rollback),
        },
    })
}

fn item_call(record: &UpgradeRecord) -> Option<Call> {
    if let Some(item) = next_startable(record) {
        return Some(Call::StartItem {
            kind: item.kind,
            name: item.name.clone(),
            version: item.version.clone(),
            launch_template: item.launch_template.clone(),
            token: item.client_request_token.clone(),
            // EKS's force on a node group ignores PodDisruptionBudgets: only when the request
            // asks for that explicitly, never because it forces past readiness insights.
            force: item.kind == ItemKind::Nodegroup && record.override_pod_disruption_budgets,
        });
    }
    let item = &record.items[item_to_poll(record)?];
    Some(Call::DescribeItemUpdate {
        kind: item.kind,
        name: item.name.clone(),
        update_id: item.update_id.clone().unwrap_or_default(),
    })
}

/// The operation that starts an item's update.
pub(super) fn item_operation(kind: ItemKind) -> Operation {
    match kind {
        ItemKind::Addon => Operation::UpdateAddon,
        ItemKind::Nodegroup => Operation::UpdateNodegroupVersion,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::workflow::testing::*;

    fn rollout_child(step: Step) -> UpgradeRecord {
        let mut r = record_at(step);
        r.rollout = Some(crate::domain::event::rollout::RolloutKey {
            name: crate::domain::event::rollout::Name::parse("fleet").unwrap(),
            request_id: RequestId::parse("to-1.31").unwrap(),
        });
        r
    }

    #[test]
    fn a_rollouts_upgrade_asks_its_rollout_first_unless_it_changed_something_already() {
        // Before anything: its rollout may have given the cluster up.
        let r = rollout_child(Step::InspectCluster);
        assert_eq!(next_call(&r), Some(Call::ConfirmRolloutStart));
        let r = rollout_child(Step::StartUpdate);
        assert_eq!(next_call(&r), Some(Call::ConfirmRolloutStart));
        // Shown RUNNING once: it goes on, and never asks again.
        let mut started = rollout_child(Step::StartUpdate);
        started.rollout_started = true;
        assert!(matches!(next_call(&started), Some(Call::UpdateClusterVersion { .. })));
        // A record written before the question existed, with a change made: not stopped
        // half-way by it.
        let in_flight = rollout_child(Step::TrackUpdate);
        assert_eq!(
            next_call(&in_flight),
            Some(Call::DescribeUpdate {
                update_id: "u-ours".into()
            })
        );
    }

    #[test]
    fn a_rollouts_upgrade_given_up_ends_cancelled_having_changed_nothing() {
        let r = rollout_child(Step::StartUpdate);
        let t = step(
            &r,
            Answer::ConfirmRolloutStart(Ok(RolloutConsent::GivenUp("rollout fleet shows it Skipped".into()))),
        );
        assert_eq!((t.record.status, t.next), (UpgradeStatus::Cancelled, Next::Stop));
        assert!(!t.record.holds_cluster(), "the cluster is free");
        assert!(t.record.message.unwrap().contains("rollout fleet shows it Skipped"));
        let t = step(&r, Answer::ConfirmRolloutStart(Ok(RolloutConsent::Started)));
        assert!(t.record.rollout_started);
        assert_eq!(t.next, Next::Now);
    }
    #[test]
    fn next_call_follows_the_step() {
        assert_eq!(next_call(&record_at(Step::InspectCluster)), Some(Call::DescribeCluster));
        assert_eq!(
            next_call(&record_at(Step::StartUpdate)),
            Some(Call::UpdateClusterVersion {
                version: KubeVersion::new(1, 31),
                token: "token-0000-0000-0000-0000-000000000000".into(),
                force: false
            })
        );
        assert_eq!(
            next_call(&record_at(Step::FindUpdateInProgress)),
            Some(Call::FindUpdatesInProgress)
        );
        assert_eq!(
            next_call(&record_at(Step::AwaitOtherUpdate)),
            Some(Call::DescribeOtherUpdate {
                update_id: "u-other".into()
            })
        );
        assert_eq!(
            next_call(&record_at(Step::TrackUpdate)),
            Some(Call::DescribeUpdate {
                update_id: "u-ours".into()
            })
        );
        assert_eq!(next_call(&record_at(Step::Done)), None);
        let mut finished = record_at(Step::TrackUpdate);
        finished.status = UpgradeStatus::Succeeded;
        assert_eq!(next_call(&finished), None);
    }
}
