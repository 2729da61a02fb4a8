//! The small traits between the workflow's driver and the outside world. Adapters over the AWS
//! SDK live in [`crate::adapters`]; in-memory ones for tests in [`crate::fakes`].

use crate::domain::eks::{AddonVersionOption, AddonView, InsightView, NodegroupView, OfferedVersion};
use crate::domain::notify::Notification;
use crate::domain::{ClusterView, Continuation, EksFailure, ItemKind, KubeVersion, UpdateView, UpgradeRecord};
use std::future::Future;

/// The EKS calls the workflow makes.
pub trait Eks: Send + Sync {
    fn describe_cluster(&self, cluster: &str) -> impl Future<Output = Result<ClusterView, EksFailure>> + Send;

    fn update_cluster_version(
        &self,
        cluster: &str,
        version: KubeVersion,
        client_request_token: &str,
        force: bool,
    ) -> impl Future<Output = Result<UpdateView, EksFailure>> + Send;

    fn describe_update(
        &self,
        cluster: &str,
        update_id: &str,
    ) -> impl Future<Output = Result<UpdateView, EksFailure>> + Send;

    /// The ids of the cluster's updates (all pages), newest first as EKS lists them.
    fn list_updates(&self, cluster: &str) -> impl Future<Output = Result<Vec<String>, EksFailure>> + Send;

    /// UpdateAddon to `version` with `client_request_token`.
    fn update_addon(
        &self,
        cluster: &str,
        addon: &str,
        version: &str,
        client_request_token: &str,
        resolve_conflicts: &str,
    ) -> impl Future<Output = Result<UpdateView, EksFailure>> + Send;

    /// UpdateNodegroupVersion to Kubernetes `version` with `client_request_token`.
    fn update_nodegroup_version(
        &self,
        cluster: &str,
        nodegroup: &str,
        version: &str,
        client_request_token: &str,
        force: bool,
    ) -> impl Future<Output = Result<UpdateView, EksFailure>> + Send;

    /// DescribeUpdate of an add-on's or node group's update.
    fn describe_item_update(
        &self,
        cluster: &str,
        kind: ItemKind,
        name: &str,
        update_id: &str,
    ) -> impl Future<Output = Result<UpdateView, EksFailure>> + Send;

    /// The Kubernetes versions EKS offers (DescribeClusterVersions, all pages).
    fn describe_cluster_versions(&self) -> impl Future<Output = Result<Vec<OfferedVersion>, EksFailure>> + Send;

    /// The cluster's managed node groups (ListNodegroups, then DescribeNodegroup on each).
    fn nodegroups(&self, cluster: &str) -> impl Future<Output = Result<Vec<NodegroupView>, EksFailure>> + Send;

    /// The cluster's installed add-ons (ListAddons, then DescribeAddon on each).
    fn addons(&self, cluster: &str) -> impl Future<Output = Result<Vec<AddonView>, EksFailure>> + Send;

    /// The versions of an add-on and what each runs on (DescribeAddonVersions, all pages).
    fn addon_versions(&self, addon: &str) -> impl Future<Output = Result<Vec<AddonVersionOption>, EksFailure>> + Send;

    /// The cluster's upgrade-readiness insights (ListInsights, all pages).
    fn upgrade_insights(&self, cluster: &str) -> impl Future<Output = Result<Vec<InsightView>, EksFailure>> + Send;
}

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

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("self-invoke: {0}")]
pub struct InvokeError(pub String);

/// Sends the function a continuation, asynchronously (InvocationType Event).
pub trait SelfInvoker: Send + Sync {
    fn send(&self, continuation: &Continuation) -> impl Future<Output = Result<(), InvokeError>> + Send;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("notifications: {0}")]
pub struct NotifyError(pub String);

/// Publishes notifications (EventBridge PutEvents). A failure never fails the upgrade: the
/// notifications stay in the record's outbox and go out with the next change.
pub trait Notifier: Send + Sync {
    fn publish(&self, notifications: &[Notification]) -> impl Future<Output = Result<(), NotifyError>> + Send;
}

/// Wall-clock time and waiting, so tests can run hours of polling in no time.
pub trait Clock: Send + Sync {
    /// Milliseconds since the epoch.
    fn now_ms(&self) -> i64;
    fn sleep_ms(&self, ms: u64) -> impl Future<Output = ()> + Send;

    fn now_secs(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or_default()
    }

    async fn sleep_ms(&self, ms: u64) {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await
    }
}
