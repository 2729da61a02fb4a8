//! One upgrade per cluster: a request takes its cluster's lock before its record is written,
//! and an operator cancels a parked or blocked upgrade to make room for another.

use super::reply::Summary;
use super::HandlerError;
use crate::domain::record::lock::ClusterLock;
use crate::domain::workflow::{self, Hold};
use crate::domain::{CancelRequest, UpgradeRecord};
use crate::ports::{Clock, Ports, RecordStore, Replaced, StoreError};
use tracing::{info, warn};

/// How many times a request tries to take a lock that keeps changing under it.
const HOLD_ATTEMPTS: usize = 5;

fn busy(cluster: &str, holder: &str, why: String) -> HandlerError {
    warn!(cluster, %holder, "refused: the cluster is held by another upgrade");
    HandlerError::ClusterBusy {
        cluster: cluster.to_owned(),
        holder: holder.to_owned(),
        why,
    }
}

impl<P: Ports> super::Orchestrator<P> {
    /// Takes the cluster's lock for `request_id`, or says which upgrade holds it.
    pub(super) async fn hold(&self, cluster: &str, request_id: &str) -> Result<(), HandlerError> {
        for _ in 0..HOLD_ATTEMPTS {
            let lock = self.store.get_lock(cluster).await?;
            let holder = match &lock {
                Some(lock) if lock.holder != request_id => match self.store.get(cluster, &lock.holder).await {
                    Ok(record) => record,
                    // A holder this build can't read: not taken over blindly.
                    Err(e) => {
                        return Err(busy(
                            cluster,
                            &lock.holder,
                            format!("has a record that can't be read ({e})"),
                        ))
                    }
                },
                _ => None,
            };
            let now = self.clock.now_secs();
            match workflow::may_hold(lock.as_ref(), holder.as_ref(), request_id, now, &self.config.limits) {
                Hold::Mine => return Ok(()),
                Hold::Held { holder, why } => return Err(busy(cluster, &holder, why)),
                Hold::Take { expected } => {
                    if expected.is_none() {
                        if let Some(running) = self.unlocked_holder(cluster, request_id).await? {
                            let why = format!("is {:?} (recorded before clusters had locks)", running.status);
                            return Err(busy(cluster, &running.request_id, why));
                        }
                    }
                    // The finished holder gives the cluster up first, conditionally on its
                    // revision: a request reopening it at the same time loses, or this one does.
                    if let Some(previous) = holder.filter(|h| h.released_to.as_deref() != Some(request_id)) {
                        let mut released = previous.clone();
                        released.released_to = Some(request_id.to_owned());
                        if self.write(&previous, released).await?.is_none() {
                            continue;
                        }
                    }
                    let revision = expected.map_or(0, |r| r + 1);
                    let taken = ClusterLock::new(cluster, request_id, now, revision);
                    if self.store.put_lock(&taken, expected).await? == Replaced::Done {
                        info!(cluster, request_id, "took the cluster for this upgrade");
                        return Ok(());
                    }
                }
            }
        }
        Err(HandlerError::Store(StoreError(format!(
            "the lock of cluster {cluster} kept changing; try again"
        ))))
    }

    /// An unfinished record of the cluster without a lock (written by a build before locks).
    async fn unlocked_holder(&self, cluster: &str, request_id: &str) -> Result<Option<UpgradeRecord>, StoreError> {
        let listed = self.store.list_cluster(cluster).await?;
        Ok(listed
            .records
            .into_iter()
            .find(|r| r.request_id != request_id && r.holds_cluster()))
    }

    /// Writes a reopened record once it holds its cluster again.
    pub(super) async fn hold_then_write(
        &self,
        current: &UpgradeRecord,
        next: UpgradeRecord,
    ) -> Result<Option<UpgradeRecord>, HandlerError> {
        self.hold(&current.cluster, &current.request_id).await?;
        Ok(self.write(current, next).await?)
    }

    /// `{"cancel": {...}}`: ends a parked, blocked or not yet started upgrade, which frees its
    /// cluster for another.
    pub async fn cancel(&self, request: CancelRequest) -> Result<Summary, HandlerError> {
        let key = request.cluster.key();
        let (cluster, request_id) = (key.as_str(), request.request_id.as_str());
        let Some(record) = self.store.get(cluster, request_id).await? else {
            return Err(HandlerError::NotCancelled(format!(
                "no upgrade {request_id} of cluster {cluster}"
            )));
        };
        let now = self.clock.now_secs();
        let cancelled = workflow::cancel(&record, now, &self.config.limits).map_err(|why| {
            HandlerError::NotCancelled(format!(
                "upgrade {request_id} of cluster {cluster} not cancelled: {why}"
            ))
        })?;
        match self.write(&record, cancelled).await? {
            Some(done) => {
                info!(cluster, request_id, "upgrade cancelled by request");
                Ok(Summary::of(&done, "cancelled; the cluster is free for another upgrade"))
            }
            None => Err(HandlerError::NotCancelled(format!(
                "upgrade {request_id} of cluster {cluster} changed meanwhile; send the cancel again"
            ))),
        }
    }
}
