//! `eks-upgrade`: the operator's command line of the EKS upgrade orchestrator. A thin client:
//! each command is an event the function's README documents, sent with Lambda `Invoke`
//! (`RequestResponse`); the answer is shown as a table, or as JSON with `--output json`. It
//! exits 0 when what it asked for happened, 1 when it failed or was refused (with the
//! function's message), 2 for bad arguments (clap's).

pub mod cli;
pub mod events;
pub mod function;
pub mod render;
pub mod watch;

use cli::{Cli, Command, Output, RolloutCommand};
use function::{CliError, Function};
use serde_json::Value;
use std::io::Write;

/// An upgrade's statuses that mean it did not (or will not by itself) do what was asked.
const UPGRADE_FAILED: [&str; 7] = [
    "FAILED",
    "TIMED_OUT",
    "BLOCKED",
    "CANCELLED",
    "ROLLED_BACK",
    "ROLLBACK_FAILED",
    "ROLLBACK_BLOCKED",
];

/// Runs one command: answers and progress to `out`, errors to `err` (with `--output json`,
/// progress lines go to `err` too, so `out` holds only JSON); the process's exit code.
pub async fn run(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    match execute(&cli, out, err).await {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(err, "eks-upgrade: {e}");
            1
        }
    }
}

fn print(output: Output, out: &mut dyn Write, reply: &Value) -> Result<(), CliError> {
    let text = match output {
        Output::Json => serde_json::to_string_pretty(reply).unwrap_or_default(),
        Output::Table => render::any(reply),
    };
    writeln!(out, "{text}").map_err(|e| CliError::Usage(e.to_string()))
}

async fn execute(cli: &Cli, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32, CliError> {
    let event = events::event_for(&cli.command).map_err(CliError::Usage)?;
    let f = Function::find(&cli.target).await?;
    let json = cli.output == Output::Json;
    match &cli.command {
        Command::Watch {
            cluster,
            request_id,
            interval,
        } => {
            let lines: &mut dyn Write = if json { err } else { out };
            let record = watch::upgrade(&f, cluster, request_id, *interval, lines).await?;
            if json {
                print(cli.output, out, &record)?;
            }
            Ok(upgrade_code(&record))
        }
        Command::Upgrade {
            cluster,
            watch: true,
            interval,
            ..
        } => {
            let reply = f.invoke(&event).await?;
            let lines: &mut dyn Write = if json { err } else { out };
            if !json {
                print(cli.output, lines, &reply)?;
            }
            let id = reply["requestId"].as_str().map(str::to_owned);
            let record = watch::upgrade(&f, cluster, &id, *interval, lines).await?;
            if json {
                print(cli.output, out, &record)?;
            }
            Ok(upgrade_code(&record))
        }
        Command::Rollout(RolloutCommand::Watch { rollout, interval }) => {
            let lines: &mut dyn Write = if json { err } else { out };
            let reply = watch::rollout(&f, rollout, *interval, lines).await?;
            if json {
                print(cli.output, out, &reply)?;
            }
            Ok(rollout_code(&reply))
        }
        Command::Rollout(RolloutCommand::Start {
            watch: true,
            dry_run: false,
            interval,
            ..
        }) => {
            let reply = f.invoke(&event).await?;
            let lines: &mut dyn Write = if json { err } else { out };
            if !json {
                print(cli.output, lines, &reply)?;
            }
            let name = cli::RolloutName {
                name: reply["rollout"].as_str().unwrap_or_default().to_owned(),
                request_id: reply["requestId"].as_str().map(str::to_owned),
            };
            let last = watch::rollout(&f, &name, *interval, lines).await?;
            if json {
                print(cli.output, out, &last)?;
            }
            Ok(rollout_code(&last))
        }
        _ => {
            let reply = f.invoke(&event).await?;
            print(cli.output, out, &reply)?;
            let status = reply["status"].as_str().unwrap_or_default();
            Ok(match &cli.command {
                Command::Upgrade { .. } => upgrade_code(&reply),
                Command::Cancel { .. } => i32::from(status != "CANCELLED"),
                Command::Rollback { dry_run: true, .. } => i32::from(reply["wouldStart"] != true),
                Command::Rollback { .. } => {
                    i32::from(["FAILED", "ROLLBACK_FAILED", "ROLLBACK_BLOCKED"].contains(&status))
                }
                _ => 0,
            })
        }
    }
}

fn upgrade_code(record: &Value) -> i32 {
    i32::from(UPGRADE_FAILED.contains(&record["status"].as_str().unwrap_or_default()))
}

fn rollout_code(reply: &Value) -> i32 {
    i32::from(["STOPPED", "CANCELLED"].contains(&reply["status"].as_str().unwrap_or_default()))
}
