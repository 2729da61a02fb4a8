//! The alarms gate of a hop: the CloudWatch alarms the request's `verify` names, read before
//! anything changes. One in ALARM blocks the hop (the cluster is already hurting: an upgrade
//! would hide or worsen it, and its verification would fail at once); one CloudWatch does not
//! know blocks it too (a mistyped name would otherwise fail the hop's verification after the
//! control plane changed). No data (INSUFFICIENT_DATA, every new alarm's state) is no evidence
//! either way: it does not block.

use super::{Gate, GateResult};
use crate::domain::eks::Survey;

/// The gate, when the request names alarms.
pub(super) fn alarms_gate(survey: &Survey) -> Option<GateResult> {
    if survey.alarms.is_empty() {
        return None;
    }
    let mut blocking = Vec::new();
    let mut seen = Vec::new();
    for (name, alarm) in &survey.alarms {
        match alarm {
            None => blocking.push(format!("{name}: {}", unknown_alarm(name))),
            Some(a) if a.state == "ALARM" => blocking.push(format!("{name} is in ALARM: {}", a.reason)),
            Some(a) if a.state == "OK" => seen.push(format!("{name} OK")),
            Some(a) => seen.push(format!("{name} {} (no data: not evidence of harm)", a.state)),
        }
    }
    Some(GateResult {
        gate: Gate::Alarms,
        passed: blocking.is_empty(),
        checked: true,
        detail: if blocking.is_empty() {
            seen.join("; ")
        } else {
            blocking.join("; ")
        },
    })
}

/// Why a named alarm was not found: a mistyped name, a deleted alarm, or a composite alarm
/// (CloudWatch returns composite alarms only to a caller whose `cloudwatch:DescribeAlarms` is
/// scoped to `*`; the function's is scoped to `VerifyAlarmPrefix`, and it reads metric alarms
/// only).
pub fn unknown_alarm(name: &str) -> String {
    format!(
        "CloudWatch has no metric alarm named {name:?} (composite alarms are not supported: CloudWatch returns \
         them only to a caller allowed cloudwatch:DescribeAlarms on every alarm; name the metric alarms instead)"
    )
}
