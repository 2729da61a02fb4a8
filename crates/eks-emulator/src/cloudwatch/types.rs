//! What the CloudWatch stand-in and its wire protocols (`wire.rs`) share: the requests and
//! answers of DescribeAlarms, its errors, the protocols.

use serde::{Deserialize, Serialize};

/// Namespace and metric of every alarm (the stand-in has no metrics).
pub(super) const NAMESPACE: &str = "EksEmulator";

/// An alarm, as `GET /_emulator/alarms` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AlarmView {
    pub name: String,
    pub arn: String,
    pub state: String,
    pub reason: String,
    /// StateUpdatedTimestamp: the last time it was set.
    pub state_updated_at: f64,
    /// StateTransitionedTimestamp: the last time its state changed.
    pub state_transitioned_at: f64,
    /// AlarmConfigurationUpdatedTimestamp: when it was created.
    pub created_at: f64,
    /// A composite alarm's AlarmRule (none: a metric alarm).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

/// The members of a DescribeAlarms request the stand-in reads (the others, such as
/// ActionPrefix or ChildrenOfAlarmName, are accepted and ignored).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescribeAlarmsInput {
    pub alarm_names: Option<Vec<String>>,
    pub alarm_name_prefix: Option<String>,
    pub alarm_types: Option<Vec<String>>,
    pub state_value: Option<String>,
    pub max_records: Option<i64>,
    pub next_token: Option<String>,
}

/// One page of DescribeAlarms.
#[derive(Debug)]
pub(crate) struct AlarmsPage {
    pub metric_alarms: Vec<AlarmView>,
    pub composite_alarms: Vec<AlarmView>,
    pub next_token: Option<String>,
}

/// A CloudWatch error: HTTP status, code (also the `x-amzn-query-error` code) and message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CwError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl CwError {
    pub(super) fn validation(message: String) -> Self {
        CwError {
            status: 400,
            code: "ValidationError",
            message,
        }
    }
}

/// A CloudWatch request recognized on the shared port: its protocol and operation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Call {
    pub protocol: Protocol,
    pub operation: String,
}

/// The wire protocol a CloudWatch client spoke.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Protocol {
    /// Smithy RPC v2 CBOR: `POST /service/GraniteServiceVersion20100801/operation/{Op}`.
    Cbor,
    /// awsJson1_0: `POST /` with `X-Amz-Target: GraniteServiceVersion20100801.{Op}`.
    Json,
    /// awsQuery: `POST /` with a form body `Action={Op}&...`, XML answers.
    Query,
}
