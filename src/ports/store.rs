//! The record store port: upgrade records, one per (cluster, request id), every write
//! conditional.

use super::RolloutStore;
use crate::domain::record::lock::ClusterLock;
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

/// A stored item that does not decode as a record (written by another build, or by hand): it
/// is skipped and reported, never a reason to fail a listing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Unreadable {
    pub cluster: String,
    pub request_id: String,
    pub error: String,
}

/// What a listing found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Listed {
    pub records: Vec<UpgradeRecord>,
    pub unreadable: Vec<Unreadable>,
}

/// Upgrade records, one per (cluster, request id), and each cluster's lock. Every write is
/// conditional. The same table holds the rollouts ([`RolloutStore`]).
pub trait RecordStore: RolloutStore + Send + Sync {
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

    /// Every record of a cluster (not its lock).
    fn list_cluster(&self, cluster: &str) -> impl Future<Output = Result<Listed, StoreError>> + Send;

    /// The unfinished records whose heartbeat is at or before `heartbeat_before`.
    fn list_resumable(&self, heartbeat_before: i64) -> impl Future<Output = Result<Listed, StoreError>> + Send;

    /// The cluster's lock: which upgrade holds it.
    fn get_lock(&self, cluster: &str) -> impl Future<Output = Result<Option<ClusterLock>, StoreError>> + Send;

    /// Writes `lock` if there is none (`expected_revision` None) or if the stored one is still
    /// at `expected_revision`.
    fn put_lock(
        &self,
        lock: &ClusterLock,
        expected_revision: Option<u64>,
    ) -> impl Future<Output = Result<Replaced, StoreError>> + Send;
}
