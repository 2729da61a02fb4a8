//! The domain: events, records and the upgrade workflow. No I/O here.

pub mod eks;
pub mod event;
pub mod notify;
pub mod plan;
pub mod record;
pub mod version;
pub mod window;
pub mod workflow;

pub use eks::{ClusterView, EksFailure, FailureKind, UpdateState, UpdateView};
pub use event::{
    decode_event, ClusterName, Continuation, InboundEvent, InvalidEvent, RequestId, StatusQuery, SweepRequest,
    UpgradeRequest,
};
pub use record::{EksUpdateError, HistoryEntry, ItemKind, ItemStatus, Step, UpgradeRecord, UpgradeStatus, WorkItem};
pub use version::KubeVersion;
