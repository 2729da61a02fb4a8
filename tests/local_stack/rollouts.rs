//! A fleet rollout on the local stack: discovery through ListClusters (paged), the rollout in
//! dynalite, each cluster's upgrade by its own invocations, and the rollout told through the
//! emulator's Lambda relay when each one ends.

use super::*;
use eks_upgrade_orchestrator::domain::rollout::{RolloutRecord, RolloutStatus};
use eks_upgrade_orchestrator::ports::RolloutStore;

/// `n` clusters at 1.30: the first half tagged env=dev, the rest env=prod.
fn fleet_seed(n: usize) -> String {
    let clusters: Vec<Value> = (0..n)
        .map(|i| {
            let env = if i < n / 2 { "dev" } else { "prod" };
            json!({ "name": format!("fleet-{i:03}"), "version": "1.30",
                    "tags": { "env": env, "upgrade-orchestrator/enabled": "true" } })
        })
        .collect();
    json!({ "clusters": clusters }).to_string()
}

/// dev (20 at once), then prod (30 at once).
fn two_stages() -> Value {
    json!({ "rollout": { "name": "fleet", "targetVersion": "1.31", "stages": [
        { "name": "dev", "tags": { "env": "dev" }, "maxConcurrent": 20 },
        { "name": "prod", "tags": { "env": "prod" }, "maxConcurrent": 30 },
    ] } })
}

impl Stack {
    async fn rollout(&self, name: &str, request_id: &str) -> Option<RolloutRecord> {
        self.lambda
            .app
            .store
            .get_rollout(name, request_id)
            .await
            .expect("dynalite")
    }

    async fn wait_rollout(&self, name: &str, request_id: &str) -> RolloutRecord {
        let start = Instant::now();
        loop {
            if let Some(r) = self.rollout(name, request_id).await.filter(|r| r.is_finished()) {
                return r;
            }
            if start.elapsed() > Duration::from_secs(120) {
                let r = self.rollout(name, request_id).await;
                let relay = self.emulator.stats().relay;
                let mut children = Vec::new();
                for c in r.iter().flat_map(|r| r.stages.iter()).flat_map(|s| s.clusters.iter()) {
                    if c.state.is_active() {
                        let child = self
                            .lambda
                            .app
                            .store
                            .get(&c.name, &r.as_ref().unwrap().child_request_id())
                            .await;
                        children.push(format!(
                            "{}: {:?}",
                            c.name,
                            child.ok().flatten().map(|c| (c.status, c.step, c.message))
                        ));
                    }
                }
                panic!("rollout not finished in 120 s: {r:#?}\nrelay: {relay:#?}\nchildren: {children:#?}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_two_stage_rollout_of_a_paged_fleet_ends_with_one_update_per_cluster() {
    // 120 clusters: ListClusters answers in pages of 100.
    let stack = Stack::start(Options {
        seed: Some(fleet_seed(120)),
        update_ms: 500,
        ..Options::default()
    })
    .await;
    let answer = stack.invoke(two_stages()).await.unwrap();
    assert_eq!(
        answer["stages"][0]["clusters"].as_array().unwrap().len(),
        60,
        "{answer}"
    );
    assert_eq!(answer["stages"][1]["clusters"].as_array().unwrap().len(), 60);
    let done = stack.wait_rollout("fleet", "to-1.31").await;
    assert_eq!(done.status, RolloutStatus::Succeeded, "{:?}", done.message);
    let stats = stack.emulator.stats();
    assert!(
        stats.peak_clusters_updating <= 30,
        "never more than a stage's maxConcurrent updating at once: {}",
        stats.peak_clusters_updating
    );
    for i in [0, 59, 60, 119] {
        let cluster = format!("fleet-{i:03}");
        assert_eq!(stack.updates_created(&cluster), 1, "{cluster}");
        assert_eq!(stack.cluster_version(&cluster).await, "1.31", "{cluster}");
    }
    // The same rollout again: the same rollout, nothing started.
    let again = stack.invoke(two_stages()).await.unwrap();
    assert!(
        again["outcome"].as_str().unwrap().contains("already requested"),
        "{again}"
    );
    assert_eq!(stack.updates_created("fleet-000"), 1);
    stack.stop().await;
}

/// `n` clusters like the demo's: a node group and three add-ons each, all env=prod.
fn demo_like_seed(n: usize) -> String {
    let clusters: Vec<Value> = (0..n)
        .map(|i| {
            json!({ "name": format!("dry-{i:04}"), "version": "1.30",
                    "tags": { "env": "prod", "upgrade-orchestrator/enabled": "true" },
                    "nodegroups": [{ "name": "ng-1", "version": "1.30" }],
                    "addons": [
                        { "name": "vpc-cni", "version": "v1.18.6-eksbuild.1" },
                        { "name": "coredns", "version": "v1.11.1-eksbuild.13" },
                        { "name": "kube-proxy", "version": "v1.30.3-eksbuild.2" }
                    ] })
        })
        .collect();
    json!({ "clusters": clusters }).to_string()
}

/// A fleet's dry run, surveyed a few clusters at a time with what is the same for all asked
/// once, answers within one invocation: `DRY_RUN_CLUSTERS` (200 here; `scripts/bench` runs
/// 1,000) at `DRY_RUN_LATENCY_MS` (50) per EKS call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_a_fleet_dry_run_answers_within_one_invocation() {
    let env = |name: &str, default: usize| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let (n, latency) = (env("DRY_RUN_CLUSTERS", 200), env("DRY_RUN_LATENCY_MS", 50));
    let stack = Stack::start(Options {
        seed: Some(demo_like_seed(n)),
        invocation_secs: 900,
        ..Options::default()
    })
    .await;
    let patch: FaultsPatch = serde_json::from_value(json!({ "latencyMs": latency })).unwrap();
    stack.emulator.set_faults(patch).unwrap();
    let before = stack.emulator.stats().requests.total;
    let started = Instant::now();
    let answer = stack
        .invoke(
            json!({ "rollout": { "name": "dry", "targetVersion": "1.31", "dryRun": true, "stages": [
            { "name": "prod", "tags": { "env": "prod" }, "maxConcurrent": 100 } ] } }),
        )
        .await
        .unwrap();
    let took = started.elapsed();
    let stats = stack.emulator.stats();
    let planned = answer["stages"][0]["clusters"].as_array().unwrap();
    let with_plan = planned.iter().filter(|c| c["error"].is_null()).count();
    let versions_asked = stats
        .requests
        .by_operation
        .get("DescribeAddonVersions")
        .copied()
        .unwrap_or(0);
    println!(
        "report: dry run of {n} clusters at {latency} ms per EKS call: answered in {took:.1?} ({} EKS calls, {:.1} per \
         cluster; DescribeAddonVersions {versions_asked}), {with_plan} planned",
        stats.requests.total - before,
        (stats.requests.total - before) as f64 / n as f64
    );
    assert_eq!(planned.len(), n);
    assert_eq!(with_plan, n, "{:?}", planned.iter().find(|c| !c["error"].is_null()));
    assert!(
        versions_asked <= 3 * 2,
        "once per add-on (a race may ask twice): {versions_asked}"
    );
    assert!(took < Duration::from_secs(900), "within Lambda's 900 s");
    stack.stop().await;
}
