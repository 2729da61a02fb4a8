//! Clusters: CreateCluster, DescribeCluster, ListClusters, DeleteCluster and the rules of
//! UpdateClusterVersion (minor steps, node-group skew, blocking insights; a rollback's
//! prerequisites are in rollback.rs).

use super::data::cluster::{Cluster, ClusterStatus, VpcConfig};
use super::data::insight::InsightCategory;
use super::data::last_upgrade::LastUpgrade;
use super::data::token::{ClientToken, TokenTable};
use super::data::update::{Effect, NewUpdate, Target, Update, UpdateParam, UpdateParamType, UpdateType, VersionChange};
use super::data::version::cmp_versions;
use super::state::{paginate, Page, State};
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::util::parse_minor;

/// The message EKS gives when upgrade insights find blocking issues.
pub(crate) const INSIGHTS_BLOCKING_MESSAGE: &str = eks_rules::messages::UPGRADE_INSIGHTS_BLOCKING;

/// A cluster as DescribeCluster (and CreateCluster, DeleteCluster) shows it.
#[derive(Debug, Clone)]
pub(crate) struct ClusterOut<'a> {
    pub cluster: &'a Cluster,
    /// The status as seen now (UPDATING during a control-plane update, unless stale).
    pub status: ClusterStatus,
    /// The region (endpoint and OIDC issuer).
    pub region: &'a str,
}

// ---------------------------------------------------------------- requests

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VpcConfigReq {
    subnet_ids: Option<Vec<String>>,
    security_group_ids: Option<Vec<String>>,
    endpoint_public_access: Option<bool>,
    endpoint_private_access: Option<bool>,
    public_access_cidrs: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UpgradePolicyReq {
    support_type: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ComputeConfigReq {
    enabled: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateClusterReq {
    name: Option<String>,
    version: Option<String>,
    role_arn: Option<String>,
    resources_vpc_config: Option<VpcConfigReq>,
    client_request_token: Option<String>,
    tags: Option<BTreeMap<String, String>>,
    upgrade_policy: Option<UpgradePolicyReq>,
    compute_config: Option<ComputeConfigReq>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RollbackConfigReq {
    timeout_minutes: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UpdateClusterVersionReq {
    version: Option<String>,
    client_request_token: Option<String>,
    force: Option<bool>,
    rollback_config: Option<RollbackConfigReq>,
}

// ---------------------------------------------------------------- the cluster

pub(super) fn valid_cluster_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && name.len() <= 100
}

impl Cluster {
    /// The status at `now`: UPDATING while a control-plane update runs on an ACTIVE
    /// cluster, except during the first `stale_ms` (eventual consistency) and the node
    /// phase of an Auto Mode rollback.
    fn status_at(&self, now: f64, stale_ms: u64) -> ClusterStatus {
        match self.in_progress_cp_update() {
            Some(u) if self.status == ClusterStatus::Active => {
                // An Auto Mode rollback's node phase leaves the cluster ACTIVE.
                if now < (u.created_at + stale_ms as f64 / 1000.0).max(u.control_plane_at) {
                    ClusterStatus::Active
                } else {
                    ClusterStatus::Updating
                }
            }
            _ => self.status,
        }
    }

    /// Finishes the creations (of the cluster, its node groups and add-ons) due at `now`.
    pub(super) fn settle(&mut self, now: f64) {
        if self.ready_at.is_some_and(|t| t <= now) {
            self.ready_at = None;
            self.status = ClusterStatus::Active;
        }
        for ng in self.nodegroups.values_mut() {
            ng.settle(now);
        }
        for a in self.addons.values_mut() {
            a.settle(now);
        }
    }

    /// Whether a deletion was due at `now`.
    pub(super) fn deleted_by(&self, now: f64) -> bool {
        self.delete_at.is_some_and(|t| t <= now)
    }

    /// Makes pending creations and the deletion due at `now` at the latest.
    pub(super) fn hurry(&mut self, now: f64) {
        self.ready_at = self.ready_at.map(|t| t.min(now));
        self.delete_at = self.delete_at.map(|t| t.min(now));
        for ng in self.nodegroups.values_mut() {
            ng.hurry(now);
        }
        for a in self.addons.values_mut() {
            a.hurry(now);
        }
    }

    pub(super) fn apply_version_change(&mut self, change: VersionChange, at: f64) {
        let previous = self.last_upgrade.take();
        self.last_upgrade = LastUpgrade::after_change(
            previous,
            &change.from_version,
            &change.from_platform,
            &change.version,
            at,
        );
        self.version = change.version;
        self.platform_version = change.platform_version;
    }

    /// The node groups older than the control plane (or with an unreadable version).
    fn nodegroups_behind(&self) -> Vec<&str> {
        self.nodegroups
            .values()
            .filter(|n| {
                cmp_versions(&n.version, &self.version) == Some(std::cmp::Ordering::Less)
                    || parse_minor(&n.version).is_none()
            })
            .map(|n| n.name.as_str())
            .collect()
    }
}

impl State {
    pub(super) fn cluster_out<'a>(&'a self, c: &'a Cluster, now: f64) -> ClusterOut<'a> {
        ClusterOut {
            cluster: c,
            status: c.status_at(now, self.faults.stale_status_ms),
            region: &self.region,
        }
    }

    /// A cluster with the emulator's defaults (ACTIVE, EXTENDED support, two subnets).
    pub(super) fn new_cluster(&self, name: &str, version: &str, platform: Option<String>, now: f64) -> Cluster {
        let uid = uuid::Uuid::new_v4().to_string();
        let short = uid.replace('-', "");
        Cluster {
            name: name.to_string(),
            arn: format!("arn:aws:eks:{}:{}:cluster/{name}", self.region, self.account_id),
            uid,
            created_at: now,
            version: version.to_string(),
            platform_version: platform.unwrap_or_else(|| self.platform_for(version)),
            status: ClusterStatus::Active,
            ready_at: None,
            delete_at: None,
            role_arn: format!("arn:aws:iam::{}:role/eks-cluster-role", self.account_id),
            tags: BTreeMap::new(),
            support_type: "EXTENDED".into(),
            vpc: VpcConfig {
                subnet_ids: vec![format!("subnet-{}", &short[..17]), format!("subnet-{}", &short[15..32])],
                security_group_ids: vec![],
                endpoint_public_access: true,
                endpoint_private_access: false,
                public_access_cidrs: vec!["0.0.0.0/0".into()],
            },
            client_request_token: None,
            nodegroups: BTreeMap::new(),
            addons: BTreeMap::new(),
            insights: Vec::new(),
            updates: Vec::new(),
            tokens: TokenTable::default(),
            last_upgrade: None,
            health: Vec::new(),
            auto_mode: false,
        }
    }

    // ------------------------------------------------------------ operations

    pub(crate) fn create_cluster(
        &mut self,
        req: CreateClusterReq,
        raw: &Value,
        now: f64,
    ) -> Result<ClusterOut<'_>, ApiError> {
        let name = req
            .name
            .clone()
            .ok_or_else(|| ApiError::invalid_parameter("The request must contain the parameter name."))?;
        if !valid_cluster_name(&name) {
            return Err(ApiError::invalid_parameter(format!(
                "The cluster name {name} is not valid: it must start with an alphanumeric character and contain only alphanumeric characters, hyphens and underscores (1 to 100)."
            ))
            .cluster(&name));
        }
        let mut fp = raw.clone();
        if let Some(o) = fp.as_object_mut() {
            o.remove("clientRequestToken");
        }
        let t = ClientToken::new(
            "CreateCluster",
            req.client_request_token.as_deref(),
            format!("CreateCluster {fp}"),
        );
        t.check_length()?;
        if let Some(hit) = self.create_tokens.check(&t, &name)? {
            if let Some(existing) = hit.produced.filter(|n| self.clusters.contains_key(n)) {
                let c = self.cluster(&existing)?;
                return Ok(self.cluster_out(c, now));
            }
        }
        if self.clusters.contains_key(&name) {
            return Err(ApiError::in_use(format!("Cluster already exists with name: {name}")).cluster(&name));
        }
        let c = self.cluster_from_request(&name, &req, now)?;
        self.create_tokens.remember(&t, Some(name.clone()));
        self.clusters.insert(name.clone(), c);
        let c = self.cluster(&name)?;
        Ok(self.cluster_out(c, now))
    }

    /// The CREATING cluster a valid CreateCluster request describes.
    fn cluster_from_request(&self, name: &str, req: &CreateClusterReq, now: f64) -> Result<Cluster, ApiError> {
        let role = req.role_arn.clone().ok_or_else(|| {
            ApiError::invalid_parameter("The request must contain the parameter roleArn.").cluster(name)
        })?;
        let vpc = req.resources_vpc_config.as_ref().ok_or_else(|| {
            ApiError::invalid_parameter("The request must contain the parameter resourcesVpcConfig.").cluster(name)
        })?;
        let version = match &req.version {
            Some(v) => v.clone(),
            None => self
                .default_version()
                .ok_or_else(|| ApiError::invalid_parameter("unsupported Kubernetes version"))?,
        };
        if !self.supported(&version) {
            return Err(ApiError::invalid_parameter("unsupported Kubernetes version").cluster(name));
        }
        let mut c = self.new_cluster(name, &version, None, now);
        c.role_arn = role;
        if let Some(ids) = &vpc.subnet_ids {
            c.vpc.subnet_ids = ids.clone();
        }
        if let Some(ids) = &vpc.security_group_ids {
            c.vpc.security_group_ids = ids.clone();
        }
        if let Some(b) = vpc.endpoint_public_access {
            c.vpc.endpoint_public_access = b;
        }
        if let Some(b) = vpc.endpoint_private_access {
            c.vpc.endpoint_private_access = b;
        }
        if let Some(cidrs) = &vpc.public_access_cidrs {
            c.vpc.public_access_cidrs = cidrs.clone();
        }
        if let Some(t) = &req.tags {
            c.tags = t.clone();
        }
        if let Some(st) = req.upgrade_policy.as_ref().and_then(|u| u.support_type.clone()) {
            if st != "STANDARD" && st != "EXTENDED" {
                return Err(ApiError::invalid_parameter(format!("Unsupported supportType {st}")).cluster(name));
            }
            c.support_type = st;
        }
        c.auto_mode = req.compute_config.as_ref().and_then(|cc| cc.enabled).unwrap_or(false);
        c.client_request_token = req.client_request_token.clone();
        c.status = ClusterStatus::Creating;
        c.ready_at = Some(State::after_ms(now, self.durations.create_ms));
        Ok(c)
    }

    pub(crate) fn describe_cluster(&self, name: &str, now: f64) -> Result<ClusterOut<'_>, ApiError> {
        let c = self.cluster(name)?;
        Ok(self.cluster_out(c, now))
    }

    pub(crate) fn list_clusters(&self, max: Option<i64>, next: Option<&str>) -> Result<Page<String>, ApiError> {
        paginate(self.clusters.keys().cloned().collect(), max, next)
    }

    pub(crate) fn delete_cluster(&mut self, name: &str, now: f64) -> Result<ClusterOut<'_>, ApiError> {
        let delete_ms = self.durations.delete_ms;
        let c = self.cluster(name)?;
        if !c.nodegroups.is_empty() {
            return Err(ApiError::in_use("Cluster has nodegroups attached").cluster(name));
        }
        if let Some(u) = c.updates.iter().find(|u| u.in_progress()) {
            return Err(ApiError::in_use(format!(
                "Cannot delete because cluster {name} currently has update {} in progress",
                u.id
            ))
            .cluster(name));
        }
        let c = self.cluster_mut(name)?;
        c.status = ClusterStatus::Deleting;
        c.ready_at = None;
        c.delete_at = Some(State::after_ms(now, delete_ms));
        let c = self.cluster(name)?;
        Ok(self.cluster_out(c, now))
    }

    pub(crate) fn update_cluster_version(
        &mut self,
        name: &str,
        req: UpdateClusterVersionReq,
        now: f64,
    ) -> Result<Update, ApiError> {
        const OP: &str = "UpdateClusterVersion";
        self.cluster(name)?;
        let version = req.version.clone().ok_or_else(|| {
            ApiError::invalid_parameter("The request must contain the parameter version.").cluster(name)
        })?;
        let force = req.force.unwrap_or(false);
        let timeout = req.rollback_config.as_ref().and_then(|r| r.timeout_minutes);
        let fingerprint = json!([OP, version, force, timeout]).to_string();
        let t = ClientToken::new(OP, req.client_request_token.as_deref(), fingerprint);
        if let Some(u) = self.replayed_update(name, &Target::Cluster, &t)? {
            return Ok(u);
        }
        let change = self.plan_version_update(self.cluster(name)?, &version, force, timeout, now)?;
        let kind = if change.rollback {
            UpdateType::VersionRollback
        } else {
            UpdateType::VersionUpdate
        };
        let params = vec![
            UpdateParam::new(UpdateParamType::Version, version),
            UpdateParam::new(UpdateParamType::PlatformVersion, change.platform_version.clone()),
        ];
        let duration_ms = self.durations.cluster_update_ms;
        // An Auto Mode rollback rolls the nodes back first (half the time, cancellable).
        let auto_mode_rollback = change.rollback && self.cluster(name)?.auto_mode;
        let new = NewUpdate {
            target: Target::Cluster,
            kind,
            params,
            duration_ms,
            node_phase_ms: if auto_mode_rollback { duration_ms / 2 } else { 0 },
            effect: Effect::Cluster(change),
        };
        self.start_update(name, &t, new, now)
    }

    /// The rules of UpdateClusterVersion, in EKS's order; the change it would make.
    fn plan_version_update(
        &self,
        c: &Cluster,
        version: &str,
        force: bool,
        timeout: Option<i64>,
        now: f64,
    ) -> Result<VersionChange, ApiError> {
        let name = c.name.as_str();
        if let Some(u) = c.in_progress_cp_update() {
            let message = eks_rules::messages::update_in_progress("VersionUpdate", &format!("cluster {name}"), &u.id);
            return Err(ApiError::in_use(message).cluster(name));
        }
        if c.status != ClusterStatus::Active {
            return Err(ApiError::invalid_request(format!(
                "Cluster {name} is in {} status and cannot be updated.",
                c.status
            ))
            .cluster(name));
        }
        if timeout.is_some_and(|t| !(120..=10080).contains(&t)) {
            return Err(
                ApiError::invalid_parameter("rollbackConfig.timeoutMinutes must be between 120 and 10080.")
                    .cluster(name),
            );
        }
        if !self.supported(version) {
            return Err(ApiError::invalid_parameter("unsupported Kubernetes version").cluster(name));
        }
        let rollback = cmp_versions(version, &c.version) == Some(std::cmp::Ordering::Less);
        let platform_version = if rollback {
            self.plan_cluster_rollback(c, version, force, now)?
        } else {
            self.plan_upgrade(c, version, force)?
        };
        Ok(VersionChange {
            version: version.to_string(),
            platform_version,
            from_version: c.version.clone(),
            from_platform: c.platform_version.clone(),
            rollback,
        })
    }

    /// The rules of an upgrade (or of any other version that is not older): exactly the
    /// next minor, no node group behind, no blocking UPGRADE_READINESS insight unless
    /// forced. Returns the platform version it goes to.
    fn plan_upgrade(&self, c: &Cluster, version: &str, force: bool) -> Result<String, ApiError> {
        let (name, current) = (c.name.as_str(), &c.version);
        let unsupported = || {
            ApiError::invalid_parameter(eks_rules::messages::unsupported_minor_update(current, version)).cluster(name)
        };
        let ask = eks_rules::UpgradeAsk {
            current: parse_minor(current).ok_or_else(unsupported)?,
            requested: parse_minor(version).ok_or_else(unsupported)?,
            nodegroups_behind: c.nodegroups_behind(),
            insights_block: c
                .insights
                .iter()
                .any(|i| i.blocks(InsightCategory::UpgradeReadiness, version)),
            force,
        };
        if let Some(refusal) = eks_rules::refuse_upgrade(&ask) {
            return Err(ApiError::refused(refusal).cluster(name));
        }
        Ok(self.platform_for(version))
    }
}
