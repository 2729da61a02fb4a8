//! The entry point: decodes an event and drives the workflow of [`crate::domain::workflow`]
//! through the ports. Every record change is written, conditionally on the revision read, before
//! the next EKS call goes out.

use crate::config::Config;
use crate::crash::{CrashPoints, InjectedCrash};
use crate::domain::eks::Survey;
use crate::domain::notify;
use crate::domain::plan::{make_plan, PlanError, TargetVersion};
use crate::domain::workflow::{self, Claim, EksCall, Next, Observation};
use crate::domain::RequestId;
use crate::domain::{
    decode_event, Continuation, EksFailure, InboundEvent, InvalidEvent, ItemKind, StatusQuery, UpdateState, UpdateView,
    UpgradeRecord, UpgradeRequest,
};
use crate::ports::{Clock, Eks, Inserted, Notifier, RecordStore, Replaced, SelfInvoker, StoreError};
use serde::Serialize;
use serde_json::{json, Value};
use tracing::{info, warn};

/// The invocation being served: who it is (the lease owner) and when Lambda stops it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub request_id: String,
    /// Epoch milliseconds.
    pub deadline_ms: i64,
}

impl Invocation {
    /// From the Lambda context. Lambda gives the deadline in epoch milliseconds; `cargo lambda
    /// watch` gives the function's timeout in milliseconds instead, which is taken as counting
    /// from `now_ms`.
    pub fn from_context(request_id: String, deadline_ms: u64, now_ms: i64) -> Self {
        const YEAR_2001_MS: i64 = 978_307_200_000;
        let deadline_ms = deadline_ms.min(i64::MAX as u64) as i64;
        let deadline_ms = if deadline_ms < YEAR_2001_MS {
            now_ms + deadline_ms
        } else {
            deadline_ms
        };
        Self {
            request_id,
            deadline_ms,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error(transparent)]
    InvalidEvent(#[from] InvalidEvent),
    #[error(
        "request id {request_id} of cluster {cluster} already names an upgrade to {existing}; \
             send a new requestId for a different target"
    )]
    ConflictingRequest {
        cluster: String,
        request_id: String,
        existing: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Crashed(#[from] InjectedCrash),
    #[error("no plan: {0}")]
    Plan(PlanError),
    #[error("{0}")]
    NotEnrolled(String),
    #[error("EKS: {0}")]
    Eks(EksFailure),
}

impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(error: HandlerError) -> Self {
        let error_type = match &error {
            HandlerError::InvalidEvent(_) => "InvalidEvent",
            HandlerError::ConflictingRequest { .. } => "ConflictingRequest",
            HandlerError::Store(_) => "StoreUnavailable",
            HandlerError::Crashed(_) => "InjectedCrash",
            HandlerError::Plan(_) => "PlanRefused",
            HandlerError::NotEnrolled(_) => "NotEnrolled",
            HandlerError::Eks(e) if e.kind == crate::domain::FailureKind::NotFound => "ClusterNotFound",
            HandlerError::Eks(_) => "EksUnavailable",
        };
        Self {
            error_type: error_type.to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// What an upgrade request or a continuation answers: the record's state and what this
/// invocation did about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub cluster: String,
    pub request_id: String,
    pub status: crate::domain::UpgradeStatus,
    pub target_version: crate::domain::KubeVersion,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_version: Option<crate::domain::KubeVersion>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_id: Option<String>,
    pub client_request_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// What this invocation did.
    pub outcome: String,
}

impl Summary {
    fn of(record: &UpgradeRecord, outcome: impl Into<String>) -> Self {
        Self {
            cluster: record.cluster.clone(),
            request_id: record.request_id.clone(),
            status: record.status,
            target_version: record.target_version,
            from_version: record.from_version,
            update_id: record.update_id.clone(),
            client_request_token: record.client_request_token.clone(),
            message: record.message.clone(),
            outcome: outcome.into(),
        }
    }
}

/// The function: the ports, the configuration, and the handling of each event.
pub struct Orchestrator<E, S, I, C, N> {
    pub eks: E,
    pub store: S,
    pub invoker: I,
    pub clock: C,
    pub notifier: N,
    pub config: Config,
    /// Test hook, empty in production: see [`crate::crash`].
    pub crash_points: CrashPoints,
}

/// How many times an invocation re-reads a record after losing a conditional write before it
/// leaves the record to whoever won.
const CLAIM_ATTEMPTS: usize = 5;

impl<E: Eks, S: RecordStore, I: SelfInvoker, C: Clock, N: Notifier> Orchestrator<E, S, I, C, N> {
    /// Handles one invocation's payload.
    pub async fn handle(&self, payload: &Value, invocation: &Invocation) -> Result<Value, HandlerError> {
        let budgeted;
        let invocation = match self.config.invocation_budget_secs {
            Some(budget) => {
                let deadline_ms = invocation.deadline_ms.min(self.clock.now_ms() + budget * 1000);
                budgeted = Invocation {
                    deadline_ms,
                    ..invocation.clone()
                };
                &budgeted
            }
            None => invocation,
        };
        let event = decode_event(payload).inspect_err(|e| warn!(error = %e, "event refused"))?;
        let answer = match event {
            InboundEvent::Upgrade(request) if request.dry_run => self.dry_run(&request).await?,
            InboundEvent::Upgrade(request) => to_json(&self.upgrade(request, invocation).await?),
            InboundEvent::Continuation(continuation) => self.resume(continuation, invocation).await?,
            InboundEvent::Status(query) => self.status(query).await?,
            InboundEvent::Sweep(_) => self.sweep().await?,
        };
        Ok(answer)
    }

    /// An upgrade request: the record is created (with its token) before anything else, or the
    /// existing one is taken up.
    pub async fn upgrade(&self, request: UpgradeRequest, invocation: &Invocation) -> Result<Summary, HandlerError> {
        let mut request = request;
        let target = match request.target_version {
            TargetVersion::Exact(version) => version,
            TargetVersion::Latest => {
                // Resolved once, when the request comes: the record names the version.
                let offered = self.eks.describe_cluster_versions().await.map_err(HandlerError::Eks)?;
                let latest = offered
                    .iter()
                    .filter(|v| v.status == "STANDARD_SUPPORT")
                    .map(|v| v.version)
                    .max();
                let latest = latest
                    .ok_or_else(|| HandlerError::Plan(PlanError("EKS lists no version in standard support".into())))?;
                if request.request_id.is_none() {
                    request.request_id = Some(RequestId::for_target(TargetVersion::Exact(latest)));
                }
                // From here the request names that version (so a blocked one can be reopened).
                request.target_version = TargetVersion::Exact(latest);
                latest
            }
        };
        // Only enrolled clusters: a stray or forged schedule is refused here, with nothing
        // written. (If EKS can't answer now, the preflight checks again before any change.)
        let name = request.cluster.as_str();
        if let Ok(cluster) = self.eks.describe_cluster(name).await {
            if !self.config.limits.admits(name, &cluster) {
                let reason = self.config.limits.not_enrolled(name);
                warn!(cluster = name, request_id = %request.request_id(), "refused: {reason}");
                return Err(HandlerError::NotEnrolled(reason));
            }
        }
        let now = self.clock.now_secs();
        let fresh = UpgradeRecord::new(&request, target, new_token(), now);
        let record = match self.store.insert_new(&fresh).await? {
            Inserted::Created => {
                info!(cluster = %fresh.cluster, request_id = %fresh.request_id, target = %fresh.target_version,
                      client_request_token = %fresh.client_request_token, "upgrade request recorded");
                fresh
            }
            Inserted::AlreadyExists(existing) => {
                let existing = *existing;
                if existing.target_version != target {
                    return Err(HandlerError::ConflictingRequest {
                        cluster: existing.cluster,
                        request_id: existing.request_id,
                        existing: existing.target_version.to_string(),
                    });
                }
                match workflow::reopen(&existing, &request, new_token(), now) {
                    Some(reopened) => match self.write(&existing, reopened).await? {
                        Some(record) => {
                            info!(cluster = %record.cluster, request_id = %record.request_id, force = record.force,
                                  client_request_token = %record.client_request_token, "blocked upgrade requested again");
                            record
                        }
                        None => {
                            return self
                                .current(&existing, "another invocation changed the record first")
                                .await
                        }
                    },
                    None if existing.is_finished() => {
                        return Ok(Summary::of(&existing, "this request was already handled; nothing done"))
                    }
                    None => existing,
                }
            }
        };
        self.run(record, None, invocation).await
    }

    /// A continuation: only the one carrying the record's current handoff goes on.
    pub async fn resume(&self, continuation: Continuation, invocation: &Invocation) -> Result<Value, HandlerError> {
        let cluster = continuation.cluster.as_str();
        let request_id = continuation.request_id.as_str();
        match self.store.get(cluster, request_id).await? {
            None => {
                warn!(cluster, request_id, "continuation for no stored upgrade ignored");
                Ok(
                    json!({ "cluster": cluster, "requestId": request_id, "outcome": "no such upgrade; continuation ignored" }),
                )
            }
            Some(record) => Ok(to_json(
                &self.run(record, Some(&continuation.handoff), invocation).await?,
            )),
        }
    }

    /// Claims the record for this invocation and drives it. With `handoff`, only while the
    /// record still names that handoff.
    async fn run(
        &self,
        mut record: UpgradeRecord,
        handoff: Option<&str>,
        invocation: &Invocation,
    ) -> Result<Summary, HandlerError> {
        for _ in 0..CLAIM_ATTEMPTS {
            if let Some(expected) = handoff {
                if record.handoff.as_deref() != Some(expected) {
                    info!(cluster = %record.cluster, request_id = %record.request_id, "stale or unknown continuation ignored");
                    return Ok(Summary::of(&record, "continuation does not match the record; ignored"));
                }
            }
            let now = self.clock.now_secs();
            let lease_until = invocation.deadline_ms.div_euclid(1000);
            match workflow::claim(&record, &invocation.request_id, lease_until, now, &self.config.limits) {
                Claim::Finished => return Ok(Summary::of(&record, "already finished; nothing done")),
                Claim::Busy { owner, until } => {
                    info!(cluster = %record.cluster, request_id = %record.request_id, %owner, "another invocation holds the record");
                    return Ok(Summary::of(
                        &record,
                        format!("another invocation ({owner}) is working on it until {until}"),
                    ));
                }
                Claim::TimedOut(ended) => {
                    return match self.write(&record, ended).await? {
                        Some(ended) => {
                            warn!(cluster = %ended.cluster, request_id = %ended.request_id, message = ?ended.message, "upgrade timed out");
                            Ok(Summary::of(&ended, "chain bound reached; stopped"))
                        }
                        None => {
                            self.current(&record, "another invocation changed the record first")
                                .await
                        }
                    };
                }
                Claim::Claimed(claimed) => match self.write(&record, claimed).await? {
                    Some(claimed) => return self.drive(claimed, invocation).await,
                    None => match self.store.get(&record.cluster, &record.request_id).await? {
                        Some(fresh) => record = fresh,
                        None => return Ok(Summary::of(&record, "record vanished")),
                    },
                },
            }
        }
        Ok(Summary::of(
            &record,
            "the record kept changing under this invocation; left to the others",
        ))
    }

    /// Makes the calls the record asks for, writing each new state before the next call, until
    /// the upgrade ends or the deadline nears (then a continuation carries on).
    async fn drive(&self, mut record: UpgradeRecord, invocation: &Invocation) -> Result<Summary, HandlerError> {
        let margin_ms = self.config.safety_margin_secs * 1000;
        while let Some(call) = workflow::next_call(&record) {
            let call_name = call.name();
            let observed = self.observe(&record.cluster, call).await;
            self.crash_points.hit(&format!("after:{call_name}"))?;
            let now = self.clock.now_secs();
            let transition = workflow::reconcile(&record, observed, now, &self.config.limits);
            if transition.record != record {
                let before = (record.status, record.step);
                match self.write(&record, transition.record).await? {
                    Some(written) => record = written,
                    None => {
                        return self
                            .current(&record, "lost the record to another invocation; stopped")
                            .await
                    }
                }
                if before != (record.status, record.step) {
                    info!(cluster = %record.cluster, request_id = %record.request_id, status = ?record.status,
                          step = ?record.step, update_id = ?record.update_id, message = ?record.message, "upgrade moved on");
                }
            }
            match transition.next {
                Next::Now => continue,
                Next::Stop => break,
                Next::Park => return self.park(record).await,
                Next::After(secs) => {
                    let wait_ms = secs.max(0) * 1000;
                    if self.clock.now_ms() + wait_ms + margin_ms <= invocation.deadline_ms {
                        self.clock.sleep_ms(wait_ms as u64).await;
                    } else {
                        return self.hand_off(record).await;
                    }
                }
            }
        }
        Ok(Summary::of(&record, "finished"))
    }

    /// Lets go of a record parked until its maintenance window opens: no continuation; the
    /// sweep wakes it then.
    async fn park(&self, record: UpgradeRecord) -> Result<Summary, HandlerError> {
        let released = workflow::release(&record, self.clock.now_secs());
        let Some(parked) = self.write(&record, released).await? else {
            return self
                .current(&record, "lost the record to another invocation; stopped")
                .await;
        };
        info!(cluster = %parked.cluster, request_id = %parked.request_id, wait_until = ?parked.wait_until,
              message = ?parked.message, "parked until the maintenance window opens");
        Ok(Summary::of(
            &parked,
            "parked until the maintenance window opens; the sweep wakes it",
        ))
    }

    /// Writes the handoff, then sends the continuation. If the send fails, the record's heartbeat
    /// goes stale and the sweep resumes it.
    async fn hand_off(&self, record: UpgradeRecord) -> Result<Summary, HandlerError> {
        let nonce = new_token();
        let handed = workflow::hand_off(&record, &nonce, self.clock.now_secs());
        let Some(handed) = self.write(&record, handed).await? else {
            return self
                .current(&record, "lost the record to another invocation; stopped")
                .await;
        };
        let continuation = continuation_of(&handed, nonce)?;
        self.crash_points.hit("before:continuation")?;
        match self.invoker.send(&continuation).await {
            Ok(()) => {
                info!(cluster = %handed.cluster, request_id = %handed.request_id, "continuation sent");
                Ok(Summary::of(&handed, "tracking goes on in a new invocation"))
            }
            Err(e) => {
                warn!(cluster = %handed.cluster, request_id = %handed.request_id, error = %e,
                      stale_after_secs = self.config.limits.stale_after_secs, "continuation not sent; the sweep will resume the upgrade");
                Ok(Summary::of(
                    &handed,
                    "continuation not sent; the sweep will resume the upgrade",
                ))
            }
        }
    }

    /// Makes one EKS call.
    async fn observe(&self, cluster: &str, call: EksCall) -> Observation {
        match call {
            EksCall::DescribeCluster => Observation::Cluster(self.eks.describe_cluster(cluster).await),
            EksCall::UpdateClusterVersion { version, token, force } => {
                info!(cluster, %version, force, client_request_token = %token, "calling UpdateClusterVersion");
                Observation::UpdateStarted(self.eks.update_cluster_version(cluster, version, &token, force).await)
            }
            EksCall::FindUpdatesInProgress => Observation::UpdatesInProgress(self.updates_in_progress(cluster).await),
            EksCall::DescribeUpdate { update_id } => {
                Observation::Update(self.eks.describe_update(cluster, &update_id).await)
            }
            EksCall::Survey => Observation::Surveyed(self.survey(cluster).await),
            EksCall::StartItem {
                kind,
                name,
                version,
                token,
                force,
            } => {
                info!(cluster, ?kind, name, version, client_request_token = %token, "starting an update");
                let started = match kind {
                    ItemKind::Addon => {
                        let conflicts = &self.config.addon_resolve_conflicts;
                        self.eks.update_addon(cluster, &name, &version, &token, conflicts).await
                    }
                    ItemKind::Nodegroup => {
                        self.eks
                            .update_nodegroup_version(cluster, &name, &version, &token, force)
                            .await
                    }
                };
                Observation::ItemStarted(started)
            }
            EksCall::DescribeItemUpdate { kind, name, update_id } => {
                Observation::ItemUpdate(self.eks.describe_item_update(cluster, kind, &name, &update_id).await)
            }
        }
    }

    async fn updates_in_progress(&self, cluster: &str) -> Result<Vec<UpdateView>, EksFailure> {
        let mut running = Vec::new();
        for id in self.eks.list_updates(cluster).await? {
            let update = self.eks.describe_update(cluster, &id).await?;
            if update.state == UpdateState::InProgress {
                running.push(update);
            }
        }
        Ok(running)
    }

    /// A dry run: the plan from read-only EKS calls; nothing is written, in EKS or in the table.
    pub async fn dry_run(&self, request: &UpgradeRequest) -> Result<Value, HandlerError> {
        let cluster = request.cluster.as_str();
        let survey = self.survey(cluster).await.map_err(HandlerError::Eks)?;
        let plan = make_plan(cluster, request.target_version, request.force, &survey).map_err(HandlerError::Plan)?;
        info!(
            cluster,
            hops = plan.hops.len(),
            blockers = plan.blockers.len(),
            "dry run planned"
        );
        let now = self.clock.now_secs();
        let window = request.maintenance_window.as_ref();
        let next_opening =
            crate::domain::window::next_opening(window, &request.exclusions, now, self.config.limits.hop_estimate_secs);
        Ok(json!({
            "dryRun": true,
            "enrolled": self.config.limits.admits(cluster, &survey.cluster),
            "plan": plan,
            "window": {
                "window": window.map(|w| w.describe()),
                "openNow": next_opening == Some(now),
                "nextOpening": next_opening,
            },
            "outcome": "planned only: nothing was changed in EKS or in the table",
        }))
    }

    /// Everything a plan is made from, by read-only calls.
    async fn survey(&self, cluster: &str) -> Result<Survey, EksFailure> {
        let mut addon_versions = Vec::new();
        let addons = self.eks.addons(cluster).await?;
        for addon in &addons {
            addon_versions.push((addon.name.clone(), self.eks.addon_versions(&addon.name).await?));
        }
        Ok(Survey {
            cluster: self.eks.describe_cluster(cluster).await?,
            versions: self.eks.describe_cluster_versions().await?,
            nodegroups: self.eks.nodegroups(cluster).await?,
            addons,
            addon_versions,
            insights: self.eks.upgrade_insights(cluster).await?,
        })
    }

    /// The status query: the stored records, as they are.
    pub async fn status(&self, query: StatusQuery) -> Result<Value, HandlerError> {
        let cluster = query.cluster.as_str();
        let records = match &query.request_id {
            Some(id) => self.store.get(cluster, id.as_str()).await?.into_iter().collect(),
            None => self.store.list_cluster(cluster).await?,
        };
        Ok(json!({ "cluster": cluster, "records": records }))
    }

    /// The sweep: hands every stale unfinished record to a fresh continuation.
    pub async fn sweep(&self) -> Result<Value, HandlerError> {
        let now = self.clock.now_secs();
        let limits = &self.config.limits;
        let candidates = self.store.list_resumable(now - limits.stale_after_secs).await?;
        let (mut resumed, mut failed) = (Vec::new(), Vec::new());
        for record in candidates.iter().filter(|r| workflow::is_stale(r, now, limits)) {
            let nonce = new_token();
            let handed = workflow::resume_stale(record, &nonce, now);
            let key = json!({ "cluster": record.cluster, "requestId": record.request_id });
            match self.write(record, handed).await {
                Ok(Some(handed)) => match self.send_continuation(&handed, nonce).await {
                    Ok(()) => {
                        info!(cluster = %record.cluster, request_id = %record.request_id, step = ?record.step, "sweep resumed a stale upgrade");
                        resumed.push(key);
                    }
                    Err(e) => {
                        warn!(cluster = %record.cluster, request_id = %record.request_id, error = %e, "sweep could not send a continuation");
                        failed.push(key);
                    }
                },
                Ok(None) => {} // someone else took it meanwhile: it is alive
                Err(e) => {
                    warn!(cluster = %record.cluster, request_id = %record.request_id, error = %e, "sweep could not write the record");
                    failed.push(key);
                }
            }
        }
        info!(
            candidates = candidates.len(),
            resumed = resumed.len(),
            failed = failed.len(),
            "sweep done"
        );
        Ok(json!({ "checked": candidates.len(), "resumed": resumed, "failed": failed }))
    }

    async fn send_continuation(&self, record: &UpgradeRecord, nonce: String) -> Result<(), String> {
        let continuation = continuation_of(record, nonce).map_err(|e| e.to_string())?;
        self.invoker.send(&continuation).await.map_err(|e| e.to_string())
    }

    /// Writes `next` in place of `current` if nobody wrote since; `None` if somebody did.
    async fn write(
        &self,
        current: &UpgradeRecord,
        mut next: UpgradeRecord,
    ) -> Result<Option<UpgradeRecord>, StoreError> {
        notify::queue(current, &mut next);
        next.revision = current.revision + 1;
        match self.store.replace(&next, current.revision).await? {
            Replaced::Done if next.outbox.is_empty() => Ok(Some(next)),
            Replaced::Done => Ok(Some(self.publish(next).await?)),
            Replaced::Conflict => Ok(None),
        }
    }

    /// Publishes the outbox of a written record, then empties it (conditionally). If either
    /// fails, the notifications stay and go out with the next change: never lost, and never
    /// a reason to fail the upgrade.
    async fn publish(&self, record: UpgradeRecord) -> Result<UpgradeRecord, StoreError> {
        if let Err(e) = self.notifier.publish(&record.outbox).await {
            warn!(cluster = %record.cluster, request_id = %record.request_id, error = %e,
                  pending = record.outbox.len(), "notifications not published; kept for the next change");
            return Ok(record);
        }
        let mut sent = record.clone();
        sent.outbox.clear();
        sent.revision = record.revision + 1;
        match self.store.replace(&sent, record.revision).await? {
            Replaced::Done => Ok(sent),
            // Someone else wrote meanwhile: they hold the record now (and will publish again).
            Replaced::Conflict => Ok(record),
        }
    }

    /// The stored record's summary, after losing a write.
    async fn current(&self, record: &UpgradeRecord, outcome: &str) -> Result<Summary, HandlerError> {
        let latest = self.store.get(&record.cluster, &record.request_id).await?;
        Ok(Summary::of(latest.as_ref().unwrap_or(record), outcome))
    }
}

fn continuation_of(record: &UpgradeRecord, handoff: String) -> Result<Continuation, StoreError> {
    let invalid = |e: String| StoreError(format!("stored record has an invalid key: {e}"));
    Ok(Continuation {
        cluster: crate::domain::ClusterName::parse(&record.cluster).map_err(invalid)?,
        request_id: crate::domain::RequestId::parse(&record.request_id).map_err(invalid)?,
        handoff,
    })
}

fn new_token() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}
