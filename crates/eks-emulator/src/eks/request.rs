//! Request parsing: JSON bodies and query strings.

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ApiError;

/// Parses a JSON request body (empty = `{}`), returning the typed request and the raw value.
pub(super) fn body<T: DeserializeOwned>(raw: &Bytes) -> Result<(T, Value), ApiError> {
    let v: Value = if raw.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Default::default())
    } else {
        serde_json::from_slice(raw).map_err(|e| ApiError::serialization(format!("Malformed request body: {e}")))?
    };
    if !v.is_object() {
        return Err(ApiError::serialization(
            "Malformed request body: expected a JSON object",
        ));
    }
    let t = serde_json::from_value(v.clone())
        .map_err(|e| ApiError::serialization(format!("Malformed request body: {e}")))?;
    Ok((t, v))
}

/// Decoded query parameters, repeats kept.
pub(super) struct Query(pub Vec<(String, String)>);

impl Query {
    pub(super) fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str())
    }

    /// Every value of `k`, comma-separated lists split, empty ones dropped.
    pub(super) fn all(&self, k: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(a, _)| a == k)
            .flat_map(|(_, v)| v.split(',').map(str::to_string).collect::<Vec<_>>())
            .filter(|v| !v.is_empty())
            .collect()
    }

    pub(super) fn string(&self, k: &str) -> Option<String> {
        self.get(k).map(str::to_string)
    }

    pub(super) fn int(&self, k: &str) -> Result<Option<i64>, ApiError> {
        self.get(k)
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| ApiError::invalid_parameter(format!("{k} must be an integer, got {v:?}")))
            })
            .transpose()
    }

    pub(super) fn bool(&self, k: &str) -> Result<bool, ApiError> {
        match self.get(k) {
            None => Ok(false),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(v) => Err(ApiError::invalid_parameter(format!(
                "{k} must be true or false, got {v:?}"
            ))),
        }
    }
}
