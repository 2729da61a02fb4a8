//! Several accounts and regions with the real `aws-sdk-sts` and `aws-sdk-eks`: STS
//! `AssumeRole` of a member's role that trusts the caller gives credentials whose calls see that
//! account's clusters (and CloudWatch alarms) in the region they are signed for; STS's
//! refusals, with its messages.

use aws_config::BehaviorVersion;
use aws_sdk_eks::config::{Credentials, Region};
use aws_sdk_eks::error::ProvideErrorMetadata;
use eks_emulator::{Durations, Emulator, EmulatorConfig};

use crate::common::start_with;

const MEMBER: &str = "210987654321";
const STRANGER: &str = "333333333333";

const SEED: &str = r#"{
  "clusters": [
    {"name": "web", "version": "1.30"},
    {"name": "web", "version": "1.30", "account": "210987654321", "region": "us-east-1"},
    {"name": "api", "version": "1.31", "account": "210987654321", "region": "eu-west-1"},
    {"name": "web", "version": "1.30", "account": "333333333333", "region": "us-east-1"}
  ],
  "alarms": [
    {"name": "api-5xx", "state": "OK"},
    {"name": "api-5xx", "state": "ALARM", "reason": "member breach", "account": "210987654321", "region": "us-east-1"}
  ],
  "accounts": [
    {"id": "210987654321", "roles": [{"name": "eks-upgrade-spoke", "trusts": ["123456789012"]},
                                     {"name": "with-id", "externalId": "s3cret"}],
     "disabledRegions": ["ap-east-1"]},
    {"id": "333333333333", "roles": [{"name": "eks-upgrade-spoke", "trusts": ["999999999999"]}]}
  ]
}"#;

async fn emulator() -> Emulator {
    let emu = start_with(EmulatorConfig {
        durations: Durations::updates(60_000),
        ..Default::default()
    })
    .await;
    emu.seed_json(SEED).expect("seed applies");
    emu
}

async fn config(emu: &Emulator, region: &str, credentials: Credentials) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .credentials_provider(credentials)
        .endpoint_url(emu.url())
        .load()
        .await
}

fn hub() -> Credentials {
    Credentials::new("hubkey", "secret", None, None, "tests")
}

async fn assume(emu: &Emulator, role: &str, external_id: Option<&str>) -> Result<Credentials, (String, String)> {
    let sts = aws_sdk_sts::Client::new(&config(emu, "us-east-1", hub()).await);
    let out = sts
        .assume_role()
        .role_arn(role)
        .role_session_name("eks-upgrade-web")
        .set_external_id(external_id.map(str::to_owned))
        .send()
        .await
        .map_err(|e| {
            let e = e.into_service_error();
            (
                e.code().unwrap_or_default().to_owned(),
                e.message().unwrap_or_default().to_owned(),
            )
        })?;
    let c = out.credentials().expect("credentials");
    assert!(c.access_key_id().starts_with("ASIA"));
    assert!(out.assumed_role_user().unwrap().arn().contains("assumed-role/"));
    Ok(Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        None,
        "sts",
    ))
}

/// The member's credentials, as the hub gets them: its spoke role assumed.
async fn spoke(emu: &Emulator) -> Credentials {
    assume(emu, "arn:aws:iam::210987654321:role/eks-upgrade-spoke", None)
        .await
        .unwrap()
}

async fn eks(emu: &Emulator, region: &str, credentials: Credentials) -> aws_sdk_eks::Client {
    aws_sdk_eks::Client::new(&config(emu, region, credentials).await)
}

#[tokio::test]
async fn a_members_role_shows_its_clusters_in_the_region_signed_for() {
    let emu = emulator().await;
    let member = spoke(&emu).await;
    let there = eks(&emu, "us-east-1", member.clone()).await;
    let web = there.describe_cluster().name("web").send().await.unwrap();
    assert_eq!(
        web.cluster().unwrap().arn(),
        Some("arn:aws:eks:us-east-1:210987654321:cluster/web")
    );
    let eu = eks(&emu, "eu-west-1", member.clone()).await;
    assert_eq!(eu.list_clusters().send().await.unwrap().clusters(), ["api"]);
    // An update there changes that cluster only.
    there
        .update_cluster_version()
        .name("web")
        .version("1.31")
        .client_request_token("0123456789abcdef0123456789abcdef-member")
        .send()
        .await
        .unwrap();
    let home = eks(&emu, "us-east-1", hub()).await;
    let own = home.describe_cluster().name("web").send().await.unwrap();
    assert_eq!(
        own.cluster().unwrap().arn(),
        Some("arn:aws:eks:us-east-1:123456789012:cluster/web")
    );
    assert!(home
        .list_updates()
        .name("web")
        .send()
        .await
        .unwrap()
        .update_ids()
        .is_empty());
    assert_eq!(
        there
            .list_updates()
            .name("web")
            .send()
            .await
            .unwrap()
            .update_ids()
            .len(),
        1
    );
    let stats = emu.stats();
    assert_eq!(stats.assume_role_by_account.get(MEMBER), Some(&1));
    assert_eq!(
        stats.clusters["arn:aws:eks:us-east-1:210987654321:cluster/web"].cluster_version_updates_created,
        1
    );
}

#[tokio::test]
async fn sts_refuses_as_aws_does() {
    let emu = emulator().await;
    let denied = |role: &str| {
        format!(
            "User: arn:aws:iam::123456789012:user/hubkey is not authorized to perform: sts:AssumeRole on resource: {role}"
        )
    };
    // A role that trusts another account, a role that does not exist, a wrong external id.
    for (role, id) in [
        (format!("arn:aws:iam::{STRANGER}:role/eks-upgrade-spoke"), None),
        (format!("arn:aws:iam::{MEMBER}:role/missing"), None),
        (format!("arn:aws:iam::{MEMBER}:role/with-id"), Some("wrong")),
    ] {
        let refused = assume(&emu, &role, id).await.unwrap_err();
        assert_eq!(refused, ("AccessDenied".to_owned(), denied(&role)));
    }
    assume(&emu, &format!("arn:aws:iam::{MEMBER}:role/with-id"), Some("s3cret"))
        .await
        .expect("the right external id");
    let sts = aws_sdk_sts::Client::new(&config(&emu, "us-east-1", hub()).await);
    let bad = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{MEMBER}:role/eks-upgrade-spoke"))
        .role_session_name("has space")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(bad.code(), Some("ValidationError"));
    assert!(bad
        .message()
        .unwrap()
        .contains("at 'roleSessionName' failed to satisfy constraint"));
}

#[tokio::test]
async fn a_region_the_account_has_not_enabled_refuses_its_credentials() {
    let emu = emulator().await;
    let member = spoke(&emu).await;
    let closed = eks(&emu, "ap-east-1", member).await;
    let e = closed.list_clusters().send().await.unwrap_err().into_service_error();
    assert_eq!(e.code(), Some("UnrecognizedClientException"));
    assert_eq!(
        e.message(),
        Some("The security token included in the request is invalid.")
    );
}

/// Each alarm state named `api-5xx` that CloudWatch answers the caller, or its error code.
async fn api_5xx(emu: &Emulator, region: &str, credentials: Credentials) -> Result<Vec<String>, String> {
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&config(emu, region, credentials).await);
    let out = cloudwatch
        .describe_alarms()
        .alarm_names("api-5xx")
        .send()
        .await
        .map_err(|e| e.into_service_error().code().unwrap_or_default().to_owned())?;
    Ok(out
        .metric_alarms()
        .iter()
        .map(|a| a.state_value().unwrap().as_str().to_owned())
        .collect())
}

#[tokio::test]
async fn a_members_alarms_are_read_in_its_account_and_region() {
    let emu = emulator().await;
    let member = spoke(&emu).await;
    assert_eq!(
        api_5xx(&emu, "us-east-1", hub()).await.unwrap(),
        ["OK"],
        "the hub's own"
    );
    assert_eq!(api_5xx(&emu, "us-east-1", member.clone()).await.unwrap(), ["ALARM"]);
    assert!(
        api_5xx(&emu, "eu-west-1", member.clone()).await.unwrap().is_empty(),
        "another region"
    );
    emu.set_alarm_at(MEMBER, "eu-west-1", "api-5xx", "INSUFFICIENT_DATA")
        .unwrap();
    assert_eq!(
        api_5xx(&emu, "eu-west-1", member.clone()).await.unwrap(),
        ["INSUFFICIENT_DATA"]
    );
    assert_eq!(
        api_5xx(&emu, "us-east-1", hub()).await.unwrap(),
        ["OK"],
        "unchanged at home"
    );
    assert_eq!(
        api_5xx(&emu, "ap-east-1", member).await.unwrap_err(),
        "InvalidClientTokenId",
        "a region the account has not enabled"
    );
}
