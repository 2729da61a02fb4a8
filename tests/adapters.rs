//! The SDK adapters against mocked SDK clients (aws-smithy-mocks): the requests they build and
//! how each EKS and DynamoDB answer maps to what the workflow acts on.

use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::put_item::{PutItemError, PutItemOutput};
use aws_sdk_dynamodb::types::error::ConditionalCheckFailedException;
use aws_sdk_eks::error::ErrorMetadata;
use aws_sdk_eks::operation::describe_update::DescribeUpdateOutput;
use aws_sdk_eks::operation::update_cluster_version::{UpdateClusterVersionError, UpdateClusterVersionOutput};
use aws_sdk_eks::types::error::{
    InvalidParameterException, InvalidStateException, ResourceInUseException, ResourceNotFoundException,
    ThrottlingException,
};
use aws_sdk_eks::types::{ErrorCode, ErrorDetail, Update, UpdateParam, UpdateParamType, UpdateStatus, UpdateType};
use aws_sdk_lambda::operation::invoke::InvokeOutput;
use aws_sdk_lambda::types::InvocationType;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use eks_upgrade_orchestrator::adapters::dynamodb::DynamoStore;
use eks_upgrade_orchestrator::adapters::eks::EksAdapter;
use eks_upgrade_orchestrator::adapters::lambda::LambdaInvoker;
use eks_upgrade_orchestrator::domain::TargetVersion;
use eks_upgrade_orchestrator::domain::{
    ClusterId, ClusterName, Continuation, FailureKind, KubeVersion, RequestId, UpdateState, UpgradeRecord,
    UpgradeRequest,
};
use eks_upgrade_orchestrator::ports::{Eks, Inserted, RecordStore, Replaced, SelfInvoker};

const TOKEN: &str = "5f0c7c2e-8d7a-4c59-9a8e-3d2b1f0e9c11";

fn meta(code: &str, message: &str) -> ErrorMetadata {
    // On the wire the code comes from the x-amzn-ErrorType header; a built error carries it here.
    ErrorMetadata::builder().code(code).message(message).build()
}

async fn update_error(
    error: impl Fn() -> UpdateClusterVersionError + Send + Sync + 'static,
) -> eks_upgrade_orchestrator::domain::EksFailure {
    let rule = mock!(aws_sdk_eks::Client::update_cluster_version).then_error(error);
    let client = mock_client!(aws_sdk_eks, RuleMode::MatchAny, [&rule]);
    EksAdapter::new(client)
        .update_cluster_version("devel", KubeVersion::new(1, 31), TOKEN, false)
        .await
        .expect_err("refused")
}

#[tokio::test]
async fn update_cluster_version_sends_version_token_and_force() {
    let rule = mock!(aws_sdk_eks::Client::update_cluster_version)
        .match_requests(|req| {
            req.name() == Some("devel")
                && req.version() == Some("1.31")
                && req.client_request_token() == Some(TOKEN)
                && req.force() == Some(true)
        })
        .then_output(|| {
            UpdateClusterVersionOutput::builder()
                .update(
                    Update::builder()
                        .id("u-1")
                        .status(UpdateStatus::InProgress)
                        .r#type(UpdateType::VersionUpdate)
                        .params(
                            UpdateParam::builder()
                                .r#type(UpdateParamType::Version)
                                .value("1.31")
                                .build(),
                        )
                        .params(
                            UpdateParam::builder()
                                .r#type(UpdateParamType::PlatformVersion)
                                .value("eks.1")
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
    let client = mock_client!(aws_sdk_eks, [&rule]);
    let update = EksAdapter::new(client)
        .update_cluster_version("devel", KubeVersion::new(1, 31), TOKEN, true)
        .await
        .expect("accepted");
    assert_eq!(update.id, "u-1");
    assert_eq!(update.state, UpdateState::InProgress);
    assert_eq!(update.kind, "VersionUpdate");
    assert_eq!(update.version.as_deref(), Some("1.31"));
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn eks_errors_map_to_what_the_workflow_does() {
    let in_use = "Cannot VersionUpdate because cluster devel currently has update u-9 in progress";
    let failure = update_error(move || {
        UpdateClusterVersionError::ResourceInUseException(
            ResourceInUseException::builder()
                .message(in_use)
                .meta(meta("ResourceInUseException", in_use))
                .build(),
        )
    })
    .await;
    assert_eq!(
        (failure.kind, failure.message.as_str()),
        (FailureKind::ResourceInUse, in_use)
    );

    let skipped = "Unsupported Kubernetes minor version update from 1.29 to 1.31";
    let failure = update_error(move || {
        UpdateClusterVersionError::InvalidParameterException(
            InvalidParameterException::builder()
                .message(skipped)
                .meta(meta("InvalidParameterException", skipped))
                .build(),
        )
    })
    .await;
    assert_eq!(
        (failure.kind, failure.message.as_str()),
        (FailureKind::InvalidParameter, skipped)
    );

    let insights = "Upgrade readiness issues detected.";
    let failure = update_error(move || {
        UpdateClusterVersionError::InvalidStateException(
            InvalidStateException::builder()
                .message(insights)
                .meta(meta("InvalidStateException", insights))
                .build(),
        )
    })
    .await;
    assert_eq!(failure.kind, FailureKind::InvalidState);

    let missing = "No cluster found for name: devel.";
    let failure = update_error(move || {
        UpdateClusterVersionError::ResourceNotFoundException(
            ResourceNotFoundException::builder()
                .message(missing)
                .meta(meta("ResourceNotFoundException", missing))
                .build(),
        )
    })
    .await;
    assert_eq!(failure.kind, FailureKind::NotFound);

    let failure = update_error(move || {
        UpdateClusterVersionError::ThrottlingException(
            ThrottlingException::builder()
                .message("Rate exceeded")
                .meta(meta("ThrottlingException", "Rate exceeded"))
                .build(),
        )
    })
    .await;
    assert_eq!(failure.kind, FailureKind::Transient);

    let failure =
        update_error(move || UpdateClusterVersionError::generic(meta("AccessDeniedException", "not allowed"))).await;
    assert_eq!(
        (failure.kind, failure.code.as_str()),
        (FailureKind::AccessDenied, "AccessDeniedException")
    );
}

#[tokio::test]
async fn describe_update_reads_status_and_errors() {
    let rule = mock!(aws_sdk_eks::Client::describe_update)
        .match_requests(|req| req.name() == Some("devel") && req.update_id() == Some("u-1"))
        .then_output(|| {
            DescribeUpdateOutput::builder()
                .update(
                    Update::builder()
                        .id("u-1")
                        .status(UpdateStatus::Failed)
                        .r#type(UpdateType::VersionUpdate)
                        .errors(
                            ErrorDetail::builder()
                                .error_code(ErrorCode::ClusterUnreachable)
                                .error_message("unreachable")
                                .resource_ids("devel")
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
    let client = mock_client!(aws_sdk_eks, [&rule]);
    let update = EksAdapter::new(client).describe_update("devel", "u-1").await.unwrap();
    assert_eq!(update.state, UpdateState::Failed);
    assert_eq!(update.errors.len(), 1);
    assert_eq!(update.errors[0].error_code, "ClusterUnreachable");
    assert_eq!(update.errors[0].resource_ids, ["devel"]);
}

fn record() -> UpgradeRecord {
    let request = UpgradeRequest::new(
        ClusterName::parse("devel").unwrap(),
        TargetVersion::Exact(KubeVersion::new(1, 31)),
    );
    UpgradeRecord::new(&request, KubeVersion::new(1, 31), TOKEN.into(), 1_790_000_000)
}

#[tokio::test]
async fn insert_is_conditional_and_returns_the_existing_record() {
    let existing = record();
    let item: std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> =
        serde_dynamo::to_item(&existing).unwrap();
    let put = mock!(aws_sdk_dynamodb::Client::put_item)
        .match_requests(|req| {
            req.condition_expression() == Some("attribute_not_exists(#cluster)")
                && req.item().is_some_and(|i| {
                    i.get("clientRequestToken").and_then(|v| v.as_s().ok()) == Some(&TOKEN.to_string())
                })
        })
        .then_error(|| {
            PutItemError::ConditionalCheckFailedException(ConditionalCheckFailedException::builder().build())
        });
    let get = mock!(aws_sdk_dynamodb::Client::get_item)
        .match_requests(|req| req.consistent_read() == Some(true))
        .then_output(move || GetItemOutput::builder().set_item(Some(item.clone())).build());
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&put, &get]);
    let store = DynamoStore::new(client, "upgrades");
    assert_eq!(
        store.insert_new(&record()).await.unwrap(),
        Inserted::AlreadyExists(Box::new(existing))
    );
    assert_eq!((put.num_calls(), get.num_calls()), (1, 1));
}

#[tokio::test]
async fn replace_is_conditional_on_the_revision() {
    let mut next = record();
    next.revision = 8;
    let accepted = mock!(aws_sdk_dynamodb::Client::put_item)
        .match_requests(|req| {
            req.condition_expression() == Some("#revision = :expected")
                && req
                    .expression_attribute_values()
                    .and_then(|v| v.get(":expected"))
                    .and_then(|v| v.as_n().ok())
                    == Some(&"7".to_string())
        })
        .then_output(|| PutItemOutput::builder().build());
    let client = mock_client!(aws_sdk_dynamodb, [&accepted]);
    assert_eq!(
        DynamoStore::new(client, "upgrades").replace(&next, 7).await.unwrap(),
        Replaced::Done
    );

    let refused = mock!(aws_sdk_dynamodb::Client::put_item).then_error(|| {
        PutItemError::ConditionalCheckFailedException(ConditionalCheckFailedException::builder().build())
    });
    let client = mock_client!(aws_sdk_dynamodb, [&refused]);
    assert_eq!(
        DynamoStore::new(client, "upgrades").replace(&next, 7).await.unwrap(),
        Replaced::Conflict
    );
}

#[tokio::test]
async fn finished_records_drop_the_index_key_and_get_a_ttl() {
    let mut done = record();
    done.sweep_bucket = None;
    done.expires_at = Some(1_797_776_000);
    let item = serde_dynamo::to_item(&done).unwrap();
    let item: std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> = item;
    assert!(
        !item.contains_key("sweepBucket"),
        "absent, not NULL: the sparse index must not hold it"
    );
    assert_eq!(item["expiresAt"].as_n().unwrap(), "1797776000");
    assert_eq!(item["heartbeatAt"].as_n().unwrap(), "1790000000");
    let back: UpgradeRecord = serde_dynamo::from_item(item).unwrap();
    assert_eq!(back, done);
}

#[tokio::test]
async fn continuation_is_an_asynchronous_invoke_of_itself() {
    let rule = mock!(aws_sdk_lambda::Client::invoke)
        .match_requests(|req| {
            let payload: serde_json::Value = serde_json::from_slice(req.payload().unwrap().as_ref()).unwrap();
            req.function_name() == Some("eks-upgrade-orchestrator")
                && req.invocation_type() == Some(&InvocationType::Event)
                && payload["continuation"]["handoff"] == "nonce-1"
                && payload["continuation"]["requestId"] == "to-1.31"
        })
        .then_output(|| InvokeOutput::builder().status_code(202).build());
    let client = mock_client!(aws_sdk_lambda, [&rule]);
    let invoker = LambdaInvoker::new(client, "eks-upgrade-orchestrator");
    let continuation = Continuation {
        cluster: ClusterId::parse("devel").unwrap(),
        request_id: RequestId::parse("to-1.31").unwrap(),
        handoff: "nonce-1".into(),
    };
    invoker.send(&continuation).await.expect("sent");
    assert_eq!(rule.num_calls(), 1);

    let synchronous =
        mock!(aws_sdk_lambda::Client::invoke).then_output(|| InvokeOutput::builder().status_code(200).build());
    let client = mock_client!(aws_sdk_lambda, [&synchronous]);
    let err = LambdaInvoker::new(client, "f").send(&continuation).await.unwrap_err();
    assert!(err.0.contains("expected 202"), "{err}");
}

#[tokio::test]
async fn a_record_with_a_window_round_trips_through_dynamodb_items() {
    let request: UpgradeRequest = serde_json::from_str(
        &std::fs::read_to_string(format!(
            "{}/events/upgrade-request-window.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap(),
    )
    .unwrap();
    let mut parked = UpgradeRecord::new(&request, KubeVersion::new(1, 31), TOKEN.into(), 1_790_000_000);
    parked.wait_until = Some(1_790_100_000);
    let item: std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> =
        serde_dynamo::to_item(&parked).unwrap();
    assert!(item.contains_key("maintenanceWindow") && item.contains_key("exclusions"));
    let back: UpgradeRecord = serde_dynamo::from_item(item).unwrap();
    assert_eq!(back, parked);
    assert!(back.maintenance_window.is_some());
}

/// `TLS_TRUST_ROOTS=amazon`: the HTTPS client with only Amazon Trust Services' roots parses its
/// bundled certificates when its connector is built (a bad certificate would panic there) and
/// then serves calls like the default one; here over plain HTTP to the emulator.
#[tokio::test]
async fn the_amazon_roots_http_client_serves_calls() {
    use eks_upgrade_orchestrator::adapters::aws::{AwsConfig, TrustRoots};
    let emulator = eks_emulator::Emulator::start(eks_emulator::EmulatorConfig {
        port: 0,
        ..Default::default()
    })
    .await
    .unwrap();
    let aws = AwsConfig::new(TrustRoots::AmazonTrustServices);
    let config = aws_sdk_eks::config::Builder::from(aws.get().await)
        .endpoint_url(emulator.url())
        .region(aws_sdk_eks::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_eks::config::Credentials::new(
            "local", "local", None, None, "test",
        ))
        .build();
    let clusters = aws_sdk_eks::Client::from_conf(config)
        .list_clusters()
        .send()
        .await
        .unwrap();
    assert_eq!(clusters.clusters(), &[] as &[String]);
}

mod wake_ups {
    use super::meta;
    use aws_sdk_scheduler::operation::create_schedule::{CreateScheduleError, CreateScheduleOutput};
    use aws_sdk_scheduler::operation::delete_schedule::{DeleteScheduleError, DeleteScheduleOutput};
    use aws_sdk_scheduler::types::error::{ConflictException, ResourceNotFoundException, ValidationException};
    use aws_sdk_scheduler::types::{ActionAfterCompletion, FlexibleTimeWindowMode};
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use eks_upgrade_orchestrator::adapters::scheduler::SchedulerWakes;
    use eks_upgrade_orchestrator::config::WakeConfig;
    use eks_upgrade_orchestrator::domain::event::wake::Wake;
    use eks_upgrade_orchestrator::domain::{ClusterId, Continuation, RequestId};
    use eks_upgrade_orchestrator::ports::WakeScheduler;

    fn config() -> WakeConfig {
        WakeConfig {
            group: "orchestrator-wakes".into(),
            role_arn: "arn:aws:iam::123456789012:role/wake".into(),
            target_arn: "arn:aws:lambda:us-east-1:123456789012:function:orchestrator".into(),
            dead_letter_arn: Some("arn:aws:sqs:us-east-1:123456789012:wake-dlq".into()),
            park_after_secs: 60,
        }
    }

    fn wake() -> Wake {
        let continuation = Continuation {
            cluster: ClusterId::parse("devel").unwrap(),
            request_id: RequestId::parse("to-1.31").unwrap(),
            handoff: "n-1".into(),
        };
        Wake::continuation(&continuation, 1_790_000_060)
    }

    #[tokio::test]
    async fn a_wake_up_is_a_one_time_schedule_on_time_deleted_after_it_ran_with_retries_and_a_dlq() {
        let expected = wake();
        let name = expected.name.clone();
        let rule = mock!(aws_sdk_scheduler::Client::create_schedule)
            .match_requests(move |req| {
                let target = req.target().expect("a target");
                let retry = target.retry_policy().expect("a retry policy");
                req.name() == Some(name.as_str())
                    && req.group_name() == Some("orchestrator-wakes")
                    && req.schedule_expression() == Some("at(2026-09-21T14:14:20)")
                    && req.schedule_expression_timezone() == Some("UTC")
                    && req.flexible_time_window().map(|w| w.mode()) == Some(&FlexibleTimeWindowMode::Off)
                    && req.action_after_completion() == Some(&ActionAfterCompletion::Delete)
                    && target.arn() == "arn:aws:lambda:us-east-1:123456789012:function:orchestrator"
                    && target.role_arn() == "arn:aws:iam::123456789012:role/wake"
                    && target.input().map(|i| serde_json::from_str::<serde_json::Value>(i).unwrap())
                        == Some(serde_json::json!({"continuation": {"cluster": "devel", "requestId": "to-1.31", "handoff": "n-1"}}))
                    && retry.maximum_retry_attempts() == Some(20)
                    && retry.maximum_event_age_in_seconds() == Some(3600)
                    && target.dead_letter_config().and_then(|d| d.arn())
                        == Some("arn:aws:sqs:us-east-1:123456789012:wake-dlq")
            })
            .then_output(|| CreateScheduleOutput::builder().schedule_arn("arn").build().unwrap());
        let client = mock_client!(aws_sdk_scheduler, [&rule]);
        SchedulerWakes::new(client, Some(config()))
            .arrange(&expected)
            .await
            .expect("arranged");
        assert_eq!(rule.num_calls(), 1);
    }

    #[tokio::test]
    async fn the_same_wake_up_twice_is_one_and_a_refusal_is_an_error_naming_the_call() {
        let conflict = mock!(aws_sdk_scheduler::Client::create_schedule).then_error(|| {
            CreateScheduleError::ConflictException(
                ConflictException::builder()
                    .message("Schedule wake-1 already exists.")
                    .meta(meta("ConflictException", "Schedule wake-1 already exists."))
                    .build()
                    .unwrap(),
            )
        });
        let client = mock_client!(aws_sdk_scheduler, RuleMode::MatchAny, [&conflict]);
        assert_eq!(
            SchedulerWakes::new(client, Some(config())).arrange(&wake()).await,
            Ok(())
        );

        let invalid = mock!(aws_sdk_scheduler::Client::create_schedule).then_error(|| {
            CreateScheduleError::ValidationException(
                ValidationException::builder()
                    .message("Invalid Schedule Expression")
                    .meta(meta("ValidationException", "Invalid Schedule Expression"))
                    .build()
                    .unwrap(),
            )
        });
        let client = mock_client!(aws_sdk_scheduler, RuleMode::MatchAny, [&invalid]);
        let err = SchedulerWakes::new(client, Some(config()))
            .arrange(&wake())
            .await
            .unwrap_err();
        assert_eq!(err.0, "CreateSchedule: ValidationException Invalid Schedule Expression");

        let gone = mock!(aws_sdk_scheduler::Client::delete_schedule).then_error(|| {
            DeleteScheduleError::ResourceNotFoundException(
                ResourceNotFoundException::builder()
                    .message("Schedule wake-1 does not exist.")
                    .meta(meta("ResourceNotFoundException", "Schedule wake-1 does not exist."))
                    .build()
                    .unwrap(),
            )
        });
        let client = mock_client!(aws_sdk_scheduler, RuleMode::MatchAny, [&gone]);
        let wakes = SchedulerWakes::new(client, Some(config()));
        assert_eq!(wakes.withdraw("wake-1").await, Ok(()), "already gone is withdrawn");

        let deleted = mock!(aws_sdk_scheduler::Client::delete_schedule)
            .match_requests(|req| req.name() == Some("wake-2") && req.group_name() == Some("orchestrator-wakes"))
            .then_output(|| DeleteScheduleOutput::builder().build());
        let client = mock_client!(aws_sdk_scheduler, [&deleted]);
        SchedulerWakes::new(client, Some(config()))
            .withdraw("wake-2")
            .await
            .unwrap();
        assert_eq!(deleted.num_calls(), 1);
    }
}

/// The default HTTPS client (Mozilla's roots compiled in) carries the SDK's requests and answers
/// like the SDK's own: a DynamoDB GetItem over it, to a local endpoint.
#[tokio::test]
async fn the_compiled_roots_client_carries_sdk_calls() {
    use axum::routing::post;
    let app = axum::Router::new().route(
        "/",
        post(|body: String| async move {
            assert!(body.contains("\"TableName\":\"upgrades\""), "{body}");
            (
                [("content-type", "application/x-amz-json-1.0")],
                r#"{"Item": {"cluster": {"S": "devel"}}}"#,
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .endpoint_url(url)
        .http_client(eks_upgrade_orchestrator::adapters::tls::compiled_roots_http_client(
            Some(std::time::Duration::from_secs(2)),
        ))
        .build();
    let out = aws_sdk_dynamodb::Client::from_conf(config)
        .get_item()
        .table_name("upgrades")
        .key("cluster", aws_sdk_dynamodb::types::AttributeValue::S("devel".into()))
        .send()
        .await
        .expect("answered through the compiled-roots client");
    assert_eq!(
        out.item()
            .and_then(|i| i.get("cluster"))
            .and_then(|v| v.as_s().ok())
            .map(String::as_str),
        Some("devel")
    );
}
