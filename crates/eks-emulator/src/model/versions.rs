//! The table of Kubernetes versions (support status, platform version, dates, patch
//! release) and DescribeClusterVersions.

use super::data::version::{VersionInfo, VersionStatus, AMI_BUILD_DATE};
use super::state::{paginate, Page, State};
use crate::error::ApiError;
use crate::util::parse_minor;

/// Query parameters of DescribeClusterVersions.
#[derive(Debug, Default)]
pub(crate) struct ClusterVersionsQuery {
    pub cluster_type: Option<String>,
    pub cluster_versions: Vec<String>,
    pub default_only: bool,
    pub include_all: bool,
    pub version_status: Option<String>,
    pub status: Option<String>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
}

impl State {
    pub(super) fn version_info(&self, v: &str) -> Option<&VersionInfo> {
        self.versions.iter().find(|x| x.version == v)
    }

    /// Whether clusters may be created at or updated to `v`.
    pub(super) fn supported(&self, v: &str) -> bool {
        self.version_info(v)
            .is_some_and(|x| x.status != VersionStatus::Unsupported)
    }

    /// CreateCluster's version when none is given: the default, else the newest supported.
    pub(super) fn default_version(&self) -> Option<String> {
        self.versions
            .iter()
            .find(|v| v.default)
            .or_else(|| {
                self.versions
                    .iter()
                    .rev()
                    .find(|v| v.status != VersionStatus::Unsupported)
            })
            .map(|v| v.version.clone())
    }

    /// The platform version a cluster gets at `v`.
    pub(super) fn platform_for(&self, v: &str) -> String {
        self.version_info(v)
            .map(|x| x.platform_version.clone())
            .unwrap_or_else(|| "eks.1".into())
    }

    /// The latest node-group AMI release version for `v`, e.g. "1.31.13-20261101".
    pub(super) fn latest_release(&self, v: &str) -> String {
        let patch = self
            .version_info(v)
            .and_then(|x| x.patch.clone())
            .unwrap_or_else(|| format!("{v}.0"));
        format!("{patch}-{AMI_BUILD_DATE}")
    }

    /// Newest first; UNSUPPORTED versions only with `includeAll` or a version or status filter.
    pub(crate) fn describe_cluster_versions(&self, q: &ClusterVersionsQuery) -> Result<Page<&VersionInfo>, ApiError> {
        let version_status = match &q.version_status {
            Some(s) => Some(
                VersionStatus::parse(s)
                    .ok_or_else(|| ApiError::invalid_parameter(format!("Invalid versionStatus {s}")))?,
            ),
            None => None,
        };
        let mut rows: Vec<&VersionInfo> = self
            .versions
            .iter()
            .filter(|_| q.cluster_type.as_ref().is_none_or(|t| t == "eks"))
            .filter(|v| q.cluster_versions.is_empty() || q.cluster_versions.contains(&v.version))
            .filter(|v| !q.default_only || v.default)
            .filter(|v| {
                q.include_all
                    || !q.cluster_versions.is_empty()
                    || q.version_status.is_some()
                    || q.status.is_some()
                    || v.status != VersionStatus::Unsupported
            })
            .filter(|v| version_status.is_none_or(|s| s == v.status))
            .filter(|v| q.status.as_ref().is_none_or(|s| s == v.status.support_status()))
            .collect();
        rows.sort_by_key(|v| std::cmp::Reverse(parse_minor(&v.version)));
        paginate(rows, q.max_results, q.next_token.as_deref())
    }
}
