//! Hub and spoke on the local stack: the function reaches a member account's cluster through
//! the emulator's STS (`AssumeRole` of the spoke role) and upgrades it there, once, beside a
//! cluster of the same name in its own account; a member whose role does not trust the hub
//! blocks only its cluster, with STS's message; a member cluster's verification reads its own
//! account's alarms.

use super::*;

const MEMBER: &str = "210987654321";
const STRANGER: &str = "333333333333";

fn hub_seed() -> String {
    let tags = json!({ "upgrade-orchestrator/enabled": "true" });
    json!({
        "clusters": [
            { "name": "web", "version": "1.30", "tags": tags },
            { "name": "web", "version": "1.30", "tags": tags, "account": MEMBER, "region": "eu-west-1" },
            { "name": "web", "version": "1.30", "tags": tags, "account": STRANGER, "region": "us-east-1" },
        ],
        "accounts": [
            { "id": MEMBER, "roles": [{ "name": "eks-upgrade-spoke", "trusts": ["123456789012"] }] },
            { "id": STRANGER, "roles": [{ "name": "eks-upgrade-spoke", "trusts": ["999999999999"] }] },
        ],
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_members_cluster_is_upgraded_through_its_spoke_role_once_beside_the_hubs_own() {
    let stack = Stack::start(Options {
        seed: Some(hub_seed()),
        hub: true,
        ..Options::default()
    })
    .await;
    let there = "arn:aws:eks:eu-west-1:210987654321:cluster/web";
    let stranger = "arn:aws:eks:us-east-1:333333333333:cluster/web";
    stack.invoke(upgrade("web", "1.31")).await.expect("handled");
    stack
        .invoke(
            json!({ "cluster": { "name": "web", "account": MEMBER, "region": "eu-west-1" }, "targetVersion": "1.31" }),
        )
        .await
        .expect("handled");
    stack.invoke(upgrade(stranger, "1.31")).await.expect("handled");
    let done = |r: &UpgradeRecord| r.is_finished();
    let here = stack.wait_for("web", "to-1.31", "the hub's web", done).await;
    let member = stack.wait_for(there, "to-1.31", "the member's web", done).await;
    let blocked = stack
        .wait_for(stranger, "to-1.31", "the stranger's web blocked", |r| {
            r.status == UpgradeStatus::Blocked
        })
        .await;
    assert_eq!(here.status, UpgradeStatus::Succeeded, "{:?}", here.message);
    assert_eq!(member.status, UpgradeStatus::Succeeded, "{:?}", member.message);
    let message = blocked.message.unwrap_or_default();
    assert!(
        message.contains("arn:aws:iam::333333333333:role/eks-upgrade-spoke")
            && message.contains("is not authorized to perform: sts:AssumeRole"),
        "{message}"
    );
    let stats = stack.emulator.stats();
    assert_eq!(stats.clusters["web"].cluster_version_updates_created, 1);
    assert_eq!(stats.clusters[there].cluster_version_updates_created, 1);
    assert!(!stats.clusters.contains_key(stranger), "nothing was called there");
    // Two AssumeRoles for the member's whole upgrade, each kept: the shared session for its
    // looks, and one named after the cluster for its changes, which the member's CloudTrail
    // shows as the identity of each change.
    assert_eq!(stats.assume_role_by_account.get(MEMBER), Some(&2));
    let changes: Vec<(&String, &u64)> = stats
        .changes_by_session
        .iter()
        .filter(|(arn, _)| arn.contains(MEMBER))
        .collect();
    assert_eq!(
        changes,
        [(
            &"arn:aws:sts::210987654321:assumed-role/eks-upgrade-spoke/eks-upgrade-web".to_owned(),
            &stats.clusters[there].cluster_version_updates_created
        )],
        "every change in the member made as the cluster's session"
    );
    assert_eq!(
        stats.requests_by_location.get("210987654321/eu-west-1").map(|n| *n > 3),
        Some(true)
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_members_verification_reads_the_alarms_of_its_own_account_and_region() {
    let stack = Stack::start(Options {
        seed: Some(hub_seed()),
        hub: true,
        ..Options::default()
    })
    .await;
    // The same alarm name in both accounts: firing in the hub's, quiet in the member's. Read
    // in the hub's account, the member's preflight would block on it.
    stack
        .emulator
        .set_alarm("web-5xx", "ALARM", Some("the hub's own"))
        .unwrap();
    stack
        .emulator
        .set_alarm_at(MEMBER, "eu-west-1", "web-5xx", "OK")
        .unwrap();
    let there = "arn:aws:eks:eu-west-1:210987654321:cluster/web";
    stack
        .invoke(json!({
            "cluster": there, "targetVersion": "1.31",
            "verify": { "alarms": ["web-5xx"], "soakMinutes": 0 },
        }))
        .await
        .expect("handled");
    let member = stack
        .wait_for(there, "to-1.31", "the member's web", |r| r.is_finished())
        .await;
    assert_eq!(member.status, UpgradeStatus::Succeeded, "{:?}", member.message);
    let stats = stack.emulator.stats();
    assert_eq!(stats.clusters[there].cluster_version_updates_created, 1);
    // An alarm only the member has is accepted for it, and refused for the hub's own cluster.
    stack
        .emulator
        .set_alarm_at(MEMBER, "eu-west-1", "member-only", "OK")
        .unwrap();
    let refused = stack
        .invoke(json!({
            "cluster": "web", "targetVersion": "1.31",
            "verify": { "alarms": ["member-only"], "soakMinutes": 0 },
        }))
        .await
        .expect_err("an alarm the hub's account doesn't have");
    assert!(refused.to_string().contains("verify.alarms[0]"), "{refused}");
    stack.stop().await;
}
