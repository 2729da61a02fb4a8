//! The EKS port: the calls the workflow makes, over reduced views of EKS's answers.

use crate::domain::eks::{
    AddonVersionOption, AddonView, InsightCategory, InsightView, LaunchTemplateRef, NodegroupView, OfferedVersion,
};
use crate::domain::{ClusterView, EksFailure, ItemKind, KubeVersion, Location, UpdateView};
use std::future::Future;

/// What UpdateNodegroupVersion moves a node group to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodegroupTarget<'a> {
    /// `version`: EKS's AMI for this Kubernetes version.
    Version(&'a str),
    /// `launchTemplate`: a version of the node group's own launch template (a custom AMI,
    /// which EKS takes no `version` for).
    LaunchTemplate(&'a LaunchTemplateRef),
}

/// The EKS calls the workflow makes.
pub trait Eks: Send + Sync {
    fn describe_cluster(&self, cluster: &str) -> impl Future<Output = Result<ClusterView, EksFailure>> + Send;

    fn update_cluster_version(
        &self,
        cluster: &str,
        version: KubeVersion,
        client_request_token: &str,
        force: bool,
    ) -> impl Future<Output = Result<UpdateView, EksFailure>> + Send;

    /// UpdateClusterVersion one minor down (a VersionRollback), with `rollbackConfig`'s
    /// `timeoutMinutes`: EKS cancels the rollback no sooner than that.
    fn roll_back_cluster_version(
        &self,
        cluster: &str,
        version: KubeVersion,
        client_request_token: &str,
        force: bool,
        timeout_minutes: u32,
    ) -> impl Future<Output = Result<UpdateView, EksFailure>> + Send;

    fn describe_update(
        &self,
        cluster: &str,
        update_id: &str,
    ) -> impl Future<Output = Result<UpdateView, EksFailure>> + Send;

    /// The ids of the cluster's updates (all pages), newest first as EKS lists them.
    fn list_updates(&self, cluster: &str) -> impl Future<Output = Result<Vec<String>, EksFailure>> + Send;

    /// UpdateAddon to `version` with `client_request_token`.
    fn update_addon(
        &self,
        cluster: &str,
        addon: &str,
        version: &str,
        client_request_token: &str,
        resolve_conflicts: &str,
    ) -> impl Future<Output = Result<UpdateView, EksFailure>> + Send;

    /// UpdateNodegroupVersion to `target` with `client_request_token`; `force` evicts pods
    /// despite PodDisruptionBudgets.
    fn update_nodegroup_version(
        &self,
        cluster: &str,
        nodegroup: &str,
        target: NodegroupTarget<'_>,
        client_request_token: &str,
        force: bool,
    ) -> impl Future<Output = Result<UpdateView, EksFailure>> + Send;

    /// DescribeUpdate of an add-on's or node group's update.
    fn describe_item_update(
        &self,
        cluster: &str,
        kind: ItemKind,
        name: &str,
        update_id: &str,
    ) -> impl Future<Output = Result<UpdateView, EksFailure>> + Send;

    /// The Kubernetes versions EKS offers in an account and region (`None`: this function's
    /// own), DescribeClusterVersions, all pages.
    fn describe_cluster_versions(
        &self,
        at: Option<&Location>,
    ) -> impl Future<Output = Result<Vec<OfferedVersion>, EksFailure>> + Send;

    /// The cluster's managed node groups (ListNodegroups, then DescribeNodegroup on each).
    fn nodegroups(&self, cluster: &str) -> impl Future<Output = Result<Vec<NodegroupView>, EksFailure>> + Send;

    /// The cluster's installed add-ons (ListAddons, then DescribeAddon on each).
    fn addons(&self, cluster: &str) -> impl Future<Output = Result<Vec<AddonView>, EksFailure>> + Send;

    /// The versions of an add-on and what each runs on, in an account and region
    /// (DescribeAddonVersions, all pages): the catalogue may differ from region to region.
    fn addon_versions(
        &self,
        at: Option<&Location>,
        addon: &str,
    ) -> impl Future<Output = Result<Vec<AddonVersionOption>, EksFailure>> + Send;

    /// The names of the clusters of an account in a region (ListClusters, all pages): this
    /// function's own (`None`) or a member's, reached through its spoke role.
    fn list_clusters(&self, at: Option<&Location>) -> impl Future<Output = Result<Vec<String>, EksFailure>> + Send;

    /// The cluster's insights of one category (ListInsights, all pages).
    fn insights(
        &self,
        cluster: &str,
        category: InsightCategory,
    ) -> impl Future<Output = Result<Vec<InsightView>, EksFailure>> + Send;
}
