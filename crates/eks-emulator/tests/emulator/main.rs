//! Integration tests of the EKS emulator: conformance with the real `aws-sdk-eks`
//! client, semantics, rollback, clusters updating at once, faults, the admin API, the
//! Lambda relay, the CloudWatch stand-in (with the real `aws-sdk-cloudwatch`), the EventBridge
//! Scheduler stand-in (with the real `aws-sdk-scheduler`), accounts and regions with STS
//! `AssumeRole` (the real `aws-sdk-sts`) and the CLI.

mod accounts;
mod admin_api;
mod cli;
mod cloudwatch;
mod common;
mod conformance;
mod faults;
mod relay;
mod rollback;
mod scheduler;
mod semantics;
mod support;
mod update_activity;
