//! Configuration from environment variables, checked once at start.

use crate::domain::workflow::Limits;
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
    /// `INVOCATION_BUDGET_SECONDS` (optional): hand the tracking to a new invocation after this
    /// long even if the deadline is further away. Unset on AWS; the local demo sets it to show
    /// continuations without waiting 15 minutes.
    pub invocation_budget_secs: Option<i64>,
    /// `ADDON_RESOLVE_CONFLICTS`: how UpdateAddon treats configuration changed on the cluster
    /// (PRESERVE, OVERWRITE or NONE; default PRESERVE).
    pub addon_resolve_conflicts: String,
    /// `EVENT_BUS_NAME` (optional): the EventBridge bus notifications go to; unset, none are sent.
    pub event_bus_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "configuration: {}", self.0)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &str, what: &str| -> Result<String, ConfigError> {
            lookup(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| ConfigError(format!("{name} is not set: expected {what}")))
        };
        let number = |name: &str, default: i64, min: i64, max: i64| -> Result<i64, ConfigError> {
            match lookup(name).filter(|v| !v.trim().is_empty()) {
                None => Ok(default),
                Some(text) => match text.trim().parse::<i64>() {
                    Ok(n) if (min..=max).contains(&n) => Ok(n),
                    _ => Err(ConfigError(format!(
                        "{name} is {text:?}: expected a whole number from {min} to {max}"
                    ))),
                },
            }
        };
        let defaults = Limits::default();
        let limits = Limits {
            poll_interval_secs: number("POLL_INTERVAL_SECONDS", defaults.poll_interval_secs, 1, 600)?,
            max_attempt_secs: number("MAX_TRACKING_SECONDS", defaults.max_attempt_secs, 60, 7 * 86400)?,
            max_invocations: number("MAX_INVOCATIONS", defaults.max_invocations as i64, 1, 10_000)? as u32,
            retention_secs: number("RECORD_RETENTION_DAYS", defaults.retention_secs / 86400, 1, 3650)? * 86400,
            stale_after_secs: number("STALE_AFTER_SECONDS", defaults.stale_after_secs, 1, 86400)?,
            enrollment_tag: lookup("ENROLLMENT_TAG")
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| defaults.enrollment_tag.clone()),
            allowed_clusters: lookup("ALLOWED_CLUSTERS")
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect(),
            nodegroup_parallelism: number("NODEGROUP_PARALLELISM", 1, 1, 20)? as u32,
            blocked_recheck_secs: number("BLOCKED_RECHECK_SECONDS", defaults.blocked_recheck_secs, 0, 30 * 86400)?,
            hop_estimate_secs: number("HOP_ESTIMATE_MINUTES", defaults.hop_estimate_secs / 60, 1, 720)? * 60,
        };
        Ok(Self {
            table_name: required("UPGRADES_TABLE", "the name of the DynamoDB table of upgrade records")?,
            function_name: required(
                "AWS_LAMBDA_FUNCTION_NAME",
                "this function's own name, for continuations",
            )?,
            limits,
            safety_margin_secs: number("SAFETY_MARGIN_SECONDS", 45, 1, 600)?,
            event_bus_name: lookup("EVENT_BUS_NAME")
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty()),
            addon_resolve_conflicts: match lookup("ADDON_RESOLVE_CONFLICTS").filter(|v| !v.trim().is_empty()) {
                None => "PRESERVE".to_owned(),
                Some(v) if ["PRESERVE", "OVERWRITE", "NONE"].contains(&v.trim()) => v.trim().to_owned(),
                Some(v) => {
                    return Err(ConfigError(format!(
                        "ADDON_RESOLVE_CONFLICTS is {v:?}: expected PRESERVE, OVERWRITE or NONE"
                    )))
                }
            },
            invocation_budget_secs: match lookup("INVOCATION_BUDGET_SECONDS").filter(|v| !v.trim().is_empty()) {
                None => None,
                Some(_) => Some(number("INVOCATION_BUDGET_SECONDS", 0, 5, 900)?),
            },
        })
    }
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
        assert_eq!(config.limits.max_attempt_secs, 10800);
        assert_eq!(config.safety_margin_secs, 45);
        assert_eq!(config.invocation_budget_secs, None);
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
}
