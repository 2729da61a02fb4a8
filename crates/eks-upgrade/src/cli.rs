//! The command line: what each subcommand takes (clap), nothing else.

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The EKS upgrade orchestrator from the command line: invokes the deployed function with the
/// events its README documents and shows what it answers.
#[derive(Debug, Parser)]
#[command(name = "eks-upgrade", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub target: Target,
    /// How to print the function's answers.
    #[arg(long, value_enum, default_value_t = Output::Table, global = true)]
    pub output: Output,
    #[command(subcommand)]
    pub command: Command,
}

/// Which function, and how to reach it.
#[derive(Debug, Clone, Args)]
pub struct Target {
    /// The function's name or ARN (over `--stack` when both are given).
    #[arg(long, env = "EKS_UPGRADE_FUNCTION", global = true)]
    pub function: Option<String>,
    /// The CloudFormation stack that deployed it (its `FunctionArn` output).
    #[arg(long, env = "EKS_UPGRADE_STACK", global = true)]
    pub stack: Option<String>,
    /// The AWS profile (default: the standard AWS_PROFILE and chain).
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// The AWS region (default: the standard AWS_REGION and chain).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// The Lambda endpoint (default: AWS_ENDPOINT_URL_LAMBDA, else AWS's): the local stack's.
    #[arg(long, global = true)]
    pub endpoint_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Tables and lines for people.
    Table,
    /// The function's JSON answers, for scripts.
    Json,
}

/// A cluster: a name (the function's own account and region), or an ARN, or a name with
/// `--account` and `--region`.
#[derive(Debug, Clone, Args)]
pub struct ClusterRef {
    /// The cluster's name or ARN.
    #[arg(long, short = 'c')]
    pub cluster: String,
    /// Its account, when not the function's own (with `--cluster-region`).
    #[arg(long, requires = "cluster_region")]
    pub account: Option<String>,
    /// Its region, when not the function's own (with `--account`).
    #[arg(long, requires = "account")]
    pub cluster_region: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Plans an upgrade (a dry run): the hops, their gates and blockers; changes nothing.
    Plan {
        #[command(flatten)]
        cluster: ClusterRef,
        /// `MAJOR.MINOR` or `latest`.
        #[arg(long, short = 't')]
        target: String,
    },
    /// Requests an upgrade (exactly once per request id), and with `--watch` follows it.
    Upgrade {
        #[command(flatten)]
        cluster: ClusterRef,
        /// `MAJOR.MINOR` or `latest`.
        #[arg(long, short = 't')]
        target: String,
        /// The request's id (default: `to-<version>`).
        #[arg(long)]
        request_id: Option<String>,
        /// Proceed although upgrade insights report blocking issues.
        #[arg(long)]
        force: bool,
        /// Follow it to its end (as `watch`).
        #[arg(long)]
        watch: bool,
        /// Seconds between looks, with `--watch`.
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3600))]
        interval: u64,
    },
    /// A cluster's upgrade records.
    Status {
        #[command(flatten)]
        cluster: ClusterRef,
        #[arg(long)]
        request_id: Option<String>,
    },
    /// Follows one upgrade to its end: each hop and item, with its EKS update id.
    Watch {
        #[command(flatten)]
        cluster: ClusterRef,
        /// Which upgrade (default: the one running, else the latest).
        #[arg(long)]
        request_id: Option<String>,
        /// Seconds between looks.
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3600))]
        interval: u64,
    },
    /// Rolls the last hop of a recorded upgrade back (EKS version rollback).
    Rollback {
        #[command(flatten)]
        cluster: ClusterRef,
        #[arg(long)]
        request_id: String,
        /// Proceed although ROLLBACK_READINESS insights report blocking issues.
        #[arg(long)]
        force: bool,
        /// Show what would be rolled back, and whether it can be.
        #[arg(long)]
        dry_run: bool,
    },
    /// Ends a parked, blocked or not yet started upgrade.
    Cancel {
        #[command(flatten)]
        cluster: ClusterRef,
        #[arg(long)]
        request_id: String,
    },
    /// Fleet rollouts in stages.
    #[command(subcommand)]
    Rollout(RolloutCommand),
    /// Every enrolled cluster's support deadlines and what extended support costs.
    Fleet {
        /// Accounts to report on (default: the function's own).
        #[arg(long, value_delimiter = ',')]
        accounts: Vec<String>,
        /// Regions to report on (default: the function's own).
        #[arg(long, value_delimiter = ',')]
        regions: Vec<String>,
        /// Only clusters with this tag, `KEY=VALUE` (repeatable).
        #[arg(long = "tag", value_parser = key_value)]
        tags: Vec<(String, String)>,
        /// Also publish the notification of clusters entering extended support soon.
        #[arg(long)]
        notify: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum RolloutCommand {
    /// Starts a rollout from a file holding its event (`{"rollout": {...}}`, as events/rollout.json).
    Start {
        #[arg(long, short = 'f')]
        file: std::path::PathBuf,
        /// Discover and plan only.
        #[arg(long)]
        dry_run: bool,
        /// Follow it to its end (as `rollout watch`).
        #[arg(long)]
        watch: bool,
        /// Seconds between looks, with `--watch`.
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3600))]
        interval: u64,
    },
    /// A rollout's stages and clusters.
    Status(RolloutName),
    /// Follows a rollout: a bar per stage and a line per cluster, until it ends.
    Watch {
        #[command(flatten)]
        rollout: RolloutName,
        /// Seconds between looks.
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3600))]
        interval: u64,
    },
    /// Lets a stage waiting for approval start.
    Approve {
        #[command(flatten)]
        rollout: RolloutName,
        #[arg(long)]
        stage: String,
    },
    /// Nothing new starts; running upgrades go on.
    Pause(RolloutName),
    Resume(RolloutName),
    /// Nothing new starts; running upgrades finish; then CANCELLED.
    Cancel(RolloutName),
    /// Leaves a cluster not yet started out.
    Skip {
        #[command(flatten)]
        rollout: RolloutName,
        #[arg(long)]
        cluster: String,
    },
}

#[derive(Debug, Clone, Args)]
pub struct RolloutName {
    /// The rollout's name.
    #[arg(long, short = 'n')]
    pub name: String,
    /// Which rollout of that name (default: its only unfinished one).
    #[arg(long)]
    pub request_id: Option<String>,
}

fn key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("expected KEY=VALUE, got {text:?}")),
    }
}
