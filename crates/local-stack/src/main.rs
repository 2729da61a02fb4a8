//! `local-stack`: the local stack's helper commands, so the project's scripts are bash around
//! the project's own binaries.
//!
//! - `create-table`: creates the upgrades table in dynalite from `template.yaml`;
//! - `show`, `tally`, `watch`: one record, the table by status, one record followed;
//! - `watch-rollout`: a fleet rollout followed, a bar per stage and a line per cluster;
//! - `cluster`, `counts`, `emulator`: the emulated cluster, what EKS (the emulator) counted, and
//!   any answer of the emulator's admin API;
//! - `reply`, `json-get`: the function's answers and other JSON, read for a script.

mod look;
mod records;
mod rollout;

use clap::{Parser, Subcommand};
use local_stack::{create_table, dynamodb_client, table_spec_from_template, Error};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(about = "Helpers for the local stack (dynalite, EKS emulator, cargo lambda watch)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the upgrades table is: every subcommand on records takes these.
#[derive(clap::Args)]
struct TableArgs {
    #[arg(long, env = "AWS_ENDPOINT_URL_DYNAMODB")]
    endpoint: String,
    #[arg(long, env = "UPGRADES_TABLE")]
    table: String,
}

/// Where the EKS emulator is.
#[derive(clap::Args)]
struct EksArgs {
    #[arg(long = "eks-endpoint", env = "AWS_ENDPOINT_URL_EKS")]
    endpoint: String,
}

#[derive(Subcommand)]
enum Command {
    /// Create the upgrades table as template.yaml defines it (does nothing if it exists).
    CreateTable {
        #[command(flatten)]
        at: TableArgs,
        #[arg(long, default_value_os_t = local_stack::template_path())]
        template: PathBuf,
    },
    /// Print one upgrade record as JSON.
    Show {
        #[command(flatten)]
        at: TableArgs,
        #[arg(long)]
        cluster: String,
        #[arg(long)]
        request_id: String,
    },
    /// Count the table's records by status (one JSON line); exit 0 once at least `--expect`
    /// of them SUCCEEDED, 2 before. For the fleet benchmark.
    Tally {
        #[command(flatten)]
        at: TableArgs,
        #[arg(long, default_value_t = 1)]
        expect: usize,
    },
    /// Print each change of an upgrade record until it finishes; exit 0 if it ended with
    /// `--expect` (SUCCEEDED by default).
    Watch {
        #[command(flatten)]
        at: TableArgs,
        #[arg(long)]
        cluster: String,
        #[arg(long)]
        request_id: String,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 600)]
        timeout: u64,
        #[arg(long, default_value = "SUCCEEDED")]
        expect: String,
    },
    /// Follow a rollout until it ends: a progress bar per stage and a line per cluster (on a
    /// terminal; a line per change otherwise); exit 0 if it ended with `--expect`.
    WatchRollout {
        #[command(flatten)]
        at: TableArgs,
        #[arg(long)]
        name: String,
        #[arg(long)]
        request_id: Option<String>,
        #[arg(long, default_value_t = 900)]
        timeout: u64,
        #[arg(long, default_value = "SUCCEEDED")]
        expect: String,
    },
    /// Wait until a stage of a rollout has a status (e.g. AWAITING_APPROVAL); exit 0 then.
    WaitRolloutStage {
        #[command(flatten)]
        at: TableArgs,
        #[arg(long)]
        name: String,
        #[arg(long)]
        stage: String,
        #[arg(long)]
        status: String,
        #[arg(long, default_value_t = 900)]
        timeout: u64,
    },
    /// Wait until an upgrade record reaches a step (e.g. VERIFY); exit 0 then, 2 on time-out,
    /// 1 if it finished first.
    WaitStep {
        #[command(flatten)]
        at: TableArgs,
        #[arg(long)]
        cluster: String,
        #[arg(long)]
        request_id: String,
        #[arg(long)]
        step: String,
        #[arg(long, default_value_t = 600)]
        timeout: u64,
    },
    /// Set a CloudWatch alarm of the emulator's stand-in (OK, ALARM or INSUFFICIENT_DATA).
    Alarm {
        #[command(flatten)]
        at: EksArgs,
        #[arg(long)]
        name: String,
        #[arg(long)]
        state: String,
        #[arg(long, default_value = "set by local-stack")]
        reason: String,
    },
    /// One line on a cluster, read with DescribeCluster: its version, status and platform.
    Cluster {
        #[command(flatten)]
        at: EksArgs,
        name: String,
    },
    /// What the emulator counted for a cluster (updates created, update calls) and how many
    /// continuations its relay delivered. Exit 0 if the control-plane updates created equal
    /// `--expect-control-plane` (when given), 1 otherwise.
    Counts {
        #[command(flatten)]
        at: EksArgs,
        cluster: String,
        #[arg(long)]
        expect_control_plane: Option<u64>,
        /// Also list the cluster's updates by type (ListUpdates) and expect this many
        /// VersionRollback.
        #[arg(long)]
        expect_rollbacks: Option<usize>,
    },
    /// Print the JSON the EKS emulator's admin API answers at `path` (e.g. `/_emulator/stats`).
    Emulator {
        #[command(flatten)]
        at: EksArgs,
        path: String,
    },
    /// Read the function's JSON answer on stdin and print it in a line per record.
    Reply,
    /// Read JSON on stdin and print the values at dotted paths (`records.0.status`), one per
    /// line; exit 1 if a path is missing.
    JsonGet { paths: Vec<String> },
}

#[tokio::main]
async fn main() {
    let result = match Cli::parse().command {
        Command::CreateTable { at, template } => create(&at.endpoint, &at.table, &template).await,
        Command::Show {
            at,
            cluster,
            request_id,
        } => records::show(&at.endpoint, &at.table, &cluster, &request_id).await,
        Command::Tally { at, expect } => records::tally(&at.endpoint, &at.table, expect).await,
        Command::Watch {
            at,
            cluster,
            request_id,
            timeout,
            expect,
        } => {
            let watched = records::Watched {
                cluster: &cluster,
                request_id: &request_id,
                expect: &expect,
            };
            records::watch(&at.endpoint, &at.table, watched, Duration::from_secs(timeout)).await
        }
        rollout @ (Command::WatchRollout { .. } | Command::WaitRolloutStage { .. }) => rollouts(rollout).await,
        Command::WaitStep {
            at,
            cluster,
            request_id,
            step,
            timeout,
        } => {
            let timeout = Duration::from_secs(timeout);
            records::wait_step(&at.endpoint, &at.table, &cluster, &request_id, &step, timeout).await
        }
        Command::Alarm {
            at,
            name,
            state,
            reason,
        } => look::alarm(&at.endpoint, &name, &state, &reason),
        Command::Cluster { at, name } => look::cluster(&at.endpoint, &name).await,
        Command::Counts {
            at,
            cluster,
            expect_control_plane,
            expect_rollbacks,
        } => match look::counts(&at.endpoint, &cluster, expect_control_plane) {
            Ok(0) if expect_rollbacks.is_some() => look::update_types(&at.endpoint, &cluster, expect_rollbacks).await,
            other => other,
        },
        Command::Emulator { at, path } => look::emulator(&at.endpoint, &path),
        Command::Reply => look::reply(),
        Command::JsonGet { paths } => look::json_get(&paths),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}

/// The rollout commands.
async fn rollouts(command: Command) -> Result<i32, Error> {
    match command {
        Command::WatchRollout {
            at,
            name,
            request_id,
            timeout,
            expect,
        } => {
            let followed = rollout::Followed {
                name: &name,
                request_id: request_id.as_deref(),
                expect: &expect,
            };
            rollout::watch(&at.endpoint, &at.table, followed, Duration::from_secs(timeout)).await
        }
        Command::WaitRolloutStage {
            at,
            name,
            stage,
            status,
            timeout,
        } => {
            let followed = rollout::Followed {
                name: &name,
                request_id: None,
                expect: "",
            };
            let timeout = Duration::from_secs(timeout);
            rollout::wait_stage(&at.endpoint, &at.table, followed, &stage, &status, timeout).await
        }
        _ => Ok(2),
    }
}

async fn create(endpoint: &str, table: &str, template: &std::path::Path) -> Result<i32, Error> {
    let spec = table_spec_from_template(template)?;
    let client = dynamodb_client(endpoint).await;
    let created = create_table(&client, table, &spec).await?;
    let what = if created { "created" } else { "already there" };
    println!("table {table}: {what} (keys cluster/requestId, index resumable, as in template.yaml)");
    Ok(0)
}
