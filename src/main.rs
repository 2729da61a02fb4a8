//! The Lambda function's entry point: tracing, the SDK clients (built once, on first use), the
//! handler.

// The handler's future nests every step's future; its layout needs more than the default depth.
#![recursion_limit = "256"]

use eks_upgrade_orchestrator::adapters::{
    aws::{AwsConfig, TrustRoots},
    cloudwatch::CloudWatchAlarms,
    dynamodb::DynamoStore,
    eks::EksAdapter,
    eventbridge::EventBridgeNotifier,
    lambda::LambdaInvoker,
    scheduler::SchedulerWakes,
    spokes::{SpokeRole, Spokes},
};
use eks_upgrade_orchestrator::config::Config;
use eks_upgrade_orchestrator::crash::{CrashPoints, CRASH_AT_VAR};
use eks_upgrade_orchestrator::handler::{Invocation, Orchestrator};
use eks_upgrade_orchestrator::ports::{Clock, MetricsLog, SystemClock};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

/// The function's adapters, over the AWS SDK.
type Lambda = Orchestrator<(
    EksAdapter,
    DynamoStore,
    LambdaInvoker,
    SystemClock,
    EventBridgeNotifier,
    CloudWatchAlarms,
    SchedulerWakes,
)>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    // JSON logs when AWS_LAMBDA_LOG_FORMAT=JSON; level from AWS_LAMBDA_LOG_LEVEL or RUST_LOG.
    lambda_runtime::tracing::init_default_subscriber();
    let config = Config::from_env()?;
    // Loaded, and each client built, when an invocation first needs it: see adapters::aws.
    let aws = AwsConfig::new(TrustRoots::from_env()?).with_operation_timeout(config.operation_timeout_secs);
    let mut eks = EksAdapter::new(aws.lazy(aws_sdk_eks::Client::new));
    let mut alarms = CloudWatchAlarms::new(aws.lazy(aws_sdk_cloudwatch::Client::new));
    if let Some(spoke) = &config.spoke {
        let role = SpokeRole {
            name: spoke.role_name.clone(),
            external_id: spoke.external_id.clone(),
        };
        // One set of member credentials for both EKS and CloudWatch.
        let spokes = Spokes::new(aws.clone(), aws.lazy(aws_sdk_sts::Client::new), role);
        eks = eks.with_spokes(spokes.clone());
        alarms = alarms.with_spokes(spokes);
    }
    let metrics = MetricsLog::stdout(&config.function_name);
    let orchestrator: Lambda = Orchestrator {
        eks,
        store: DynamoStore::new(aws.lazy(aws_sdk_dynamodb::Client::new), &config.table_name),
        invoker: LambdaInvoker::new(aws.lazy(aws_sdk_lambda::Client::new), &config.function_name),
        clock: SystemClock,
        notifier: EventBridgeNotifier::new(
            aws.lazy(aws_sdk_eventbridge::Client::new),
            config.event_bus_name.clone(),
        ),
        alarms,
        scheduler: SchedulerWakes::new(aws.lazy(aws_sdk_scheduler::Client::new), config.wake.clone()),
        config,
        metrics,
        crash_points: CrashPoints::from_env(),
    };
    if orchestrator.crash_points.is_armed() {
        tracing::warn!("{CRASH_AT_VAR} is set: this process will abort at the named points (a test hook)");
    }
    let orchestrator = &orchestrator;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let invocation = Invocation::from_context(
            event.context.request_id.clone(),
            event.context.deadline,
            SystemClock.now_ms(),
        );
        tracing::debug!(request_id = %invocation.request_id, deadline_ms = invocation.deadline_ms, "invocation");
        orchestrator.reply(&event.payload, &invocation).await
    }))
    .await
}
