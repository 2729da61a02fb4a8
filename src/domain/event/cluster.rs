//! Which cluster: an account, a region and a name. A reference is a name (the function's own
//! account and region, as before accounts existed), `{"name", "account", "region"}`, or a
//! cluster ARN. Its [`key`](ClusterId::key) is what records, locks and rollouts store: the bare
//! name for a cluster of the function's own account and region (so records written before
//! accounts existed are still found), the cluster's ARN for any other, which is itself a valid
//! reference, so a stored key reads back as the same cluster.

use super::ClusterName;
use crate::domain::text::shown;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::fmt;

/// A 12-digit AWS account id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(String);

/// An AWS region's code, such as `eu-west-1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Region(String);

/// Where a cluster lives, when it is not the function's own account and region.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    pub account: AccountId,
    pub region: Region,
}

/// A cluster: its name, and where it lives (`None`: the function's own account and region).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClusterId {
    pub name: ClusterName,
    pub at: Option<Location>,
}

impl AccountId {
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(text.to_owned()))
        } else {
            Err(format!("expected a 12-digit AWS account id, got {}", shown(text)))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Region {
    /// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`: lower-case words joined by
    /// `-`, ending in a number.
    pub fn parse(text: &str) -> Result<Self, String> {
        let parts: Vec<&str> = text.split('-').collect();
        let ok = parts.len() >= 3
            && text.len() <= 32
            && parts[..parts.len() - 1]
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
            && parts[parts.len() - 1].len() <= 2
            && !parts[parts.len() - 1].is_empty()
            && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit());
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(format!("expected an AWS region such as eu-west-1, got {}", shown(text)))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The ARN partition the region belongs to.
    pub fn partition(&self) -> &'static str {
        let r = self.0.as_str();
        if r.starts_with("cn-") {
            "aws-cn"
        } else if r.starts_with("us-gov-") {
            "aws-us-gov"
        } else if r.starts_with("us-isob-") {
            "aws-iso-b"
        } else if r.starts_with("us-iso-") {
            "aws-iso"
        } else {
            "aws"
        }
    }
}

impl Location {
    pub fn new(account: &str, region: &str) -> Result<Self, String> {
        Ok(Self {
            account: AccountId::parse(account)?,
            region: Region::parse(region)?,
        })
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.account.0, self.region.0)
    }
}

impl ClusterId {
    /// A cluster of the function's own account and region.
    pub fn home(name: ClusterName) -> Self {
        Self { name, at: None }
    }

    /// Reads a reference: a name, or a cluster ARN.
    pub fn parse(text: &str) -> Result<Self, String> {
        if !text.starts_with("arn:") {
            return ClusterName::parse(text).map(Self::home);
        }
        let bad = || {
            format!(
                "expected a cluster name or a cluster ARN (arn:aws:eks:<region>:<account>:cluster/<name>), got {}",
                shown(text)
            )
        };
        let parts: Vec<&str> = text.splitn(6, ':').collect();
        let [_, partition, service, region, account, resource] = parts[..] else {
            return Err(bad());
        };
        let Some(name) = resource.strip_prefix("cluster/") else {
            return Err(bad());
        };
        if service != "eks" {
            return Err(bad());
        }
        let at = Location::new(account, region).map_err(|e| format!("{}: {e}", bad()))?;
        if at.region.partition() != partition {
            return Err(format!(
                "{}: region {} is in partition {}",
                bad(),
                region,
                at.region.partition()
            ));
        }
        let name = ClusterName::parse(name).map_err(|e| format!("{}: {e}", bad()))?;
        Ok(Self { name, at: Some(at) })
    }

    /// The same cluster, told where home is: a reference to the function's own account and
    /// region becomes a bare name, so one cluster has one key however it was named.
    pub fn homed(self, home: Option<&Location>) -> Self {
        match (&self.at, home) {
            (Some(at), Some(home)) if at == home => Self::home(self.name),
            _ => self,
        }
    }

    /// What records, locks and rollouts store (see the module's comment).
    pub fn key(&self) -> String {
        match &self.at {
            None => self.name.as_str().to_owned(),
            Some(at) => format!(
                "arn:{}:eks:{}:{}:cluster/{}",
                at.region.partition(),
                at.region.0,
                at.account.0,
                self.name.as_str()
            ),
        }
    }

    /// Its account, if not the function's own.
    pub fn account(&self) -> Option<&AccountId> {
        self.at.as_ref().map(|at| &at.account)
    }
}

impl fmt::Display for ClusterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.at {
            None => f.write_str(self.name.as_str()),
            Some(at) => write!(f, "{} ({} in {})", self.name.as_str(), at.account.0, at.region.0),
        }
    }
}

impl Serialize for AccountId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for AccountId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl Serialize for Region {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Region {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl Serialize for ClusterId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.key())
    }
}

impl<'de> Deserialize<'de> for ClusterId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Spec {
            name: ClusterName,
            account: Option<String>,
            region: Option<String>,
        }
        match Value::deserialize(d)? {
            Value::String(text) => Self::parse(&text).map_err(serde::de::Error::custom),
            object @ Value::Object(_) => {
                let spec: Spec = serde_json::from_value(object).map_err(serde::de::Error::custom)?;
                match (spec.account, spec.region) {
                    (None, None) => Ok(Self::home(spec.name)),
                    (Some(account), Some(region)) => Ok(Self {
                        name: spec.name,
                        at: Some(Location::new(&account, &region).map_err(serde::de::Error::custom)?),
                    }),
                    _ => Err(serde::de::Error::custom(
                        "expected both \"account\" and \"region\" with a cluster's \"name\", or neither",
                    )),
                }
            }
            other => Err(serde::de::Error::custom(format!(
                "expected a cluster name, a cluster ARN or {{\"name\", \"account\", \"region\"}}, got {other}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn id(v: Value) -> Result<ClusterId, String> {
        serde_json::from_value(v).map_err(|e| e.to_string())
    }

    #[test]
    fn a_name_is_a_home_cluster_whose_key_is_the_name_as_before() {
        let c = id(json!("devel")).unwrap();
        assert_eq!((c.at.clone(), c.key()), (None, "devel".to_owned()));
        assert_eq!(serde_json::to_value(&c).unwrap(), json!("devel"));
    }

    #[test]
    fn an_object_and_an_arn_name_the_same_cluster_and_its_key_reads_back() {
        let object = id(json!({"name": "prod-1", "account": "210987654321", "region": "eu-west-1"})).unwrap();
        let arn = id(json!("arn:aws:eks:eu-west-1:210987654321:cluster/prod-1")).unwrap();
        assert_eq!(object, arn);
        assert_eq!(object.key(), "arn:aws:eks:eu-west-1:210987654321:cluster/prod-1");
        assert_eq!(ClusterId::parse(&object.key()).unwrap(), object);
        let gov = ClusterId::parse("arn:aws-us-gov:eks:us-gov-west-1:210987654321:cluster/x").unwrap();
        assert_eq!(ClusterId::parse(&gov.key()).unwrap(), gov);
    }

    #[test]
    fn the_same_name_in_two_accounts_or_regions_is_two_clusters() {
        let a = ClusterId::parse("arn:aws:eks:eu-west-1:111111111111:cluster/web").unwrap();
        let b = ClusterId::parse("arn:aws:eks:eu-west-1:222222222222:cluster/web").unwrap();
        let c = ClusterId::parse("arn:aws:eks:us-east-1:111111111111:cluster/web").unwrap();
        let home = ClusterId::parse("web").unwrap();
        let keys: std::collections::BTreeSet<String> = [&a, &b, &c, &home].iter().map(|c| c.key()).collect();
        assert_eq!(keys.len(), 4);
    }

    #[test]
    fn a_reference_to_home_is_the_bare_name() {
        let home = Location::new("123456789012", "us-east-1").unwrap();
        let c = ClusterId::parse("arn:aws:eks:us-east-1:123456789012:cluster/devel").unwrap();
        assert_eq!(c.homed(Some(&home)).key(), "devel");
        let other = ClusterId::parse("arn:aws:eks:us-west-2:123456789012:cluster/devel").unwrap();
        assert_eq!(
            other.clone().homed(Some(&home)),
            other,
            "another region is another cluster"
        );
    }

    #[test]
    fn bad_references_name_what_was_expected() {
        for (bad, expected) in [
            (
                json!("arn:aws:eks:eu-west-1:2109876543:cluster/x"),
                "12-digit AWS account id",
            ),
            (json!("arn:aws:eks:EU-west-1:210987654321:cluster/x"), "AWS region"),
            (json!("arn:aws:ec2:eu-west-1:210987654321:cluster/x"), "cluster ARN"),
            (json!("arn:aws:eks:eu-west-1:210987654321:nodegroup/x"), "cluster ARN"),
            (
                json!("arn:aws-cn:eks:eu-west-1:210987654321:cluster/x"),
                "partition aws",
            ),
            (
                json!("arn:aws:eks:eu-west-1:210987654321:cluster/dev/el"),
                "EKS cluster name",
            ),
            (
                json!({"name": "x", "account": "210987654321"}),
                "both \"account\" and \"region\"",
            ),
            (json!({"name": "x", "acount": "210987654321"}), "unknown field"),
            (json!(7), "a cluster name, a cluster ARN"),
            (json!("dev/el"), "EKS cluster name"),
        ] {
            let e = id(bad.clone()).unwrap_err();
            assert!(e.contains(expected), "{bad}: {e}");
        }
    }
}
