//! The JSON of a cluster (DescribeCluster, CreateCluster, DeleteCluster and the state
//! dump), Auto Mode's capabilities included.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::shared::{health, wrap, Health};
use crate::model::{ClusterOut, ClusterStatus};

const CA_DATA: &str = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSURCVENDQWUyZ0F3SUJBZ0lJRW11bGF0b3IwREFOQmdrcWhraUc5dzBCQVFzRkFEQVZNUk13RVFZRFZRUUQKRXdwcmRXSmxjbTVsZEdWek1CNFhEVEkyTVRFd01UQXdNREF3TUZvWERUTTJNVEF5T1RBd01EQXdNRm93RlRFVApNQkVHQTFVRUF4TUthM1ZpWlhKdVpYUmxjekFlRncwPQotLS0tLUVORCBDRVJUSUZJQ0FURS0tLS0tCg==";
const LOG_TYPES: [&str; 5] = ["api", "audit", "authenticator", "controllerManager", "scheduler"];

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ClusterView<'a> {
    name: &'a str,
    arn: &'a str,
    created_at: f64,
    version: &'a str,
    endpoint: String,
    role_arn: &'a str,
    resources_vpc_config: VpcView<'a>,
    kubernetes_network_config: NetworkView,
    logging: LoggingView,
    identity: IdentityView,
    status: ClusterStatus,
    certificate_authority: CaView,
    platform_version: &'a str,
    tags: &'a BTreeMap<String, String>,
    health: Health<'a>,
    access_config: AccessView,
    upgrade_policy: UpgradePolicyView<'a>,
    deletion_protection: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_request_token: Option<&'a str>,
    /// Auto Mode clusters only.
    #[serde(skip_serializing_if = "Option::is_none")]
    compute_config: Option<ComputeView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    storage_config: Option<StorageView>,
}

/// `computeConfig` (ComputeConfigResponse) of an Auto Mode cluster.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ComputeView {
    enabled: bool,
    node_pools: [&'static str; 2],
    node_role_arn: String,
}

/// `storageConfig` (StorageConfigResponse) of an Auto Mode cluster.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StorageView {
    block_storage: Enabled,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VpcView<'a> {
    subnet_ids: &'a [String],
    security_group_ids: &'a [String],
    cluster_security_group_id: String,
    vpc_id: String,
    endpoint_public_access: bool,
    endpoint_private_access: bool,
    public_access_cidrs: &'a [String],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NetworkView {
    service_ipv4_cidr: &'static str,
    ip_family: &'static str,
    elastic_load_balancing: Enabled,
}

#[derive(Serialize)]
struct Enabled {
    enabled: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LoggingView {
    cluster_logging: [LogSetup; 1],
}

#[derive(Serialize)]
struct LogSetup {
    types: [&'static str; 5],
    enabled: bool,
}

#[derive(Serialize)]
struct IdentityView {
    oidc: OidcView,
}

#[derive(Serialize)]
struct OidcView {
    issuer: String,
}

#[derive(Serialize)]
struct CaView {
    data: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AccessView {
    authentication_mode: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UpgradePolicyView<'a> {
    support_type: &'a str,
}

/// `arn:aws:iam::ACCOUNT:role` from a role ARN (the cluster role's account).
fn account_role_prefix(role_arn: &str) -> String {
    let account = role_arn
        .split(':')
        .nth(4)
        .filter(|a| !a.is_empty())
        .unwrap_or("123456789012");
    format!("arn:aws:iam::{account}:role")
}

pub(super) fn cluster_view<'a>(out: &ClusterOut<'a>) -> ClusterView<'a> {
    let c = out.cluster;
    let short = c.uid.replace('-', "");
    let hexid = short.to_uppercase();
    let region = out.region;
    ClusterView {
        name: &c.name,
        arn: &c.arn,
        created_at: c.created_at,
        version: &c.version,
        endpoint: format!("https://{hexid}.gr7.{region}.eks.amazonaws.com"),
        role_arn: &c.role_arn,
        resources_vpc_config: VpcView {
            subnet_ids: &c.vpc.subnet_ids,
            security_group_ids: &c.vpc.security_group_ids,
            cluster_security_group_id: format!("sg-{}", &short[..17]),
            vpc_id: format!("vpc-{}", &short[15..32]),
            endpoint_public_access: c.vpc.endpoint_public_access,
            endpoint_private_access: c.vpc.endpoint_private_access,
            public_access_cidrs: &c.vpc.public_access_cidrs,
        },
        kubernetes_network_config: NetworkView {
            service_ipv4_cidr: "10.100.0.0/16",
            ip_family: "ipv4",
            elastic_load_balancing: Enabled { enabled: c.auto_mode },
        },
        logging: LoggingView {
            cluster_logging: [LogSetup {
                types: LOG_TYPES,
                enabled: false,
            }],
        },
        identity: IdentityView {
            oidc: OidcView {
                issuer: format!("https://oidc.eks.{region}.amazonaws.com/id/{hexid}"),
            },
        },
        status: out.status,
        certificate_authority: CaView { data: CA_DATA },
        platform_version: &c.platform_version,
        tags: &c.tags,
        health: health(&c.health),
        access_config: AccessView {
            authentication_mode: "API_AND_CONFIG_MAP",
        },
        upgrade_policy: UpgradePolicyView {
            support_type: &c.support_type,
        },
        deletion_protection: false,
        client_request_token: c.client_request_token.as_deref(),
        compute_config: c.auto_mode.then(|| ComputeView {
            enabled: true,
            node_pools: ["general-purpose", "system"],
            node_role_arn: format!("{}/AmazonEKSAutoNodeRole", account_role_prefix(&c.role_arn)),
        }),
        storage_config: c.auto_mode.then_some(StorageView {
            block_storage: Enabled { enabled: true },
        }),
    }
}

/// `{"cluster": ...}`.
pub(crate) fn cluster(out: &ClusterOut) -> Value {
    wrap("cluster", cluster_view(out))
}
