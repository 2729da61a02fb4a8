//! The domain: events, records, the upgrade workflow and fleet rollouts. No I/O here.
//!
//! The modules form layers; each imports only from layers above it, never back:
//!
//! 1. [`text`], [`version`], [`window`]: leaves (quoting and durations, Kubernetes versions,
//!    maintenance windows);
//! 2. [`eks`]: what EKS reports, reduced (views, failures, update errors);
//! 3. [`plan`]: the upgrade plan, made from an EKS survey;
//! 4. [`event`]: the events the function accepts, decoded and validated;
//! 5. [`record`]: the stored upgrade record and its notification outbox;
//! 6. [`workflow`]: the state machine over the record;
//! 7. [`rollout`]: a fleet taken through stages, each cluster by an upgrade record;
//! 8. [`metrics`], [`support`]: what each change of an upgrade or a rollout record counts (EMF
//!    lines); support deadlines, their cost, and the versions a fleet is sent to.
//!
//! `tests/architecture.rs` checks that no module imports one below it.

pub mod text;
pub mod version;
pub mod window;

pub mod eks;

pub mod plan;

pub mod event;

pub mod record;

pub mod workflow;

pub mod rollout;

pub mod metrics;
pub mod support;

pub use eks::{ClusterView, EksFailure, EksUpdateError, FailureKind, UpdateState, UpdateView};
pub use event::{
    decode_event, AccountId, CancelRequest, ClusterId, ClusterName, Continuation, FleetReportRequest, InboundEvent,
    InvalidEvent, Location, Region, RequestId, RollbackRequest, StatusQuery, SweepRequest, UpgradeRequest,
};
pub use record::{HistoryEntry, ItemKind, ItemStatus, Step, UpgradeRecord, UpgradeStatus, WorkItem};
pub use version::{KubeVersion, TargetVersion};
