//! Relay settings and their partial changes (`POST /_emulator/relay`).

use serde::{Deserialize, Serialize};

/// Relay settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RelayConfig {
    /// Base URL of the Lambda endpoint to deliver to, e.g. "http://127.0.0.1:9000"
    /// (`cargo lambda watch`). None: Invoke answers ResourceNotFoundException.
    pub forward_url: Option<String>,
    /// Retries after the first attempt of an Event delivery (default 3).
    pub max_retries: u32,
    /// First backoff in milliseconds, doubled per retry, capped at 10 s (default 200).
    pub backoff_ms: u64,
    /// Timeout of one attempt in milliseconds (default 900000, Lambda's 15 minutes).
    pub timeout_ms: u64,
    /// Event invocations of one function delivered at once, as Lambda runs up to its
    /// concurrency limit (default 1000, an account's default limit); 1 delivers them one at a
    /// time in order.
    pub max_concurrency: u32,
}

impl Default for RelayConfig {
    fn default() -> Self {
        RelayConfig {
            forward_url: None,
            max_retries: 3,
            backoff_ms: 200,
            timeout_ms: 900_000,
            max_concurrency: 1000,
        }
    }
}

impl RelayConfig {
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.max_concurrency == 0 {
            return Err("maxConcurrency must be at least 1".into());
        }
        if let Some(u) = &self.forward_url {
            let uri: hyper::Uri = u.parse().map_err(|e| format!("forwardUrl {u:?} is not a URL: {e}"))?;
            if uri.scheme_str() != Some("http") || uri.host().is_none() {
                return Err(format!(
                    "forwardUrl {u:?} must be an http:// URL with a host (https is not supported)"
                ));
            }
        }
        Ok(())
    }

    /// Applies the fields set in `patch`.
    pub fn apply(&mut self, p: &RelayConfigPatch) {
        if let Some(u) = &p.forward_url {
            self.forward_url = if u.is_empty() { None } else { Some(u.clone()) };
        }
        if let Some(v) = p.max_retries {
            self.max_retries = v;
        }
        if let Some(v) = p.backoff_ms {
            self.backoff_ms = v;
        }
        if let Some(v) = p.timeout_ms {
            self.timeout_ms = v;
        }
        if let Some(v) = p.max_concurrency {
            self.max_concurrency = v;
        }
    }
}

/// A partial change of [`RelayConfig`]; `forwardUrl: ""` turns forwarding off.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RelayConfigPatch {
    /// See [`RelayConfig::forward_url`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_url: Option<String>,
    /// See [`RelayConfig::max_retries`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<u32>,
    /// See [`RelayConfig::backoff_ms`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_ms: Option<u64>,
    /// See [`RelayConfig::timeout_ms`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// See [`RelayConfig::max_concurrency`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<u32>,
    /// Drop the next N Event invocations (answered 202, never delivered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop_next_events: Option<u64>,
}
