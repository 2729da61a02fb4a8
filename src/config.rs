//! Configuration from environment variables, checked once at start: a bad value, or values
//! that cannot work together, stop the function with a message naming the variable.

use crate::domain::workflow::Limits;
use crate::domain::Location;
use std::fmt;

/// Everything the handler needs to know besides the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `UPGRADES_TABLE`: the DynamoDB table of upgrade records.
    pub table_name: String,
    /// `AWS_LAMBDA_FUNCTION_NAME` (set by Lambda and by `cargo lambda watch`): where
    /// continuations go.
    pub function_name: String,
    pub limits: Limits,
    /// `SAFETY_MARGIN_SECONDS`: time kept back before the invocation's deadline to write the
    /// record and send the continuation.
    pub safety_margin_secs: i64,
    /// `OPERATION_TIMEOUT_SECONDS`: the longest one AWS call may take, its retries included;
    /// shorter than the safety margin, so a hung call cannot outlive the invocation.
    pub operation_timeout_secs: i64,
    /// `INVOCATION_BUDGET_SECONDS` (optional): hand the tracking to a new invocation after this
    /// long even if the deadline is further away. Unset on AWS; the local demo sets it to show
    /// continuations without waiting 15 minutes.
    pub invocation_budget_secs: Option<i64>,
    /// `ADDON_RESOLVE_CONFLICTS`: how UpdateAddon treats configuration changed on the cluster
    /// (PRESERVE, OVERWRITE or NONE; default PRESERVE).
    pub addon_resolve_conflicts: String,
    /// `EVENT_BUS_NAME` (optional): the EventBridge bus notifications go to; unset, none are sent.
    pub event_bus_name: Option<String>,
    /// `MAX_STEPS_PER_INVOCATION`: calls one invocation makes one after another without
    /// waiting; past it, it hands on to a new invocation (a safety net against any loop).
    pub max_steps_per_invocation: u32,
    /// Wake-ups: when set, a wait of `PARK_AFTER_SECONDS` or more ends the invocation and an
    /// EventBridge Scheduler one-time schedule delivers the continuation then; unset, every
    /// wait is slept in the invocation (or handed on near its deadline), as before.
    pub wake: Option<WakeConfig>,
    /// `HOME_ACCOUNT_ID` (the template sets it) and `AWS_REGION`: this function's own account
    /// and region, whose clusters are named by name alone; unset, only those can be upgraded.
    pub home: Option<Location>,
    /// `SPOKE_ROLE_NAME` (optional): the role assumed in member accounts to reach their
    /// clusters; unset, only this account's clusters can be reached.
    pub spoke: Option<SpokeConfig>,
    /// `STANDARD_SUPPORT_HOURLY_USD`, `EXTENDED_SUPPORT_HOURLY_USD`: what EKS charges per
    /// cluster-hour (EKS's list prices, 0.10 and 0.60, by default), for the fleet report.
    pub support_prices: SupportPrices,
}

/// EKS's cluster-hour prices, in thousandths of a dollar (so the configuration compares exactly).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SupportPrices {
    pub standard_mills: u32,
    pub extended_mills: u32,
}

impl Default for SupportPrices {
    fn default() -> Self {
        Self {
            standard_mills: 100,
            extended_mills: 600,
        }
    }
}

impl SupportPrices {
    pub fn prices(&self) -> crate::domain::support::Prices {
        crate::domain::support::Prices {
            standard_hourly_usd: f64::from(self.standard_mills) / 1000.0,
            extended_hourly_usd: f64::from(self.extended_mills) / 1000.0,
        }
    }
}

/// How member accounts are reached (hub and spoke).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpokeConfig {
    /// `SPOKE_ROLE_NAME`: the role's name, the same in every member account.
    pub role_name: String,
    /// `SPOKE_EXTERNAL_ID` (optional): the external id the spoke role's trust requires.
    pub external_id: Option<String>,
}

/// Where wake-ups are arranged (the template sets all of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WakeConfig {
    /// `WAKE_SCHEDULE_GROUP`: the stack's schedule group, the only one the function may write.
    pub group: String,
    /// `WAKE_ROLE_ARN`: the role EventBridge Scheduler assumes to invoke the function.
    pub role_arn: String,
    /// `WAKE_TARGET_ARN`: this function's ARN, the schedules' target.
    pub target_arn: String,
    /// `WAKE_DEAD_LETTER_ARN` (optional): the SQS queue a wake-up that could not be delivered
    /// goes to.
    pub dead_letter_arn: Option<String>,
    /// `PARK_AFTER_SECONDS` (default 60, EventBridge Scheduler's precision): shorter waits stay
    /// in the invocation.
    pub park_after_secs: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "configuration: {}", self.0)
    }
}

impl std::error::Error for ConfigError {}

/// Reads one variable through a lookup (the environment, or a map in tests).
struct Vars<F>(F);

impl<F: Fn(&str) -> Option<String>> Vars<F> {
    fn text(&self, name: &str) -> Option<String> {
        (self.0)(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    fn required(&self, name: &str, what: &str) -> Result<String, ConfigError> {
        self.text(name)
            .ok_or_else(|| ConfigError(format!("{name} is not set: expected {what}")))
    }

    fn number(&self, name: &str, default: i64, min: i64, max: i64) -> Result<i64, ConfigError> {
        match self.text(name) {
            None => Ok(default),
            Some(text) => match text.parse::<i64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(n),
                _ => Err(ConfigError(format!(
                    "{name} is {text:?}: expected a whole number from {min} to {max}"
                ))),
            },
        }
    }
}

/// `PARK_AFTER_SECONDS`' default: EventBridge Scheduler's precision.
pub const PARK_AFTER_SECS: i64 = 60;

impl Config {
    /// The least lead a wake-up is arranged with (see [`WakeConfig::park_after_secs`]).
    pub fn wake_lead_secs(&self) -> i64 {
        self.wake.as_ref().map_or(PARK_AFTER_SECS, |w| w.park_after_secs)
    }

    /// The defaults, for a table and a function name.
    pub fn new(table_name: impl Into<String>, function_name: impl Into<String>, limits: Limits) -> Self {
        Self {
            table_name: table_name.into(),
            function_name: function_name.into(),
            limits,
            safety_margin_secs: 45,
            operation_timeout_secs: 20,
            invocation_budget_secs: None,
            addon_resolve_conflicts: "PRESERVE".to_owned(),
            event_bus_name: None,
            max_steps_per_invocation: 100,
            wake: None,
            home: None,
            spoke: None,
            support_prices: SupportPrices::default(),
        }
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Vars(lookup);
        let wake = wake(&vars)?;
        let config = Self {
            table_name: vars.required("UPGRADES_TABLE", "the name of the DynamoDB table of upgrade records")?,
            function_name: vars.required(
                "AWS_LAMBDA_FUNCTION_NAME",
                "this function's own name, for continuations",
            )?,
            limits: limits(&vars, wake.is_some())?,
            safety_margin_secs: vars.number("SAFETY_MARGIN_SECONDS", 45, 1, 600)?,
            operation_timeout_secs: vars.number("OPERATION_TIMEOUT_SECONDS", 20, 1, 300)?,
            event_bus_name: vars.text("EVENT_BUS_NAME"),
            max_steps_per_invocation: vars.number("MAX_STEPS_PER_INVOCATION", 100, 5, 10_000)? as u32,
            addon_resolve_conflicts: match vars.text("ADDON_RESOLVE_CONFLICTS") {
                None => "PRESERVE".to_owned(),
                Some(v) if ["PRESERVE", "OVERWRITE", "NONE"].contains(&v.as_str()) => v,
                Some(v) => {
                    return Err(ConfigError(format!(
                        "ADDON_RESOLVE_CONFLICTS is {v:?}: expected PRESERVE, OVERWRITE or NONE"
                    )))
                }
            },
            invocation_budget_secs: match vars.text("INVOCATION_BUDGET_SECONDS") {
                None => None,
                Some(_) => Some(vars.number("INVOCATION_BUDGET_SECONDS", 0, 5, 900)?),
            },
            wake,
            home: home(&vars)?,
            spoke: spoke(&vars)?,
            support_prices: SupportPrices {
                standard_mills: price(&vars, "STANDARD_SUPPORT_HOURLY_USD", 100)?,
                extended_mills: price(&vars, "EXTENDED_SUPPORT_HOURLY_USD", 600)?,
            },
        };
        config.check()?;
        Ok(config)
    }

    /// Values that each look fine but cannot work together.
    fn check(&self) -> Result<(), ConfigError> {
        let limits = &self.limits;
        let longest = [
            (
                "CONTROL_PLANE_UPDATE_TIMEOUT_SECONDS",
                limits.control_plane_update_timeout_secs,
            ),
            ("ADDON_UPDATE_TIMEOUT_SECONDS", limits.addon_update_timeout_secs),
            ("NODEGROUP_UPDATE_TIMEOUT_SECONDS", limits.nodegroup_update_timeout_secs),
        ]
        .into_iter()
        .max_by_key(|(_, secs)| *secs);
        if let Some((name, secs)) = longest.filter(|(_, secs)| *secs > limits.max_attempt_secs) {
            return Err(ConfigError(format!(
                "MAX_TRACKING_SECONDS ({}) must be at least {name} ({secs}): the whole upgrade would end before one \
                 update may",
                limits.max_attempt_secs
            )));
        }
        if self.operation_timeout_secs >= self.safety_margin_secs {
            return Err(ConfigError(format!(
                "OPERATION_TIMEOUT_SECONDS ({}) must be shorter than SAFETY_MARGIN_SECONDS ({}): a call \
                 still running when the margin begins could outlive the invocation",
                self.operation_timeout_secs, self.safety_margin_secs
            )));
        }
        let needed = self.min_invocation_secs();
        if let Some(budget) = self.invocation_budget_secs.filter(|b| *b < needed) {
            return Err(ConfigError(format!(
                "INVOCATION_BUDGET_SECONDS ({budget}) must be at least SAFETY_MARGIN_SECONDS ({}) + \
                 POLL_INTERVAL_SECONDS ({}) + OPERATION_TIMEOUT_SECONDS ({}) = {needed}: otherwise every \
                 invocation hands on at once, without doing anything",
                self.safety_margin_secs, self.limits.poll_interval_secs, self.operation_timeout_secs
            )));
        }
        Ok(())
    }

    /// The shortest invocation that can make progress: one call, one wait, and the margin.
    pub fn min_invocation_secs(&self) -> i64 {
        self.safety_margin_secs + self.limits.poll_interval_secs + self.operation_timeout_secs
    }
}

/// A price in dollars with at most three decimals (`0.10`), as thousandths of a dollar.
fn price<F: Fn(&str) -> Option<String>>(vars: &Vars<F>, name: &str, default: u32) -> Result<u32, ConfigError> {
    let Some(text) = vars.text(name) else {
        return Ok(default);
    };
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let parsed = (!whole.is_empty() && whole.len() <= 3 && fraction.len() <= 3 && digits(whole) && digits(fraction))
        .then(|| {
            whole
                .parse::<u32>()
                .ok()
                .zip(format!("{fraction:0<3}").parse::<u32>().ok())
        })
        .flatten();
    parsed.map(|(w, f)| w * 1000 + f).ok_or_else(|| {
        ConfigError(format!(
            "{name} is {text:?}: expected dollars per cluster-hour, such as 0.10"
        ))
    })
}

fn wake<F: Fn(&str) -> Option<String>>(vars: &Vars<F>) -> Result<Option<WakeConfig>, ConfigError> {
    let Some(group) = vars.text("WAKE_SCHEDULE_GROUP") else {
        if let Some(name) = ["WAKE_ROLE_ARN", "WAKE_TARGET_ARN"]
            .into_iter()
            .find(|n| vars.text(n).is_some())
        {
            return Err(ConfigError(format!(
                "{name} is set but WAKE_SCHEDULE_GROUP is not: expected the schedule group of wake-ups too"
            )));
        }
        return Ok(None);
    };
    Ok(Some(WakeConfig {
        group,
        role_arn: vars.required("WAKE_ROLE_ARN", "the ARN of the role EventBridge Scheduler assumes")?,
        target_arn: vars.required("WAKE_TARGET_ARN", "this function's ARN, the wake-ups' target")?,
        dead_letter_arn: vars.text("WAKE_DEAD_LETTER_ARN"),
        park_after_secs: vars.number("PARK_AFTER_SECONDS", PARK_AFTER_SECS, 1, 900)?,
    }))
}

fn home<F: Fn(&str) -> Option<String>>(vars: &Vars<F>) -> Result<Option<Location>, ConfigError> {
    let Some(account) = vars.text("HOME_ACCOUNT_ID") else {
        return Ok(None);
    };
    let region = vars.required("AWS_REGION", "this function's region (Lambda sets it)")?;
    Location::new(&account, &region)
        .map(Some)
        .map_err(|e| ConfigError(format!("HOME_ACCOUNT_ID and AWS_REGION: {e}")))
}

fn spoke<F: Fn(&str) -> Option<String>>(vars: &Vars<F>) -> Result<Option<SpokeConfig>, ConfigError> {
    let Some(role_name) = vars.text("SPOKE_ROLE_NAME") else {
        return Ok(None);
    };
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c);
    if role_name.len() > 64 || !role_name.chars().all(allowed) {
        return Err(ConfigError(format!(
            "SPOKE_ROLE_NAME is {role_name:?}: expected an IAM role name (1-64 characters: letters, digits and _+=,.@-)"
        )));
    }
    if vars.text("HOME_ACCOUNT_ID").is_none() {
        return Err(ConfigError(
            "SPOKE_ROLE_NAME is set but HOME_ACCOUNT_ID is not: a cluster named by its account must be told apart \
             from this account's"
                .into(),
        ));
    }
    Ok(Some(SpokeConfig {
        role_name,
        external_id: vars.text("SPOKE_EXTERNAL_ID"),
    }))
}

fn limits<F: Fn(&str) -> Option<String>>(vars: &Vars<F>, waking: bool) -> Result<Limits, ConfigError> {
    let defaults = Limits::default();
    let poll_interval_secs = vars.number("POLL_INTERVAL_SECONDS", defaults.poll_interval_secs, 1, 600)?;
    let minutes =
        |name: &str, default: i64, min: i64, max: i64| vars.number(name, default / 60, min, max).map(|m| m * 60);
    Ok(Limits {
        poll_interval_secs,
        // Each look is an invocation when waits park: once a minute (and up to 10 s of spread)
        // keeps EKS's end to the record's at about two minutes (Scheduler fires within the
        // minute its time names).
        update_poll_secs: vars.number(
            "UPDATE_POLL_SECONDS",
            if waking { 60 } else { poll_interval_secs },
            1,
            3600,
        )?,
        max_attempt_secs: vars.number("MAX_TRACKING_SECONDS", defaults.max_attempt_secs, 60, 30 * 86400)?,
        control_plane_update_timeout_secs: vars.number(
            "CONTROL_PLANE_UPDATE_TIMEOUT_SECONDS",
            defaults.control_plane_update_timeout_secs,
            60,
            7 * 86400,
        )?,
        addon_update_timeout_secs: vars.number(
            "ADDON_UPDATE_TIMEOUT_SECONDS",
            defaults.addon_update_timeout_secs,
            60,
            7 * 86400,
        )?,
        nodegroup_update_timeout_secs: vars.number(
            "NODEGROUP_UPDATE_TIMEOUT_SECONDS",
            defaults.nodegroup_update_timeout_secs,
            60,
            7 * 86400,
        )?,
        max_invocations: vars.number("MAX_INVOCATIONS", i64::from(defaults.max_invocations), 1, 10_000)? as u32,
        retention_secs: vars.number("RECORD_RETENTION_DAYS", defaults.retention_secs / 86400, 1, 3650)? * 86400,
        stale_after_secs: vars.number("STALE_AFTER_SECONDS", defaults.stale_after_secs, 1, 86400)?,
        enrollment_tag: vars
            .text("ENROLLMENT_TAG")
            .unwrap_or_else(|| defaults.enrollment_tag.clone()),
        allowed_clusters: vars
            .text("ALLOWED_CLUSTERS")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect(),
        nodegroup_parallelism: vars.number("NODEGROUP_PARALLELISM", 1, 1, 20)? as u32,
        verify_alarm_prefix: vars.text("VERIFY_ALARM_PREFIX"),
        blocked_recheck_secs: vars.number("BLOCKED_RECHECK_SECONDS", defaults.blocked_recheck_secs, 0, 30 * 86400)?,
        blocked_give_up_secs: vars.number(
            "BLOCKED_GIVE_UP_AFTER_SECONDS",
            defaults.blocked_give_up_secs,
            0,
            365 * 86400,
        )?,
        hop_estimate_secs: minutes("HOP_ESTIMATE_MINUTES", defaults.hop_estimate_secs, 1, 720)?,
        sweep_period_secs: minutes("SWEEP_PERIOD_MINUTES", defaults.sweep_period_secs, 1, 60)?,
        // A one-time schedule fires within a minute of its time; without one, the sweep wakes.
        wake_lateness_secs: if waking {
            60
        } else {
            minutes("SWEEP_PERIOD_MINUTES", defaults.sweep_period_secs, 1, 60)?
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults() {
        let config = load(&[("UPGRADES_TABLE", "t"), ("AWS_LAMBDA_FUNCTION_NAME", "f")]).unwrap();
        assert_eq!(config.limits, Limits::default());
        assert_eq!(config.limits.poll_interval_secs, 30);
        assert_eq!(config.limits.max_attempt_secs, 86400);
        assert_eq!(config.limits.nodegroup_update_timeout_secs, 6 * 3600);
        assert_eq!(config.safety_margin_secs, 45);
        assert_eq!(config.invocation_budget_secs, None);
        assert_eq!(config, Config::new("t", "f", Limits::default()));
    }

    #[test]
    fn wake_ups_are_all_set_or_none() {
        let base = [("UPGRADES_TABLE", "t"), ("AWS_LAMBDA_FUNCTION_NAME", "f")];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut pairs = base.to_vec();
            pairs.extend_from_slice(extra);
            load(&pairs)
        };
        let config = with(&[
            ("WAKE_SCHEDULE_GROUP", "g"),
            ("WAKE_ROLE_ARN", "arn:aws:iam::123456789012:role/r"),
            ("WAKE_TARGET_ARN", "arn:aws:lambda:us-east-1:123456789012:function:f"),
        ])
        .unwrap();
        let wake = config.wake.unwrap();
        assert_eq!(
            (wake.group.as_str(), wake.park_after_secs, wake.dead_letter_arn),
            ("g", 60, None)
        );
        assert_eq!(
            config.limits.update_poll_secs, 60,
            "each look is an invocation: once a minute"
        );
        assert_eq!(
            with(&[]).unwrap().limits.update_poll_secs,
            30,
            "without wake-ups, the poll interval"
        );
        let err = with(&[("WAKE_SCHEDULE_GROUP", "g")]).unwrap_err();
        assert!(err.0.starts_with("WAKE_ROLE_ARN is not set"), "{err}");
        let err = with(&[("WAKE_TARGET_ARN", "arn")]).unwrap_err();
        assert!(
            err.0
                .starts_with("WAKE_TARGET_ARN is set but WAKE_SCHEDULE_GROUP is not"),
            "{err}"
        );
    }

    #[test]
    fn support_prices_are_dollars_per_cluster_hour() {
        let base = [("UPGRADES_TABLE", "t"), ("AWS_LAMBDA_FUNCTION_NAME", "f")];
        assert_eq!(load(&base).unwrap().support_prices, SupportPrices::default());
        let mut set = base.to_vec();
        set.extend([
            ("STANDARD_SUPPORT_HOURLY_USD", "0.1"),
            ("EXTENDED_SUPPORT_HOURLY_USD", "0.525"),
        ]);
        let prices = load(&set).unwrap().support_prices;
        assert_eq!((prices.standard_mills, prices.extended_mills), (100, 525));
        for bad in ["-1", "0.1234", "abc", "1e3", ".5"] {
            let mut set = base.to_vec();
            set.push(("EXTENDED_SUPPORT_HOURLY_USD", bad));
            let err = load(&set).unwrap_err().to_string();
            assert!(err.contains("EXTENDED_SUPPORT_HOURLY_USD"), "{bad}: {err}");
        }
    }

    #[test]
    fn errors_name_the_variable() {
        let err = load(&[("AWS_LAMBDA_FUNCTION_NAME", "f")]).unwrap_err();
        assert!(err.0.contains("UPGRADES_TABLE"), "{err}");
        let err = load(&[
            ("UPGRADES_TABLE", "t"),
            ("AWS_LAMBDA_FUNCTION_NAME", "f"),
            ("POLL_INTERVAL_SECONDS", "soon"),
        ])
        .unwrap_err();
        assert!(
            err.0.contains("POLL_INTERVAL_SECONDS") && err.0.contains("whole number"),
            "{err}"
        );
        let err = load(&[
            ("UPGRADES_TABLE", "t"),
            ("AWS_LAMBDA_FUNCTION_NAME", "f"),
            ("MAX_INVOCATIONS", "0"),
        ])
        .unwrap_err();
        assert!(err.0.contains("MAX_INVOCATIONS"), "{err}");
    }

    #[test]
    fn values_that_cannot_work_together_are_refused_naming_the_variable() {
        let base = [("UPGRADES_TABLE", "t"), ("AWS_LAMBDA_FUNCTION_NAME", "f")];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut pairs = base.to_vec();
            pairs.extend_from_slice(extra);
            load(&pairs)
        };
        // An invocation that could only hand on: margin 45 + poll 30 + call 20 > 60.
        let err = with(&[("INVOCATION_BUDGET_SECONDS", "60")]).unwrap_err();
        assert!(
            err.0.starts_with("INVOCATION_BUDGET_SECONDS (60) must be at least"),
            "{err}"
        );
        assert!(with(&[("INVOCATION_BUDGET_SECONDS", "95")]).is_ok());
        let err = with(&[("MAX_TRACKING_SECONDS", "10800")]).unwrap_err();
        assert!(
            err.0
                .starts_with("MAX_TRACKING_SECONDS (10800) must be at least NODEGROUP_UPDATE_TIMEOUT_SECONDS"),
            "{err}"
        );
        let err = with(&[("OPERATION_TIMEOUT_SECONDS", "45")]).unwrap_err();
        assert!(
            err.0
                .contains("OPERATION_TIMEOUT_SECONDS (45) must be shorter than SAFETY_MARGIN_SECONDS"),
            "{err}"
        );
    }
}
