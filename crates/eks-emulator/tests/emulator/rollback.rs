//! Version rollback through `aws-sdk-eks`: the prerequisites and their errors, the
//! ROLLBACK_READINESS insights, node-group rollbacks, add-ons moved back, the emulator's
//! clock, Auto Mode and CancelUpdate.

use aws_sdk_eks::error::ProvideErrorMetadata;
use aws_sdk_eks::operation::cancel_update::CancelUpdateError;
use aws_sdk_eks::operation::update_cluster_version::UpdateClusterVersionError;
use aws_sdk_eks::operation::update_nodegroup_version::UpdateNodegroupVersionError;
use aws_sdk_eks::types::{
    Category, ClusterStatus, InsightStatusValue, InsightsFilter, RollbackConfig, UpdateStatus, UpdateType,
};
use aws_sdk_eks::Client;
use eks_emulator::{Emulator, ROLLBACK_INSIGHTS_BLOCKING_MESSAGE};
use hyper::http::Method;

use crate::common::*;

const DAY: u64 = 86_400;

async fn version_update(
    c: &Client,
    cluster: &str,
    version: &str,
) -> Result<aws_sdk_eks::types::Update, UpdateClusterVersionError> {
    c.update_cluster_version()
        .name(cluster)
        .version(version)
        .send()
        .await
        .map(|o| o.update().unwrap().clone())
        .map_err(|e| e.into_service_error())
}

async fn nodegroup_update(
    c: &Client,
    version: &str,
) -> Result<aws_sdk_eks::types::Update, UpdateNodegroupVersionError> {
    c.update_nodegroup_version()
        .cluster_name("demo")
        .nodegroup_name("ng-1")
        .version(version)
        .send()
        .await
        .map(|o| o.update().unwrap().clone())
        .map_err(|e| e.into_service_error())
}

async fn cluster(c: &Client, name: &str) -> aws_sdk_eks::types::Cluster {
    c.describe_cluster()
        .name(name)
        .send()
        .await
        .unwrap()
        .cluster()
        .unwrap()
        .clone()
}

/// demo upgraded in place from 1.30 to 1.31 (control plane only).
async fn upgraded_demo() -> (Emulator, Client) {
    let emu = demo().await;
    let c = eks(&emu).await;
    version_update(&c, "demo", "1.31").await.unwrap();
    emu.finish_updates();
    (emu, c)
}

#[tokio::test]
async fn rollback_prerequisites_in_order() {
    let emu = demo().await;
    let c = eks(&emu).await;
    // Created at 1.30: never upgraded in place.
    let e = version_update(&c, "demo", "1.29").await.unwrap_err();
    let UpdateClusterVersionError::InvalidRequestException(ref ire) = e else {
        panic!("{e:?}")
    };
    assert_eq!(ire.cluster_name(), Some("demo"));
    assert_eq!(
        e.message(),
        Some("Cluster demo cannot be rolled back to Kubernetes version 1.29: it was not upgraded to 1.30 in place. A cluster created at its current version cannot be rolled back.")
    );

    version_update(&c, "demo", "1.31").await.unwrap();
    emu.finish_updates();
    // Two minors down: refused like a skipped minor.
    let e = version_update(&c, "demo", "1.29").await.unwrap_err();
    assert!(
        matches!(e, UpdateClusterVersionError::InvalidParameterException(_)),
        "{e:?}"
    );
    assert_eq!(
        e.message(),
        Some("Unsupported Kubernetes minor version update from 1.31 to 1.29")
    );

    // A node group at N blocks the control plane's rollback until it is rolled back.
    nodegroup_update(&c, "1.31").await.unwrap();
    emu.finish_updates();
    let e = version_update(&c, "demo", "1.30").await.unwrap_err();
    assert!(
        matches!(e, UpdateClusterVersionError::InvalidParameterException(_)),
        "{e:?}"
    );
    assert_eq!(
        e.message(),
        Some("Nodegroups ng-1 must be rolled back to version 1.30 before rolling back cluster version.")
    );
    let ngu = nodegroup_update(&c, "1.30").await.unwrap();
    assert_eq!(ngu.r#type(), Some(&UpdateType::VersionUpdate));
    assert_eq!(ngu.params()[0].value(), Some("1.30"));
    assert_eq!(ngu.params()[1].value(), Some("1.30.14-20261101"));
    emu.finish_updates();

    // ROLLBACK_READINESS insights: an ERROR one blocks until force.
    assert_eq!(emu.set_rollback_blocking_insights("demo", true).unwrap(), "1.30");
    let e = version_update(&c, "demo", "1.30").await.unwrap_err();
    assert!(
        matches!(e, UpdateClusterVersionError::InvalidStateException(_)),
        "{e:?}"
    );
    assert_eq!(e.message(), Some(ROLLBACK_INSIGHTS_BLOCKING_MESSAGE));
    let timeout = |m: i32| RollbackConfig::builder().timeout_minutes(m).build();
    let e = c
        .update_cluster_version()
        .name("demo")
        .version("1.30")
        .force(true)
        .rollback_config(timeout(60))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(e, UpdateClusterVersionError::InvalidParameterException(_)),
        "{e:?}"
    );
    let forced = c
        .update_cluster_version()
        .name("demo")
        .version("1.30")
        .force(true)
        .rollback_config(timeout(720))
        .send()
        .await
        .unwrap();
    let u = forced.update().unwrap();
    assert_eq!(u.r#type(), Some(&UpdateType::VersionRollback));
    assert_eq!(u.params()[0].value(), Some("1.30"));
    assert_eq!(
        u.params()[1].value(),
        Some("eks.32"),
        "the latest platform version known for 1.30"
    );
    assert_eq!(cluster(&c, "demo").await.status(), Some(&ClusterStatus::Updating));
    let e = version_update(&c, "demo", "1.30").await.unwrap_err();
    assert!(
        matches!(e, UpdateClusterVersionError::ResourceInUseException(_)),
        "{e:?}"
    );

    // Without Auto Mode the control plane's rollback begins at once: no cancelling.
    let e = c
        .cancel_update()
        .name("demo")
        .update_id(u.id().unwrap())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(matches!(e, CancelUpdateError::InvalidRequestException(_)), "{e:?}");
    assert_eq!(
        e.message().unwrap(),
        format!(
            "Update {} cannot be cancelled because the control plane rollback has already begun.",
            u.id().unwrap()
        )
    );
    emu.finish_updates();
    let d = cluster(&c, "demo").await;
    assert_eq!((d.version(), d.platform_version()), (Some("1.30"), Some("eks.32")));
    // A rollback cannot itself be rolled back (nor the cluster go back up but by upgrading).
    let e = version_update(&c, "demo", "1.29").await.unwrap_err();
    assert!(
        matches!(e, UpdateClusterVersionError::InvalidRequestException(_)),
        "{e:?}"
    );
    let done = c
        .describe_update()
        .name("demo")
        .update_id(u.id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(done.update().unwrap().status(), Some(&UpdateStatus::Successful));
    emu.shutdown().await;
}

#[tokio::test]
async fn rollback_readiness_insights_are_listed_and_seedable() {
    let (emu, c) = upgraded_demo().await;
    let state = emu.state();
    let last = &state["clusters"][0]["lastUpgrade"];
    assert_eq!(last["fromVersion"], "1.30", "{state}");
    let window = last["rollbackUntil"].as_f64().unwrap() - last["completedAt"].as_f64().unwrap();
    assert_eq!(window, (7 * DAY) as f64);
    let filter = InsightsFilter::builder()
        .categories(Category::RollbackReadiness)
        .build();
    let ins = c
        .list_insights()
        .cluster_name("demo")
        .filter(filter.clone())
        .send()
        .await
        .unwrap();
    let ins = ins.insights();
    assert!(ins.len() >= 4, "generated during the window: {ins:?}");
    assert!(ins
        .iter()
        .all(|i| i.category() == Some(&Category::RollbackReadiness) && i.kubernetes_version() == Some("1.30")));
    assert!(ins
        .iter()
        .all(|i| i.insight_status().unwrap().status() != Some(&InsightStatusValue::Error)));
    // Resolving the injected one unblocks the rollback.
    emu.set_rollback_blocking_insights("demo", true).unwrap();
    let (s, v) = admin(
        &emu,
        Method::POST,
        "/_emulator/insights/rollback-blocking",
        r#"{"cluster": "demo", "blocking": false}"#,
    )
    .await;
    assert_eq!((s, v["kubernetesVersion"].as_str()), (200, Some("1.30")), "{v}");
    let (s, _) = admin(
        &emu,
        Method::POST,
        "/_emulator/insights/rollback-blocking",
        r#"{"cluster": "x"}"#,
    )
    .await;
    assert_eq!(s, 404);
    version_update(&c, "demo", "1.30").await.unwrap();

    // Seeded: category ROLLBACK_READINESS, version defaulting to the previous minor.
    emu.seed_json(
        r#"{"clusters":[{"name":"s","version":"1.31","lastUpgrade":{"fromVersion":"1.30"},
            "insights":[{"name":"Kubernetes API compatibility","category":"ROLLBACK_READINESS","status":"ERROR","reason":"r"}]}]}"#,
    )
    .unwrap();
    let errors = c
        .list_insights()
        .cluster_name("s")
        .filter(
            InsightsFilter::builder()
                .categories(Category::RollbackReadiness)
                .statuses(InsightStatusValue::Error)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let errors = errors.insights();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].kubernetes_version(), Some("1.30"));
    let e = version_update(&c, "s", "1.30").await.unwrap_err();
    assert!(
        matches!(e, UpdateClusterVersionError::InvalidStateException(_)),
        "{e:?}"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn the_window_runs_on_the_emulator_clock() {
    let (emu, c) = upgraded_demo().await;
    let before = emu.now();
    emu.advance_clock(7 * DAY + 1);
    assert!(emu.now() - before >= (7 * DAY + 1) as f64);
    let e = version_update(&c, "demo", "1.30").await.unwrap_err();
    assert!(
        matches!(e, UpdateClusterVersionError::InvalidRequestException(_)),
        "{e:?}"
    );
    assert_eq!(
        e.message(),
        Some("Cluster demo cannot be rolled back to Kubernetes version 1.30: the upgrade to 1.31 completed more than 7 days ago.")
    );
    let (s, v) = admin(&emu, Method::GET, "/_emulator/clock", "").await;
    assert_eq!((s, v["offsetSeconds"].as_f64()), (200, Some((7 * DAY + 1) as f64)));

    // Update times follow the clock: created now, completed once the clock passes the end.
    let u = nodegroup_update(&c, "1.31").await.unwrap();
    let created = u.created_at().unwrap().as_secs_f64();
    assert!((created - emu.now()).abs() < 5.0, "{created} vs {}", emu.now());
    let (s, _) = admin(&emu, Method::POST, "/_emulator/clock", r#"{"advanceSeconds": 61}"#).await;
    assert_eq!(s, 200);
    let ng = c
        .describe_update()
        .name("demo")
        .nodegroup_name("ng-1")
        .update_id(u.id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(ng.update().unwrap().status(), Some(&UpdateStatus::Successful));
    // The node group's own window too.
    emu.advance_clock(8 * DAY);
    let e = nodegroup_update(&c, "1.30").await.unwrap_err();
    assert_eq!(
        e.message(),
        Some("Nodegroup ng-1 cannot be downgraded from version 1.31 to 1.30.")
    );
    emu.reset();
    let (_, v) = admin(&emu, Method::GET, "/_emulator/clock", "").await;
    assert_eq!(v["offsetSeconds"].as_f64(), Some(0.0));
    emu.shutdown().await;
}

#[tokio::test]
async fn node_group_downgrades_only_roll_back_an_in_place_upgrade() {
    let (emu, c) = upgraded_demo().await;
    // ng-1 was never upgraded: it cannot go below 1.30.
    let e = nodegroup_update(&c, "1.29").await.unwrap_err();
    assert!(
        matches!(e, UpdateNodegroupVersionError::InvalidParameterException(_)),
        "{e:?}"
    );
    nodegroup_update(&c, "1.31").await.unwrap();
    emu.finish_updates();
    version_update(&c, "demo", "1.32").await.unwrap();
    emu.finish_updates();
    nodegroup_update(&c, "1.32").await.unwrap();
    emu.finish_updates();
    // Two minors down: refused; one minor down (the last upgrade's origin): accepted.
    let e = nodegroup_update(&c, "1.30").await.unwrap_err();
    assert_eq!(
        e.message(),
        Some("Nodegroup ng-1 cannot be downgraded from version 1.32 to 1.30.")
    );
    nodegroup_update(&c, "1.31").await.unwrap();
    emu.finish_updates();
    // The rollback cannot be rolled back further.
    let e = nodegroup_update(&c, "1.30").await.unwrap_err();
    assert!(
        matches!(e, UpdateNodegroupVersionError::InvalidParameterException(_)),
        "{e:?}"
    );
    // Then the control plane follows.
    let u = version_update(&c, "demo", "1.31").await.unwrap();
    assert_eq!(u.r#type(), Some(&UpdateType::VersionRollback));
    assert_eq!(u.params()[1].value(), Some("eks.1"));
    emu.shutdown().await;
}

#[tokio::test]
async fn add_ons_move_back_with_update_addon() {
    let (emu, c) = upgraded_demo().await;
    let addon = |name: &'static str, version: &'static str| {
        c.update_addon()
            .cluster_name("demo")
            .addon_name(name)
            .addon_version(version)
            .send()
    };
    addon("coredns", "v1.11.4-eksbuild.14").await.unwrap();
    addon("kube-proxy", "v1.31.13-eksbuild.2").await.unwrap();
    emu.finish_updates();
    // An older version compatible with the cluster's is accepted.
    addon("coredns", "v1.11.1-eksbuild.13").await.unwrap();
    emu.finish_updates();
    version_update(&c, "demo", "1.30").await.unwrap();
    emu.finish_updates();
    // After the control plane's rollback, kube-proxy goes back to a 1.30 version.
    let u = addon("kube-proxy", "v1.30.3-eksbuild.2").await.unwrap();
    assert_eq!(u.update().unwrap().r#type(), Some(&UpdateType::AddonUpdate));
    emu.finish_updates();
    let a = c
        .describe_addon()
        .cluster_name("demo")
        .addon_name("kube-proxy")
        .send()
        .await
        .unwrap();
    assert_eq!(a.addon().unwrap().addon_version(), Some("v1.30.3-eksbuild.2"));
    emu.shutdown().await;
}

#[tokio::test]
async fn extended_support_needs_the_extended_upgrade_policy() {
    let emu = demo().await;
    let c = eks(&emu).await;
    emu.seed_json(
        r#"{"clusters":[
            {"name":"std","version":"1.31","supportType":"STANDARD","lastUpgrade":{"fromVersion":"1.30"}},
            {"name":"ext","version":"1.31","supportType":"EXTENDED","lastUpgrade":{"fromVersion":"1.30","completedAt":"2000-01-01"}}
        ]}"#,
    )
    .unwrap();
    let e = version_update(&c, "std", "1.30").await.unwrap_err();
    assert!(
        matches!(e, UpdateClusterVersionError::InvalidRequestException(_)),
        "{e:?}"
    );
    assert_eq!(
        e.message(),
        Some("Cluster std cannot be rolled back to Kubernetes version 1.30: 1.30 is in extended support and the cluster's upgrade policy supportType is STANDARD. Change the upgrade policy to EXTENDED first.")
    );
    // completedAt long ago: outside the window.
    let e = version_update(&c, "ext", "1.30").await.unwrap_err();
    assert!(e.message().unwrap().contains("more than 7 days ago"), "{e:?}");
    assert!(emu
        .seed_json(r#"{"clusters":[{"name":"bad","version":"1.31","lastUpgrade":{"fromVersion":"1.29"}}]}"#)
        .is_err());
    emu.shutdown().await;
}

#[tokio::test]
async fn auto_mode_rollback_can_be_cancelled_during_its_node_phase() {
    let emu = demo().await;
    let c = eks(&emu).await;
    emu.seed_json(
        r#"{"clusters":[{"name":"auto","version":"1.31","autoMode":true,"lastUpgrade":{"fromVersion":"1.30"}}]}"#,
    )
    .unwrap();
    let d = cluster(&c, "auto").await;
    let compute = d.compute_config().unwrap();
    assert_eq!(compute.enabled(), Some(true));
    assert!(!compute.node_pools().is_empty());
    assert_eq!(
        d.storage_config().unwrap().block_storage().unwrap().enabled(),
        Some(true)
    );
    let network = d.kubernetes_network_config().unwrap();
    assert_eq!(network.elastic_load_balancing().unwrap().enabled(), Some(true));
    assert!(cluster(&c, "demo").await.compute_config().is_none());

    let cancel = |id: String| c.cancel_update().name("auto").update_id(id).send();
    let u = version_update(&c, "auto", "1.30").await.unwrap();
    assert_eq!(
        cluster(&c, "auto").await.status(),
        Some(&ClusterStatus::Active),
        "node phase"
    );
    let out = cancel(u.id().unwrap().to_string()).await.unwrap();
    let cu = out.update().unwrap();
    assert_eq!(cu.status(), Some(&UpdateStatus::Cancelled));
    assert_eq!(
        cu.cancellation().unwrap().status(),
        Some(&aws_sdk_eks::types::CancellationStatus::Successful)
    );
    assert_eq!(cluster(&c, "auto").await.version(), Some("1.31"));

    // Retried, and past the node phase (half the update): no more cancelling.
    let u = version_update(&c, "auto", "1.30").await.unwrap();
    emu.advance_clock(31);
    assert_eq!(cluster(&c, "auto").await.status(), Some(&ClusterStatus::Updating));
    let e = cancel(u.id().unwrap().to_string())
        .await
        .unwrap_err()
        .into_service_error();
    assert!(matches!(e, CancelUpdateError::InvalidRequestException(_)), "{e:?}");
    emu.shutdown().await;
}
