//! `eks-emulator`: serve the EKS API emulator (and the Lambda relay and the CloudWatch
//! alarms stand-in) on loopback.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use eks_emulator::{Durations, Emulator, EmulatorConfig, Faults, RelayConfig, Seed};

fn rate(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is not between 0 and 1"))
    }
}

/// A local emulator of the Amazon EKS API (upgrades, node groups, add-ons, insights)
/// with fault injection, a relay for Lambda Invoke and a CloudWatch DescribeAlarms stand-in.
#[derive(Debug, Parser)]
#[command(name = "eks-emulator", version, about, long_about = None)]
struct Cli {
    /// Address to listen on.
    #[arg(long, env = "EKS_EMULATOR_HOST", default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on (0: any free port; the chosen one is printed).
    #[arg(long, env = "EKS_EMULATOR_PORT", default_value_t = 4599)]
    port: u16,
    /// Seed file (JSON) with clusters, node groups, add-ons, insights, versions.
    #[arg(long, env = "EKS_EMULATOR_SEED")]
    seed: Option<PathBuf>,
    /// Account id used in ARNs.
    #[arg(long, env = "EKS_EMULATOR_ACCOUNT_ID", default_value = "123456789012")]
    account_id: String,
    /// Region used in ARNs and endpoints.
    #[arg(long, env = "EKS_EMULATOR_REGION", default_value = "us-east-1")]
    region: String,
    /// Duration of every kind of update, in milliseconds.
    #[arg(long, env = "EKS_EMULATOR_UPDATE_DURATION_MS", default_value_t = 60_000)]
    update_duration_ms: u64,
    /// Duration of control-plane updates (overrides --update-duration-ms).
    #[arg(long, env = "EKS_EMULATOR_CLUSTER_UPDATE_DURATION_MS")]
    cluster_update_duration_ms: Option<u64>,
    /// Duration of node-group updates (overrides --update-duration-ms).
    #[arg(long, env = "EKS_EMULATOR_NODEGROUP_UPDATE_DURATION_MS")]
    nodegroup_update_duration_ms: Option<u64>,
    /// Duration of add-on updates (overrides --update-duration-ms).
    #[arg(long, env = "EKS_EMULATOR_ADDON_UPDATE_DURATION_MS")]
    addon_update_duration_ms: Option<u64>,
    /// CREATING to ACTIVE for new clusters, node groups and add-ons, in milliseconds.
    #[arg(long, env = "EKS_EMULATOR_CREATE_DURATION_MS", default_value_t = 0)]
    create_duration_ms: u64,
    /// DELETING to gone for clusters, in milliseconds.
    #[arg(long, env = "EKS_EMULATOR_DELETE_DURATION_MS", default_value_t = 0)]
    delete_duration_ms: u64,
    /// Fraction (0..1) of EKS requests answered 429 ThrottlingException.
    #[arg(long, env = "EKS_EMULATOR_THROTTLE_RATE", default_value_t = 0.0, value_parser = rate)]
    throttle_rate: f64,
    /// Fraction (0..1) of EKS requests answered 500 ServerException / 503 ServiceUnavailableException.
    #[arg(long, env = "EKS_EMULATOR_ERROR_RATE", default_value_t = 0.0, value_parser = rate)]
    error_rate: f64,
    /// Fraction (0..1) of successful mutating EKS requests that take effect but answer 500.
    #[arg(long, env = "EKS_EMULATOR_LOST_RESPONSE_RATE", default_value_t = 0.0, value_parser = rate)]
    lost_response_rate: f64,
    /// Delay before every EKS answer, in milliseconds.
    #[arg(long, env = "EKS_EMULATOR_LATENCY_MS", default_value_t = 0)]
    latency_ms: u64,
    /// A cluster still reads ACTIVE for this long after UpdateClusterVersion (eventual consistency).
    #[arg(long, env = "EKS_EMULATOR_STALE_STATUS_MS", default_value_t = 0)]
    stale_status_ms: u64,
    /// Comma-separated operation names the rate faults apply to (default: all).
    #[arg(long, env = "EKS_EMULATOR_FAULT_OPERATIONS", value_delimiter = ',')]
    fault_operations: Vec<String>,
    /// Seed for the fault random numbers (default: from the clock).
    #[arg(long, env = "EKS_EMULATOR_RNG_SEED")]
    rng_seed: Option<u64>,
    /// Lambda endpoint that Invoke calls are delivered to, e.g. http://127.0.0.1:9000.
    #[arg(long, env = "EKS_EMULATOR_LAMBDA_FORWARD_URL")]
    lambda_forward_url: Option<String>,
    /// Retries of an Event delivery after the first attempt.
    #[arg(long, env = "EKS_EMULATOR_RELAY_MAX_RETRIES", default_value_t = 3)]
    relay_max_retries: u32,
    /// First retry backoff in milliseconds (doubled per retry, capped at 10 s).
    #[arg(long, env = "EKS_EMULATOR_RELAY_BACKOFF_MS", default_value_t = 200)]
    relay_backoff_ms: u64,
    /// Timeout of one delivery attempt in milliseconds.
    #[arg(long, env = "EKS_EMULATOR_RELAY_TIMEOUT_MS", default_value_t = 900_000)]
    relay_timeout_ms: u64,
    /// Event invocations of one function delivered at once (1: one at a time, in order).
    #[arg(long, env = "EKS_EMULATOR_RELAY_MAX_CONCURRENCY", default_value_t = 1000)]
    relay_max_concurrency: u32,
}

impl Cli {
    fn config(&self) -> Result<EmulatorConfig, String> {
        let seed = match &self.seed {
            Some(p) => Some(Seed::from_file(p).map_err(|e| e.to_string())?),
            None => None,
        };
        let u = self.update_duration_ms;
        Ok(EmulatorConfig {
            host: self.host.clone(),
            port: self.port,
            account_id: self.account_id.clone(),
            region: self.region.clone(),
            seed,
            durations: Durations {
                cluster_update_ms: self.cluster_update_duration_ms.unwrap_or(u),
                nodegroup_update_ms: self.nodegroup_update_duration_ms.unwrap_or(u),
                addon_update_ms: self.addon_update_duration_ms.unwrap_or(u),
                create_ms: self.create_duration_ms,
                delete_ms: self.delete_duration_ms,
            },
            faults: Faults {
                throttle_rate: self.throttle_rate,
                error_rate: self.error_rate,
                lost_response_rate: self.lost_response_rate,
                latency_ms: self.latency_ms,
                stale_status_ms: self.stale_status_ms,
                operations: self.fault_operations.clone(),
                ..Default::default()
            },
            relay: RelayConfig {
                forward_url: self.lambda_forward_url.clone().filter(|u| !u.is_empty()),
                max_retries: self.relay_max_retries,
                backoff_ms: self.relay_backoff_ms,
                timeout_ms: self.relay_timeout_ms,
                max_concurrency: self.relay_max_concurrency,
            },
            rng_seed: self.rng_seed,
        })
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("EKS_EMULATOR_LOG")
                .or_else(|_| tracing_subscriber::EnvFilter::try_from_default_env())
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let config = match cli.config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("eks-emulator: {e}");
            return ExitCode::from(2);
        }
    };
    let emu = match Emulator::start(config).await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("eks-emulator: {e}");
            return ExitCode::from(2);
        }
    };
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "eks-emulator listening on {}", emu.url());
        let _ = out.flush();
    }
    shutdown_signal().await;
    tracing::info!("shutting down");
    emu.shutdown().await;
    ExitCode::SUCCESS
}
