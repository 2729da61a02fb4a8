//! Driving a record: claim it, make the calls its steps ask for (writing each new state before
//! the next call), and stop when it ends, nears the deadline (then a continuation carries on),
//! or has a long wait ahead (then it parks, and a wake-up carries on: nothing runs meanwhile).

use super::reply::{Ignored, Reply, Summary};
use super::span::{record_step, upgrade_span};
use super::{new_token, HandlerError, Invocation};
use crate::domain::event::wake::Wake;
use crate::domain::workflow::{self, Answer, Call, Claim, Next};
use crate::domain::{Continuation, ItemKind, UpgradeRecord};
use crate::ports::{Clock, Eks, NodegroupTarget, Ports, RecordStore, SelfInvoker, StoreError, WakeScheduler};
use tracing::{info, warn, Instrument};

/// How many times an invocation re-reads a record after losing a conditional write before it
/// leaves the record to whoever won.
const CLAIM_ATTEMPTS: usize = 5;

impl<P: Ports> super::Orchestrator<P> {
    /// A continuation: only the one carrying the record's current handoff goes on.
    pub async fn resume(&self, continuation: Continuation, invocation: &Invocation) -> Result<Reply, HandlerError> {
        let key = continuation.cluster.key();
        let cluster = key.as_str();
        let request_id = continuation.request_id.as_str();
        match self.store.get(cluster, request_id).await? {
            None => {
                warn!(cluster, request_id, "continuation for no stored upgrade ignored");
                Ok(Reply::Ignored(Ignored {
                    cluster: cluster.to_owned(),
                    request_id: request_id.to_owned(),
                    outcome: "no such upgrade; continuation ignored".to_owned(),
                }))
            }
            Some(record) => Ok(Reply::Upgrade(
                self.run(record, Some(&continuation.handoff), invocation).await?,
            )),
        }
    }

    /// Claims the record for this invocation and drives it. With `handoff`, only while the
    /// record still names that handoff.
    pub(super) async fn run(
        &self,
        record: UpgradeRecord,
        handoff: Option<&str>,
        invocation: &Invocation,
    ) -> Result<Summary, HandlerError> {
        let span = upgrade_span(&record.cluster, &record.request_id);
        Box::pin(self.claim_and_drive(record, handoff, invocation))
            .instrument(span)
            .await
    }

    async fn claim_and_drive(
        &self,
        mut record: UpgradeRecord,
        handoff: Option<&str>,
        invocation: &Invocation,
    ) -> Result<Summary, HandlerError> {
        for _ in 0..CLAIM_ATTEMPTS {
            if handoff.is_some_and(|expected| record.handoff.as_deref() != Some(expected)) {
                info!(cluster = %record.cluster, request_id = %record.request_id, "stale or unknown continuation ignored");
                return Ok(Summary::of(&record, "continuation does not match the record; ignored"));
            }
            let now = self.clock.now_secs();
            let lease_until = invocation.deadline_ms.div_euclid(1000);
            match workflow::claim(&record, &invocation.request_id, lease_until, now, &self.config.limits) {
                Claim::Finished => {
                    let recheck = workflow::recheck_at(&record).filter(|at| *at > now);
                    if let (Some(at), true) = (recheck, self.is_its_wake_up(&record, handoff)) {
                        // Its wake-up came before the re-check is due: again, then.
                        return Box::pin(self.park_until(record, at, "until it is checked again", true)).await;
                    }
                    return Ok(Summary::of(&record, "already finished; nothing done"));
                }
                Claim::Parked { until } if self.is_its_wake_up(&record, handoff) => {
                    // Its wake-up came before the window opened: again, then.
                    let why = "until the maintenance window opens";
                    return Box::pin(self.park_until(record, until, why, true)).await;
                }
                Claim::Parked { until } => {
                    let outcome = format!(
                        "parked outside the maintenance window until {until} (waitUntil): nothing started; the sweep wakes it then"
                    );
                    return Ok(Summary::of(&record, outcome));
                }
                Claim::Busy { owner, until } => {
                    info!(cluster = %record.cluster, request_id = %record.request_id, %owner, "another invocation holds the record");
                    let outcome = format!("another invocation ({owner}) is working on it until {until}");
                    return Ok(Summary::of(&record, outcome));
                }
                Claim::TimedOut(ended) => {
                    let Some(ended) = self.write(&record, ended).await? else {
                        return self
                            .current(&record, "another invocation changed the record first")
                            .await;
                    };
                    warn!(cluster = %ended.cluster, request_id = %ended.request_id, message = ?ended.message, "upgrade timed out");
                    return Ok(Summary::of(&ended, "chain bound reached; stopped"));
                }
                Claim::Claimed(claimed) => match self.write(&record, claimed).await? {
                    Some(claimed) => {
                        Box::pin(self.withdraw_wake(&record, handoff, now)).await;
                        return Box::pin(self.drive(claimed, invocation)).await;
                    }
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
        let mut in_a_row = 0;
        while let Some(call) = workflow::next_call(&record) {
            let call_name = call.name();
            record_step(call_name);
            let answer = Box::pin(self.call(&record, call)).await;
            self.crash_points.hit(&format!("after:{call_name}"))?;
            let now = self.clock.now_secs();
            let transition = workflow::reconcile(&record, answer, now, &self.config.limits);
            if transition.record != record {
                let before = (record.status, record.step);
                let Some(written) = self.write(&record, transition.record).await? else {
                    return self
                        .current(&record, "lost the record to another invocation; stopped")
                        .await;
                };
                record = written;
                if before != (record.status, record.step) {
                    info!(cluster = %record.cluster, request_id = %record.request_id, status = ?record.status,
                          step = ?record.step, update_id = ?record.update_id, message = ?record.message, "upgrade moved on");
                }
            }
            match transition.next {
                // Calls one after another are bounded: past the bound, a new invocation goes
                // on (whatever loop a step may fall into, it can't spin in one invocation).
                Next::Now if in_a_row + 1 >= self.config.max_steps_per_invocation => {
                    warn!(cluster = %record.cluster, request_id = %record.request_id, steps = in_a_row + 1,
                          "steps in a row reached MAX_STEPS_PER_INVOCATION; handing on");
                    return self.hand_off(record).await;
                }
                Next::Now => in_a_row += 1,
                Next::Stop => break,
                Next::Park if self.config.wake.is_some() => {
                    let until = record.wait_until.unwrap_or_else(|| self.clock.now_secs());
                    let why = "until the maintenance window opens";
                    return Box::pin(self.park_until(record, until, why, true)).await;
                }
                Next::Park => return self.park(record).await,
                Next::After(secs) if self.config.wake.as_ref().is_some_and(|w| secs >= w.park_after_secs) => {
                    let until = workflow::look_moment(&record, self.clock.now_secs(), secs);
                    return Box::pin(self.park_until(record, until, "until the next look", false)).await;
                }
                Next::After(secs) => {
                    let wait_ms = secs.max(0) * 1000;
                    if self.clock.now_ms() + wait_ms + margin_ms > invocation.deadline_ms {
                        return self.hand_off(record).await;
                    }
                    self.clock.sleep_ms(wait_ms as u64).await;
                    in_a_row = 0;
                }
            }
        }
        if let Some(at) = workflow::recheck_at(&record).filter(|_| self.config.wake.is_some()) {
            // Blocked, and checked again later by itself: a wake-up then.
            return Box::pin(self.park_until(record, at, "until it is checked again", true)).await;
        }
        Ok(Summary::of(&record, "finished"))
    }

    /// Whether a continuation carrying `handoff` is the wake-up `record` is parked for.
    fn is_its_wake_up(&self, record: &UpgradeRecord, handoff: Option<&str>) -> bool {
        self.config.wake.is_some()
            && record.wake_at.is_some()
            && handoff.is_some()
            && handoff == record.handoff.as_deref()
    }

    /// Parks the record until `at` (`not_before`: not a second earlier) and arranges the
    /// wake-up that carries it on then, tried twice. If that can't be arranged (throttled,
    /// denied, a crash in between), the sweep wakes the record once the wake-up is overdue:
    /// late, never lost.
    async fn park_until(
        &self,
        record: UpgradeRecord,
        at: i64,
        why: &str,
        not_before: bool,
    ) -> Result<Summary, HandlerError> {
        let lead = self.config.wake_lead_secs();
        let at = workflow::wake_moment(at, self.clock.now_secs(), lead, not_before);
        let nonce = new_token();
        let Some(parked) = self.write(&record, workflow::park(&record, &nonce, at)).await? else {
            return self
                .current(&record, "lost the record to another invocation; stopped")
                .await;
        };
        let wake = Wake::continuation(&parked.continuation(nonce).map_err(StoreError)?, at);
        self.crash_points.hit("before:wake")?;
        let arranged = match self.scheduler.arrange(&wake).await {
            Err(e) => {
                info!(cluster = %parked.cluster, request_id = %parked.request_id, error = %e, "arranging a wake-up failed; once more");
                self.scheduler.arrange(&wake).await
            }
            ok => ok,
        };
        match arranged {
            Ok(()) => {
                info!(cluster = %parked.cluster, request_id = %parked.request_id, wake_at = at, schedule = %wake.name,
                      "parked {why}; a wake-up is arranged");
                Ok(Summary::of(
                    &parked,
                    format!("parked {why} (wakeAt {at}); a wake-up goes on then"),
                ))
            }
            Err(e) => {
                warn!(cluster = %parked.cluster, request_id = %parked.request_id, wake_at = at, error = %e,
                      "wake-up not arranged; the sweep wakes the upgrade once it is overdue");
                Ok(Summary::of(
                    &parked,
                    format!("parked {why} (wakeAt {at}); the wake-up could not be arranged ({e}): the sweep wakes it"),
                ))
            }
        }
    }

    /// A parked record taken by someone other than its wake-up (a request sent again, the
    /// sweep, an operator): the wake-up still to come is withdrawn, best effort (if it comes
    /// anyway, its handoff no longer matches and it is ignored).
    async fn withdraw_wake(&self, record: &UpgradeRecord, handoff: Option<&str>, now: i64) {
        let (Some(at), Some(nonce)) = (record.wake_at.filter(|at| *at > now), record.handoff.as_deref()) else {
            return;
        };
        if handoff == Some(nonce) {
            return;
        }
        let Ok(continuation) = record.continuation(nonce.to_owned()) else {
            return;
        };
        let wake = Wake::continuation(&continuation, at);
        if let Err(e) = self.scheduler.withdraw(&wake.name).await {
            info!(cluster = %record.cluster, request_id = %record.request_id, error = %e, "a wake-up not withdrawn; it will be ignored");
        }
    }

    /// Lets go of a record parked until its maintenance window opens: no continuation; the
    /// sweep wakes it then.
    async fn park(&self, record: UpgradeRecord) -> Result<Summary, HandlerError> {
        let Some(parked) = self.write(&record, workflow::release(&record)).await? else {
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
    pub(super) async fn hand_off(&self, record: UpgradeRecord) -> Result<Summary, HandlerError> {
        let nonce = new_token();
        let Some(handed) = self.write(&record, workflow::hand_off(&record, &nonce)).await? else {
            return self
                .current(&record, "lost the record to another invocation; stopped")
                .await;
        };
        let continuation = handed.continuation(nonce).map_err(StoreError)?;
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

    /// Makes one EKS call and pairs it with its answer.
    async fn call(&self, record: &UpgradeRecord, call: Call) -> Answer {
        let cluster = record.cluster.as_str();
        match call {
            Call::DescribeCluster => Answer::DescribeCluster(self.eks.describe_cluster(cluster).await),
            Call::Survey { alarms } => Answer::Survey(Box::pin(self.survey(cluster, &alarms)).await),
            Call::UpdateClusterVersion { version, token, force } => {
                info!(cluster, %version, force, client_request_token = %token, "calling UpdateClusterVersion");
                Answer::UpdateClusterVersion(self.eks.update_cluster_version(cluster, version, &token, force).await)
            }
            Call::FindUpdatesInProgress => {
                Answer::FindUpdatesInProgress(Box::pin(self.updates_in_progress(cluster)).await)
            }
            Call::DescribeOtherUpdate { update_id } => {
                Answer::DescribeOtherUpdate(self.eks.describe_update(cluster, &update_id).await)
            }
            Call::DescribeUpdate { update_id } => {
                Answer::DescribeUpdate(self.eks.describe_update(cluster, &update_id).await)
            }
            Call::StartItem {
                kind,
                name,
                version,
                launch_template,
                token,
                force,
            } => {
                info!(cluster, ?kind, name, version, client_request_token = %token, "starting an update");
                Answer::StartItem(match kind {
                    ItemKind::Addon => {
                        let conflicts = &self.config.addon_resolve_conflicts;
                        self.eks.update_addon(cluster, &name, &version, &token, conflicts).await
                    }
                    ItemKind::Nodegroup => {
                        let target = match &launch_template {
                            Some(template) => NodegroupTarget::LaunchTemplate(template),
                            None => NodegroupTarget::Version(&version),
                        };
                        let eks = &self.eks;
                        eks.update_nodegroup_version(cluster, &name, target, &token, force)
                            .await
                    }
                })
            }
            Call::DescribeItemUpdate { kind, name, update_id } => {
                Answer::DescribeItemUpdate(self.eks.describe_item_update(cluster, kind, &name, &update_id).await)
            }
            Call::Verify { alarms } => Answer::Verify(Box::pin(self.verify_evidence(cluster, &alarms)).await),
            Call::RollbackSurvey => Answer::RollbackSurvey(Box::pin(self.rollback_survey(cluster)).await),
            Call::StartRollback {
                version,
                token,
                force,
                timeout_minutes: timeout,
            } => {
                info!(cluster, %version, force, timeout, client_request_token = %token, "calling UpdateClusterVersion (rollback)");
                let eks = &self.eks;
                Answer::StartRollback(
                    eks.roll_back_cluster_version(cluster, version, &token, force, timeout)
                        .await,
                )
            }
            Call::DescribeRollback { update_id } => {
                Answer::DescribeRollback(self.eks.describe_update(cluster, &update_id).await)
            }
            Call::ConfirmRolloutStart => Answer::ConfirmRolloutStart(Box::pin(self.rollout_consent(record)).await),
        }
    }
}
