//! The rollout records, in the same table as the upgrades (partition `rollout#<name>`), every
//! write conditional, as for an upgrade record.

use super::{Replaced, StoreError};
use crate::domain::rollout::RolloutRecord;
use std::future::Future;

/// Rollout records, one per (name, request id).
pub trait RolloutStore: Send + Sync {
    /// Writes `record` unless one with its key exists; answers the existing one if so.
    fn insert_rollout(
        &self,
        record: &RolloutRecord,
    ) -> impl Future<Output = Result<Option<RolloutRecord>, StoreError>> + Send;

    /// Strongly consistent read.
    fn get_rollout(
        &self,
        name: &str,
        request_id: &str,
    ) -> impl Future<Output = Result<Option<RolloutRecord>, StoreError>> + Send;

    /// Writes `record` (at `expected_revision + 1`) if the stored one is still at
    /// `expected_revision`.
    fn replace_rollout(
        &self,
        record: &RolloutRecord,
        expected_revision: u64,
    ) -> impl Future<Output = Result<Replaced, StoreError>> + Send;

    /// Every rollout of that name.
    fn list_rollouts(&self, name: &str) -> impl Future<Output = Result<Vec<RolloutRecord>, StoreError>> + Send;

    /// The unfinished rollouts (the sweep ticks them).
    fn list_unfinished_rollouts(&self) -> impl Future<Output = Result<Vec<RolloutRecord>, StoreError>> + Send;
}
