//! A local emulator of the Amazon EKS API for offline tests and demos of EKS upgrade
//! tooling. It speaks EKS rest-json (API version 2017-11-01) well enough for the
//! unmodified `aws-sdk-eks` client, boto3 and the AWS CLI, keeps clusters, node groups,
//! add-ons, updates and insights in memory, injects faults on demand, and relays Lambda
//! Invoke calls (asynchronous ones in the background) to a local Lambda endpoint.
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

mod admin;
pub mod catalog;
mod eks;
mod error;
mod faults;
mod model;
mod relay;
mod seed;
mod server;
mod stats;
mod util;

pub use faults::{
    DenyRule, Durations, DurationsPatch, FailNextUpdate, Faults, FaultsPatch, SetHealth, UpdateErrorDetail, UpdateKind,
};
pub use relay::{DroppedInvocation, RelayConfig, RelayConfigPatch, RelayFunctionStats, RelayStats};
pub use seed::{
    AddonCatalogEntry, AddonCatalogVersion, DateValue, HealthIssue, ScalingConfig, Seed, SeedAddon, SeedCluster,
    SeedError, SeedInsight, SeedLaunchTemplate, SeedNodegroup, SeedVersion,
};
pub use server::{Emulator, EmulatorConfig, StartError};
pub use stats::{ClusterStats, RequestStats, Stats, TokenStat};

/// The InvalidStateException message EKS gives when upgrade insights block an update.
pub const INSIGHTS_BLOCKING_MESSAGE: &str = model::INSIGHTS_BLOCKING_MESSAGE;
