//! Every operation's answer parses in the real aws-sdk-eks client, and every error
//! maps to its typed SDK variant.

use aws_sdk_eks::error::ProvideErrorMetadata;
use aws_sdk_eks::operation::cancel_update::CancelUpdateError;
use aws_sdk_eks::operation::create_cluster::CreateClusterError;
use aws_sdk_eks::operation::create_nodegroup::CreateNodegroupError;
use aws_sdk_eks::operation::delete_cluster::DeleteClusterError;
use aws_sdk_eks::operation::describe_addon::DescribeAddonError;
use aws_sdk_eks::operation::describe_cluster::DescribeClusterError;
use aws_sdk_eks::operation::describe_nodegroup::DescribeNodegroupError;
use aws_sdk_eks::operation::describe_update::DescribeUpdateError;
use aws_sdk_eks::operation::list_insights::ListInsightsError;
use aws_sdk_eks::operation::list_updates::ListUpdatesError;
use aws_sdk_eks::operation::update_addon::UpdateAddonError;
use aws_sdk_eks::operation::update_cluster_version::UpdateClusterVersionError;
use aws_sdk_eks::operation::update_nodegroup_version::UpdateNodegroupVersionError;
use aws_sdk_eks::operation::RequestId;
use aws_sdk_eks::types::{
    AddonIssueCode, AddonStatus, AmiTypes, Category, ClusterIssueCode, ClusterStatus, InsightStatusValue,
    InsightsFilter, LaunchTemplateSpecification, NodegroupIssueCode, NodegroupScalingConfig, NodegroupStatus,
    ResolveConflicts, UpdateParamType, UpdateStatus, UpdateType, VersionStatus, VpcConfigRequest,
};
use eks_emulator::{FaultsPatch, HealthIssue, SetHealth, INSIGHTS_BLOCKING_MESSAGE};

use crate::common::*;

#[tokio::test]
async fn every_operation_parses() {
    let emu = demo().await;
    let c = eks(&emu).await;

    // Clusters.
    let created = c
        .create_cluster()
        .name("c2")
        .version("1.31")
        .role_arn("arn:aws:iam::123456789012:role/r")
        .resources_vpc_config(
            VpcConfigRequest::builder()
                .subnet_ids("subnet-1")
                .subnet_ids("subnet-2")
                .build(),
        )
        .tags("team", "a")
        .client_request_token(token())
        .send()
        .await
        .unwrap();
    let cl = created.cluster().unwrap();
    assert_eq!(cl.status(), Some(&ClusterStatus::Creating));
    assert_eq!(cl.version(), Some("1.31"));
    assert_eq!(cl.arn(), Some("arn:aws:eks:us-east-1:123456789012:cluster/c2"));
    assert!(cl.created_at().is_some());
    assert_eq!(
        cl.resources_vpc_config().unwrap().subnet_ids(),
        ["subnet-1", "subnet-2"]
    );

    let d = c.describe_cluster().name("demo").send().await.unwrap();
    let cl = d.cluster().unwrap();
    assert_eq!(cl.status(), Some(&ClusterStatus::Active));
    assert_eq!(cl.version(), Some("1.30"));
    assert_eq!(cl.platform_version(), Some("eks.32"));
    assert_eq!(cl.tags().unwrap().get("env").map(String::as_str), Some("demo"));
    assert!(cl.endpoint().unwrap().starts_with("https://"));
    assert!(cl.identity().unwrap().oidc().unwrap().issuer().is_some());
    assert!(cl.created_at().unwrap().secs() > 1_600_000_000);

    let list = c.list_clusters().send().await.unwrap();
    assert_eq!(list.clusters(), ["c2", "demo"]);
    assert!(list.next_token().is_none());

    // Node groups.
    let ng = c
        .create_nodegroup()
        .cluster_name("c2")
        .nodegroup_name("ng-a")
        .subnets("subnet-1")
        .node_role("arn:aws:iam::123456789012:role/node")
        .scaling_config(
            NodegroupScalingConfig::builder()
                .min_size(1)
                .max_size(2)
                .desired_size(1)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(ng.nodegroup().unwrap().status(), Some(&NodegroupStatus::Creating));
    assert_eq!(ng.nodegroup().unwrap().version(), Some("1.31"));
    let ng = c
        .describe_nodegroup()
        .cluster_name("demo")
        .nodegroup_name("ng-1")
        .send()
        .await
        .unwrap();
    let ng = ng.nodegroup().unwrap();
    assert_eq!(ng.status(), Some(&NodegroupStatus::Active));
    assert_eq!(ng.version(), Some("1.30"));
    assert_eq!(ng.release_version(), Some("1.30.14-20261015"));
    assert_eq!(ng.scaling_config().unwrap().desired_size(), Some(3));
    assert!(ng.modified_at().is_some());
    let ngs = c.list_nodegroups().cluster_name("demo").send().await.unwrap();
    assert_eq!(ngs.nodegroups(), ["ng-1"]);

    // Add-ons.
    let a = c
        .create_addon()
        .cluster_name("c2")
        .addon_name("coredns")
        .send()
        .await
        .unwrap();
    assert_eq!(a.addon().unwrap().status(), Some(&AddonStatus::Creating));
    assert_eq!(a.addon().unwrap().addon_version(), Some("v1.11.3-eksbuild.2"));
    let a = c
        .describe_addon()
        .cluster_name("demo")
        .addon_name("kube-proxy")
        .send()
        .await
        .unwrap();
    assert_eq!(a.addon().unwrap().addon_version(), Some("v1.30.3-eksbuild.2"));
    assert_eq!(a.addon().unwrap().status(), Some(&AddonStatus::Active));
    let addons = c.list_addons().cluster_name("demo").send().await.unwrap();
    assert_eq!(addons.addons(), ["coredns", "kube-proxy", "vpc-cni"]);

    let av = c
        .describe_addon_versions()
        .addon_name("kube-proxy")
        .kubernetes_version("1.31")
        .send()
        .await
        .unwrap();
    let info = &av.addons()[0];
    assert_eq!(info.addon_name(), Some("kube-proxy"));
    let versions = info.addon_versions();
    assert_eq!(versions.len(), 2);
    let compat = &versions[0].compatibilities()[0];
    assert_eq!(compat.cluster_version(), Some("1.31"));
    assert!(compat.default_version());
    assert_eq!(compat.platform_versions(), ["*"]);

    // Insights and versions.
    let ins = c.list_insights().cluster_name("demo").send().await.unwrap();
    assert!(!ins.insights().is_empty());
    let i = &ins.insights()[0];
    assert_eq!(i.category(), Some(&Category::UpgradeReadiness));
    assert!(i.insight_status().unwrap().status().is_some());
    assert!(i.last_refresh_time().is_some());

    let cv = c.describe_cluster_versions().send().await.unwrap();
    let versions: Vec<&str> = cv
        .cluster_versions()
        .iter()
        .filter_map(|v| v.cluster_version())
        .collect();
    assert_eq!(
        versions,
        ["1.36", "1.35", "1.34", "1.33", "1.32", "1.31", "1.30", "1.29", "1.28"]
    );
    let std: Vec<&str> = cv
        .cluster_versions()
        .iter()
        .filter(|v| v.version_status() == Some(&VersionStatus::StandardSupport))
        .filter_map(|v| v.cluster_version())
        .collect();
    assert_eq!(std, ["1.36", "1.35", "1.34"]);
    assert_eq!(cv.cluster_versions().iter().filter(|v| v.default_version()).count(), 1);
    assert!(cv.cluster_versions()[0].end_of_standard_support_date().is_some());
    let only_default = c.describe_cluster_versions().default_only(true).send().await.unwrap();
    assert_eq!(only_default.cluster_versions().len(), 1);
    let ext = c
        .describe_cluster_versions()
        .version_status(VersionStatus::ExtendedSupport)
        .send()
        .await
        .unwrap();
    assert_eq!(ext.cluster_versions().len(), 6);

    // Updates.
    let u = c
        .update_cluster_version()
        .name("demo")
        .version("1.31")
        .send()
        .await
        .unwrap();
    let u = u.update().unwrap();
    assert_eq!(u.status(), Some(&UpdateStatus::InProgress));
    assert_eq!(u.r#type(), Some(&UpdateType::VersionUpdate));
    let params: Vec<(UpdateParamType, &str)> = u
        .params()
        .iter()
        .map(|p| (p.r#type().unwrap().clone(), p.value().unwrap()))
        .collect();
    assert_eq!(
        params,
        [
            (UpdateParamType::Version, "1.31"),
            (UpdateParamType::PlatformVersion, "eks.1")
        ]
    );
    assert!(u.created_at().is_some());
    assert!(u.errors().is_empty());
    let id = u.id().unwrap().to_string();
    let du = c.describe_update().name("demo").update_id(&id).send().await.unwrap();
    assert_eq!(du.update().unwrap().id(), Some(id.as_str()));
    let lu = c.list_updates().name("demo").send().await.unwrap();
    assert_eq!(lu.update_ids(), std::slice::from_ref(&id));

    emu.finish_updates();
    let ngu = c
        .update_nodegroup_version()
        .cluster_name("demo")
        .nodegroup_name("ng-1")
        .send()
        .await
        .unwrap();
    let ngu = ngu.update().unwrap();
    assert_eq!(ngu.params()[0].value(), Some("1.31"));
    assert_eq!(ngu.params()[1].r#type(), Some(&UpdateParamType::ReleaseVersion));

    let au = c
        .update_addon()
        .cluster_name("demo")
        .addon_name("kube-proxy")
        .addon_version("v1.31.13-eksbuild.2")
        .resolve_conflicts(ResolveConflicts::Overwrite)
        .send()
        .await
        .unwrap();
    let au = au.update().unwrap();
    assert_eq!(au.r#type(), Some(&UpdateType::AddonUpdate));
    assert_eq!(au.params()[0].r#type(), Some(&UpdateParamType::AddonVersion));

    // CancelUpdate is only for VersionRollback updates.
    let e = c
        .cancel_update()
        .name("demo")
        .update_id(&id)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(matches!(e, CancelUpdateError::InvalidRequestException(_)), "{e:?}");

    // Delete: refused while node groups exist, else DELETING then gone.
    let e = c
        .delete_cluster()
        .name("c2")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(matches!(e, DeleteClusterError::ResourceInUseException(_)), "{e:?}");
    c.create_cluster()
        .name("c3")
        .role_arn("arn:aws:iam::123456789012:role/r")
        .resources_vpc_config(VpcConfigRequest::builder().build())
        .send()
        .await
        .unwrap();
    let del = c.delete_cluster().name("c3").send().await.unwrap();
    assert_eq!(del.cluster().unwrap().status(), Some(&ClusterStatus::Deleting));
    let e = c
        .describe_cluster()
        .name("c3")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(matches!(e, DescribeClusterError::ResourceNotFoundException(_)), "{e:?}");

    emu.shutdown().await;
}

#[tokio::test]
async fn errors_map_to_typed_variants() {
    let emu = demo().await;
    let c = eks(&emu).await;

    let e = c.describe_cluster().name("nope").send().await.unwrap_err();
    assert!(e.request_id().is_some(), "errors carry x-amzn-RequestId");
    let e = e.into_service_error();
    match &e {
        DescribeClusterError::ResourceNotFoundException(x) => {
            assert_eq!(x.message(), Some("No cluster found for name: nope."));
            assert_eq!(x.cluster_name(), Some("nope"));
        }
        other => panic!("{other:?}"),
    }

    let e = c
        .update_cluster_version()
        .name("demo")
        .version("1.32")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    match &e {
        UpdateClusterVersionError::InvalidParameterException(x) => {
            assert_eq!(
                x.message(),
                Some("Unsupported Kubernetes minor version update from 1.30 to 1.32")
            );
            assert_eq!(x.cluster_name(), Some("demo"));
        }
        other => panic!("{other:?}"),
    }
    let e = c
        .update_cluster_version()
        .name("demo")
        .version("1.30")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(
        e.message(),
        Some("Unsupported Kubernetes minor version update from 1.30 to 1.30")
    );
    assert!(matches!(e, UpdateClusterVersionError::InvalidParameterException(_)));
    let e = c
        .update_cluster_version()
        .name("demo")
        .version("1.99")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(e.message(), Some("unsupported Kubernetes version"));
    assert!(matches!(e, UpdateClusterVersionError::InvalidParameterException(_)));
    let e = c
        .update_cluster_version()
        .name("nope")
        .version("1.31")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(e, UpdateClusterVersionError::ResourceNotFoundException(_)),
        "{e:?}"
    );

    emu.set_blocking_insights("demo", None, true).unwrap();
    let e = c
        .update_cluster_version()
        .name("demo")
        .version("1.31")
        .send()
        .await
        .unwrap_err();
    match e.into_service_error() {
        UpdateClusterVersionError::InvalidStateException(x) => {
            assert_eq!(x.message(), Some(INSIGHTS_BLOCKING_MESSAGE));
            assert_eq!(x.cluster_name(), Some("demo"));
        }
        other => panic!("{other:?}"),
    }
    emu.set_blocking_insights("demo", None, false).unwrap();

    let first = c
        .update_cluster_version()
        .name("demo")
        .version("1.31")
        .send()
        .await
        .unwrap();
    let id = first.update().unwrap().id().unwrap().to_string();
    let e = c
        .update_cluster_version()
        .name("demo")
        .version("1.31")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    match &e {
        UpdateClusterVersionError::ResourceInUseException(x) => assert_eq!(
            x.message().unwrap(),
            format!("Cannot VersionUpdate because cluster demo currently has update {id} in progress")
        ),
        other => panic!("{other:?}"),
    }
    emu.finish_updates();

    let e = c
        .describe_update()
        .name("demo")
        .update_id("nope")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    match &e {
        DescribeUpdateError::ResourceNotFoundException(x) => {
            assert_eq!(x.message(), Some("No update found for ID: nope"))
        }
        other => panic!("{other:?}"),
    }
    let e = c
        .describe_nodegroup()
        .cluster_name("demo")
        .nodegroup_name("x")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(e, DescribeNodegroupError::ResourceNotFoundException(_)),
        "{e:?}"
    );
    let e = c
        .describe_addon()
        .cluster_name("demo")
        .addon_name("x")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(matches!(e, DescribeAddonError::ResourceNotFoundException(_)), "{e:?}");
    let e = c
        .list_updates()
        .name("demo")
        .nodegroup_name("x")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(matches!(e, ListUpdatesError::ResourceNotFoundException(_)), "{e:?}");
    let e = c
        .list_insights()
        .cluster_name("x")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(matches!(e, ListInsightsError::ResourceNotFoundException(_)), "{e:?}");

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
    let e = c
        .update_addon()
        .cluster_name("demo")
        .addon_name("kube-proxy")
        .addon_version("v9.9.9")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    match &e {
        UpdateAddonError::InvalidParameterException(x) => {
            assert_eq!(x.message(), Some("Addon version specified is not supported"));
            assert_eq!(x.addon_name(), Some("kube-proxy"));
        }
        other => panic!("{other:?}"),
    }
    let e = c
        .create_cluster()
        .name("demo")
        .role_arn("r")
        .resources_vpc_config(VpcConfigRequest::builder().build())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(matches!(e, CreateClusterError::ResourceInUseException(_)), "{e:?}");
    let e = c
        .create_nodegroup()
        .cluster_name("demo")
        .nodegroup_name("ng-1")
        .subnets("s")
        .node_role("r")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(matches!(e, CreateNodegroupError::ResourceInUseException(_)), "{e:?}");

    // Injected throttling and server errors, with SDK retries off.
    let c1 = eks_attempts(&emu, 1).await;
    emu.set_faults(FaultsPatch {
        throttle_rate: Some(1.0),
        ..Default::default()
    })
    .unwrap();
    let e = c1
        .update_cluster_version()
        .name("demo")
        .version("1.32")
        .force(true)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    match &e {
        UpdateClusterVersionError::ThrottlingException(x) => {
            assert_eq!(x.message(), Some("Rate exceeded"));
            assert_eq!(x.cluster_name(), Some("demo"));
        }
        other => panic!("{other:?}"),
    }
    // DescribeCluster does not model ThrottlingException: it is unhandled, with its code.
    let e = c1
        .describe_cluster()
        .name("demo")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(e.code(), Some("ThrottlingException"));
    emu.set_faults(FaultsPatch {
        throttle_rate: Some(0.0),
        error_rate: Some(1.0),
        ..Default::default()
    })
    .unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..12 {
        let e = c1
            .describe_cluster()
            .name("demo")
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        match e {
            DescribeClusterError::ServerException(_) => seen.insert("ServerException"),
            DescribeClusterError::ServiceUnavailableException(_) => seen.insert("ServiceUnavailableException"),
            other => panic!("{other:?}"),
        };
    }
    assert_eq!(seen.len(), 2, "both 500 and 503 are injected: {seen:?}");
    emu.shutdown().await;
}

#[tokio::test]
async fn insights_filter_and_status() {
    let emu = demo().await;
    let c = eks(&emu).await;
    emu.set_blocking_insights("demo", None, true).unwrap();
    let ins = c
        .list_insights()
        .cluster_name("demo")
        .filter(InsightsFilter::builder().statuses(InsightStatusValue::Error).build())
        .send()
        .await
        .unwrap();
    assert_eq!(ins.insights().len(), 1);
    let i = &ins.insights()[0];
    assert_eq!(i.kubernetes_version(), Some("1.31"));
    assert_eq!(i.category(), Some(&Category::UpgradeReadiness));
    assert_eq!(i.insight_status().unwrap().status(), Some(&InsightStatusValue::Error));
    let by_version = c
        .list_insights()
        .cluster_name("demo")
        .filter(InsightsFilter::builder().kubernetes_versions("1.99").build())
        .send()
        .await
        .unwrap();
    assert!(by_version.insights().is_empty());
    emu.shutdown().await;
}

// ---------------------------------------------------------------- production shapes

/// A cluster with a custom-AMI node group, a launch-template node group on an EKS AMI, a
/// node group that failed to create, a degraded add-on and health issues everywhere.
const SHAPES_SEED: &str = r#"{"clusters":[{"name":"prod","version":"1.32",
  "health":[{"code":"Ec2SubnetNotFound","message":"subnet-1 was deleted","resourceIds":["subnet-1"]}],
  "nodegroups":[
    {"name":"custom","version":"1.31","amiType":"CUSTOM","launchTemplate":{"name":"web","version":"4"},
     "launchTemplateVersions":{"4":"1.31","5":"1.32"}},
    {"name":"managed","version":"1.31","launchTemplate":{"id":"lt-0123456789abcdef0","version":"2"}},
    {"name":"broken","status":"CREATE_FAILED","health":[{"code":"NodeCreationFailure",
     "message":"Instances failed to join the kubernetes cluster","resourceIds":["i-0abc"]}]}],
  "addons":[{"name":"coredns","status":"DEGRADED","health":[{"code":"InsufficientNumberOfReplicas",
     "message":"The add-on is unhealthy because it doesn't have the desired number of replicas."}]}]}]}"#;

const CUSTOM_AMI_MESSAGE: &str = "You cannot specify the field kubernetesVersion when using custom AMIs";

async fn shapes() -> eks_emulator::Emulator {
    let emu = demo().await;
    emu.seed_json(SHAPES_SEED).expect("shapes seed applies");
    emu
}

fn lt(name: Option<&str>, id: Option<&str>, version: &str) -> LaunchTemplateSpecification {
    LaunchTemplateSpecification::builder()
        .set_name(name.map(str::to_string))
        .set_id(id.map(str::to_string))
        .version(version)
        .build()
}

async fn nodegroup(c: &aws_sdk_eks::Client, name: &str) -> aws_sdk_eks::types::Nodegroup {
    let out = c
        .describe_nodegroup()
        .cluster_name("prod")
        .nodegroup_name(name)
        .send()
        .await
        .unwrap();
    out.nodegroup().unwrap().clone()
}

#[tokio::test]
async fn custom_ami_node_groups_refuse_version_and_roll_by_launch_template() {
    let emu = shapes().await;
    let c = eks(&emu).await;
    let ng = nodegroup(&c, "custom").await;
    assert_eq!(ng.ami_type(), Some(&AmiTypes::Custom));
    let spec = ng.launch_template().expect("launchTemplate rendered");
    assert_eq!((spec.name(), spec.version()), (Some("web"), Some("4")));
    let id = spec.id().unwrap().to_string();
    assert!(id.starts_with("lt-0") && id.len() == 20, "{id}");
    let ami_before = ng.release_version().unwrap().to_string();
    assert!(ami_before.starts_with("ami-0"), "{ami_before}");

    // version or releaseVersion: refused, verbatim.
    for (version, release) in [(Some("1.32"), None), (None, Some("1.32.9-20261101"))] {
        let e = c
            .update_nodegroup_version()
            .cluster_name("prod")
            .nodegroup_name("custom")
            .set_version(version.map(str::to_string))
            .set_release_version(release.map(str::to_string))
            .launch_template(lt(Some("web"), None, "5"))
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        match &e {
            UpdateNodegroupVersionError::InvalidParameterException(x) => {
                assert_eq!(x.message(), Some(CUSTOM_AMI_MESSAGE));
                assert_eq!((x.cluster_name(), x.nodegroup_name()), (Some("prod"), Some("custom")));
            }
            other => panic!("{other:?}"),
        }
    }
    // Another template, or both name and id: refused.
    let refused = [
        (
            lt(Some("other"), None, "5"),
            "You must specify the same launch template ID or name that was used to create the node group.",
        ),
        (
            lt(None, Some("lt-0fffffffffffffff0"), "5"),
            "You must specify the same launch template ID or name that was used to create the node group.",
        ),
        (
            lt(Some("web"), Some(&id), "5"),
            "Either provide launch template ID or launch template name in the request.",
        ),
    ];
    for (spec, message) in refused {
        let e = c
            .update_nodegroup_version()
            .cluster_name("prod")
            .nodegroup_name("custom")
            .launch_template(spec)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(
            matches!(e, UpdateNodegroupVersionError::InvalidParameterException(_)),
            "{e:?}"
        );
        assert_eq!(e.message(), Some(message));
    }

    // A new launch-template version (by name), with a token: a VersionUpdate, idempotent.
    let t = token();
    let send = |spec: LaunchTemplateSpecification| {
        c.update_nodegroup_version()
            .cluster_name("prod")
            .nodegroup_name("custom")
            .launch_template(spec)
            .client_request_token(&t)
            .send()
    };
    let u = send(lt(Some("web"), None, "5")).await.unwrap().update.unwrap();
    assert_eq!(u.r#type(), Some(&UpdateType::VersionUpdate));
    let params: Vec<(UpdateParamType, &str)> = u
        .params()
        .iter()
        .map(|p| (p.r#type().unwrap().clone(), p.value().unwrap()))
        .collect();
    assert_eq!(
        params,
        [
            (UpdateParamType::LaunchTemplateName, "web"),
            (UpdateParamType::LaunchTemplateVersion, "5")
        ]
    );
    let again = send(lt(Some("web"), None, "5")).await.unwrap().update.unwrap();
    assert_eq!(again.id(), u.id());
    let e = send(lt(Some("web"), None, "6")).await.unwrap_err().into_service_error();
    assert!(
        matches!(e, UpdateNodegroupVersionError::InvalidParameterException(_)),
        "{e:?}"
    );
    assert_eq!(nodegroup(&c, "custom").await.status(), Some(&NodegroupStatus::Updating));

    emu.finish_updates();
    let ng = nodegroup(&c, "custom").await;
    assert_eq!(
        ng.version(),
        Some("1.32"),
        "the Kubernetes version of template version 5's AMI"
    );
    assert_eq!(ng.launch_template().unwrap().version(), Some("5"));
    assert_eq!(ng.launch_template().unwrap().id(), Some(id.as_str()));
    let ami_after = ng.release_version().unwrap();
    assert!(ami_after.starts_with("ami-0") && ami_after != ami_before, "{ami_after}");
    let done = c
        .describe_update()
        .name("prod")
        .update_id(u.id().unwrap())
        .nodegroup_name("custom")
        .send()
        .await
        .unwrap();
    assert_eq!(done.update().unwrap().status(), Some(&UpdateStatus::Successful));
    emu.shutdown().await;
}

#[tokio::test]
async fn launch_template_node_groups_on_eks_amis() {
    let emu = shapes().await;
    let c = eks(&emu).await;
    let ng = nodegroup(&c, "managed").await;
    let spec = ng.launch_template().unwrap();
    assert_eq!(
        (spec.name(), spec.id(), spec.version()),
        (None, Some("lt-0123456789abcdef0"), Some("2"))
    );
    // version and a new template version (by id) together.
    let u = c
        .update_nodegroup_version()
        .cluster_name("prod")
        .nodegroup_name("managed")
        .version("1.32")
        .launch_template(lt(None, Some("lt-0123456789abcdef0"), "3"))
        .send()
        .await
        .unwrap();
    let kinds: Vec<&UpdateParamType> = u.update().unwrap().params().iter().filter_map(|p| p.r#type()).collect();
    assert_eq!(
        kinds,
        [
            &UpdateParamType::Version,
            &UpdateParamType::ReleaseVersion,
            &UpdateParamType::LaunchTemplateVersion
        ]
    );
    emu.finish_updates();
    let ng = nodegroup(&c, "managed").await;
    assert_eq!(ng.version(), Some("1.32"));
    assert_eq!(ng.release_version(), Some("1.32.9-20261101"));
    assert_eq!(ng.launch_template().unwrap().version(), Some("3"));
    // version alone still works, and keeps the template version.
    c.update_nodegroup_version()
        .cluster_name("prod")
        .nodegroup_name("managed")
        .version("1.32")
        .send()
        .await
        .unwrap();
    emu.finish_updates();
    assert_eq!(
        nodegroup(&c, "managed").await.launch_template().unwrap().version(),
        Some("3")
    );

    // A launch template for a node group created without one: refused.
    let e = c
        .update_nodegroup_version()
        .cluster_name("demo")
        .nodegroup_name("ng-1")
        .launch_template(lt(Some("web"), None, "2"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(e, UpdateNodegroupVersionError::InvalidParameterException(_)),
        "{e:?}"
    );

    // CreateNodegroup: a name gets an id and version "1"; a custom AMI refuses a version.
    let created = c
        .create_nodegroup()
        .cluster_name("prod")
        .nodegroup_name("new")
        .subnets("subnet-1")
        .node_role("arn:aws:iam::123456789012:role/node")
        .launch_template(LaunchTemplateSpecification::builder().name("web").build())
        .send()
        .await
        .unwrap();
    let spec = created.nodegroup().unwrap().launch_template().unwrap();
    assert_eq!((spec.name(), spec.version()), (Some("web"), Some("1")));
    assert!(spec.id().unwrap().starts_with("lt-0"));
    let e = c
        .create_nodegroup()
        .cluster_name("prod")
        .nodegroup_name("new-custom")
        .subnets("subnet-1")
        .node_role("arn:aws:iam::123456789012:role/node")
        .ami_type(AmiTypes::Custom)
        .version("1.32")
        .launch_template(lt(Some("web"), None, "5"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(matches!(e, CreateNodegroupError::InvalidParameterException(_)), "{e:?}");
    assert_eq!(
        e.message(),
        Some("You cannot specify a kubernetes version to use when specifying an image id to use within the launch template.")
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn degraded_node_groups_and_addons_refuse_updates() {
    let emu = shapes().await;
    let c = eks(&emu).await;
    let e = c
        .update_nodegroup_version()
        .cluster_name("prod")
        .nodegroup_name("broken")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(400));
    match e.into_service_error() {
        UpdateNodegroupVersionError::InvalidRequestException(x) => {
            assert_eq!(
                x.message(),
                Some("Nodegroup broken is in CREATE_FAILED state. Update is invalid given the state of the cluster.")
            );
            assert_eq!((x.cluster_name(), x.nodegroup_name()), (Some("prod"), Some("broken")));
        }
        other => panic!("{other:?}"),
    }
    emu.set_health(SetHealth::nodegroup("demo", "ng-1").status("DEGRADED"))
        .unwrap();
    let e = c
        .update_nodegroup_version()
        .cluster_name("demo")
        .nodegroup_name("ng-1")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(e, UpdateNodegroupVersionError::InvalidRequestException(_)),
        "{e:?}"
    );
    assert_eq!(
        e.message(),
        Some("Nodegroup ng-1 is in DEGRADED state. Update is invalid given the state of the cluster.")
    );
    let e = c
        .update_addon()
        .cluster_name("prod")
        .addon_name("coredns")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    match &e {
        UpdateAddonError::InvalidRequestException(x) => {
            assert!(x.message().unwrap().contains("invalid given the state of the cluster"));
            assert_eq!((x.cluster_name(), x.addon_name()), (Some("prod"), Some("coredns")));
        }
        other => panic!("{other:?}"),
    }
    // Healthy again: accepted.
    emu.set_health(SetHealth::nodegroup("demo", "ng-1").status("ACTIVE"))
        .unwrap();
    emu.set_health(SetHealth::addon("prod", "coredns").status("ACTIVE").clear_issues())
        .unwrap();
    c.update_nodegroup_version()
        .cluster_name("demo")
        .nodegroup_name("ng-1")
        .send()
        .await
        .unwrap();
    c.update_addon()
        .cluster_name("prod")
        .addon_name("coredns")
        .send()
        .await
        .unwrap();
    emu.shutdown().await;
}

#[tokio::test]
async fn health_issues_are_rendered_and_injectable() {
    let emu = shapes().await;
    let c = eks(&emu).await;
    let cl = c.describe_cluster().name("prod").send().await.unwrap();
    let issues = cl.cluster().unwrap().health().unwrap().issues();
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].code(), Some(&ClusterIssueCode::Ec2SubnetNotFound));
    assert_eq!(issues[0].message(), Some("subnet-1 was deleted"));
    assert_eq!(issues[0].resource_ids(), ["subnet-1"]);
    let ng = nodegroup(&c, "broken").await;
    let issue = &ng.health().unwrap().issues()[0];
    assert_eq!(issue.code(), Some(&NodegroupIssueCode::NodeCreationFailure));
    assert_eq!(issue.resource_ids(), ["i-0abc"]);
    let a = c
        .describe_addon()
        .cluster_name("prod")
        .addon_name("coredns")
        .send()
        .await
        .unwrap();
    let a = a.addon().unwrap();
    assert_eq!(a.status(), Some(&AddonStatus::Degraded));
    assert_eq!(
        a.health().unwrap().issues()[0].code(),
        Some(&AddonIssueCode::InsufficientNumberOfReplicas)
    );
    // Healthy resources have an empty list.
    let ng = nodegroup(&c, "custom").await;
    assert!(ng.health().unwrap().issues().is_empty());

    // Injected through the Rust API, with a status; cleared again.
    emu.set_health(
        SetHealth::nodegroup("demo", "ng-1")
            .issue(HealthIssue::new(
                "AsgInstanceLaunchFailures",
                "Could not launch On-Demand Instances.",
                &["eks-ng-1"],
            ))
            .status("DEGRADED"),
    )
    .unwrap();
    let ng = c
        .describe_nodegroup()
        .cluster_name("demo")
        .nodegroup_name("ng-1")
        .send()
        .await
        .unwrap();
    let ng = ng.nodegroup().unwrap();
    assert_eq!(ng.status(), Some(&NodegroupStatus::Degraded));
    assert_eq!(
        ng.health().unwrap().issues()[0].code(),
        Some(&NodegroupIssueCode::AsgInstanceLaunchFailures)
    );
    emu.set_health(SetHealth::cluster("prod").clear_issues()).unwrap();
    let cl = c.describe_cluster().name("prod").send().await.unwrap();
    assert!(cl.cluster().unwrap().health().unwrap().issues().is_empty());

    // Codes outside the model's enum, unknown statuses and resources are refused.
    let bad = SetHealth::addon("prod", "coredns").issue(HealthIssue::new("NodeCreationFailure", "", &[]));
    assert!(emu.set_health(bad).unwrap_err().contains("AddonIssueCode"));
    assert!(emu
        .set_health(SetHealth::nodegroup("prod", "custom").status("SLEEPY"))
        .is_err());
    assert!(emu.set_health(SetHealth::nodegroup("prod", "nope")).is_err());
    assert!(emu.set_health(SetHealth::cluster("prod").status("DEGRADED")).is_err());
    let seed = r#"{"clusters":[{"name":"x","version":"1.31","health":[{"code":"NodeCreationFailure"}]}]}"#;
    assert!(emu.seed_json(seed).unwrap_err().0.contains("ClusterIssueCode"));
    emu.shutdown().await;
}

#[tokio::test]
async fn denied_operations_answer_access_denied() {
    let emu = shapes().await;
    let c = eks(&emu).await;
    emu.deny("UpdateClusterVersion", Some("demo")).unwrap();
    let e = c
        .update_cluster_version()
        .name("demo")
        .version("1.31")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(403));
    let e = e.into_service_error();
    // Not a modelled error of UpdateClusterVersion: an unhandled error with the code.
    assert_eq!(e.code(), Some("AccessDeniedException"));
    assert_eq!(
        e.message(),
        Some("User: arn:aws:sts::123456789012:assumed-role/eks-upgrade-orchestrator/session is not authorized to perform: eks:UpdateClusterVersion on resource: arn:aws:eks:us-east-1:123456789012:cluster/demo")
    );
    // Only that operation on that cluster; nothing happened.
    let d = c.describe_cluster().name("demo").send().await.unwrap();
    assert_eq!(d.cluster().unwrap().status(), Some(&ClusterStatus::Active));
    let other = c
        .update_cluster_version()
        .name("prod")
        .version("1.33")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(other, UpdateClusterVersionError::InvalidParameterException(_)),
        "another cluster reaches the rules: {other:?}"
    );

    // Node-group and add-on operations name the node group's or add-on's ARN.
    let ng_arn = nodegroup(&c, "managed").await.nodegroup_arn().unwrap().to_string();
    emu.deny("DescribeUpdate", None).unwrap();
    emu.deny("UpdateAddon", None).unwrap();
    let e = c
        .describe_update()
        .name("prod")
        .update_id("any")
        .nodegroup_name("managed")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(e.code(), Some("AccessDeniedException"));
    assert!(
        e.message()
            .unwrap()
            .ends_with(&format!("eks:DescribeUpdate on resource: {ng_arn}")),
        "{e:?}"
    );
    let addon_arn = c
        .describe_addon()
        .cluster_name("prod")
        .addon_name("coredns")
        .send()
        .await
        .unwrap()
        .addon()
        .unwrap()
        .addon_arn()
        .unwrap()
        .to_string();
    let e = c
        .update_addon()
        .cluster_name("prod")
        .addon_name("coredns")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        e.message()
            .unwrap()
            .ends_with(&format!("eks:UpdateAddon on resource: {addon_arn}")),
        "{e:?}"
    );

    let stats = emu.stats();
    assert_eq!(stats.requests.denied, 3);
    assert_eq!(stats.requests.errors_by_code["AccessDeniedException"], 3);
    assert_eq!(
        stats.requests.by_operation["UpdateClusterVersion"], 2,
        "403 is not retried"
    );
    assert_eq!(emu.cluster_stats("demo").update_cluster_version_calls, 1);
    assert!(emu.deny("NoSuchOperation", None).is_err());

    emu.allow_all();
    c.update_addon()
        .cluster_name("demo")
        .addon_name("coredns")
        .send()
        .await
        .unwrap();
    emu.shutdown().await;
}
