//! [`Eks`] over `aws-sdk-eks`.

use super::aws::LazyClient;
use super::sdk_failure;
use super::spokes::{change_session, no_spoke_role, Spokes, HUB_SESSION};
use crate::domain::eks::{
    AddonVersionOption, AddonView, HealthIssue, InsightCategory, InsightView, LaunchTemplateRef, NodegroupView,
    OfferedVersion,
};
use crate::domain::{
    ClusterId, ClusterView, EksFailure, EksUpdateError, FailureKind, ItemKind, KubeVersion, Location, UpdateState,
    UpdateView,
};
use crate::ports::{Eks, NodegroupTarget};
use aws_sdk_eks::config::http::HttpResponse;
use aws_sdk_eks::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_eks::types::{
    Category, InsightsFilter, LaunchTemplateSpecification, ResolveConflicts, RollbackConfig, Update, UpdateParamType,
    UpdateStatus,
};

#[derive(Debug, Clone)]
pub struct EksAdapter {
    client: LazyClient<aws_sdk_eks::Client>,
    /// Member accounts' clients (hub and spoke); none: only this account's clusters.
    spokes: Option<Spokes>,
}

/// The client that reaches a cluster, and the cluster's name as EKS knows it there.
struct Reach {
    client: aws_sdk_eks::Client,
    name: String,
}

impl EksAdapter {
    pub fn new(client: impl Into<LazyClient<aws_sdk_eks::Client>>) -> Self {
        Self {
            client: client.into(),
            spokes: None,
        }
    }

    /// Reaches clusters of other accounts through `spokes`.
    pub fn with_spokes(mut self, spokes: Spokes) -> Self {
        self.spokes = Some(spokes);
        self
    }

    /// The client for `cluster` (a record's key: a name here, an ARN elsewhere).
    async fn reach(&self, cluster: &str) -> Result<Reach, EksFailure> {
        let id = ClusterId::parse(cluster).map_err(|e| EksFailure::new(FailureKind::Rejected, "", e))?;
        let name = id.name.as_str().to_owned();
        let client = self.client_at(id.at.as_ref()).await?;
        Ok(Reach { client, name })
    }

    /// The client that changes `cluster`: in a member account, signed as a session named
    /// after the cluster ([`change_session`]), so the member's CloudTrail names the upgrade
    /// behind each change. Looks keep the shared session: a change is a few calls per hop,
    /// looks are most of them.
    async fn reach_to_change(&self, cluster: &str) -> Result<Reach, EksFailure> {
        let id = ClusterId::parse(cluster).map_err(|e| EksFailure::new(FailureKind::Rejected, "", e))?;
        let name = id.name.as_str().to_owned();
        let client = match &id.at {
            None => self.client.get().await.clone(),
            Some(at) => match &self.spokes {
                Some(spokes) => Box::pin(spokes.eks_once(at, &change_session(&name))).await?,
                None => return Err(no_spoke_role(at)),
            },
        };
        Ok(Reach { client, name })
    }

    /// The client of an account and region (`None`: this function's own).
    async fn client_at(&self, at: Option<&Location>) -> Result<aws_sdk_eks::Client, EksFailure> {
        match at {
            None => Ok(self.client.get().await.clone()),
            Some(at) => self.spoke(at, HUB_SESSION).await,
        }
    }

    /// A client of a member account and region, or why it can't be reached.
    async fn spoke(&self, at: &Location, session: &str) -> Result<aws_sdk_eks::Client, EksFailure> {
        match &self.spokes {
            Some(spokes) => Box::pin(spokes.eks(at, session)).await,
            None => Err(no_spoke_role(at)),
        }
    }

    /// `UpdateClusterVersion`: an upgrade, or with a `rollbackConfig` a rollback (EKS tells
    /// them apart by the version and that setting).
    async fn send_version_update(
        &self,
        cluster: &str,
        version: KubeVersion,
        client_request_token: &str,
        force: bool,
        rollback: Option<RollbackConfig>,
    ) -> Result<UpdateView, EksFailure> {
        let reach = self.reach_to_change(cluster).await?;
        let out = reach
            .client
            .update_cluster_version()
            .name(&reach.name)
            .version(version.to_string())
            .client_request_token(client_request_token)
            .force(force)
            .set_rollback_config(rollback)
            .send()
            .await
            .map_err(|e| failure(&e))?;
        update_view(out.update())
    }
}

impl Eks for EksAdapter {
    async fn describe_cluster(&self, cluster: &str) -> Result<ClusterView, EksFailure> {
        let reach = self.reach(cluster).await?;
        let out = reach
            .client
            .describe_cluster()
            .name(&reach.name)
            .send()
            .await
            .map_err(|e| failure(&e))?;
        let cluster = out
            .cluster()
            .ok_or_else(|| EksFailure::new(FailureKind::Transient, "", "DescribeCluster answered without a cluster"))?;
        Ok(ClusterView {
            status: cluster.status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
            version: cluster.version().and_then(|v| v.parse::<KubeVersion>().ok()),
            platform_version: cluster.platform_version().map(str::to_owned),
            tags: cluster
                .tags()
                .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
            health: cluster.health().map(|h| health_issues(h.issues())).unwrap_or_default(),
            support_type: cluster
                .upgrade_policy()
                .and_then(|p| p.support_type())
                .map(|s| s.as_str().to_owned()),
        })
    }

    async fn update_cluster_version(
        &self,
        cluster: &str,
        version: KubeVersion,
        client_request_token: &str,
        force: bool,
    ) -> Result<UpdateView, EksFailure> {
        self.send_version_update(cluster, version, client_request_token, force, None)
            .await
    }

    async fn roll_back_cluster_version(
        &self,
        cluster: &str,
        version: KubeVersion,
        client_request_token: &str,
        force: bool,
        timeout_minutes: u32,
    ) -> Result<UpdateView, EksFailure> {
        let config = RollbackConfig::builder()
            .timeout_minutes(timeout_minutes.min(i32::MAX as u32) as i32)
            .build();
        self.send_version_update(cluster, version, client_request_token, force, Some(config))
            .await
    }

    async fn describe_update(&self, cluster: &str, update_id: &str) -> Result<UpdateView, EksFailure> {
        let reach = self.reach(cluster).await?;
        let out = reach
            .client
            .describe_update()
            .name(&reach.name)
            .update_id(update_id)
            .send()
            .await
            .map_err(|e| failure(&e))?;
        update_view(out.update())
    }

    async fn list_updates(&self, cluster: &str) -> Result<Vec<String>, EksFailure> {
        let reach = self.reach(cluster).await?;
        let pages = reach
            .client
            .list_updates()
            .name(&reach.name)
            .into_paginator()
            .items()
            .send();
        pages.collect::<Result<Vec<_>, _>>().await.map_err(|e| failure(&e))
    }

    async fn update_addon(
        &self,
        cluster: &str,
        addon: &str,
        version: &str,
        client_request_token: &str,
        resolve_conflicts: &str,
    ) -> Result<UpdateView, EksFailure> {
        let reach = self.reach_to_change(cluster).await?;
        let out = reach
            .client
            .update_addon()
            .cluster_name(&reach.name)
            .addon_name(addon)
            .addon_version(version)
            .client_request_token(client_request_token)
            .resolve_conflicts(ResolveConflicts::from(resolve_conflicts))
            .send()
            .await
            .map_err(|e| failure(&e))?;
        update_view(out.update())
    }

    async fn update_nodegroup_version(
        &self,
        cluster: &str,
        nodegroup: &str,
        target: NodegroupTarget<'_>,
        client_request_token: &str,
        force: bool,
    ) -> Result<UpdateView, EksFailure> {
        let reach = self.reach_to_change(cluster).await?;
        let request = reach
            .client
            .update_nodegroup_version()
            .cluster_name(&reach.name)
            .nodegroup_name(nodegroup)
            .client_request_token(client_request_token)
            .force(force);
        let request = match target {
            NodegroupTarget::Version(version) => request.version(version),
            // EKS wants the template the node group was made with, by id or by name, not both.
            NodegroupTarget::LaunchTemplate(template) => {
                let spec = LaunchTemplateSpecification::builder().set_version(template.version.clone());
                let spec = match (&template.id, &template.name) {
                    (Some(id), _) => spec.id(id),
                    (None, Some(name)) => spec.name(name),
                    (None, None) => spec,
                };
                request.launch_template(spec.build())
            }
        };
        let out = request.send().await.map_err(|e| failure(&e))?;
        update_view(out.update())
    }

    async fn describe_item_update(
        &self,
        cluster: &str,
        kind: ItemKind,
        name: &str,
        update_id: &str,
    ) -> Result<UpdateView, EksFailure> {
        let reach = self.reach(cluster).await?;
        let request = reach.client.describe_update().name(&reach.name).update_id(update_id);
        let request = match kind {
            ItemKind::Addon => request.addon_name(name),
            ItemKind::Nodegroup => request.nodegroup_name(name),
        };
        let out = request.send().await.map_err(|e| failure(&e))?;
        update_view(out.update())
    }

    async fn describe_cluster_versions(&self, at: Option<&Location>) -> Result<Vec<OfferedVersion>, EksFailure> {
        let pages = self
            .client_at(at)
            .await?
            .describe_cluster_versions()
            .into_paginator()
            .items()
            .send();
        let versions = pages.collect::<Result<Vec<_>, _>>().await.map_err(|e| failure(&e))?;
        Ok(versions
            .iter()
            .filter_map(|info| {
                Some(OfferedVersion {
                    version: info.cluster_version()?.parse().ok()?,
                    status: info.version_status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
                    default: info.default_version(),
                    end_of_standard: info.end_of_standard_support_date().map(|d| d.secs()),
                    end_of_extended: info.end_of_extended_support_date().map(|d| d.secs()),
                })
            })
            .collect())
    }

    async fn list_clusters(&self, at: Option<&Location>) -> Result<Vec<String>, EksFailure> {
        let pages = self
            .client_at(at)
            .await?
            .list_clusters()
            .into_paginator()
            .items()
            .send();
        pages.collect::<Result<Vec<_>, _>>().await.map_err(|e| failure(&e))
    }

    async fn nodegroups(&self, cluster: &str) -> Result<Vec<NodegroupView>, EksFailure> {
        let reach = self.reach(cluster).await?;
        let (client, cluster_name) = (&reach.client, reach.name.as_str());
        let names = client
            .list_nodegroups()
            .cluster_name(cluster_name)
            .into_paginator()
            .items()
            .send();
        let names = names.collect::<Result<Vec<_>, _>>().await.map_err(|e| failure(&e))?;
        describe_each(names, |name| async move {
            let out = client
                .describe_nodegroup()
                .cluster_name(cluster_name)
                .nodegroup_name(&name)
                .send()
                .await
                .map_err(|e| failure(&e))?;
            let ng = out.nodegroup();
            let health = ng.and_then(|n| n.health()).map(|h| h.issues()).unwrap_or_default();
            Ok(NodegroupView {
                version: ng.and_then(|n| n.version()).and_then(|v| v.parse().ok()),
                status: ng
                    .and_then(|n| n.status())
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                ami_type: ng
                    .and_then(|n| n.ami_type())
                    .map(|a| a.as_str().to_owned())
                    .unwrap_or_default(),
                launch_template: ng.and_then(|n| n.launch_template()).map(|lt| LaunchTemplateRef {
                    id: lt.id().map(str::to_owned),
                    name: lt.name().map(str::to_owned),
                    version: lt.version().map(str::to_owned),
                }),
                health: health_issues(health),
                name,
            })
        })
        .await
    }

    async fn addons(&self, cluster: &str) -> Result<Vec<AddonView>, EksFailure> {
        let reach = self.reach(cluster).await?;
        let (client, cluster_name) = (&reach.client, reach.name.as_str());
        let names = client
            .list_addons()
            .cluster_name(cluster_name)
            .into_paginator()
            .items()
            .send();
        let names = names.collect::<Result<Vec<_>, _>>().await.map_err(|e| failure(&e))?;
        describe_each(names, |name| async move {
            let out = client
                .describe_addon()
                .cluster_name(cluster_name)
                .addon_name(&name)
                .send()
                .await
                .map_err(|e| failure(&e))?;
            let addon = out.addon();
            let health = addon.and_then(|a| a.health()).map(|h| h.issues()).unwrap_or_default();
            Ok(AddonView {
                version: addon.and_then(|a| a.addon_version()).unwrap_or_default().to_owned(),
                status: addon
                    .and_then(|a| a.status())
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                health: health_issues(health),
                name,
            })
        })
        .await
    }

    async fn addon_versions(&self, at: Option<&Location>, addon: &str) -> Result<Vec<AddonVersionOption>, EksFailure> {
        let pages = self
            .client_at(at)
            .await?
            .describe_addon_versions()
            .addon_name(addon)
            .into_paginator()
            .items()
            .send();
        let infos = pages.collect::<Result<Vec<_>, _>>().await.map_err(|e| failure(&e))?;
        let compatible = |version: &aws_sdk_eks::types::AddonVersionInfo| {
            version
                .compatibilities()
                .iter()
                .filter_map(|c| Some((c.cluster_version()?.parse::<KubeVersion>().ok()?, c.default_version())))
                .collect()
        };
        Ok(infos
            .iter()
            .filter(|info| info.addon_name() == Some(addon))
            .flat_map(|info| info.addon_versions())
            .map(|version| AddonVersionOption {
                version: version.addon_version().unwrap_or_default().to_owned(),
                compatible: compatible(version),
            })
            .collect())
    }

    async fn insights(&self, cluster: &str, category: InsightCategory) -> Result<Vec<InsightView>, EksFailure> {
        let category = match category {
            InsightCategory::UpgradeReadiness => Category::UpgradeReadiness,
            InsightCategory::RollbackReadiness => Category::RollbackReadiness,
        };
        let filter = InsightsFilter::builder().categories(category).build();
        let reach = self.reach(cluster).await?;
        let pages = reach
            .client
            .list_insights()
            .cluster_name(&reach.name)
            .filter(filter)
            .into_paginator();
        let insights = pages
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| failure(&e))?;
        Ok(insights
            .iter()
            .map(|insight| {
                let status = insight.insight_status();
                InsightView {
                    name: insight.name().unwrap_or_default().to_owned(),
                    category: insight.category().map(|c| c.as_str().to_owned()).unwrap_or_default(),
                    kubernetes_version: insight.kubernetes_version().map(str::to_owned),
                    status: status
                        .and_then(|s| s.status())
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default(),
                    reason: status
                        .and_then(|s| s.reason())
                        .or(insight.description())
                        .unwrap_or_default()
                        .to_owned(),
                }
            })
            .collect())
    }
}

/// Each name a list call found, described in turn (node groups, add-ons).
async fn describe_each<T, F, Fut>(names: Vec<String>, describe: F) -> Result<Vec<T>, EksFailure>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<T, EksFailure>>,
{
    let mut described = Vec::with_capacity(names.len());
    for name in names {
        described.push(describe(name).await?);
    }
    Ok(described)
}

pub(crate) fn failure<E: ProvideErrorMetadata + std::error::Error + 'static>(
    err: &SdkError<E, HttpResponse>,
) -> EksFailure {
    let sdk = sdk_failure(err);
    EksFailure::new(sdk.kind, sdk.code, sdk.message)
}

fn update_view(update: Option<&Update>) -> Result<UpdateView, EksFailure> {
    let update = update.ok_or_else(|| EksFailure::new(FailureKind::Transient, "", "EKS answered without an update"))?;
    let state = match update.status() {
        Some(UpdateStatus::InProgress) => UpdateState::InProgress,
        Some(UpdateStatus::Successful) => UpdateState::Successful,
        Some(UpdateStatus::Failed) => UpdateState::Failed,
        Some(UpdateStatus::Cancelled) => UpdateState::Cancelled,
        Some(other) => UpdateState::Other(other.as_str().to_owned()),
        None => UpdateState::Other(String::new()),
    };
    Ok(UpdateView {
        id: update.id().unwrap_or_default().to_owned(),
        state,
        kind: update.r#type().map(|t| t.as_str().to_owned()).unwrap_or_default(),
        version: update
            .params()
            .iter()
            .find(|p| p.r#type() == Some(&UpdateParamType::Version))
            .and_then(|p| p.value().map(str::to_owned)),
        errors: update
            .errors()
            .iter()
            .map(|e| EksUpdateError {
                error_code: e.error_code().map(|c| c.as_str().to_owned()).unwrap_or_default(),
                error_message: e.error_message().unwrap_or_default().to_owned(),
                resource_ids: e.resource_ids().to_vec(),
            })
            .collect(),
        created_at: update.created_at().map(|t| t.secs()),
    })
}

/// A health issue as the SDK gives it for a cluster, a node group or an add-on (three types of
/// the same shape), so that they are mapped to [`HealthIssue`] once.
trait SdkHealthIssue {
    fn code_text(&self) -> String;
    fn message_text(&self) -> String;
    fn resources(&self) -> Vec<String>;
}

macro_rules! sdk_health_issue {
    ($($issue:ty),*) => {$(
        impl SdkHealthIssue for $issue {
            fn code_text(&self) -> String {
                self.code().map(|c| c.as_str().to_owned()).unwrap_or_default()
            }
            fn message_text(&self) -> String {
                self.message().unwrap_or_default().to_owned()
            }
            fn resources(&self) -> Vec<String> {
                self.resource_ids().to_vec()
            }
        }
    )*};
}

sdk_health_issue!(
    aws_sdk_eks::types::ClusterIssue,
    aws_sdk_eks::types::Issue,
    aws_sdk_eks::types::AddonIssue
);

/// EKS's `health.issues`, whichever resource reported them.
fn health_issues(issues: &[impl SdkHealthIssue]) -> Vec<HealthIssue> {
    issues
        .iter()
        .map(|i| HealthIssue {
            code: i.code_text(),
            message: i.message_text(),
            resource_ids: i.resources(),
        })
        .collect()
}
