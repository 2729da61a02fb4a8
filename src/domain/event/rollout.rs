//! Rollout events: a fleet upgraded in stages (`{"rollout": {...}}`), its controls
//! (`{"rolloutControl": {...}}`), its status (`{"rolloutStatus": {...}}`), and the nudge a
//! child upgrade or the sweep sends it (`{"rolloutTick": {...}}`). Validated whole before
//! anything is written: every error names its field.

use super::{typed, AccountId, ClusterId, InvalidEvent, OnVerifyFailure, Region, RequestId, UpgradeRequest};
use crate::domain::text::shown;
use crate::domain::version::TargetVersion;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// At most this many stages in a rollout.
pub const MAX_STAGES: usize = 10;
/// At most this many clusters in a rollout (named or found by tags): its record stays far
/// below DynamoDB's 400 KB.
pub const MAX_CLUSTERS: usize = 1000;
/// The per-cluster options a rollout (or a stage) may set: an upgrade request's, but its key.
pub const OPTION_KEYS: [&str; 7] = [
    "force",
    "overridePodDisruptionBudgets",
    "nodegroupLaunchTemplates",
    "maintenanceWindow",
    "exclusions",
    "verify",
    "onVerifyFailure",
];

/// A rollout's or a stage's name: 1-48 characters of letters, digits and `. _ -`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Name(String);

impl Name {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut chars = text.chars();
        let ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            && text.len() <= 48;
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(format!(
                "expected a name of 1-48 characters (letters, digits, '.', '_' and '-', starting with a letter or \
                 digit), got {}",
                shown(text)
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// One stage: the clusters it selects, how many upgrade at once, how long it soaks, how many
/// may fail, and whether it waits for an approval.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StageSpec {
    pub name: Name,
    /// Clusters by name, `{"name", "account", "region"}` or ARN.
    #[serde(default)]
    pub clusters: Vec<ClusterId>,
    /// And the enrolled clusters of these accounts (this function's own when empty) in these
    /// regions (its own when empty) carrying all these tags; with none of the three, none.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub accounts: Vec<AccountId>,
    #[serde(default)]
    pub regions: Vec<Region>,
    /// Clusters upgrading at once (1 to 1,000: an upgrade holds no Lambda instance while it
    /// waits, so this bounds EKS and the blast radius, not the function's concurrency).
    #[serde(default = "one", deserialize_with = "max_concurrent")]
    pub max_concurrent: u32,
    /// Of those, at most this many in one account (1 to 1,000; none: no cap of its own): one
    /// account's EKS API rates are shared by everything in it.
    #[serde(default, deserialize_with = "max_concurrent_per_account")]
    pub max_concurrent_per_account: Option<u32>,
    /// After the stage's last cluster succeeded, how long before the next stage may start
    /// (0 to 10080 minutes).
    #[serde(default, deserialize_with = "stage_soak")]
    pub soak_minutes: u32,
    /// How many of its clusters may fail before the rollout stops (0 to 1000).
    #[serde(default, deserialize_with = "failure_budget")]
    pub failure_budget: u32,
    /// Wait for `{"rolloutControl": {"action": "approve", "stage": ...}}` before starting.
    #[serde(default)]
    pub approval: bool,
    /// Per-cluster options for this stage, over the rollout's.
    #[serde(default)]
    pub options: Map<String, Value>,
}

fn one() -> u32 {
    1
}

fn bounded<'de, D: Deserializer<'de>>(d: D, min: i64, max: i64, what: &str) -> Result<u32, D::Error> {
    let n = i64::deserialize(d)?;
    if (min..=max).contains(&n) {
        Ok(n as u32)
    } else {
        Err(serde::de::Error::custom(format!(
            "expected {min} to {max} {what}, got {n}"
        )))
    }
}

fn max_concurrent<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    bounded(d, 1, 1000, "clusters")
}

fn max_concurrent_per_account<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    bounded(d, 1, 1000, "clusters").map(Some)
}

fn stage_soak<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    bounded(d, 0, 10080, "minutes")
}

fn failure_budget<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    bounded(d, 0, 1000, "clusters")
}

/// A fleet upgraded in stages to one version.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RolloutRequest {
    pub name: Name,
    /// A version, `latest`, or `standard-support` (each resolved once, when the rollout
    /// starts: every stage gets it).
    pub target_version: TargetVersion,
    /// With `standard-support`: the days of standard support the version must have left
    /// (default [`DEFAULT_MIN_DAYS_OF_STANDARD_SUPPORT`]).
    #[serde(default)]
    pub min_days_of_standard_support: Option<u32>,
    /// With the name, the rollout's key; defaults to `to-<the resolved version>`. At most 64
    /// characters (its clusters' upgrades are named after it).
    #[serde(default)]
    pub request_id: Option<RequestId>,
    /// Discover the clusters, plan each, and change nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Per-cluster options for every stage (an upgrade request's, but its key).
    #[serde(default)]
    pub options: Map<String, Value>,
    pub stages: Vec<StageSpec>,
}

impl RolloutRequest {
    /// The options a stage's clusters get: the rollout's, with the stage's over them.
    pub fn options_for(&self, stage: &StageSpec) -> Map<String, Value> {
        let mut options = self.options.clone();
        options.extend(stage.options.clone());
        options
    }

    /// The upgrade request of one of its clusters.
    pub fn upgrade_for(
        options: &Map<String, Value>,
        cluster: &str,
        target: TargetVersion,
        request_id: &str,
    ) -> Result<UpgradeRequest, InvalidEvent> {
        let mut request = options.clone();
        request.insert("cluster".into(), Value::String(cluster.to_owned()));
        request.insert("targetVersion".into(), Value::String(target.to_string()));
        request.insert("requestId".into(), Value::String(request_id.to_owned()));
        let request: UpgradeRequest = typed(&Value::Object(request), "")?;
        if request.on_verify_failure == OnVerifyFailure::Rollback && request.verify.is_none() {
            return Err(InvalidEvent {
                field: "onVerifyFailure".into(),
                problem: "expected \"stop\" without a \"verify\" object".into(),
            });
        }
        Ok(request)
    }
}

/// What a control does to a rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ControlAction {
    /// Nothing new starts; running upgrades go on.
    Pause,
    Resume,
    /// Nothing new starts; running upgrades finish; then CANCELLED.
    Cancel,
    /// Lets a stage with `approval` start.
    Approve,
    /// A cluster not yet started is left out.
    Skip,
}

/// `{"rolloutControl": {"name", "requestId"?, "action", "stage"?, "cluster"?}}`, as sent.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RolloutControlFields {
    pub name: Name,
    #[serde(default)]
    pub request_id: Option<RequestId>,
    pub action: ControlAction,
    #[serde(default)]
    pub stage: Option<Name>,
    #[serde(default)]
    pub cluster: Option<ClusterId>,
}

/// A rollout control, checked where it is decoded ([`RolloutControl::from_fields`]): each
/// action carries what it needs, so nothing downstream reads an optional field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolloutControl {
    pub name: Name,
    /// Which rollout of that name; none: its only unfinished one.
    pub request_id: Option<RequestId>,
    pub control: Control,
}

/// What a control does, with its data. A new control is a variant here (and in
/// [`ControlAction`], its name on the wire), decoded in `from_fields`, applied in
/// `rollout/controls.rs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    Pause,
    Resume,
    Cancel,
    /// The stage to approve.
    Approve {
        stage: Name,
    },
    /// The cluster to leave out.
    Skip {
        cluster: ClusterId,
    },
}

impl Control {
    pub fn action(&self) -> ControlAction {
        match self {
            Control::Pause => ControlAction::Pause,
            Control::Resume => ControlAction::Resume,
            Control::Cancel => ControlAction::Cancel,
            Control::Approve { .. } => ControlAction::Approve,
            Control::Skip { .. } => ControlAction::Skip,
        }
    }
}

impl RolloutControl {
    /// The control the fields at `at` ask for, or what is missing, naming the field.
    pub fn from_fields(fields: RolloutControlFields, at: &str) -> Result<Self, InvalidEvent> {
        let missing = |field: &str, problem: &str| InvalidEvent {
            field: format!("{at}.{field}"),
            problem: problem.into(),
        };
        let control = match fields.action {
            ControlAction::Pause => Control::Pause,
            ControlAction::Resume => Control::Resume,
            ControlAction::Cancel => Control::Cancel,
            ControlAction::Approve => Control::Approve {
                stage: fields
                    .stage
                    .ok_or_else(|| missing("stage", "expected the stage to approve"))?,
            },
            ControlAction::Skip => Control::Skip {
                cluster: fields
                    .cluster
                    .ok_or_else(|| missing("cluster", "expected the cluster to skip"))?,
            },
        };
        Ok(Self {
            name: fields.name,
            request_id: fields.request_id,
            control,
        })
    }
}

/// `{"rolloutStatus": {"name", "requestId"?}}`: the rollout per stage and cluster.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RolloutQuery {
    pub name: Name,
    #[serde(default)]
    pub request_id: Option<RequestId>,
}

/// A rollout's key, as its clusters' upgrade records keep it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RolloutKey {
    pub name: Name,
    pub request_id: RequestId,
}

impl RolloutKey {
    /// A tick of this rollout, told by `cluster`'s upgrade (none: by the sweep).
    pub fn tick(&self, cluster: Option<&ClusterId>) -> RolloutTick {
        RolloutTick {
            name: self.name.clone(),
            request_id: self.request_id.clone(),
            cluster: cluster.cloned(),
        }
    }
}

/// `{"rolloutTick": {"name", "requestId", "cluster"?}}`: look at the rollout's running clusters
/// and go on. Sent by a child upgrade that ended (naming its cluster), and by the sweep.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RolloutTick {
    pub name: Name,
    pub request_id: RequestId,
    /// The cluster whose upgrade ended: once the rollout shows it ended, this tick has nothing
    /// left to do (another tick looked after it did), which keeps a hundred children ending at
    /// once from a hundred rounds of conflicting writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterId>,
}

impl RolloutTick {
    pub fn key(&self) -> RolloutKey {
        RolloutKey {
            name: self.name.clone(),
            request_id: self.request_id.clone(),
        }
    }

    pub fn to_event(&self) -> Value {
        serde_json::json!({ "rolloutTick": self })
    }
}

/// How long a `standard-support` target must stay in standard support, by default.
pub const DEFAULT_MIN_DAYS_OF_STANDARD_SUPPORT: u32 = 90;
/// Standard support lasts 14 months: asking for more than a year could never be met.
const MAX_MIN_DAYS_OF_STANDARD_SUPPORT: u32 = 365;

impl RolloutRequest {
    /// The days a `standard-support` target must have left.
    pub fn min_days_of_standard_support(&self) -> u32 {
        self.min_days_of_standard_support
            .unwrap_or(DEFAULT_MIN_DAYS_OF_STANDARD_SUPPORT)
    }
}

/// The whole request's checks beyond its fields' own: stages, clusters, options.
pub(super) fn check(request: &RolloutRequest, at: &str) -> Result<(), InvalidEvent> {
    let invalid = |field: String, problem: String| Err(InvalidEvent { field, problem });
    if let Some(days) = request.min_days_of_standard_support {
        if request.target_version != TargetVersion::StandardSupport {
            return invalid(
                format!("{at}.minDaysOfStandardSupport"),
                "applies only to targetVersion \"standard-support\"".into(),
            );
        }
        if days > MAX_MIN_DAYS_OF_STANDARD_SUPPORT {
            return invalid(
                format!("{at}.minDaysOfStandardSupport"),
                format!("expected 0 to {MAX_MIN_DAYS_OF_STANDARD_SUPPORT} days, got {days}"),
            );
        }
    }
    if let Some(id) = &request.request_id {
        if id.as_str().len() > 64 {
            return invalid(format!("{at}.requestId"), "expected at most 64 characters".into());
        }
    }
    if request.stages.is_empty() || request.stages.len() > MAX_STAGES {
        let got = request.stages.len();
        return invalid(
            format!("{at}.stages"),
            format!("expected 1 to {MAX_STAGES} stages, got {got}"),
        );
    }
    check_options(&request.options, &format!("{at}.options"), request.target_version)?;
    let mut stage_names = BTreeSet::new();
    let mut named: BTreeMap<String, &str> = BTreeMap::new();
    for (i, stage) in request.stages.iter().enumerate() {
        let here = format!("{at}.stages[{i}]");
        if !stage_names.insert(stage.name.as_str()) {
            return invalid(format!("{here}.name"), format!("stage {} is named twice", stage.name));
        }
        if stage.clusters.is_empty() && stage.tags.is_empty() && stage.accounts.is_empty() && stage.regions.is_empty() {
            return invalid(
                here,
                "expected \"clusters\", \"tags\", \"accounts\" or \"regions\": the stage selects no cluster".into(),
            );
        }
        if stage.tags.keys().any(|k| k.is_empty() || k.len() > 128) {
            return invalid(format!("{here}.tags"), "expected tag keys of 1-128 characters".into());
        }
        for (j, cluster) in stage.clusters.iter().enumerate() {
            if let Some(first) = named.insert(cluster.key(), stage.name.as_str()) {
                return invalid(
                    format!("{here}.clusters[{j}]"),
                    format!("cluster {cluster} is already in stage {first}: a cluster belongs to one stage"),
                );
            }
        }
        check_options(&stage.options, &format!("{here}.options"), request.target_version)?;
        check_options(&request.options_for(stage), &here, request.target_version)?;
    }
    if named.len() > MAX_CLUSTERS {
        return invalid(
            format!("{at}.stages"),
            format!("expected at most {MAX_CLUSTERS} clusters"),
        );
    }
    Ok(())
}

/// Options are an upgrade request's, without its key: checked by decoding one.
fn check_options(options: &Map<String, Value>, at: &str, target: TargetVersion) -> Result<(), InvalidEvent> {
    if let Some(key) = options.keys().find(|k| !OPTION_KEYS.contains(&k.as_str())) {
        return Err(InvalidEvent {
            field: format!("{at}.{key}"),
            problem: format!("expected one of the per-cluster options {}", OPTION_KEYS.join(", ")),
        });
    }
    let target = match target {
        TargetVersion::Exact(_) => target,
        // Checked against some version: the options do not depend on which.
        TargetVersion::Latest | TargetVersion::StandardSupport => {
            TargetVersion::Exact(crate::domain::version::KubeVersion::new(1, 31))
        }
    };
    RolloutRequest::upgrade_for(options, "options-check", target, "options-check")
        .map(|_| ())
        .map_err(|e| InvalidEvent {
            field: format!("{at}.{}", e.field),
            problem: e.problem,
        })
}
