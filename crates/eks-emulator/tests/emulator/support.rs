//! Support dates as EKS reports them, with the real `aws-sdk-eks`: DescribeClusterVersions
//! gives each version's end of standard and of extended support, and a version seeded without
//! a status moves to EXTENDED_SUPPORT, then UNSUPPORTED, as the emulator's clock passes them;
//! DescribeCluster gives the upgrade policy.

use aws_sdk_eks::types::VersionStatus;
use eks_emulator::EmulatorConfig;

use crate::common::*;

const DAY: u64 = 86_400;

#[tokio::test]
async fn a_versions_support_status_follows_its_dates_on_the_emulators_clock() {
    let emu = start_with(EmulatorConfig::default()).await;
    let now = emu.now() as u64;
    emu.seed_json(
        &serde_json::json!({
            "kubernetesVersions": [
                {"version": "1.33", "endOfStandardSupportDate": now + 10 * DAY, "endOfExtendedSupportDate": now + 20 * DAY},
                {"version": "1.34", "endOfStandardSupportDate": now + 100 * DAY, "endOfExtendedSupportDate": now + 465 * DAY,
                 "defaultVersion": true},
                {"version": "1.35", "versionStatus": "STANDARD_SUPPORT", "endOfStandardSupportDate": now + 5 * DAY}
            ],
            "clusters": [
                {"name": "ext", "version": "1.33"},
                {"name": "std", "version": "1.33", "supportType": "STANDARD"}
            ]
        })
        .to_string(),
    )
    .expect("seed applies");
    let c = eks(&emu).await;
    let status = |out: &aws_sdk_eks::operation::describe_cluster_versions::DescribeClusterVersionsOutput, v: &str| {
        out.cluster_versions()
            .iter()
            .find(|i| i.cluster_version() == Some(v))
            .and_then(|i| i.version_status().cloned())
    };
    let out = c.describe_cluster_versions().send().await.unwrap();
    assert_eq!(status(&out, "1.33"), Some(VersionStatus::StandardSupport));
    let v133 = out
        .cluster_versions()
        .iter()
        .find(|i| i.cluster_version() == Some("1.33"))
        .unwrap();
    assert_eq!(
        v133.end_of_standard_support_date().unwrap().secs() as u64,
        now + 10 * DAY
    );
    assert_eq!(
        v133.end_of_extended_support_date().unwrap().secs() as u64,
        now + 20 * DAY
    );
    emu.advance_clock(11 * DAY);
    let out = c.describe_cluster_versions().send().await.unwrap();
    assert_eq!(status(&out, "1.33"), Some(VersionStatus::ExtendedSupport));
    assert_eq!(status(&out, "1.34"), Some(VersionStatus::StandardSupport));
    assert_eq!(
        status(&out, "1.35"),
        Some(VersionStatus::StandardSupport),
        "a seeded status stays"
    );
    emu.advance_clock(10 * DAY);
    let out = c.describe_cluster_versions().include_all(true).send().await.unwrap();
    assert_eq!(status(&out, "1.33"), Some(VersionStatus::Unsupported));
    let listed = c.describe_cluster_versions().send().await.unwrap();
    assert_eq!(status(&listed, "1.33"), None, "UNSUPPORTED only with includeAll");
    for (name, policy) in [("ext", "EXTENDED"), ("std", "STANDARD")] {
        let out = c.describe_cluster().name(name).send().await.unwrap();
        let got = out
            .cluster()
            .unwrap()
            .upgrade_policy()
            .unwrap()
            .support_type()
            .unwrap()
            .as_str()
            .to_owned();
        assert_eq!(got, policy, "{name}");
    }
}
