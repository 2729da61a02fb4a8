//! A CloudWatch stand-in, apart from the EKS emulation: named metric alarms whose state the
//! admin API sets (`POST /_emulator/alarms`, [`crate::Emulator::set_alarm`], seeds), read
//! with CloudWatch's `DescribeAlarms` on the same port, so that code under test can check
//! alarms without AWS. EKS faults, latency and stats never apply to it.
//!
//! `DescribeAlarms` is answered in the three wire protocols of the CloudWatch service
//! model (`wire.rs`): Smithy RPC v2 CBOR (`aws-sdk-cloudwatch`), awsJson1_0 with the
//! query-compatible error header (botocore 1.44), and the legacy awsQuery form/XML
//! protocol (older botocore, AWS CLI v1). Other CloudWatch operations answer
//! UnknownOperationException (InvalidAction in awsQuery).

mod types;
mod wire;

use std::collections::BTreeMap;
use std::sync::Mutex;

use axum::response::Response;

use crate::seed::{SeedAlarm, SeedError};
use crate::util;

pub(crate) use types::{AlarmView, AlarmsPage, Call, CwError, DescribeAlarmsInput};
pub(crate) use wire::recognize;

/// The states of an alarm (the model's StateValue).
pub(crate) const STATES: [&str; 3] = ["OK", "ALARM", "INSUFFICIENT_DATA"];

/// The alarms of the stand-in.
#[derive(Debug)]
pub(crate) struct Alarms {
    account_id: String,
    region: String,
    alarms: Mutex<BTreeMap<String, AlarmView>>,
    /// The caller's `cloudwatch:DescribeAlarms` resource scope, as an alarm-name prefix (none:
    /// `*`). CloudWatch returns composite alarms only to a caller scoped to `*`: asked for them
    /// under a narrower scope, DescribeAlarms is denied.
    read_scope: Mutex<Option<String>>,
}

fn check_alarm(name: &str, state: &str) -> Result<(), String> {
    if name.is_empty() || name.chars().count() > 255 {
        return Err(format!("alarm name {name:?} must have 1 to 255 characters"));
    }
    if !STATES.contains(&state) {
        return Err(format!(
            "alarm {name}: state {state:?} is not one of OK, ALARM, INSUFFICIENT_DATA"
        ));
    }
    Ok(())
}

impl Alarms {
    pub(crate) fn new(account_id: &str, region: &str) -> Self {
        Alarms {
            account_id: account_id.to_string(),
            region: region.to_string(),
            alarms: Mutex::new(BTreeMap::new()),
            read_scope: Mutex::new(None),
        }
    }

    /// Sets the caller's DescribeAlarms scope: an alarm-name prefix, or none for `*`.
    pub(crate) fn set_read_scope(&self, prefix: Option<String>) {
        *self.read_scope.lock().unwrap() = prefix;
    }

    pub(crate) fn read_scope(&self) -> Option<String> {
        self.read_scope.lock().unwrap().clone()
    }

    /// Checks the alarms of a seed (before anything of the seed is applied).
    pub(crate) fn check_seed(alarms: &[SeedAlarm]) -> Result<(), SeedError> {
        alarms
            .iter()
            .try_for_each(|a| check_alarm(&a.name, &a.state))
            .map_err(|e| SeedError(format!("alarms: {e}")))
    }

    /// Sets the alarms of a seed.
    pub(crate) fn apply_seed(&self, alarms: &[SeedAlarm], now: f64) -> Result<(), SeedError> {
        Alarms::check_seed(alarms)?;
        for a in alarms {
            self.set_kind(&a.name, a.rule.as_deref(), &a.state, a.reason.as_deref(), now)
                .map_err(SeedError)?;
        }
        Ok(())
    }

    /// Sets (creates) an alarm; its state-updated time is `now`, its transition time too
    /// when the state changed.
    pub(crate) fn set(&self, name: &str, state: &str, reason: Option<&str>, now: f64) -> Result<AlarmView, String> {
        self.set_kind(name, None, state, reason, now)
    }

    /// Sets (creates) a metric alarm, or with `rule` a composite alarm (its AlarmRule).
    pub(crate) fn set_kind(
        &self,
        name: &str,
        rule: Option<&str>,
        state: &str,
        reason: Option<&str>,
        now: f64,
    ) -> Result<AlarmView, String> {
        check_alarm(name, state)?;
        if rule.is_some_and(|r| r.is_empty() || r.chars().count() > 10240) {
            return Err(format!(
                "alarm {name}: a composite alarm's rule must have 1 to 10240 characters"
            ));
        }
        let reason = reason
            .map(str::to_string)
            .unwrap_or_else(|| format!("Alarm state set to {state} by eks-emulator."));
        let mut alarms = self.alarms.lock().unwrap();
        let arn = format!("arn:aws:cloudwatch:{}:{}:alarm:{name}", self.region, self.account_id);
        let alarm = alarms.entry(name.to_string()).or_insert_with(|| AlarmView {
            name: name.to_string(),
            arn,
            state: String::new(),
            reason: String::new(),
            state_updated_at: now,
            state_transitioned_at: now,
            created_at: now,
            rule: None,
        });
        alarm.rule = rule.map(str::to_string);
        if alarm.state != state {
            alarm.state_transitioned_at = now;
        }
        alarm.state = state.to_string();
        alarm.reason = reason;
        alarm.state_updated_at = now;
        Ok(alarm.clone())
    }

    /// Forgets every alarm and the caller's scope (a reset).
    pub(crate) fn clear(&self) {
        self.alarms.lock().unwrap().clear();
        self.set_read_scope(None);
    }

    /// Every alarm, by name.
    pub(crate) fn list(&self) -> Vec<AlarmView> {
        self.alarms.lock().unwrap().values().cloned().collect()
    }

    /// DescribeAlarms: the metric alarms matching the filters, by name; unknown names are
    /// simply absent. MaxRecords 1-100 (default 50), opaque NextToken.
    pub(crate) fn describe(&self, q: &DescribeAlarmsInput) -> Result<AlarmsPage, CwError> {
        let max = match q.max_records {
            None => 50,
            Some(m) if (1..=100).contains(&m) => m as usize,
            Some(m) => {
                return Err(CwError::validation(format!(
                    "1 validation error detected: Value '{m}' at 'maxRecords' failed to satisfy constraint: Member must have value between 1 and 100"
                )))
            }
        };
        if let Some(s) = q.state_value.as_deref().filter(|s| !STATES.contains(s)) {
            return Err(CwError::validation(format!(
                "1 validation error detected: Value '{s}' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]"
            )));
        }
        // Without AlarmTypes, metric alarms only (CloudWatch's default).
        let metric_types = q
            .alarm_types
            .as_ref()
            .is_none_or(|t| t.iter().any(|t| t == "MetricAlarm"));
        let composite_types = q
            .alarm_types
            .as_ref()
            .is_some_and(|t| t.iter().any(|t| t == "CompositeAlarm"));
        if let Some(prefix) = self.read_scope.lock().unwrap().clone().filter(|_| composite_types) {
            return Err(CwError {
                status: 403,
                code: "AccessDenied",
                message: format!(
                    "User: arn:aws:sts::{}:assumed-role/eks-upgrade-orchestrator/session is not authorized to perform: \
                     cloudwatch:DescribeAlarms on resource: arn:aws:cloudwatch:{}:{}:alarm:* because no identity-based \
                     policy allows the cloudwatch:DescribeAlarms action (composite alarms need it on *; allowed: \
                     alarm:{prefix}*)",
                    self.account_id, self.region, self.account_id
                ),
            });
        }
        let matching: Vec<AlarmView> = self
            .list()
            .into_iter()
            .filter(|a| {
                if a.rule.is_some() {
                    composite_types
                } else {
                    metric_types
                }
            })
            .filter(|a| q.alarm_names.as_ref().is_none_or(|n| n.contains(&a.name)))
            .filter(|a| q.alarm_name_prefix.as_ref().is_none_or(|p| a.name.starts_with(p)))
            .filter(|a| q.state_value.as_ref().is_none_or(|s| *s == a.state))
            .collect();
        let start = match q.next_token.as_deref() {
            None | Some("") => 0,
            Some(t) => util::unhex(t)
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|s| s.strip_prefix("cwemu:").and_then(|n| n.parse::<usize>().ok()))
                .filter(|n| *n <= matching.len())
                .ok_or_else(|| CwError {
                    status: 400,
                    code: "InvalidNextToken",
                    message: "The NextToken provided is invalid.".into(),
                })?,
        };
        let end = (start + max).min(matching.len());
        let next_token = (end < matching.len()).then(|| util::hex(format!("cwemu:{end}").as_bytes()));
        let (composite_alarms, metric_alarms) = matching[start..end].iter().cloned().partition(|a| a.rule.is_some());
        Ok(AlarmsPage {
            metric_alarms,
            composite_alarms,
            next_token,
        })
    }
}

/// Answers a recognized CloudWatch request; returns the answer and the operation's name
/// for the log.
/// `alarms` are those of the caller's account and region, or why its credentials are refused.
pub(crate) fn handle(
    alarms: Result<&Alarms, CwError>,
    call: &Call,
    body: &[u8],
    request_id: &str,
) -> (Response, &'static str) {
    if call.operation != "DescribeAlarms" {
        return (wire::unknown_operation(call, request_id), "CloudWatchUnknownOperation");
    }
    let answer = alarms.and_then(|alarms| wire::decode(call.protocol, body).and_then(|q| alarms.describe(&q)));
    let resp = match answer {
        Ok(page) => wire::encode(call.protocol, &page, request_id),
        Err(e) => wire::error(call.protocol, &e, request_id),
    };
    (resp, "DescribeAlarms")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Alarms {
        let a = Alarms::new("123456789012", "us-east-1");
        a.set("api-5xx", "ALARM", Some("Threshold Crossed"), 10.0).unwrap();
        a.set("api-latency", "OK", None, 10.0).unwrap();
        a.set("db-cpu", "INSUFFICIENT_DATA", None, 10.0).unwrap();
        a
    }

    #[test]
    fn set_keeps_the_transition_time_when_the_state_stays() {
        let a = store();
        let v = a.set("api-5xx", "ALARM", Some("again"), 20.0).unwrap();
        assert_eq!(
            (v.state_updated_at, v.state_transitioned_at, v.created_at),
            (20.0, 10.0, 10.0)
        );
        let v = a.set("api-5xx", "OK", None, 30.0).unwrap();
        assert_eq!(
            (v.state_transitioned_at, v.reason.as_str()),
            (30.0, "Alarm state set to OK by eks-emulator.")
        );
        assert_eq!(v.arn, "arn:aws:cloudwatch:us-east-1:123456789012:alarm:api-5xx");
        assert!(a.set("x", "RED", None, 1.0).is_err());
        assert!(a.set("", "OK", None, 1.0).is_err());
    }

    #[test]
    fn describe_filters_and_pages() {
        let a = store();
        let q = |json: &str| -> DescribeAlarmsInput { serde_json::from_str(json).unwrap() };
        let names = |p: AlarmsPage| p.metric_alarms.into_iter().map(|a| a.name).collect::<Vec<_>>();
        let p = a.describe(&q(r#"{"AlarmNames":["db-cpu","api-5xx","nope"]}"#)).unwrap();
        assert_eq!(names(p), ["api-5xx", "db-cpu"]);
        let p = a
            .describe(&q(r#"{"AlarmNamePrefix":"api-","StateValue":"OK"}"#))
            .unwrap();
        assert_eq!(names(p), ["api-latency"]);
        let p = a.describe(&q(r#"{"AlarmTypes":["CompositeAlarm"]}"#)).unwrap();
        assert!(p.metric_alarms.is_empty());
        let p = a.describe(&q(r#"{"MaxRecords":2}"#)).unwrap();
        let token = p.next_token.clone().unwrap();
        assert_eq!(names(p), ["api-5xx", "api-latency"]);
        let p = a
            .describe(&q(&format!(r#"{{"MaxRecords":2,"NextToken":"{token}"}}"#)))
            .unwrap();
        assert_eq!((p.next_token.is_none(), names(p)), (true, vec!["db-cpu".to_string()]));
        let e = a.describe(&q(r#"{"NextToken":"zz"}"#)).unwrap_err();
        assert_eq!(e.code, "InvalidNextToken");
        let e = a.describe(&q(r#"{"MaxRecords":0}"#)).unwrap_err();
        assert_eq!(e.code, "ValidationError");
        let e = a.describe(&q(r#"{"StateValue":"RED"}"#)).unwrap_err();
        assert_eq!(e.code, "ValidationError");
    }
}
