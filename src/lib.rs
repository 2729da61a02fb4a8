//! EKS upgrade orchestrator: a Lambda function that runs scheduled EKS control-plane upgrades
//! exactly once, resumes them after any crash, and tracks them to the end.
//!
//! - [`domain`]: events, the stored record, and the workflow state machine (no I/O);
//! - [`ports`]: the small traits the workflow's driver needs (EKS, the record store, the
//!   self-invoke, the clock);
//! - [`adapters`]: those traits over the AWS SDK;
//! - [`handler`]: the entry point that decodes an event and drives the workflow;
//! - [`fakes`]: in-memory implementations of the ports, for tests.

pub mod adapters;
pub mod config;
pub mod crash;
pub mod domain;
pub mod fakes;
pub mod handler;
pub mod ports;
