//! Health issues (`health.issues` of clusters, node groups and add-ons): the issue codes the
//! service model allows for each (ClusterIssueCode, NodegroupIssueCode, AddonIssueCode),
//! their validation, and the admin injection ([`State::set_health`]).

use super::data::addon::AddonStatus;
use super::data::nodegroup::NodegroupStatus;
use super::state::State;
use crate::error::ApiError;
use crate::faults::SetHealth;
use crate::seed::HealthIssue;

/// ClusterIssueCode of the service model.
const CLUSTER_ISSUE_CODES: [&str; 19] = [
    "AccessDenied",
    "ClusterUnreachable",
    "ConfigurationConflict",
    "InternalFailure",
    "ResourceLimitExceeded",
    "ResourceNotFound",
    "IamRoleNotFound",
    "VpcNotFound",
    "InsufficientFreeAddresses",
    "Ec2ServiceNotSubscribed",
    "Ec2SubnetNotFound",
    "Ec2SecurityGroupNotFound",
    "KmsGrantRevoked",
    "KmsKeyNotFound",
    "KmsKeyMarkedForDeletion",
    "KmsKeyDisabled",
    "StsRegionalEndpointDisabled",
    "UnsupportedVersion",
    "Other",
];

/// NodegroupIssueCode of the service model (the codes of the `Issue` shape).
const NODEGROUP_ISSUE_CODES: [&str; 36] = [
    "AutoScalingGroupNotFound",
    "AutoScalingGroupInvalidConfiguration",
    "Ec2SecurityGroupNotFound",
    "Ec2SecurityGroupDeletionFailure",
    "Ec2LaunchTemplateNotFound",
    "Ec2LaunchTemplateVersionMismatch",
    "Ec2SubnetNotFound",
    "Ec2SubnetInvalidConfiguration",
    "IamInstanceProfileNotFound",
    "Ec2SubnetMissingIpv6Assignment",
    "IamLimitExceeded",
    "IamNodeRoleNotFound",
    "NodeCreationFailure",
    "AsgInstanceLaunchFailures",
    "InstanceLimitExceeded",
    "InsufficientFreeAddresses",
    "AccessDenied",
    "InternalFailure",
    "ClusterUnreachable",
    "AmiIdNotFound",
    "AutoScalingGroupOptInRequired",
    "AutoScalingGroupRateLimitExceeded",
    "Ec2LaunchTemplateDeletionFailure",
    "Ec2LaunchTemplateInvalidConfiguration",
    "Ec2LaunchTemplateMaxLimitExceeded",
    "Ec2SubnetListTooLong",
    "IamThrottling",
    "NodeTerminationFailure",
    "PodEvictionFailure",
    "SourceEc2LaunchTemplateNotFound",
    "LimitExceeded",
    "Unknown",
    "AutoScalingGroupInstanceRefreshActive",
    "KubernetesLabelInvalid",
    "Ec2LaunchTemplateVersionMaxLimitExceeded",
    "Ec2InstanceTypeDoesNotExist",
];

/// AddonIssueCode of the service model.
const ADDON_ISSUE_CODES: [&str; 10] = [
    "AccessDenied",
    "InternalFailure",
    "ClusterUnreachable",
    "InsufficientNumberOfReplicas",
    "ConfigurationConflict",
    "AdmissionRequestDenied",
    "UnsupportedAddonModification",
    "K8sResourceNotFound",
    "AddonSubscriptionNeeded",
    "AddonPermissionFailure",
];

/// Whose issues: each kind of resource has its own code enum in the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum IssueOwner {
    Cluster,
    Nodegroup,
    Addon,
}

impl IssueOwner {
    fn enum_name(self) -> &'static str {
        match self {
            IssueOwner::Cluster => "ClusterIssueCode",
            IssueOwner::Nodegroup => "NodegroupIssueCode",
            IssueOwner::Addon => "AddonIssueCode",
        }
    }

    fn codes(self) -> &'static [&'static str] {
        match self {
            IssueOwner::Cluster => &CLUSTER_ISSUE_CODES,
            IssueOwner::Nodegroup => &NODEGROUP_ISSUE_CODES,
            IssueOwner::Addon => &ADDON_ISSUE_CODES,
        }
    }
}

/// Refuses a code the model's enum for `owner` does not have.
pub(super) fn check_issues(owner: IssueOwner, issues: &[HealthIssue]) -> Result<(), String> {
    match issues.iter().find(|i| !owner.codes().contains(&i.code.as_str())) {
        Some(i) => Err(format!(
            "health issue code {:?} is not a {} (one of: {})",
            i.code,
            owner.enum_name(),
            owner.codes().join(", ")
        )),
        None => Ok(()),
    }
}

impl State {
    /// Sets the health issues of a cluster, node group or add-on (and the node group's or
    /// add-on's status); returns the status and the issues the resource now has.
    pub(crate) fn set_health(&mut self, h: &SetHealth) -> Result<(String, Vec<HealthIssue>), ApiError> {
        let name = h.cluster.as_str();
        let c = self.cluster_mut(name)?;
        match (&h.nodegroup, &h.addon) {
            (Some(_), Some(_)) => Err(ApiError::invalid_parameter("give either nodegroup or addon, not both")),
            (None, None) => {
                if h.status.is_some() {
                    return Err(ApiError::invalid_parameter(
                        "status can be set for a node group or an add-on, not for a cluster",
                    ));
                }
                set_issues(&mut c.health, IssueOwner::Cluster, h)?;
                Ok((c.status.to_string(), c.health.clone()))
            }
            (Some(n), None) => {
                let ng = c.nodegroups.get_mut(n).ok_or_else(|| ApiError::no_nodegroup(name, n))?;
                let status = parse_status(h, NodegroupStatus::from_text, |s| {
                    matches!(s, NodegroupStatus::Other(_))
                })?;
                set_issues(&mut ng.health, IssueOwner::Nodegroup, h)?;
                if let Some(s) = status {
                    ng.status = s;
                }
                Ok((ng.status.to_string(), ng.health.clone()))
            }
            (None, Some(a)) => {
                let ad = c.addons.get_mut(a).ok_or_else(|| ApiError::no_addon(name, a))?;
                let status = parse_status(h, AddonStatus::from_text, |s| matches!(s, AddonStatus::Other(_)))?;
                set_issues(&mut ad.health, IssueOwner::Addon, h)?;
                if let Some(s) = status {
                    ad.status = s;
                }
                Ok((ad.status.to_string(), ad.health.clone()))
            }
        }
    }
}

/// Replaces `target` with the request's issues once they are valid (absent: unchanged).
fn set_issues(target: &mut Vec<HealthIssue>, owner: IssueOwner, h: &SetHealth) -> Result<(), ApiError> {
    if let Some(issues) = &h.issues {
        check_issues(owner, issues).map_err(ApiError::invalid_parameter)?;
        *target = issues.clone();
    }
    Ok(())
}

/// The request's status, refused when EKS does not know it.
fn parse_status<S>(h: &SetHealth, parse: fn(&str) -> S, unknown: fn(&S) -> bool) -> Result<Option<S>, ApiError> {
    match &h.status {
        None => Ok(None),
        Some(text) => {
            let s = parse(text);
            if unknown(&s) {
                return Err(ApiError::invalid_parameter(format!("unknown status {text:?}")));
            }
            Ok(Some(s))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_the_model() {
        let ok = [HealthIssue::new("NodeCreationFailure", "m", &["i-1"])];
        assert!(check_issues(IssueOwner::Nodegroup, &ok).is_ok());
        let e = check_issues(IssueOwner::Addon, &ok).unwrap_err();
        assert!(e.contains("AddonIssueCode"), "{e}");
        let cluster = [HealthIssue::new("Ec2SubnetNotFound", "m", &[])];
        assert!(check_issues(IssueOwner::Cluster, &cluster).is_ok());
        assert!(check_issues(IssueOwner::Cluster, &[HealthIssue::new("Nope", "", &[])]).is_err());
    }
}
