//! The record store port: upgrade records, one per (cluster, request id), every write
//! conditional.

use crate::domain::UpgradeRecord;
use std::future::Future;

/// A store failure: the table is unreachable, throttled, or answered something unexpected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("record store: {0}")]
pub struct StoreError(pub String);

/// The answer to a conditional insert.
#[derive(Debug, Clone, PartialEq)]
pub enum Inserted {
    Created,
    /// A record with that key was already there (a duplicate event, or a concurrent one).
    AlreadyExists(Box<UpgradeRecord>),
}

/// The answer to a conditional replace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replaced {
    Done,
    /// The stored revision was not the expected one: someone else wrote first.
    Conflict,
}

/// Upgrade records, one per (cluster, request id). Every write is conditional.
pub trait RecordStore: Send + Sync {
    /// Writes `record` unless a record with its key exists.
    fn insert_new(&self, record: &UpgradeRecord) -> impl Future<Output = Result<Inserted, StoreError>> + Send;

    /// Strongly consistent read.
    fn get(
        &self,
        cluster: &str,
        request_id: &str,
    ) -> impl Future<Output = Result<Option<UpgradeRecord>, StoreError>> + Send;

    /// Writes `record` (whose `revision` is `expected_revision + 1`) if the stored one is still
    /// at `expected_revision`.
    fn replace(
        &self,
        record: &UpgradeRecord,
        expected_revision: u64,
    ) -> impl Future<Output = Result<Replaced, StoreError>> + Send;

    /// Every record of a cluster.
    fn list_cluster(&self, cluster: &str) -> impl Future<Output = Result<Vec<UpgradeRecord>, StoreError>> + Send;

    /// The unfinished records whose heartbeat is at or before `heartbeat_before`.
    fn list_resumable(
        &self,
        heartbeat_before: i64,
    ) -> impl Future<Output = Result<Vec<UpgradeRecord>, StoreError>> + Send;
}
