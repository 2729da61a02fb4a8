//! What the function answers, one typed reply per kind of event. Serialized as the JSON the
//! README documents (untagged: each kind has its own fields).

use crate::domain::plan::UpgradePlan;
use crate::domain::record::safety::{AddonBack, Check, Rollback, Verification};
use crate::domain::{KubeVersion, UpgradeRecord, UpgradeStatus};
use crate::ports::Unreadable;
use serde::Serialize;

/// The answer to any event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Reply {
    /// An upgrade request or a continuation.
    Upgrade(Summary),
    /// A continuation for no stored upgrade.
    Ignored(Ignored),
    Status(StatusReply),
    Sweep(SweepReply),
    DryRun(Box<DryRunReply>),
    RollbackDryRun(Box<RollbackDryRunReply>),
    Rollout(Box<super::rollout::reply::RolloutReply>),
    RolloutDryRun(Box<super::rollout::reply::RolloutDryRunReply>),
    FleetReport(Box<super::fleet::FleetReportReply>),
}

/// What an upgrade request or a continuation answers: the record's state and what this
/// invocation did about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub cluster: String,
    pub request_id: String,
    pub status: UpgradeStatus,
    pub target_version: KubeVersion,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_version: Option<KubeVersion>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_id: Option<String>,
    pub client_request_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The last hop's verification, with its evidence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<Box<Verification>>,
    /// The rollback of the last hop, once one began.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollback: Option<Box<Rollback>>,
    /// What this invocation did.
    pub outcome: String,
}

impl Summary {
    pub fn of(record: &UpgradeRecord, outcome: impl Into<String>) -> Self {
        Self {
            cluster: record.cluster.clone(),
            request_id: record.request_id.clone(),
            status: record.status,
            target_version: record.target_version,
            from_version: record.from_version,
            update_id: record.update_id.clone(),
            client_request_token: record.client_request_token.clone(),
            message: record.message.clone(),
            verification: record.verification.clone().map(Box::new),
            rollback: record.rollback.clone().map(Box::new),
            outcome: outcome.into(),
        }
    }
}

/// A continuation that names no stored upgrade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ignored {
    pub cluster: String,
    pub request_id: String,
    pub outcome: String,
}

/// The status query: the stored records, as they are.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusReply {
    pub cluster: String,
    pub records: Vec<UpgradeRecord>,
    /// Stored items that do not decode (another build's, or edited by hand): skipped.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<Unreadable>,
}

/// A record named by its key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordKey {
    pub cluster: String,
    pub request_id: String,
}

impl RecordKey {
    pub fn of(record: &UpgradeRecord) -> Self {
        Self {
            cluster: record.cluster.clone(),
            request_id: record.request_id.clone(),
        }
    }
}

/// The sweep: how many records it looked at, which it resumed, which it could not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SweepReply {
    pub checked: usize,
    pub resumed: Vec<RecordKey>,
    pub failed: Vec<RecordKey>,
    /// Records that do not decode: skipped, so they can't stop the others.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<Unreadable>,
    /// The unfinished rollouts sent a tick (`name/requestId`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rollouts_ticked: Vec<String>,
}

/// A dry run: the plan, and nothing changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DryRunReply {
    pub dry_run: bool,
    pub enrolled: bool,
    pub plan: UpgradePlan,
    pub window: WindowState,
    pub outcome: String,
}

/// The maintenance window as a dry run sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WindowState {
    /// The window, described; none: any time.
    pub window: Option<String>,
    pub open_now: bool,
    /// When a hop could next start (epoch seconds); none within the search horizon.
    pub next_opening: Option<i64>,
}

/// A rollback's dry run: what would be rolled back, and whether the prerequisites hold.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RollbackDryRunReply {
    pub dry_run: bool,
    pub cluster: String,
    pub request_id: String,
    pub from: KubeVersion,
    pub to: KubeVersion,
    /// Whether every prerequisite holds (a rollback would start now).
    pub would_start: bool,
    pub prerequisites: Vec<Check>,
    /// The node groups that would go back first.
    pub nodegroups: Vec<String>,
    /// The add-ons that would go back after the control plane.
    pub addons_back: Vec<AddonBack>,
    /// What would be left as it is, and why.
    pub notes: Vec<String>,
    pub outcome: String,
}
