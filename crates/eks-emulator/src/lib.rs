//! A local emulator of the Amazon EKS API for offline tests and demos of EKS upgrade
//! tooling. It speaks EKS rest-json (API version 2017-11-01) well enough for the
//! unmodified `aws-sdk-eks` client, boto3 and the AWS CLI, keeps clusters, node groups,
//! add-ons, updates and insights in memory (version rollback included, on an emulator
//! clock that tests can move forward), injects faults on demand, relays Lambda Invoke
//! calls (asynchronous ones in the background) to a local Lambda endpoint, and answers
//! CloudWatch `DescribeAlarms` for alarms whose state tests set.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use eks_emulator::{Emulator, EmulatorConfig, Durations};
//! let emu = Emulator::start(EmulatorConfig {
//!     port: 0,
//!     durations: Durations::updates(500),
//!     ..Default::default()
//! })
//! .await?;
//! emu.seed_json(r#"{"clusters":[{"name":"demo","version":"1.30"}]}"#)?;
//! // Point AWS_ENDPOINT_URL_EKS (or the SDK's endpoint_url) at emu.url().
//! emu.finish_updates();
//! assert_eq!(emu.cluster_stats("demo").updates_created, 0);
//! emu.shutdown().await;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod accounts;
mod admin;
pub mod catalog;
mod cloudwatch;
mod eks;
mod error;
mod faults;
mod model;
mod relay;
mod responses;
mod scheduler;
mod seed;
mod server;
mod shared;
mod stats;
mod sts;
mod util;

pub use faults::{
    DenyRule, Durations, DurationsPatch, FailNextUpdate, Faults, FaultsPatch, SetHealth, UpdateErrorDetail, UpdateKind,
};
pub use relay::{DroppedInvocation, RelayConfig, RelayConfigPatch, RelayFunctionStats, RelayStats};
pub use seed::{
    AddonCatalogEntry, AddonCatalogVersion, DateValue, HealthIssue, ScalingConfig, Seed, SeedAddon, SeedAlarm,
    SeedCluster, SeedError, SeedInsight, SeedLastUpgrade, SeedLaunchTemplate, SeedNodegroup, SeedVersion,
};
pub use server::{Emulator, EmulatorConfig, StartError};
pub use stats::{ClusterStats, RequestStats, ScheduleStats, Stats, TokenStat};

/// The InvalidStateException message EKS gives when upgrade insights block an update.
pub const INSIGHTS_BLOCKING_MESSAGE: &str = model::INSIGHTS_BLOCKING_MESSAGE;

/// The InvalidStateException message of a rollback blocked by ROLLBACK_READINESS insights
/// (the emulator's wording, modelled on [`INSIGHTS_BLOCKING_MESSAGE`]).
pub const ROLLBACK_INSIGHTS_BLOCKING_MESSAGE: &str = model::ROLLBACK_INSIGHTS_BLOCKING_MESSAGE;
