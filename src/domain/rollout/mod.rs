//! A fleet rollout: one target version taken through ordered stages of clusters, each cluster
//! upgraded by a child upgrade record (the upgrade workflow, unchanged, keyed by the rollout),
//! at most `maxConcurrent` at once, with a soak after each stage, a failure budget, and an
//! optional approval before a stage starts. No I/O here.
//!
//! - [`assign`]: the clusters discovered (ListClusters, their tags) put in their stages;
//! - [`advance`]: what the children's records say, and what starts next (a pure tick);
//! - [`controls`]: pause, resume, cancel, approve, skip;
//! - [`commit`]: the one place the revision, timestamps, history and outbox are set.
//!
//! The record lives in the upgrades table under the partition `rollout#<name>` (no cluster
//! name has a `#`), sort key its request id; `sweepBucket` `ROLLOUT` while unfinished.

pub mod advance;
pub mod assign;
pub mod commit;
pub mod controls;

#[cfg(test)]
mod tests;

use crate::domain::event::rollout::{Name, RolloutKey};
use crate::domain::event::RequestId;
use crate::domain::record::outbox::Notification;
use crate::domain::version::{KubeVersion, TargetVersion};
use crate::domain::workflow::RolloutConsent;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `sweepBucket` of an unfinished rollout: the sweep's index holds it beside resumable upgrades.
pub const ROLLOUT_BUCKET: &str = "ROLLOUT";
/// History entries kept (the first few and the latest).
pub const MAX_HISTORY: usize = 40;
pub(crate) const HISTORY_HEAD: usize = 5;
/// Failed or waiting clusters keep a note (EKS's error, who holds the cluster) up to this
/// many characters, and only this many notes in all: the record stays small.
pub const NOTE_CHARS: usize = 200;
pub const MAX_NOTES: usize = 100;

/// The partition key of a rollout's record.
pub fn partition(name: &str) -> String {
    format!("rollout#{name}")
}

/// The request id of the upgrade a rollout makes for one of its clusters.
pub fn child_request_id(name: &str, request_id: &str) -> String {
    format!("rollout:{name}:{request_id}")
}

/// Where a rollout stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RolloutStatus {
    Running,
    /// Nothing new starts until `resume`; running upgrades go on.
    Paused,
    /// A stage's failures passed its budget: nothing new starts; running upgrades finish.
    Stopping,
    /// Cancelled: nothing new starts; running upgrades finish.
    Cancelling,
    Succeeded,
    /// Ended by failures past a budget, naming the failed clusters.
    Stopped,
    Cancelled,
}

impl RolloutStatus {
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Succeeded | Self::Stopped | Self::Cancelled)
    }
}

/// Where a stage stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StageStatus {
    /// A stage before it, not yet done.
    Waiting,
    /// Its turn, waiting for `approve`.
    AwaitingApproval,
    Running,
    /// All its clusters ended; waiting `soakMinutes` before the next stage.
    Soaking,
    Succeeded,
    /// The rollout stopped or was cancelled before or during it.
    Stopped,
}

/// Where one cluster stands in its stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ClusterState {
    Pending,
    /// Recorded as started; its upgrade record is being created (a crash here: it is created
    /// at the next tick, once).
    Starting,
    /// Held by another upgrade: started when that one ends.
    Waiting,
    Running,
    Succeeded,
    Failed,
    Skipped,
}

impl ClusterState {
    /// Taking one of the stage's `maxConcurrent` places.
    pub fn is_active(self) -> bool {
        matches!(self, Self::Starting | Self::Waiting | Self::Running)
    }

    pub fn is_over(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Skipped)
    }
}

/// One cluster of a stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterEntry {
    pub name: String,
    pub state: ClusterState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<i64>,
    /// Why it failed, waits or was skipped (bounded, see [`NOTE_CHARS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One stage and its clusters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StageState {
    pub name: String,
    pub status: StageStatus,
    pub max_concurrent: u32,
    /// At most this many of its clusters upgrading at once in one account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrent_per_account: Option<u32>,
    pub soak_minutes: u32,
    pub failure_budget: u32,
    pub approval: bool,
    #[serde(default)]
    pub approved: bool,
    /// The options its clusters' upgrades get (the rollout's, the stage's over them).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub options: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<i64>,
    /// When the soak ends (once its clusters all ended).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soak_until: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<i64>,
    pub clusters: Vec<ClusterEntry>,
}

impl StageState {
    pub fn count(&self, state: ClusterState) -> usize {
        self.clusters.iter().filter(|c| c.state == state).count()
    }

    pub fn active(&self) -> usize {
        self.clusters.iter().filter(|c| c.state.is_active()).count()
    }

    /// Failures past the budget.
    pub fn over_budget(&self) -> bool {
        self.count(ClusterState::Failed) > self.failure_budget as usize
    }
}

/// A line of the rollout's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutHistory {
    pub at: i64,
    pub note: String,
}

/// A rollout and everything needed to drive it. Times are epoch seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutRecord {
    /// The table's partition key: `rollout#<name>`.
    pub cluster: String,
    pub request_id: String,
    pub name: String,
    /// As requested (`latest`, or a version).
    pub requested: TargetVersion,
    /// Resolved once, at the start: every stage gets this version.
    pub target_version: KubeVersion,
    pub status: RolloutStatus,
    /// The rollout's own options (each stage keeps its merged ones).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub options: Map<String, Value>,
    pub stages: Vec<StageState>,
    /// Clusters the stages' tags matched that are not enrolled: left out.
    #[serde(default)]
    pub not_enrolled: Vec<String>,
    /// Clusters the tags selected but EKS cannot upgrade (FAILED, DELETING), with their status.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default)]
    pub history: Vec<RolloutHistory>,
    #[serde(default)]
    pub history_dropped: u32,
    #[serde(default)]
    pub outbox: Vec<Notification>,
    #[serde(default)]
    pub notifications: u32,
    /// Notes dropped once [`MAX_NOTES`] were kept.
    #[serde(default)]
    pub notes_dropped: u32,
    pub created_at: i64,
    pub updated_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<i64>,
    /// TTL, once finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// `ROLLOUT` while unfinished: the sweep ticks it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep_bucket: Option<String>,
    /// The sweep's index sorts on it.
    pub heartbeat_at: i64,
    /// Optimistic lock: every write is conditional on the revision read.
    pub revision: u64,
    /// Looks taken at the children so far.
    #[serde(default)]
    pub ticks: u64,
    /// The function's own account when the rollout was made (HOME_ACCOUNT_ID): its clusters
    /// keyed by bare name count in that account for `maxConcurrentPerAccount`, with those of
    /// its other regions (keyed by ARN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_account: Option<String>,
}

impl RolloutRecord {
    /// What this rollout says to `cluster`'s upgrade about to make its first change. The
    /// rollout's revision orders it against a skip or a stop: only a cluster the rollout wrote
    /// RUNNING may change anything, and a RUNNING cluster is never skipped or given up.
    pub fn consent(&self, cluster: &str) -> RolloutConsent {
        let Some((s, c)) = self.find(cluster) else {
            return RolloutConsent::GivenUp(format!(
                "cluster {cluster} is in none of rollout {}'s stages",
                self.name
            ));
        };
        let entry = &self.stages[s].clusters[c];
        match entry.state {
            // Only RUNNING: a cluster the rollout counted already (SUCCEEDED, FAILED) is not
            // started again behind its back.
            ClusterState::Running => RolloutConsent::Started,
            ClusterState::Starting | ClusterState::Waiting if !self.is_finished() => RolloutConsent::NotYet {
                since: entry.started_at,
            },
            state => RolloutConsent::GivenUp(format!(
                "rollout {} shows it {state:?}{}",
                self.name,
                entry.note.as_deref().map(|n| format!(" ({n})")).unwrap_or_default()
            )),
        }
    }

    pub fn key(&self) -> Result<RolloutKey, String> {
        Ok(RolloutKey {
            name: Name::parse(&self.name)?,
            request_id: RequestId::parse(&self.request_id)?,
        })
    }

    pub fn is_finished(&self) -> bool {
        self.status.is_terminal()
    }

    /// The stage whose turn it is (none once every stage is over).
    pub fn current_stage(&self) -> Option<usize> {
        self.stages
            .iter()
            .position(|s| !matches!(s.status, StageStatus::Succeeded | StageStatus::Stopped))
    }

    pub fn child_request_id(&self) -> String {
        child_request_id(&self.name, &self.request_id)
    }

    /// The stage and place of a cluster.
    pub fn find(&self, cluster: &str) -> Option<(usize, usize)> {
        self.stages
            .iter()
            .enumerate()
            .find_map(|(s, stage)| stage.clusters.iter().position(|c| c.name == cluster).map(|c| (s, c)))
    }
}
