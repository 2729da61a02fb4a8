//! Add-ons: CreateAddon, DescribeAddon, ListAddons, the rules of UpdateAddon, and the
//! add-on catalogue behind DescribeAddonVersions and the compatibility checks.

use super::data::addon::{Addon, AddonStatus};
use super::data::cluster::Cluster;
use super::data::token::ClientToken;
use super::data::update::{AddonChange, Effect, NewUpdate, Target, Update, UpdateParam, UpdateParamType, UpdateType};
use super::state::{paginate, Page, State};
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::seed::AddonCatalogEntry;

const RESOLVE_CONFLICTS: [&str; 3] = ["OVERWRITE", "NONE", "PRESERVE"];

/// An add-on as DescribeAddon (and CreateAddon) shows it.
#[derive(Debug, Clone)]
pub(crate) struct AddonOut<'a> {
    pub cluster: &'a str,
    pub addon: &'a Addon,
    /// The status as seen now (UPDATING while an update runs on it).
    pub status: AddonStatus,
}

/// One add-on of DescribeAddonVersions, its versions newest first.
#[derive(Debug, Clone)]
pub(crate) struct AddonVersions<'a> {
    pub name: &'a str,
    pub addon_type: String,
    pub publisher: String,
    pub owner: String,
    pub versions: Vec<AddonVersionOut<'a>>,
}

#[derive(Debug, Clone)]
pub(crate) struct AddonVersionOut<'a> {
    pub version: &'a str,
    pub compatibilities: Vec<Compatibility<'a>>,
    pub requires_iam_permissions: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Compatibility<'a> {
    pub cluster_version: &'a str,
    pub default_version: bool,
}

// ---------------------------------------------------------------- requests

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
    client_request_token: Option<String>,
    configuration_values: Option<String>,
    pod_identity_associations: Option<Value>,
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

// ---------------------------------------------------------------- the add-on

impl Addon {
    /// Finishes the creation if it is due at `now`.
    pub(super) fn settle(&mut self, now: f64) {
        if self.ready_at.is_some_and(|t| t <= now) {
            self.ready_at = None;
            self.status = AddonStatus::Active;
        }
    }

    /// Makes a pending creation due at `now` at the latest.
    pub(super) fn hurry(&mut self, now: f64) {
        self.ready_at = self.ready_at.map(|t| t.min(now));
    }

    pub(super) fn apply(&mut self, change: AddonChange, at: f64) {
        self.version = change.version;
        if change.configuration_values.is_some() {
            self.configuration_values = change.configuration_values;
        }
        if change.service_account_role_arn.is_some() {
            self.service_account_role_arn = change.service_account_role_arn;
        }
        self.status = AddonStatus::Active;
        self.modified_at = at;
    }

    pub(super) fn update_failed(&mut self, at: f64) {
        self.status = AddonStatus::UpdateFailed;
        self.modified_at = at;
    }
}

impl Cluster {
    pub(super) fn addon_out<'a>(&'a self, a: &'a Addon) -> AddonOut<'a> {
        let updating = self.in_progress_update_of(&Target::Addon(a.name.clone())).is_some();
        AddonOut {
            cluster: &self.name,
            addon: a,
            status: if updating {
                AddonStatus::Updating
            } else {
                a.status.clone()
            },
        }
    }
}

fn check_resolve_conflicts(rc: Option<&String>, cluster: &str, addon: &str) -> Result<(), ApiError> {
    match rc {
        Some(rc) if !RESOLVE_CONFLICTS.contains(&rc.as_str()) => Err(ApiError::invalid_parameter(format!(
            "Invalid resolveConflicts value {rc}"
        ))
        .cluster(cluster)
        .addon(addon)),
        _ => Ok(()),
    }
}

/// Sort key for add-on versions like "v1.19.2-eksbuild.1".
pub(super) fn version_key(v: &str) -> Vec<u64> {
    v.split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap_or(0))
        .collect()
}

impl State {
    fn addon_entry(&self, name: &str) -> Option<&AddonCatalogEntry> {
        self.catalog.iter().find(|a| a.addon_name == name)
    }

    /// Whether the catalogue has `version` of `addon` for Kubernetes `k8s`.
    pub(super) fn addon_compatible(&self, addon: &str, version: &str, k8s: &str) -> bool {
        self.addon_entry(addon).is_some_and(|e| {
            e.versions
                .iter()
                .any(|v| v.addon_version == version && v.cluster_versions.iter().any(|c| c == k8s))
        })
    }

    /// The catalogue's default version of `addon` for Kubernetes `k8s` (else its newest).
    pub(super) fn default_addon_version(&self, addon: &str, k8s: &str) -> Option<String> {
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

    /// `version` if the catalogue has it for the cluster's Kubernetes version.
    fn compatible_version(&self, c: &Cluster, addon: &str, version: &str) -> Result<String, ApiError> {
        if !self.addon_compatible(addon, version, &c.version) {
            return Err(ApiError::invalid_parameter("Addon version specified is not supported")
                .cluster(&c.name)
                .addon(addon));
        }
        Ok(version.to_string())
    }

    /// An ACTIVE add-on.
    pub(super) fn new_addon(&self, c: &Cluster, name: &str, version: &str, now: f64) -> Addon {
        let uid = uuid::Uuid::new_v4().to_string();
        Addon {
            name: name.to_string(),
            arn: format!(
                "arn:aws:eks:{}:{}:addon/{}/{name}/{uid}",
                self.region, self.account_id, c.name
            ),
            version: version.to_string(),
            status: AddonStatus::Active,
            ready_at: None,
            created_at: now,
            modified_at: now,
            configuration_values: None,
            service_account_role_arn: None,
            tags: BTreeMap::new(),
            health: Vec::new(),
        }
    }

    // ------------------------------------------------------------ operations

    pub(crate) fn create_addon(&mut self, name: &str, req: CreateAddonReq, now: f64) -> Result<AddonOut<'_>, ApiError> {
        let c = self.cluster(name)?;
        let addon = req.addon_name.clone().ok_or_else(|| {
            ApiError::invalid_parameter("The request must contain the parameter addonName.").cluster(name)
        })?;
        let fingerprint = json!([
            "CreateAddon",
            addon,
            req.addon_version,
            req.configuration_values,
            req.service_account_role_arn,
            req.tags
        ])
        .to_string();
        let t = ClientToken::new("CreateAddon", req.client_request_token.as_deref(), fingerprint);
        t.check_length().map_err(|e| e.cluster(name).addon(&addon))?;
        if c.tokens.check(&t, name)?.is_some() && c.addons.contains_key(&addon) {
            let c = self.cluster(name)?;
            return Ok(c.addon_out(&c.addons[&addon]));
        }
        if c.addons.contains_key(&addon) {
            return Err(ApiError::in_use("Addon already exists.").cluster(name).addon(&addon));
        }
        check_resolve_conflicts(req.resolve_conflicts.as_ref(), name, &addon)?;
        let version = match &req.addon_version {
            Some(v) => self.compatible_version(c, &addon, v)?,
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
        a.status = AddonStatus::Creating;
        a.ready_at = Some(State::after_ms(now, self.durations.create_ms));
        let c = self.cluster_mut(name)?;
        c.addons.insert(addon.clone(), a);
        c.tokens.remember(&t, None);
        let c = self.cluster(name)?;
        Ok(c.addon_out(&c.addons[&addon]))
    }

    pub(crate) fn describe_addon(&self, name: &str, addon: &str) -> Result<AddonOut<'_>, ApiError> {
        let c = self.cluster(name)?;
        let a = c.addons.get(addon).ok_or_else(|| ApiError::no_addon(name, addon))?;
        Ok(c.addon_out(a))
    }

    pub(crate) fn list_addons(
        &self,
        name: &str,
        max: Option<i64>,
        next: Option<&str>,
    ) -> Result<Page<String>, ApiError> {
        let c = self.cluster(name)?;
        paginate(c.addons.keys().cloned().collect(), max, next)
    }

    pub(crate) fn update_addon(
        &mut self,
        name: &str,
        addon: &str,
        req: UpdateAddonReq,
        now: f64,
    ) -> Result<Update, ApiError> {
        const OP: &str = "UpdateAddon";
        let c = self.cluster(name)?;
        c.addons.get(addon).ok_or_else(|| ApiError::no_addon(name, addon))?;
        let fingerprint = json!([
            OP,
            addon,
            req.addon_version,
            req.resolve_conflicts,
            req.configuration_values,
            req.service_account_role_arn,
            req.pod_identity_associations
        ])
        .to_string();
        let t = ClientToken::new(OP, req.client_request_token.as_deref(), fingerprint);
        let target = Target::Addon(addon.to_string());
        if let Some(u) = self.replayed_update(name, &target, &t)? {
            return Ok(u);
        }
        let change = self.plan_addon_update(self.cluster(name)?, addon, &req)?;
        let mut params = vec![UpdateParam::new(UpdateParamType::AddonVersion, change.version.clone())];
        let optional = [
            (UpdateParamType::ResolveConflicts, &req.resolve_conflicts),
            (UpdateParamType::ConfigurationValues, &req.configuration_values),
            (UpdateParamType::ServiceAccountRoleArn, &req.service_account_role_arn),
        ];
        for (kind, value) in optional {
            if let Some(v) = value {
                params.push(UpdateParam::new(kind, v.clone()));
            }
        }
        let new = NewUpdate {
            target,
            kind: UpdateType::AddonUpdate,
            params,
            duration_ms: self.durations.addon_update_ms,
            node_phase_ms: 0,
            effect: Effect::Addon(change),
        };
        self.start_update(name, &t, new, now)
    }

    /// The rules of UpdateAddon, in EKS's order; the change it would make (no version:
    /// the add-on's current one).
    fn plan_addon_update(&self, c: &Cluster, addon: &str, req: &UpdateAddonReq) -> Result<AddonChange, ApiError> {
        let a = &c.addons[addon];
        if let Some(u) = c.in_progress_update_of(&Target::Addon(addon.to_string())) {
            return Err(ApiError::in_use(format!(
                "Cannot AddonUpdate because addon {addon} currently has update {} in progress",
                u.id
            ))
            .cluster(&c.name)
            .addon(addon));
        }
        if a.status == AddonStatus::Degraded {
            return Err(ApiError::invalid_request(format!(
                "Addon {addon} is in {} state. Update is invalid given the state of the cluster.",
                a.status
            ))
            .cluster(&c.name)
            .addon(addon));
        }
        if matches!(a.status, AddonStatus::Creating | AddonStatus::Deleting) {
            return Err(
                ApiError::in_use(format!("Addon {addon} is currently in {} status", a.status))
                    .cluster(&c.name)
                    .addon(addon),
            );
        }
        check_resolve_conflicts(req.resolve_conflicts.as_ref(), &c.name, addon)?;
        let version = match &req.addon_version {
            Some(v) => self.compatible_version(c, addon, v)?,
            None => a.version.clone(),
        };
        Ok(AddonChange {
            version,
            configuration_values: req.configuration_values.clone(),
            service_account_role_arn: req.service_account_role_arn.clone(),
        })
    }

    pub(crate) fn describe_addon_versions(&self, q: &AddonVersionsQuery) -> Result<Page<AddonVersions<'_>>, ApiError> {
        let mut addons = Vec::new();
        for e in &self.catalog {
            if q.addon_name.as_ref().is_some_and(|n| *n != e.addon_name) {
                continue;
            }
            let addon_type = e.addon_type.clone().unwrap_or_else(|| "networking".into());
            let publisher = e.publisher.clone().unwrap_or_else(|| "eks".into());
            let owner = e.owner.clone().unwrap_or_else(|| "aws".into());
            if (!q.types.is_empty() && !q.types.contains(&addon_type))
                || (!q.publishers.is_empty() && !q.publishers.contains(&publisher))
                || (!q.owners.is_empty() && !q.owners.contains(&owner))
            {
                continue;
            }
            let versions = catalog_versions(e, q.kubernetes_version.as_deref());
            if versions.is_empty() {
                continue;
            }
            addons.push(AddonVersions {
                name: &e.addon_name,
                addon_type,
                publisher,
                owner,
                versions,
            });
        }
        paginate(addons, q.max_results, q.next_token.as_deref())
    }
}

/// The versions of a catalogue entry (newest first) compatible with `k8s` (any if None).
fn catalog_versions<'a>(e: &'a AddonCatalogEntry, k8s: Option<&str>) -> Vec<AddonVersionOut<'a>> {
    let mut versions: Vec<_> = e.versions.iter().collect();
    versions.sort_by_key(|v| std::cmp::Reverse(version_key(&v.addon_version)));
    versions
        .into_iter()
        .filter_map(|v| {
            let compatibilities: Vec<Compatibility> = v
                .cluster_versions
                .iter()
                .filter(|cv| k8s.is_none_or(|k| k == *cv))
                .map(|cv| Compatibility {
                    cluster_version: cv,
                    default_version: v.default_for.contains(cv),
                })
                .collect();
            (!compatibilities.is_empty()).then_some(AddonVersionOut {
                version: &v.addon_version,
                compatibilities,
                requires_iam_permissions: e.addon_name == "vpc-cni",
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_keys_sort_numerically() {
        assert!(version_key("v1.19.10-eksbuild.1") > version_key("v1.19.9-eksbuild.3"));
    }
}
