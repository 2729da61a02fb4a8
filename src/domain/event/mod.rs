//! The events the function accepts, decoded and validated before anything is written.
//!
//! Told apart by their shape:
//! - an upgrade request, flat: `{"cluster": "devel", "targetVersion": "1.31"}` (what an
//!   EventBridge Scheduler schedule sends as its `Input`);
//! - `{"continuation": {...}}`: what the function sends itself to go on tracking;
//! - `{"status": {"cluster": "devel"}}`: an operator's question;
//! - `{"sweep": {}}`: the periodic backstop;
//! - `{"cancel": ...}`, `{"rollback": ...}`: an operator's controls of one upgrade;
//! - `{"rollout": ...}`, `{"rolloutControl": ...}`, `{"rolloutStatus": ...}`,
//!   `{"rolloutTick": ...}`: a fleet upgraded in stages ([`rollout`]).
//!
//! Any of them may also arrive inside an EventBridge rule envelope, as its `detail`.

pub mod cluster;
mod decode;
pub mod rollout;
pub mod wake;

pub use cluster::{AccountId, ClusterId, Location, Region};
pub use decode::{decode_event, InboundEvent};

use super::plan::NodegroupLaunchTemplates;
use super::text::shown;
use super::version::TargetVersion;
use super::window::{Exclusions, MaintenanceWindow};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use std::fmt;

/// A cluster name as the EKS model allows it: 1-100 characters, `^[0-9A-Za-z][A-Za-z0-9\-_]*`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct ClusterName(String);

/// Names an upgrade request; with the cluster it is the record's key. 1-128 characters of
/// letters, digits and `. _ : + -`, so a Scheduler time such as `2026-11-24T03:00:00Z` fits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct RequestId(String);

impl ClusterName {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut chars = text.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
        let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if first_ok && rest_ok && text.len() <= 100 {
            Ok(Self(text.to_owned()))
        } else {
            Err(format!(
                "expected an EKS cluster name (1-100 characters: letters, digits, '-' and '_', \
                 starting with a letter or digit), got {} ({} characters)",
                shown(text),
                text.chars().count()
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl RequestId {
    pub fn parse(text: &str) -> Result<Self, String> {
        let ok = !text.is_empty()
            && text.len() <= 128
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '+' | '-'));
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(format!(
                "expected a request id (1-128 characters: letters, digits and . _ : + -), got {}",
                shown(text)
            ))
        }
    }

    /// The request id of a request that names none: one record per cluster and target, so a
    /// duplicate delivery of the same schedule converges on the same record and update.
    pub fn for_target(version: TargetVersion) -> Self {
        Self(format!("to-{version}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClusterName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ClusterName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for RequestId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// Upgrade one cluster's control plane to `target_version`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpgradeRequest {
    pub cluster: ClusterId,
    /// A version, or `latest` (the newest in standard support; dry runs only for now).
    pub target_version: TargetVersion,
    /// Return the plan (hops, add-ons, node groups, gates) and change nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Passed to EKS with UpdateClusterVersion: proceed although upgrade-readiness insights
    /// report blocking issues. It does not reach the node groups (see below).
    #[serde(default)]
    pub force: bool,
    /// EKS's `force` on UpdateNodegroupVersion: evict pods even when a PodDisruptionBudget
    /// forbids it. Off by default; it risks the availability the budgets protect.
    #[serde(default)]
    pub override_pod_disruption_budgets: bool,
    /// For custom-AMI node groups (EKS takes no `version` for them): the launch template
    /// version carrying an AMI for each Kubernetes version, `{"ng": {"1.31": "7"}}`.
    #[serde(default)]
    pub nodegroup_launch_templates: NodegroupLaunchTemplates,
    /// Defaults to `to-<targetVersion>`.
    #[serde(default)]
    pub request_id: Option<RequestId>,
    /// A control-plane update starts only inside this window, with time left to finish.
    #[serde(default)]
    pub maintenance_window: Option<MaintenanceWindow>,
    /// Periods in which nothing starts, window or not.
    #[serde(default)]
    pub exclusions: Exclusions,
    /// Verify each hop once its control plane, add-ons and node groups are done, before the
    /// next hop starts or the upgrade ends.
    #[serde(default)]
    pub verify: Option<VerifySpec>,
    /// What a failed verification does: `stop` (the default) or `rollback` the hop.
    #[serde(default)]
    pub on_verify_failure: OnVerifyFailure,
    /// EKS's `rollbackConfig` for a rollback of a hop (none: EKS's default, 720 minutes).
    #[serde(default)]
    pub rollback_config: Option<RollbackConfig>,
}

/// EKS's `rollbackConfig` of a control-plane rollback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RollbackConfig {
    /// EKS cancels the rollback no sooner than this (120 to 10080 minutes, EKS's range); it is
    /// followed this long and an hour more.
    #[serde(deserialize_with = "rollback_timeout_minutes")]
    pub timeout_minutes: u32,
}

fn rollback_timeout_minutes<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let minutes = i64::deserialize(d)?;
    u32::try_from(minutes)
        .ok()
        .filter(|m| (120..=10080).contains(m))
        .ok_or_else(|| serde::de::Error::custom(format!("expected 120 to 10080 minutes (EKS's range), got {minutes}")))
}

/// How a hop is verified: the cluster, its add-ons and node groups healthy (always), and these
/// CloudWatch alarms OK, through a soak time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifySpec {
    /// CloudWatch alarms that must be OK (at most 20).
    #[serde(default, deserialize_with = "alarm_names")]
    pub alarms: Vec<String>,
    /// How long every check must keep passing after the hop, in minutes (0 to 1440; 0: one look).
    #[serde(default, deserialize_with = "soak_minutes")]
    pub soak_minutes: u16,
}

/// What a failed verification does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnVerifyFailure {
    /// End the upgrade FAILED with the evidence, the cluster left as it is.
    #[default]
    Stop,
    /// Roll the hop back: node groups, then the control plane (EKS version rollback), then the
    /// add-ons.
    Rollback,
}

fn alarm_names<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let names = Vec::<String>::deserialize(d)?;
    if names.len() > 20 {
        return Err(serde::de::Error::custom(format!(
            "expected at most 20 alarm names, got {}",
            names.len()
        )));
    }
    for name in &names {
        let ok = !name.is_empty() && name.chars().count() <= 255 && !name.chars().any(char::is_control);
        if !ok {
            return Err(serde::de::Error::custom(format!(
                "expected CloudWatch alarm names (1-255 characters, no control characters), got {}",
                shown(name)
            )));
        }
    }
    Ok(names)
}

fn soak_minutes<'de, D: Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
    let minutes = i64::deserialize(d)?;
    u16::try_from(minutes)
        .ok()
        .filter(|m| *m <= 1440)
        .ok_or_else(|| serde::de::Error::custom(format!("expected 0 to 1440 minutes, got {minutes}")))
}

impl UpgradeRequest {
    /// A request with every option at its default: what `{"cluster", "targetVersion"}` decodes to.
    pub fn new(cluster: ClusterName, target_version: TargetVersion) -> Self {
        Self {
            cluster: ClusterId::home(cluster),
            target_version,
            dry_run: false,
            force: false,
            override_pod_disruption_budgets: false,
            nodegroup_launch_templates: NodegroupLaunchTemplates::default(),
            request_id: None,
            maintenance_window: None,
            exclusions: Exclusions::default(),
            verify: None,
            on_verify_failure: OnVerifyFailure::Stop,
            rollback_config: None,
        }
    }

    pub fn request_id(&self) -> RequestId {
        self.request_id
            .clone()
            .unwrap_or_else(|| RequestId::for_target(self.target_version))
    }
}

/// Sent by the function to itself to go on with a stored upgrade. `handoff` must match the one
/// stored in the record: a duplicate or forged continuation finds no match and changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Continuation {
    pub cluster: ClusterId,
    pub request_id: RequestId,
    pub handoff: String,
}

impl Continuation {
    /// The event that carries it: what the function sends itself, and what [`decode_event`]
    /// reads back.
    pub fn to_event(&self) -> Value {
        serde_json::json!({ "continuation": self })
    }
}

/// Returns the stored records of a cluster (one if `requestId` is given).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StatusQuery {
    pub cluster: ClusterId,
    #[serde(default)]
    pub request_id: Option<RequestId>,
}

/// Ends an upgrade that nothing is running for (parked, blocked, not yet started), so that its
/// cluster can take another.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CancelRequest {
    pub cluster: ClusterId,
    pub request_id: RequestId,
}

/// Rolls back the last hop of a recorded upgrade (EKS version rollback, within 7 days of it).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RollbackRequest {
    pub cluster: ClusterId,
    pub request_id: RequestId,
    /// Proceed although ROLLBACK_READINESS insights report blocking issues (never past a
    /// prerequisite).
    #[serde(default)]
    pub force: bool,
    /// Say what would be rolled back and whether the prerequisites hold; change nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// EKS's `rollbackConfig` (none: the upgrade request's, else EKS's default).
    #[serde(default)]
    pub rollback_config: Option<RollbackConfig>,
}

/// `{"fleetReport": {...}}`: every enrolled cluster of the function's own account and region
/// (or of `accounts` in `regions`, selected by `tags`) with its support deadlines and what they
/// cost. Changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FleetReportRequest {
    #[serde(default)]
    pub accounts: Vec<AccountId>,
    #[serde(default)]
    pub regions: Vec<Region>,
    #[serde(default)]
    pub tags: std::collections::BTreeMap<String, String>,
    /// Publish the notification naming the clusters entering extended support within 30 days
    /// (default false: the template's weekly schedule asks for it; an operator's look doesn't).
    #[serde(default)]
    pub notify: bool,
}

/// Finds upgrades whose chain of invocations broke and resumes them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SweepRequest {}

/// Why an event was refused, naming the field and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidEvent {
    pub field: String,
    pub problem: String,
}

impl fmt::Display for InvalidEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "invalid event: {}", self.problem)
        } else {
            write!(f, "invalid event: field `{}`: {}", self.field, self.problem)
        }
    }
}

impl std::error::Error for InvalidEvent {}

/// Deserializes `value`, reporting the path of the first bad field under `at`.
pub(super) fn typed<T: serde::de::DeserializeOwned>(value: &Value, at: &str) -> Result<T, InvalidEvent> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let inner = err.path().to_string();
        let field = match (at.trim_end_matches('.'), inner.as_str()) {
            (outer, ".") => outer.to_owned(),
            ("", inner) => inner.to_owned(),
            (outer, inner) => format!("{outer}.{inner}"),
        };
        let problem = err.into_inner().to_string();
        // serde names a missing field in its message; point at it.
        let field = match problem.strip_prefix("missing field `") {
            Some(rest) => {
                let name = rest.split('`').next().unwrap_or_default();
                if field.is_empty() {
                    name.to_owned()
                } else {
                    format!("{field}.{name}")
                }
            }
            None => field,
        };
        InvalidEvent { field, problem }
    })
}

pub(super) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::version::KubeVersion;
    use serde_json::json;

    fn err(payload: Value) -> InvalidEvent {
        decode_event(&payload).expect_err("should be refused")
    }

    #[test]
    fn raw_upgrade_request() {
        let event = decode_event(&json!({"cluster": "devel", "targetVersion": "1.31"})).unwrap();
        let InboundEvent::Upgrade(request) = event else {
            panic!()
        };
        assert_eq!(request.cluster.key(), "devel");
        assert_eq!(request.target_version, TargetVersion::Exact(KubeVersion::new(1, 31)));
        assert!(!request.force);
        assert_eq!(request.request_id().as_str(), "to-1.31");
    }

    #[test]
    fn upgrade_request_in_an_eventbridge_envelope() {
        let event = decode_event(&json!({
            "version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
            "detail-type": "EKS upgrade requested", "source": "platform.schedules",
            "account": "123456789012", "time": "2026-11-24T03:00:00Z", "region": "us-east-1",
            "resources": [],
            "detail": {"cluster": "prod-eu", "targetVersion": "1.32", "force": true, "requestId": "chg-1234"}
        }))
        .unwrap();
        let InboundEvent::Upgrade(request) = event else {
            panic!()
        };
        assert_eq!(request.cluster.key(), "prod-eu");
        assert!(request.force);
        assert_eq!(request.request_id().as_str(), "chg-1234");
    }

    #[test]
    fn other_kinds() {
        assert!(matches!(
            decode_event(&json!({"continuation": {"cluster": "a", "requestId": "to-1.31", "handoff": "x"}})),
            Ok(InboundEvent::Continuation(_))
        ));
        assert!(matches!(
            decode_event(&json!({"status": {"cluster": "a"}})),
            Ok(InboundEvent::Status(StatusQuery { request_id: None, .. }))
        ));
        assert!(matches!(
            decode_event(&json!({"sweep": {}})),
            Ok(InboundEvent::Sweep(_))
        ));
    }

    #[test]
    fn errors_name_the_field() {
        let e = err(json!({"cluster": "a/b", "targetVersion": "1.31"}));
        assert_eq!(e.field, "cluster");
        assert!(e.problem.contains("EKS cluster name"), "{e}");

        let e = err(json!({"cluster": "a", "targetVersion": "1.3a"}));
        assert_eq!(e.field, "targetVersion");
        assert!(e.problem.contains("MAJOR.MINOR"), "{e}");

        let e = err(json!({"cluster": "a"}));
        assert_eq!(e.field, "targetVersion");
        assert!(e.problem.contains("missing field"), "{e}");

        let e = err(json!({"cluster": "a", "targetVersion": 1.31}));
        assert_eq!(e.field, "targetVersion");

        let e = err(json!({"cluster": "a", "targetVersion": "1.31", "force": "yes"}));
        assert_eq!(e.field, "force");

        let e = err(json!({"cluster": "a", "targetVersoin": "1.31"}));
        assert!(e.problem.contains("targetVersoin"), "{e}");

        let e = err(json!({"status": {"cluster": ""}}));
        assert_eq!(e.field, "status.cluster");

        let e = err(json!({"continuation": {"cluster": "a", "requestId": "r"}}));
        assert_eq!(e.field, "continuation.handoff");

        let e = err(json!({"detail-type": "x", "source": "s", "detail": {"cluster": "a", "targetVersion": "01.30"}}));
        assert_eq!(e.field, "detail.targetVersion");

        let e = err(json!({"hello": "world"}));
        assert!(e.problem.contains("unrecognised event"), "{e}");

        let e = err(json!({"sweep": {}, "status": {"cluster": "a"}}));
        assert!(e.problem.contains("exactly one"), "{e}");

        let e = err(json!("just a string"));
        assert!(e.problem.contains("JSON object"), "{e}");

        let e = err(json!({"cluster": "a".repeat(101), "targetVersion": "1.31"}));
        assert_eq!(e.field, "cluster");
        assert!(e.problem.contains("101 characters"), "{e}");
    }
}
