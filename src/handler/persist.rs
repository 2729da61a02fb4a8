//! Writing a record: committed (revision, timestamps, counters, outbox), written conditionally
//! on the revision read, then its outbox published.

use super::reply::Summary;
use super::HandlerError;
use crate::domain::metrics::upgrade_metrics;
use crate::domain::workflow::{commit, CommitOptions};
use crate::domain::UpgradeRecord;
use crate::ports::{Clock, Notifier, Ports, RecordStore, Replaced, StoreError};
use tracing::warn;

impl<P: Ports> super::Orchestrator<P> {
    /// Writes `next` in place of `current` if nobody wrote since; `None` if somebody did.
    pub(super) async fn write(
        &self,
        current: &UpgradeRecord,
        next: UpgradeRecord,
    ) -> Result<Option<UpgradeRecord>, StoreError> {
        let options = CommitOptions {
            now: self.clock.now_secs(),
            notify: self.notifier.enabled(),
        };
        let next = commit(current, next, options);
        let written = match self.store.replace(&next, current.revision).await? {
            Replaced::Conflict => return Ok(None),
            Replaced::Done => {
                // Counted once the change is written: a lost write counts nothing.
                let now = options.now;
                self.metrics.emit(&upgrade_metrics(current, &next, now), now * 1000);
                if next.outbox.is_empty() {
                    next
                } else {
                    self.publish(next).await?
                }
            }
        };
        // An upgrade of a rollout that just ended tells its rollout.
        self.tell_rollout(current, &written).await;
        Ok(Some(written))
    }

    /// Publishes the outbox of a written record, then empties it (conditionally). If either
    /// fails, the notifications stay and go out with the next change: never lost, and never
    /// a reason to fail the upgrade.
    async fn publish(&self, record: UpgradeRecord) -> Result<UpgradeRecord, StoreError> {
        let mut sent = record.clone();
        match self.notifier.publish(&record.outbox).await {
            Ok(()) => sent.outbox.clear(),
            Err(e) => {
                warn!(cluster = %record.cluster, request_id = %record.request_id, error = %e,
                      pending = record.outbox.len() - e.published.len(), "notifications not published; kept for the next change");
                if e.published.is_empty() {
                    return Ok(record);
                }
                sent.outbox.retain(|n| !e.published.contains(&n.id));
            }
        }
        let options = CommitOptions {
            now: self.clock.now_secs(),
            notify: self.notifier.enabled(),
        };
        let sent = commit(&record, sent, options);
        match self.store.replace(&sent, record.revision).await? {
            Replaced::Done => Ok(sent),
            // Someone else wrote meanwhile: they hold the record now (and will publish again).
            Replaced::Conflict => Ok(record),
        }
    }

    /// The stored record's summary, after losing a write.
    pub(super) async fn current(&self, record: &UpgradeRecord, outcome: &str) -> Result<Summary, HandlerError> {
        let latest = self.store.get(&record.cluster, &record.request_id).await?;
        Ok(Summary::of(latest.as_ref().unwrap_or(record), outcome))
    }
}
