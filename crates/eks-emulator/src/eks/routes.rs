//! The EKS operations and their routes (method and path as in the service model).

use axum::http::Method;

/// The name of every operation the emulator serves.
pub(crate) const OPERATIONS: [&str; 19] = [
    "CreateCluster",
    "ListClusters",
    "DescribeCluster",
    "DeleteCluster",
    "UpdateClusterVersion",
    "ListUpdates",
    "DescribeUpdate",
    "CancelUpdate",
    "CreateNodegroup",
    "ListNodegroups",
    "DescribeNodegroup",
    "UpdateNodegroupVersion",
    "CreateAddon",
    "ListAddons",
    "DescribeAddon",
    "UpdateAddon",
    "DescribeAddonVersions",
    "ListInsights",
    "DescribeClusterVersions",
];

/// An EKS operation with its path parameters.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Op {
    CreateCluster,
    ListClusters,
    DescribeCluster(String),
    DeleteCluster(String),
    UpdateClusterVersion(String),
    ListUpdates(String),
    DescribeUpdate(String, String),
    CancelUpdate(String, String),
    CreateNodegroup(String),
    ListNodegroups(String),
    DescribeNodegroup(String, String),
    UpdateNodegroupVersion(String, String),
    CreateAddon(String),
    ListAddons(String),
    DescribeAddon(String, String),
    UpdateAddon(String, String),
    DescribeAddonVersions,
    ListInsights(String),
    DescribeClusterVersions,
}

impl Op {
    /// Maps method and decoded path segments to an operation.
    pub(crate) fn route(method: &Method, segs: &[String]) -> Option<Op> {
        let s: Vec<&str> = segs.iter().map(String::as_str).collect();
        let m = method.as_str();
        let o = |x: &str| x.to_string();
        Some(match (m, s.as_slice()) {
            ("POST", ["clusters"]) => Op::CreateCluster,
            ("GET", ["clusters"]) => Op::ListClusters,
            ("GET", ["clusters", c]) => Op::DescribeCluster(o(c)),
            ("DELETE", ["clusters", c]) => Op::DeleteCluster(o(c)),
            ("POST", ["clusters", c, "updates"]) => Op::UpdateClusterVersion(o(c)),
            ("GET", ["clusters", c, "updates"]) => Op::ListUpdates(o(c)),
            ("GET", ["clusters", c, "updates", u]) => Op::DescribeUpdate(o(c), o(u)),
            ("POST", ["clusters", c, "updates", u, "cancel-update"]) => Op::CancelUpdate(o(c), o(u)),
            ("POST", ["clusters", c, "node-groups"]) => Op::CreateNodegroup(o(c)),
            ("GET", ["clusters", c, "node-groups"]) => Op::ListNodegroups(o(c)),
            ("GET", ["clusters", c, "node-groups", n]) => Op::DescribeNodegroup(o(c), o(n)),
            ("POST", ["clusters", c, "node-groups", n, "update-version"]) => Op::UpdateNodegroupVersion(o(c), o(n)),
            ("POST", ["clusters", c, "addons"]) => Op::CreateAddon(o(c)),
            ("GET", ["clusters", c, "addons"]) => Op::ListAddons(o(c)),
            ("GET", ["clusters", c, "addons", a]) => Op::DescribeAddon(o(c), o(a)),
            ("POST", ["clusters", c, "addons", a, "update"]) => Op::UpdateAddon(o(c), o(a)),
            ("GET", ["addons", "supported-versions"]) => Op::DescribeAddonVersions,
            ("POST", ["clusters", c, "insights"]) => Op::ListInsights(o(c)),
            ("GET", ["cluster-versions"]) => Op::DescribeClusterVersions,
            _ => return None,
        })
    }

    /// The operation's name, e.g. "UpdateClusterVersion".
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Op::CreateCluster => "CreateCluster",
            Op::ListClusters => "ListClusters",
            Op::DescribeCluster(_) => "DescribeCluster",
            Op::DeleteCluster(_) => "DeleteCluster",
            Op::UpdateClusterVersion(_) => "UpdateClusterVersion",
            Op::ListUpdates(_) => "ListUpdates",
            Op::DescribeUpdate(..) => "DescribeUpdate",
            Op::CancelUpdate(..) => "CancelUpdate",
            Op::CreateNodegroup(_) => "CreateNodegroup",
            Op::ListNodegroups(_) => "ListNodegroups",
            Op::DescribeNodegroup(..) => "DescribeNodegroup",
            Op::UpdateNodegroupVersion(..) => "UpdateNodegroupVersion",
            Op::CreateAddon(_) => "CreateAddon",
            Op::ListAddons(_) => "ListAddons",
            Op::DescribeAddon(..) => "DescribeAddon",
            Op::UpdateAddon(..) => "UpdateAddon",
            Op::DescribeAddonVersions => "DescribeAddonVersions",
            Op::ListInsights(_) => "ListInsights",
            Op::DescribeClusterVersions => "DescribeClusterVersions",
        }
    }

    /// The cluster named in the path, if any.
    pub(crate) fn cluster(&self) -> Option<&str> {
        match self {
            Op::CreateCluster | Op::ListClusters | Op::DescribeAddonVersions | Op::DescribeClusterVersions => None,
            Op::DescribeCluster(c)
            | Op::DeleteCluster(c)
            | Op::UpdateClusterVersion(c)
            | Op::ListUpdates(c)
            | Op::DescribeUpdate(c, _)
            | Op::CancelUpdate(c, _)
            | Op::CreateNodegroup(c)
            | Op::ListNodegroups(c)
            | Op::DescribeNodegroup(c, _)
            | Op::UpdateNodegroupVersion(c, _)
            | Op::CreateAddon(c)
            | Op::ListAddons(c)
            | Op::DescribeAddon(c, _)
            | Op::UpdateAddon(c, _)
            | Op::ListInsights(c) => Some(c),
        }
    }

    /// Whether the operation changes something (lost-response faults apply to these).
    pub(crate) fn mutating(&self) -> bool {
        matches!(
            self,
            Op::CreateCluster
                | Op::DeleteCluster(_)
                | Op::UpdateClusterVersion(_)
                | Op::CancelUpdate(..)
                | Op::CreateNodegroup(_)
                | Op::UpdateNodegroupVersion(..)
                | Op::CreateAddon(_)
                | Op::UpdateAddon(..)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(p: &str) -> Vec<String> {
        p.split('/').filter(|s| !s.is_empty()).map(str::to_string).collect()
    }

    #[test]
    fn routes() {
        assert_eq!(
            Op::route(&Method::POST, &segs("/clusters/c/updates")),
            Some(Op::UpdateClusterVersion("c".into()))
        );
        assert_eq!(
            Op::route(&Method::GET, &segs("/clusters/c/updates/u")),
            Some(Op::DescribeUpdate("c".into(), "u".into()))
        );
        assert_eq!(
            Op::route(&Method::POST, &segs("/clusters/c/insights")),
            Some(Op::ListInsights("c".into()))
        );
        assert_eq!(Op::route(&Method::GET, &segs("/clusters/c/insights")), None);
        assert_eq!(Op::route(&Method::PUT, &segs("/clusters")), None);
        assert_eq!(Op::route(&Method::GET, &segs("/nope")), None);
    }

    #[test]
    fn every_routed_operation_is_listed() {
        let ops = [
            Op::CreateCluster,
            Op::ListClusters,
            Op::DescribeCluster("c".into()),
            Op::DeleteCluster("c".into()),
            Op::UpdateClusterVersion("c".into()),
            Op::ListUpdates("c".into()),
            Op::DescribeUpdate("c".into(), "u".into()),
            Op::CancelUpdate("c".into(), "u".into()),
            Op::CreateNodegroup("c".into()),
            Op::ListNodegroups("c".into()),
            Op::DescribeNodegroup("c".into(), "n".into()),
            Op::UpdateNodegroupVersion("c".into(), "n".into()),
            Op::CreateAddon("c".into()),
            Op::ListAddons("c".into()),
            Op::DescribeAddon("c".into(), "a".into()),
            Op::UpdateAddon("c".into(), "a".into()),
            Op::DescribeAddonVersions,
            Op::ListInsights("c".into()),
            Op::DescribeClusterVersions,
        ];
        let names: Vec<&str> = ops.iter().map(Op::name).collect();
        assert_eq!(names, OPERATIONS);
    }
}
