//! A small scripted EKS for tests, with clientRequestToken idempotency, one update at a time per
//! cluster, and the messages of the real service. Compiled for tests only (feature
//! `test-util`). Each call yields to the scheduler first, so invocations run with `join!`
//! really interleave.

use super::{Eks, NodegroupTarget};
use crate::domain::eks::{AddonVersionOption, AddonView, InsightCategory, InsightView, NodegroupView, OfferedVersion};
use crate::domain::{
    ClusterId, ClusterView, EksFailure, FailureKind, ItemKind, KubeVersion, Location, UpdateState, UpdateView,
};

use std::sync::{Arc, Mutex};

mod refusals;
mod state;
mod update;

pub use state::FakeEksState;
pub use update::FakeUpdate;

/// A scripted EKS with clientRequestToken idempotency, one update at a time per cluster, and the
/// messages of the real service.
#[derive(Debug, Clone, Default)]
pub struct FakeEks {
    pub state: Arc<Mutex<FakeEksState>>,
}

impl FakeEks {
    /// A fake with one ACTIVE cluster at `version`; our updates end after `polls` DescribeUpdate
    /// calls.
    pub fn with_cluster(name: &str, version: &str, polls: u32) -> Self {
        let fake = Self::default();
        {
            let mut s = fake.lock();
            s.clusters.insert(
                name.to_owned(),
                ("ACTIVE".to_owned(), version.parse().expect("version")),
            );
            s.update_polls = polls;
        }
        fake
    }

    pub fn lock(&self) -> std::sync::MutexGuard<'_, FakeEksState> {
        self.state.lock().expect("fake EKS lock")
    }

    /// Starts an update nobody of ours asked for (another operator, eksctl, ...).
    pub fn start_foreign_update(&self, cluster: &str, kind: &str, version: Option<&str>, polls: u32) -> String {
        let mut s = self.lock();
        s.next_id += 1;
        let id = format!("foreign-{}", s.next_id);
        let created_at = s.now;
        s.updates.insert(
            id.clone(),
            FakeUpdate {
                id: id.clone(),
                cluster: cluster.to_owned(),
                kind: kind.to_owned(),
                version: version.map(str::to_owned),
                state: UpdateState::InProgress,
                polls_left: polls,
                outcome: UpdateState::Successful,
                errors: Vec::new(),
                token: None,
                force: false,
                target: None,
                created_at,
            },
        );
        if let Some(c) = s.clusters.get_mut(cluster) {
            c.0 = "UPDATING".to_owned();
        }
        id
    }

    fn start_item_update(
        &self,
        cluster: &str,
        kind: &str,
        target: &str,
        version: &str,
        token: &str,
        force: bool,
    ) -> Result<UpdateView, EksFailure> {
        let mut s = self.lock();
        if let Some(existing) = s.updates.values().find(|u| u.token.as_deref() == Some(token)) {
            return Ok(FakeUpdate::view(existing));
        }
        if let Some(busy) = s.item_busy.get_mut(target).filter(|n| **n > 0) {
            *busy -= 1;
            return Err(EksFailure::new(
                FailureKind::ResourceInUse,
                "ResourceInUseException",
                format!("Cannot update {target}: another update is in progress"),
            ));
        }
        let (outcome, errors) = s
            .item_outcomes
            .remove(target)
            .unwrap_or((UpdateState::Successful, Vec::new()));
        let polls = s.item_polls.get(target).copied().unwrap_or(s.update_polls);
        s.next_id += 1;
        let id = format!("item-update-{:04}", s.next_id);
        let update = FakeUpdate {
            id: id.clone(),
            cluster: cluster.to_owned(),
            kind: kind.to_owned(),
            version: Some(version.to_owned()),
            state: UpdateState::InProgress,
            polls_left: polls,
            outcome,
            errors,
            token: Some(token.to_owned()),
            force,
            target: Some(target.to_owned()),
            created_at: s.now,
        };
        let view = FakeUpdate::view(&update);
        s.updates.insert(id, update);
        Ok(view)
    }

    /// Updates created with a clientRequestToken (ours), as EKS would count them.
    pub fn updates_created_by_tokens(&self) -> usize {
        self.lock().updates.values().filter(|u| u.token.is_some()).count()
    }

    pub fn update_cluster_version_calls(&self) -> usize {
        self.lock().update_cluster_version_calls
    }

    /// Adds an ACTIVE cluster at `version` with `tags`.
    pub fn add_cluster(&self, name: &str, version: &str, tags: &[(&str, &str)]) {
        let mut s = self.lock();
        s.clusters.insert(
            name.to_owned(),
            ("ACTIVE".to_owned(), version.parse().expect("version")),
        );
        let tags = tags.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        s.cluster_tags.insert(name.to_owned(), tags);
    }

    /// Adds an ACTIVE cluster of another account or region (its key the cluster's ARN).
    pub fn add_cluster_at(
        &self,
        account: &str,
        region: &str,
        name: &str,
        version: &str,
        tags: &[(&str, &str)],
    ) -> String {
        let at = Location::new(account, region).expect("location");
        let key = ClusterId {
            name: crate::domain::ClusterName::parse(name).expect("name"),
            at: Some(at),
        }
        .key();
        self.add_cluster(&key, version, tags);
        key
    }

    /// Makes `account` unreachable: assuming its spoke role answers AccessDenied, as STS does
    /// when the role is missing or does not trust the hub.
    pub fn make_unreachable(&self, account: &str) {
        let role = format!("arn:aws:iam::{account}:role/eks-upgrade-spoke");
        let message = format!(
            "assuming {role} (account {account}): User: arn:aws:sts::123456789012:assumed-role/eks-upgrade-orchestrator/x \
             is not authorized to perform: sts:AssumeRole on resource: {role}"
        );
        let failure = EksFailure::new(FailureKind::AccessDenied, "AccessDenied", message);
        self.lock().unreachable.insert(account.to_owned(), failure);
    }

    /// The clusters with an update of ours in progress now.
    pub fn clusters_updating(&self) -> usize {
        let s = self.lock();
        let mut clusters: Vec<&str> = s
            .updates
            .values()
            .filter(|u| u.token.is_some() && u.state == UpdateState::InProgress)
            .map(|u| u.cluster.as_str())
            .collect();
        clusters.sort();
        clusters.dedup();
        clusters.len()
    }

    /// Control-plane updates of ours made on `cluster`.
    pub fn cluster_updates(&self, cluster: &str) -> usize {
        let s = self.lock();
        s.updates
            .values()
            .filter(|u| u.cluster == cluster && u.token.is_some() && u.target.is_none())
            .count()
    }

    pub fn cluster_version(&self, cluster: &str) -> KubeVersion {
        self.lock().clusters[cluster].1
    }

    pub fn inject_faults(&self, faults: impl IntoIterator<Item = EksFailure>) {
        self.lock().faults.extend(faults);
    }

    /// Control-plane rollbacks (VersionRollback updates) EKS started.
    pub fn version_rollbacks(&self) -> usize {
        self.lock()
            .updates
            .values()
            .filter(|u| u.kind == "VersionRollback")
            .count()
    }

    /// [`Self::enter`] for a call about `cluster`, which fails as AssumeRole would if its
    /// account was made unreachable.
    async fn enter_for(
        &self,
        call: &str,
        cluster: &str,
    ) -> Result<std::sync::MutexGuard<'_, FakeEksState>, EksFailure> {
        let s = self.enter(call).await?;
        let account = ClusterId::parse(cluster).ok().and_then(|id| id.at).map(|at| at.account);
        match account.and_then(|a| s.unreachable.get(a.as_str())) {
            Some(failure) => Err(failure.clone()),
            None => Ok(s),
        }
    }

    async fn enter(&self, call: &str) -> Result<std::sync::MutexGuard<'_, FakeEksState>, EksFailure> {
        tokio::task::yield_now().await;
        let mut s = self.lock();
        s.calls.push(call.to_owned());
        match s.faults.pop_front() {
            Some(fault) => Err(fault),
            None => Ok(s),
        }
    }
}

fn not_found(cluster: &str) -> EksFailure {
    refusals::failure(eks_rules::Refusal {
        code: eks_rules::Code::ResourceNotFound,
        message: eks_rules::messages::cluster_not_found(cluster),
    })
}

impl Eks for FakeEks {
    async fn describe_cluster(&self, cluster: &str) -> Result<ClusterView, EksFailure> {
        let gate = self.lock().describe_gates.remove(cluster);
        if let Some(gate) = gate {
            gate.notified().await;
        }
        let s = self.enter_for("DescribeCluster", cluster).await?;
        let (status, version) = s.clusters.get(cluster).ok_or_else(|| not_found(cluster))?;
        Ok(ClusterView {
            status: status.clone(),
            version: Some(*version),
            platform_version: Some("eks.1".to_owned()),
            tags: {
                let mut tags = s.cluster_tags.get(cluster).cloned().unwrap_or_default();
                if !s.unenrolled.iter().any(|c| c == cluster) {
                    let tag = crate::domain::workflow::DEFAULT_ENROLLMENT_TAG.to_owned();
                    tags.insert(tag, "true".to_owned());
                }
                tags
            },
            health: s.cluster_health.clone(),
            support_type: Some(
                (s.support_types.get(cluster).cloned())
                    .or_else(|| s.support_type.clone())
                    .unwrap_or_else(|| "EXTENDED".to_owned()),
            ),
        })
    }

    async fn update_cluster_version(
        &self,
        cluster: &str,
        version: KubeVersion,
        token: &str,
        force: bool,
    ) -> Result<UpdateView, EksFailure> {
        let mut s = self.enter_for("UpdateClusterVersion", cluster).await?;
        s.update_cluster_version_calls += 1;
        if let Some(refusal) = s.update_refusal.take() {
            return Err(refusal);
        }
        let current = s.clusters.get(cluster).ok_or_else(|| not_found(cluster))?.1;
        if let Some(existing) = s.updates.values().find(|u| u.token.as_deref() == Some(token)) {
            if existing.version.as_deref() != Some(version.to_string().as_str()) || existing.force != force {
                return Err(EksFailure::new(
                    FailureKind::InvalidParameter,
                    "InvalidParameterException",
                    "The clientRequestToken was already used with other parameters",
                ));
            }
            return Ok(FakeUpdate::view(existing));
        }
        let rolling_back = version.major == current.major && version.minor + 1 == current.minor;
        let refusal = if rolling_back {
            Self::rollback_refusal(&s, cluster, current, version, force)
        } else {
            Self::refusal(&s, cluster, current, version, force)
        };
        if let Some(refusal) = refusal {
            return Err(refusal);
        }
        s.next_id += 1;
        let id = format!("update-{:04}", s.next_id);
        let (outcome, errors) = s.next_outcome.take().unwrap_or((UpdateState::Successful, Vec::new()));
        let update = FakeUpdate {
            id: id.clone(),
            cluster: cluster.to_owned(),
            kind: if rolling_back {
                "VersionRollback"
            } else {
                "VersionUpdate"
            }
            .to_owned(),
            version: Some(version.to_string()),
            state: UpdateState::InProgress,
            polls_left: s.update_polls,
            outcome,
            errors,
            token: Some(token.to_owned()),
            force,
            target: None,
            created_at: s.now,
        };
        let view = FakeUpdate::view(&update);
        s.updates.insert(id, update);
        if let Some(c) = s.clusters.get_mut(cluster) {
            c.0 = "UPDATING".to_owned();
        }
        Ok(UpdateView {
            errors: Vec::new(),
            ..view
        })
    }

    async fn roll_back_cluster_version(
        &self,
        cluster: &str,
        version: KubeVersion,
        token: &str,
        force: bool,
        timeout_minutes: u32,
    ) -> Result<UpdateView, EksFailure> {
        if !(120..=10080).contains(&timeout_minutes) {
            return Err(EksFailure::new(
                FailureKind::InvalidParameter,
                "InvalidParameterException",
                "rollbackConfig.timeoutMinutes must be between 120 and 10080.",
            ));
        }
        self.lock().rollback_timeouts.push(timeout_minutes);
        self.update_cluster_version(cluster, version, token, force).await
    }

    async fn describe_update(&self, cluster: &str, update_id: &str) -> Result<UpdateView, EksFailure> {
        self.enter_for("DescribeUpdate", cluster)
            .await?
            .describe_update(cluster, update_id)
    }

    async fn list_updates(&self, cluster: &str) -> Result<Vec<String>, EksFailure> {
        let s = self.enter_for("ListUpdates", cluster).await?;
        if !s.clusters.contains_key(cluster) {
            return Err(not_found(cluster));
        }
        let listed = s
            .updates
            .values()
            .filter(|u| u.cluster == cluster && u.target.is_none())
            .map(|u| u.id.clone());
        Ok(s.vanished_updates.iter().cloned().chain(listed).collect())
    }

    async fn update_addon(
        &self,
        cluster: &str,
        addon: &str,
        version: &str,
        token: &str,
        _resolve_conflicts: &str,
    ) -> Result<UpdateView, EksFailure> {
        let s = self.enter_for("UpdateAddon", cluster).await?;
        if let Some(refusal) = s.item_refusals.get(addon) {
            return Err(refusal.clone());
        }
        drop(s);
        self.start_item_update(cluster, "AddonUpdate", addon, version, token, false)
    }

    async fn update_nodegroup_version(
        &self,
        cluster: &str,
        nodegroup: &str,
        target: NodegroupTarget<'_>,
        token: &str,
        force: bool,
    ) -> Result<UpdateView, EksFailure> {
        let s = self.enter_for("UpdateNodegroupVersion", cluster).await?;
        if let Some(refusal) = s.item_refusals.get(nodegroup) {
            return Err(refusal.clone());
        }
        let control_plane = s.clusters.get(cluster).ok_or_else(|| not_found(cluster))?.1;
        let custom = s.nodegroups.iter().any(|n| n.name == nodegroup && n.custom_ami());
        let version = match target {
            NodegroupTarget::Version(_) if custom => {
                return Err(refusals::failure(eks_rules::Refusal {
                    code: eks_rules::Code::InvalidParameter,
                    message: eks_rules::messages::CUSTOM_AMI_UPDATE.into(),
                }))
            }
            NodegroupTarget::Version(version) => version.to_owned(),
            // The launch template's AMI: taken as one for the control plane's version.
            NodegroupTarget::LaunchTemplate(_) => control_plane.to_string(),
        };
        let asked = match target {
            NodegroupTarget::Version(v) => format!("version:{v}"),
            NodegroupTarget::LaunchTemplate(t) => format!("launchTemplate:{}", t.version.clone().unwrap_or_default()),
        };
        let version = version.as_str();
        if version.parse::<KubeVersion>().map_or(true, |v| v > control_plane) {
            return Err(EksFailure::new(
                FailureKind::InvalidParameter,
                "InvalidParameterException",
                format!("Requested Nodegroup version {version} is invalid; the cluster is at {control_plane}"),
            ));
        }
        drop(s);
        let update = self.start_item_update(cluster, "VersionUpdate", nodegroup, version, token, force)?;
        self.lock().nodegroup_targets.push((nodegroup.to_owned(), asked));
        Ok(update)
    }

    async fn describe_item_update(
        &self,
        cluster: &str,
        _kind: ItemKind,
        _name: &str,
        update_id: &str,
    ) -> Result<UpdateView, EksFailure> {
        self.describe_update(cluster, update_id).await
    }

    async fn describe_cluster_versions(&self, at: Option<&Location>) -> Result<Vec<OfferedVersion>, EksFailure> {
        let mut s = self.enter("DescribeClusterVersions").await?;
        s.catalogue_asked_at
            .push(at.map_or("home".to_owned(), |at| at.to_string()));
        if let Some(failure) = at.and_then(|at| s.unreachable.get(at.account.as_str())) {
            return Err(failure.clone());
        }
        if let Some(offered) = at.and_then(|at| s.offered_in.get(at.region.as_str())) {
            return Ok(offered.clone());
        }
        if !s.offered.is_empty() {
            return Ok(s.offered.clone());
        }
        Ok((28..=36)
            .map(|minor| OfferedVersion {
                version: KubeVersion::new(1, minor),
                status: if minor >= 34 {
                    "STANDARD_SUPPORT"
                } else {
                    "EXTENDED_SUPPORT"
                }
                .to_owned(),
                default: minor == 34,
                end_of_standard: None,
                end_of_extended: None,
            })
            .collect())
    }

    async fn list_clusters(&self, at: Option<&Location>) -> Result<Vec<String>, EksFailure> {
        let s = self.enter("ListClusters").await?;
        if let Some(failure) = at.and_then(|at| s.unreachable.get(at.account.as_str())) {
            return Err(failure.clone());
        }
        let mut names: Vec<String> = s
            .clusters
            .keys()
            .filter_map(|key| ClusterId::parse(key).ok())
            .filter(|id| id.at.as_ref() == at)
            .map(|id| id.name.as_str().to_owned())
            .collect();
        names.sort();
        Ok(names)
    }

    async fn nodegroups(&self, cluster: &str) -> Result<Vec<NodegroupView>, EksFailure> {
        let s = self.enter_for("ListNodegroups", cluster).await?;
        s.clusters.get(cluster).ok_or_else(|| not_found(cluster))?;
        Ok(s.nodegroups.clone())
    }

    async fn addons(&self, cluster: &str) -> Result<Vec<AddonView>, EksFailure> {
        let s = self.enter_for("ListAddons", cluster).await?;
        s.clusters.get(cluster).ok_or_else(|| not_found(cluster))?;
        Ok(s.addons.clone())
    }

    async fn addon_versions(&self, at: Option<&Location>, addon: &str) -> Result<Vec<AddonVersionOption>, EksFailure> {
        let mut s = self.enter("DescribeAddonVersions").await?;
        s.catalogue_asked_at
            .push(at.map_or("home".to_owned(), |at| at.to_string()));
        if let Some(failure) = at.and_then(|at| s.unreachable.get(at.account.as_str())) {
            return Err(failure.clone());
        }
        Ok(s.addon_catalog
            .iter()
            .find(|(name, _)| name == addon)
            .map(|(_, v)| v.clone())
            .unwrap_or_default())
    }

    async fn insights(&self, cluster: &str, category: InsightCategory) -> Result<Vec<InsightView>, EksFailure> {
        let s = self.enter_for("ListInsights", cluster).await?;
        s.clusters.get(cluster).ok_or_else(|| not_found(cluster))?;
        Ok(s.insights
            .iter()
            .filter(|i| i.category == category.as_str())
            .cloned()
            .collect())
    }
}
