//! The schedules and Scheduler's rules: a name is 1-64 letters, digits, `.`, `_` or `-`, unique
//! in its group (a second create answers ConflictException, unless it repeats the first one's
//! client token: an SDK retry); only one-time `at(yyyy-mm-ddThh:mm:ss)` expressions are
//! modelled (in UTC); `ActionAfterCompletion: DELETE` removes a schedule once it ran.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::util;

/// A refusal: (HTTP status, error type, message).
pub(crate) type Refusal = (u16, &'static str, String);

/// A schedule as CreateSchedule's body gives it (the fields the stand-in keeps).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ScheduleInput {
    #[serde(default)]
    pub group_name: Option<String>,
    pub schedule_expression: String,
    #[serde(default)]
    pub schedule_expression_timezone: Option<String>,
    pub flexible_time_window: Value,
    pub target: Value,
    #[serde(default)]
    pub action_after_completion: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub client_token: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Schedule {
    pub name: String,
    pub group: String,
    pub input: ScheduleInput,
    /// When it fires, epoch seconds.
    pub at: f64,
    pub created_at: f64,
}

/// A schedule that came due: what to invoke, with what.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Due {
    pub name: String,
    /// The target's ARN (a Lambda function's).
    pub target: String,
    /// The target's `Input`, sent as the invocation's payload.
    pub input: String,
}

#[derive(Debug, Default)]
pub(crate) struct Schedules {
    account_id: String,
    region: String,
    by_key: Mutex<BTreeMap<(String, String), Schedule>>,
    fired: Mutex<u64>,
}

fn check_name(name: &str) -> Result<(), Refusal> {
    let ok = (1..=64).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        return Ok(());
    }
    Err((
        400,
        "ValidationException",
        format!("1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9a-zA-Z-_.]+"),
    ))
}

/// `at(2026-12-03T18:00:00)` in UTC, as epoch seconds.
fn parse_at(expression: &str, timezone: Option<&str>) -> Result<f64, Refusal> {
    let invalid = || (400, "ValidationException", "Invalid Schedule Expression".to_owned());
    if !matches!(timezone, None | Some("UTC") | Some("Etc/UTC")) {
        return Err((
            400,
            "ValidationException",
            "eks-emulator models one-time schedules in UTC only".to_owned(),
        ));
    }
    let inner = expression
        .strip_prefix("at(")
        .and_then(|rest| rest.strip_suffix(')'))
        .ok_or_else(|| {
            if expression.starts_with("rate(") || expression.starts_with("cron(") {
                (
                    400,
                    "ValidationException",
                    "eks-emulator models one-time at() schedules only".to_owned(),
                )
            } else {
                invalid()
            }
        })?;
    let well_formed = inner.len() == 19 && inner.as_bytes()[10] == b'T' && !inner.ends_with('Z');
    if !well_formed {
        return Err(invalid());
    }
    util::parse_date(inner).ok_or_else(invalid)
}

impl Schedules {
    pub(crate) fn new(account_id: &str, region: &str) -> Self {
        Self {
            account_id: account_id.to_owned(),
            region: region.to_owned(),
            ..Self::default()
        }
    }

    pub(crate) fn arn(&self, group: &str, name: &str) -> String {
        format!(
            "arn:aws:scheduler:{}:{}:schedule/{group}/{name}",
            self.region, self.account_id
        )
    }

    pub(crate) fn create(&self, name: &str, input: ScheduleInput, now: f64) -> Result<String, Refusal> {
        check_name(name)?;
        let group = input.group_name.clone().unwrap_or_else(|| "default".to_owned());
        let at = parse_at(
            &input.schedule_expression,
            input.schedule_expression_timezone.as_deref(),
        )?;
        if input.target.get("Arn").and_then(Value::as_str).is_none()
            || input.target.get("RoleArn").and_then(Value::as_str).is_none()
        {
            return Err((400, "ValidationException", "Target requires Arn and RoleArn".to_owned()));
        }
        let mut all = self.by_key.lock().unwrap();
        let key = (group.clone(), name.to_owned());
        if let Some(existing) = all.get(&key) {
            let retry = existing.input.client_token.is_some() && existing.input.client_token == input.client_token;
            if retry {
                return Ok(self.arn(&group, name));
            }
            return Err((409, "ConflictException", format!("Schedule {name} already exists.")));
        }
        all.insert(
            key,
            Schedule {
                name: name.to_owned(),
                group: group.clone(),
                input,
                at,
                created_at: now,
            },
        );
        Ok(self.arn(&group, name))
    }

    pub(crate) fn get(&self, group: &str, name: &str) -> Result<Schedule, Refusal> {
        let all = self.by_key.lock().unwrap();
        all.get(&(group.to_owned(), name.to_owned()))
            .cloned()
            .ok_or_else(|| not_found(name))
    }

    pub(crate) fn delete(&self, group: &str, name: &str) -> Result<(), Refusal> {
        let mut all = self.by_key.lock().unwrap();
        all.remove(&(group.to_owned(), name.to_owned()))
            .map(|_| ())
            .ok_or_else(|| not_found(name))
    }

    /// The enabled schedules due at `now`, earliest first; those to be deleted after they ran
    /// are removed, the others stay (a one-time schedule runs once).
    pub(crate) fn take_due(&self, now: f64) -> Vec<Due> {
        let mut all = self.by_key.lock().unwrap();
        let mut due: Vec<&Schedule> = all
            .values()
            .filter(|s| s.at <= now && s.input.state.as_deref() != Some("DISABLED"))
            .collect();
        due.sort_by(|a, b| a.at.total_cmp(&b.at));
        let fired: Vec<(Due, (String, String), bool)> = due
            .into_iter()
            .map(|s| {
                let target = s.input.target.get("Arn").and_then(Value::as_str).unwrap_or_default();
                let input = s.input.target.get("Input").and_then(Value::as_str).unwrap_or("{}");
                let delete = s.input.action_after_completion.as_deref() == Some("DELETE");
                let due = Due {
                    name: s.name.clone(),
                    target: target.to_owned(),
                    input: input.to_owned(),
                };
                (due, (s.group.clone(), s.name.clone()), delete)
            })
            .collect();
        for (_, key, delete) in &fired {
            if *delete {
                all.remove(key);
            } else if let Some(s) = all.get_mut(key) {
                // Ran: a one-time schedule never fires again.
                s.input.state = Some("DISABLED".to_owned());
            }
        }
        *self.fired.lock().unwrap() += fired.len() as u64;
        fired.into_iter().map(|(due, _, _)| due).collect()
    }

    /// (schedules waiting, schedules fired so far).
    pub(crate) fn counts(&self) -> (usize, u64) {
        let waiting = self
            .by_key
            .lock()
            .unwrap()
            .values()
            .filter(|s| s.input.state.as_deref() != Some("DISABLED"))
            .count();
        (waiting, *self.fired.lock().unwrap())
    }

    pub(crate) fn clear(&self) {
        self.by_key.lock().unwrap().clear();
        *self.fired.lock().unwrap() = 0;
    }
}

fn not_found(name: &str) -> Refusal {
    (
        404,
        "ResourceNotFoundException",
        format!("Schedule {name} does not exist."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(at: &str) -> ScheduleInput {
        serde_json::from_value(serde_json::json!({
            "GroupName": "g", "ScheduleExpression": at, "ScheduleExpressionTimezone": "UTC",
            "FlexibleTimeWindow": {"Mode": "OFF"}, "ActionAfterCompletion": "DELETE",
            "Target": {"Arn": "arn:aws:lambda:us-east-1:123456789012:function:f", "RoleArn": "r", "Input": "{\"x\":1}"},
            "ClientToken": "t1"
        }))
        .unwrap()
    }

    #[test]
    fn a_one_time_schedule_fires_once_at_its_time_and_is_deleted() {
        let s = Schedules::new("123456789012", "us-east-1");
        let at = util::parse_date("2026-12-03T18:00:00").unwrap();
        s.create("wake-1", input("at(2026-12-03T18:00:00)"), at - 100.0)
            .unwrap();
        assert_eq!(
            s.create("wake-1", input("at(2026-12-03T18:00:00)"), at - 99.0).unwrap(),
            s.arn("g", "wake-1"),
            "an SDK retry"
        );
        let mut other = input("at(2026-12-03T18:00:00)");
        other.client_token = Some("t2".into());
        assert_eq!(s.create("wake-1", other, at - 98.0).unwrap_err().1, "ConflictException");
        assert!(s.take_due(at - 1.0).is_empty());
        let due = s.take_due(at);
        assert_eq!(due.len(), 1);
        assert_eq!(
            (due[0].input.as_str(), due[0].target.as_str()),
            ("{\"x\":1}", "arn:aws:lambda:us-east-1:123456789012:function:f")
        );
        assert!(s.take_due(at + 10.0).is_empty(), "once");
        assert_eq!(s.get("g", "wake-1").unwrap_err().1, "ResourceNotFoundException");
        assert_eq!(s.counts(), (0, 1));
    }

    #[test]
    fn bad_names_and_expressions_are_refused() {
        let s = Schedules::new("a", "r");
        assert_eq!(
            s.create("bad name", input("at(2026-12-03T18:00:00)"), 0.0)
                .unwrap_err()
                .1,
            "ValidationException"
        );
        assert_eq!(
            s.create("x", input("at(2026-12-03 18:00)"), 0.0).unwrap_err().2,
            "Invalid Schedule Expression"
        );
        assert!(s
            .create("y", input("rate(5 minutes)"), 0.0)
            .unwrap_err()
            .2
            .contains("at() schedules only"));
    }
}
