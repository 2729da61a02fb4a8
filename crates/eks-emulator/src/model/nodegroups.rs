//! Managed node groups: CreateNodegroup, DescribeNodegroup, ListNodegroups and the rules
//! of UpdateNodegroupVersion (a rollback to the previous minor within 7 days of an
//! in-place upgrade included).

use super::data::cluster::{Cluster, ClusterStatus};
use super::data::last_upgrade::LastUpgrade;
use super::data::nodegroup::{Nodegroup, NodegroupStatus};
use super::data::token::ClientToken;
use super::data::update::{
    Effect, NewUpdate, NodegroupChange, Target, Update, UpdateParam, UpdateParamType, UpdateType,
};
use super::data::version::cmp_versions;
use super::launch_templates::{
    ami_kubernetes_version, LaunchTemplate, LaunchTemplateReq, CUSTOM_AMI, CUSTOM_AMI_CREATE, CUSTOM_AMI_UPDATE,
};
use super::rollback::nodegroup_may_roll_back;
use super::state::{paginate, Page, State};
use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::json;

use crate::error::ApiError;
use crate::seed::ScalingConfig;

/// A node group as DescribeNodegroup (and CreateNodegroup) shows it.
#[derive(Debug, Clone)]
pub(crate) struct NodegroupOut<'a> {
    pub cluster: &'a str,
    pub nodegroup: &'a Nodegroup,
    /// The status as seen now (UPDATING while an update runs on an ACTIVE node group).
    pub status: NodegroupStatus,
}

// ---------------------------------------------------------------- requests

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateNodegroupReq {
    nodegroup_name: Option<String>,
    scaling_config: Option<ScalingReq>,
    disk_size: Option<i64>,
    subnets: Option<Vec<String>>,
    instance_types: Option<Vec<String>>,
    ami_type: Option<String>,
    node_role: Option<String>,
    labels: Option<BTreeMap<String, String>>,
    tags: Option<BTreeMap<String, String>>,
    client_request_token: Option<String>,
    capacity_type: Option<String>,
    version: Option<String>,
    release_version: Option<String>,
    launch_template: Option<LaunchTemplateReq>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ScalingReq {
    min_size: Option<i64>,
    max_size: Option<i64>,
    desired_size: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UpdateNodegroupVersionReq {
    version: Option<String>,
    release_version: Option<String>,
    launch_template: Option<LaunchTemplateReq>,
    force: Option<bool>,
    client_request_token: Option<String>,
}

// ---------------------------------------------------------------- the node group

impl Nodegroup {
    /// Finishes the creation if it is due at `now`.
    pub(super) fn settle(&mut self, now: f64) {
        if self.ready_at.is_some_and(|t| t <= now) {
            self.ready_at = None;
            self.status = NodegroupStatus::Active;
        }
    }

    /// Makes a pending creation due at `now` at the latest.
    pub(super) fn hurry(&mut self, now: f64) {
        self.ready_at = self.ready_at.map(|t| t.min(now));
    }

    pub(super) fn apply(&mut self, change: NodegroupChange, at: f64) {
        let previous = self.last_upgrade.take();
        self.last_upgrade =
            LastUpgrade::after_change(previous, &self.version, &self.release_version, &change.version, at);
        self.version = change.version;
        self.release_version = change.release_version;
        if let (Some(lt), Some(v)) = (self.launch_template.as_mut(), change.launch_template_version) {
            lt.version = v;
        }
        self.modified_at = at;
    }

    /// Whether its AMI is a custom one, named by its launch template.
    pub(super) fn custom_ami(&self) -> bool {
        self.ami_type == CUSTOM_AMI
    }

    /// The `params` of an update making `change`: `Version` and `ReleaseVersion` for an
    /// EKS AMI, then `LaunchTemplateName` and `LaunchTemplateVersion` when the template
    /// version is part of it (a custom AMI's update has only these).
    fn update_params(&self, change: &NodegroupChange) -> Vec<UpdateParam> {
        let mut params = Vec::new();
        let lt = self
            .launch_template
            .as_ref()
            .zip(change.launch_template_version.as_ref());
        if !(self.custom_ami() && lt.is_some()) {
            params.push(UpdateParam::new(UpdateParamType::Version, change.version.clone()));
            params.push(UpdateParam::new(
                UpdateParamType::ReleaseVersion,
                change.release_version.clone(),
            ));
        }
        if let Some((lt, version)) = lt {
            if let Some(name) = &lt.name {
                params.push(UpdateParam::new(UpdateParamType::LaunchTemplateName, name.clone()));
            }
            params.push(UpdateParam::new(
                UpdateParamType::LaunchTemplateVersion,
                version.clone(),
            ));
        }
        params
    }
}

impl Cluster {
    pub(super) fn nodegroup_out<'a>(&'a self, ng: &'a Nodegroup) -> NodegroupOut<'a> {
        let updating = self
            .in_progress_update_of(&Target::Nodegroup(ng.name.clone()))
            .is_some();
        let status = match &ng.status {
            NodegroupStatus::Active if updating => NodegroupStatus::Updating,
            s => s.clone(),
        };
        NodegroupOut {
            cluster: &self.name,
            nodegroup: ng,
            status,
        }
    }
}

/// A node-group version newer than the cluster's, or unreadable, is refused.
fn check_not_newer(version: &str, c: &Cluster, ng_name: &str) -> Result<(), ApiError> {
    match cmp_versions(version, &c.version) {
        Some(Ordering::Greater) => Err(ApiError::invalid_parameter(format!(
            "Nodegroup version {version} cannot be newer than the cluster version {}.",
            c.version
        ))
        .cluster(&c.name)
        .nodegroup(ng_name)),
        None => Err(ApiError::invalid_parameter("unsupported Kubernetes version")
            .cluster(&c.name)
            .nodegroup(ng_name)),
        _ => Ok(()),
    }
}

impl State {
    /// A node group with the emulator's defaults (ACTIVE, t3.medium, 1/3/2 nodes).
    pub(super) fn new_nodegroup(
        &self,
        c: &Cluster,
        name: &str,
        version: &str,
        release_version: Option<String>,
        now: f64,
    ) -> Nodegroup {
        let uid = uuid::Uuid::new_v4().to_string();
        Nodegroup {
            name: name.to_string(),
            arn: format!(
                "arn:aws:eks:{}:{}:nodegroup/{}/{name}/{uid}",
                self.region, self.account_id, c.name
            ),
            version: version.to_string(),
            release_version: release_version.unwrap_or_else(|| self.latest_release(version)),
            created_at: now,
            modified_at: now,
            status: NodegroupStatus::Active,
            ready_at: None,
            instance_types: vec!["t3.medium".into()],
            scaling: ScalingConfig {
                min_size: 1,
                max_size: 3,
                desired_size: 2,
            },
            subnets: c.vpc.subnet_ids.clone(),
            node_role: format!("arn:aws:iam::{}:role/eks-node-role", self.account_id),
            ami_type: "AL2023_x86_64_STANDARD".into(),
            capacity_type: "ON_DEMAND".into(),
            disk_size: 20,
            labels: BTreeMap::new(),
            tags: BTreeMap::new(),
            asg: format!("eks-{name}-{uid}"),
            launch_template: None,
            ami_versions: BTreeMap::new(),
            health: Vec::new(),
            last_upgrade: None,
        }
    }

    // ------------------------------------------------------------ operations

    pub(crate) fn create_nodegroup(
        &mut self,
        name: &str,
        req: CreateNodegroupReq,
        now: f64,
    ) -> Result<NodegroupOut<'_>, ApiError> {
        let c = self.cluster(name)?;
        let ng_name = req.nodegroup_name.clone().ok_or_else(|| {
            ApiError::invalid_parameter("The request must contain the parameter nodegroupName.").cluster(name)
        })?;
        let fingerprint = format!(
            "CreateNodegroup {ng_name} {:?}",
            (
                &req.version,
                &req.release_version,
                &req.subnets,
                &req.node_role,
                &req.instance_types,
                &req.labels,
                &req.tags,
                &req.ami_type,
                &req.launch_template
            )
        );
        let t = ClientToken::new("CreateNodegroup", req.client_request_token.as_deref(), fingerprint);
        t.check_length().map_err(|e| e.cluster(name))?;
        if c.tokens.check(&t, name)?.is_some() && c.nodegroups.contains_key(&ng_name) {
            let c = self.cluster(name)?;
            return Ok(c.nodegroup_out(&c.nodegroups[&ng_name]));
        }
        if c.nodegroups.contains_key(&ng_name) {
            return Err(ApiError::in_use(format!(
                "NodeGroup already exists with name {ng_name} and cluster name {name}"
            ))
            .cluster(name)
            .nodegroup(&ng_name));
        }
        if c.status != ClusterStatus::Active {
            return Err(ApiError::invalid_request(format!("Cluster '{name}' is not in ACTIVE status")).cluster(name));
        }
        let ng = self.nodegroup_from_request(c, &ng_name, &req, now)?;
        let c = self.cluster_mut(name)?;
        c.nodegroups.insert(ng_name.clone(), ng);
        c.tokens.remember(&t, None);
        let c = self.cluster(name)?;
        Ok(c.nodegroup_out(&c.nodegroups[&ng_name]))
    }

    /// The CREATING node group a valid CreateNodegroup request describes.
    fn nodegroup_from_request(
        &self,
        c: &Cluster,
        ng_name: &str,
        req: &CreateNodegroupReq,
        now: f64,
    ) -> Result<Nodegroup, ApiError> {
        let missing = |field: &str| {
            ApiError::invalid_parameter(format!("The request must contain the parameter {field}."))
                .cluster(&c.name)
                .nodegroup(ng_name)
        };
        let subnets = req
            .subnets
            .clone()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing("subnets"))?;
        let role = req.node_role.clone().ok_or_else(|| missing("nodeRole"))?;
        let scoped = |e: ApiError| e.cluster(&c.name).nodegroup(ng_name);
        let custom = req.ami_type.as_deref() == Some(CUSTOM_AMI);
        if custom && (req.version.is_some() || req.release_version.is_some()) {
            return Err(scoped(ApiError::invalid_parameter(CUSTOM_AMI_CREATE)));
        }
        let launch_template = match &req.launch_template {
            Some(r) => Some(LaunchTemplate::from_request(r).map_err(scoped)?),
            None => None,
        };
        let version = req.version.clone().unwrap_or_else(|| c.version.clone());
        check_not_newer(&version, c, ng_name)?;
        let mut ng = self.new_nodegroup(c, ng_name, &version, req.release_version.clone(), now);
        ng.subnets = subnets;
        ng.node_role = role;
        if let Some(t) = &req.instance_types {
            ng.instance_types = t.clone();
        }
        if let Some(s) = &req.scaling_config {
            ng.scaling = ScalingConfig {
                min_size: s.min_size.unwrap_or(1),
                max_size: s.max_size.unwrap_or(2),
                desired_size: s.desired_size.unwrap_or(s.min_size.unwrap_or(1)),
            };
        }
        if let Some(a) = &req.ami_type {
            ng.ami_type = a.clone();
        }
        if let Some(a) = &req.capacity_type {
            ng.capacity_type = a.clone();
        }
        if let Some(d) = req.disk_size {
            ng.disk_size = d;
        }
        if let (true, Some(lt)) = (custom, &launch_template) {
            ng.release_version = lt.ami_id();
        }
        ng.launch_template = launch_template;
        if let Some(l) = &req.labels {
            ng.labels = l.clone();
        }
        if let Some(t) = &req.tags {
            ng.tags = t.clone();
        }
        ng.status = NodegroupStatus::Creating;
        ng.ready_at = Some(State::after_ms(now, self.durations.create_ms));
        Ok(ng)
    }

    pub(crate) fn describe_nodegroup(&self, name: &str, ng: &str) -> Result<NodegroupOut<'_>, ApiError> {
        let c = self.cluster(name)?;
        let n = c.nodegroups.get(ng).ok_or_else(|| ApiError::no_nodegroup(name, ng))?;
        Ok(c.nodegroup_out(n))
    }

    pub(crate) fn list_nodegroups(
        &self,
        name: &str,
        max: Option<i64>,
        next: Option<&str>,
    ) -> Result<Page<String>, ApiError> {
        let c = self.cluster(name)?;
        paginate(c.nodegroups.keys().cloned().collect(), max, next)
    }

    pub(crate) fn update_nodegroup_version(
        &mut self,
        name: &str,
        ng_name: &str,
        req: UpdateNodegroupVersionReq,
        now: f64,
    ) -> Result<Update, ApiError> {
        const OP: &str = "UpdateNodegroupVersion";
        let c = self.cluster(name)?;
        c.nodegroups
            .get(ng_name)
            .ok_or_else(|| ApiError::no_nodegroup(name, ng_name))?;
        let fingerprint = json!([
            OP,
            ng_name,
            req.version,
            req.release_version,
            req.launch_template,
            req.force.unwrap_or(false)
        ])
        .to_string();
        let t = ClientToken::new(OP, req.client_request_token.as_deref(), fingerprint);
        let target = Target::Nodegroup(ng_name.to_string());
        if let Some(u) = self.replayed_update(name, &target, &t)? {
            return Ok(u);
        }
        let c = self.cluster(name)?;
        let change = self.plan_nodegroup_update(c, ng_name, &req, now)?;
        let params = c.nodegroups[ng_name].update_params(&change);
        let new = NewUpdate {
            target,
            kind: UpdateType::VersionUpdate,
            params,
            duration_ms: self.durations.nodegroup_update_ms,
            node_phase_ms: 0,
            effect: Effect::Nodegroup(change),
        };
        self.start_update(name, &t, new, now)
    }

    /// The rules of UpdateNodegroupVersion, in EKS's order; the change it would make
    /// (no version: the cluster's, with the latest release version; a custom AMI: the
    /// version of the launch-template version's AMI). A downgrade is refused unless it
    /// rolls back the node group's last in-place upgrade (one minor, within 7 days).
    fn plan_nodegroup_update(
        &self,
        c: &Cluster,
        ng_name: &str,
        req: &UpdateNodegroupVersionReq,
        now: f64,
    ) -> Result<NodegroupChange, ApiError> {
        let ng = &c.nodegroups[ng_name];
        let scoped = |e: ApiError| e.cluster(&c.name).nodegroup(ng_name);
        check_updatable(c, ng).map_err(scoped)?;
        if ng.custom_ami() && (req.version.is_some() || req.release_version.is_some()) {
            return Err(scoped(ApiError::invalid_parameter(CUSTOM_AMI_UPDATE)));
        }
        let lt_version = match &req.launch_template {
            Some(r) => Some(LaunchTemplate::requested_version(ng.launch_template.as_ref(), r).map_err(scoped)?),
            None => None,
        };
        if ng.custom_ami() {
            return plan_custom_ami(c, ng, lt_version);
        }
        let version = req.version.clone().unwrap_or_else(|| c.version.clone());
        check_not_newer(&version, c, ng_name)?;
        if cmp_versions(&version, &ng.version) == Some(Ordering::Less) && !nodegroup_may_roll_back(ng, &version, now) {
            return Err(scoped(ApiError::invalid_parameter(format!(
                "Nodegroup {ng_name} cannot be downgraded from version {} to {version}.",
                ng.version
            ))));
        }
        let release_version = match &req.release_version {
            Some(r) if !r.starts_with(&format!("{version}.")) => {
                return Err(scoped(ApiError::invalid_parameter(format!(
                    "Requested release version {r} is not valid for kubernetes version {version}."
                ))))
            }
            Some(r) => r.clone(),
            None => self.latest_release(&version),
        };
        Ok(NodegroupChange {
            version,
            release_version,
            launch_template_version: lt_version,
        })
    }
}

/// An update in progress answers ResourceInUseException; a DEGRADED or CREATE_FAILED node
/// group InvalidRequestException; any other status but ACTIVE ResourceInUseException.
fn check_updatable(c: &Cluster, ng: &Nodegroup) -> Result<(), ApiError> {
    if let Some(u) = c.in_progress_update_of(&Target::Nodegroup(ng.name.clone())) {
        return Err(ApiError::in_use(format!(
            "Cannot VersionUpdate because nodegroup {} currently has update {} in progress",
            ng.name, u.id
        )));
    }
    match &ng.status {
        NodegroupStatus::Active => Ok(()),
        NodegroupStatus::Degraded | NodegroupStatus::CreateFailed => Err(ApiError::invalid_request(format!(
            "Nodegroup {} is in {} state. Update is invalid given the state of the cluster.",
            ng.name, ng.status
        ))),
        s => Err(ApiError::in_use(format!(
            "Nodegroup {} is currently in {s} status",
            ng.name
        ))),
    }
}

/// A custom AMI's update: to launch-template version `lt_version` (default: the current
/// one, a node refresh), whose AMI has the seeded Kubernetes version (default: the
/// cluster's for another template version) and shows its AMI id as release version.
fn plan_custom_ami(c: &Cluster, ng: &Nodegroup, lt_version: Option<String>) -> Result<NodegroupChange, ApiError> {
    let Some(lt) = &ng.launch_template else {
        return Ok(NodegroupChange {
            version: ng.version.clone(),
            release_version: ng.release_version.clone(),
            launch_template_version: None,
        });
    };
    let target = lt_version.unwrap_or_else(|| lt.version.clone());
    let version = ami_kubernetes_version(&ng.ami_versions, &target, lt, &ng.version, &c.version);
    check_not_newer(&version, c, &ng.name)?;
    let release_version = if target == lt.version {
        ng.release_version.clone()
    } else {
        LaunchTemplate {
            version: target.clone(),
            ..lt.clone()
        }
        .ami_id()
    };
    Ok(NodegroupChange {
        version,
        release_version,
        launch_template_version: Some(target),
    })
}
