//! Reaching a member account over `aws-sdk-sts` (mocked): the spoke role is assumed once and its
//! credentials reused; a refusal names the account, the role and AWS's message.

use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_sts::operation::assume_role::{AssumeRoleError, AssumeRoleOutput};
use aws_sdk_sts::types::Credentials;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use aws_smithy_types::DateTime;
use eks_upgrade_orchestrator::adapters::aws::{AwsConfig, LazyClient, TrustRoots};
use eks_upgrade_orchestrator::adapters::spokes::{SpokeRole, Spokes};
use eks_upgrade_orchestrator::domain::{FailureKind, Location};
use std::time::{Duration, SystemTime};

fn role() -> SpokeRole {
    SpokeRole {
        name: "eks-upgrade-spoke".into(),
        external_id: Some("shared-secret".into()),
    }
}

fn member() -> Location {
    Location::new("210987654321", "eu-west-1").unwrap()
}

/// What STS answers: credentials `ASIAMEMBER` that expire `secs` from now.
fn credentials_for(secs: u64) -> AssumeRoleOutput {
    AssumeRoleOutput::builder()
        .credentials(
            Credentials::builder()
                .access_key_id("ASIAMEMBER")
                .secret_access_key("secret")
                .session_token("token")
                .expiration(DateTime::from(SystemTime::now() + Duration::from_secs(secs)))
                .build()
                .unwrap(),
        )
        .build()
}

#[tokio::test]
async fn the_spoke_role_is_assumed_once_and_its_credentials_reused() {
    let rule = mock!(aws_sdk_sts::Client::assume_role)
        .match_requests(|r| {
            r.role_arn() == Some("arn:aws:iam::210987654321:role/eks-upgrade-spoke")
                && r.role_session_name() == Some("eks-upgrade-web")
                && r.external_id() == Some("shared-secret")
        })
        .then_output(|| credentials_for(3600));
    let sts = mock_client!(aws_sdk_sts, RuleMode::MatchAny, [&rule]);
    let spokes = Spokes::new(AwsConfig::new(TrustRoots::Mozilla), LazyClient::ready(sts), role());
    for _ in 0..3 {
        let config = spokes.config_for(&member(), "eks-upgrade-web").await.unwrap();
        assert_eq!(config.region().map(|r| r.as_ref()), Some("eu-west-1"));
        let credentials = config
            .credentials_provider()
            .unwrap()
            .provide_credentials()
            .await
            .unwrap();
        assert_eq!(credentials.access_key_id(), "ASIAMEMBER");
    }
    assert_eq!(rule.num_calls(), 1, "assumed once, then reused");
}

#[tokio::test]
async fn a_refused_assumption_names_the_account_the_role_and_awss_message() {
    let rule = mock!(aws_sdk_sts::Client::assume_role).then_error(|| {
        AssumeRoleError::generic(
            aws_sdk_sts::error::ErrorMetadata::builder()
                .code("AccessDenied")
                .message(
                    "User: arn:aws:sts::123456789012:assumed-role/hub/x is not authorized to perform: \
                     sts:AssumeRole on resource: arn:aws:iam::210987654321:role/eks-upgrade-spoke",
                )
                .build(),
        )
    });
    let sts = mock_client!(aws_sdk_sts, [&rule]);
    let spokes = Spokes::new(AwsConfig::new(TrustRoots::Mozilla), LazyClient::ready(sts), role());
    let failure = spokes.config_for(&member(), "eks-upgrade-web").await.unwrap_err();
    assert_eq!(failure.kind, FailureKind::AccessDenied, "{failure}");
    assert!(
        failure.message.contains("account 210987654321")
            && failure
                .message
                .contains("arn:aws:iam::210987654321:role/eks-upgrade-spoke")
            && failure.message.contains("is not authorized to perform: sts:AssumeRole"),
        "{failure}"
    );
}

#[tokio::test]
async fn a_members_client_keeps_the_endpoints_and_time_outs_of_the_functions_configuration() {
    // What the standard variables give the function's own clients (AWS_ENDPOINT_URL_EKS and
    // the like, loaded into the configuration) carries over to a member's.
    let base = aws_config::from_env()
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url("http://127.0.0.1:4566")
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(20))
                .build(),
        )
        .load()
        .await;
    let rule = mock!(aws_sdk_sts::Client::assume_role).then_output(|| credentials_for(3600));
    let sts = mock_client!(aws_sdk_sts, [&rule]);
    let spokes = Spokes::new(AwsConfig::ready(base), LazyClient::ready(sts), role());
    let config = spokes.config_for(&member(), "eks-upgrade-web").await.unwrap();
    assert_eq!(config.endpoint_url(), Some("http://127.0.0.1:4566"));
    assert_eq!(
        config.timeout_config().and_then(|t| t.operation_timeout()),
        Some(Duration::from_secs(20))
    );
    let eks = aws_sdk_eks::Client::new(&config);
    assert_eq!(eks.config().region().map(|r| r.as_ref()), Some("eu-west-1"));
}

#[tokio::test]
async fn a_members_eks_calls_go_to_aws_endpoint_url_eks_signed_as_the_spoke_in_its_region() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    // The only test here whose configuration is loaded after this; the others' clients never
    // send a request.
    std::env::set_var("AWS_ENDPOINT_URL_EKS", &url);
    let seen = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut head = vec![0u8; 8192];
        let n = socket.read(&mut head).await.unwrap();
        let body = r#"{"message":"No cluster found for name: web."}"#;
        let answer = format!(
            "HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\nx-amzn-errortype: ResourceNotFoundException\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        socket.write_all(answer.as_bytes()).await.unwrap();
        String::from_utf8_lossy(&head[..n]).to_string()
    });
    let rule = mock!(aws_sdk_sts::Client::assume_role).then_output(|| credentials_for(3600));
    let sts = mock_client!(aws_sdk_sts, [&rule]);
    let spokes = Spokes::new(AwsConfig::new(TrustRoots::Mozilla), LazyClient::ready(sts), role());
    let config = spokes.config_for(&member(), "eks-upgrade-web").await.unwrap();
    let eks = aws_sdk_eks::Client::new(&config);
    let _ = eks.describe_cluster().name("web").send().await;
    let request = seen.await.unwrap().to_lowercase();
    assert!(request.starts_with("get /clusters/web "), "{request}");
    assert!(
        request.contains("credential=asiamember/") && request.contains("/eu-west-1/eks/aws4_request"),
        "{request}"
    );
}

#[tokio::test]
async fn credentials_near_their_expiry_are_refreshed() {
    // STS gave credentials for 10 minutes only: less than an invocation may still need them.
    let rule = mock!(aws_sdk_sts::Client::assume_role).then_output(|| credentials_for(600));
    let sts = mock_client!(aws_sdk_sts, RuleMode::MatchAny, [&rule]);
    let spokes = Spokes::new(AwsConfig::new(TrustRoots::Mozilla), LazyClient::ready(sts), role());
    spokes.eks(&member(), "s").await.unwrap();
    spokes.eks(&member(), "s").await.unwrap();
    assert_eq!(
        rule.num_calls(),
        2,
        "assumed again: they would expire within the refresh margin"
    );
}
