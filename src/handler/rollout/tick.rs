//! A rollout's tick: look at its started clusters' upgrade records, move the stages on, write
//! the record (conditionally on its revision), and only then start the clusters it names. A
//! crash after the write leaves them `STARTING`; the next tick starts them, once. A stage of
//! many clusters is started in batches: one invocation makes at most [`STARTS_PER_INVOCATION`]
//! starts, [`STARTS_AT_ONCE`] at a time, and hands the rest on to a fresh tick.

use super::children::starting;
use crate::domain::event::rollout::RolloutTick;
use crate::domain::event::wake::Wake;
use crate::domain::event::ClusterId;
use crate::domain::metrics::rollout_metrics;
use crate::domain::rollout::advance::{advance, advance_after_starts, observe, started, wake_at, StartOutcome};
use crate::domain::rollout::commit::{commit, RolloutCommit};
use crate::domain::rollout::{ClusterState, RolloutRecord};
use crate::handler::{HandlerError, Invocation};
use crate::ports::{Clock, Notifier, Ports, Replaced, RolloutStore, SelfInvoker, WakeScheduler};
use futures_util::future::join_all;
use tracing::{info, warn};

/// How many times a tick re-reads a rollout that changed under it, or goes round again.
const TICK_ROUNDS: usize = 8;

/// A start is about five calls (read, describe, lock, insert, invoke): 50 of them, 10 at a
/// time, take seconds, far from Lambda's timeout, and stay inside EKS's and DynamoDB's rates.
pub const STARTS_PER_INVOCATION: usize = 50;
const STARTS_AT_ONCE: usize = 10;

/// What one look did.
#[derive(Debug, PartialEq, Eq)]
enum Looked {
    /// Nothing to do: finished, or already seen.
    Nothing,
    /// Looked and wrote.
    Wrote,
    /// Wrote, and clusters it named are still to start: a fresh invocation goes on.
    MoreToStart,
}

impl<P: Ports> crate::handler::Orchestrator<P> {
    /// Ticks a rollout until nothing more happens now; within this invocation's time, it also
    /// waits for a soak that ends before the deadline.
    pub async fn tick(&self, tick: &RolloutTick, invocation: &Invocation) -> Result<RolloutRecord, HandlerError> {
        let mut rounds = 0;
        let told_by_key = tick.cluster.as_ref().map(ClusterId::key);
        let mut told_by = told_by_key.as_deref();
        loop {
            rounds += 1;
            let (record, looked) = self.tick_once(tick, told_by, invocation).await?;
            if looked == Looked::Nothing || rounds >= TICK_ROUNDS || record.is_finished() {
                return Ok(record);
            }
            if looked == Looked::MoreToStart {
                match self.invoker.send_tick(&tick.key().tick(None)).await {
                    Ok(()) => return Ok(record),
                    // Then this invocation goes on, while its time lasts (and the sweep after).
                    Err(e) => warn!(rollout = %tick.name, error = %e, "the rest of the starts not handed on"),
                }
            }
            told_by = None; // it has been seen: from here on, a tick like the sweep's
            if starting(&record) {
                continue; // refusals freed places, or a start lost a race: once more
            }
            let Some(at) = wake_at(&record) else { return Ok(record) };
            if let Some(wake) = &self.config.wake {
                if at - self.clock.now_secs() >= wake.park_after_secs {
                    Box::pin(self.arrange_tick(tick, at)).await;
                    return Ok(record);
                }
            }
            let margin_ms = self.config.safety_margin_secs * 1000;
            let wait_ms = (at - self.clock.now_secs()).max(0) * 1000;
            if self.clock.now_ms() + wait_ms + margin_ms > invocation.deadline_ms {
                return Ok(record); // the sweep ticks it after the soak
            }
            self.clock.sleep_ms(wait_ms as u64).await;
        }
    }

    /// A wake-up that ticks the rollout when its soak ends; if it can't be arranged, the
    /// sweep's tick comes later instead.
    async fn arrange_tick(&self, tick: &RolloutTick, at: i64) {
        // Not a second early: a tick before the soak's end would find nothing to do.
        let lead = self.config.wake_lead_secs();
        let at = crate::domain::workflow::wake_moment(at, self.clock.now_secs(), lead, true);
        let wake = Wake::rollout_tick(&tick.key().tick(None), at);
        match self.scheduler.arrange(&wake).await {
            Ok(()) => {
                info!(rollout = %tick.name, wake_at = at, schedule = %wake.name, "soaking; a wake-up ticks the rollout at its end")
            }
            Err(e) => {
                warn!(rollout = %tick.name, wake_at = at, error = %e, "wake-up not arranged; the sweep ticks the rollout")
            }
        }
    }

    /// One look: observe, advance, write; then start what it names (a batch of it), and write
    /// what the starts answered. [`Looked::Nothing`] when there was nothing to do: the rollout
    /// is finished, or it already shows the end of the cluster that sent this tick (a tick
    /// since looked, moved the rollout on and started what came next).
    async fn tick_once(
        &self,
        tick: &RolloutTick,
        told_by: Option<&str>,
        invocation: &Invocation,
    ) -> Result<(RolloutRecord, Looked), HandlerError> {
        let (name, request_id) = (tick.name.as_str(), tick.request_id.as_str());
        for round in 0..TICK_ROUNDS {
            if round > 0 {
                // Lost a write to another tick: wait a random while, so ticks sent together
                // (their clusters ended together) stop colliding.
                self.clock.sleep_ms(backoff_ms(round)).await;
            }
            let Some(current) = self.store.get_rollout(name, request_id).await? else {
                return Err(HandlerError::RolloutRefused(format!("no rollout {name}/{request_id}")));
            };
            if current.is_finished() || told_by.is_some_and(|cluster| seen_ended(&current, cluster)) {
                return Ok((current, Looked::Nothing));
            }
            let seen = self.children(&current).await?;
            let now = self.clock.now_secs();
            let mut next = current.clone();
            observe(&mut next, &seen, now);
            let mut to_start = advance(&mut next, now);
            // Clusters never tried first, then those waiting for another upgrade: a batch of
            // busy clusters must not keep the others from starting.
            to_start.sort_by_key(|c| was_waiting(&current, c));
            next.ticks += 1;
            let Some(written) = self.write_rollout(&current, next).await? else {
                continue; // someone else ticked it: look again
            };
            if to_start.is_empty() {
                return Ok((written, Looked::Wrote));
            }
            self.crash_points.hit("rollout:before-starts")?;
            let outcomes = self.start_batch(&written, &to_start, invocation).await?;
            self.crash_points.hit("rollout:after-starts")?;
            info!(
                rollout = name,
                request_id,
                started = outcomes.len(),
                left = to_start.len() - outcomes.len(),
                "rollout started clusters"
            );
            // Handed on while clusters never tried are left, or this batch started or refused
            // something; a batch of waiting clusters all still busy leaves them to the next tick
            // (a cluster's end, a soak's end, the sweep). Each hand-on so settles at least one
            // cluster: busy clusters can't make ticks hand on to each other for ever.
            let progressed = outcomes.iter().any(|(_, o)| !matches!(o, StartOutcome::Busy(_)));
            let fresh_left = to_start[outcomes.len()..].iter().any(|c| !was_waiting(&current, c));
            let looked = if outcomes.len() < to_start.len() && (progressed || fresh_left) {
                Looked::MoreToStart
            } else {
                Looked::Wrote
            };
            // Waiting clusters this batch did not get to wait on, as they were.
            let mut answered = outcomes.clone();
            answered.extend(
                to_start[outcomes.len()..]
                    .iter()
                    .filter_map(|c| waiting_note(&current, c).map(|why| (c.clone(), StartOutcome::Busy(why)))),
            );
            let mut after = written.clone();
            started(&mut after, &answered, self.clock.now_secs());
            advance_after_starts(&mut after, self.clock.now_secs());
            // Lost to another tick: the children exist; its next look sees them running.
            return Ok((self.write_rollout(&written, after).await?.unwrap_or(written), looked));
        }
        Err(HandlerError::RolloutRefused(format!(
            "rollout {name}/{request_id} kept changing under this tick; the next tick goes on"
        )))
    }

    /// Starts the first of `to_start`, [`STARTS_AT_ONCE`] at a time, up to
    /// [`STARTS_PER_INVOCATION`] and while the invocation has time; the others stay `STARTING`.
    async fn start_batch(
        &self,
        rollout: &RolloutRecord,
        to_start: &[String],
        invocation: &Invocation,
    ) -> Result<Vec<(String, StartOutcome)>, HandlerError> {
        let margin_ms = self.config.safety_margin_secs * 1000;
        let mut outcomes = Vec::new();
        let batch = &to_start[..to_start.len().min(STARTS_PER_INVOCATION)];
        for group in batch.chunks(STARTS_AT_ONCE) {
            if !outcomes.is_empty() && self.clock.now_ms() + margin_ms > invocation.deadline_ms {
                break;
            }
            let answers = join_all(group.iter().map(|cluster| self.start_child(rollout, cluster))).await;
            for (cluster, answer) in group.iter().zip(answers) {
                outcomes.push((cluster.clone(), answer?));
            }
        }
        Ok(outcomes)
    }

    /// Writes `next` over `current` if nobody wrote since (`None` if somebody did), then
    /// publishes its outbox.
    pub(super) async fn write_rollout(
        &self,
        current: &RolloutRecord,
        next: RolloutRecord,
    ) -> Result<Option<RolloutRecord>, HandlerError> {
        let options = self.rollout_commit();
        let next = commit(Some(current), next, options);
        match self.store.replace_rollout(&next, current.revision).await? {
            Replaced::Conflict => Ok(None),
            Replaced::Done => {
                self.metrics
                    .emit(&rollout_metrics(Some(current), &next), options.now * 1000);
                Ok(Some(self.publish_rollout(next).await?))
            }
        }
    }

    pub(super) fn rollout_commit(&self) -> RolloutCommit {
        RolloutCommit {
            now: self.clock.now_secs(),
            notify: self.notifier.enabled(),
            retention_secs: self.config.limits.retention_secs,
        }
    }

    /// Publishes a written rollout's outbox, then empties it (conditionally); a failure keeps
    /// them for the next change.
    pub(super) async fn publish_rollout(&self, record: RolloutRecord) -> Result<RolloutRecord, HandlerError> {
        if record.outbox.is_empty() {
            return Ok(record);
        }
        let mut sent = record.clone();
        match self.notifier.publish(&record.outbox).await {
            Ok(()) => sent.outbox.clear(),
            Err(e) => {
                warn!(rollout = %record.name, error = %e, "rollout notifications not published; kept for the next change");
                if e.published.is_empty() {
                    return Ok(record);
                }
                sent.outbox.retain(|n| !e.published.contains(&n.id));
            }
        }
        let sent = commit(Some(&record), sent, self.rollout_commit());
        match self.store.replace_rollout(&sent, record.revision).await? {
            Replaced::Done => Ok(sent),
            Replaced::Conflict => Ok(record),
        }
    }
}

/// Why `cluster` was waiting, if it was (its note, without `started`'s prefix).
fn waiting_note(rollout: &RolloutRecord, cluster: &str) -> Option<String> {
    let (s, c) = rollout.find(cluster)?;
    let entry = &rollout.stages[s].clusters[c];
    (entry.state == ClusterState::Waiting).then(|| {
        let note = entry.note.as_deref().unwrap_or("another upgrade holds it");
        note.strip_prefix("waiting: ").unwrap_or(note).to_owned()
    })
}

/// Whether `cluster` was waiting for another upgrade's lock before this tick.
fn was_waiting(rollout: &RolloutRecord, cluster: &str) -> bool {
    rollout
        .find(cluster)
        .is_some_and(|(s, c)| rollout.stages[s].clusters[c].state == ClusterState::Waiting)
}

/// Whether the rollout shows `cluster`'s upgrade ended.
fn seen_ended(rollout: &RolloutRecord, cluster: &str) -> bool {
    rollout.find(cluster).is_some_and(|(s, c)| {
        matches!(
            rollout.stages[s].clusters[c].state,
            ClusterState::Succeeded | ClusterState::Failed
        )
    })
}

/// A random wait before a tick's `round`-th look: up to 100 ms, doubling, at most 1.6 s.
fn backoff_ms(round: usize) -> u64 {
    let cap = 100u64 << round.min(4);
    let random = uuid::Uuid::new_v4().as_u128() as u64;
    random % cap
}
