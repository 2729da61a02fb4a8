//! EKS's messages: verbatim where `../shared/reference/eks-api.md` ("Errors and real messages")
//! quotes them (the upgrade refusals, not-found, the custom AMI); EKS documents no message or code
//! for a refused version rollback, so those (`ROLLBACK_INSIGHTS_BLOCKING` and the prerequisites in
//! `refuse_rollback`) are our wording, and the orchestrator treats any client error of that call
//! as the refusal and shows whatever EKS says.

/// UpdateClusterVersion refused by an UPGRADE_READINESS insight in ERROR.
pub const UPGRADE_INSIGHTS_BLOCKING: &str = "Upgrade readiness issues detected. Call the EKS ListInsights API to view \
upgrade blocking issues detected by EKS. Pass the force flag to override upgrade readiness errors and proceed with upgrade.";

/// A rollback refused by a ROLLBACK_READINESS insight in ERROR.
pub const ROLLBACK_INSIGHTS_BLOCKING: &str =
    "Rollback readiness issues detected. Call the EKS ListInsights API to view \
rollback blocking issues detected by EKS. Pass the force flag to override rollback readiness errors and proceed with \
rollback.";

/// UpdateNodegroupVersion with a version, for a node group whose launch template names an AMI.
pub const CUSTOM_AMI_UPDATE: &str = "You cannot specify the field kubernetesVersion when using custom AMIs";

/// Another update of the resource runs (`resource`: "cluster devel", "addon vpc-cni").
pub fn update_in_progress(kind: &str, resource: &str, update_id: &str) -> String {
    format!("Cannot {kind} because {resource} currently has update {update_id} in progress")
}

/// A version update that is not one minor up (or, for a rollback, one minor down).
pub fn unsupported_minor_update(current: &str, requested: &str) -> String {
    format!("Unsupported Kubernetes minor version update from {current} to {requested}")
}

/// DescribeCluster (and every call naming the cluster) of a cluster that does not exist.
pub fn cluster_not_found(name: &str) -> String {
    format!("No cluster found for name: {name}.")
}

/// DescribeUpdate of an update EKS does not know.
pub fn update_not_found(id: &str) -> String {
    format!("No update found for ID: {id}")
}
