//! Kubernetes `MAJOR.MINOR` versions as EKS uses them ("1.31").

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A Kubernetes minor release as EKS names it: `1.31`. Ordered, so "already at or past the
/// target" is a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KubeVersion {
    pub major: u16,
    pub minor: u16,
}

impl KubeVersion {
    pub const fn new(major: u16, minor: u16) -> Self {
        Self { major, minor }
    }

    /// The next minor release: the only version EKS accepts as the target of one control-plane
    /// update.
    pub fn next_minor(self) -> Self {
        Self::new(self.major, self.minor + 1)
    }
}

impl fmt::Display for KubeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Why a string is not a Kubernetes version; the text is shown to the operator as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionError(pub String);

impl fmt::Display for VersionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for VersionError {}

const EXPECTED: &str = "a Kubernetes version MAJOR.MINOR such as \"1.31\"";

impl FromStr for KubeVersion {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let shown: String = s.chars().take(40).collect();
        let bad = || VersionError(format!("expected {EXPECTED}, got {shown:?}"));
        let (major, minor) = s.split_once('.').ok_or_else(bad)?;
        let number = |part: &str| -> Result<u16, VersionError> {
            // Digits only, no sign, no leading zero ("01.30" is not a version EKS knows).
            let canonical = !part.is_empty()
                && part.len() <= 3
                && part.bytes().all(|b| b.is_ascii_digit())
                && !(part.len() > 1 && part.starts_with('0'));
            if canonical {
                part.parse().map_err(|_| bad())
            } else {
                Err(bad())
            }
        };
        let version = KubeVersion::new(number(major)?, number(minor)?);
        if version.major != 1 {
            return Err(VersionError(format!(
                "expected {EXPECTED}: Kubernetes has no major version {}, got {shown:?}",
                version.major
            )));
        }
        Ok(version)
    }
}

impl Serialize for KubeVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for KubeVersion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// What a request asks for: a version, `latest` (the newest version in standard support), or
/// for a rollout `standard-support` (the oldest version that stays in standard support for
/// the rollout's `minDaysOfStandardSupport`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TargetVersion {
    Exact(KubeVersion),
    Latest,
    StandardSupport,
}

impl fmt::Display for TargetVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exact(v) => v.fmt(f),
            Self::Latest => f.write_str("latest"),
            Self::StandardSupport => f.write_str("standard-support"),
        }
    }
}

impl Serialize for TargetVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TargetVersion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        match text.as_str() {
            "latest" => return Ok(Self::Latest),
            "standard-support" => return Ok(Self::StandardSupport),
            _ => {}
        }
        text.parse::<KubeVersion>()
            .map(Self::Exact)
            .map_err(|e| serde::de::Error::custom(format!("{e}, \"latest\" or (a rollout's) \"standard-support\"")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_canonical_versions() {
        assert_eq!("1.31".parse::<KubeVersion>().unwrap(), KubeVersion::new(1, 31));
        assert_eq!("1.9".parse::<KubeVersion>().unwrap(), KubeVersion::new(1, 9));
        assert_eq!("1.0".parse::<KubeVersion>().unwrap(), KubeVersion::new(1, 0));
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "",
            "1",
            "1.",
            ".1",
            "1.3a",
            "01.30",
            "1.030",
            "2.0",
            "0.9",
            "1.31.0",
            "v1.31",
            " 1.31",
            "1.31 ",
            "+1.31",
            "1.-1",
            "1.99999",
            "１.３１",
        ] {
            let err = bad.parse::<KubeVersion>().unwrap_err();
            assert!(err.0.contains("MAJOR.MINOR"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn orders_by_minor() {
        let v = |s: &str| s.parse::<KubeVersion>().unwrap();
        assert!(v("1.9") < v("1.10"));
        assert!(v("1.31") < v("1.32"));
        assert_eq!(v("1.31").next_minor(), v("1.32"));
    }
}
