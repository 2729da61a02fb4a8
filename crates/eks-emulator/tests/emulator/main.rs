//! Integration tests of the EKS emulator: conformance with the real `aws-sdk-eks`
//! client, semantics, faults, the admin API, the Lambda relay and the CLI.

mod admin_api;
mod cli;
mod common;
mod conformance;
mod faults;
mod relay;
mod semantics;
