//! An add-on as the model holds it, and an add-on version change.

use crate::seed::HealthIssue;
use std::collections::BTreeMap;

eks_enum_open! {
    /// Status of an add-on.
    AddonStatus {
        Creating = "CREATING",
        Active = "ACTIVE",
        CreateFailed = "CREATE_FAILED",
        Updating = "UPDATING",
        Deleting = "DELETING",
        DeleteFailed = "DELETE_FAILED",
        Degraded = "DEGRADED",
        UpdateFailed = "UPDATE_FAILED",
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Addon {
    pub name: String,
    pub arn: String,
    pub version: String,
    pub status: AddonStatus,
    pub(in crate::model) ready_at: Option<f64>,
    pub created_at: f64,
    pub modified_at: f64,
    pub configuration_values: Option<String>,
    pub service_account_role_arn: Option<String>,
    pub tags: BTreeMap<String, String>,
    /// `health.issues` (injected).
    pub health: Vec<HealthIssue>,
}
