//! Clusters across accounts and regions (hub and spoke), through the handler over in-memory
//! ports: a cluster is (account, region, name); a name alone is this function's own account and
//! region, as before; a member account that can't be reached blocks only its clusters.

use eks_upgrade_orchestrator::config::SpokeConfig;
use eks_upgrade_orchestrator::domain::{Location, UpgradeStatus};
use eks_upgrade_orchestrator::fakes::FakeEks;
use eks_upgrade_orchestrator::handler::HandlerError;
use serde_json::{json, Value};

mod common;
use common::*;

const MEMBER: &str = "210987654321";
const WEB_IN_MEMBER: &str = "arn:aws:eks:us-east-1:210987654321:cluster/web";

/// The hub in 123456789012/us-east-1, reaching members through `eks-upgrade-spoke`.
fn hub(eks: FakeEks) -> Harness {
    let mut h = Harness::new(eks);
    h.app.config.home = Some(Location::new("123456789012", "us-east-1").unwrap());
    h.app.config.spoke = Some(SpokeConfig {
        role_name: "eks-upgrade-spoke".into(),
        external_id: None,
    });
    h
}

/// `web` here and `web` in the member account, each at 1.30; updates end after one look.
fn two_webs() -> FakeEks {
    let eks = FakeEks::with_cluster("web", "1.30", 1);
    eks.add_cluster_at(MEMBER, "us-east-1", "web", "1.30", &[]);
    eks
}

fn upgrade(cluster: Value) -> Value {
    json!({ "cluster": cluster, "targetVersion": "1.31" })
}

#[tokio::test]
async fn the_same_name_in_two_accounts_is_two_clusters() {
    let h = hub(two_webs());
    h.send_ok(upgrade(json!("web"))).await;
    h.send_ok(upgrade(
        json!({ "name": "web", "account": MEMBER, "region": "us-east-1" }),
    ))
    .await;
    h.deliver_continuations().await;
    let here = h.record_of("web", "to-1.31");
    let there = h.record_of(WEB_IN_MEMBER, "to-1.31");
    assert_eq!(here.status, UpgradeStatus::Succeeded, "{:?}", here.message);
    assert_eq!(there.status, UpgradeStatus::Succeeded, "{:?}", there.message);
    assert_ne!(here.update_id, there.update_id, "two updates");
    assert_eq!(h.app.eks.cluster_updates("web"), 1);
    assert_eq!(h.app.eks.cluster_updates(WEB_IN_MEMBER), 1);
    assert_eq!(h.app.store.all().len(), 2, "two records");
    // Two locks: each was taken by its own upgrade (and released when it ended).
    for cluster in ["web", WEB_IN_MEMBER] {
        let lock = h.app.store.lock_of(cluster).expect("a lock per cluster");
        assert_eq!(lock.cluster, cluster);
    }
}

#[tokio::test]
async fn a_name_alone_and_an_arn_of_this_account_are_one_cluster() {
    let h = hub(two_webs());
    h.send_ok(upgrade(json!("web"))).await;
    let again = h
        .send_ok(upgrade(json!("arn:aws:eks:us-east-1:123456789012:cluster/web")))
        .await;
    assert_eq!(again["cluster"], "web", "{again}");
    h.deliver_continuations().await;
    assert_eq!(h.app.store.all().len(), 1, "one record");
    assert_eq!(h.app.eks.cluster_updates("web"), 1, "one update");
}

#[tokio::test]
async fn a_member_cluster_is_refused_naming_the_field_when_no_spoke_role_is_configured() {
    let mut h = hub(two_webs());
    h.app.config.spoke = None;
    let refused = h.send(upgrade(json!(WEB_IN_MEMBER))).await;
    let Err(HandlerError::InvalidEvent(e)) = refused else {
        panic!("{refused:?}")
    };
    assert_eq!(e.field, "cluster");
    assert!(e.problem.contains(MEMBER) && e.problem.contains("SpokeRoleName"), "{e}");
    assert!(h.app.store.all().is_empty(), "nothing written");
    assert_eq!(h.app.eks.update_cluster_version_calls(), 0);
}

#[tokio::test]
async fn an_unreachable_account_blocks_only_its_clusters_naming_the_role_and_awss_message() {
    let eks = two_webs();
    eks.make_unreachable(MEMBER);
    let h = hub(eks);
    h.send_ok(upgrade(json!("web"))).await;
    h.send_ok(upgrade(json!(WEB_IN_MEMBER))).await;
    h.deliver_continuations().await;
    assert_eq!(h.record_of("web", "to-1.31").status, UpgradeStatus::Succeeded);
    let blocked = h.record_of(WEB_IN_MEMBER, "to-1.31");
    assert_eq!(blocked.status, UpgradeStatus::Blocked, "{:?}", blocked.message);
    let message = blocked.message.unwrap_or_default();
    assert!(
        message.contains("arn:aws:iam::210987654321:role/eks-upgrade-spoke")
            && message.contains("not authorized to perform: sts:AssumeRole"),
        "{message}"
    );
    assert_eq!(h.app.eks.cluster_updates(WEB_IN_MEMBER), 0);
}

#[tokio::test]
async fn a_record_key_of_another_account_reads_back_as_that_cluster() {
    let h = hub(two_webs());
    h.send_ok(upgrade(json!(WEB_IN_MEMBER))).await;
    let record = h.record_of(WEB_IN_MEMBER, "to-1.31");
    let continuation = record.continuation("x".into()).unwrap();
    assert_eq!(continuation.cluster.key(), WEB_IN_MEMBER);
    assert_eq!(continuation.cluster.name.as_str(), "web");
    let status = h
        .send_ok(json!({ "status": { "cluster": { "name": "web", "account": MEMBER, "region": "us-east-1" } } }))
        .await;
    assert_eq!(status["records"][0]["cluster"], WEB_IN_MEMBER, "{status}");
}

#[tokio::test]
async fn a_region_of_another_partition_and_one_cluster_named_twice_are_refused_naming_the_field() {
    let h = hub(two_webs());
    let refused = h
        .send(upgrade(json!("arn:aws-cn:eks:cn-north-1:210987654321:cluster/web")))
        .await;
    let Err(HandlerError::InvalidEvent(e)) = refused else {
        panic!("{refused:?}")
    };
    assert!(e.field == "cluster" && e.problem.contains("partition aws-cn"), "{e}");
    let twice = json!({ "rollout": { "name": "fleet", "targetVersion": "1.31", "stages": [
        { "name": "one", "clusters": ["web"] },
        { "name": "two", "clusters": ["arn:aws:eks:us-east-1:123456789012:cluster/web"] },
    ] } });
    let Err(HandlerError::InvalidEvent(e)) = h.send(twice).await else {
        panic!("refused")
    };
    assert_eq!(e.field, "rollout.stages[1].clusters[0]");
    assert!(e.problem.contains("already in stage one"), "{e}");
    assert!(
        h.app.store.all().is_empty() && h.app.store.rollouts().is_empty(),
        "nothing written"
    );
}
