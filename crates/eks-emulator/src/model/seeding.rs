//! Seeding and the admin view of the model: applying a seed document, injecting (or
//! resolving) a blocking insight, and the whole state for `GET /_emulator/state`.

use std::cmp::Ordering;

use crate::faults::{Durations, Faults};
use crate::seed::{AddonCatalogEntry, Seed, SeedAddon, SeedCluster, SeedError, SeedInsight, SeedNodegroup};
use crate::stats::RequestStats;
use crate::util::{next_minor, parse_minor, stable_id, SplitMix64};

use super::addons::{Addon, AddonOut, AddonStatus};
use super::clusters::{valid_cluster_name, Cluster, ClusterOut, ClusterStatus};
use super::health::{check_issues, IssueOwner};
use super::insights::{Insight, InsightCategory, InsightStatus};
use super::launch_templates::LaunchTemplate;
use super::nodegroups::{Nodegroup, NodegroupOut, NodegroupStatus};
use super::updates::{TokenTable, Update};
use super::versions::{cmp_versions, VersionInfo};
use super::State;

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
        for sn in &sc.nodegroups {
            let ng = self.seed_nodegroup(&c, sc, sn, created)?;
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

    /// Sets (or clears) a blocking upgrade insight on a cluster; returns its version.
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
        if !blocking {
            for i in c.insights.iter_mut().filter(|i| i.blocks(&v)) {
                i.status = InsightStatus::Passing;
                i.reason = "No deprecated API usage detected within the last 30 days.".into();
                i.last_transition = now;
            }
            return Ok(v);
        }
        let reason = "Deprecated API usage detected within the last 30 days and the cluster is on a version before the API is removed (injected by eks-emulator).".to_string();
        match c.insights.iter_mut().find(|i| i.name == name && i.kubernetes_version == v) {
            Some(i) => {
                i.status = InsightStatus::Error;
                i.category = InsightCategory::UpgradeReadiness;
                i.reason = reason;
                i.last_transition = now;
            }
            None => c.insights.push(Insight {
                id: stable_id(&format!("{cluster}/{name}/{v}")),
                name: name.clone(),
                category: InsightCategory::UpgradeReadiness,
                kubernetes_version: v.clone(),
                status: InsightStatus::Error,
                reason,
                description: format!("Checks for usage of deprecated APIs that are scheduled for removal in Kubernetes v{v}. Upgrading your cluster before migrating to the updated APIs supported by v{v} could cause application impact."),
                last_refresh: now,
                last_transition: now,
            }),
        }
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

fn seed_insight(sc: &SeedCluster, si: &SeedInsight, created: f64) -> Result<Insight, SeedError> {
    let category = si.category.as_deref().unwrap_or("UPGRADE_READINESS");
    let category = InsightCategory::parse(category)
        .ok_or_else(|| SeedError(format!("insight {:?}: unknown category {category:?}", si.name)))?;
    let status = InsightStatus::parse(&si.status)
        .ok_or_else(|| SeedError(format!("insight {:?}: unknown status {:?}", si.name, si.status)))?;
    let kv = si
        .kubernetes_version
        .clone()
        .or_else(|| next_minor(&sc.version))
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
