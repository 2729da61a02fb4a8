//! Behaviour: versions, idempotency, lifecycle, node groups, add-ons, pagination,
//! injected failures, blocking insights, rollback.

use std::time::Duration;

use aws_sdk_eks::error::ProvideErrorMetadata;
use aws_sdk_eks::operation::describe_update::DescribeUpdateError;
use aws_sdk_eks::operation::list_clusters::ListClustersError;
use aws_sdk_eks::operation::update_addon::UpdateAddonError;
use aws_sdk_eks::operation::update_cluster_version::UpdateClusterVersionError;
use aws_sdk_eks::operation::update_nodegroup_version::UpdateNodegroupVersionError;
use aws_sdk_eks::types::{AddonStatus, ClusterStatus, ErrorCode, NodegroupStatus, UpdateStatus, UpdateType};
use eks_emulator::{Durations, EmulatorConfig, FailNextUpdate, FaultsPatch, UpdateKind};

use crate::common::*;

#[tokio::test]
async fn token_idempotency() {
    let emu = demo().await;
    let c = eks(&emu).await;
    let t = token();
    let a = c
        .update_cluster_version()
        .name("demo")
        .version("1.31")
        .client_request_token(&t)
        .send()
        .await
        .unwrap();
    let b = c
        .update_cluster_version()
        .name("demo")
        .version("1.31")
        .client_request_token(&t)
        .send()
        .await
        .unwrap();
    let id = a.update().unwrap().id().unwrap().to_string();
    assert_eq!(b.update().unwrap().id(), Some(id.as_str()), "same token, same update");

    // Another token while that update runs: 409.
    let e = c
        .update_cluster_version()
        .name("demo")
        .version("1.31")
        .client_request_token(token())
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        e.into_service_error(),
        UpdateClusterVersionError::ResourceInUseException(_)
    ));

    // After it finished the same token still gives the same update back.
    emu.finish_updates();
    let again = c
        .update_cluster_version()
        .name("demo")
        .version("1.31")
        .client_request_token(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(again.update().unwrap().id(), Some(id.as_str()));
    assert_eq!(again.update().unwrap().status(), Some(&UpdateStatus::Successful));

    // Same token, other parameters: InvalidParameterException (even though 1.32 would be valid now).
    let e = c
        .update_cluster_version()
        .name("demo")
        .version("1.32")
        .client_request_token(&t)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(e, UpdateClusterVersionError::InvalidParameterException(_)),
        "{e:?}"
    );

    // Token length 33..=126.
    for bad in ["x".repeat(32), "x".repeat(127)] {
        let e = c
            .update_cluster_version()
            .name("demo")
            .version("1.32")
            .client_request_token(bad)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(
            matches!(e, UpdateClusterVersionError::InvalidParameterException(_)),
            "{e:?}"
        );
    }

    let s = emu.cluster_stats("demo");
    assert_eq!(s.updates_created, 1, "one effect");
    assert_eq!(s.cluster_version_updates_created, 1);
    assert_eq!(s.update_cluster_version_calls, 7);
    let entry = s.client_request_tokens.iter().find(|e| e.token == t).unwrap();
    assert_eq!(entry.update_id.as_deref(), Some(id.as_str()));
    assert_eq!(entry.calls, 4);
    assert_eq!(entry.operation, "UpdateClusterVersion");
    emu.shutdown().await;
}

#[tokio::test]
async fn token_idempotency_for_nodegroups_and_addons() {
    let emu = demo().await;
    let c = eks(&emu).await;
    c.update_cluster_version()
        .name("demo")
        .version("1.31")
        .send()
        .await
        .unwrap();
    emu.finish_updates();
    let t = token();
    let a = c
        .update_nodegroup_version()
        .cluster_name("demo")
        .nodegroup_name("ng-1")
        .client_request_token(&t)
        .send()
        .await
        .unwrap();
    let b = c
        .update_nodegroup_version()
        .cluster_name("demo")
        .nodegroup_name("ng-1")
        .client_request_token(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(a.update().unwrap().id(), b.update().unwrap().id());
    let e = c
        .update_nodegroup_version()
        .cluster_name("demo")
        .nodegroup_name("ng-1")
        .version("1.30")
        .client_request_token(&t)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(e, UpdateNodegroupVersionError::InvalidParameterException(_)),
        "{e:?}"
    );
    let e = c
        .update_nodegroup_version()
        .cluster_name("demo")
        .nodegroup_name("ng-1")
        .client_request_token(token())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(e, UpdateNodegroupVersionError::ResourceInUseException(_)),
        "{e:?}"
    );

    let t2 = token();
    let a = c
        .update_addon()
        .cluster_name("demo")
        .addon_name("coredns")
        .addon_version("v1.11.3-eksbuild.2")
        .client_request_token(&t2)
        .send()
        .await
        .unwrap();
    let b = c
        .update_addon()
        .cluster_name("demo")
        .addon_name("coredns")
        .addon_version("v1.11.3-eksbuild.2")
        .client_request_token(&t2)
        .send()
        .await
        .unwrap();
    assert_eq!(a.update().unwrap().id(), b.update().unwrap().id());
    let e = c
        .update_addon()
        .cluster_name("demo")
        .addon_name("coredns")
        .addon_version("v1.11.1-eksbuild.13")
        .client_request_token(&t2)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(matches!(e, UpdateAddonError::InvalidParameterException(_)), "{e:?}");
    let s = emu.cluster_stats("demo");
    assert_eq!(
        (s.updates_created, s.nodegroup_updates_created, s.addon_updates_created),
        (3, 1, 1)
    );
    assert_eq!((s.update_nodegroup_version_calls, s.update_addon_calls), (4, 3));
    emu.shutdown().await;
}

#[tokio::test]
async fn update_lifecycle() {
    let emu = demo().await;
    let c = eks(&emu).await;
    let u = c
        .update_cluster_version()
        .name("demo")
        .version("1.31")
        .send()
        .await
        .unwrap();
    let id = u.update().unwrap().id().unwrap().to_string();
    let d = c.describe_cluster().name("demo").send().await.unwrap();
    assert_eq!(d.cluster().unwrap().status(), Some(&ClusterStatus::Updating));
    assert_eq!(
        d.cluster().unwrap().version(),
        Some("1.30"),
        "keeps its old version while updating"
    );
    assert_eq!(d.cluster().unwrap().platform_version(), Some("eks.32"));

    assert_eq!(emu.finish_updates(), vec![id.clone()]);
    let d = c.describe_cluster().name("demo").send().await.unwrap();
    let cl = d.cluster().unwrap();
    assert_eq!(cl.status(), Some(&ClusterStatus::Active));
    assert_eq!(cl.version(), Some("1.31"));
    assert_eq!(cl.platform_version(), Some("eks.1"));
    let du = c.describe_update().name("demo").update_id(&id).send().await.unwrap();
    assert_eq!(du.update().unwrap().status(), Some(&UpdateStatus::Successful));
    emu.shutdown().await;
}

#[tokio::test]
async fn updates_progress_on_wall_clock_time() {
    let emu = start_with(EmulatorConfig {
        durations: Durations::updates(300),
        ..Default::default()
    })
    .await;
    emu.seed_json(DEMO_SEED).unwrap();
    let c = eks(&emu).await;
    let u = c
        .update_cluster_version()
        .name("demo")
        .version("1.31")
        .send()
        .await
        .unwrap();
    let id = u.update().unwrap().id().unwrap().to_string();
    let done = eventually(Duration::from_secs(10), || {
        let c = c.clone();
        let id = id.clone();
        async move {
            let d = c.describe_update().name("demo").update_id(id).send().await.unwrap();
            d.update().unwrap().status() == Some(&UpdateStatus::Successful)
        }
    })
    .await;
    assert!(done, "the update succeeds after its duration");
    let d = c.describe_cluster().name("demo").send().await.unwrap();
    assert_eq!(d.cluster().unwrap().version(), Some("1.31"));
    emu.shutdown().await;
}

#[tokio::test]
async fn nodegroups_behind_block_the_control_plane() {
    let emu = demo().await;
    let c = eks(&emu).await;
    c.update_cluster_version()
        .name("demo")
        .version("1.31")
        .send()
        .await
        .unwrap();
    emu.finish_updates();
    let e = c
        .update_cluster_version()
        .name("demo")
        .version("1.32")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    match &e {
        UpdateClusterVersionError::InvalidParameterException(x) => assert_eq!(
            x.message(),
            Some("Nodegroups ng-1 must be updated to match cluster version 1.31 before updating cluster version.")
        ),
        other => panic!("{other:?}"),
    }

    // A node group can't pass the control plane.
    let e = c
        .update_nodegroup_version()
        .cluster_name("demo")
        .nodegroup_name("ng-1")
        .version("1.32")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(e, UpdateNodegroupVersionError::InvalidParameterException(_)),
        "{e:?}"
    );

    // Without a version it goes to the cluster's.
    let u = c
        .update_nodegroup_version()
        .cluster_name("demo")
        .nodegroup_name("ng-1")
        .send()
        .await
        .unwrap();
    let id = u.update().unwrap().id().unwrap().to_string();
    let ng = c
        .describe_nodegroup()
        .cluster_name("demo")
        .nodegroup_name("ng-1")
        .send()
        .await
        .unwrap();
    assert_eq!(ng.nodegroup().unwrap().status(), Some(&NodegroupStatus::Updating));
    assert_eq!(ng.nodegroup().unwrap().version(), Some("1.30"));

    // DescribeUpdate needs nodegroupName for a node-group update.
    let e = c
        .describe_update()
        .name("demo")
        .update_id(&id)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    match &e {
        DescribeUpdateError::ResourceNotFoundException(x) => {
            assert_eq!(x.message().unwrap(), format!("No update found for ID: {id}"))
        }
        other => panic!("{other:?}"),
    }
    let du = c
        .describe_update()
        .name("demo")
        .update_id(&id)
        .nodegroup_name("ng-1")
        .send()
        .await
        .unwrap();
    assert_eq!(du.update().unwrap().r#type(), Some(&UpdateType::VersionUpdate));
    let lu = c
        .list_updates()
        .name("demo")
        .nodegroup_name("ng-1")
        .send()
        .await
        .unwrap();
    assert_eq!(lu.update_ids(), std::slice::from_ref(&id));
    let cluster_updates = c.list_updates().name("demo").send().await.unwrap();
    assert!(!cluster_updates.update_ids().contains(&id));

    emu.finish_updates();
    let ng = c
        .describe_nodegroup()
        .cluster_name("demo")
        .nodegroup_name("ng-1")
        .send()
        .await
        .unwrap();
    assert_eq!(ng.nodegroup().unwrap().version(), Some("1.31"));
    assert_eq!(ng.nodegroup().unwrap().release_version(), Some("1.31.13-20261101"));
    assert_eq!(ng.nodegroup().unwrap().status(), Some(&NodegroupStatus::Active));
    c.update_cluster_version()
        .name("demo")
        .version("1.32")
        .send()
        .await
        .unwrap();
    emu.shutdown().await;
}

#[tokio::test]
async fn addon_compatibility() {
    let emu = demo().await;
    let c = eks(&emu).await;
    // kube-proxy 1.31 is not compatible with a 1.30 cluster.
    let e = c
        .update_addon()
        .cluster_name("demo")
        .addon_name("kube-proxy")
        .addon_version("v1.31.13-eksbuild.2")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(e.message(), Some("Addon version specified is not supported"));
    assert!(matches!(e, UpdateAddonError::InvalidParameterException(_)));
    // The default for 1.30 is.
    let av = c
        .describe_addon_versions()
        .addon_name("kube-proxy")
        .kubernetes_version("1.30")
        .send()
        .await
        .unwrap();
    let default = av.addons()[0]
        .addon_versions()
        .iter()
        .find(|v| v.compatibilities().iter().any(|c| c.default_version()))
        .unwrap()
        .addon_version()
        .unwrap()
        .to_string();
    assert_eq!(default, "v1.30.14-eksbuild.6");
    let u = c
        .update_addon()
        .cluster_name("demo")
        .addon_name("kube-proxy")
        .addon_version(&default)
        .send()
        .await
        .unwrap();
    let id = u.update().unwrap().id().unwrap().to_string();
    let a = c
        .describe_addon()
        .cluster_name("demo")
        .addon_name("kube-proxy")
        .send()
        .await
        .unwrap();
    assert_eq!(a.addon().unwrap().status(), Some(&AddonStatus::Updating));
    let e = c
        .describe_update()
        .name("demo")
        .update_id(&id)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(matches!(e, DescribeUpdateError::ResourceNotFoundException(_)));
    let e = c
        .describe_update()
        .name("demo")
        .update_id(&id)
        .nodegroup_name("ng-1")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(matches!(e, DescribeUpdateError::ResourceNotFoundException(_)));
    c.describe_update()
        .name("demo")
        .update_id(&id)
        .addon_name("kube-proxy")
        .send()
        .await
        .unwrap();
    emu.finish_updates();
    let a = c
        .describe_addon()
        .cluster_name("demo")
        .addon_name("kube-proxy")
        .send()
        .await
        .unwrap();
    assert_eq!(a.addon().unwrap().addon_version(), Some(default.as_str()));
    assert_eq!(a.addon().unwrap().status(), Some(&AddonStatus::Active));

    // All versions for every Kubernetes version, each with compatibilities.
    let all = c.describe_addon_versions().send().await.unwrap();
    let names: Vec<&str> = all.addons().iter().filter_map(|a| a.addon_name()).collect();
    assert_eq!(names, ["vpc-cni", "coredns", "kube-proxy"]);
    emu.shutdown().await;
}

#[tokio::test]
async fn pagination() {
    let emu = demo().await;
    let names: Vec<String> = (0..7).map(|i| format!("p{i}")).collect();
    let seed = serde_json::json!({"clusters": names.iter().map(|n| serde_json::json!({"name": n, "version": "1.31"})).collect::<Vec<_>>()});
    emu.seed_json(&seed.to_string()).unwrap();
    let c = eks(&emu).await;
    let first = c.list_clusters().max_results(3).send().await.unwrap();
    assert_eq!(first.clusters(), ["demo", "p0", "p1"]);
    let second = c
        .list_clusters()
        .max_results(3)
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(second.clusters(), ["p2", "p3", "p4"]);
    let all: Vec<String> = c
        .list_clusters()
        .max_results(2)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(all.len(), 8);
    let e = c
        .list_clusters()
        .max_results(101)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(matches!(e, ListClustersError::InvalidParameterException(_)), "{e:?}");
    let e = c
        .list_clusters()
        .next_token("bogus")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(matches!(e, ListClustersError::InvalidParameterException(_)), "{e:?}");
    let versions = c
        .describe_cluster_versions()
        .max_results(4)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(versions.len(), 9);
    let insights = c
        .list_insights()
        .cluster_name("demo")
        .max_results(1)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert!(insights.len() >= 4);
    emu.shutdown().await;
}

#[tokio::test]
async fn injected_failed_update() {
    let emu = demo().await;
    let c = eks(&emu).await;
    emu.fail_next_update(FailNextUpdate::new("demo", &["NodeCreationFailure"]).kind(UpdateKind::Cluster))
        .unwrap();
    let u = c
        .update_cluster_version()
        .name("demo")
        .version("1.31")
        .send()
        .await
        .unwrap();
    let id = u.update().unwrap().id().unwrap().to_string();
    assert_eq!(u.update().unwrap().status(), Some(&UpdateStatus::InProgress));
    emu.finish_updates();
    let d = c.describe_update().name("demo").update_id(&id).send().await.unwrap();
    let up = d.update().unwrap();
    assert_eq!(up.status(), Some(&UpdateStatus::Failed));
    assert_eq!(up.errors().len(), 1);
    assert_eq!(up.errors()[0].error_code(), Some(&ErrorCode::NodeCreationFailure));
    assert!(up.errors()[0].error_message().is_some());
    assert_eq!(up.errors()[0].resource_ids(), ["demo"]);
    let cl = c.describe_cluster().name("demo").send().await.unwrap();
    assert_eq!(cl.cluster().unwrap().version(), Some("1.30"));
    assert_eq!(cl.cluster().unwrap().status(), Some(&ClusterStatus::Active));
    // The rule is used up: the next try succeeds.
    let u = c
        .update_cluster_version()
        .name("demo")
        .version("1.31")
        .send()
        .await
        .unwrap();
    emu.finish_updates();
    let d = c
        .describe_update()
        .name("demo")
        .update_id(u.update().unwrap().id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(d.update().unwrap().status(), Some(&UpdateStatus::Successful));

    // Node-group failure with several codes.
    emu.fail_next_update(
        FailNextUpdate::new("demo", &["PodEvictionFailure", "NodeCreationFailure"]).kind(UpdateKind::Nodegroup),
    )
    .unwrap();
    let u = c
        .update_nodegroup_version()
        .cluster_name("demo")
        .nodegroup_name("ng-1")
        .send()
        .await
        .unwrap();
    emu.finish_updates();
    let d = c
        .describe_update()
        .name("demo")
        .update_id(u.update().unwrap().id().unwrap())
        .nodegroup_name("ng-1")
        .send()
        .await
        .unwrap();
    let codes: Vec<&ErrorCode> = d
        .update()
        .unwrap()
        .errors()
        .iter()
        .filter_map(|e| e.error_code())
        .collect();
    assert_eq!(codes, [&ErrorCode::PodEvictionFailure, &ErrorCode::NodeCreationFailure]);
    assert_eq!(d.update().unwrap().errors()[0].resource_ids(), ["ng-1"]);
    let ng = c
        .describe_nodegroup()
        .cluster_name("demo")
        .nodegroup_name("ng-1")
        .send()
        .await
        .unwrap();
    assert_eq!(ng.nodegroup().unwrap().version(), Some("1.30"));
    emu.shutdown().await;
}

#[tokio::test]
async fn blocking_insights_then_force() {
    let emu = demo().await;
    let c = eks(&emu).await;
    assert_eq!(emu.set_blocking_insights("demo", None, true).unwrap(), "1.31");
    let e = c
        .update_cluster_version()
        .name("demo")
        .version("1.31")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(e, UpdateClusterVersionError::InvalidStateException(_)),
        "{e:?}"
    );
    let e = c
        .update_cluster_version()
        .name("demo")
        .version("1.31")
        .force(false)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(e, UpdateClusterVersionError::InvalidStateException(_)),
        "{e:?}"
    );
    let u = c
        .update_cluster_version()
        .name("demo")
        .version("1.31")
        .force(true)
        .send()
        .await
        .unwrap();
    assert_eq!(u.update().unwrap().status(), Some(&UpdateStatus::InProgress));
    assert_eq!(emu.cluster_stats("demo").updates_created, 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn stale_status_after_update() {
    let emu = demo().await;
    emu.set_faults(FaultsPatch {
        stale_status_ms: Some(60_000),
        ..Default::default()
    })
    .unwrap();
    let c = eks(&emu).await;
    let u = c
        .update_cluster_version()
        .name("demo")
        .version("1.31")
        .send()
        .await
        .unwrap();
    let d = c.describe_cluster().name("demo").send().await.unwrap();
    assert_eq!(
        d.cluster().unwrap().status(),
        Some(&ClusterStatus::Active),
        "still reads ACTIVE"
    );
    let du = c
        .describe_update()
        .name("demo")
        .update_id(u.update().unwrap().id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(du.update().unwrap().status(), Some(&UpdateStatus::InProgress));
    emu.shutdown().await;
}

#[tokio::test]
async fn rollback_within_seven_days() {
    let emu = demo().await;
    // Only an Auto Mode rollback can be cancelled (during its node phase).
    emu.seed_json(&DEMO_SEED.replace(r#""name": "demo","#, r#""name": "demo", "autoMode": true,"#))
        .unwrap();
    let c = eks(&emu).await;
    c.update_cluster_version()
        .name("demo")
        .version("1.31")
        .send()
        .await
        .unwrap();
    emu.finish_updates();
    let r = c
        .update_cluster_version()
        .name("demo")
        .version("1.30")
        .send()
        .await
        .unwrap();
    let r = r.update().unwrap();
    assert_eq!(r.r#type(), Some(&UpdateType::VersionRollback));
    assert_eq!(r.params()[1].value(), Some("eks.32"));
    let cancelled = c
        .cancel_update()
        .name("demo")
        .update_id(r.id().unwrap())
        .send()
        .await
        .unwrap();
    let cu = cancelled.update().unwrap();
    assert_eq!(cu.status(), Some(&UpdateStatus::Cancelled));
    assert!(cu.cancellation().is_some());
    let d = c.describe_cluster().name("demo").send().await.unwrap();
    assert_eq!(d.cluster().unwrap().version(), Some("1.31"));
    assert_eq!(d.cluster().unwrap().status(), Some(&ClusterStatus::Active));
    emu.shutdown().await;
}

#[tokio::test]
async fn create_cluster_token_idempotency() {
    use aws_sdk_eks::operation::create_cluster::CreateClusterError;
    use aws_sdk_eks::types::VpcConfigRequest;
    let emu = demo().await;
    let c = eks(&emu).await;
    let t = token();
    let create = |version: &'static str, t: String| {
        c.create_cluster()
            .name("new")
            .version(version)
            .role_arn("arn:aws:iam::123456789012:role/r")
            .resources_vpc_config(VpcConfigRequest::builder().subnet_ids("s").build())
            .client_request_token(t)
            .send()
    };
    let a = create("1.33", t.clone()).await.unwrap();
    let b = create("1.33", t.clone()).await.unwrap();
    assert_eq!(a.cluster().unwrap().arn(), b.cluster().unwrap().arn());
    assert_eq!(b.cluster().unwrap().client_request_token(), Some(t.as_str()));
    let e = create("1.34", t.clone()).await.unwrap_err().into_service_error();
    assert!(matches!(e, CreateClusterError::InvalidParameterException(_)), "{e:?}");
    let e = create("1.33", token()).await.unwrap_err().into_service_error();
    assert!(matches!(e, CreateClusterError::ResourceInUseException(_)), "{e:?}");
    let e = create("1.33", "short".into()).await.unwrap_err().into_service_error();
    assert!(matches!(e, CreateClusterError::InvalidParameterException(_)), "{e:?}");
    let e = c
        .create_cluster()
        .name("old")
        .version("1.20")
        .role_arn("r")
        .resources_vpc_config(VpcConfigRequest::builder().build())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(e.message(), Some("unsupported Kubernetes version"));
    emu.shutdown().await;
}

#[tokio::test]
async fn seeded_version_table_and_catalogue() {
    use aws_sdk_eks::types::VersionStatus;
    let emu = start_with(EmulatorConfig::default()).await;
    emu.seed_json(
        r#"{
        "accountId": "210987654321",
        "region": "eu-west-1",
        "kubernetesVersions": [
            {"version": "1.29", "versionStatus": "UNSUPPORTED"},
            {"version": "1.30", "versionStatus": "EXTENDED_SUPPORT", "platformVersion": "eks.40", "releaseDate": "2024-05-23"},
            {"version": "1.31", "versionStatus": "STANDARD_SUPPORT", "defaultVersion": true, "platformVersion": "eks.7"}
        ],
        "addonCatalog": [
            {"addonName": "my-addon", "versions": [
                {"addonVersion": "v1.0.0-eksbuild.1", "clusterVersions": ["1.30"], "defaultFor": ["1.30"]},
                {"addonVersion": "v2.0.0-eksbuild.1", "clusterVersions": ["1.31"], "defaultFor": ["1.31"]}
            ]}
        ],
        "clusters": [
            {"name": "a", "version": "1.29", "addons": [{"name": "my-addon", "version": "v0.9"}]},
            {"name": "b", "version": "1.30", "addons": [{"name": "my-addon"}]}
        ]
    }"#,
    )
    .unwrap();
    // The seed moved the emulator to eu-west-1: a client signs for that region to see it.
    let c = aws_sdk_eks::Client::from_conf(
        aws_sdk_eks::config::Builder::from(&crate::common::sdk_config(&emu, 3).await)
            .region(aws_sdk_eks::config::Region::new("eu-west-1"))
            .build(),
    );
    let cv = c.describe_cluster_versions().send().await.unwrap();
    let v: Vec<&str> = cv
        .cluster_versions()
        .iter()
        .filter_map(|v| v.cluster_version())
        .collect();
    assert_eq!(v, ["1.31", "1.30"], "UNSUPPORTED only with includeAll");
    let all = c.describe_cluster_versions().include_all(true).send().await.unwrap();
    assert_eq!(all.cluster_versions().len(), 3);
    assert_eq!(
        all.cluster_versions()[2].version_status(),
        Some(&VersionStatus::Unsupported)
    );
    // 1.29 -> 1.30 is fine (1.30 is supported); nothing can go to 1.29.
    let e = c
        .update_cluster_version()
        .name("b")
        .version("1.29")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(e.message(), Some("unsupported Kubernetes version"));
    let u = c
        .update_cluster_version()
        .name("b")
        .version("1.31")
        .send()
        .await
        .unwrap();
    assert_eq!(u.update().unwrap().params()[1].value(), Some("eks.7"));
    let d = c.describe_cluster().name("b").send().await.unwrap();
    assert_eq!(
        d.cluster().unwrap().arn(),
        Some("arn:aws:eks:eu-west-1:210987654321:cluster/b")
    );
    assert_eq!(d.cluster().unwrap().platform_version(), Some("eks.40"));
    let a = c
        .describe_addon()
        .cluster_name("b")
        .addon_name("my-addon")
        .send()
        .await
        .unwrap();
    assert_eq!(a.addon().unwrap().addon_version(), Some("v1.0.0-eksbuild.1"));
    let av = c.describe_addon_versions().send().await.unwrap();
    assert_eq!(av.addons().len(), 1);
    assert!(emu
        .seed_json(r#"{"clusters":[{"name":"bad","version":"1.30","nodegroups":[{"name":"n","version":"1.31"}]}]}"#)
        .is_err());
    assert!(emu.seed_json(r#"{"kubernetesVersions":[{"version":"x"}]}"#).is_err());
    emu.shutdown().await;
}

#[tokio::test]
async fn list_updates_assumes_no_order_listing_by_id_not_by_time() {
    let emu = demo().await;
    let c = eks(&emu).await;
    let mut created = Vec::new();
    for version in ["1.31", "1.32", "1.33"] {
        // Node groups first, as EKS requires, then the control plane.
        let u = c
            .update_cluster_version()
            .name("demo")
            .version(version)
            .send()
            .await
            .unwrap();
        created.push(u.update().unwrap().id().unwrap().to_string());
        emu.finish_updates();
        c.update_nodegroup_version()
            .cluster_name("demo")
            .nodegroup_name("ng-1")
            .version(version)
            .send()
            .await
            .unwrap();
        emu.finish_updates();
    }
    let listed: Vec<String> = c
        .list_updates()
        .name("demo")
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    let mut by_id = created.clone();
    by_id.sort();
    assert_eq!(listed, by_id, "every update, by id (EKS documents no order)");
    emu.shutdown().await;
}

#[tokio::test]
async fn an_update_eks_cancels_reads_cancelled_with_its_cancellation() {
    let emu = demo().await;
    let c = eks(&emu).await;
    let rule = FailNextUpdate {
        cancelled: true,
        ..FailNextUpdate::new("demo", &["Unknown"]).kind(UpdateKind::Cluster)
    };
    emu.fail_next_update(rule).unwrap();
    let u = c
        .update_cluster_version()
        .name("demo")
        .version("1.31")
        .send()
        .await
        .unwrap();
    let id = u.update().unwrap().id().unwrap().to_string();
    emu.finish_updates();
    let d = c.describe_update().name("demo").update_id(&id).send().await.unwrap();
    let up = d.update().unwrap();
    assert_eq!(up.status(), Some(&UpdateStatus::Cancelled));
    assert_eq!(up.errors()[0].error_code().map(|c| c.as_str()), Some("Unknown"));
    let cl = c.describe_cluster().name("demo").send().await.unwrap();
    assert_eq!(cl.cluster().unwrap().version(), Some("1.30"), "nothing changed");
    emu.shutdown().await;
}
