//! The emulated EKS: clusters, node groups, add-ons, updates, insights, and the rules
//! of each operation. Everything here runs under one lock and never waits.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::error::ApiError;
use crate::faults::{default_error_message, Durations, Faults, UpdateErrorDetail, UpdateKind};
use crate::seed::{AddonCatalogEntry, ScalingConfig, Seed, SeedError, SeedVersion};
use crate::stats::{ClusterStats, RequestStats, TokenStat};
use crate::util::{self, next_minor, parse_minor, prev_minor, round_ms, stable_id, SplitMix64};

/// The message EKS gives when upgrade insights find blocking issues.
pub(crate) const INSIGHTS_BLOCKING_MESSAGE: &str = "Upgrade readiness issues detected. Call the EKS ListInsights API to view upgrade blocking issues detected by EKS. Pass the force flag to override upgrade readiness errors and proceed with upgrade.";

const AMI_BUILD_DATE: &str = "20261101";
const ROLLBACK_WINDOW_SECS: f64 = 7.0 * 86400.0;
const CA_DATA: &str = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSURCVENDQWUyZ0F3SUJBZ0lJRW11bGF0b3IwREFOQmdrcWhraUc5dzBCQVFzRkFEQVZNUk13RVFZRFZRUUQKRXdwcmRXSmxjbTVsZEdWek1CNFhEVEkyTVRFd01UQXdNREF3TUZvWERUTTJNVEF5T1RBd01EQXdNRm93RlRFVApNQkVHQTFVRUF4TUthM1ZpWlhKdVpYUmxjekFlRncwPQotLS0tLUVORCBDRVJUSUZJQ0FURS0tLS0tCg==";

/// One row of the version table.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VersionInfo {
    pub version: String,
    pub status: String,
    pub default: bool,
    pub platform_version: String,
    pub release_date: Option<f64>,
    pub end_of_standard: Option<f64>,
    pub end_of_extended: Option<f64>,
    pub patch: Option<String>,
}

impl VersionInfo {
    fn from_seed(s: &SeedVersion) -> Result<VersionInfo, SeedError> {
        if parse_minor(&s.version).is_none() {
            return Err(SeedError(format!(
                "kubernetesVersions: {:?} is not a MAJOR.MINOR version",
                s.version
            )));
        }
        let status = s.version_status.clone().unwrap_or_else(|| "STANDARD_SUPPORT".into());
        if !["STANDARD_SUPPORT", "EXTENDED_SUPPORT", "UNSUPPORTED"].contains(&status.as_str()) {
            return Err(SeedError(format!(
                "kubernetesVersions: versionStatus {status:?} is not STANDARD_SUPPORT, EXTENDED_SUPPORT or UNSUPPORTED"
            )));
        }
        let release = s.release_date.as_ref().map(|d| d.resolve()).transpose()?;
        let eoss = match &s.end_of_standard_support_date {
            Some(d) => Some(d.resolve()?),
            None => release.map(|r| util::add_months(r, 14)),
        };
        let eoes = match &s.end_of_extended_support_date {
            Some(d) => Some(d.resolve()?),
            None => release.map(|r| util::add_months(r, 26)),
        };
        Ok(VersionInfo {
            version: s.version.clone(),
            status,
            default: s.default_version,
            platform_version: s.platform_version.clone().unwrap_or_else(|| "eks.1".into()),
            release_date: release,
            end_of_standard: eoss,
            end_of_extended: eoes,
            patch: s.kubernetes_patch_version.clone(),
        })
    }

    fn to_seed(&self) -> SeedVersion {
        use crate::seed::DateValue;
        SeedVersion {
            version: self.version.clone(),
            version_status: Some(self.status.clone()),
            default_version: self.default,
            platform_version: Some(self.platform_version.clone()),
            release_date: self.release_date.map(DateValue::Epoch),
            end_of_standard_support_date: self.end_of_standard.map(DateValue::Epoch),
            end_of_extended_support_date: self.end_of_extended.map(DateValue::Epoch),
            kubernetes_patch_version: self.patch.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Target {
    Cluster,
    Nodegroup(String),
    Addon(String),
}

#[derive(Debug, Clone)]
enum Effect {
    ClusterVersion {
        version: String,
        platform_version: String,
        from_version: String,
        from_platform: String,
        rollback: bool,
    },
    Nodegroup {
        version: String,
        release_version: String,
    },
    Addon {
        version: String,
        configuration_values: Option<String>,
        service_account_role_arn: Option<String>,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Update {
    pub id: String,
    pub target: Target,
    pub kind: &'static str,
    pub status: &'static str,
    params: Vec<(String, String)>,
    pub created_at: f64,
    pub ends_at: f64,
    errors: Vec<UpdateErrorDetail>,
    planned_errors: Option<Vec<UpdateErrorDetail>>,
    effect: Effect,
    cancellation: Option<(String, String)>,
}

impl Update {
    fn view(&self) -> Value {
        let mut v = json!({
            "id": self.id,
            "status": self.status,
            "type": self.kind,
            "params": self.params.iter().map(|(t, v)| json!({"type": t, "value": v})).collect::<Vec<_>>(),
            "createdAt": self.created_at,
            "errors": self.errors.iter().map(|e| json!({
                "errorCode": e.error_code,
                "errorMessage": e.error_message,
                "resourceIds": e.resource_ids,
            })).collect::<Vec<_>>(),
        });
        if let Some((status, reason)) = &self.cancellation {
            v["cancellation"] = json!({"status": status, "reason": reason});
        }
        v
    }

    fn in_progress(&self) -> bool {
        self.status == "InProgress"
    }
}

#[derive(Debug, Clone)]
struct TokenEntry {
    fingerprint: String,
    update_id: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Nodegroup {
    name: String,
    arn: String,
    version: String,
    release_version: String,
    created_at: f64,
    modified_at: f64,
    status: String,
    ready_at: Option<f64>,
    instance_types: Vec<String>,
    scaling: ScalingConfig,
    subnets: Vec<String>,
    node_role: String,
    ami_type: String,
    capacity_type: String,
    disk_size: i64,
    labels: BTreeMap<String, String>,
    tags: BTreeMap<String, String>,
    asg: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Addon {
    name: String,
    arn: String,
    version: String,
    status: String,
    ready_at: Option<f64>,
    created_at: f64,
    modified_at: f64,
    configuration_values: Option<String>,
    service_account_role_arn: Option<String>,
    tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Insight {
    id: String,
    name: String,
    category: String,
    kubernetes_version: String,
    status: String,
    reason: String,
    description: String,
    last_refresh: f64,
    last_transition: f64,
}

impl Insight {
    fn view(&self, now: f64) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "category": self.category,
            "kubernetesVersion": self.kubernetes_version,
            "lastRefreshTime": now.max(self.last_refresh),
            "lastTransitionTime": self.last_transition,
            "description": self.description,
            "insightStatus": {"status": self.status, "reason": self.reason},
        })
    }

    fn blocks(&self, version: &str) -> bool {
        self.category == "UPGRADE_READINESS" && self.status == "ERROR" && self.kubernetes_version == version
    }
}

#[derive(Debug, Clone)]
struct VpcConfig {
    subnet_ids: Vec<String>,
    security_group_ids: Vec<String>,
    endpoint_public_access: bool,
    endpoint_private_access: bool,
    public_access_cidrs: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Cluster {
    name: String,
    arn: String,
    uid: String,
    created_at: f64,
    pub version: String,
    platform_version: String,
    status: String,
    ready_at: Option<f64>,
    delete_at: Option<f64>,
    role_arn: String,
    tags: BTreeMap<String, String>,
    support_type: String,
    vpc: VpcConfig,
    client_request_token: Option<String>,
    nodegroups: BTreeMap<String, Nodegroup>,
    addons: BTreeMap<String, Addon>,
    insights: Vec<Insight>,
    updates: Vec<Update>,
    tokens: HashMap<String, TokenEntry>,
    /// (version before, platform before, when) of the last successful version update.
    last_upgrade: Option<(String, String, f64)>,
}

impl Cluster {
    fn in_progress_cp_update(&self) -> Option<&Update> {
        self.updates
            .iter()
            .find(|u| u.in_progress() && u.target == Target::Cluster)
    }

    fn in_progress_update_of(&self, target: &Target) -> Option<&Update> {
        self.updates.iter().find(|u| u.in_progress() && &u.target == target)
    }

    fn status_at(&self, now: f64, stale_ms: u64) -> String {
        match self.in_progress_cp_update() {
            Some(u) if self.status == "ACTIVE" => {
                if now < u.created_at + stale_ms as f64 / 1000.0 {
                    "ACTIVE".into()
                } else {
                    "UPDATING".into()
                }
            }
            _ => self.status.clone(),
        }
    }
}

/// Everything the emulator knows.
#[derive(Debug)]
pub(crate) struct State {
    pub account_id: String,
    pub region: String,
    pub versions: Vec<VersionInfo>,
    pub catalog: Vec<AddonCatalogEntry>,
    pub clusters: BTreeMap<String, Cluster>,
    create_tokens: HashMap<String, (String, String)>,
    pub faults: Faults,
    pub durations: Durations,
    pub requests: RequestStats,
    pub cluster_stats: BTreeMap<String, ClusterStats>,
    pub rng: SplitMix64,
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
pub(crate) struct CreateClusterReq {
    pub name: Option<String>,
    version: Option<String>,
    role_arn: Option<String>,
    resources_vpc_config: Option<VpcConfigReq>,
    pub client_request_token: Option<String>,
    tags: Option<BTreeMap<String, String>>,
    upgrade_policy: Option<UpgradePolicyReq>,
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
    pub client_request_token: Option<String>,
    force: Option<bool>,
    rollback_config: Option<RollbackConfigReq>,
}

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
    launch_template: Option<Value>,
    force: Option<bool>,
    pub client_request_token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateAddonReq {
    addon_name: Option<String>,
    addon_version: Option<String>,
    service_account_role_arn: Option<String>,
    resolve_conflicts: Option<String>,
    client_request_token: Option<String>,
    tags: Option<BTreeMap<String, String>>,
    configuration_values: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UpdateAddonReq {
    addon_version: Option<String>,
    service_account_role_arn: Option<String>,
    resolve_conflicts: Option<String>,
    pub client_request_token: Option<String>,
    configuration_values: Option<String>,
    pod_identity_associations: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InsightsFilterReq {
    categories: Option<Vec<String>>,
    kubernetes_versions: Option<Vec<String>>,
    statuses: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListInsightsReq {
    filter: Option<InsightsFilterReq>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

/// Query parameters of DescribeAddonVersions.
#[derive(Debug, Default)]
pub(crate) struct AddonVersionsQuery {
    pub kubernetes_version: Option<String>,
    pub addon_name: Option<String>,
    pub types: Vec<String>,
    pub publishers: Vec<String>,
    pub owners: Vec<String>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
}

/// Query parameters of DescribeClusterVersions.
#[derive(Debug, Default)]
pub(crate) struct ClusterVersionsQuery {
    pub cluster_type: Option<String>,
    pub cluster_versions: Vec<String>,
    pub default_only: bool,
    pub include_all: bool,
    pub version_status: Option<String>,
    pub status: Option<String>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
}

// ---------------------------------------------------------------- helpers

/// Splits `items` into one page.
pub(crate) fn paginate<T>(
    items: Vec<T>,
    max_results: Option<i64>,
    next_token: Option<&str>,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let max = match max_results {
        None => 100,
        Some(m) if (1..=100).contains(&m) => m as usize,
        Some(m) => {
            return Err(ApiError::invalid_parameter(format!(
                "maxResults must be between 1 and 100, got {m}"
            )))
        }
    };
    let start = match next_token {
        None | Some("") => 0,
        Some(t) => util::unhex(t)
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.strip_prefix("eksemu:").and_then(|n| n.parse::<usize>().ok()))
            .filter(|n| *n <= items.len())
            .ok_or_else(|| ApiError::invalid_parameter("The nextToken provided is invalid."))?,
    };
    let total = items.len();
    let end = (start + max).min(total);
    let page: Vec<T> = items.into_iter().skip(start).take(end - start).collect();
    let next = (end < total).then(|| util::hex(format!("eksemu:{end}").as_bytes()));
    Ok((page, next))
}

fn check_token_length(token: Option<&str>) -> Result<(), ApiError> {
    if let Some(t) = token {
        let n = t.chars().count();
        if !(33..=126).contains(&n) {
            return Err(ApiError::invalid_parameter(format!(
                "Value '{t}' at 'clientRequestToken' failed to satisfy constraint: Member must have length between 33 and 126"
            )));
        }
    }
    Ok(())
}

fn token_mismatch(token: &str) -> ApiError {
    ApiError::invalid_parameter(format!(
        "Client request token {token} was already used with different request parameters."
    ))
}

fn valid_cluster_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && name.len() <= 100
}

fn cmp_versions(a: &str, b: &str) -> Option<std::cmp::Ordering> {
    Some(parse_minor(a)?.cmp(&parse_minor(b)?))
}

fn status_rank(s: &str) -> u8 {
    match s {
        "ERROR" => 0,
        "WARNING" => 1,
        "UNKNOWN" => 2,
        _ => 3,
    }
}

fn deprecated_status(s: &str) -> &'static str {
    match s {
        "STANDARD_SUPPORT" => "standard-support",
        "EXTENDED_SUPPORT" => "extended-support",
        _ => "unsupported",
    }
}

// ---------------------------------------------------------------- state

/// What a new state is built from.
#[derive(Debug, Clone)]
pub(crate) struct StateInit {
    pub account_id: String,
    pub region: String,
    pub durations: Durations,
    pub faults: Faults,
    pub rng_seed: Option<u64>,
}

impl State {
    pub(crate) fn new(init: &StateInit) -> State {
        let versions = crate::catalog::default_versions()
            .iter()
            .map(|v| VersionInfo::from_seed(v).expect("built-in versions are valid"))
            .collect();
        State {
            account_id: init.account_id.clone(),
            region: init.region.clone(),
            versions,
            catalog: crate::catalog::default_addon_catalog(),
            clusters: BTreeMap::new(),
            create_tokens: HashMap::new(),
            faults: init.faults.clone(),
            durations: init.durations,
            requests: RequestStats::default(),
            cluster_stats: BTreeMap::new(),
            rng: SplitMix64::new(init.rng_seed),
        }
    }

    fn version_info(&self, v: &str) -> Option<&VersionInfo> {
        self.versions.iter().find(|x| x.version == v)
    }

    fn supported(&self, v: &str) -> bool {
        self.version_info(v).is_some_and(|x| x.status != "UNSUPPORTED")
    }

    fn platform_for(&self, v: &str) -> String {
        self.version_info(v)
            .map(|x| x.platform_version.clone())
            .unwrap_or_else(|| "eks.1".into())
    }

    fn latest_release(&self, v: &str) -> String {
        let patch = self
            .version_info(v)
            .and_then(|x| x.patch.clone())
            .unwrap_or_else(|| format!("{v}.0"));
        format!("{patch}-{AMI_BUILD_DATE}")
    }

    fn addon_entry(&self, name: &str) -> Option<&AddonCatalogEntry> {
        self.catalog.iter().find(|a| a.addon_name == name)
    }

    fn addon_compatible(&self, addon: &str, version: &str, k8s: &str) -> bool {
        self.addon_entry(addon).is_some_and(|e| {
            e.versions
                .iter()
                .any(|v| v.addon_version == version && v.cluster_versions.iter().any(|c| c == k8s))
        })
    }

    fn default_addon_version(&self, addon: &str, k8s: &str) -> Option<String> {
        let e = self.addon_entry(addon)?;
        e.versions
            .iter()
            .find(|v| v.default_for.iter().any(|d| d == k8s))
            .or_else(|| {
                e.versions
                    .iter()
                    .filter(|v| v.cluster_versions.iter().any(|c| c == k8s))
                    .max_by(|a, b| version_key(&a.addon_version).cmp(&version_key(&b.addon_version)))
            })
            .map(|v| v.addon_version.clone())
    }

    fn cluster_stats(&mut self, cluster: &str) -> &mut ClusterStats {
        self.cluster_stats.entry(cluster.to_string()).or_default()
    }

    /// Counts an update call and its token (called for every request received).
    pub(crate) fn record_update_call(&mut self, cluster: &str, op: &str, token: Option<&str>) {
        let s = self.cluster_stats(cluster);
        match op {
            "UpdateClusterVersion" => s.update_cluster_version_calls += 1,
            "UpdateNodegroupVersion" => s.update_nodegroup_version_calls += 1,
            "UpdateAddon" => s.update_addon_calls += 1,
            _ => {}
        }
        if let Some(t) = token {
            match s
                .client_request_tokens
                .iter_mut()
                .find(|e| e.token == t && e.operation == op)
            {
                Some(e) => e.calls += 1,
                None => s.client_request_tokens.push(TokenStat {
                    token: t.to_string(),
                    operation: op.to_string(),
                    update_id: None,
                    calls: 1,
                }),
            }
        }
    }

    fn record_token_update(&mut self, cluster: &str, op: &str, token: Option<&str>, id: &str) {
        if let Some(t) = token {
            let s = self.cluster_stats(cluster);
            if let Some(e) = s
                .client_request_tokens
                .iter_mut()
                .find(|e| e.token == t && e.operation == op)
            {
                e.update_id = Some(id.to_string());
            }
        }
    }

    fn cluster(&self, name: &str) -> Result<&Cluster, ApiError> {
        self.clusters.get(name).ok_or_else(|| ApiError::no_cluster(name))
    }

    fn cluster_mut(&mut self, name: &str) -> Result<&mut Cluster, ApiError> {
        self.clusters.get_mut(name).ok_or_else(|| ApiError::no_cluster(name))
    }

    /// The answer to a request whose token was seen before with the same parameters: the update
    /// that request created, as EKS returns it again.
    fn replay_update(&mut self, name: &str, op: &str, token: Option<&str>, hit: TokenEntry) -> Result<Value, ApiError> {
        let id = hit.update_id.unwrap_or_default();
        let view = self
            .update_by_id(name, &id)
            .map(|u| u.view())
            .ok_or_else(|| ApiError::no_update(name, &id))?;
        self.record_token_update(name, op, token, &id);
        Ok(json!({"update": view}))
    }

    /// Keeps a new update's token (with its request's fingerprint) for later replays.
    fn remember_update_token(
        &mut self,
        name: &str,
        op: &str,
        token: Option<&str>,
        fingerprint: String,
        update_id: &str,
    ) -> Result<(), ApiError> {
        if let Some(t) = token {
            self.cluster_mut(name)?.tokens.insert(
                t.to_string(),
                TokenEntry {
                    fingerprint,
                    update_id: Some(update_id.to_owned()),
                },
            );
            self.record_token_update(name, op, token, update_id);
        }
        Ok(())
    }

    /// Looks a token up in the cluster's token table.
    fn idempotent_hit(
        &self,
        cluster: &Cluster,
        token: Option<&str>,
        fingerprint: &str,
    ) -> Result<Option<TokenEntry>, ApiError> {
        let Some(t) = token else { return Ok(None) };
        match cluster.tokens.get(t) {
            None => Ok(None),
            Some(e) if e.fingerprint == fingerprint => Ok(Some(e.clone())),
            Some(_) => Err(token_mismatch(t).cluster(&cluster.name)),
        }
    }

    // ------------------------------------------------------------ time

    /// Applies everything that is due at `now`: creations, deletions, finished updates.
    pub(crate) fn advance(&mut self, now: f64) {
        let mut gone = Vec::new();
        for (name, c) in self.clusters.iter_mut() {
            if c.ready_at.is_some_and(|t| t <= now) {
                c.ready_at = None;
                c.status = "ACTIVE".into();
            }
            for ng in c.nodegroups.values_mut() {
                if ng.ready_at.is_some_and(|t| t <= now) {
                    ng.ready_at = None;
                    ng.status = "ACTIVE".into();
                }
            }
            for a in c.addons.values_mut() {
                if a.ready_at.is_some_and(|t| t <= now) {
                    a.ready_at = None;
                    a.status = "ACTIVE".into();
                }
            }
            if c.delete_at.is_some_and(|t| t <= now) {
                gone.push(name.clone());
            }
        }
        for name in gone {
            self.clusters.remove(&name);
        }
        let mut due: Vec<(f64, String, usize)> = Vec::new();
        for (name, c) in &self.clusters {
            for (i, u) in c.updates.iter().enumerate() {
                if u.in_progress() && u.ends_at <= now {
                    due.push((u.ends_at, name.clone(), i));
                }
            }
        }
        due.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (at, name, i) in due {
            self.complete(&name, i, at);
        }
    }

    fn complete(&mut self, cluster: &str, idx: usize, at: f64) {
        let Some(c) = self.clusters.get_mut(cluster) else {
            return;
        };
        let u = &mut c.updates[idx];
        let target = u.target.clone();
        if let Some(errors) = u.planned_errors.take() {
            u.status = "Failed";
            u.errors = errors;
            if let Target::Addon(a) = &target {
                if let Some(a) = c.addons.get_mut(a) {
                    a.status = "UPDATE_FAILED".into();
                    a.modified_at = at;
                }
            }
            return;
        }
        u.status = "Successful";
        match u.effect.clone() {
            Effect::ClusterVersion {
                version,
                platform_version,
                from_version,
                from_platform,
                rollback,
            } => {
                c.version = version;
                c.platform_version = platform_version;
                c.last_upgrade = if rollback {
                    None
                } else {
                    Some((from_version, from_platform, at))
                };
            }
            Effect::Nodegroup {
                version,
                release_version,
            } => {
                if let Target::Nodegroup(n) = &target {
                    if let Some(ng) = c.nodegroups.get_mut(n) {
                        ng.version = version;
                        ng.release_version = release_version;
                        ng.modified_at = at;
                    }
                }
            }
            Effect::Addon {
                version,
                configuration_values,
                service_account_role_arn,
            } => {
                if let Target::Addon(n) = &target {
                    if let Some(a) = c.addons.get_mut(n) {
                        a.version = version;
                        if configuration_values.is_some() {
                            a.configuration_values = configuration_values;
                        }
                        if service_account_role_arn.is_some() {
                            a.service_account_role_arn = service_account_role_arn;
                        }
                        a.status = "ACTIVE".into();
                        a.modified_at = at;
                    }
                }
            }
        }
    }

    /// Makes every in-progress update (and creation/deletion) due now and applies it.
    /// Returns the ids of the updates that finished.
    pub(crate) fn finish_all(&mut self, cluster: Option<&str>, now: f64) -> Vec<String> {
        let mut ids = Vec::new();
        for (name, c) in self.clusters.iter_mut() {
            if cluster.is_some_and(|n| n != name) {
                continue;
            }
            for u in c.updates.iter_mut().filter(|u| u.in_progress()) {
                u.ends_at = u.ends_at.min(now);
                ids.push(u.id.clone());
            }
            c.ready_at = c.ready_at.map(|t| t.min(now));
            c.delete_at = c.delete_at.map(|t| t.min(now));
            for ng in c.nodegroups.values_mut() {
                ng.ready_at = ng.ready_at.map(|t| t.min(now));
            }
            for a in c.addons.values_mut() {
                a.ready_at = a.ready_at.map(|t| t.min(now));
            }
        }
        self.advance(now);
        ids
    }

    /// Creates an update: consumes a matching fail-next rule and counts the effect.
    #[allow(clippy::too_many_arguments)]
    fn add_update(
        &mut self,
        cluster: &str,
        target: Target,
        kind: &'static str,
        params: Vec<(String, String)>,
        duration_ms: u64,
        effect: Effect,
        now: f64,
    ) -> Update {
        let rule_kind = match &target {
            Target::Cluster => UpdateKind::Cluster,
            Target::Nodegroup(_) => UpdateKind::Nodegroup,
            Target::Addon(_) => UpdateKind::Addon,
        };
        let resource = match &target {
            Target::Cluster => cluster.to_string(),
            Target::Nodegroup(n) | Target::Addon(n) => n.clone(),
        };
        let pos = self.faults.fail_next_updates.iter().position(|r| {
            r.cluster == cluster
                && (r.kind == UpdateKind::Any || r.kind == rule_kind)
                && r.name.as_ref().is_none_or(|n| *n == resource)
        });
        let planned = pos.map(|p| {
            let r = self.faults.fail_next_updates.remove(p);
            let mut errors: Vec<UpdateErrorDetail> = r
                .error_codes
                .iter()
                .map(|code| UpdateErrorDetail {
                    error_code: code.clone(),
                    error_message: r
                        .error_message
                        .clone()
                        .unwrap_or_else(|| default_error_message(code, &resource)),
                    resource_ids: r.resource_ids.clone().unwrap_or_else(|| vec![resource.clone()]),
                })
                .collect();
            errors.extend(r.errors.iter().cloned());
            if errors.is_empty() {
                errors.push(UpdateErrorDetail {
                    error_code: "Unknown".into(),
                    error_message: default_error_message("Unknown", &resource),
                    resource_ids: vec![resource.clone()],
                });
            }
            errors
        });
        let u = Update {
            id: uuid::Uuid::new_v4().to_string(),
            target,
            kind,
            status: "InProgress",
            params,
            created_at: now,
            ends_at: round_ms(now + duration_ms as f64 / 1000.0),
            errors: Vec::new(),
            planned_errors: planned,
            effect,
            cancellation: None,
        };
        let s = self.cluster_stats(cluster);
        s.updates_created += 1;
        match rule_kind {
            UpdateKind::Cluster => s.cluster_version_updates_created += 1,
            UpdateKind::Nodegroup => s.nodegroup_updates_created += 1,
            _ => s.addon_updates_created += 1,
        }
        if let Some(c) = self.clusters.get_mut(cluster) {
            c.updates.push(u.clone());
        }
        u
    }

    fn update_by_id(&self, cluster: &str, id: &str) -> Option<&Update> {
        self.clusters.get(cluster)?.updates.iter().find(|u| u.id == id)
    }

    // ------------------------------------------------------------ views

    fn cluster_view(&self, c: &Cluster, now: f64) -> Value {
        let hexid = c.uid.replace('-', "").to_uppercase();
        let mut v = json!({
            "name": c.name,
            "arn": c.arn,
            "createdAt": c.created_at,
            "version": c.version,
            "endpoint": format!("https://{hexid}.gr7.{}.eks.amazonaws.com", self.region),
            "roleArn": c.role_arn,
            "resourcesVpcConfig": {
                "subnetIds": c.vpc.subnet_ids,
                "securityGroupIds": c.vpc.security_group_ids,
                "clusterSecurityGroupId": format!("sg-{}", &c.uid.replace('-', "")[..17]),
                "vpcId": format!("vpc-{}", &c.uid.replace('-', "")[15..32]),
                "endpointPublicAccess": c.vpc.endpoint_public_access,
                "endpointPrivateAccess": c.vpc.endpoint_private_access,
                "publicAccessCidrs": c.vpc.public_access_cidrs,
            },
            "kubernetesNetworkConfig": {
                "serviceIpv4Cidr": "10.100.0.0/16",
                "ipFamily": "ipv4",
                "elasticLoadBalancing": {"enabled": false},
            },
            "logging": {"clusterLogging": [{
                "types": ["api", "audit", "authenticator", "controllerManager", "scheduler"],
                "enabled": false,
            }]},
            "identity": {"oidc": {"issuer": format!("https://oidc.eks.{}.amazonaws.com/id/{hexid}", self.region)}},
            "status": c.status_at(now, self.faults.stale_status_ms),
            "certificateAuthority": {"data": CA_DATA},
            "platformVersion": c.platform_version,
            "tags": c.tags,
            "health": {"issues": []},
            "accessConfig": {"authenticationMode": "API_AND_CONFIG_MAP"},
            "upgradePolicy": {"supportType": c.support_type},
            "deletionProtection": false,
        });
        if let Some(t) = &c.client_request_token {
            v["clientRequestToken"] = json!(t);
        }
        v
    }

    fn nodegroup_view(&self, c: &Cluster, ng: &Nodegroup) -> Value {
        let updating = c.in_progress_update_of(&Target::Nodegroup(ng.name.clone())).is_some();
        json!({
            "nodegroupName": ng.name,
            "nodegroupArn": ng.arn,
            "clusterName": c.name,
            "version": ng.version,
            "releaseVersion": ng.release_version,
            "createdAt": ng.created_at,
            "modifiedAt": ng.modified_at,
            "status": if updating && ng.status == "ACTIVE" { "UPDATING".to_string() } else { ng.status.clone() },
            "capacityType": ng.capacity_type,
            "scalingConfig": {
                "minSize": ng.scaling.min_size,
                "maxSize": ng.scaling.max_size,
                "desiredSize": ng.scaling.desired_size,
            },
            "instanceTypes": ng.instance_types,
            "subnets": ng.subnets,
            "amiType": ng.ami_type,
            "nodeRole": ng.node_role,
            "labels": ng.labels,
            "resources": {"autoScalingGroups": [{"name": ng.asg}]},
            "diskSize": ng.disk_size,
            "health": {"issues": []},
            "updateConfig": {"maxUnavailable": 1},
            "tags": ng.tags,
        })
    }

    fn addon_view(&self, c: &Cluster, a: &Addon) -> Value {
        let updating = c.in_progress_update_of(&Target::Addon(a.name.clone())).is_some();
        let mut v = json!({
            "addonName": a.name,
            "clusterName": c.name,
            "status": if updating { "UPDATING".to_string() } else { a.status.clone() },
            "addonVersion": a.version,
            "health": {"issues": []},
            "addonArn": a.arn,
            "createdAt": a.created_at,
            "modifiedAt": a.modified_at,
            "tags": a.tags,
        });
        if let Some(cv) = &a.configuration_values {
            v["configurationValues"] = json!(cv);
        }
        if let Some(r) = &a.service_account_role_arn {
            v["serviceAccountRoleArn"] = json!(r);
        }
        v
    }

    // ------------------------------------------------------------ building

    fn new_cluster(&self, name: &str, version: &str, platform: Option<String>, now: f64) -> Cluster {
        let uid = uuid::Uuid::new_v4().to_string();
        let short = uid.replace('-', "");
        Cluster {
            name: name.to_string(),
            arn: format!("arn:aws:eks:{}:{}:cluster/{name}", self.region, self.account_id),
            uid,
            created_at: now,
            version: version.to_string(),
            platform_version: platform.unwrap_or_else(|| self.platform_for(version)),
            status: "ACTIVE".into(),
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
            tokens: HashMap::new(),
            last_upgrade: None,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn new_nodegroup(
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
            status: "ACTIVE".into(),
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
        }
    }

    fn new_addon(&self, c: &Cluster, name: &str, version: &str, now: f64) -> Addon {
        let uid = uuid::Uuid::new_v4().to_string();
        Addon {
            name: name.to_string(),
            arn: format!(
                "arn:aws:eks:{}:{}:addon/{}/{name}/{uid}",
                self.region, self.account_id, c.name
            ),
            version: version.to_string(),
            status: "ACTIVE".into(),
            ready_at: None,
            created_at: now,
            modified_at: now,
            configuration_values: None,
            service_account_role_arn: None,
            tags: BTreeMap::new(),
        }
    }

    // ------------------------------------------------------------ seeding

    /// Applies a seed document; nothing changes if it is invalid.
    pub(crate) fn apply_seed(&mut self, seed: &Seed, now: f64) -> Result<(), SeedError> {
        // Work on a copy of the tables so a bad seed changes nothing.
        let mut scratch = State {
            account_id: seed.account_id.clone().unwrap_or_else(|| self.account_id.clone()),
            region: seed.region.clone().unwrap_or_else(|| self.region.clone()),
            versions: self.versions.clone(),
            catalog: self.catalog.clone(),
            clusters: BTreeMap::new(),
            create_tokens: HashMap::new(),
            faults: Faults::default(),
            durations: self.durations,
            requests: RequestStats::default(),
            cluster_stats: BTreeMap::new(),
            rng: SplitMix64::new(Some(0)),
        };
        if let Some(vs) = &seed.kubernetes_versions {
            scratch.versions = vs.iter().map(VersionInfo::from_seed).collect::<Result<_, _>>()?;
            if scratch.versions.iter().filter(|v| v.default).count() > 1 {
                return Err(SeedError("kubernetesVersions: more than one defaultVersion".into()));
            }
        }
        if let Some(cat) = &seed.addon_catalog {
            for e in cat {
                if e.addon_name.is_empty() || e.versions.is_empty() {
                    return Err(SeedError(format!(
                        "addonCatalog: {:?} needs a name and at least one version",
                        e.addon_name
                    )));
                }
            }
            scratch.catalog = cat.clone();
        }
        let mut clusters = Vec::new();
        for sc in &seed.clusters {
            if !valid_cluster_name(&sc.name) {
                return Err(SeedError(format!("cluster name {:?} is not valid", sc.name)));
            }
            if parse_minor(&sc.version).is_none() {
                return Err(SeedError(format!(
                    "cluster {}: version {:?} is not MAJOR.MINOR",
                    sc.name, sc.version
                )));
            }
            let created = match &sc.created_at {
                Some(d) => d.resolve()?,
                None => now,
            };
            let mut c = scratch.new_cluster(&sc.name, &sc.version, sc.platform_version.clone(), created);
            c.status = sc.status.clone().unwrap_or_else(|| "ACTIVE".into());
            if !["ACTIVE", "CREATING", "FAILED", "PENDING"].contains(&c.status.as_str()) {
                return Err(SeedError(format!(
                    "cluster {}: status {:?} cannot be seeded (ACTIVE, CREATING, FAILED, PENDING)",
                    sc.name, c.status
                )));
            }
            if c.status == "CREATING" {
                c.ready_at = Some(now + self.durations.create_ms as f64 / 1000.0);
            }
            c.tags = sc.tags.clone();
            if let Some(r) = &sc.role_arn {
                c.role_arn = r.clone();
            }
            if let Some(s) = &sc.support_type {
                c.support_type = s.clone();
            }
            for sn in &sc.nodegroups {
                let v = sn.version.clone().unwrap_or_else(|| sc.version.clone());
                if cmp_versions(&v, &sc.version) != Some(std::cmp::Ordering::Less)
                    && cmp_versions(&v, &sc.version) != Some(std::cmp::Ordering::Equal)
                {
                    return Err(SeedError(format!(
                        "cluster {}: node group {} version {v:?} must be MAJOR.MINOR and not newer than the cluster",
                        sc.name, sn.name
                    )));
                }
                let mut ng = scratch.new_nodegroup(&c, &sn.name, &v, sn.release_version.clone(), created);
                if let Some(s) = &sn.status {
                    ng.status = s.clone();
                }
                if !sn.instance_types.is_empty() {
                    ng.instance_types = sn.instance_types.clone();
                }
                if let Some(s) = sn.scaling_config {
                    ng.scaling = s;
                }
                if let Some(a) = &sn.ami_type {
                    ng.ami_type = a.clone();
                }
                if let Some(a) = &sn.capacity_type {
                    ng.capacity_type = a.clone();
                }
                ng.labels = sn.labels.clone();
                ng.tags = sn.tags.clone();
                c.nodegroups.insert(sn.name.clone(), ng);
            }
            for sa in &sc.addons {
                let v = match &sa.version {
                    Some(v) => v.clone(),
                    None => scratch.default_addon_version(&sa.name, &sc.version).ok_or_else(|| {
                        SeedError(format!(
                            "cluster {}: add-on {} has no version and the catalogue has none for {}",
                            sc.name, sa.name, sc.version
                        ))
                    })?,
                };
                let mut a = scratch.new_addon(&c, &sa.name, &v, created);
                if let Some(s) = &sa.status {
                    a.status = s.clone();
                }
                a.configuration_values = sa.configuration_values.clone();
                a.service_account_role_arn = sa.service_account_role_arn.clone();
                a.tags = sa.tags.clone();
                c.addons.insert(sa.name.clone(), a);
            }
            for si in &sc.insights {
                let category = si.category.clone().unwrap_or_else(|| "UPGRADE_READINESS".into());
                if !["UPGRADE_READINESS", "MISCONFIGURATION", "ROLLBACK_READINESS"].contains(&category.as_str()) {
                    return Err(SeedError(format!(
                        "insight {:?}: unknown category {category:?}",
                        si.name
                    )));
                }
                if !["PASSING", "WARNING", "ERROR", "UNKNOWN"].contains(&si.status.as_str()) {
                    return Err(SeedError(format!(
                        "insight {:?}: unknown status {:?}",
                        si.name, si.status
                    )));
                }
                let kv = si
                    .kubernetes_version
                    .clone()
                    .or_else(|| next_minor(&sc.version))
                    .unwrap_or_default();
                c.insights.push(Insight {
                    id: si
                        .id
                        .clone()
                        .unwrap_or_else(|| stable_id(&format!("{}/{}/{}", sc.name, si.name, kv))),
                    name: si.name.clone(),
                    category,
                    kubernetes_version: kv,
                    status: si.status.clone(),
                    reason: si.reason.clone().unwrap_or_default(),
                    description: si.description.clone().unwrap_or_else(|| si.name.clone()),
                    last_refresh: created,
                    last_transition: created,
                });
            }
            clusters.push(c);
        }
        self.account_id = scratch.account_id;
        self.region = scratch.region;
        self.versions = scratch.versions;
        self.catalog = scratch.catalog;
        for c in clusters {
            self.clusters.insert(c.name.clone(), c);
        }
        Ok(())
    }

    /// Sets (or clears) a blocking upgrade insight on a cluster.
    pub(crate) fn set_blocking_insight(
        &mut self,
        cluster: &str,
        version: Option<&str>,
        blocking: bool,
        now: f64,
    ) -> Result<String, String> {
        let c = self
            .clusters
            .get_mut(cluster)
            .ok_or_else(|| format!("No cluster found for name: {cluster}."))?;
        let v = match version {
            Some(v) => v.to_string(),
            None => next_minor(&c.version).ok_or("cluster version is not MAJOR.MINOR")?,
        };
        let name = format!("Deprecated APIs removed in Kubernetes v{v}");
        if blocking {
            let reason = "Deprecated API usage detected within the last 30 days and the cluster is on a version before the API is removed (injected by eks-emulator).".to_string();
            match c.insights.iter_mut().find(|i| i.name == name && i.kubernetes_version == v) {
                Some(i) => {
                    i.status = "ERROR".into();
                    i.category = "UPGRADE_READINESS".into();
                    i.reason = reason;
                    i.last_transition = now;
                }
                None => c.insights.push(Insight {
                    id: stable_id(&format!("{cluster}/{name}/{v}")),
                    name: name.clone(),
                    category: "UPGRADE_READINESS".into(),
                    kubernetes_version: v.clone(),
                    status: "ERROR".into(),
                    reason,
                    description: format!("Checks for usage of deprecated APIs that are scheduled for removal in Kubernetes v{v}. Upgrading your cluster before migrating to the updated APIs supported by v{v} could cause application impact."),
                    last_refresh: now,
                    last_transition: now,
                }),
            }
        } else {
            for i in c.insights.iter_mut().filter(|i| i.blocks(&v)) {
                i.status = "PASSING".into();
                i.reason = "No deprecated API usage detected within the last 30 days.".into();
                i.last_transition = now;
            }
        }
        Ok(v)
    }

    /// The whole state for `GET /_emulator/state`.
    pub(crate) fn dump(&self, now: f64) -> Value {
        let clusters: Vec<Value> = self
            .clusters
            .values()
            .map(|c| {
                let mut v = self.cluster_view(c, now);
                v["nodegroups"] = c.nodegroups.values().map(|n| self.nodegroup_view(c, n)).collect();
                v["addons"] = c.addons.values().map(|a| self.addon_view(c, a)).collect();
                v["updates"] = c
                    .updates
                    .iter()
                    .map(|u| {
                        let mut uv = u.view();
                        uv["target"] = match &u.target {
                            Target::Cluster => json!({"cluster": c.name}),
                            Target::Nodegroup(n) => json!({"nodegroup": n}),
                            Target::Addon(a) => json!({"addon": a}),
                        };
                        uv["endsAt"] = json!(u.ends_at);
                        uv
                    })
                    .collect();
                v["insights"] = self.insights_of(c, now).iter().map(|i| i.view(now)).collect();
                v
            })
            .collect();
        json!({
            "accountId": self.account_id,
            "region": self.region,
            "now": now,
            "clusters": clusters,
            "kubernetesVersions": self.versions.iter().map(|v| v.to_seed()).collect::<Vec<_>>(),
            "addonCatalog": self.catalog,
            "faults": self.faults,
            "durations": self.durations,
        })
    }

    // ------------------------------------------------------------ clusters

    pub(crate) fn create_cluster(&mut self, req: CreateClusterReq, raw: &Value, now: f64) -> Result<Value, ApiError> {
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
        let token = req.client_request_token.as_deref();
        check_token_length(token)?;
        let mut fp = raw.clone();
        if let Some(o) = fp.as_object_mut() {
            o.remove("clientRequestToken");
        }
        let fingerprint = format!("CreateCluster {fp}");
        if let Some(t) = token {
            if let Some((f, cname)) = self.create_tokens.get(t) {
                if *f != fingerprint {
                    return Err(token_mismatch(t).cluster(&name));
                }
                if let Some(c) = self.clusters.get(cname) {
                    return Ok(json!({"cluster": self.cluster_view(c, now)}));
                }
            }
        }
        if self.clusters.contains_key(&name) {
            return Err(ApiError::in_use(format!("Cluster already exists with name: {name}")).cluster(&name));
        }
        let role = req.role_arn.clone().ok_or_else(|| {
            ApiError::invalid_parameter("The request must contain the parameter roleArn.").cluster(&name)
        })?;
        let vpc = req.resources_vpc_config.as_ref().ok_or_else(|| {
            ApiError::invalid_parameter("The request must contain the parameter resourcesVpcConfig.").cluster(&name)
        })?;
        let version = match &req.version {
            Some(v) => v.clone(),
            None => self
                .versions
                .iter()
                .find(|v| v.default)
                .or_else(|| self.versions.iter().rev().find(|v| v.status != "UNSUPPORTED"))
                .map(|v| v.version.clone())
                .ok_or_else(|| ApiError::invalid_parameter("unsupported Kubernetes version"))?,
        };
        if !self.supported(&version) {
            return Err(ApiError::invalid_parameter("unsupported Kubernetes version").cluster(&name));
        }
        let mut c = self.new_cluster(&name, &version, None, now);
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
                return Err(ApiError::invalid_parameter(format!("Unsupported supportType {st}")).cluster(&name));
            }
            c.support_type = st;
        }
        c.client_request_token = token.map(str::to_string);
        c.status = "CREATING".into();
        c.ready_at = Some(now + self.durations.create_ms as f64 / 1000.0);
        let view = self.cluster_view(&c, now);
        if let Some(t) = token {
            self.create_tokens.insert(t.to_string(), (fingerprint, name.clone()));
        }
        self.clusters.insert(name, c);
        Ok(json!({"cluster": view}))
    }

    pub(crate) fn describe_cluster(&self, name: &str, now: f64) -> Result<Value, ApiError> {
        let c = self.cluster(name)?;
        Ok(json!({"cluster": self.cluster_view(c, now)}))
    }

    pub(crate) fn list_clusters(&self, max: Option<i64>, next: Option<&str>) -> Result<Value, ApiError> {
        let names: Vec<String> = self.clusters.keys().cloned().collect();
        let (page, next) = paginate(names, max, next)?;
        Ok(page_json("clusters", page, next))
    }

    pub(crate) fn delete_cluster(&mut self, name: &str, now: f64) -> Result<Value, ApiError> {
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
        c.status = "DELETING".into();
        c.ready_at = None;
        c.delete_at = Some(now + delete_ms as f64 / 1000.0);
        let c = self.cluster(name)?;
        Ok(json!({"cluster": self.cluster_view(c, now)}))
    }

    // ------------------------------------------------------------ updates

    pub(crate) fn update_cluster_version(
        &mut self,
        name: &str,
        req: UpdateClusterVersionReq,
        now: f64,
    ) -> Result<Value, ApiError> {
        let op = "UpdateClusterVersion";
        let token = req.client_request_token.as_deref();
        let c = self.cluster(name)?;
        let version = req.version.clone().ok_or_else(|| {
            ApiError::invalid_parameter("The request must contain the parameter version.").cluster(name)
        })?;
        check_token_length(token).map_err(|e| e.cluster(name))?;
        let force = req.force.unwrap_or(false);
        let timeout = req.rollback_config.as_ref().and_then(|r| r.timeout_minutes);
        let fingerprint = json!([op, version, force, timeout]).to_string();
        if let Some(hit) = self.idempotent_hit(c, token, &fingerprint)? {
            return self.replay_update(name, op, token, hit);
        }
        if let Some(u) = c.in_progress_cp_update() {
            return Err(ApiError::in_use(format!(
                "Cannot VersionUpdate because cluster {name} currently has update {} in progress",
                u.id
            ))
            .cluster(name));
        }
        if c.status != "ACTIVE" {
            return Err(ApiError::invalid_request(format!(
                "Cluster {name} is in {} status and cannot be updated.",
                c.status
            ))
            .cluster(name));
        }
        if let Some(t) = timeout {
            if !(120..=10080).contains(&t) {
                return Err(ApiError::invalid_parameter(
                    "rollbackConfig.timeoutMinutes must be between 120 and 10080.",
                )
                .cluster(name));
            }
        }
        if !self.supported(&version) {
            return Err(ApiError::invalid_parameter("unsupported Kubernetes version").cluster(name));
        }
        let current = c.version.clone();
        let rollback = match &c.last_upgrade {
            Some((from, _, at)) => {
                prev_minor(&current).as_deref() == Some(version.as_str())
                    && *from == version
                    && now - at <= ROLLBACK_WINDOW_SECS
            }
            None => false,
        };
        if !rollback && next_minor(&current).as_deref() != Some(version.as_str()) {
            return Err(ApiError::invalid_parameter(format!(
                "Unsupported Kubernetes minor version update from {current} to {version}"
            ))
            .cluster(name));
        }
        if !rollback {
            let behind: Vec<&str> = c
                .nodegroups
                .values()
                .filter(|n| {
                    cmp_versions(&n.version, &current) == Some(std::cmp::Ordering::Less)
                        || parse_minor(&n.version).is_none()
                })
                .map(|n| n.name.as_str())
                .collect();
            if !behind.is_empty() {
                return Err(ApiError::invalid_parameter(format!(
                    "Nodegroups {} must be updated to match cluster version {current} before updating cluster version.",
                    behind.join(", ")
                ))
                .cluster(name));
            }
        }
        if !force && c.insights.iter().any(|i| i.blocks(&version)) {
            return Err(ApiError::invalid_state(INSIGHTS_BLOCKING_MESSAGE).cluster(name));
        }
        let (kind, platform) = if rollback {
            let p = c.last_upgrade.as_ref().map(|l| l.1.clone()).unwrap_or_default();
            ("VersionRollback", p)
        } else {
            ("VersionUpdate", self.platform_for(&version))
        };
        let effect = Effect::ClusterVersion {
            version: version.clone(),
            platform_version: platform.clone(),
            from_version: current,
            from_platform: c.platform_version.clone(),
            rollback,
        };
        let params = vec![
            ("Version".to_string(), version),
            ("PlatformVersion".to_string(), platform),
        ];
        let duration = self.durations.cluster_update_ms;
        let u = self.add_update(name, Target::Cluster, kind, params, duration, effect, now);
        self.remember_update_token(name, op, token, fingerprint, &u.id)?;
        Ok(json!({"update": u.view()}))
    }

    pub(crate) fn describe_update(
        &self,
        name: &str,
        id: &str,
        nodegroup: Option<&str>,
        addon: Option<&str>,
    ) -> Result<Value, ApiError> {
        let c = self.cluster(name)?;
        let u = c.updates.iter().find(|u| u.id == id).filter(|u| match &u.target {
            Target::Cluster => nodegroup.is_none() && addon.is_none(),
            Target::Nodegroup(n) => nodegroup == Some(n.as_str()),
            Target::Addon(a) => addon == Some(a.as_str()),
        });
        match u {
            Some(u) => Ok(json!({"update": u.view()})),
            None => {
                let mut e = ApiError::no_update(name, id);
                if let Some(n) = nodegroup {
                    e = e.nodegroup(n);
                }
                if let Some(a) = addon {
                    e = e.addon(a);
                }
                Err(e)
            }
        }
    }

    pub(crate) fn list_updates(
        &self,
        name: &str,
        nodegroup: Option<&str>,
        addon: Option<&str>,
        max: Option<i64>,
        next: Option<&str>,
    ) -> Result<Value, ApiError> {
        let c = self.cluster(name)?;
        let target = match (nodegroup, addon) {
            (Some(n), _) => {
                if !c.nodegroups.contains_key(n) {
                    return Err(ApiError::no_nodegroup(name, n));
                }
                Target::Nodegroup(n.to_string())
            }
            (None, Some(a)) => {
                if !c.addons.contains_key(a) {
                    return Err(ApiError::no_addon(name, a));
                }
                Target::Addon(a.to_string())
            }
            (None, None) => Target::Cluster,
        };
        let ids: Vec<String> = c
            .updates
            .iter()
            .filter(|u| u.target == target)
            .map(|u| u.id.clone())
            .collect();
        let (page, next) = paginate(ids, max, next)?;
        Ok(page_json("updateIds", page, next))
    }

    pub(crate) fn cancel_update(&mut self, name: &str, id: &str, now: f64) -> Result<Value, ApiError> {
        let c = self.cluster_mut(name)?;
        let u = c
            .updates
            .iter_mut()
            .find(|u| u.id == id)
            .ok_or_else(|| ApiError::no_update(name, id))?;
        if !u.in_progress() {
            return Err(ApiError::invalid_request(format!(
                "Update {id} cannot be cancelled because its status is {}.",
                u.status
            ))
            .cluster(name));
        }
        if u.kind != "VersionRollback" {
            return Err(ApiError::invalid_request(format!(
                "Cancellation is not supported for update type {}.",
                u.kind
            ))
            .cluster(name));
        }
        u.status = "Cancelled";
        u.ends_at = now;
        u.cancellation = Some(("Successful".into(), "Cancelled by request.".into()));
        Ok(json!({"update": u.view()}))
    }

    // ------------------------------------------------------------ node groups

    pub(crate) fn create_nodegroup(
        &mut self,
        name: &str,
        req: CreateNodegroupReq,
        now: f64,
    ) -> Result<Value, ApiError> {
        let c = self.cluster(name)?;
        let ng_name = req.nodegroup_name.clone().ok_or_else(|| {
            ApiError::invalid_parameter("The request must contain the parameter nodegroupName.").cluster(name)
        })?;
        let token = req.client_request_token.as_deref();
        check_token_length(token).map_err(|e| e.cluster(name))?;
        let fingerprint = format!(
            "CreateNodegroup {ng_name} {:?}",
            (
                &req.version,
                &req.release_version,
                &req.subnets,
                &req.node_role,
                &req.instance_types,
                &req.labels,
                &req.tags
            )
        );
        if self.idempotent_hit(c, token, &fingerprint)?.is_some() {
            if let Some(ng) = c.nodegroups.get(&ng_name) {
                return Ok(json!({"nodegroup": self.nodegroup_view(c, ng)}));
            }
        }
        if c.nodegroups.contains_key(&ng_name) {
            return Err(ApiError::in_use(format!(
                "NodeGroup already exists with name {ng_name} and cluster name {name}"
            ))
            .cluster(name)
            .nodegroup(&ng_name));
        }
        if c.status != "ACTIVE" {
            return Err(ApiError::invalid_request(format!("Cluster '{name}' is not in ACTIVE status")).cluster(name));
        }
        let subnets = req.subnets.clone().filter(|s| !s.is_empty()).ok_or_else(|| {
            ApiError::invalid_parameter("The request must contain the parameter subnets.")
                .cluster(name)
                .nodegroup(&ng_name)
        })?;
        let role = req.node_role.clone().ok_or_else(|| {
            ApiError::invalid_parameter("The request must contain the parameter nodeRole.")
                .cluster(name)
                .nodegroup(&ng_name)
        })?;
        let version = req.version.clone().unwrap_or_else(|| c.version.clone());
        match cmp_versions(&version, &c.version) {
            Some(std::cmp::Ordering::Greater) => {
                return Err(ApiError::invalid_parameter(format!(
                    "Nodegroup version {version} cannot be newer than the cluster version {}.",
                    c.version
                ))
                .cluster(name)
                .nodegroup(&ng_name))
            }
            None => {
                return Err(ApiError::invalid_parameter("unsupported Kubernetes version")
                    .cluster(name)
                    .nodegroup(&ng_name))
            }
            _ => {}
        }
        let mut ng = self.new_nodegroup(c, &ng_name, &version, req.release_version.clone(), now);
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
        if let Some(l) = &req.labels {
            ng.labels = l.clone();
        }
        if let Some(t) = &req.tags {
            ng.tags = t.clone();
        }
        ng.status = "CREATING".into();
        ng.ready_at = Some(now + self.durations.create_ms as f64 / 1000.0);
        let view = self.nodegroup_view(c, &ng);
        let c = self.cluster_mut(name)?;
        c.nodegroups.insert(ng_name, ng);
        if let Some(t) = token {
            c.tokens.insert(
                t.to_string(),
                TokenEntry {
                    fingerprint,
                    update_id: None,
                },
            );
        }
        Ok(json!({"nodegroup": view}))
    }

    pub(crate) fn describe_nodegroup(&self, name: &str, ng: &str) -> Result<Value, ApiError> {
        let c = self.cluster(name)?;
        let n = c.nodegroups.get(ng).ok_or_else(|| ApiError::no_nodegroup(name, ng))?;
        Ok(json!({"nodegroup": self.nodegroup_view(c, n)}))
    }

    pub(crate) fn list_nodegroups(&self, name: &str, max: Option<i64>, next: Option<&str>) -> Result<Value, ApiError> {
        let c = self.cluster(name)?;
        let (page, next) = paginate(c.nodegroups.keys().cloned().collect(), max, next)?;
        Ok(page_json("nodegroups", page, next))
    }

    pub(crate) fn update_nodegroup_version(
        &mut self,
        name: &str,
        ng_name: &str,
        req: UpdateNodegroupVersionReq,
        now: f64,
    ) -> Result<Value, ApiError> {
        let op = "UpdateNodegroupVersion";
        let c = self.cluster(name)?;
        let ng = c
            .nodegroups
            .get(ng_name)
            .ok_or_else(|| ApiError::no_nodegroup(name, ng_name))?;
        let token = req.client_request_token.as_deref();
        check_token_length(token).map_err(|e| e.cluster(name).nodegroup(ng_name))?;
        let fingerprint = json!([
            op,
            ng_name,
            req.version,
            req.release_version,
            req.launch_template,
            req.force.unwrap_or(false)
        ])
        .to_string();
        if let Some(hit) = self
            .idempotent_hit(c, token, &fingerprint)
            .map_err(|e| e.nodegroup(ng_name))?
        {
            return self.replay_update(name, op, token, hit);
        }
        let target = Target::Nodegroup(ng_name.to_string());
        if let Some(u) = c.in_progress_update_of(&target) {
            return Err(ApiError::in_use(format!(
                "Cannot VersionUpdate because nodegroup {ng_name} currently has update {} in progress",
                u.id
            ))
            .cluster(name)
            .nodegroup(ng_name));
        }
        if ng.status != "ACTIVE" && ng.status != "DEGRADED" {
            return Err(
                ApiError::in_use(format!("Nodegroup {ng_name} is currently in {} status", ng.status))
                    .cluster(name)
                    .nodegroup(ng_name),
            );
        }
        let version = req.version.clone().unwrap_or_else(|| c.version.clone());
        match (cmp_versions(&version, &c.version), cmp_versions(&version, &ng.version)) {
            (None, _) => {
                return Err(ApiError::invalid_parameter("unsupported Kubernetes version")
                    .cluster(name)
                    .nodegroup(ng_name))
            }
            (Some(std::cmp::Ordering::Greater), _) => {
                return Err(ApiError::invalid_parameter(format!(
                    "Nodegroup version {version} cannot be newer than the cluster version {}.",
                    c.version
                ))
                .cluster(name)
                .nodegroup(ng_name))
            }
            (_, Some(std::cmp::Ordering::Less)) => {
                return Err(ApiError::invalid_parameter(format!(
                    "Nodegroup {ng_name} cannot be downgraded from version {} to {version}.",
                    ng.version
                ))
                .cluster(name)
                .nodegroup(ng_name))
            }
            _ => {}
        }
        let release = match &req.release_version {
            Some(r) => {
                if !r.starts_with(&format!("{version}.")) {
                    return Err(ApiError::invalid_parameter(format!(
                        "Requested release version {r} is not valid for kubernetes version {version}."
                    ))
                    .cluster(name)
                    .nodegroup(ng_name));
                }
                r.clone()
            }
            None => self.latest_release(&version),
        };
        let params = vec![
            ("Version".to_string(), version.clone()),
            ("ReleaseVersion".to_string(), release.clone()),
        ];
        let effect = Effect::Nodegroup {
            version,
            release_version: release,
        };
        let duration = self.durations.nodegroup_update_ms;
        let u = self.add_update(name, target, "VersionUpdate", params, duration, effect, now);
        self.remember_update_token(name, op, token, fingerprint, &u.id)?;
        Ok(json!({"update": u.view()}))
    }

    // ------------------------------------------------------------ add-ons

    pub(crate) fn create_addon(&mut self, name: &str, req: CreateAddonReq, now: f64) -> Result<Value, ApiError> {
        let c = self.cluster(name)?;
        let addon = req.addon_name.clone().ok_or_else(|| {
            ApiError::invalid_parameter("The request must contain the parameter addonName.").cluster(name)
        })?;
        let token = req.client_request_token.as_deref();
        check_token_length(token).map_err(|e| e.cluster(name).addon(&addon))?;
        let fingerprint = json!([
            "CreateAddon",
            addon,
            req.addon_version,
            req.configuration_values,
            req.service_account_role_arn,
            req.tags
        ])
        .to_string();
        if self.idempotent_hit(c, token, &fingerprint)?.is_some() {
            if let Some(a) = c.addons.get(&addon) {
                return Ok(json!({"addon": self.addon_view(c, a)}));
            }
        }
        if c.addons.contains_key(&addon) {
            return Err(ApiError::in_use("Addon already exists.").cluster(name).addon(&addon));
        }
        if let Some(rc) = &req.resolve_conflicts {
            if !["OVERWRITE", "NONE", "PRESERVE"].contains(&rc.as_str()) {
                return Err(
                    ApiError::invalid_parameter(format!("Invalid resolveConflicts value {rc}"))
                        .cluster(name)
                        .addon(&addon),
                );
            }
        }
        let version = match &req.addon_version {
            Some(v) => {
                if !self.addon_compatible(&addon, v, &c.version) {
                    return Err(ApiError::invalid_parameter("Addon version specified is not supported")
                        .cluster(name)
                        .addon(&addon));
                }
                v.clone()
            }
            None => self.default_addon_version(&addon, &c.version).ok_or_else(|| {
                ApiError::invalid_parameter(format!(
                    "Addon {addon} specified is not supported in {} kubernetes version",
                    c.version
                ))
                .cluster(name)
                .addon(&addon)
            })?,
        };
        let mut a = self.new_addon(c, &addon, &version, now);
        a.configuration_values = req.configuration_values.clone();
        a.service_account_role_arn = req.service_account_role_arn.clone();
        if let Some(t) = &req.tags {
            a.tags = t.clone();
        }
        a.status = "CREATING".into();
        a.ready_at = Some(now + self.durations.create_ms as f64 / 1000.0);
        let view = self.addon_view(c, &a);
        let c = self.cluster_mut(name)?;
        c.addons.insert(addon, a);
        if let Some(t) = token {
            c.tokens.insert(
                t.to_string(),
                TokenEntry {
                    fingerprint,
                    update_id: None,
                },
            );
        }
        Ok(json!({"addon": view}))
    }

    pub(crate) fn describe_addon(&self, name: &str, addon: &str) -> Result<Value, ApiError> {
        let c = self.cluster(name)?;
        let a = c.addons.get(addon).ok_or_else(|| ApiError::no_addon(name, addon))?;
        Ok(json!({"addon": self.addon_view(c, a)}))
    }

    pub(crate) fn list_addons(&self, name: &str, max: Option<i64>, next: Option<&str>) -> Result<Value, ApiError> {
        let c = self.cluster(name)?;
        let (page, next) = paginate(c.addons.keys().cloned().collect(), max, next)?;
        Ok(page_json("addons", page, next))
    }

    pub(crate) fn update_addon(
        &mut self,
        name: &str,
        addon: &str,
        req: UpdateAddonReq,
        now: f64,
    ) -> Result<Value, ApiError> {
        let op = "UpdateAddon";
        let c = self.cluster(name)?;
        let a = c.addons.get(addon).ok_or_else(|| ApiError::no_addon(name, addon))?;
        let token = req.client_request_token.as_deref();
        check_token_length(token).map_err(|e| e.cluster(name).addon(addon))?;
        let fingerprint = json!([
            op,
            addon,
            req.addon_version,
            req.resolve_conflicts,
            req.configuration_values,
            req.service_account_role_arn,
            req.pod_identity_associations
        ])
        .to_string();
        if let Some(hit) = self
            .idempotent_hit(c, token, &fingerprint)
            .map_err(|e| e.addon(addon))?
        {
            return self.replay_update(name, op, token, hit);
        }
        let target = Target::Addon(addon.to_string());
        if let Some(u) = c.in_progress_update_of(&target) {
            return Err(ApiError::in_use(format!(
                "Cannot AddonUpdate because addon {addon} currently has update {} in progress",
                u.id
            ))
            .cluster(name)
            .addon(addon));
        }
        if a.status == "CREATING" || a.status == "DELETING" {
            return Err(
                ApiError::in_use(format!("Addon {addon} is currently in {} status", a.status))
                    .cluster(name)
                    .addon(addon),
            );
        }
        if let Some(rc) = &req.resolve_conflicts {
            if !["OVERWRITE", "NONE", "PRESERVE"].contains(&rc.as_str()) {
                return Err(
                    ApiError::invalid_parameter(format!("Invalid resolveConflicts value {rc}"))
                        .cluster(name)
                        .addon(addon),
                );
            }
        }
        let version = match &req.addon_version {
            Some(v) => {
                if !self.addon_compatible(addon, v, &c.version) {
                    return Err(ApiError::invalid_parameter("Addon version specified is not supported")
                        .cluster(name)
                        .addon(addon));
                }
                v.clone()
            }
            None => a.version.clone(),
        };
        let mut params = vec![("AddonVersion".to_string(), version.clone())];
        if let Some(rc) = &req.resolve_conflicts {
            params.push(("ResolveConflicts".into(), rc.clone()));
        }
        if let Some(cv) = &req.configuration_values {
            params.push(("ConfigurationValues".into(), cv.clone()));
        }
        if let Some(r) = &req.service_account_role_arn {
            params.push(("ServiceAccountRoleArn".into(), r.clone()));
        }
        let effect = Effect::Addon {
            version,
            configuration_values: req.configuration_values.clone(),
            service_account_role_arn: req.service_account_role_arn.clone(),
        };
        let duration = self.durations.addon_update_ms;
        let u = self.add_update(name, target, "AddonUpdate", params, duration, effect, now);
        self.remember_update_token(name, op, token, fingerprint, &u.id)?;
        Ok(json!({"update": u.view()}))
    }

    pub(crate) fn describe_addon_versions(&self, q: &AddonVersionsQuery) -> Result<Value, ApiError> {
        let mut addons = Vec::new();
        for e in &self.catalog {
            if q.addon_name.as_ref().is_some_and(|n| *n != e.addon_name) {
                continue;
            }
            let typ = e.addon_type.clone().unwrap_or_else(|| "networking".into());
            let publisher = e.publisher.clone().unwrap_or_else(|| "eks".into());
            let owner = e.owner.clone().unwrap_or_else(|| "aws".into());
            if (!q.types.is_empty() && !q.types.contains(&typ))
                || (!q.publishers.is_empty() && !q.publishers.contains(&publisher))
                || (!q.owners.is_empty() && !q.owners.contains(&owner))
            {
                continue;
            }
            let mut versions: Vec<_> = e.versions.iter().collect();
            versions.sort_by_key(|v| std::cmp::Reverse(version_key(&v.addon_version)));
            let infos: Vec<Value> = versions
                .into_iter()
                .filter_map(|v| {
                    let compat: Vec<Value> = v
                        .cluster_versions
                        .iter()
                        .filter(|cv| q.kubernetes_version.as_ref().is_none_or(|k| k == *cv))
                        .map(|cv| {
                            json!({
                                "clusterVersion": cv,
                                "platformVersions": ["*"],
                                "defaultVersion": v.default_for.contains(cv),
                            })
                        })
                        .collect();
                    if compat.is_empty() {
                        return None;
                    }
                    Some(json!({
                        "addonVersion": v.addon_version,
                        "architecture": ["amd64", "arm64"],
                        "computeTypes": ["ec2", "auto", "hybrid"],
                        "compatibilities": compat,
                        "requiresConfiguration": false,
                        "requiresIamPermissions": e.addon_name == "vpc-cni",
                    }))
                })
                .collect();
            if infos.is_empty() {
                continue;
            }
            addons.push(json!({
                "addonName": e.addon_name,
                "type": typ,
                "addonVersions": infos,
                "publisher": publisher,
                "owner": owner,
                "defaultNamespace": "kube-system",
            }));
        }
        let (page, next) = paginate(addons, q.max_results, q.next_token.as_deref())?;
        Ok(page_json("addons", page, next))
    }

    // ------------------------------------------------------------ insights

    fn insights_of(&self, c: &Cluster, now: f64) -> Vec<Insight> {
        let mut all = c.insights.clone();
        if let Some(next) = next_minor(&c.version).filter(|n| self.version_info(n).is_some()) {
            let behind: Vec<&str> = c
                .nodegroups
                .values()
                .filter(|n| n.version != c.version)
                .map(|n| n.name.as_str())
                .collect();
            let incompatible: Vec<&str> = c
                .addons
                .values()
                .filter(|a| !self.addon_compatible(&a.name, &a.version, &next))
                .map(|a| a.name.as_str())
                .collect();
            let generated = [
                (
                    "Kubelet version skew",
                    if behind.is_empty() { "PASSING" } else { "WARNING" },
                    if behind.is_empty() {
                        "Node kubelet versions match the control plane version.".to_string()
                    } else {
                        format!("Node groups {} run a kubelet older than the control plane.", behind.join(", "))
                    },
                    "Checks for kubelet versions of worker nodes in the cluster to see if an upgrade would cause noncompliance with supported Kubernetes kubelet version skew policy.",
                ),
                (
                    "Amazon EKS add-on version compatibility",
                    if incompatible.is_empty() { "PASSING" } else { "WARNING" },
                    if incompatible.is_empty() {
                        "All installed add-on versions are compatible with the next Kubernetes version.".to_string()
                    } else {
                        format!("Add-ons {} are not compatible with Kubernetes {next}; update them after the control plane.", incompatible.join(", "))
                    },
                    "Checks version of installed EKS add-ons to ensure they are compatible with the next version of Kubernetes.",
                ),
                (
                    "Cluster health issues",
                    "PASSING",
                    "No cluster health issues detected.".to_string(),
                    "Checks for any cluster health issues that prevent successful upgrade to the next Kubernetes version on EKS.",
                ),
            ];
            let mut names: Vec<(String, String, String, String)> = generated
                .iter()
                .map(|(n, s, r, d)| (n.to_string(), s.to_string(), r.clone(), d.to_string()))
                .collect();
            names.push((
                format!("Deprecated APIs removed in Kubernetes v{next}"),
                "PASSING".into(),
                "No deprecated API usage detected within the last 30 days.".into(),
                format!("Checks for usage of deprecated APIs that are scheduled for removal in Kubernetes v{next}."),
            ));
            for (name, status, reason, description) in names {
                if all.iter().any(|i| i.name == name && i.kubernetes_version == next) {
                    continue;
                }
                all.push(Insight {
                    id: stable_id(&format!("{}/{name}/{next}", c.name)),
                    name,
                    category: "UPGRADE_READINESS".into(),
                    kubernetes_version: next.clone(),
                    status,
                    reason,
                    description,
                    last_refresh: now,
                    last_transition: c.created_at,
                });
            }
        }
        all.sort_by(|a, b| {
            status_rank(&a.status)
                .cmp(&status_rank(&b.status))
                .then_with(|| a.name.cmp(&b.name))
        });
        all
    }

    pub(crate) fn list_insights(&self, name: &str, req: ListInsightsReq, now: f64) -> Result<Value, ApiError> {
        let c = self.cluster(name)?;
        let f = req.filter.unwrap_or_default();
        let items: Vec<Value> = self
            .insights_of(c, now)
            .into_iter()
            .filter(|i| {
                f.categories
                    .as_ref()
                    .is_none_or(|v| v.is_empty() || v.contains(&i.category))
            })
            .filter(|i| {
                f.kubernetes_versions
                    .as_ref()
                    .is_none_or(|v| v.is_empty() || v.contains(&i.kubernetes_version))
            })
            .filter(|i| {
                f.statuses
                    .as_ref()
                    .is_none_or(|v| v.is_empty() || v.contains(&i.status))
            })
            .map(|i| i.view(now))
            .collect();
        let (page, next) = paginate(items, req.max_results, req.next_token.as_deref())?;
        Ok(page_json("insights", page, next))
    }

    // ------------------------------------------------------------ versions

    pub(crate) fn describe_cluster_versions(&self, q: &ClusterVersionsQuery) -> Result<Value, ApiError> {
        if let Some(s) = &q.version_status {
            if !["STANDARD_SUPPORT", "EXTENDED_SUPPORT", "UNSUPPORTED"].contains(&s.as_str()) {
                return Err(ApiError::invalid_parameter(format!("Invalid versionStatus {s}")));
            }
        }
        let mut rows: Vec<&VersionInfo> = self
            .versions
            .iter()
            .filter(|_| q.cluster_type.as_ref().is_none_or(|t| t == "eks"))
            .filter(|v| q.cluster_versions.is_empty() || q.cluster_versions.contains(&v.version))
            .filter(|v| !q.default_only || v.default)
            .filter(|v| {
                q.include_all
                    || !q.cluster_versions.is_empty()
                    || q.version_status.is_some()
                    || q.status.is_some()
                    || v.status != "UNSUPPORTED"
            })
            .filter(|v| q.version_status.as_ref().is_none_or(|s| *s == v.status))
            .filter(|v| q.status.as_ref().is_none_or(|s| s == deprecated_status(&v.status)))
            .collect();
        rows.sort_by_key(|v| std::cmp::Reverse(parse_minor(&v.version)));
        let items: Vec<Value> = rows
            .into_iter()
            .map(|v| {
                let mut o = Map::new();
                o.insert("clusterVersion".into(), json!(v.version));
                o.insert("clusterType".into(), json!("eks"));
                o.insert("defaultPlatformVersion".into(), json!(v.platform_version));
                o.insert("defaultVersion".into(), json!(v.default));
                if let Some(d) = v.release_date {
                    o.insert("releaseDate".into(), json!(d));
                }
                if let Some(d) = v.end_of_standard {
                    o.insert("endOfStandardSupportDate".into(), json!(d));
                }
                if let Some(d) = v.end_of_extended {
                    o.insert("endOfExtendedSupportDate".into(), json!(d));
                }
                o.insert("status".into(), json!(deprecated_status(&v.status)));
                o.insert("versionStatus".into(), json!(v.status));
                if let Some(p) = &v.patch {
                    o.insert("kubernetesPatchVersion".into(), json!(p));
                }
                Value::Object(o)
            })
            .collect();
        let (page, next) = paginate(items, q.max_results, q.next_token.as_deref())?;
        Ok(page_json("clusterVersions", page, next))
    }
}

fn page_json<T: serde::Serialize>(key: &str, page: Vec<T>, next: Option<String>) -> Value {
    let mut o = Map::new();
    o.insert(key.into(), json!(page));
    if let Some(n) = next {
        o.insert("nextToken".into(), json!(n));
    }
    Value::Object(o)
}

/// Sort key for add-on versions like "v1.19.2-eksbuild.1".
fn version_key(v: &str) -> Vec<u64> {
    v.split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap_or(0))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> State {
        State::new(&StateInit {
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
            durations: Durations::updates(1000),
            faults: Faults::default(),
            rng_seed: Some(1),
        })
    }

    #[test]
    fn pagination_round_trip() {
        let items: Vec<u32> = (0..5).collect();
        let (p, n) = paginate(items.clone(), Some(2), None).unwrap();
        assert_eq!(p, vec![0, 1]);
        let (p, n) = paginate(items.clone(), Some(2), n.as_deref()).unwrap();
        assert_eq!(p, vec![2, 3]);
        let (p, n) = paginate(items.clone(), Some(2), n.as_deref()).unwrap();
        assert_eq!((p, n), (vec![4], None));
        assert!(paginate(items.clone(), Some(0), None).is_err());
        assert!(paginate(items.clone(), Some(101), None).is_err());
        assert!(paginate(items, None, Some("garbage")).is_err());
    }

    #[test]
    fn update_lifecycle_is_lazy() {
        let mut s = state();
        let seed = Seed::from_json(r#"{"clusters":[{"name":"c","version":"1.30"}]}"#).unwrap();
        s.apply_seed(&seed, 100.0).unwrap();
        let r = s
            .update_cluster_version(
                "c",
                UpdateClusterVersionReq {
                    version: Some("1.31".into()),
                    ..Default::default()
                },
                100.0,
            )
            .unwrap();
        let id = r["update"]["id"].as_str().unwrap().to_string();
        s.advance(100.5);
        let c = s.describe_cluster("c", 100.5).unwrap();
        assert_eq!(c["cluster"]["status"], "UPDATING");
        assert_eq!(c["cluster"]["version"], "1.30");
        s.advance(101.0);
        let c = s.describe_cluster("c", 101.0).unwrap();
        assert_eq!(c["cluster"]["status"], "ACTIVE");
        assert_eq!(c["cluster"]["version"], "1.31");
        let u = s.describe_update("c", &id, None, None).unwrap();
        assert_eq!(u["update"]["status"], "Successful");
    }

    #[test]
    fn version_keys_sort_numerically() {
        assert!(version_key("v1.19.10-eksbuild.1") > version_key("v1.19.9-eksbuild.3"));
    }
}
