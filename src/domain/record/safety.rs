//! The safety net's state in a record: each hop's verification and its evidence, and a
//! rollback of the last hop (EKS version rollback) with its own token.

use crate::domain::version::KubeVersion;
use serde::{Deserialize, Serialize};

/// One check of a verification or of a rollback's prerequisites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    pub check: String,
    pub passed: bool,
    pub detail: String,
}

/// A hop's verification: started when its updates were done, passed once every check held
/// through the soak time, failed at the first check that did not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    /// The Kubernetes version the hop reached.
    pub hop: KubeVersion,
    pub started_at: i64,
    /// The last look.
    pub checked_at: i64,
    /// None while soaking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passed: Option<bool>,
    /// The evidence of the last look.
    #[serde(default)]
    pub checks: Vec<Check>,
}

impl Verification {
    /// What failed, for a message.
    pub fn failures(&self) -> String {
        let failed: Vec<String> = self
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| format!("{}: {}", c.check, c.detail))
            .collect();
        failed.join("; ")
    }
}

/// Why a rollback began.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RollbackCause {
    /// The hop's verification failed and the request said `onVerifyFailure: rollback`.
    VerificationFailed,
    /// An operator asked (`{"rollback": ...}`).
    Requested,
}

/// A rollback of the last hop: node groups back first, then the control plane (UpdateClusterVersion
/// to the previous minor, answered by a VersionRollback), then the add-ons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rollback {
    /// The version rolled back from, and to (one minor down).
    pub from: KubeVersion,
    pub to: KubeVersion,
    pub cause: RollbackCause,
    pub reason: String,
    pub requested_at: i64,
    /// Override ROLLBACK_READINESS insights (never a prerequisite).
    pub force: bool,
    /// The clientRequestToken of the control plane's rollback, stored before the call.
    pub client_request_token: String,
    /// The prerequisites as last checked.
    #[serde(default)]
    pub prerequisites: Vec<Check>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_started_at: Option<i64>,
    /// The add-ons to move back after the control plane, to the versions they had before the
    /// hop (where EKS still offers them for `to`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addons_back: Vec<AddonBack>,
    /// What the rollback leaves as it is, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// How often it was asked again after it stopped: what failed is asked again with tokens
    /// of this attempt (EKS would hand back the failed update for the old token).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub attempt: u32,
    /// `rollbackConfig.timeoutMinutes` of the control plane's rollback (none in records written
    /// before it was kept: 240, what was sent then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_minutes: Option<u32>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// An add-on going back to the version it had before the hop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddonBack {
    pub name: String,
    pub from: String,
    pub to: String,
}
