//! A record store in memory for tests, with the semantics of DynamoDB's conditional PutItem and
//! faults on demand. Compiled for tests only (feature `test-util`).

use super::{Inserted, Listed, RecordStore, Replaced, RolloutStore, StoreError, Unreadable};
use crate::domain::record::lock::ClusterLock;
use crate::domain::rollout::{partition, RolloutRecord};
use crate::domain::UpgradeRecord;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

type WritePredicate = Box<dyn Fn(&UpgradeRecord) -> bool + Send>;

/// A record store with the semantics of conditional PutItem, and faults on demand.
#[derive(Clone, Default)]
pub struct MemoryStore {
    records: Arc<Mutex<BTreeMap<(String, String), UpgradeRecord>>>,
    locks: Arc<Mutex<BTreeMap<String, ClusterLock>>>,
    rollouts: Arc<Mutex<BTreeMap<(String, String), RolloutRecord>>>,
    /// Items that do not decode (as another build could leave): listed as unreadable.
    pub unreadable: Arc<Mutex<Vec<Unreadable>>>,
    /// While set, every call fails (the table is unreachable).
    pub unavailable: Arc<AtomicBool>,
    /// The next write of a record matching the predicate fails (a crash at that point).
    fail_next_write: Arc<Mutex<Option<WritePredicate>>>,
    pub writes: Arc<AtomicUsize>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore").field("records", &self.records).finish()
    }
}

impl MemoryStore {
    /// Makes the next write of a record matching `predicate` fail, as a crash between the EKS
    /// call and the write would.
    pub fn fail_next_write_where(&self, predicate: impl Fn(&UpgradeRecord) -> bool + Send + 'static) {
        *self.fail_next_write.lock().expect("lock") = Some(Box::new(predicate));
    }

    pub fn all(&self) -> Vec<UpgradeRecord> {
        self.records.lock().expect("lock").values().cloned().collect()
    }

    pub fn record(&self, cluster: &str, request_id: &str) -> Option<UpgradeRecord> {
        self.records
            .lock()
            .expect("lock")
            .get(&(cluster.to_owned(), request_id.to_owned()))
            .cloned()
    }

    fn unreadable_where(&self, keep: impl Fn(&Unreadable) -> bool) -> Vec<Unreadable> {
        self.unreadable
            .lock()
            .expect("lock")
            .iter()
            .filter(|u| keep(u))
            .cloned()
            .collect()
    }

    /// Sets a cluster's lock as is (to set up a test).
    pub fn put_lock_as_is(&self, lock: ClusterLock) {
        self.locks.lock().expect("lock").insert(lock.cluster.clone(), lock);
    }

    /// The cluster's lock, as stored.
    pub fn lock_of(&self, cluster: &str) -> Option<ClusterLock> {
        self.locks.lock().expect("lock").get(cluster).cloned()
    }

    /// Every rollout, as stored.
    pub fn rollouts(&self) -> Vec<RolloutRecord> {
        self.rollouts.lock().expect("lock").values().cloned().collect()
    }

    /// Puts a record as is (to set up a test).
    pub fn put(&self, record: UpgradeRecord) {
        self.records
            .lock()
            .expect("lock")
            .insert((record.cluster.clone(), record.request_id.clone()), record);
    }

    async fn enter(&self) -> Result<(), StoreError> {
        tokio::task::yield_now().await;
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(StoreError("the table is unreachable".to_owned()));
        }
        Ok(())
    }

    fn check_write(&self, record: &UpgradeRecord) -> Result<(), StoreError> {
        let mut slot = self.fail_next_write.lock().expect("lock");
        if slot.as_ref().is_some_and(|p| p(record)) {
            *slot = None;
            return Err(StoreError("injected failure: the write did not happen".to_owned()));
        }
        self.writes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

impl RecordStore for MemoryStore {
    async fn insert_new(&self, record: &UpgradeRecord) -> Result<Inserted, StoreError> {
        self.enter().await?;
        let key = (record.cluster.clone(), record.request_id.clone());
        if let Some(existing) = self.records.lock().expect("lock").get(&key) {
            return Ok(Inserted::AlreadyExists(Box::new(existing.clone())));
        }
        self.check_write(record)?;
        self.records.lock().expect("lock").insert(key, record.clone());
        Ok(Inserted::Created)
    }

    async fn get(&self, cluster: &str, request_id: &str) -> Result<Option<UpgradeRecord>, StoreError> {
        self.enter().await?;
        if let Some(bad) = self
            .unreadable_where(|u| u.cluster == cluster && u.request_id == request_id)
            .pop()
        {
            return Err(StoreError(bad.error));
        }
        Ok(self.record(cluster, request_id))
    }

    async fn replace(&self, record: &UpgradeRecord, expected_revision: u64) -> Result<Replaced, StoreError> {
        self.enter().await?;
        let key = (record.cluster.clone(), record.request_id.clone());
        let current = self.records.lock().expect("lock").get(&key).map(|r| r.revision);
        if current != Some(expected_revision) {
            return Ok(Replaced::Conflict);
        }
        self.check_write(record)?;
        self.records.lock().expect("lock").insert(key, record.clone());
        Ok(Replaced::Done)
    }

    async fn list_cluster(&self, cluster: &str) -> Result<Listed, StoreError> {
        self.enter().await?;
        Ok(Listed {
            records: self.all().into_iter().filter(|r| r.cluster == cluster).collect(),
            unreadable: self.unreadable_where(|u| u.cluster == cluster),
        })
    }

    async fn list_resumable(&self, heartbeat_before: i64) -> Result<Listed, StoreError> {
        self.enter().await?;
        Ok(Listed {
            records: self
                .all()
                .into_iter()
                .filter(|r| r.sweep_bucket.is_some() && r.heartbeat_at <= heartbeat_before)
                .collect(),
            unreadable: self.unreadable_where(|_| true),
        })
    }

    async fn get_lock(&self, cluster: &str) -> Result<Option<ClusterLock>, StoreError> {
        self.enter().await?;
        Ok(self.locks.lock().expect("lock").get(cluster).cloned())
    }

    async fn put_lock(&self, lock: &ClusterLock, expected_revision: Option<u64>) -> Result<Replaced, StoreError> {
        self.enter().await?;
        let mut locks = self.locks.lock().expect("lock");
        if locks.get(&lock.cluster).map(|l| l.revision) != expected_revision {
            return Ok(Replaced::Conflict);
        }
        self.writes.fetch_add(1, Ordering::SeqCst);
        locks.insert(lock.cluster.clone(), lock.clone());
        Ok(Replaced::Done)
    }
}

impl RolloutStore for MemoryStore {
    async fn insert_rollout(&self, record: &RolloutRecord) -> Result<Option<RolloutRecord>, StoreError> {
        self.enter().await?;
        let key = (record.cluster.clone(), record.request_id.clone());
        let mut rollouts = self.rollouts.lock().expect("lock");
        if let Some(existing) = rollouts.get(&key) {
            return Ok(Some(existing.clone()));
        }
        self.writes.fetch_add(1, Ordering::SeqCst);
        rollouts.insert(key, record.clone());
        Ok(None)
    }

    async fn get_rollout(&self, name: &str, request_id: &str) -> Result<Option<RolloutRecord>, StoreError> {
        self.enter().await?;
        let key = (partition(name), request_id.to_owned());
        Ok(self.rollouts.lock().expect("lock").get(&key).cloned())
    }

    async fn replace_rollout(&self, record: &RolloutRecord, expected_revision: u64) -> Result<Replaced, StoreError> {
        self.enter().await?;
        let key = (record.cluster.clone(), record.request_id.clone());
        let mut rollouts = self.rollouts.lock().expect("lock");
        if rollouts.get(&key).map(|r| r.revision) != Some(expected_revision) {
            return Ok(Replaced::Conflict);
        }
        self.writes.fetch_add(1, Ordering::SeqCst);
        rollouts.insert(key, record.clone());
        Ok(Replaced::Done)
    }

    async fn list_rollouts(&self, name: &str) -> Result<Vec<RolloutRecord>, StoreError> {
        self.enter().await?;
        let partition = partition(name);
        Ok(self.rollouts().into_iter().filter(|r| r.cluster == partition).collect())
    }

    async fn list_unfinished_rollouts(&self) -> Result<Vec<RolloutRecord>, StoreError> {
        self.enter().await?;
        Ok(self
            .rollouts()
            .into_iter()
            .filter(|r| r.sweep_bucket.is_some())
            .collect())
    }
}
