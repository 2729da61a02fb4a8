//! The stored state of one upgrade request: one DynamoDB item per (cluster, request id).

pub mod lock;
mod notification;
pub mod outbox;
pub mod safety;

use super::eks::{EksUpdateError, LaunchTemplateRef};
use super::event::rollout::RolloutKey;
use super::event::{ClusterId, Continuation, OnVerifyFailure, RequestId, UpgradeRequest, VerifySpec};
use super::plan::{NodegroupLaunchTemplates, UpgradePlan};
use super::version::KubeVersion;
use super::window::{Exclusions, MaintenanceWindow};
use notification::Notification;
use safety::{Rollback, Verification};
use serde::{Deserialize, Serialize};

/// What an operator sees: where the upgrade stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UpgradeStatus {
    /// Accepted; no update of ours is running yet (checking the cluster, starting the update,
    /// or waiting for someone else's update to end).
    Pending,
    /// Our update (or an adopted one to the same version) is running; tracked by its id.
    InProgress,
    Succeeded,
    Failed,
    Cancelled,
    /// EKS refused for upgrade-readiness reasons; a new request with `force` reopens it.
    Blocked,
    /// The chain of invocations passed its bound; the sweep leaves it alone.
    TimedOut,
    /// Outside the maintenance window (or in an exclusion): parked until `waitUntil`, when the
    /// sweep wakes it. No invocation runs meanwhile.
    WaitingForWindow,
    /// The last hop is being rolled back (`rollback`): node groups, control plane, add-ons.
    RollingBack,
    /// The rollback ended: the cluster is back on the previous version.
    RolledBack,
    /// The rollback failed, with EKS's errors; the cluster is partly rolled back.
    RollbackFailed,
    /// A prerequisite or a ROLLBACK_READINESS insight stopped the rollback before anything was
    /// touched; the message says which.
    RollbackBlocked,
}

impl UpgradeStatus {
    pub fn is_terminal(self) -> bool {
        !matches!(
            self,
            Self::Pending | Self::InProgress | Self::WaitingForWindow | Self::RollingBack
        )
    }
}

/// What the workflow does next for a record that is not finished. Stored, so a resumed
/// invocation carries on from exactly here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Step {
    /// DescribeCluster: is it ACTIVE, and below the target?
    InspectCluster,
    /// UpdateClusterVersion with the stored token. Reaching this step again after a crash sends
    /// the same token, so EKS hands back the same update instead of starting another.
    StartUpdate,
    /// Read-only survey (versions, node groups, add-ons, insights) and the plan; the hop's gates.
    Preflight,
    /// The hop's add-on and node-group updates (`items`), one at a time.
    RunItems,
    /// EKS said another update is in progress: ListUpdates and DescribeUpdate to find it.
    FindUpdateInProgress,
    /// Someone else's update (`awaitedUpdateId`) must end before ours can start.
    AwaitOtherUpdate,
    /// DescribeUpdate on `updateId` until it ends.
    TrackUpdate,
    /// The hop's verification: health of the cluster, add-ons and node groups, and alarms,
    /// through the soak time.
    Verify,
    /// Read-only look at the rollback's prerequisites, then its items and token.
    RollbackPreflight,
    /// UpdateClusterVersion one minor down with the rollback's stored token.
    StartRollback,
    /// DescribeUpdate on the VersionRollback until it ends.
    TrackRollback,
    /// Nothing more to do.
    Done,
}

/// Why an add-on or node-group update is made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ItemPurpose {
    /// A hop of the upgrade.
    #[default]
    Upgrade,
    /// A rollback of the last hop (back to the version before it).
    Rollback,
}

/// What an add-on or node-group step changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ItemKind {
    Addon,
    Nodegroup,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ItemStatus {
    Planned,
    InProgress,
    Succeeded,
    /// The add-on or node group went away before its update started.
    Skipped,
    /// Its update ended Failed (EKS's errors in `errors`).
    Failed,
    /// Its update ended Cancelled.
    Cancelled,
    /// EKS refused it for a reason an operator can fix (access denied, a DEGRADED resource, a
    /// custom AMI): asked again when the blocked upgrade is checked again or requested again.
    Blocked,
}

impl ItemStatus {
    /// Its update ended badly: nothing new starts, the ones running are followed to their end.
    pub fn is_failure(self) -> bool {
        matches!(self, Self::Failed | Self::Cancelled | Self::Blocked)
    }
}

/// An add-on or node-group update of a hop, with its own clientRequestToken, written to the
/// record before the update is asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkItem {
    pub kind: ItemKind,
    pub name: String,
    /// The add-on version, or the node group's Kubernetes version, it goes to.
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The hop (Kubernetes version) the item belongs to.
    pub hop: KubeVersion,
    pub client_request_token: String,
    pub status: ItemStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<i64>,
    /// When its update was last described, while node groups update side by side: they are
    /// polled in turn, least recently first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub polled_at: Option<i64>,
    /// EKS said another update of it is in progress (409): the updates already running are
    /// described before it is asked again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deferred: bool,
    /// EKS's errors when its update ended Failed or Cancelled.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<EksUpdateError>,
    /// A custom-AMI node group goes to `version` by this launch template version (of its own
    /// template), not by `version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_template: Option<LaunchTemplateRef>,
    /// The launch template version it had before (to roll a custom-AMI node group back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_launch_template: Option<LaunchTemplateRef>,
    #[serde(default, skip_serializing_if = "is_upgrade")]
    pub purpose: ItemPurpose,
}

fn is_upgrade(purpose: &ItemPurpose) -> bool {
    *purpose == ItemPurpose::Upgrade
}

/// One line of the record's history: a status change and when it happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    pub at: i64,
    pub status: UpgradeStatus,
    pub note: String,
}

/// The value of `sweepBucket` while a record is resumable: the sparse index the sweep queries
/// holds exactly these records, ordered by heartbeat.
pub const RESUMABLE: &str = "RESUMABLE";

/// One upgrade request and everything needed to resume it. Times are epoch seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeRecord {
    /// Partition key.
    pub cluster: String,
    /// Sort key.
    pub request_id: String,
    /// The clientRequestToken sent with UpdateClusterVersion; written before the first call.
    pub client_request_token: String,
    pub status: UpgradeStatus,
    pub step: Step,
    pub target_version: KubeVersion,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_version: Option<KubeVersion>,
    pub force: bool,
    /// Node-group updates evict pods despite PodDisruptionBudgets (EKS's `force` on
    /// UpdateNodegroupVersion); only when the request says so.
    #[serde(default)]
    pub override_pod_disruption_budgets: bool,
    /// Launch template versions for custom-AMI node groups, by Kubernetes version.
    #[serde(default, skip_serializing_if = "NodegroupLaunchTemplates::is_empty")]
    pub nodegroup_launch_templates: NodegroupLaunchTemplates,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_id: Option<String>,
    /// True when the update tracked now was started by someone else and we track it for this
    /// request (our own update found again after a block is not adopted).
    #[serde(default)]
    pub adopted: bool,
    /// The hop whose control-plane update was adopted, if one was: a rollback of that hop is
    /// refused (EKS's own end-of-support upgrade is not rolled back), of any other hop not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adopted_hop: Option<KubeVersion>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awaited_update_id: Option<String>,
    /// Why the record is where it is, in words (EKS's message when it refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The last fault met (throttling, 5xx, access denied), kept for the operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(default)]
    pub eks_errors: Vec<EksUpdateError>,
    pub created_at: i64,
    /// When the current attempt began (creation, or a reopened BLOCKED request): the chain
    /// bound counts from here.
    pub attempt_started_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_started_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<i64>,
    pub updated_at: i64,
    /// Last time an invocation worked on the record; the sweep resumes stale ones.
    pub heartbeat_at: i64,
    /// Invocations of the current attempt, bounded by configuration.
    pub invocations: u32,
    /// Throttles, 5xx and other faults met so far; they delay, never fail, the upgrade.
    #[serde(default)]
    pub faults: u32,
    /// Optimistic lock: every write is conditional on the revision it read.
    pub revision: u64,
    /// The invocation working on the record, until `leaseUntil` (its deadline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_owner: Option<String>,
    #[serde(default)]
    pub lease_until: i64,
    /// The nonce of the continuation in flight; only the continuation carrying it may go on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handoff: Option<String>,
    /// `RESUMABLE` while the sweep may resume the record, absent otherwise (sparse index key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep_bucket: Option<String>,
    /// DynamoDB TTL attribute, set once the record is finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// Status changes with their times: the first few and the latest (see [`MAX_HISTORY`]).
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
    /// History entries dropped from the middle to keep the record small.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub history_dropped: u32,
    /// How often the sweep checked a BLOCKED upgrade again.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub rechecks: u32,
    /// When the upgrade first blocked (and has not gone on since): re-checks stop after
    /// `BLOCKED_GIVE_UP_AFTER_SECONDS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_since: Option<i64>,
    /// The reason the last "Blocked" notification gave: the same reason is not notified twice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_notice: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance_window: Option<MaintenanceWindow>,
    #[serde(default, skip_serializing_if = "no_exclusions")]
    pub exclusions: Exclusions,
    /// While WAITING_FOR_WINDOW: when the window next opens long enough.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_until: Option<i64>,
    /// Parked until then, with a wake-up arranged (an EventBridge Scheduler one-time schedule
    /// carrying the continuation `handoff` names): nothing runs meanwhile, and the sweep wakes
    /// the record only if that wake-up is overdue by `STALE_AFTER_SECONDS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wake_at: Option<i64>,
    /// The control plane's version as last seen (DescribeCluster, the survey, our update's
    /// success): an item of a later hop does not start before its control plane.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_plane_version: Option<KubeVersion>,
    /// The control-plane hop under way (its version); `clientRequestToken` is that hop's token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hop_version: Option<KubeVersion>,
    /// The ids of the control-plane updates done, one per hop.
    #[serde(default)]
    pub control_plane_updates: Vec<String>,
    /// Add-on and node-group updates, each with its token and state.
    #[serde(default)]
    pub items: Vec<WorkItem>,
    /// The latest plan (made at each hop's preflight), for the status query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<UpgradePlan>,
    /// Notifications written with the change that made them, not yet published.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outbox: Vec<Notification>,
    /// Notifications made so far (numbers their ids).
    #[serde(default)]
    pub notifications: u32,
    /// Notifications dropped from a full outbox (the bus refused them for a long time).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub notifications_dropped: u32,
    /// How many node groups update at once (from configuration, at each hop's preflight).
    #[serde(default = "one")]
    pub nodegroup_parallelism: u32,
    /// The request that took this finished upgrade's cluster: it can't be reopened any more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released_to: Option<String>,
    /// How each hop is verified (none: not verified).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<VerifySpec>,
    /// The request's `rollbackConfig.timeoutMinutes` for a rollback of its hops (none: EKS's
    /// default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_timeout_minutes: Option<u32>,
    #[serde(default)]
    pub on_verify_failure: OnVerifyFailure,
    /// The hop under verification (or the last verified), with its evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<Verification>,
    /// The hops verified, one verdict each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verified_hops: Vec<KubeVersion>,
    /// The version our last successful control-plane update reached (what a rollback undoes;
    /// a later hop that failed does not change it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hop_reached: Option<KubeVersion>,
    /// When our last control-plane update succeeded, as this function saw it (records written
    /// before `hopCreatedAt` count the 7 days from it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hop_finished_at: Option<i64>,
    /// EKS's `createdAt` of our last successful control-plane update: EKS's 7 days for a
    /// rollback run from its completion, by EKS's clock, and this is a safe, earlier bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hop_created_at: Option<i64>,
    /// The rollback of the last hop, once one began.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback: Option<Rollback>,
    /// The rollout this upgrade belongs to: told when it ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<RolloutKey>,
    /// Its rollout showed it started (RUNNING) before its first change: a rollout that gave the
    /// cluster up meanwhile (a skip, a stop) is never crossed by a late start.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rollout_started: bool,
}

fn one() -> u32 {
    1
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The most history entries a record keeps: the first [`HISTORY_HEAD`] and the latest ones.
pub const MAX_HISTORY: usize = 40;
/// The first entries of the history, always kept (the request, its first steps).
pub const HISTORY_HEAD: usize = 5;
/// The most notifications waiting in the outbox; older ones are dropped (and counted).
pub const MAX_OUTBOX: usize = 50;
/// The most bytes of notifications waiting in the outbox, likewise.
pub const MAX_OUTBOX_BYTES: usize = 64 * 1024;

fn no_exclusions(exclusions: &Exclusions) -> bool {
    exclusions.is_empty()
}

impl UpgradeRecord {
    /// Where EKS's 7 days for rolling back the last hop are counted from: EKS's `createdAt` of
    /// its update (a safe, earlier bound of its completion), or, in a record written before that
    /// was kept, when this function saw it succeed.
    pub fn rollback_window_start(&self) -> Option<i64> {
        self.hop_created_at.or(self.hop_finished_at)
    }

    /// A new PENDING record. `token` must be unique to this request (a UUID v4).
    pub fn new(request: &UpgradeRequest, target_version: KubeVersion, token: String, now: i64) -> Self {
        Self {
            cluster: request.cluster.key(),
            request_id: request.request_id().as_str().to_owned(),
            client_request_token: token,
            status: UpgradeStatus::Pending,
            step: Step::InspectCluster,
            target_version,
            from_version: None,
            force: request.force,
            override_pod_disruption_budgets: request.override_pod_disruption_budgets,
            nodegroup_launch_templates: request.nodegroup_launch_templates.clone(),
            update_id: None,
            adopted: false,
            adopted_hop: None,
            awaited_update_id: None,
            message: None,
            last_error: None,
            eks_errors: Vec::new(),
            created_at: now,
            attempt_started_at: now,
            update_started_at: None,
            finished_at: None,
            updated_at: now,
            heartbeat_at: now,
            invocations: 0,
            faults: 0,
            revision: 0,
            lease_owner: None,
            lease_until: 0,
            handoff: None,
            sweep_bucket: Some(RESUMABLE.to_owned()),
            expires_at: None,
            maintenance_window: request.maintenance_window.clone(),
            exclusions: request.exclusions.clone(),
            wait_until: None,
            wake_at: None,
            hop_version: None,
            control_plane_version: None,
            control_plane_updates: Vec::new(),
            items: Vec::new(),
            plan: None,
            outbox: Vec::new(),
            notifications: 0,
            notifications_dropped: 0,
            released_to: None,
            history_dropped: 0,
            rechecks: 0,
            blocked_since: None,
            blocked_notice: None,
            verify: request.verify.clone(),
            rollback_timeout_minutes: request.rollback_config.map(|c| c.timeout_minutes),
            on_verify_failure: request.on_verify_failure,
            verification: None,
            verified_hops: Vec::new(),
            hop_reached: None,
            hop_finished_at: None,
            hop_created_at: None,
            rollback: None,
            rollout: None,
            rollout_started: false,
            nodegroup_parallelism: 1,
            history: vec![HistoryEntry {
                at: now,
                status: UpgradeStatus::Pending,
                note: format!("upgrade to {target_version} requested"),
            }],
        }
    }

    pub fn is_finished(&self) -> bool {
        self.status.is_terminal()
    }

    /// Whether it still holds its cluster: unfinished, or BLOCKED and checked again by the
    /// sweep (it may go on by itself).
    pub fn holds_cluster(&self) -> bool {
        !self.is_finished() || self.sweep_bucket.is_some()
    }

    /// The continuation that hands this record on, named by `handoff`.
    pub fn continuation(&self, handoff: String) -> Result<Continuation, String> {
        let invalid = |e: String| format!("stored record has an invalid key: {e}");
        Ok(Continuation {
            cluster: ClusterId::parse(&self.cluster).map_err(invalid)?,
            request_id: RequestId::parse(&self.request_id).map_err(invalid)?,
            handoff,
        })
    }
}
