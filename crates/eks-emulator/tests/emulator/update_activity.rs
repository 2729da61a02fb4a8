//! `clustersUpdatingNow` and `peakClustersUpdating`: clusters with an update of any kind
//! in progress, now and at most at one moment, driven by the emulator's clock.

use aws_sdk_eks::types::UpdateStatus;
use eks_emulator::{Durations, Emulator, EmulatorConfig, FailNextUpdate};
use hyper::http::Method;

use crate::common::*;

const SEED: &str = r#"{"clusters": [
  {"name": "a", "version": "1.30", "nodegroups": [{"name": "ng-1", "version": "1.30"}],
   "addons": [{"name": "coredns", "version": "v1.11.1-eksbuild.13"}]},
  {"name": "b", "version": "1.30", "nodegroups": [{"name": "ng-1", "version": "1.30"}],
   "addons": [{"name": "coredns", "version": "v1.11.1-eksbuild.13"}]},
  {"name": "c", "version": "1.30", "nodegroups": [{"name": "ng-1", "version": "1.30"}],
   "addons": [{"name": "coredns", "version": "v1.11.1-eksbuild.13"}]}
]}"#;

/// (clustersUpdatingNow, peakClustersUpdating) from the Rust API.
fn counts(emu: &Emulator) -> (u64, u64) {
    let s = emu.stats();
    (s.clusters_updating_now, s.peak_clusters_updating)
}

/// The same from `GET /_emulator/stats`.
async fn counts_json(emu: &Emulator) -> (u64, u64) {
    let (status, v) = admin(emu, Method::GET, "/_emulator/stats", "").await;
    assert_eq!(status, 200);
    (
        v["clustersUpdatingNow"].as_u64().expect("clustersUpdatingNow"),
        v["peakClustersUpdating"].as_u64().expect("peakClustersUpdating"),
    )
}

async fn upgrade_cluster(c: &aws_sdk_eks::Client, cluster: &str) -> String {
    let out = c
        .update_cluster_version()
        .name(cluster)
        .version("1.31")
        .send()
        .await
        .unwrap();
    out.update().unwrap().id().unwrap().to_string()
}

async fn update_coredns(c: &aws_sdk_eks::Client, cluster: &str) {
    c.update_addon()
        .cluster_name(cluster)
        .addon_name("coredns")
        .addon_version("v1.11.3-eksbuild.2")
        .send()
        .await
        .unwrap();
}

async fn update_nodegroup(c: &aws_sdk_eks::Client, cluster: &str) {
    c.update_nodegroup_version()
        .cluster_name(cluster)
        .nodegroup_name("ng-1")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn peak_of_clusters_updating_follows_the_clock() {
    // Long durations: the few real milliseconds the test takes do not matter, the
    // emulator's clock is moved forward instead.
    let emu = start_with(EmulatorConfig {
        durations: Durations {
            cluster_update_ms: 600_000,
            nodegroup_update_ms: 300_000,
            addon_update_ms: 120_000,
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    emu.seed_json(SEED).unwrap();
    let c = eks(&emu).await;
    assert_eq!(counts(&emu), (0, 0));

    // t=0: a's control plane [0, 600), b's add-on [0, 120).
    upgrade_cluster(&c, "a").await;
    assert_eq!(counts(&emu), (1, 1));
    update_coredns(&c, "b").await;
    assert_eq!(counts_json(&emu).await, (2, 2));

    // t=200: b is done; c's node group [200, 500) does not overlap b's add-on.
    emu.advance_clock(200);
    assert_eq!(counts(&emu), (1, 2));
    update_nodegroup(&c, "c").await;
    assert_eq!(counts(&emu), (2, 2));

    // Still t=200: b's control-plane update [200, 800) will fail; three clusters update
    // now, but nothing reads the stats until all three are over.
    emu.fail_next_update(FailNextUpdate::new("b", &["ClusterUnreachable"]))
        .unwrap();
    let failing = upgrade_cluster(&c, "b").await;
    emu.advance_clock(1000);
    assert_eq!(counts_json(&emu).await, (0, 3));
    let u = c.describe_update().name("b").update_id(&failing).send().await.unwrap();
    assert_eq!(u.update().unwrap().status(), Some(&UpdateStatus::Failed));

    // t=1200: an update finished early ends then; another cluster updating later does
    // not overlap it.
    update_coredns(&c, "a").await;
    assert_eq!(emu.finish_updates_of("a").len(), 1);
    assert_eq!(counts(&emu), (0, 3));
    update_coredns(&c, "c").await;
    assert_eq!(counts_json(&emu).await, (1, 3));

    // Not yet completed by a request, but over by the clock.
    emu.advance_clock(121);
    assert_eq!(counts(&emu), (0, 3));

    emu.clear();
    assert_eq!(counts_json(&emu).await, (0, 0));
    emu.shutdown().await;
}
