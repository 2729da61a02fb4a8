//! The table of Kubernetes versions (support status, platform version, dates, patch
//! release) and DescribeClusterVersions.

use crate::error::ApiError;
use crate::seed::{DateValue, SeedError, SeedVersion};
use crate::util::{self, parse_minor};

use super::{paginate, Page, State};

/// Build date of the node-group AMI release versions the emulator makes up.
const AMI_BUILD_DATE: &str = "20261101";

eks_enum! {
    /// Support status of a Kubernetes version.
    VersionStatus {
        StandardSupport = "STANDARD_SUPPORT",
        ExtendedSupport = "EXTENDED_SUPPORT",
        Unsupported = "UNSUPPORTED",
    }
}

impl VersionStatus {
    /// The deprecated `status` member spelling of the same thing.
    pub(crate) fn support_status(self) -> &'static str {
        match self {
            VersionStatus::StandardSupport => "standard-support",
            VersionStatus::ExtendedSupport => "extended-support",
            VersionStatus::Unsupported => "unsupported",
        }
    }
}

/// One row of the version table.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VersionInfo {
    pub version: String,
    pub status: VersionStatus,
    pub default: bool,
    pub platform_version: String,
    pub release_date: Option<f64>,
    pub end_of_standard: Option<f64>,
    pub end_of_extended: Option<f64>,
    pub patch: Option<String>,
}

impl VersionInfo {
    /// A row from a seed (end dates default to release + 14 / + 26 months).
    pub(super) fn from_seed(s: &SeedVersion) -> Result<VersionInfo, SeedError> {
        if parse_minor(&s.version).is_none() {
            return Err(SeedError(format!(
                "kubernetesVersions: {:?} is not a MAJOR.MINOR version",
                s.version
            )));
        }
        let text = s.version_status.as_deref().unwrap_or("STANDARD_SUPPORT");
        let status = VersionStatus::parse(text).ok_or_else(|| {
            SeedError(format!(
                "kubernetesVersions: versionStatus {text:?} is not STANDARD_SUPPORT, EXTENDED_SUPPORT or UNSUPPORTED"
            ))
        })?;
        let release = s.release_date.as_ref().map(|d| d.resolve()).transpose()?;
        let eoss = match &s.end_of_standard_support_date {
            Some(d) => Some(d.resolve()?),
            None => release.map(|r| util::add_months(r, 14)),
        };
        let eoes = match &s.end_of_extended_support_date {
            Some(d) => Some(d.resolve()?),
            None => release.map(|r| util::add_months(r, 26)),
        };
        Ok(VersionInfo {
            version: s.version.clone(),
            status,
            default: s.default_version,
            platform_version: s.platform_version.clone().unwrap_or_else(|| "eks.1".into()),
            release_date: release,
            end_of_standard: eoss,
            end_of_extended: eoes,
            patch: s.kubernetes_patch_version.clone(),
        })
    }

    /// The row as a seed entry (for the admin state dump).
    pub(crate) fn to_seed(&self) -> SeedVersion {
        SeedVersion {
            version: self.version.clone(),
            version_status: Some(self.status.as_str().to_string()),
            default_version: self.default,
            platform_version: Some(self.platform_version.clone()),
            release_date: self.release_date.map(DateValue::Epoch),
            end_of_standard_support_date: self.end_of_standard.map(DateValue::Epoch),
            end_of_extended_support_date: self.end_of_extended.map(DateValue::Epoch),
            kubernetes_patch_version: self.patch.clone(),
        }
    }
}

/// Compares two MAJOR.MINOR versions (None if either is not one).
pub(super) fn cmp_versions(a: &str, b: &str) -> Option<std::cmp::Ordering> {
    Some(parse_minor(a)?.cmp(&parse_minor(b)?))
}

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
