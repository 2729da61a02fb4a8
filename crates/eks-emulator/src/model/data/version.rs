//! One row of the Kubernetes version table and its support status.

use crate::seed::{DateValue, SeedError, SeedVersion};
use crate::util;
use crate::util::parse_minor;

/// Build date of the node-group AMI release versions the emulator makes up.
pub(in crate::model) const AMI_BUILD_DATE: &str = "20261101";

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
    /// The seed named the status: it stays. Otherwise it follows the emulator's clock past
    /// the end dates, as EKS's does.
    pub pinned: bool,
}

impl VersionInfo {
    /// A row from a seed (end dates default to release + 14 / + 26 months).
    pub(in crate::model) fn from_seed(s: &SeedVersion) -> Result<VersionInfo, SeedError> {
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
            pinned: s.version_status.is_some(),
        })
    }

    /// The status at `now`: an unpinned version moves to EXTENDED_SUPPORT at its end of
    /// standard support and to UNSUPPORTED at its end of extended support.
    pub(crate) fn follow_clock(&mut self, now: f64) {
        if self.pinned {
            return;
        }
        self.status = match (self.end_of_standard, self.end_of_extended) {
            (Some(eoss), _) if now < eoss => VersionStatus::StandardSupport,
            (Some(_), Some(eoes)) if now < eoes => VersionStatus::ExtendedSupport,
            (Some(_), Some(_)) => VersionStatus::Unsupported,
            _ => self.status,
        };
    }

    /// The row as a seed entry (for the admin state dump).
    pub(crate) fn to_seed(&self) -> SeedVersion {
        SeedVersion {
            version: self.version.clone(),
            version_status: self.pinned.then(|| self.status.as_str().to_string()),
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
pub(in crate::model) fn cmp_versions(a: &str, b: &str) -> Option<std::cmp::Ordering> {
    Some(parse_minor(a)?.cmp(&parse_minor(b)?))
}
