//! Clusters across accounts and regions (hub and spoke), through the handler over in-memory
//! ports: a cluster is (account, region, name); a name alone is this function's own account and
//! region, as before; a member account that can't be reached blocks only its clusters.

use eks_upgrade_orchestrator::config::SpokeConfig;
use eks_upgrade_orchestrator::domain::eks::OfferedVersion;
use eks_upgrade_orchestrator::domain::{KubeVersion, Location, UpgradeStatus};
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

mod rollouts {
    use super::*;
    use eks_upgrade_orchestrator::domain::rollout::{ClusterState, RolloutRecord, RolloutStatus};
    use std::collections::BTreeMap;

    const DEV: &str = "111111111111";
    const STAGING: &str = "222222222222";
    const PROD: &str = "333333333333";
    const GONE: &str = "444444444444";
    const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];

    /// Two enrolled clusters per region in dev and staging, three in prod; one of prod's not
    /// enrolled; account GONE unreachable. Each update ends after two looks.
    fn organization() -> FakeEks {
        let eks = FakeEks::default();
        eks.lock().update_polls = 2;
        for (account, n) in [(DEV, 2), (STAGING, 2), (PROD, 3)] {
            for region in REGIONS {
                for i in 0..n {
                    eks.add_cluster_at(account, region, &format!("web-{i}"), "1.30", &[("tier", "web")]);
                }
            }
        }
        let key = eks.add_cluster_at(PROD, "us-east-1", "batch", "1.30", &[("tier", "web")]);
        eks.lock().unenrolled.push(key);
        eks.make_unreachable(GONE);
        eks
    }

    fn stages(prod_budget: u32) -> Value {
        json!({ "rollout": { "name": "org", "targetVersion": "1.31", "stages": [
            { "name": "dev", "accounts": [DEV], "regions": REGIONS, "maxConcurrent": 4 },
            { "name": "staging", "accounts": [STAGING], "regions": REGIONS, "maxConcurrent": 2 },
            { "name": "prod", "accounts": [PROD, GONE], "regions": REGIONS, "tags": { "tier": "web" },
              "maxConcurrent": 4, "maxConcurrentPerAccount": 2, "failureBudget": prod_budget },
        ] } })
    }

    fn the_rollout(h: &Harness) -> RolloutRecord {
        h.app.store.rollouts().remove(0)
    }

    /// Delivers what the function sent itself until nothing is left, checking after each that
    /// no stage exceeds its caps, overall and per account.
    async fn drain(h: &Harness) -> usize {
        let mut most_in_an_account = 0;
        for _ in 0..10_000 {
            let continuations = h.app.invoker.take();
            let ticks = h.app.invoker.take_ticks();
            if continuations.is_empty() && ticks.is_empty() {
                return most_in_an_account;
            }
            let events = continuations
                .into_iter()
                .map(|c| json!({ "continuation": c }))
                .chain(ticks.into_iter().map(|t| json!({ "rolloutTick": t })));
            for event in events {
                let _ = h.send(event).await;
                for stage in the_rollout(h).stages {
                    assert!(stage.active() <= stage.max_concurrent as usize, "{}", stage.name);
                    let mut by_account: BTreeMap<String, usize> = BTreeMap::new();
                    for c in stage.clusters.iter().filter(|c| c.state.is_active()) {
                        *by_account
                            .entry(c.name.split(':').nth(4).unwrap_or("").to_owned())
                            .or_default() += 1;
                    }
                    let most = by_account.values().copied().max().unwrap_or(0);
                    if let Some(cap) = stage.max_concurrent_per_account {
                        assert!(most <= cap as usize, "{}: {by_account:?}", stage.name);
                        most_in_an_account = most_in_an_account.max(most);
                    }
                }
            }
        }
        panic!("never settled");
    }

    #[tokio::test]
    async fn a_rollout_through_three_accounts_and_two_regions_keeps_order_caps_and_budget() {
        let h = hub(organization());
        h.send_ok(stages(2)).await;
        let most = drain(&h).await;
        assert_eq!(most, 2, "prod ran two at once in an account, never more");
        let r = the_rollout(&h);
        assert_eq!(r.status, RolloutStatus::Succeeded, "{:?}", r.message);
        // Every enrolled cluster once, in its own account and region.
        for (account, n) in [(DEV, 2), (STAGING, 2), (PROD, 3)] {
            for region in REGIONS {
                for i in 0..n {
                    let key = format!("arn:aws:eks:{region}:{account}:cluster/web-{i}");
                    assert_eq!(h.app.eks.cluster_updates(&key), 1, "{key}");
                }
            }
        }
        assert_eq!(h.app.eks.updates_created_by_tokens(), 4 + 4 + 6);
        // Stage order: each stage's first start after the previous stage's last end.
        let ends: Vec<(i64, i64)> = r
            .stages
            .iter()
            .map(|s| {
                let started = s.clusters.iter().filter_map(|c| c.started_at).min().unwrap();
                let ended = s.clusters.iter().filter_map(|c| c.finished_at).max().unwrap();
                (started, ended)
            })
            .collect();
        assert!(ends[0].1 <= ends[1].0 && ends[1].1 <= ends[2].0, "{ends:?}");
        // The unreachable account is a failure of prod per region, within its budget, named
        // with why.
        let prod = &r.stages[2];
        let gone: Vec<_> = prod
            .clusters
            .iter()
            .filter(|c| c.state == ClusterState::Failed)
            .collect();
        assert_eq!(gone.len(), 2, "one per region of the unreachable account");
        let note = gone[0].note.clone().unwrap_or_default();
        assert!(
            gone[0].name.contains(GONE) && note.contains("arn:aws:iam::444444444444:role/eks-upgrade-spoke"),
            "{gone:?}"
        );
        assert!(
            r.not_enrolled.iter().any(|c| c.ends_with(":cluster/batch")),
            "{:?}",
            r.not_enrolled
        );
    }

    #[tokio::test]
    async fn an_unreachable_account_over_the_budget_stops_the_rollout_before_its_stage_starts() {
        let h = hub(organization());
        h.send_ok(stages(1)).await; // two failures (one per region) against a budget of one
        drain(&h).await;
        let r = the_rollout(&h);
        assert_ne!(r.status, RolloutStatus::Succeeded, "{:?}", r.message);
        assert_eq!(
            r.stages[2].count(ClusterState::Running) + r.stages[2].count(ClusterState::Succeeded),
            0
        );
        assert_eq!(h.app.eks.updates_created_by_tokens(), 4 + 4, "dev and staging only");
    }

    #[tokio::test]
    async fn a_crash_at_each_boundary_of_a_rollout_across_accounts_adds_no_update() {
        for point in [
            "rollout:before-starts",
            "rollout:after-starts",
            "after:UpdateClusterVersion",
            "before:continuation",
        ] {
            let h = hub(organization());
            h.app.crash_points.arm(point);
            let _ = h.send(stages(2)).await;
            for _ in 0..10 {
                drain(&h).await;
                if h.app.store.rollouts().first().is_some_and(|r| r.is_finished()) {
                    break;
                }
                // The sweep, once no invocation that crashed could still be running.
                h.app.clock.advance_secs(900 + 600);
                let _ = h.send(json!({ "sweep": {} })).await;
            }
            let r = the_rollout(&h);
            assert!(!h.app.crash_points.is_armed(), "{point}: the crash fired");
            assert_eq!(r.status, RolloutStatus::Succeeded, "{point}: {:?}", r.message);
            assert_eq!(
                h.app.eks.updates_created_by_tokens(),
                4 + 4 + 6,
                "{point}: one update each"
            );
            for region in REGIONS {
                let key = format!("arn:aws:eks:{region}:{PROD}:cluster/web-2");
                assert_eq!(h.app.eks.cluster_updates(&key), 1, "{point}: {key}");
            }
        }
    }
}

#[tokio::test]
async fn a_dry_run_across_accounts_names_each_clusters_account_and_region_and_what_it_could_not_reach() {
    let eks = two_webs();
    eks.add_cluster_at(MEMBER, "eu-west-1", "api", "1.30", &[]);
    eks.make_unreachable("444444444444");
    let h = hub(eks);
    let answer = h
        .send_ok(json!({ "rollout": { "name": "org", "targetVersion": "1.31", "dryRun": true, "stages": [
            { "name": "all", "accounts": ["123456789012", MEMBER, "444444444444"], "regions": ["us-east-1", "eu-west-1"] },
        ] } }))
        .await;
    let clusters = answer["stages"][0]["clusters"].as_array().unwrap();
    let seen: Vec<(String, String, String)> = clusters
        .iter()
        .map(|c| {
            let text = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
            (text("name"), text("account"), text("region"))
        })
        .collect();
    for expected in [
        ("web", "123456789012", "us-east-1"),
        ("arn:aws:eks:us-east-1:210987654321:cluster/web", MEMBER, "us-east-1"),
        ("arn:aws:eks:eu-west-1:210987654321:cluster/api", MEMBER, "eu-west-1"),
    ] {
        let expected = (expected.0.to_owned(), expected.1.to_owned(), expected.2.to_owned());
        assert!(seen.contains(&expected), "{expected:?} in {seen:?}");
    }
    let unreachable: Vec<&Value> = clusters.iter().filter(|c| c["error"].is_string()).collect();
    assert_eq!(unreachable.len(), 2, "the unreachable account in each region: {answer}");
    assert!(
        unreachable.iter().all(|c| c["account"].is_null()),
        "an unreachable location's entry is no cluster of this account: {answer}"
    );
    assert!(unreachable[0]["error"]
        .as_str()
        .unwrap()
        .contains("arn:aws:iam::444444444444:role/eks-upgrade-spoke"));
    let locations = answer["unreachable"].as_array().expect("unreachable locations");
    assert_eq!(locations.len(), 2, "{answer}");
    assert_eq!(locations[0]["account"], "444444444444");
    assert!(locations[0]["error"]
        .as_str()
        .unwrap()
        .contains("is not authorized to perform: sts:AssumeRole"));
    assert!(h.app.store.rollouts().is_empty(), "a dry run writes nothing");
    assert_eq!(h.app.eks.update_cluster_version_calls(), 0);
}

#[tokio::test]
async fn a_record_written_before_accounts_existed_is_read_and_resumed_as_it_was() {
    // Written by the version before this one: keyed by the bare name, tracking its update,
    // with no field this version added; then its chain of invocations broke.
    let h = hub(FakeEks::with_cluster("devel", "1.30", 60));
    h.send_ok(upgrade(json!("devel"))).await;
    h.app.invoker.take();
    let mut old = serde_json::to_value(h.record_of("devel", "to-1.31")).unwrap();
    let fields = old.as_object_mut().unwrap();
    fields.remove("wakeAt");
    assert_eq!(fields["cluster"], "devel");
    let old: eks_upgrade_orchestrator::domain::UpgradeRecord = serde_json::from_value(old).unwrap();
    h.app.store.put(old);
    h.app.clock.advance_secs(3600);
    let sweep = h.send_ok(json!({ "sweep": {} })).await;
    assert_eq!(sweep["resumed"].as_array().map(Vec::len), Some(1), "{sweep}");
    h.deliver_continuations().await;
    let record = h.record_of("devel", "to-1.31");
    assert_eq!(record.status, UpgradeStatus::Succeeded, "{:?}", record.message);
    assert_eq!(
        h.app.eks.update_cluster_version_calls(),
        1,
        "the same update, tracked to its end"
    );
}

#[tokio::test]
async fn accounts_without_home_account_id_are_refused_naming_the_field() {
    let mut h = hub(two_webs());
    h.app.config.home = None;
    let refused = h
        .send(json!({ "rollout": { "name": "org", "targetVersion": "1.31", "stages": [
            { "name": "all", "accounts": [MEMBER] },
        ] } }))
        .await;
    let Err(HandlerError::InvalidEvent(e)) = refused else {
        panic!("{refused:?}")
    };
    assert_eq!(e.field, "rollout.stages[0].accounts");
    assert!(e.problem.contains("HOME_ACCOUNT_ID"), "{e}");
    assert!(h.app.store.rollouts().is_empty());
}

#[tokio::test]
async fn a_members_plan_reads_the_version_catalogue_of_its_own_account_and_region() {
    let eks = two_webs();
    eks.add_cluster_at(MEMBER, "eu-west-1", "api", "1.30", &[]);
    let h = hub(eks);
    h.send_ok(
        json!({ "cluster": "arn:aws:eks:eu-west-1:210987654321:cluster/api", "targetVersion": "1.31", "dryRun": true }),
    )
    .await;
    h.send_ok(json!({ "cluster": "web", "targetVersion": "1.31", "dryRun": true }))
        .await;
    let asked = h.app.eks.lock().catalogue_asked_at.clone();
    assert!(asked.contains(&"210987654321/eu-west-1".to_owned()), "{asked:?}");
    assert!(asked.contains(&"home".to_owned()), "{asked:?}");
    assert!(
        !asked.iter().any(|a| a.ends_with("us-east-1")),
        "never the member's other region: {asked:?}"
    );
}

/// EKS offers a new version region by region: eu-west-1 has 1.35 as its newest in standard
/// support while the hub's region has 1.36.
fn eu_behind() -> FakeEks {
    let eks = two_webs();
    eks.add_cluster_at(MEMBER, "eu-west-1", "api", "1.34", &[]);
    let offered = (28..=35)
        .map(|minor| OfferedVersion {
            version: KubeVersion::new(1, minor),
            status: if minor >= 34 {
                "STANDARD_SUPPORT"
            } else {
                "EXTENDED_SUPPORT"
            }
            .into(),
            default: minor == 34,
            end_of_standard: None,
            end_of_extended: None,
        })
        .collect();
    eks.lock().offered_in.insert("eu-west-1".into(), offered);
    eks
}

#[tokio::test]
async fn latest_is_resolved_where_the_cluster_is_and_for_a_rollout_in_every_region_it_touches() {
    let h = hub(eu_behind());
    let api = "arn:aws:eks:eu-west-1:210987654321:cluster/api";
    h.send_ok(json!({ "cluster": api, "targetVersion": "latest" })).await;
    let records = h.app.store.all();
    let record = records.iter().find(|r| r.cluster == api).expect("the member's record");
    assert_eq!(record.target_version, KubeVersion::new(1, 35), "eu-west-1's newest");
    assert_eq!(record.request_id, "to-1.35");
    let here = h
        .send_ok(json!({ "cluster": "web", "targetVersion": "latest", "dryRun": true }))
        .await;
    assert_eq!(here["plan"]["targetVersion"], "1.36", "the hub's region's newest");
    let rollout = h
        .send_ok(
            json!({ "rollout": { "name": "org", "targetVersion": "latest", "dryRun": true, "stages": [
            { "name": "home", "clusters": ["web"] },
            { "name": "eu", "accounts": [MEMBER], "regions": ["eu-west-1"] },
        ] } }),
        )
        .await;
    assert_eq!(rollout["targetVersion"], "1.35", "offered in every region: {rollout}");
    // A region only an unreachable account was to be asked in is left out, not fatal.
    let h = hub(eu_behind());
    h.app.eks.make_unreachable(MEMBER);
    let rollout = h
        .send_ok(
            json!({ "rollout": { "name": "org", "targetVersion": "latest", "dryRun": true, "stages": [
            { "name": "home", "clusters": ["web"] },
            { "name": "eu", "accounts": [MEMBER], "regions": ["eu-west-1"], "failureBudget": 1 },
        ] } }),
        )
        .await;
    assert_eq!(rollout["targetVersion"], "1.36", "{rollout}");
    // The region's first account can't be reached: the next one answers for the region.
    let h = hub(eu_behind());
    h.app.eks.make_unreachable("444444444444");
    let rollout = h
        .send_ok(
            json!({ "rollout": { "name": "org", "targetVersion": "latest", "dryRun": true, "stages": [
            { "name": "eu", "accounts": ["444444444444", MEMBER], "regions": ["eu-west-1"], "failureBudget": 1 },
        ] } }),
        )
        .await;
    assert_eq!(
        rollout["targetVersion"], "1.35",
        "eu-west-1's, read in the member that answers: {rollout}"
    );
}
