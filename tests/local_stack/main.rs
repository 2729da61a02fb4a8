//! End to end on the local stack, over HTTP: the real handler with the real SDK adapters against
//! dynalite (DynamoDB) and the EKS emulator. Continuations go out through `aws-sdk-lambda` to
//! the emulator's Lambda relay, which delivers them to a Lambda Invoke endpoint this test serves
//! with the same handler, as `cargo lambda watch` would.
//!
//! Needs dynalite installed by `scripts/test` (or `DYNALITE_BIN`).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use eks_emulator::{Durations, Emulator, EmulatorConfig, FailNextUpdate, FaultsPatch, RelayConfigPatch};
use eks_upgrade_orchestrator::adapters::aws::{AwsConfig, LazyClient};
use eks_upgrade_orchestrator::adapters::spokes::{SpokeRole, Spokes};
use eks_upgrade_orchestrator::adapters::{
    cloudwatch::CloudWatchAlarms, dynamodb::DynamoStore, eks::EksAdapter, lambda::LambdaInvoker,
    scheduler::SchedulerWakes,
};
use eks_upgrade_orchestrator::config::{Config, SpokeConfig};
use eks_upgrade_orchestrator::crash::CrashPoints;
use eks_upgrade_orchestrator::domain::workflow::Limits;
use eks_upgrade_orchestrator::domain::Location;
use eks_upgrade_orchestrator::domain::{UpgradeRecord, UpgradeStatus};
use eks_upgrade_orchestrator::fakes::RecordingNotifier;
use eks_upgrade_orchestrator::handler::{Invocation, Orchestrator};
use eks_upgrade_orchestrator::ports::{Clock, MetricsLog, RecordStore, SystemClock};
use local_stack::{create_table, dynamodb_client, free_port, table_spec_from_template, template_path, Dynalite};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod accounts;
mod cli;
mod rollouts;
mod safety_net;
mod support;

type App = Orchestrator<(
    EksAdapter,
    DynamoStore,
    LambdaInvoker,
    SystemClock,
    RecordingNotifier,
    CloudWatchAlarms,
    SchedulerWakes,
)>;

const TABLE: &str = "upgrades";
const FUNCTION: &str = "eks-upgrade-orchestrator";

struct LambdaState {
    app: App,
    /// How long each invocation may run (its deadline), like the function's timeout.
    invocation_ms: AtomicI64,
    invocations: AtomicU64,
}

struct Stack {
    dynalite: Option<Dynalite>,
    /// Where dynalite keeps its data, when it must survive a restart.
    dynalite_dir: Option<std::path::PathBuf>,
    emulator: Emulator,
    lambda: Arc<LambdaState>,
    eks: aws_sdk_eks::Client,
    /// Invokes the test's Lambda endpoint directly, as `cargo lambda invoke` does.
    direct: aws_sdk_lambda::Client,
    /// That endpoint (what `eks-upgrade --endpoint-url` takes).
    lambda_url: String,
}

async fn invoke_endpoint(
    State(state): State<Arc<LambdaState>>,
    Path(function): Path<String>,
    body: Bytes,
) -> axum::response::Response {
    let payload: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    assert_eq!(function, FUNCTION);
    let n = state.invocations.fetch_add(1, Ordering::SeqCst);
    let invocation = Invocation {
        request_id: format!("local-{n}-{}", uuid::Uuid::new_v4()),
        deadline_ms: SystemClock.now_ms() + state.invocation_ms.load(Ordering::SeqCst),
    };
    match state.app.handle(&payload, &invocation).await {
        Ok(answer) => (StatusCode::OK, Json(answer)).into_response(),
        Err(error) => {
            let diagnostic: lambda_runtime::Diagnostic = error.into();
            (
                StatusCode::OK,
                [("x-amz-function-error", "Unhandled")],
                Json(json!({ "errorType": diagnostic.error_type, "errorMessage": diagnostic.error_message })),
            )
                .into_response()
        }
    }
}

struct Options {
    clusters: Vec<(&'static str, &'static str)>,
    /// A seed file of the emulator, instead of `clusters`.
    seed_file: Option<&'static str>,
    /// A seed document, instead of `clusters` or `seed_file`.
    seed: Option<String>,
    update_ms: u64,
    invocation_secs: i64,
    /// Waits of 2 s or more park the record and a one-time schedule on the emulator's EventBridge
    /// Scheduler stand-in wakes it (each look at an update 2 s apart).
    wakes: bool,
    /// Keep dynalite's data in a folder, so it can be stopped and started again.
    persistent_table: bool,
    /// The hub of hub and spoke: 123456789012/us-east-1, reaching members through the
    /// emulator's STS as `eks-upgrade-spoke`.
    hub: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            clusters: vec![("devel", "1.30")],
            seed_file: None,
            seed: None,
            persistent_table: false,
            update_ms: 2_000,
            invocation_secs: 120,
            wakes: false,
            hub: false,
        }
    }
}

/// The configuration with wake-ups, as the template sets them (with a 2 s cadence).
fn waking_config() -> Config {
    let mut config = test_config();
    config.limits.update_poll_secs = 2;
    config.wake = Some(eks_upgrade_orchestrator::config::WakeConfig {
        group: "eks-upgrade-orchestrator-wakes".into(),
        role_arn: "arn:aws:iam::123456789012:role/wake".into(),
        target_arn: format!("arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION}"),
        dead_letter_arn: None,
        park_after_secs: 2,
    });
    config
}

fn test_config() -> Config {
    let limits = Limits {
        poll_interval_secs: 1,
        update_poll_secs: 1,
        max_attempt_secs: 600,
        max_invocations: 100,
        retention_secs: 86400,
        stale_after_secs: 1,
        hop_estimate_secs: 60,
        blocked_recheck_secs: 3600,
        nodegroup_parallelism: 1,
        ..Limits::default()
    };
    Config {
        safety_margin_secs: 1,
        // The tests' SDK clients are built without an operation time-out.
        operation_timeout_secs: 0,
        ..Config::new(TABLE, FUNCTION, limits)
    }
}

impl Stack {
    async fn start(options: Options) -> Self {
        let dynalite_dir = options.persistent_table.then(|| {
            let dir = std::env::temp_dir().join(format!("eks-upgrade-dynalite-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(&dir).unwrap();
            dir
        });
        let dynalite = Dynalite::start(&local_stack::dynalite_bin(), free_port(), dynalite_dir.as_deref())
            .await
            .expect("dynalite (installed by scripts/test into .local/node)");
        let dynamodb = dynamodb_client(&dynalite.endpoint).await;
        create_table(&dynamodb, TABLE, &table_spec_from_template(&template_path()).unwrap())
            .await
            .unwrap();

        let emulator = Emulator::start(EmulatorConfig {
            port: 0,
            durations: Durations {
                cluster_update_ms: options.update_ms,
                nodegroup_update_ms: options.update_ms,
                addon_update_ms: options.update_ms,
                ..Durations::default()
            },
            rng_seed: Some(7),
            ..EmulatorConfig::default()
        })
        .await
        .expect("emulator");
        // The function's DescribeAlarms as the template grants it: scoped to the prefix, under
        // which CloudWatch refuses to return composite alarms.
        emulator.set_alarm_read_scope(Some("eks-upgrade-"));
        let clusters: Vec<Value> = options
            .clusters
            .iter()
            .map(|(name, version)| json!({ "name": name, "version": version, "tags": { "upgrade-orchestrator/enabled": "true" } }))
            .collect();
        let seed = match (options.seed, options.seed_file) {
            (Some(seed), _) => seed,
            (None, path) => match path {
                Some(path) => {
                    std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).expect("seed file")
                }
                None => json!({ "clusters": clusters }).to_string(),
            },
        };
        emulator.seed_json(&seed).expect("seed");

        let sdk = |endpoint: String| async move { local_stack::local_sdk_config(&endpoint).await };
        let eks = aws_sdk_eks::Client::new(&sdk(emulator.url()).await);
        let lambda_client = aws_sdk_lambda::Client::new(&sdk(emulator.url()).await);
        let mut config = if options.wakes { waking_config() } else { test_config() };
        let mut eks_adapter = EksAdapter::new(eks.clone());
        let mut alarms = CloudWatchAlarms::new(aws_sdk_cloudwatch::Client::new(&sdk(emulator.url()).await));
        if options.hub {
            config.home = Some(Location::new("123456789012", "us-east-1").unwrap());
            config.spoke = Some(SpokeConfig {
                role_name: "eks-upgrade-spoke".into(),
                external_id: None,
            });
            let base = sdk(emulator.url()).await;
            let sts = aws_sdk_sts::Client::new(&base);
            let role = SpokeRole {
                name: "eks-upgrade-spoke".into(),
                external_id: None,
            };
            let spokes = Spokes::new(AwsConfig::ready(base), LazyClient::ready(sts), role);
            eks_adapter = eks_adapter.with_spokes(spokes.clone());
            alarms = alarms.with_spokes(spokes);
        }
        let app: App = Orchestrator {
            eks: eks_adapter,
            store: DynamoStore::new(
                aws_sdk_dynamodb::Client::new(&sdk(dynalite.endpoint.clone()).await),
                TABLE,
            ),
            invoker: LambdaInvoker::new(lambda_client, FUNCTION),
            clock: SystemClock,
            notifier: RecordingNotifier::default(),
            alarms,
            scheduler: SchedulerWakes::new(
                aws_sdk_scheduler::Client::new(&sdk(emulator.url()).await),
                config.wake.clone(),
            ),
            config,
            metrics: MetricsLog::recording("eks-upgrade-orchestrator"),
            crash_points: CrashPoints::none(),
        };
        let lambda = Arc::new(LambdaState {
            app,
            invocation_ms: AtomicI64::new(options.invocation_secs * 1000),
            invocations: AtomicU64::new(0),
        });
        let router = Router::new()
            .route("/2015-03-31/functions/{name}/invocations", post(invoke_endpoint))
            .with_state(lambda.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let lambda_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        emulator
            .set_relay(RelayConfigPatch {
                forward_url: Some(lambda_url.clone()),
                ..Default::default()
            })
            .expect("relay");
        let direct = aws_sdk_lambda::Client::new(&sdk(lambda_url.clone()).await);
        Self {
            dynalite: Some(dynalite),
            dynalite_dir,
            emulator,
            lambda,
            direct,
            lambda_url,
            eks,
        }
    }

    /// What `cargo lambda invoke` does: a synchronous Invoke; Ok(answer) or Err(error answer).
    async fn invoke(&self, event: Value) -> Result<Value, Value> {
        let out = self
            .direct
            .invoke()
            .function_name(FUNCTION)
            .payload(aws_sdk_lambda::primitives::Blob::new(event.to_string()))
            .send()
            .await
            .expect("the Invoke endpoint answers");
        let answer: Value = serde_json::from_slice(out.payload().expect("a payload").as_ref()).expect("JSON");
        match out.function_error() {
            Some(e) if !e.is_empty() => Err(answer),
            _ => Ok(answer),
        }
    }

    async fn record(&self, cluster: &str, request_id: &str) -> Option<UpgradeRecord> {
        self.lambda
            .app
            .store
            .get(cluster, request_id)
            .await
            .expect("dynalite answers")
    }

    /// Waits for a condition on the stored record (the function runs in the background).
    async fn wait_for(
        &self,
        cluster: &str,
        request_id: &str,
        what: &str,
        condition: impl Fn(&UpgradeRecord) -> bool,
    ) -> UpgradeRecord {
        let start = Instant::now();
        loop {
            if let Some(record) = self.record(cluster, request_id).await {
                if condition(&record) {
                    return record;
                }
                assert!(
                    start.elapsed() < Duration::from_secs(90),
                    "waited 90 s for {what}: {record:#?}"
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sends sweeps until one resumes the record or it finished on its own.
    async fn sweep_until_resumed_or_finished(&self, cluster: &str, request_id: &str) {
        let start = Instant::now();
        loop {
            if self.record(cluster, request_id).await.is_some_and(|r| r.is_finished()) {
                return;
            }
            let sweep = self.invoke(json!({ "sweep": {} })).await.expect("sweep");
            if !sweep["resumed"].as_array().expect("resumed").is_empty() {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(90),
                "nothing resumed in 90 s: {sweep}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Sends sweeps until one resumes something (the record must go stale first).
    async fn sweep_until_resumed(&self) -> Value {
        let start = Instant::now();
        loop {
            let sweep = self.invoke(json!({ "sweep": {} })).await.expect("sweep");
            if !sweep["resumed"].as_array().expect("resumed").is_empty() {
                return sweep;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "no sweep resumed anything in 60 s: {sweep}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn wait_finished(&self, cluster: &str, request_id: &str) -> UpgradeRecord {
        self.wait_for(cluster, request_id, "the upgrade to finish", |r| r.is_finished())
            .await
    }

    fn updates_created(&self, cluster: &str) -> u64 {
        self.emulator.cluster_stats(cluster).cluster_version_updates_created
    }

    async fn cluster_version(&self, cluster: &str) -> String {
        let out = self.eks.describe_cluster().name(cluster).send().await.unwrap();
        out.cluster().unwrap().version().unwrap().to_owned()
    }

    /// DynamoDB goes away (the process stops; its data folder stays).
    async fn stop_table(&mut self) -> u16 {
        let dynalite = self.dynalite.take().expect("running");
        let port = dynalite.port;
        dynalite.stop().await;
        port
    }

    /// DynamoDB comes back on the same port and data folder.
    async fn start_table(&mut self, port: u16) {
        let dir = self.dynalite_dir.clone().expect("a persistent table");
        self.dynalite = Some(
            Dynalite::start(&local_stack::dynalite_bin(), port, Some(&dir))
                .await
                .expect("restart"),
        );
    }

    async fn stop(mut self) {
        if let Some(dynalite) = self.dynalite.take() {
            dynalite.stop().await;
        }
        if let Some(dir) = self.dynalite_dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
        self.emulator.shutdown().await;
    }
}

fn upgrade(cluster: &str, version: &str) -> Value {
    json!({ "cluster": cluster, "targetVersion": version })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_upgrade_runs_to_successful() {
    let stack = Stack::start(Options::default()).await;
    let answer = stack.invoke(upgrade("devel", "1.31")).await.expect("handled");

    assert_eq!(answer["status"], "SUCCEEDED", "{answer}");
    let record = stack.record("devel", "to-1.31").await.unwrap();
    assert_eq!(record.status, UpgradeStatus::Succeeded);
    assert_eq!(answer["updateId"], json!(record.update_id));
    assert_eq!(stack.updates_created("devel"), 1);
    assert_eq!(stack.cluster_version("devel").await, "1.31");
    let stats = stack.emulator.cluster_stats("devel");
    assert_eq!(stats.client_request_tokens.len(), 1);
    assert_eq!(stats.client_request_tokens[0].token, record.client_request_token);
    assert_eq!(stats.client_request_tokens[0].update_id, record.update_id);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_event_twice_and_ten_at_once_make_one_update() {
    let stack = Stack::start(Options {
        clusters: vec![("twice", "1.30"), ("burst", "1.30")],
        ..Options::default()
    })
    .await;

    let first = stack.invoke(upgrade("twice", "1.31")).await.unwrap();
    let second = stack.invoke(upgrade("twice", "1.31")).await.unwrap();
    assert_eq!(first["updateId"], second["updateId"]);
    assert_eq!(stack.updates_created("twice"), 1);
    assert_eq!(stack.emulator.cluster_stats("twice").update_cluster_version_calls, 1);

    let answers = futures::future::join_all((0..10).map(|_| stack.invoke(upgrade("burst", "1.31")))).await;
    for answer in &answers {
        assert!(answer.is_ok(), "{answer:?}");
    }
    let record = stack.wait_finished("burst", "to-1.31").await;
    assert_eq!(record.status, UpgradeStatus::Succeeded);
    assert_eq!(stack.updates_created("burst"), 1, "ten events, one update");
    let tokens = stack.emulator.cluster_stats("burst").client_request_tokens;
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].token, record.client_request_token);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_update_call_and_write_resumes_with_the_same_update() {
    let stack = Stack::start(Options {
        invocation_secs: 3,
        ..Options::default()
    })
    .await;
    stack.lambda.app.crash_points.arm("after:UpdateClusterVersion");
    let crashed = stack
        .invoke(upgrade("devel", "1.31"))
        .await
        .expect_err("the invocation dies");
    assert_eq!(crashed["errorType"], "InjectedCrash");
    let stranded = stack.record("devel", "to-1.31").await.unwrap();
    assert_eq!(stranded.update_id, None, "the update id never reached the table");
    assert_eq!(stack.updates_created("devel"), 1, "but EKS started the update");

    // Once the dead invocation's lease is over and its heartbeat stale, the sweep resumes it.
    let resumed = stack.sweep_until_resumed().await;
    assert_eq!(
        resumed["resumed"],
        json!([{ "cluster": "devel", "requestId": "to-1.31" }])
    );
    let record = stack.wait_finished("devel", "to-1.31").await;

    assert_eq!(record.status, UpgradeStatus::Succeeded);
    assert_eq!(record.client_request_token, stranded.client_request_token);
    let tokens = stack.emulator.cluster_stats("devel").client_request_tokens;
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    assert_eq!(tokens[0].calls, 2, "sent twice with the same token");
    assert_eq!(
        record.update_id, tokens[0].update_id,
        "and EKS gave back the same update"
    );
    assert_eq!(stack.updates_created("devel"), 1);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_in_progress_to_our_target_is_adopted() {
    let stack = Stack::start(Options {
        update_ms: 3_000,
        ..Options::default()
    })
    .await;
    let theirs = stack
        .eks
        .update_cluster_version()
        .name("devel")
        .version("1.31")
        .send()
        .await
        .unwrap();
    let theirs = theirs.update().unwrap().id().unwrap().to_owned();

    let answer = stack.invoke(upgrade("devel", "1.31")).await.unwrap();
    assert_eq!(answer["status"], "SUCCEEDED", "{answer}");
    let record = stack.record("devel", "to-1.31").await.unwrap();
    assert!(record.adopted);
    assert_eq!(record.update_id.as_deref(), Some(theirs.as_str()));
    assert_eq!(stack.updates_created("devel"), 1, "none of ours");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_update_is_recorded_with_its_errors() {
    let stack = Stack::start(Options::default()).await;
    let rule: FailNextUpdate =
        serde_json::from_value(json!({ "cluster": "devel", "errorCodes": ["NodeCreationFailure"] })).unwrap();
    stack.emulator.fail_next_update(rule).unwrap();
    let answer = stack.invoke(upgrade("devel", "1.31")).await.unwrap();

    assert_eq!(answer["status"], "FAILED", "{answer}");
    let record = stack.record("devel", "to-1.31").await.unwrap();
    assert_eq!(record.eks_errors.len(), 1);
    assert_eq!(record.eks_errors[0].error_code, "NodeCreationFailure");
    assert!(record.message.as_deref().unwrap().contains("NodeCreationFailure"));
    assert_eq!(stack.cluster_version("devel").await, "1.30");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_eks_cancels_fails_the_upgrade_with_the_emulators_cancellation() {
    let stack = Stack::start(Options::default()).await;
    let rule: FailNextUpdate =
        serde_json::from_value(json!({ "cluster": "devel", "errorCodes": ["Unknown"], "cancelled": true })).unwrap();
    stack.emulator.fail_next_update(rule).unwrap();
    let answer = stack.invoke(upgrade("devel", "1.31")).await.unwrap();
    // Only an operator's cancel is CANCELLED (a rollout's skip); EKS's is a failure.
    assert_eq!(answer["status"], "FAILED", "{answer}");
    let record = stack.record("devel", "to-1.31").await.unwrap();
    assert!(
        record.message.as_deref().unwrap().contains("Cancelled by EKS"),
        "{:?}",
        record.message
    );
    assert_eq!(stack.cluster_version("devel").await, "1.30");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_percent_throttling_and_5xx_still_end_successful_with_one_update() {
    let stack = Stack::start(Options::default()).await;
    let patch: FaultsPatch = serde_json::from_value(json!({ "throttleRate": 0.3, "errorRate": 0.3 })).unwrap();
    stack.emulator.set_faults(patch).unwrap();
    let answer = stack.invoke(upgrade("devel", "1.31")).await.unwrap();

    assert_eq!(answer["status"], "SUCCEEDED", "{answer}");
    assert_eq!(stack.updates_created("devel"), 1);
    let stats = stack.emulator.stats();
    println!(
        "faults injected: {} throttled, {} server errors, of {} EKS requests; record faults: {}",
        stats.requests.throttled,
        stats.requests.server_errors,
        stats.requests.total,
        stack.record("devel", "to-1.31").await.unwrap().faults
    );
    assert!(
        stats.requests.throttled + stats.requests.server_errors > 0,
        "faults were injected"
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn continuations_carry_the_tracking_across_invocations() {
    // Invocations of 3 s, polls of 1 s with a 1 s margin: an update of 6 s needs a chain.
    let stack = Stack::start(Options {
        update_ms: 6_000,
        invocation_secs: 3,
        ..Options::default()
    })
    .await;
    let first = stack.invoke(upgrade("devel", "1.31")).await.unwrap();
    assert_eq!(first["status"], "IN_PROGRESS", "{first}");
    assert!(first["outcome"].as_str().unwrap().contains("new invocation"), "{first}");

    let record = stack.wait_finished("devel", "to-1.31").await;
    assert_eq!(record.status, UpgradeStatus::Succeeded);
    assert!(record.invocations >= 2, "{record:?}");
    assert_eq!(stack.updates_created("devel"), 1);
    let relay = stack.emulator.stats().relay;
    assert!(relay.delivered >= 1, "{relay:?}");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_continuation_is_resumed_by_the_sweep() {
    let stack = Stack::start(Options {
        update_ms: 5_000,
        invocation_secs: 3,
        ..Options::default()
    })
    .await;
    stack.emulator.drop_next_event_invokes(1);
    let first = stack.invoke(upgrade("devel", "1.31")).await.unwrap();
    assert_eq!(first["status"], "IN_PROGRESS", "{first}");
    assert!(stack.emulator.wait_relay_idle(Duration::from_secs(10)).await);
    assert_eq!(stack.emulator.stats().relay.dropped_injected, 1);
    let stalled = stack.record("devel", "to-1.31").await.unwrap();
    assert!(stalled.handoff.is_some() && !stalled.is_finished());

    let sweep = stack.sweep_until_resumed().await;
    assert_eq!(
        sweep["resumed"],
        json!([{ "cluster": "devel", "requestId": "to-1.31" }]),
        "{sweep}"
    );
    let record = stack.wait_finished("devel", "to-1.31").await;
    assert_eq!(record.status, UpgradeStatus::Succeeded);
    assert_eq!(stack.updates_created("devel"), 1);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_insights_then_force() {
    let stack = Stack::start(Options::default()).await;
    stack
        .emulator
        .set_blocking_insights("devel", Some("1.31"), true)
        .unwrap();
    let blocked = stack.invoke(upgrade("devel", "1.31")).await.unwrap();
    assert_eq!(blocked["status"], "BLOCKED", "{blocked}");
    // The preflight reads the ERROR insight (ListInsights) and blocks before asking EKS.
    let message = blocked["message"].as_str().unwrap();
    assert!(
        message.contains("upgrade insights") && message.contains("\"force\": true"),
        "{message}"
    );
    assert_eq!(stack.updates_created("devel"), 0);

    let forced = stack
        .invoke(json!({ "cluster": "devel", "targetVersion": "1.31", "force": true }))
        .await
        .unwrap();
    assert_eq!(forced["status"], "SUCCEEDED", "{forced}");
    assert_eq!(stack.updates_created("devel"), 1);
    assert_eq!(stack.cluster_version("devel").await, "1.31");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_writes_nothing_over_the_wire() {
    let stack = Stack::start(Options::default()).await;
    let refused = stack
        .invoke(json!({ "cluster": "devel", "targetVersion": "01.30" }))
        .await
        .unwrap_err();
    assert_eq!(refused["errorType"], "InvalidEvent");
    assert!(
        refused["errorMessage"].as_str().unwrap().contains("targetVersion"),
        "{refused}"
    );
    let status = stack.invoke(json!({ "status": { "cluster": "devel" } })).await.unwrap();
    assert_eq!(status["records"], json!([]));
    assert_eq!(stack.emulator.stats().requests.total, 0, "no EKS call");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_plans_three_hops_with_add_ons_and_node_groups_and_changes_nothing() {
    let stack = Stack::start(Options {
        seed_file: Some("crates/eks-emulator/seeds/demo.json"),
        ..Options::default()
    })
    .await;
    let answer = stack
        .invoke(json!({ "cluster": "demo", "targetVersion": "1.33", "dryRun": true }))
        .await;
    let answer = answer.unwrap_or_else(|e| panic!("{e}: {:?}", stack.emulator.stats().requests));

    let plan = &answer["plan"];
    let hops = plan["hops"].as_array().unwrap();
    assert_eq!(
        hops.iter().map(|h| h["to"].as_str().unwrap()).collect::<Vec<_>>(),
        ["1.31", "1.32", "1.33"],
        "{plan}"
    );
    for hop in hops {
        assert_eq!(hop["nodegroups"][0]["name"], "ng-1", "{hop}");
        let addons: Vec<&str> = hop["addons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap())
            .collect();
        assert_eq!(addons.len(), 3, "{hop}");
    }
    assert!(
        hops[0]["addons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["to"].is_string()),
        "add-ons move: {plan}"
    );
    assert_eq!(plan["blockers"], json!([]), "{plan}");
    assert_eq!(
        stack.emulator.cluster_stats("demo").updates_created,
        0,
        "nothing changed in EKS"
    );
    assert_eq!(
        stack.invoke(json!({ "status": { "cluster": "demo" } })).await.unwrap()["records"],
        json!([])
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hops_with_add_ons_and_node_groups_on_the_emulator() {
    let stack = Stack::start(Options {
        seed: Some(demo_seed_with_a_lagging_node_group()),
        update_ms: 1_000,
        ..Options::default()
    })
    .await;
    let answer = stack.invoke(upgrade("demo", "1.33")).await.unwrap();
    let record = stack.wait_finished("demo", "to-1.33").await;

    assert_eq!(record.status, UpgradeStatus::Succeeded, "{answer} {:?}", record.message);
    assert_eq!(stack.cluster_version("demo").await, "1.33");
    let stats = stack.emulator.cluster_stats("demo");
    assert_eq!(stats.cluster_version_updates_created, 3);
    assert_eq!(
        stats.nodegroup_updates_created, 7,
        "ng-2 to 1.30 first, then both once per hop"
    );
    let addon_items = record
        .items
        .iter()
        .filter(|i| i.kind == eks_upgrade_orchestrator::domain::ItemKind::Addon)
        .count();
    assert_eq!(stats.addon_updates_created as usize, addon_items);
    // Every token EKS saw was stored in the record first, and each produced one update.
    let stored: Vec<String> = record.items.iter().map(|i| i.client_request_token.clone()).collect();
    for token in &stats.client_request_tokens {
        assert!(token.update_id.is_some(), "{token:?}");
        if token.operation != "UpdateClusterVersion" {
            assert!(stored.contains(&token.token), "{token:?} not in the record");
        }
    }
    let nodegroup = stack
        .eks
        .describe_nodegroup()
        .cluster_name("demo")
        .nodegroup_name("ng-1")
        .send()
        .await
        .unwrap();
    assert_eq!(nodegroup.nodegroup().unwrap().version(), Some("1.33"));
    stack.stop().await;
}

/// The demo seed (cluster `demo` at 1.30, add-ons, node group `ng-1`) plus `ng-2`, still at 1.29.
fn demo_seed_with_a_lagging_node_group() -> String {
    let path = format!("{}/crates/eks-emulator/seeds/demo.json", env!("CARGO_MANIFEST_DIR"));
    let mut seed: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let groups = seed["clusters"][0]["nodegroups"].as_array_mut().unwrap();
    let mut lagging = groups[0].clone();
    lagging["name"] = json!("ng-2");
    lagging["version"] = json!("1.29");
    lagging.as_object_mut().unwrap().remove("releaseVersion");
    groups.push(lagging);
    seed.to_string()
}

/// A cluster at 1.30 with a managed node group, a custom-AMI one and kube-proxy.
fn production_shapes_seed() -> String {
    json!({ "clusters": [{
        "name": "prod", "version": "1.30", "tags": { "upgrade-orchestrator/enabled": "true" },
        "nodegroups": [
            { "name": "ng-managed", "version": "1.30" },
            { "name": "ng-custom", "version": "1.30", "amiType": "CUSTOM",
              "launchTemplate": { "name": "custom-nodes", "version": "6" },
              "launchTemplateVersions": { "7": "1.31" } }
        ],
        "addons": [{ "name": "kube-proxy" }]
    }]})
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_ami_node_group_rolls_by_launch_template_on_the_emulator_and_never_gets_a_version() {
    let stack = Stack::start(Options {
        seed: Some(production_shapes_seed()),
        update_ms: 500,
        ..Options::default()
    })
    .await;
    // Without a launch template version: the managed parts upgrade, the custom group is left to
    // the operator (BLOCKED until it matches), and EKS never refuses a version for it.
    stack.invoke(upgrade("prod", "1.31")).await.unwrap();
    let blocked = stack
        .wait_for("prod", "to-1.31", "BLOCKED", |r| r.status == UpgradeStatus::Blocked)
        .await;
    assert!(
        blocked
            .message
            .as_deref()
            .unwrap()
            .contains("ng-custom runs a custom AMI"),
        "{:?}",
        blocked.message
    );
    assert_eq!(stack.cluster_version("prod").await, "1.31");
    let stats = stack.emulator.cluster_stats("prod");
    assert_eq!(
        stats.update_nodegroup_version_calls, 1,
        "only the managed node group was asked"
    );
    // With the launch template version that carries an AMI for 1.31: the upgrade finishes.
    stack
        .invoke(json!({
            "cluster": "prod", "targetVersion": "1.31", "requestId": "to-1.31-lt",
            "nodegroupLaunchTemplates": { "ng-custom": { "1.31": "7" } }
        }))
        .await
        .expect_err("held by the blocked one");
    stack
        .invoke(json!({ "cancel": { "cluster": "prod", "requestId": "to-1.31" } }))
        .await
        .unwrap();
    stack
        .invoke(json!({
            "cluster": "prod", "targetVersion": "1.31", "requestId": "to-1.31-lt",
            "nodegroupLaunchTemplates": { "ng-custom": { "1.31": "7" } }
        }))
        .await
        .unwrap();
    let done = stack
        .wait_for("prod", "to-1.31-lt", "SUCCEEDED", |r| r.is_finished())
        .await;
    assert_eq!(done.status, UpgradeStatus::Succeeded, "{:?}", done.message);
    let described = stack
        .eks
        .describe_nodegroup()
        .cluster_name("prod")
        .nodegroup_name("ng-custom")
        .send()
        .await
        .unwrap();
    let ng = described.nodegroup().unwrap();
    assert_eq!(
        (ng.version(), ng.launch_template().and_then(|l| l.version())),
        (Some("1.31"), Some("7"))
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_update_and_a_degraded_node_group_block_at_once_with_the_eks_message() {
    let stack = Stack::start(Options {
        seed: Some(production_shapes_seed()),
        update_ms: 500,
        ..Options::default()
    })
    .await;
    stack.emulator.deny("UpdateClusterVersion", Some("prod")).unwrap();
    let answer = stack.invoke(upgrade("prod", "1.31")).await.unwrap();
    assert_eq!(answer["status"], "BLOCKED", "{answer}");
    let said = answer["message"].as_str().unwrap();
    assert!(
        said.contains("AccessDeniedException") && said.contains("eks:UpdateClusterVersion"),
        "{said}"
    );
    assert_eq!(
        stack.emulator.cluster_stats("prod").update_cluster_version_calls,
        1,
        "asked once, not every poll"
    );

    stack.emulator.allow_all();
    stack
        .emulator
        .set_health(eks_emulator::SetHealth::nodegroup("prod", "ng-managed").status("DEGRADED"))
        .unwrap();
    stack
        .invoke(json!({
            "cluster": "prod", "targetVersion": "1.31", "requestId": "to-1.31",
            "nodegroupLaunchTemplates": { "ng-custom": { "1.31": "7" } }
        }))
        .await
        .unwrap();
    let blocked = stack
        .wait_for("prod", "to-1.31", "BLOCKED again", |r| {
            r.status == UpgradeStatus::Blocked
                && r.message
                    .as_deref()
                    .is_some_and(|m| m.contains("InvalidRequestException"))
        })
        .await;
    assert!(
        blocked
            .message
            .as_deref()
            .unwrap()
            .contains("invalid given the state of the cluster"),
        "{:?}",
        blocked.message
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_upgrade_per_cluster_on_dynalite_and_the_status_query_lists_records_not_the_lock() {
    let stack = Stack::start(Options::default()).await;
    let (a, b) = futures::join!(
        stack.invoke(json!({ "cluster": "devel", "targetVersion": "1.31", "requestId": "a" })),
        stack.invoke(json!({ "cluster": "devel", "targetVersion": "1.31", "requestId": "b" }))
    );
    let busy: Vec<&Value> = [&a, &b].into_iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(busy.len(), 1, "{a:?} {b:?}");
    assert_eq!(busy[0]["errorType"], "ClusterBusy", "{}", busy[0]);
    let status = stack.invoke(json!({ "status": { "cluster": "devel" } })).await.unwrap();
    assert_eq!(status["records"].as_array().unwrap().len(), 1, "{status}");
    assert!(
        status.get("unreadable").is_none(),
        "the lock is not read as a record: {status}"
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_a_crash_at_each_step_boundary_of_a_multi_hop_upgrade_adds_no_update() {
    let mut report = Vec::new();
    for point in [
        "after:Survey",
        "after:UpdateClusterVersion",
        "after:UpdateAddon",
        "after:UpdateNodegroupVersion",
        "after:DescribeItemUpdate",
        "before:continuation",
    ] {
        let stack = Stack::start(Options {
            seed_file: Some("crates/eks-emulator/seeds/demo.json"),
            update_ms: 1_500,
            invocation_secs: 4,
            ..Options::default()
        })
        .await;
        stack.lambda.app.crash_points.arm(point);
        let first = stack.invoke(upgrade("demo", "1.32")).await;
        // The crash may hit the first invocation or a continuation the relay delivered.
        let record = loop {
            let record = stack
                .record("demo", "to-1.32")
                .await
                .expect("written before any EKS call");
            if record.is_finished() {
                break record;
            }
            stack.sweep_until_resumed_or_finished("demo", "to-1.32").await;
        };
        assert_eq!(
            record.status,
            UpgradeStatus::Succeeded,
            "{point}: {first:?} {:?}",
            record.message
        );
        let stats = stack.emulator.cluster_stats("demo");
        let items = record.items.len() as u64;
        assert_eq!(stats.cluster_version_updates_created, 2, "{point}");
        assert_eq!(
            stats.nodegroup_updates_created + stats.addon_updates_created,
            items,
            "{point}: one update per step"
        );
        for token in &stats.client_request_tokens {
            assert!(token.update_id.is_some(), "{point}: {token:?}");
        }
        assert_eq!(stack.cluster_version("demo").await, "1.32");
        report.push(format!(
            "{point}: 2 control-plane + {items} add-on/node-group updates, no duplicate"
        ));
        stack.stop().await;
    }
    println!("{}", report.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// Load and faults. Each prints its report (run with --nocapture to see it). LOAD_CLUSTERS sets
// the fleet size of the second one (200 by default; larger runs: LOAD_CLUSTERS=1000).
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_fifty_identical_events_at_once_make_one_update() {
    let stack = Stack::start(Options::default()).await;
    let answers = futures::future::join_all((0..50).map(|_| stack.invoke(upgrade("devel", "1.31")))).await;
    let errors = answers.iter().filter(|a| a.is_err()).count();
    let record = stack.wait_finished("devel", "to-1.31").await;
    let stats = stack.emulator.cluster_stats("devel");
    println!(
        "report: 50 events, {} answered without error, {} update(s) created, {} UpdateClusterVersion call(s), status {:?}",
        50 - errors,
        stats.cluster_version_updates_created,
        stats.update_cluster_version_calls,
        record.status
    );
    assert_eq!(errors, 0, "{answers:?}");
    assert_eq!(stats.cluster_version_updates_created, 1);
    assert_eq!(stats.client_request_tokens.len(), 1);
    assert_eq!(record.status, UpgradeStatus::Succeeded);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_a_fleet_upgraded_together_under_throttling_and_5xx_ends_successful_with_one_update_each() {
    let fleet: usize = std::env::var("LOAD_CLUSTERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let names: Vec<&'static str> = (0..fleet)
        .map(|i| &*Box::leak(format!("c{i:04}").into_boxed_str()))
        .collect();
    let stack = Stack::start(Options {
        clusters: names.iter().map(|n| (*n, "1.30")).collect(),
        update_ms: 2_000,
        invocation_secs: 300,
        ..Options::default()
    })
    .await;
    let patch: FaultsPatch = serde_json::from_value(json!({ "throttleRate": 0.3, "errorRate": 0.3 })).unwrap();
    stack.emulator.set_faults(patch).unwrap();
    let started = Instant::now();
    let answers = futures::future::join_all(names.iter().map(|n| stack.invoke(upgrade(n, "1.31")))).await;
    let mut records = Vec::new();
    for name in &names {
        records.push(stack.wait_finished(name, "to-1.31").await);
    }
    let stats = stack.emulator.stats();
    let updates: u64 = names
        .iter()
        .map(|n| stack.emulator.cluster_stats(n).cluster_version_updates_created)
        .sum();
    let duplicates = names
        .iter()
        .filter(|n| stack.emulator.cluster_stats(n).cluster_version_updates_created > 1)
        .count();
    let lost = records.iter().filter(|r| r.status != UpgradeStatus::Succeeded).count();
    let workflow_retries: u32 = records.iter().map(|r| r.faults).sum();
    println!(
        "report: {fleet} clusters, {} events answered without error, {updates} updates, {duplicates} duplicates, \
         {lost} lost or unfinished, {} EKS requests of which {} throttled and {} 5xx, {workflow_retries} retries \
         by the workflow after the SDK's, all done in {:.1?}",
        answers.iter().filter(|a| a.is_ok()).count(),
        stats.requests.total,
        stats.requests.throttled,
        stats.requests.server_errors,
        started.elapsed()
    );
    assert!(
        answers.iter().all(|a| a.is_ok()),
        "every invocation answers without error"
    );
    assert_eq!(updates, fleet as u64);
    assert_eq!((duplicates, lost), (0, 0));
    assert!(
        stats.requests.throttled > 0 && stats.requests.server_errors > 0,
        "faults were injected"
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_dynamodb_gone_mid_upgrade_delays_it_and_no_change_goes_out_without_its_token_stored() {
    let mut stack = Stack::start(Options {
        update_ms: 6_000,
        invocation_secs: 3,
        persistent_table: true,
        ..Options::default()
    })
    .await;
    let first = stack.invoke(upgrade("devel", "1.31")).await.unwrap();
    assert_eq!(first["status"], "IN_PROGRESS", "{first}");

    // The table goes away while the continuation is on its way: that invocation fails.
    let port = stack.stop_table().await;
    assert!(stack.emulator.wait_relay_idle(Duration::from_secs(60)).await);
    let relay = stack.emulator.stats().relay;
    stack.start_table(port).await;

    stack.sweep_until_resumed_or_finished("devel", "to-1.31").await;
    let record = stack.wait_finished("devel", "to-1.31").await;
    let stats = stack.emulator.cluster_stats("devel");
    let stored: Vec<&str> = std::iter::once(record.client_request_token.as_str())
        .chain(record.items.iter().map(|i| i.client_request_token.as_str()))
        .collect();
    let unstored: Vec<&str> = stats
        .client_request_tokens
        .iter()
        .map(|t| t.token.as_str())
        .filter(|t| !stored.contains(t))
        .collect();
    println!(
        "report: table down for a continuation ({} function error(s), {} dropped by the relay); \
         {} update(s); {} token(s) seen by EKS, {} not in the table; status {:?} after {} invocation(s)",
        relay.function_errors,
        relay.dropped,
        stats.cluster_version_updates_created,
        stats.client_request_tokens.len(),
        unstored.len(),
        record.status,
        record.invocations
    );
    assert_eq!(record.status, UpgradeStatus::Succeeded);
    assert_eq!(stats.cluster_version_updates_created, 1);
    assert!(
        unstored.is_empty(),
        "every token EKS saw was stored first: {unstored:?}"
    );
    assert!(relay.function_errors >= 1, "the outage was felt: {relay:?}");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parked_upgrade_is_woken_by_the_emulators_scheduler_and_nothing_runs_in_between() {
    // An update of 8 s, looked at every 2 s: each look parks the record and a one-time
    // schedule on the emulator wakes it.
    let stack = Stack::start(Options {
        update_ms: 8_000,
        wakes: true,
        ..Options::default()
    })
    .await;
    let first = stack.invoke(upgrade("devel", "1.31")).await.unwrap();
    assert!(first["outcome"].as_str().unwrap().contains("parked"), "{first}");
    let parked = stack.record("devel", "to-1.31").await.unwrap();
    assert!(parked.wake_at.is_some() && parked.lease_owner.is_none(), "{parked:?}");
    assert_eq!(stack.emulator.stats().schedules.waiting, 1);

    let record = stack.wait_finished("devel", "to-1.31").await;
    assert_eq!(record.status, UpgradeStatus::Succeeded, "{:?}", record.message);
    assert_eq!(stack.updates_created("devel"), 1);
    let stats = stack.emulator.stats();
    assert!(stats.schedules.fired >= 3, "woken by schedules: {:?}", stats.schedules);
    assert_eq!(stats.schedules.waiting, 0, "each deleted after it ran");
    assert_eq!(record.invocations, 1, "wake-ups are no runaway chain");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wake_up_that_never_arrives_is_resumed_by_the_sweep_with_no_second_update() {
    let stack = Stack::start(Options {
        update_ms: 4_000,
        wakes: true,
        ..Options::default()
    })
    .await;
    // The first wake-up fires into the relay, which drops it.
    stack.emulator.drop_next_event_invokes(1);
    stack.invoke(upgrade("devel", "1.31")).await.unwrap();
    let stalled = stack
        .wait_for("devel", "to-1.31", "the wake-up to be dropped", |_| {
            stack.emulator.stats().relay.dropped_injected == 1
        })
        .await;
    assert!(stalled.wake_at.is_some() && !stalled.is_finished(), "{stalled:?}");
    stack.sweep_until_resumed_or_finished("devel", "to-1.31").await;
    let record = stack.wait_finished("devel", "to-1.31").await;
    assert_eq!(record.status, UpgradeStatus::Succeeded, "{:?}", record.message);
    assert_eq!(stack.updates_created("devel"), 1);
    stack.stop().await;
}
