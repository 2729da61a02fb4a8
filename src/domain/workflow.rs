//! The upgrade workflow as a state machine, with no I/O.
//!
//! A record says which EKS call comes next ([`next_call`]); the driver makes the call and hands
//! what EKS answered to [`reconcile`], which returns the new record and when to go on. The
//! driver writes the new record (conditionally on its revision) *before* it makes the next call,
//! so whatever the function knew before a call is on disk when the call goes out: a crash at any
//! point resumes from the stored step with the stored token.
//!
//! The rest handles ownership of a record by one invocation at a time: [`claim`] (a lease until
//! the invocation's deadline), [`hand_off`] (a continuation in flight, named by a nonce),
//! [`release`], [`reopen`] for a BLOCKED request sent again, and [`is_stale`] for the sweep.
//!
//! ```text
//!  InspectCluster ──ACTIVE, below target──▶ StartUpdate ──update──▶ TrackUpdate ──Successful──▶ SUCCEEDED
//!     │  at/past target: SUCCEEDED (no-op)     │  InvalidParameter: FAILED  │  Failed: FAILED
//!     │  UPDATING ──────────┐                  │  InvalidState: BLOCKED     │  Cancelled: CANCELLED
//!     │  not found: FAILED  ▼                  │  NotFound: FAILED
//!     │            FindUpdateInProgress ◀──────┘  ResourceInUse
//!     │              │ VersionUpdate to our target: adopt ──▶ TrackUpdate
//!     │              │ another update: AwaitOtherUpdate ──it ended──▶ InspectCluster
//!  faults (throttling, 5xx, ...) at any step: stay, retry after the poll interval
//!  past the chain bound (time or invocations): TIMED_OUT
//! ```

use super::eks::{ClusterView, EksFailure, FailureKind, Survey, UpdateState, UpdateView};
use super::event::UpgradeRequest;
use super::plan::{make_plan, TargetVersion};
use super::record::{HistoryEntry, Step, UpgradeRecord, UpgradeStatus, RESUMABLE};
use super::record::{ItemKind, ItemStatus, WorkItem};
use super::version::KubeVersion;
use super::window::{self, Decision};

/// Bounds and pacing, from configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Seconds between two DescribeUpdate calls (and between retries after a fault).
    pub poll_interval_secs: i64,
    /// An attempt older than this ends TIMED_OUT.
    pub max_attempt_secs: i64,
    /// An attempt that took more invocations than this ends TIMED_OUT.
    pub max_invocations: u32,
    /// A finished record expires (DynamoDB TTL) this long after it finished.
    pub retention_secs: i64,
    /// The sweep resumes an unfinished record whose heartbeat is older than this.
    pub stale_after_secs: i64,
    /// How long a control-plane hop is assumed to take: it starts only if the maintenance window
    /// has that long left.
    pub hop_estimate_secs: i64,
    /// A BLOCKED upgrade is checked again by the sweep this long after it blocked (0: never;
    /// only a new request then).
    pub blocked_recheck_secs: i64,
    /// How many managed node groups update at once.
    pub nodegroup_parallelism: u32,
    /// Clusters opt in: the tag `<enrollment_tag>=true` on the cluster ...
    pub enrollment_tag: String,
    /// ... or their name in this list.
    pub allowed_clusters: Vec<String>,
}

/// The tag that enrolls a cluster, unless configured otherwise (`ENROLLMENT_TAG`).
pub const DEFAULT_ENROLLMENT_TAG: &str = "upgrade-orchestrator/enabled";

impl Limits {
    /// Whether the cluster opted in to upgrades by this function.
    pub fn admits(&self, name: &str, cluster: &ClusterView) -> bool {
        self.allowed_clusters.iter().any(|c| c == name)
            || cluster
                .tags
                .get(&self.enrollment_tag)
                .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// Why a cluster is refused, for operators.
    pub fn not_enrolled(&self, name: &str) -> String {
        format!(
            "cluster {name} is not enrolled for upgrades: tag it {}=true, or list it in ALLOWED_CLUSTERS",
            self.enrollment_tag
        )
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            poll_interval_secs: 30,
            max_attempt_secs: 3 * 3600,
            max_invocations: 100,
            retention_secs: 90 * 86400,
            stale_after_secs: 300,
            hop_estimate_secs: window::DEFAULT_HOP_ESTIMATE_SECS,
            blocked_recheck_secs: 3600,
            nodegroup_parallelism: 1,
            enrollment_tag: DEFAULT_ENROLLMENT_TAG.to_owned(),
            allowed_clusters: Vec::new(),
        }
    }
}

/// The EKS call a record's step asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EksCall {
    DescribeCluster,
    UpdateClusterVersion {
        version: KubeVersion,
        token: String,
        force: bool,
    },
    /// ListUpdates, then DescribeUpdate on each: the updates in progress.
    FindUpdatesInProgress,
    DescribeUpdate {
        update_id: String,
    },
    /// Read-only: versions offered, node groups, add-ons and their versions, insights.
    Survey,
    /// UpdateAddon or UpdateNodegroupVersion with the item's token.
    StartItem {
        kind: ItemKind,
        name: String,
        version: String,
        token: String,
        force: bool,
    },
    /// DescribeUpdate with the add-on's or node group's name.
    DescribeItemUpdate {
        kind: ItemKind,
        name: String,
        update_id: String,
    },
}

impl EksCall {
    /// The EKS operation's name, for logs and crash points.
    pub fn name(&self) -> &'static str {
        match self {
            Self::DescribeCluster => "DescribeCluster",
            Self::UpdateClusterVersion { .. } => "UpdateClusterVersion",
            Self::FindUpdatesInProgress => "FindUpdatesInProgress",
            Self::DescribeUpdate { .. } => "DescribeUpdate",
            Self::Survey => "Survey",
            Self::StartItem {
                kind: ItemKind::Addon, ..
            } => "UpdateAddon",
            Self::StartItem {
                kind: ItemKind::Nodegroup,
                ..
            } => "UpdateNodegroupVersion",
            Self::DescribeItemUpdate { .. } => "DescribeItemUpdate",
        }
    }
}

/// What EKS answered to the call of [`next_call`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observation {
    Cluster(Result<ClusterView, EksFailure>),
    UpdateStarted(Result<UpdateView, EksFailure>),
    UpdatesInProgress(Result<Vec<UpdateView>, EksFailure>),
    Update(Result<UpdateView, EksFailure>),
    Surveyed(Result<Survey, EksFailure>),
    ItemStarted(Result<UpdateView, EksFailure>),
    ItemUpdate(Result<UpdateView, EksFailure>),
}

/// When the driver goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Make the next call now.
    Now,
    /// Make the next call after this many seconds: in this invocation if its deadline allows,
    /// else in a continuation.
    After(i64),
    /// The record is finished.
    Stop,
    /// Parked until `waitUntil` (outside the maintenance window): no continuation; the sweep
    /// wakes it.
    Park,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub record: UpgradeRecord,
    pub next: Next,
}

/// The call the record's step asks for; `None` once finished.
pub fn next_call(record: &UpgradeRecord) -> Option<EksCall> {
    if record.is_finished() {
        return None;
    }
    match record.step {
        Step::InspectCluster => Some(EksCall::DescribeCluster),
        Step::Preflight => Some(EksCall::Survey),
        Step::RunItems => match (next_startable(record), item_to_poll(record).map(|i| &record.items[i])) {
            (Some(i), _) => Some(EksCall::StartItem {
                kind: i.kind,
                name: i.name.clone(),
                version: i.version.clone(),
                token: i.client_request_token.clone(),
                // EKS's force on a node group ignores PodDisruptionBudget failures: only when
                // the request asks for it.
                force: record.force,
            }),
            (None, Some(i)) => Some(EksCall::DescribeItemUpdate {
                kind: i.kind,
                name: i.name.clone(),
                update_id: i.update_id.clone().unwrap_or_default(),
            }),
            (None, None) => None,
        },
        Step::StartUpdate => Some(EksCall::UpdateClusterVersion {
            version: record.hop_version.unwrap_or(record.target_version),
            token: record.client_request_token.clone(),
            force: record.force,
        }),
        Step::FindUpdateInProgress => Some(EksCall::FindUpdatesInProgress),
        Step::AwaitOtherUpdate => record
            .awaited_update_id
            .clone()
            .map(|update_id| EksCall::DescribeUpdate { update_id })
            .or(Some(EksCall::DescribeCluster)),
        Step::TrackUpdate => record
            .update_id
            .clone()
            .map(|update_id| EksCall::DescribeUpdate { update_id })
            .or(Some(EksCall::DescribeCluster)),
        Step::Done => None,
    }
}

/// The heart of it: from the stored record and what EKS reported, the new record and when to go
/// on.
pub fn reconcile(record: &UpgradeRecord, observed: Observation, now: i64, limits: &Limits) -> Transition {
    let mut r = record.clone();
    if r.is_finished() {
        return Transition {
            record: r,
            next: Next::Stop,
        };
    }
    let poll = limits.poll_interval_secs;
    let next = match (r.step, observed) {
        (step, observed) if fault_in(step, &observed).is_some() => {
            // A fault delays the upgrade and never ends it: same step, later.
            let fault = fault_in(step, &observed).map(ToString::to_string);
            r.faults += 1;
            r.last_error = fault;
            Next::After(poll)
        }

        (Step::InspectCluster, Observation::Cluster(Ok(cluster))) => inspect_cluster(&mut r, &cluster, now, limits),
        (Step::InspectCluster, Observation::Cluster(Err(e))) if e.kind == FailureKind::NotFound => {
            let note = format!("cluster {} not found: {}", r.cluster, e.message);
            finish(&mut r, UpgradeStatus::Failed, note, now, limits)
        }

        (Step::StartUpdate, Observation::UpdateStarted(Ok(update))) => {
            r.update_id = Some(update.id.clone());
            r.update_started_at.get_or_insert(now);
            r.step = Step::TrackUpdate;
            set_status(
                &mut r,
                UpgradeStatus::InProgress,
                format!("update {} started", update.id),
                now,
            );
            track(&mut r, &update, now, limits)
        }
        (Step::StartUpdate, Observation::UpdateStarted(Err(e))) => match e.kind {
            FailureKind::ResourceInUse => {
                r.step = Step::FindUpdateInProgress;
                r.message = Some(e.message);
                Next::Now
            }
            FailureKind::InvalidState => {
                let hint = if r.force {
                    ""
                } else {
                    " Send the request again with \"force\": true to override."
                };
                finish(
                    &mut r,
                    UpgradeStatus::Blocked,
                    format!("{}{hint}", e.message),
                    now,
                    limits,
                )
            }
            FailureKind::NotFound => {
                let note = format!("cluster {} not found: {}", r.cluster, e.message);
                finish(&mut r, UpgradeStatus::Failed, note, now, limits)
            }
            // InvalidParameter: EKS will refuse again; its message says why.
            _ => finish(&mut r, UpgradeStatus::Failed, e.message, now, limits),
        },

        (Step::FindUpdateInProgress, Observation::UpdatesInProgress(Ok(updates))) => {
            // The version this hop goes to (the target itself on the last hop).
            let target = r.hop_version.unwrap_or(r.target_version).to_string();
            let ours = updates.iter().find(|u| {
                u.state == UpdateState::InProgress
                    && u.kind == "VersionUpdate"
                    && u.version.as_deref() == Some(target.as_str())
            });
            if let Some(update) = ours {
                // Someone else already asked for our target: track theirs, start none.
                r.update_id = Some(update.id.clone());
                r.adopted = true;
                r.update_started_at.get_or_insert(now);
                r.step = Step::TrackUpdate;
                set_status(
                    &mut r,
                    UpgradeStatus::InProgress,
                    format!("adopted update {} to {target}, already in progress", update.id),
                    now,
                );
                Next::After(poll)
            } else if let Some(other) = updates.iter().find(|u| u.state == UpdateState::InProgress) {
                r.awaited_update_id = Some(other.id.clone());
                r.step = Step::AwaitOtherUpdate;
                r.message = Some(format!(
                    "waiting for update {} ({}) to end before starting ours",
                    other.id, other.kind
                ));
                Next::After(poll)
            } else {
                // It ended between EKS's refusal and our look: start over.
                r.step = Step::InspectCluster;
                Next::After(poll)
            }
        }
        (Step::FindUpdateInProgress, Observation::UpdatesInProgress(Err(_))) => {
            r.step = Step::InspectCluster;
            Next::After(poll)
        }

        (Step::AwaitOtherUpdate, Observation::Update(Ok(other))) => match other.state {
            UpdateState::InProgress | UpdateState::Other(_) => Next::After(poll),
            _ => {
                r.awaited_update_id = None;
                r.step = Step::InspectCluster;
                r.message = Some(format!("update {} ended; trying again", other.id));
                Next::Now
            }
        },
        (Step::AwaitOtherUpdate, Observation::Update(Err(_))) => {
            r.awaited_update_id = None;
            r.step = Step::InspectCluster;
            Next::Now
        }

        (Step::TrackUpdate, Observation::Update(Ok(update))) => track(&mut r, &update, now, limits),
        (Step::TrackUpdate, Observation::Update(Err(e))) => {
            let id = r.update_id.clone().unwrap_or_default();
            finish(
                &mut r,
                UpgradeStatus::Failed,
                format!("EKS no longer knows update {id}: {}", e.message),
                now,
                limits,
            )
        }

        (Step::Preflight, Observation::Surveyed(Ok(survey))) => preflight(&mut r, &survey, now, limits),

        (Step::RunItems, Observation::ItemStarted(result)) => {
            let Some(i) = r.items.iter().position(|i| i.status == ItemStatus::Planned) else {
                return Transition {
                    record: r,
                    next: Next::Now,
                };
            };
            match result {
                Ok(update) => {
                    let item = &mut r.items[i];
                    item.status = ItemStatus::InProgress;
                    item.update_id = Some(update.id.clone());
                    item.started_at = Some(now);
                    r.message = Some(format!("{} update {} started", item_label(&r.items[i]), update.id));
                    match item_progress(&mut r, i, &update, now, limits) {
                        // More node groups may start side by side.
                        Next::After(_) if next_startable(&r).is_some() => Next::Now,
                        other => other,
                    }
                }
                Err(e) => match e.kind {
                    // Another update of that node group or add-on: try again later.
                    FailureKind::ResourceInUse => Next::After(limits.poll_interval_secs),
                    FailureKind::NotFound => {
                        r.items[i].status = ItemStatus::Skipped;
                        r.items[i].finished_at = Some(now);
                        r.message = Some(format!("{} is gone: {}", item_label(&r.items[i]), e.message));
                        next_item(&mut r, now, limits)
                    }
                    _ => {
                        let note = format!("{}: {}", item_label(&r.items[i]), e.message);
                        finish(&mut r, UpgradeStatus::Failed, note, now, limits)
                    }
                },
            }
        }
        (Step::RunItems, Observation::ItemUpdate(result)) => {
            // The item next_call chose to describe, from the same record.
            let Some(i) = item_to_poll(&r) else {
                return Transition {
                    record: r,
                    next: Next::Now,
                };
            };
            match result {
                Ok(update) => {
                    if r.items.iter().filter(|i| i.status == ItemStatus::InProgress).count() > 1 {
                        r.items[i].polled_at = Some(now);
                    }
                    item_progress(&mut r, i, &update, now, limits)
                }
                Err(e) => {
                    let note = format!(
                        "EKS no longer knows the {} update: {}",
                        item_label(&r.items[i]),
                        e.message
                    );
                    finish(&mut r, UpgradeStatus::Failed, note, now, limits)
                }
            }
        }

        // An answer to a call the step did not ask for (a step and its observation out of
        // step): change nothing, ask again.
        (_, _) => Next::Now,
    };
    let next = bound(&mut r, next, now, limits);
    if r != *record {
        r.updated_at = now;
        r.heartbeat_at = now;
    }
    Transition { record: r, next }
}

/// The failure in `observed` if it is a fault (retry later) rather than an answer to act on.
fn fault_in(step: Step, observed: &Observation) -> Option<&EksFailure> {
    let failure = match observed {
        Observation::Cluster(Err(e))
        | Observation::UpdateStarted(Err(e))
        | Observation::UpdatesInProgress(Err(e))
        | Observation::Update(Err(e))
        | Observation::Surveyed(Err(e))
        | Observation::ItemStarted(Err(e))
        | Observation::ItemUpdate(Err(e)) => e,
        _ => return None,
    };
    let fault = match failure.kind {
        FailureKind::Transient | FailureKind::Other => true,
        // DescribeCluster has one answer to act on: the cluster does not exist; the survey
        // only reads, so any refusal there is a fault too.
        _ => (step == Step::InspectCluster && failure.kind != FailureKind::NotFound) || step == Step::Preflight,
    };
    fault.then_some(failure)
}

fn inspect_cluster(r: &mut UpgradeRecord, cluster: &ClusterView, now: i64, limits: &Limits) -> Next {
    if let Some(current) = cluster.version {
        r.from_version.get_or_insert(current);
        if current >= r.target_version {
            if !r.control_plane_updates.is_empty() {
                let items = r.items.iter().filter(|i| i.status == ItemStatus::Succeeded).count();
                let note = format!(
                    "upgraded {} from {} to {}: {} control-plane update(s), {items} add-on and node-group update(s)",
                    r.cluster,
                    r.from_version.unwrap_or(current),
                    current,
                    r.control_plane_updates.len()
                );
                return finish(r, UpgradeStatus::Succeeded, note, now, limits);
            }
            let note = if current == r.target_version {
                format!("cluster {} is already at {}; nothing to do", r.cluster, current)
            } else {
                format!(
                    "cluster {} is at {}, past the target {}; nothing to do",
                    r.cluster, current, r.target_version
                )
            };
            return finish(r, UpgradeStatus::Succeeded, note, now, limits);
        }
    }
    match cluster.status.as_str() {
        "ACTIVE" => {
            let decision = window::can_start(
                r.maintenance_window.as_ref(),
                &r.exclusions,
                now,
                limits.hop_estimate_secs,
            );
            match decision {
                Decision::Go => {
                    r.step = Step::Preflight;
                    r.wait_until = None;
                    Next::Now
                }
                Decision::Wait {
                    until: Some(until),
                    reason,
                } => {
                    r.wait_until = Some(until);
                    set_status(r, UpgradeStatus::WaitingForWindow, reason, now);
                    Next::Park
                }
                Decision::Wait { until: None, reason } => finish(r, UpgradeStatus::Blocked, reason, now, limits),
            }
        }
        "UPDATING" => {
            r.step = Step::FindUpdateInProgress;
            Next::Now
        }
        "DELETING" | "FAILED" => finish(
            r,
            UpgradeStatus::Failed,
            format!("cluster {} is {}; it can't be upgraded", r.cluster, cluster.status),
            now,
            limits,
        ),
        other => {
            r.message = Some(format!("cluster {} is {other}; waiting for ACTIVE", r.cluster));
            Next::After(limits.poll_interval_secs)
        }
    }
}

fn track(r: &mut UpgradeRecord, update: &UpdateView, now: i64, limits: &Limits) -> Next {
    r.eks_errors = update.errors.clone();
    let took = r
        .update_started_at
        .map(|start| format!(" in {}", human_duration(now - start)))
        .unwrap_or_default();
    match &update.state {
        UpdateState::InProgress | UpdateState::Other(_) => Next::After(limits.poll_interval_secs),
        UpdateState::Successful if has_more_work(r) => {
            let hop = r.hop_version.unwrap_or(r.target_version);
            if !r.control_plane_updates.contains(&update.id) {
                r.control_plane_updates.push(update.id.clone());
            }
            r.message = Some(format!("control plane at {hop} (update {}{took})", update.id));
            r.history.push(HistoryEntry {
                at: now,
                status: r.status,
                note: format!("control plane at {hop}: update {} Successful{took}", update.id),
            });
            r.update_started_at = None;
            next_item(r, now, limits)
        }
        UpdateState::Successful => {
            if !r.control_plane_updates.contains(&update.id) {
                r.control_plane_updates.push(update.id.clone());
            }
            let from = r.from_version.map(|v| format!(" from {v}")).unwrap_or_default();
            let note = format!(
                "update {} Successful: {}{from} to {}{took}",
                update.id, r.cluster, r.target_version
            );
            finish(r, UpgradeStatus::Succeeded, note, now, limits)
        }
        UpdateState::Failed => {
            let note = format!("update {} Failed{took}: {}", update.id, describe_errors(update));
            finish(r, UpgradeStatus::Failed, note, now, limits)
        }
        UpdateState::Cancelled => {
            let note = format!("update {} Cancelled{took}: {}", update.id, describe_errors(update));
            finish(r, UpgradeStatus::Cancelled, note, now, limits)
        }
    }
}

/// The planned item that may start now: the next one when nothing runs, or the next node group
/// while fewer than `nodegroupParallelism` node groups (and nothing else) run.
fn next_startable(record: &UpgradeRecord) -> Option<&WorkItem> {
    let planned = record.items.iter().find(|i| i.status == ItemStatus::Planned)?;
    let running: Vec<&WorkItem> = record
        .items
        .iter()
        .filter(|i| i.status == ItemStatus::InProgress)
        .collect();
    let room = running.is_empty()
        || (planned.kind == ItemKind::Nodegroup
            && running.iter().all(|i| i.kind == ItemKind::Nodegroup)
            && running.len() < record.nodegroup_parallelism.max(1) as usize);
    room.then_some(planned)
}

/// The running item whose update to describe next: the least recently described, so that node
/// groups updating side by side are each followed in turn (a single one is simply followed).
fn item_to_poll(record: &UpgradeRecord) -> Option<usize> {
    record
        .items
        .iter()
        .enumerate()
        .filter(|(_, i)| i.status == ItemStatus::InProgress)
        .min_by_key(|(index, i)| (i.polled_at.unwrap_or(0), *index))
        .map(|(index, _)| index)
}

/// After a control-plane hop: add-ons and node groups of the hop, or the next hop.
fn has_more_work(r: &UpgradeRecord) -> bool {
    r.items
        .iter()
        .any(|i| matches!(i.status, ItemStatus::Planned | ItemStatus::InProgress))
        || r.hop_version.is_some_and(|h| h < r.target_version)
}

fn item_label(item: &WorkItem) -> String {
    match item.kind {
        ItemKind::Addon => format!("add-on {} to {}", item.name, item.version),
        ItemKind::Nodegroup => format!("node group {} to {}", item.name, item.version),
    }
}

/// A deterministic clientRequestToken for a step, derived from the hop's token: the same step
/// always gets the same token, so a resumed step sends EKS the token it sent before.
pub fn derived_token(base: &str, what: &str) -> String {
    let namespace = uuid::Uuid::parse_str(base).unwrap_or(uuid::Uuid::NAMESPACE_OID);
    uuid::Uuid::new_v5(&namespace, what.as_bytes()).to_string()
}

/// The preflight of a hop: plan from the survey, node groups first if behind, the gates, then
/// the control-plane update with the hop's token, and the hop's add-on and node-group items.
fn preflight(r: &mut UpgradeRecord, survey: &Survey, now: i64, limits: &Limits) -> Next {
    let current = match survey.cluster.version {
        Some(v) if survey.cluster.status == "ACTIVE" => v,
        _ => {
            // Not ACTIVE any more (someone else's update?): look again.
            r.step = Step::InspectCluster;
            return Next::After(limits.poll_interval_secs);
        }
    };
    if current >= r.target_version {
        r.step = Step::InspectCluster;
        return Next::Now;
    }
    if !limits.admits(&r.cluster, &survey.cluster) {
        // Checked before every hop: a cluster taken out of enrollment is not touched again.
        let note = limits.not_enrolled(&r.cluster);
        return finish(r, UpgradeStatus::Blocked, note, now, limits);
    }
    let plan = match make_plan(&r.cluster, TargetVersion::Exact(r.target_version), r.force, survey) {
        Ok(plan) => plan,
        Err(e) => return finish(r, UpgradeStatus::Failed, e.0, now, limits),
    };
    r.plan = Some(plan.clone());
    let base = r.client_request_token.clone();
    r.nodegroup_parallelism = limits.nodegroup_parallelism;
    if !plan.node_groups_first.is_empty() {
        for ng in &plan.node_groups_first {
            add_item(
                r,
                ItemKind::Nodegroup,
                &ng.name,
                &ng.to.to_string(),
                ng.from.map(|v| v.to_string()),
                current,
                &base,
            );
        }
        r.message = Some(format!(
            "node groups behind the control plane go first: {}",
            plan.node_groups_first
                .iter()
                .map(|n| n.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        return next_item(r, now, limits);
    }
    let Some(hop) = plan.hops.first() else {
        r.step = Step::InspectCluster;
        return Next::Now;
    };
    let failed: Vec<String> = hop
        .gates
        .iter()
        .filter(|g| !g.passed)
        .map(|g| format!("{}: {}", g.gate, g.detail))
        .collect();
    if !failed.is_empty() {
        let note = format!("hop {} to {} blocked: {}", hop.from, hop.to, failed.join("; "));
        return finish(r, UpgradeStatus::Blocked, note, now, limits);
    }
    // Each hop has its own token; the first hop's is the one written when the request came.
    if r.hop_version.is_some_and(|h| h != hop.to) {
        r.client_request_token = derived_token(&base, &format!("control-plane:{}", hop.to));
    }
    if r.hop_version != Some(hop.to) {
        // The chain bound counts per hop: a long multi-hop upgrade is not cut short.
        r.attempt_started_at = now;
        r.invocations = r.invocations.min(1);
    }
    r.hop_version = Some(hop.to);
    r.nodegroup_parallelism = limits.nodegroup_parallelism;
    let token = r.client_request_token.clone();
    for addon in &hop.addons {
        if let Some(to) = &addon.to {
            add_item(
                r,
                ItemKind::Addon,
                &addon.name,
                to,
                Some(addon.from.clone()),
                hop.to,
                &token,
            );
        }
    }
    for ng in &hop.nodegroups {
        add_item(
            r,
            ItemKind::Nodegroup,
            &ng.name,
            &ng.to.to_string(),
            ng.from.map(|v| v.to_string()),
            hop.to,
            &token,
        );
    }
    // The tokens are stored with this write: from here a crash resumes by sending them again.
    r.step = Step::StartUpdate;
    r.message = None;
    Next::Now
}

fn add_item(
    r: &mut UpgradeRecord,
    kind: ItemKind,
    name: &str,
    version: &str,
    from: Option<String>,
    hop: KubeVersion,
    base: &str,
) {
    let exists = r
        .items
        .iter()
        .any(|i| i.kind == kind && i.name == name && i.version == version);
    if !exists {
        let what = format!("{kind:?}:{name}:{version}");
        r.items.push(WorkItem {
            kind,
            name: name.to_owned(),
            version: version.to_owned(),
            from,
            hop,
            client_request_token: derived_token(base, &what),
            status: ItemStatus::Planned,
            update_id: None,
            started_at: None,
            finished_at: None,
            polled_at: None,
        });
    }
}

/// Tracks item `i`'s update.
fn item_progress(r: &mut UpgradeRecord, i: usize, update: &UpdateView, now: i64, limits: &Limits) -> Next {
    let label = item_label(&r.items[i]);
    match &update.state {
        UpdateState::InProgress | UpdateState::Other(_) => Next::After(limits.poll_interval_secs),
        UpdateState::Successful => {
            r.items[i].status = ItemStatus::Succeeded;
            r.items[i].finished_at = Some(now);
            let took = r.items[i]
                .started_at
                .map(|s| human_duration(now - s))
                .unwrap_or_default();
            r.history.push(HistoryEntry {
                at: now,
                status: r.status,
                note: format!("{label}: Successful in {took}"),
            });
            next_item(r, now, limits)
        }
        UpdateState::Failed | UpdateState::Cancelled => {
            r.eks_errors = update.errors.clone();
            let state = if update.state == UpdateState::Failed {
                "Failed"
            } else {
                "Cancelled"
            };
            let note = format!("{label}: update {} {state}: {}", update.id, describe_errors(update));
            let status = if update.state == UpdateState::Failed {
                UpgradeStatus::Failed
            } else {
                UpgradeStatus::Cancelled
            };
            finish(r, status, note, now, limits)
        }
    }
}

/// The next planned item, inside the window; none left: back to the cluster for the next hop.
fn next_item(r: &mut UpgradeRecord, now: i64, limits: &Limits) -> Next {
    if r.items.iter().any(|i| i.status == ItemStatus::InProgress) {
        // Node groups still updating side by side: follow them.
        r.step = Step::RunItems;
        return Next::Now;
    }
    if r.items.iter().any(|i| i.status == ItemStatus::Planned) {
        r.step = Step::RunItems;
        if r.status == UpgradeStatus::Pending && r.update_id.is_some() {
            set_status(r, UpgradeStatus::InProgress, "add-ons and node groups".into(), now);
        }
        // A step starts only inside the maintenance window.
        if let Decision::Wait { until, reason } =
            window::can_start(r.maintenance_window.as_ref(), &r.exclusions, now, 1)
        {
            return match until {
                Some(until) => {
                    r.wait_until = Some(until);
                    set_status(r, UpgradeStatus::WaitingForWindow, reason, now);
                    Next::Park
                }
                None => finish(r, UpgradeStatus::Blocked, reason, now, limits),
            };
        }
        return Next::Now;
    }
    r.step = Step::InspectCluster;
    Next::Now
}

fn describe_errors(update: &UpdateView) -> String {
    if update.errors.is_empty() {
        return "EKS reported no errors".to_owned();
    }
    update
        .errors
        .iter()
        .map(|e| format!("{}: {}", e.error_code, e.error_message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Ends the attempt when going on would pass the chain bound.
fn bound(r: &mut UpgradeRecord, next: Next, now: i64, limits: &Limits) -> Next {
    match next {
        Next::After(secs) if now + secs > r.attempt_started_at + limits.max_attempt_secs => {
            let note = format!(
                "gave up after {} (bound {}){}; the update, if any, may still be running in EKS",
                human_duration(now - r.attempt_started_at),
                human_duration(limits.max_attempt_secs),
                r.update_id
                    .as_ref()
                    .map(|id| format!(": track update {id} by hand"))
                    .unwrap_or_default()
            );
            finish(r, UpgradeStatus::TimedOut, note, now, limits)
        }
        other => other,
    }
}

fn set_status(r: &mut UpgradeRecord, status: UpgradeStatus, note: String, now: i64) {
    if r.status != status {
        r.history.push(HistoryEntry {
            at: now,
            status,
            note: note.clone(),
        });
    }
    r.status = status;
    r.message = Some(note);
}

fn finish(r: &mut UpgradeRecord, status: UpgradeStatus, note: String, now: i64, limits: &Limits) -> Next {
    set_status(r, status, note, now);
    r.step = Step::Done;
    r.finished_at = Some(now);
    r.sweep_bucket = None;
    r.handoff = None;
    r.lease_owner = None;
    r.lease_until = 0;
    r.expires_at = Some(now + limits.retention_secs);
    if status == UpgradeStatus::Blocked && limits.blocked_recheck_secs > 0 {
        // Parked, not over: the sweep looks again later, once the reason may be gone.
        r.sweep_bucket = Some(RESUMABLE.to_owned());
        r.wait_until = Some(now + limits.blocked_recheck_secs);
        r.expires_at = None;
    }
    Next::Stop
}

/// A BLOCKED record the sweep may check again now.
fn recheck_due(record: &UpgradeRecord, now: i64) -> bool {
    record.status == UpgradeStatus::Blocked
        && record.sweep_bucket.is_some()
        && record.wait_until.is_some_and(|t| t <= now)
}

/// The outcome of an invocation's attempt to take a record.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// Ours until the lease ends; write it (conditionally) before doing anything.
    Claimed(UpgradeRecord),
    /// Another invocation holds a live lease.
    Busy { owner: String, until: i64 },
    /// Nothing left to do.
    Finished,
    /// Past the chain bound: write it, and stop.
    TimedOut(UpgradeRecord),
}

/// Takes a record for the invocation `owner` until `lease_until` (epoch seconds).
pub fn claim(record: &UpgradeRecord, owner: &str, lease_until: i64, now: i64, limits: &Limits) -> Claim {
    if record.is_finished() && !recheck_due(record, now) {
        return Claim::Finished;
    }
    if let Some(holder) = &record.lease_owner {
        if holder != owner && record.lease_until > now {
            return Claim::Busy {
                owner: holder.clone(),
                until: record.lease_until,
            };
        }
    }
    let mut r = record.clone();
    r.updated_at = now;
    r.heartbeat_at = now;
    if recheck_due(&r, now) {
        // Blocked a while ago: look again whether the reason is gone, as a new attempt.
        r.attempt_started_at = now;
        r.invocations = 0;
        r.wait_until = None;
        r.finished_at = None;
        r.step = Step::InspectCluster;
        set_status(
            &mut r,
            UpgradeStatus::Pending,
            "checking again whether the block is gone".into(),
            now,
        );
    }
    if r.status == UpgradeStatus::WaitingForWindow {
        // The wait does not count against the chain bound: the attempt starts when it wakes.
        r.attempt_started_at = now;
        r.invocations = 0;
        r.wait_until = None;
        set_status(
            &mut r,
            UpgradeStatus::Pending,
            "woken to check the maintenance window".into(),
            now,
        );
    }
    if r.invocations >= limits.max_invocations || now - r.attempt_started_at > limits.max_attempt_secs {
        let note = format!(
            "gave up after {} invocations over {} (bounds: {} invocations, {}){}",
            r.invocations,
            human_duration(now - r.attempt_started_at),
            limits.max_invocations,
            human_duration(limits.max_attempt_secs),
            r.update_id
                .as_ref()
                .map(|id| format!("; track update {id} by hand"))
                .unwrap_or_default()
        );
        finish(&mut r, UpgradeStatus::TimedOut, note, now, limits);
        r.lease_owner = None;
        r.lease_until = 0;
        return Claim::TimedOut(r);
    }
    r.invocations += 1;
    r.lease_owner = Some(owner.to_owned());
    r.lease_until = lease_until;
    // Whoever claims takes over the chain: a continuation still in flight becomes stale.
    r.handoff = None;
    Claim::Claimed(r)
}

/// Hands the record to a continuation named `nonce`, and lets go of the lease.
pub fn hand_off(record: &UpgradeRecord, nonce: &str, now: i64) -> UpgradeRecord {
    let mut r = release(record, now);
    r.handoff = Some(nonce.to_owned());
    r
}

/// Lets go of the lease.
pub fn release(record: &UpgradeRecord, now: i64) -> UpgradeRecord {
    let mut r = record.clone();
    r.lease_owner = None;
    r.lease_until = 0;
    r.updated_at = now;
    r.heartbeat_at = now;
    r
}

/// A BLOCKED request sent again starts a new attempt, with the new request's `force` and a new
/// token (EKS refused the old one, so no update carries it). Anything else is left as it is.
pub fn reopen(record: &UpgradeRecord, request: &UpgradeRequest, token: String, now: i64) -> Option<UpgradeRecord> {
    if record.status != UpgradeStatus::Blocked
        || request.target_version != crate::domain::plan::TargetVersion::Exact(record.target_version)
    {
        return None;
    }
    let mut r = record.clone();
    r.client_request_token = token;
    r.force = request.force;
    r.maintenance_window = request.maintenance_window.clone();
    r.exclusions = request.exclusions.clone();
    r.wait_until = None;
    r.step = Step::InspectCluster;
    r.attempt_started_at = now;
    r.invocations = 0;
    r.finished_at = None;
    r.expires_at = None;
    r.sweep_bucket = Some(RESUMABLE.to_owned());
    r.updated_at = now;
    r.heartbeat_at = now;
    let note = format!("requested again{}", if request.force { " with force" } else { "" });
    set_status(&mut r, UpgradeStatus::Pending, note, now);
    Some(r)
}

/// Whether the sweep should resume the record: unfinished, no live lease, and no sign of life
/// for `stale_after_secs` (a dropped continuation, a crash, a throttled invoke).
pub fn is_stale(record: &UpgradeRecord, now: i64, limits: &Limits) -> bool {
    if record.status == UpgradeStatus::Blocked {
        return record.lease_until <= now && recheck_due(record, now);
    }
    if record.status == UpgradeStatus::WaitingForWindow {
        // Parked: due when its window opens, not before.
        return record.lease_until <= now && record.wait_until.is_some_and(|t| t <= now);
    }
    !record.is_finished() && record.lease_until <= now && record.heartbeat_at <= now - limits.stale_after_secs
}

/// Takes a stale record for a continuation sent by the sweep.
pub fn resume_stale(record: &UpgradeRecord, nonce: &str, now: i64) -> UpgradeRecord {
    hand_off(record, nonce, now)
}

pub fn human_duration(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        0..=59 => format!("{secs}s"),
        60..=3599 => format!("{}m{:02}s", secs / 60, secs % 60),
        _ => format!("{}h{:02}m", secs / 3600, (secs % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::event::{ClusterName, RequestId};
    use crate::domain::record::EksUpdateError;

    const NOW: i64 = 1_790_000_000;

    fn limits() -> Limits {
        Limits::default()
    }

    fn request(force: bool) -> UpgradeRequest {
        UpgradeRequest {
            cluster: ClusterName::parse("devel").unwrap(),
            target_version: crate::domain::plan::TargetVersion::Exact(KubeVersion::new(1, 31)),
            dry_run: false,
            force,
            request_id: Some(RequestId::parse("r1").unwrap()),
            maintenance_window: None,
            exclusions: Default::default(),
        }
    }

    fn record_at(step: Step) -> UpgradeRecord {
        let mut r = UpgradeRecord::new(
            &request(false),
            KubeVersion::new(1, 31),
            "token-0000-0000-0000-0000-000000000000".into(),
            NOW,
        );
        r.step = step;
        match step {
            Step::TrackUpdate => {
                r.status = UpgradeStatus::InProgress;
                r.update_id = Some("u-ours".into());
                r.update_started_at = Some(NOW);
            }
            Step::AwaitOtherUpdate => r.awaited_update_id = Some("u-other".into()),
            _ => {}
        }
        r
    }

    fn cluster(status: &str, version: &str) -> ClusterView {
        ClusterView {
            status: status.into(),
            version: Some(version.parse().unwrap()),
            platform_version: Some("eks.5".into()),
            tags: [(DEFAULT_ENROLLMENT_TAG.to_owned(), "true".to_owned())].into(),
        }
    }

    fn update(id: &str, state: UpdateState, kind: &str, version: Option<&str>) -> UpdateView {
        UpdateView {
            id: id.into(),
            state,
            kind: kind.into(),
            version: version.map(Into::into),
            errors: Vec::new(),
        }
    }

    fn failure(kind: FailureKind, message: &str) -> EksFailure {
        EksFailure::new(kind, format!("{kind:?}Exception"), message)
    }

    fn step(record: &UpgradeRecord, observed: Observation) -> Transition {
        reconcile(record, observed, NOW + 10, &limits())
    }

    #[test]
    fn next_call_follows_the_step() {
        assert_eq!(
            next_call(&record_at(Step::InspectCluster)),
            Some(EksCall::DescribeCluster)
        );
        assert_eq!(
            next_call(&record_at(Step::StartUpdate)),
            Some(EksCall::UpdateClusterVersion {
                version: KubeVersion::new(1, 31),
                token: "token-0000-0000-0000-0000-000000000000".into(),
                force: false
            })
        );
        assert_eq!(
            next_call(&record_at(Step::FindUpdateInProgress)),
            Some(EksCall::FindUpdatesInProgress)
        );
        assert_eq!(
            next_call(&record_at(Step::AwaitOtherUpdate)),
            Some(EksCall::DescribeUpdate {
                update_id: "u-other".into()
            })
        );
        assert_eq!(
            next_call(&record_at(Step::TrackUpdate)),
            Some(EksCall::DescribeUpdate {
                update_id: "u-ours".into()
            })
        );
        assert_eq!(next_call(&record_at(Step::Done)), None);
        let mut finished = record_at(Step::TrackUpdate);
        finished.status = UpgradeStatus::Succeeded;
        assert_eq!(next_call(&finished), None);
    }

    #[test]
    fn active_cluster_below_target_goes_to_preflight() {
        let t = step(
            &record_at(Step::InspectCluster),
            Observation::Cluster(Ok(cluster("ACTIVE", "1.30"))),
        );
        assert_eq!(t.next, Next::Now);
        assert_eq!(t.record.step, Step::Preflight);
        assert_eq!(t.record.status, UpgradeStatus::Pending);
        assert_eq!(t.record.from_version, Some(KubeVersion::new(1, 30)));
        assert_eq!(t.record.heartbeat_at, NOW + 10);
    }

    #[test]
    fn cluster_at_or_past_target_is_a_no_op_success() {
        for (version, words) in [("1.31", "already at 1.31"), ("1.32", "past the target")] {
            let t = step(
                &record_at(Step::InspectCluster),
                Observation::Cluster(Ok(cluster("ACTIVE", version))),
            );
            assert_eq!(t.next, Next::Stop);
            assert_eq!(t.record.status, UpgradeStatus::Succeeded);
            assert!(
                t.record.message.as_deref().unwrap().contains(words),
                "{:?}",
                t.record.message
            );
            assert_eq!(t.record.update_id, None);
            assert_eq!(t.record.expires_at, Some(NOW + 10 + limits().retention_secs));
            assert_eq!(t.record.sweep_bucket, None);
        }
    }

    #[test]
    fn cluster_status_decides_what_comes_next() {
        let r = record_at(Step::InspectCluster);
        let t = step(&r, Observation::Cluster(Ok(cluster("UPDATING", "1.30"))));
        assert_eq!((t.record.step, t.next), (Step::FindUpdateInProgress, Next::Now));
        for waiting in ["CREATING", "PENDING"] {
            let t = step(&r, Observation::Cluster(Ok(cluster(waiting, "1.30"))));
            assert_eq!((t.record.step, t.next), (Step::InspectCluster, Next::After(30)));
            assert_eq!(t.record.status, UpgradeStatus::Pending);
        }
        for dead in ["DELETING", "FAILED"] {
            let t = step(&r, Observation::Cluster(Ok(cluster(dead, "1.30"))));
            assert_eq!(t.record.status, UpgradeStatus::Failed);
            assert!(t.record.message.as_deref().unwrap().contains(dead));
        }
    }

    #[test]
    fn missing_cluster_fails() {
        let t = step(
            &record_at(Step::InspectCluster),
            Observation::Cluster(Err(failure(FailureKind::NotFound, "No cluster found for name: devel."))),
        );
        assert_eq!(t.record.status, UpgradeStatus::Failed);
        assert_eq!(
            t.record.message.as_deref(),
            Some("cluster devel not found: No cluster found for name: devel.")
        );
    }

    #[test]
    fn faults_keep_the_step_and_retry_later() {
        for step_now in [
            Step::InspectCluster,
            Step::StartUpdate,
            Step::FindUpdateInProgress,
            Step::AwaitOtherUpdate,
            Step::TrackUpdate,
        ] {
            for kind in [FailureKind::Transient, FailureKind::Other] {
                let r = record_at(step_now);
                let fault = failure(kind, "Rate exceeded");
                let observed = match step_now {
                    Step::InspectCluster => Observation::Cluster(Err(fault)),
                    Step::StartUpdate => Observation::UpdateStarted(Err(fault)),
                    Step::FindUpdateInProgress => Observation::UpdatesInProgress(Err(fault)),
                    _ => Observation::Update(Err(fault)),
                };
                let t = step(&r, observed);
                assert_eq!(t.next, Next::After(30), "{step_now:?} {kind:?}");
                assert_eq!(t.record.step, step_now);
                assert_eq!(t.record.status, r.status);
                assert_eq!(t.record.faults, 1);
                assert!(t.record.last_error.as_deref().unwrap().contains("Rate exceeded"));
            }
        }
        // DescribeCluster refusing for any other reason is a fault too, not a verdict.
        let t = step(
            &record_at(Step::InspectCluster),
            Observation::Cluster(Err(failure(FailureKind::InvalidParameter, "odd"))),
        );
        assert_eq!((t.record.step, t.next), (Step::InspectCluster, Next::After(30)));
    }

    #[test]
    fn started_update_is_tracked() {
        let r = record_at(Step::StartUpdate);
        let t = step(
            &r,
            Observation::UpdateStarted(Ok(update(
                "u-1",
                UpdateState::InProgress,
                "VersionUpdate",
                Some("1.31"),
            ))),
        );
        assert_eq!(t.next, Next::After(30));
        assert_eq!(t.record.status, UpgradeStatus::InProgress);
        assert_eq!(t.record.step, Step::TrackUpdate);
        assert_eq!(t.record.update_id.as_deref(), Some("u-1"));
        assert_eq!(t.record.update_started_at, Some(NOW + 10));
        assert!(!t.record.adopted);
        assert_eq!(t.record.history.last().unwrap().status, UpgradeStatus::InProgress);
    }

    #[test]
    fn replayed_token_of_a_finished_update_finishes() {
        let t = step(
            &record_at(Step::StartUpdate),
            Observation::UpdateStarted(Ok(update(
                "u-1",
                UpdateState::Successful,
                "VersionUpdate",
                Some("1.31"),
            ))),
        );
        assert_eq!(t.record.status, UpgradeStatus::Succeeded);
        assert_eq!(t.record.update_id.as_deref(), Some("u-1"));
    }

    #[test]
    fn update_refusals() {
        let r = record_at(Step::StartUpdate);
        let t = step(
            &r,
            Observation::UpdateStarted(Err(failure(FailureKind::ResourceInUse, "Cannot VersionUpdate"))),
        );
        assert_eq!(
            (t.record.step, t.next, t.record.status),
            (Step::FindUpdateInProgress, Next::Now, UpgradeStatus::Pending)
        );

        let msg = "Unsupported Kubernetes minor version update from 1.29 to 1.31";
        let t = step(
            &r,
            Observation::UpdateStarted(Err(failure(FailureKind::InvalidParameter, msg))),
        );
        assert_eq!((t.record.status, t.next), (UpgradeStatus::Failed, Next::Stop));
        assert_eq!(t.record.message.as_deref(), Some(msg));

        let t = step(
            &r,
            Observation::UpdateStarted(Err(failure(
                FailureKind::InvalidState,
                "Upgrade readiness issues detected.",
            ))),
        );
        assert_eq!(t.record.status, UpgradeStatus::Blocked);
        assert!(t.record.message.as_deref().unwrap().contains("\"force\": true"));
        assert_eq!(t.record.sweep_bucket.as_deref(), Some(RESUMABLE), "checked again later");
        assert_eq!(t.record.wait_until, Some(NOW + 10 + limits().blocked_recheck_secs));

        let mut forced = r.clone();
        forced.force = true;
        let t = step(
            &forced,
            Observation::UpdateStarted(Err(failure(
                FailureKind::InvalidState,
                "Upgrade readiness issues detected.",
            ))),
        );
        assert_eq!(t.record.status, UpgradeStatus::Blocked);
        assert_eq!(t.record.message.as_deref(), Some("Upgrade readiness issues detected."));

        let t = step(
            &r,
            Observation::UpdateStarted(Err(failure(FailureKind::NotFound, "No cluster found for name: devel."))),
        );
        assert_eq!(t.record.status, UpgradeStatus::Failed);
        assert!(t
            .record
            .message
            .as_deref()
            .unwrap()
            .starts_with("cluster devel not found"));
    }

    #[test]
    fn finding_the_update_in_progress() {
        let r = record_at(Step::FindUpdateInProgress);
        let ours = update("u-9", UpdateState::InProgress, "VersionUpdate", Some("1.31"));
        let other = update("u-8", UpdateState::InProgress, "EndpointAccessUpdate", None);
        let older = update("u-7", UpdateState::InProgress, "VersionUpdate", Some("1.30"));

        let t = step(&r, Observation::UpdatesInProgress(Ok(vec![other.clone(), ours])));
        assert_eq!(
            (t.record.step, t.record.status, t.next),
            (Step::TrackUpdate, UpgradeStatus::InProgress, Next::After(30))
        );
        assert_eq!(t.record.update_id.as_deref(), Some("u-9"));
        assert!(t.record.adopted);

        for blocking in [other, older] {
            let t = step(&r, Observation::UpdatesInProgress(Ok(vec![blocking.clone()])));
            assert_eq!(
                (t.record.step, t.record.status, t.next),
                (Step::AwaitOtherUpdate, UpgradeStatus::Pending, Next::After(30))
            );
            assert_eq!(t.record.awaited_update_id, Some(blocking.id.clone()));
            assert_eq!(t.record.update_id, None);
        }

        let t = step(&r, Observation::UpdatesInProgress(Ok(vec![])));
        assert_eq!((t.record.step, t.next), (Step::InspectCluster, Next::After(30)));
        let t = step(
            &r,
            Observation::UpdatesInProgress(Err(failure(FailureKind::NotFound, "gone"))),
        );
        assert_eq!((t.record.step, t.next), (Step::InspectCluster, Next::After(30)));
    }

    #[test]
    fn awaiting_another_update() {
        let r = record_at(Step::AwaitOtherUpdate);
        let t = step(
            &r,
            Observation::Update(Ok(update("u-other", UpdateState::InProgress, "AddonUpdate", None))),
        );
        assert_eq!((t.record.step, t.next), (Step::AwaitOtherUpdate, Next::After(30)));
        for ended in [UpdateState::Successful, UpdateState::Failed, UpdateState::Cancelled] {
            let t = step(
                &r,
                Observation::Update(Ok(update("u-other", ended, "AddonUpdate", None))),
            );
            assert_eq!((t.record.step, t.next), (Step::InspectCluster, Next::Now));
            assert_eq!(t.record.awaited_update_id, None);
            assert_eq!(t.record.status, UpgradeStatus::Pending);
        }
        let t = step(
            &r,
            Observation::Update(Err(failure(FailureKind::NotFound, "No update found"))),
        );
        assert_eq!((t.record.step, t.next), (Step::InspectCluster, Next::Now));
    }

    #[test]
    fn tracking_to_each_end() {
        let r = record_at(Step::TrackUpdate);
        let t = step(
            &r,
            Observation::Update(Ok(update(
                "u-ours",
                UpdateState::InProgress,
                "VersionUpdate",
                Some("1.31"),
            ))),
        );
        assert_eq!((t.record.status, t.next), (UpgradeStatus::InProgress, Next::After(30)));
        let t = step(
            &r,
            Observation::Update(Ok(update(
                "u-ours",
                UpdateState::Other("Rolling".into()),
                "VersionUpdate",
                None,
            ))),
        );
        assert_eq!(t.next, Next::After(30));

        let t = step(
            &r,
            Observation::Update(Ok(update(
                "u-ours",
                UpdateState::Successful,
                "VersionUpdate",
                Some("1.31"),
            ))),
        );
        assert_eq!(
            (t.record.status, t.record.step, t.next),
            (UpgradeStatus::Succeeded, Step::Done, Next::Stop)
        );
        assert_eq!(t.record.finished_at, Some(NOW + 10));

        let mut failed = update("u-ours", UpdateState::Failed, "VersionUpdate", Some("1.31"));
        failed.errors = vec![EksUpdateError {
            error_code: "NodeCreationFailure".into(),
            error_message: "Instances failed to join".into(),
            resource_ids: vec!["i-1".into()],
        }];
        let t = step(&r, Observation::Update(Ok(failed.clone())));
        assert_eq!(t.record.status, UpgradeStatus::Failed);
        assert_eq!(t.record.eks_errors, failed.errors);
        assert!(t
            .record
            .message
            .as_deref()
            .unwrap()
            .contains("NodeCreationFailure: Instances failed to join"));

        let t = step(
            &r,
            Observation::Update(Ok(update("u-ours", UpdateState::Cancelled, "VersionUpdate", None))),
        );
        assert_eq!(t.record.status, UpgradeStatus::Cancelled);

        let t = step(
            &r,
            Observation::Update(Err(failure(FailureKind::NotFound, "No update found for ID: u-ours"))),
        );
        assert_eq!(t.record.status, UpgradeStatus::Failed);
    }

    #[test]
    fn waiting_past_the_bound_times_out() {
        let r = record_at(Step::TrackUpdate);
        let late = r.attempt_started_at + limits().max_attempt_secs - 10;
        let t = reconcile(
            &r,
            Observation::Update(Ok(update("u-ours", UpdateState::InProgress, "VersionUpdate", None))),
            late,
            &limits(),
        );
        assert_eq!((t.record.status, t.next), (UpgradeStatus::TimedOut, Next::Stop));
        assert!(t.record.message.as_deref().unwrap().contains("u-ours"));
        assert_eq!(t.record.sweep_bucket, None);
    }

    #[test]
    fn finished_records_do_not_move() {
        let mut r = record_at(Step::Done);
        r.status = UpgradeStatus::Succeeded;
        let t = step(&r, Observation::Cluster(Ok(cluster("ACTIVE", "1.30"))));
        assert_eq!((t.record, t.next), (r, Next::Stop));
    }

    #[test]
    fn an_answer_to_another_call_changes_nothing() {
        let r = record_at(Step::TrackUpdate);
        let t = step(&r, Observation::Cluster(Ok(cluster("ACTIVE", "1.30"))));
        assert_eq!(t.record, r);
        assert_eq!(t.next, Next::Now);
    }

    #[test]
    fn claims() {
        let r = record_at(Step::InspectCluster);
        let Claim::Claimed(mine) = claim(&r, "inv-a", NOW + 900, NOW, &limits()) else {
            panic!()
        };
        assert_eq!(mine.lease_owner.as_deref(), Some("inv-a"));
        assert_eq!((mine.lease_until, mine.invocations), (NOW + 900, 1));

        assert_eq!(
            claim(&mine, "inv-b", NOW + 900, NOW + 1, &limits()),
            Claim::Busy {
                owner: "inv-a".into(),
                until: NOW + 900
            }
        );
        assert!(
            matches!(claim(&mine, "inv-a", NOW + 900, NOW + 1, &limits()), Claim::Claimed(_)),
            "the holder may claim again"
        );
        assert!(
            matches!(
                claim(&mine, "inv-b", NOW + 2000, NOW + 901, &limits()),
                Claim::Claimed(_)
            ),
            "an expired lease is free"
        );

        let mut handed = hand_off(&mine, "nonce", NOW + 5);
        assert_eq!(
            (handed.lease_owner.clone(), handed.handoff.as_deref()),
            (None, Some("nonce"))
        );
        let Claim::Claimed(taken) = claim(&handed, "inv-c", NOW + 900, NOW + 6, &limits()) else {
            panic!()
        };
        assert_eq!(taken.handoff, None, "a claim makes any continuation in flight stale");

        handed.invocations = limits().max_invocations;
        let Claim::TimedOut(ended) = claim(&handed, "inv-d", NOW + 900, NOW + 7, &limits()) else {
            panic!()
        };
        assert_eq!(ended.status, UpgradeStatus::TimedOut);
        assert_eq!(ended.lease_owner, None);

        let old = record_at(Step::TrackUpdate);
        assert!(matches!(
            claim(&old, "x", NOW, NOW + limits().max_attempt_secs + 1, &limits()),
            Claim::TimedOut(_)
        ));

        let mut done = r.clone();
        done.status = UpgradeStatus::Failed;
        assert_eq!(claim(&done, "x", NOW + 900, NOW, &limits()), Claim::Finished);
    }

    #[test]
    fn reopening_a_blocked_request() {
        let blocked = step(
            &record_at(Step::StartUpdate),
            Observation::UpdateStarted(Err(failure(
                FailureKind::InvalidState,
                "Upgrade readiness issues detected.",
            ))),
        )
        .record;
        let reopened = reopen(&blocked, &request(true), "new-token".into(), NOW + 100).unwrap();
        assert_eq!(
            (reopened.status, reopened.step),
            (UpgradeStatus::Pending, Step::InspectCluster)
        );
        assert!(reopened.force);
        assert_eq!(reopened.client_request_token, "new-token");
        assert_eq!((reopened.attempt_started_at, reopened.invocations), (NOW + 100, 0));
        assert_eq!(reopened.sweep_bucket.as_deref(), Some(RESUMABLE));
        assert_eq!(reopened.expires_at, None);

        let mut other_target = request(true);
        other_target.target_version = crate::domain::plan::TargetVersion::Exact(KubeVersion::new(1, 32));
        assert_eq!(reopen(&blocked, &other_target, "t".into(), NOW), None);
        assert_eq!(
            reopen(&record_at(Step::TrackUpdate), &request(true), "t".into(), NOW),
            None
        );
    }

    #[test]
    fn staleness() {
        let limits = limits();
        let r = record_at(Step::TrackUpdate);
        assert!(!is_stale(&r, NOW + 10, &limits));
        assert!(is_stale(&r, NOW + limits.stale_after_secs, &limits));
        let mut leased = r.clone();
        leased.lease_until = NOW + 10_000;
        assert!(!is_stale(&leased, NOW + 1000, &limits), "a live lease is not stale");
        let mut done = r.clone();
        done.status = UpgradeStatus::Succeeded;
        assert!(!is_stale(&done, NOW + 10_000, &limits));
        let resumed = resume_stale(&r, "n", NOW + 1000);
        assert!(
            !is_stale(&resumed, NOW + 1000, &limits),
            "a resumed record is fresh again"
        );
    }

    fn window(json: serde_json::Value) -> crate::domain::window::MaintenanceWindow {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn the_maintenance_window_decides_when_the_update_starts() {
        // NOW + 10 is 14:13:30 UTC.
        let mut r = record_at(Step::InspectCluster);
        r.maintenance_window = Some(window(serde_json::json!({ "start": "16:30", "durationMinutes": 120 })));
        let t = step(&r, Observation::Cluster(Ok(cluster("ACTIVE", "1.30"))));
        assert_eq!(
            (t.record.status, t.record.step, t.next),
            (UpgradeStatus::WaitingForWindow, Step::InspectCluster, Next::Park)
        );
        assert_eq!(t.record.wait_until, Some(NOW + 8200));
        assert!(
            t.record.message.as_deref().unwrap().contains("window"),
            "{:?}",
            t.record.message
        );
        assert!(
            !is_stale(&t.record, NOW + 8199, &limits()),
            "not due before the window opens"
        );
        assert!(is_stale(&t.record, NOW + 8200, &limits()));

        // Open, but only 30 minutes left of it: less than the 45-minute estimate.
        r.maintenance_window = Some(window(serde_json::json!({ "start": "13:45", "durationMinutes": 60 })));
        let t = step(&r, Observation::Cluster(Ok(cluster("ACTIVE", "1.30"))));
        assert_eq!(t.record.status, UpgradeStatus::WaitingForWindow);

        // Open with time to spare.
        r.maintenance_window = Some(window(serde_json::json!({ "start": "14:00", "durationMinutes": 120 })));
        let t = step(&r, Observation::Cluster(Ok(cluster("ACTIVE", "1.30"))));
        assert_eq!((t.record.step, t.next), (Step::Preflight, Next::Now));

        // A window shorter than a hop can never fit one: an operator must change it.
        r.maintenance_window = Some(window(serde_json::json!({ "start": "16:30", "durationMinutes": 30 })));
        let t = step(&r, Observation::Cluster(Ok(cluster("ACTIVE", "1.30"))));
        assert_eq!(t.record.status, UpgradeStatus::Blocked, "{:?}", t.record.message);
    }

    #[test]
    fn waking_a_parked_record_starts_a_new_attempt() {
        let mut r = record_at(Step::InspectCluster);
        r.status = UpgradeStatus::WaitingForWindow;
        r.wait_until = Some(NOW + 86_400);
        r.invocations = 7;
        let Claim::Claimed(woken) = claim(&r, "inv", NOW + 87_000, NOW + 86_400, &limits()) else {
            panic!()
        };
        assert_eq!(
            (woken.status, woken.invocations, woken.attempt_started_at),
            (UpgradeStatus::Pending, 1, NOW + 86_400)
        );
        assert_eq!(woken.wait_until, None);
    }

    fn survey_at(version: &str) -> Survey {
        Survey {
            cluster: cluster("ACTIVE", version),
            versions: (28..=36)
                .map(|m| crate::domain::eks::OfferedVersion {
                    version: KubeVersion::new(1, m),
                    status: "STANDARD_SUPPORT".into(),
                    default: false,
                })
                .collect(),
            nodegroups: vec![crate::domain::eks::NodegroupView {
                name: "ng-1".into(),
                version: Some(version.parse().unwrap()),
                status: "ACTIVE".into(),
            }],
            addons: vec![],
            addon_versions: vec![],
            insights: vec![],
        }
    }

    #[test]
    fn node_groups_running_side_by_side_are_each_polled_in_turn() {
        let mut r = record_at(Step::RunItems);
        r.status = UpgradeStatus::InProgress;
        for (name, id) in [("ng-a", "u-a"), ("ng-b", "u-b")] {
            add_item(
                &mut r,
                ItemKind::Nodegroup,
                name,
                "1.31",
                None,
                KubeVersion::new(1, 31),
                "base",
            );
            let item = r.items.last_mut().unwrap();
            item.status = ItemStatus::InProgress;
            item.update_id = Some(id.into());
        }
        let polled = |r: &UpgradeRecord| match next_call(r) {
            Some(EksCall::DescribeItemUpdate { update_id, .. }) => update_id,
            other => panic!("{other:?}"),
        };
        assert_eq!(polled(&r), "u-a");
        let r = step(
            &r,
            Observation::ItemUpdate(Ok(update("u-a", UpdateState::InProgress, "VersionUpdate", None))),
        )
        .record;
        assert_eq!(polled(&r), "u-b", "the other node group is described next");
        // ng-b ends first: it is ng-b that is marked, and ng-a is still followed.
        let t = step(
            &r,
            Observation::ItemUpdate(Ok(update("u-b", UpdateState::Successful, "VersionUpdate", None))),
        );
        assert_eq!(t.record.items[1].status, ItemStatus::Succeeded);
        assert_eq!(t.record.items[0].status, ItemStatus::InProgress);
        assert_eq!(polled(&t.record), "u-a");
    }

    #[test]
    fn preflight_starts_the_next_hop_with_its_own_token_and_items() {
        let mut r = record_at(Step::Preflight);
        r.target_version = KubeVersion::new(1, 33);
        let t = step(&r, Observation::Surveyed(Ok(survey_at("1.30"))));
        assert_eq!((t.record.step, t.next), (Step::StartUpdate, Next::Now));
        assert_eq!(t.record.hop_version, Some(KubeVersion::new(1, 31)));
        assert_eq!(
            t.record.client_request_token, r.client_request_token,
            "the first hop keeps the request's token"
        );
        assert!(
            matches!(next_call(&t.record), Some(EksCall::UpdateClusterVersion { version, .. }) if version == KubeVersion::new(1, 31))
        );
        assert_eq!(t.record.items.len(), 1);
        assert_eq!(
            (t.record.items[0].name.as_str(), t.record.items[0].version.as_str()),
            ("ng-1", "1.31")
        );
        assert!(t.record.plan.as_ref().is_some_and(|p| p.hops.len() == 3));

        // The next hop gets a token of its own, the same one however often it is planned.
        let mut second = t.record.clone();
        second.step = Step::Preflight;
        let a = step(&second, Observation::Surveyed(Ok(survey_at("1.31"))));
        let b = step(&second, Observation::Surveyed(Ok(survey_at("1.31"))));
        assert_eq!(a.record.hop_version, Some(KubeVersion::new(1, 32)));
        assert_ne!(a.record.client_request_token, t.record.client_request_token);
        assert_eq!(a.record.client_request_token, b.record.client_request_token);
        assert_eq!(
            a.record.items[1].client_request_token,
            b.record.items[1].client_request_token
        );

        // A hop's in-progress update to that hop's version is adopted.
        let mut finding = a.record.clone();
        finding.step = Step::FindUpdateInProgress;
        let adopted = step(
            &finding,
            Observation::UpdatesInProgress(Ok(vec![update(
                "u-9",
                UpdateState::InProgress,
                "VersionUpdate",
                Some("1.32"),
            )])),
        );
        assert_eq!(adopted.record.update_id.as_deref(), Some("u-9"));
        assert!(adopted.record.adopted);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn any_state() -> impl Strategy<Value = UpdateState> {
            prop_oneof![
                Just(UpdateState::InProgress),
                Just(UpdateState::Successful),
                Just(UpdateState::Failed),
                Just(UpdateState::Cancelled),
                Just(UpdateState::Other("X".into())),
            ]
        }

        fn any_failure() -> impl Strategy<Value = EksFailure> {
            prop_oneof![
                Just(FailureKind::ResourceInUse),
                Just(FailureKind::InvalidParameter),
                Just(FailureKind::InvalidState),
                Just(FailureKind::NotFound),
                Just(FailureKind::Transient),
                Just(FailureKind::Other),
            ]
            .prop_map(|kind| EksFailure::new(kind, "Code", "message"))
        }

        fn any_observation() -> impl Strategy<Value = Observation> {
            let update = || {
                (
                    any_state(),
                    prop_oneof![Just("VersionUpdate"), Just("AddonUpdate")],
                    prop_oneof![Just(None), Just(Some("1.31")), Just(Some("1.30"))],
                )
                    .prop_map(|(state, kind, version)| update("u-x", state, kind, version))
            };
            let status = prop_oneof![Just("ACTIVE"), Just("UPDATING"), Just("CREATING"), Just("DELETING")];
            let version = prop_oneof![Just("1.29"), Just("1.30"), Just("1.31"), Just("1.32")];
            prop_oneof![
                prop_oneof![
                    (status, version).prop_map(|(s, v)| Ok(cluster(s, v))),
                    any_failure().prop_map(Err)
                ]
                .prop_map(Observation::Cluster),
                prop_oneof![update().prop_map(Ok), any_failure().prop_map(Err)].prop_map(Observation::UpdateStarted),
                prop_oneof![
                    proptest::collection::vec(update(), 0..3).prop_map(Ok),
                    any_failure().prop_map(Err)
                ]
                .prop_map(Observation::UpdatesInProgress),
                prop_oneof![update().prop_map(Ok), any_failure().prop_map(Err)].prop_map(Observation::Update),
            ]
        }

        proptest! {
            /// Whatever EKS answers, in any order: the token never changes, a finished record
            /// never moves again, a running update's id is never dropped, and a record in
            /// progress always has an update id to track.
            #[test]
            fn invariants_hold_for_any_answers(observations in proptest::collection::vec(any_observation(), 1..40)) {
                let mut r = record_at(Step::InspectCluster);
                let token = r.client_request_token.clone();
                let mut now = NOW;
                for observed in observations {
                    now += 30;
                    let before = r.clone();
                    let t = reconcile(&r, observed, now, &limits());
                    prop_assert_eq!(&t.record.client_request_token, &token);
                    if before.is_finished() {
                        prop_assert_eq!(&t.record, &before);
                        prop_assert_eq!(t.next, Next::Stop);
                    }
                    if t.record.status == UpgradeStatus::Blocked {
                        // Checked again later by the sweep; never expires while blocked.
                        prop_assert!(t.record.sweep_bucket.is_some() && t.record.expires_at.is_none());
                        prop_assert!(t.record.wait_until.is_some());
                    } else if t.record.is_finished() {
                        prop_assert_eq!(t.next, Next::Stop);
                        prop_assert_eq!(t.record.step, Step::Done);
                        prop_assert!(t.record.sweep_bucket.is_none() && t.record.expires_at.is_some());
                    } else {
                        prop_assert!(t.next != Next::Stop);
                        prop_assert!(t.record.sweep_bucket.is_some());
                    }
                    if t.record.status == UpgradeStatus::InProgress {
                        prop_assert!(t.record.update_id.is_some());
                    }
                    if before.update_id.is_some() {
                        prop_assert_eq!(&t.record.update_id, &before.update_id);
                    }
                    r = t.record;
                }
            }
        }
    }
}
