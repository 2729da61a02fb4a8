//! Seeding and the admin view of the model: applying a seed document, injecting (or
//! resolving) a blocking insight, and the whole state for `GET /_emulator/state`.

use super::addons::AddonOut;
use super::clusters::{valid_cluster_name, ClusterOut};
use super::data::addon::{Addon, AddonStatus};
use super::data::cluster::{Cluster, ClusterStatus};
use super::data::insight::{Insight, InsightCategory, InsightStatus};
use super::data::last_upgrade::LastUpgrade;
use super::data::nodegroup::{Nodegroup, NodegroupStatus};
use super::data::token::TokenTable;
use super::data::update::Update;
use super::data::version::{cmp_versions, VersionInfo};
use super::health::{check_issues, IssueOwner};
use super::launch_templates::LaunchTemplate;
use super::nodegroups::NodegroupOut;
use super::state::State;
use std::cmp::Ordering;

use crate::faults::{Durations, Faults};
use crate::seed::{
    AddonCatalogEntry, Seed, SeedAddon, SeedCluster, SeedError, SeedInsight, SeedLastUpgrade, SeedNodegroup,
};
use crate::stats::RequestStats;
use crate::util::{next_minor, parse_minor, prev_minor, stable_id, SplitMix64};

/// Everything the emulator knows, for `GET /_emulator/state`.
#[derive(Debug)]
pub(crate) struct StateDump<'a> {
    pub account_id: &'a str,
    pub region: &'a str,
    pub now: f64,
    pub clusters: Vec<ClusterDump<'a>>,
    pub versions: &'a [VersionInfo],
    pub catalog: &'a [AddonCatalogEntry],
    pub faults: &'a Faults,
    pub durations: Durations,
}

/// A cluster with everything in it.
#[derive(Debug)]
pub(crate) struct ClusterDump<'a> {
    pub cluster: ClusterOut<'a>,
    pub nodegroups: Vec<NodegroupOut<'a>>,
    pub addons: Vec<AddonOut<'a>>,
    pub updates: &'a [Update],
    pub insights: Vec<Insight>,
}

impl State {
    /// Applies a seed document; nothing changes if it is invalid.
    pub(crate) fn apply_seed(&mut self, seed: &Seed, now: f64) -> Result<(), SeedError> {
        // Work on a copy of the tables so a bad seed changes nothing.
        let scratch = self.seed_tables(seed)?;
        let clusters = seed
            .clusters
            .iter()
            .map(|sc| scratch.seed_cluster(sc, now))
            .collect::<Result<Vec<_>, _>>()?;
        self.account_id = scratch.account_id;
        self.region = scratch.region;
        self.versions = scratch.versions;
        self.catalog = scratch.catalog;
        for c in clusters {
            self.clusters.insert(c.name.clone(), c);
        }
        Ok(())
    }

    /// A state without clusters holding the seed's account, region and tables (or the
    /// current ones).
    fn seed_tables(&self, seed: &Seed) -> Result<State, SeedError> {
        let mut scratch = State {
            account_id: seed.account_id.clone().unwrap_or_else(|| self.account_id.clone()),
            region: seed.region.clone().unwrap_or_else(|| self.region.clone()),
            versions: self.versions.clone(),
            catalog: self.catalog.clone(),
            clusters: Default::default(),
            create_tokens: TokenTable::default(),
            faults: Faults::default(),
            durations: self.durations,
            requests: RequestStats::default(),
            cluster_stats: Default::default(),
            activity: Default::default(),
            rng: SplitMix64::new(Some(0)),
        };
        if let Some(vs) = &seed.kubernetes_versions {
            scratch.versions = vs.iter().map(VersionInfo::from_seed).collect::<Result<_, _>>()?;
            if scratch.versions.iter().filter(|v| v.default).count() > 1 {
                return Err(SeedError("kubernetesVersions: more than one defaultVersion".into()));
            }
        }
        if let Some(cat) = &seed.addon_catalog {
            if let Some(e) = cat.iter().find(|e| e.addon_name.is_empty() || e.versions.is_empty()) {
                return Err(SeedError(format!(
                    "addonCatalog: {:?} needs a name and at least one version",
                    e.addon_name
                )));
            }
            scratch.catalog = cat.clone();
        }
        Ok(scratch)
    }

    fn seed_cluster(&self, sc: &SeedCluster, now: f64) -> Result<Cluster, SeedError> {
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
        let mut c = self.new_cluster(&sc.name, &sc.version, sc.platform_version.clone(), created);
        let status = sc.status.as_deref().unwrap_or("ACTIVE");
        c.status = ClusterStatus::parse(status)
            .filter(|s| ClusterStatus::SEEDABLE.contains(s))
            .ok_or_else(|| {
                SeedError(format!(
                    "cluster {}: status {status:?} cannot be seeded (ACTIVE, CREATING, FAILED, PENDING)",
                    sc.name
                ))
            })?;
        if c.status == ClusterStatus::Creating {
            c.ready_at = Some(State::after_ms(now, self.durations.create_ms));
        }
        c.tags = sc.tags.clone();
        if let Some(r) = &sc.role_arn {
            c.role_arn = r.clone();
        }
        if let Some(s) = &sc.support_type {
            c.support_type = s.clone();
        }
        check_issues(IssueOwner::Cluster, &sc.health).map_err(|e| SeedError(format!("cluster {}: {e}", sc.name)))?;
        c.health = sc.health.clone();
        c.auto_mode = sc.auto_mode;
        if let Some(l) = &sc.last_upgrade {
            let l =
                seed_last_upgrade(l, &sc.version, now).map_err(|e| SeedError(format!("cluster {}: {e}", sc.name)))?;
            c.last_upgrade = Some(LastUpgrade {
                from_platform: self.platform_for(&l.from_version),
                ..l
            });
        }
        for sn in &sc.nodegroups {
            let ng = self.seed_nodegroup(&c, sc, sn, created, now)?;
            c.nodegroups.insert(sn.name.clone(), ng);
        }
        for sa in &sc.addons {
            let a = self.seed_addon(&c, sc, sa, created)?;
            c.addons.insert(sa.name.clone(), a);
        }
        for si in &sc.insights {
            c.insights.push(seed_insight(sc, si, created)?);
        }
        Ok(c)
    }

    fn seed_nodegroup(
        &self,
        c: &Cluster,
        sc: &SeedCluster,
        sn: &SeedNodegroup,
        created: f64,
        now: f64,
    ) -> Result<Nodegroup, SeedError> {
        let v = sn.version.clone().unwrap_or_else(|| sc.version.clone());
        if !matches!(cmp_versions(&v, &sc.version), Some(Ordering::Less | Ordering::Equal)) {
            return Err(SeedError(format!(
                "cluster {}: node group {} version {v:?} must be MAJOR.MINOR and not newer than the cluster",
                sc.name, sn.name
            )));
        }
        let mut ng = self.new_nodegroup(c, &sn.name, &v, sn.release_version.clone(), created);
        if let Some(s) = &sn.status {
            ng.status = NodegroupStatus::from_text(s);
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
        let context = |e: String| SeedError(format!("cluster {}: node group {}: {e}", sc.name, sn.name));
        if let Some(lt) = &sn.launch_template {
            let lt = LaunchTemplate::from_seed(lt).map_err(context)?;
            if ng.custom_ami() && sn.release_version.is_none() {
                ng.release_version = lt.ami_id();
            }
            ng.launch_template = Some(lt);
        }
        if let Some((_, v)) = sn
            .launch_template_versions
            .iter()
            .find(|(_, v)| parse_minor(v).is_none())
        {
            return Err(context(format!("launchTemplateVersions: {v:?} is not MAJOR.MINOR")));
        }
        ng.ami_versions = sn.launch_template_versions.clone();
        if let Some(l) = &sn.last_upgrade {
            ng.last_upgrade = Some(seed_last_upgrade(l, &v, now).map_err(context)?);
        }
        check_issues(IssueOwner::Nodegroup, &sn.health).map_err(context)?;
        ng.health = sn.health.clone();
        Ok(ng)
    }

    fn seed_addon(&self, c: &Cluster, sc: &SeedCluster, sa: &SeedAddon, created: f64) -> Result<Addon, SeedError> {
        let v = match &sa.version {
            Some(v) => v.clone(),
            None => self.default_addon_version(&sa.name, &sc.version).ok_or_else(|| {
                SeedError(format!(
                    "cluster {}: add-on {} has no version and the catalogue has none for {}",
                    sc.name, sa.name, sc.version
                ))
            })?,
        };
        let mut a = self.new_addon(c, &sa.name, &v, created);
        if let Some(s) = &sa.status {
            a.status = AddonStatus::from_text(s);
        }
        a.configuration_values = sa.configuration_values.clone();
        a.service_account_role_arn = sa.service_account_role_arn.clone();
        a.tags = sa.tags.clone();
        check_issues(IssueOwner::Addon, &sa.health)
            .map_err(|e| SeedError(format!("cluster {}: add-on {}: {e}", sc.name, sa.name)))?;
        a.health = sa.health.clone();
        Ok(a)
    }

    /// Sets (or clears) a blocking upgrade insight on a cluster; returns its version
    /// (default: the next minor).
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
        let spec = Injected {
            category: InsightCategory::UpgradeReadiness,
            name: format!("Deprecated APIs removed in Kubernetes v{v}"),
            id_key: None,
            error_reason: "Deprecated API usage detected within the last 30 days and the cluster is on a version before the API is removed (injected by eks-emulator).".into(),
            passing_reason: "No deprecated API usage detected within the last 30 days.".into(),
            description: format!("Checks for usage of deprecated APIs that are scheduled for removal in Kubernetes v{v}. Upgrading your cluster before migrating to the updated APIs supported by v{v} could cause application impact."),
        };
        inject(c, &v, blocking, spec, now);
        Ok(v)
    }

    /// Sets (or clears) a blocking rollback insight on a cluster; returns its version
    /// (default: the previous minor).
    pub(crate) fn set_rollback_blocking_insight(
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
            None => prev_minor(&c.version).ok_or("cluster version has no previous minor")?,
        };
        let name = "Kubernetes API compatibility".to_string();
        let spec = Injected {
            category: InsightCategory::RollbackReadiness,
            id_key: Some(format!("{cluster}/{name}/{v}/{}", InsightCategory::RollbackReadiness)),
            name,
            error_reason: format!("Resources stored with APIs or fields that Kubernetes {v} cannot serve were detected (injected by eks-emulator)."),
            passing_reason: format!("No use of APIs or fields unavailable in Kubernetes {v} detected."),
            description: format!("Checks for resources stored with APIs or fields that Kubernetes {v} cannot serve."),
        };
        inject(c, &v, blocking, spec, now);
        Ok(v)
    }

    /// The whole state at `now`.
    pub(crate) fn dump(&self, now: f64) -> StateDump<'_> {
        let clusters = self
            .clusters
            .values()
            .map(|c| ClusterDump {
                cluster: self.cluster_out(c, now),
                nodegroups: c.nodegroups.values().map(|n| c.nodegroup_out(n)).collect(),
                addons: c.addons.values().map(|a| c.addon_out(a)).collect(),
                updates: &c.updates,
                insights: self.insights_of(c, now),
            })
            .collect();
        StateDump {
            account_id: &self.account_id,
            region: &self.region,
            now,
            clusters,
            versions: &self.versions,
            catalog: &self.catalog,
            faults: &self.faults,
            durations: self.durations,
        }
    }
}

/// An insight the admin API injects (ERROR) or resolves (PASSING).
struct Injected {
    category: InsightCategory,
    name: String,
    /// What its id derives from (default `cluster/name/version`).
    id_key: Option<String>,
    error_reason: String,
    passing_reason: String,
    description: String,
}

/// Makes the insight `spec` for `v` ERROR (adding it if needed), or every blocking insight
/// of its category for `v` PASSING.
fn inject(c: &mut Cluster, v: &str, blocking: bool, spec: Injected, now: f64) {
    if !blocking {
        for i in c.insights.iter_mut().filter(|i| i.blocks(spec.category, v)) {
            i.status = InsightStatus::Passing;
            i.reason = spec.passing_reason.clone();
            i.last_transition = now;
        }
        return;
    }
    match c
        .insights
        .iter_mut()
        .find(|i| i.name == spec.name && i.kubernetes_version == v)
    {
        Some(i) => {
            i.status = InsightStatus::Error;
            i.category = spec.category;
            i.reason = spec.error_reason;
            i.last_transition = now;
        }
        None => c.insights.push(Insight {
            id: stable_id(&spec.id_key.unwrap_or_else(|| format!("{}/{}/{v}", c.name, spec.name))),
            name: spec.name,
            category: spec.category,
            kubernetes_version: v.to_string(),
            status: InsightStatus::Error,
            reason: spec.error_reason,
            description: spec.description,
            last_refresh: now,
            last_transition: now,
        }),
    }
}

/// A seeded last upgrade of something now at `version` (platform to fill in).
fn seed_last_upgrade(l: &SeedLastUpgrade, version: &str, now: f64) -> Result<LastUpgrade, String> {
    if prev_minor(version).as_deref() != Some(l.from_version.as_str()) {
        return Err(format!(
            "lastUpgrade.fromVersion {:?} must be the previous minor of {version}",
            l.from_version
        ));
    }
    let at = match &l.completed_at {
        Some(d) => d.resolve().map_err(|e| e.0)?,
        None => now,
    };
    Ok(LastUpgrade {
        from_version: l.from_version.clone(),
        from_platform: String::new(),
        at,
    })
}

fn seed_insight(sc: &SeedCluster, si: &SeedInsight, created: f64) -> Result<Insight, SeedError> {
    let category = si.category.as_deref().unwrap_or("UPGRADE_READINESS");
    let category = InsightCategory::parse(category)
        .ok_or_else(|| SeedError(format!("insight {:?}: unknown category {category:?}", si.name)))?;
    let status = InsightStatus::parse(&si.status)
        .ok_or_else(|| SeedError(format!("insight {:?}: unknown status {:?}", si.name, si.status)))?;
    let kv = si
        .kubernetes_version
        .clone()
        .or_else(|| match category {
            InsightCategory::RollbackReadiness => prev_minor(&sc.version),
            _ => next_minor(&sc.version),
        })
        .unwrap_or_default();
    Ok(Insight {
        id: si
            .id
            .clone()
            .unwrap_or_else(|| stable_id(&format!("{}/{}/{}", sc.name, si.name, kv))),
        name: si.name.clone(),
        category,
        kubernetes_version: kv,
        status,
        reason: si.reason.clone().unwrap_or_default(),
        description: si.description.clone().unwrap_or_else(|| si.name.clone()),
        last_refresh: created,
        last_transition: created,
    })
}
