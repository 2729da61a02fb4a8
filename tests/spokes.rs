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

#[tokio::test]
async fn the_spoke_role_is_assumed_once_and_its_credentials_reused() {
    let expires = SystemTime::now() + Duration::from_secs(3600);
    let rule = mock!(aws_sdk_sts::Client::assume_role)
        .match_requests(|r| {
            r.role_arn() == Some("arn:aws:iam::210987654321:role/eks-upgrade-spoke")
                && r.role_session_name() == Some("eks-upgrade-web")
                && r.external_id() == Some("shared-secret")
        })
        .then_output(move || {
            AssumeRoleOutput::builder()
                .credentials(
                    Credentials::builder()
                        .access_key_id("ASIAMEMBER")
                        .secret_access_key("secret")
                        .session_token("token")
                        .expiration(DateTime::from(expires))
                        .build()
                        .unwrap(),
                )
                .build()
        });
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
