//! Denied operations (`POST /_emulator/faults/deny`): which requests answer HTTP 403
//! AccessDeniedException, and the ARN of the resource each one acts on, as IAM names it
//! in its message.

use super::state::State;
use crate::error::ApiError;

/// The role the denied caller is taken to have assumed.
const PRINCIPAL_ROLE: &str = "eks-upgrade-orchestrator/session";

/// The resource an operation acts on, as IAM authorizes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IamResource {
    /// An action without a resource type (DescribeAddonVersions, DescribeClusterVersions).
    Any,
    /// ListClusters.
    AllClusters,
    Cluster(String),
    Nodegroup(String, String),
    Addon(String, String),
}

impl IamResource {
    /// The cluster the resource belongs to.
    fn cluster(&self) -> Option<&str> {
        match self {
            IamResource::Any | IamResource::AllClusters => None,
            IamResource::Cluster(c) | IamResource::Nodegroup(c, _) | IamResource::Addon(c, _) => Some(c),
        }
    }
}

impl State {
    /// The AccessDeniedException a denied `operation` on `resource` answers, if a deny
    /// rule matches it.
    pub(crate) fn access_denied(&self, operation: &str, resource: &IamResource) -> Option<ApiError> {
        let cluster = resource.cluster();
        self.faults
            .denied_operations
            .iter()
            .find(|r| r.operation == operation && r.cluster.as_deref().is_none_or(|c| Some(c) == cluster))?;
        Some(ApiError::access_denied(format!(
            "User: arn:aws:sts::{}:assumed-role/{PRINCIPAL_ROLE} is not authorized to perform: eks:{operation} on resource: {}",
            self.account_id,
            self.resource_arn(resource)
        )))
    }

    /// The resource's ARN (with `*` for the unique suffix of a node group or add-on that
    /// does not exist).
    fn resource_arn(&self, resource: &IamResource) -> String {
        let prefix = format!("arn:aws:eks:{}:{}", self.region, self.account_id);
        let c = resource.cluster().and_then(|c| self.clusters.get(c));
        match resource {
            IamResource::Any => "*".to_string(),
            IamResource::AllClusters => format!("{prefix}:cluster/*"),
            IamResource::Cluster(name) => c.map_or_else(|| format!("{prefix}:cluster/{name}"), |c| c.arn.clone()),
            IamResource::Nodegroup(cl, n) => c
                .and_then(|c| c.nodegroups.get(n))
                .map_or_else(|| format!("{prefix}:nodegroup/{cl}/{n}/*"), |ng| ng.arn.clone()),
            IamResource::Addon(cl, a) => c
                .and_then(|c| c.addons.get(a))
                .map_or_else(|| format!("{prefix}:addon/{cl}/{a}/*"), |ad| ad.arn.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::state::test_state;
    use super::*;
    use crate::faults::DenyRule;
    use crate::seed::Seed;

    #[test]
    fn denied_operations_name_the_resource() {
        let mut s = test_state();
        let seed = r#"{"clusters":[{"name":"c","version":"1.30","nodegroups":[{"name":"ng"}]}]}"#;
        s.apply_seed(&Seed::from_json(seed).unwrap(), 1.0).unwrap();
        s.faults.denied_operations = vec![
            DenyRule::new("UpdateClusterVersion", Some("c")),
            DenyRule::new("DescribeNodegroup", None),
        ];
        let c = IamResource::Cluster("c".into());
        let e = s.access_denied("UpdateClusterVersion", &c).unwrap();
        assert_eq!((e.status, e.code), (403, "AccessDeniedException"));
        assert_eq!(e.message, "User: arn:aws:sts::123456789012:assumed-role/eks-upgrade-orchestrator/session is not authorized to perform: eks:UpdateClusterVersion on resource: arn:aws:eks:us-east-1:123456789012:cluster/c");
        assert!(s
            .access_denied("UpdateClusterVersion", &IamResource::Cluster("d".into()))
            .is_none());
        assert!(s.access_denied("DescribeCluster", &c).is_none());
        let ng = s
            .access_denied("DescribeNodegroup", &IamResource::Nodegroup("c".into(), "ng".into()))
            .unwrap();
        assert!(ng.message.contains(":nodegroup/c/ng/"), "{}", ng.message);
        assert!(!ng.message.ends_with('*'));
        let gone = s
            .access_denied("DescribeNodegroup", &IamResource::Nodegroup("c".into(), "x".into()))
            .unwrap();
        assert!(gone.message.ends_with(":nodegroup/c/x/*"), "{}", gone.message);
    }
}
