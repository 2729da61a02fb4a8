//! A notification as the record's outbox keeps it until it is published (`outbox.rs` derives
//! them from each change of the record).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A notification waiting in the record's outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub id: String,
    pub detail_type: String,
    pub detail: Value,
}
