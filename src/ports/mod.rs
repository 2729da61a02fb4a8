//! The small traits between the workflow's driver and the outside world, one file each. Adapters
//! over the AWS SDK live in [`crate::adapters`]; each port's in-memory double lives beside it and
//! is compiled only for tests (feature `test-util`, see [`crate::fakes`]).

pub mod alarms;
mod bundle;
pub mod clock;
pub mod eks;
pub mod invoker;
pub mod metrics;
pub mod notifier;
pub mod rollout_store;
pub mod scheduler;
pub mod store;

#[cfg(any(test, feature = "test-util"))]
pub(crate) mod eks_fake;
#[cfg(any(test, feature = "test-util"))]
pub(crate) mod store_memory;

pub use alarms::Alarms;
pub use bundle::Ports;
pub use clock::{Clock, SystemClock};
pub use eks::{Eks, NodegroupTarget};
pub use invoker::{InvokeError, SelfInvoker};
pub use metrics::MetricsLog;
pub use notifier::{Notifier, NotifyError};
pub use rollout_store::RolloutStore;
pub use scheduler::{ScheduleError, WakeScheduler};
pub use store::{Inserted, Listed, RecordStore, Replaced, StoreError, Unreadable};
