//! clientRequestToken bookkeeping: a request's token and fingerprint, the table of tokens seen.

use crate::error::ApiError;
use std::collections::HashMap;

/// A request's clientRequestToken and what identifies the request ("fingerprint": its
/// parameters without the token).
pub(in crate::model) struct ClientToken<'a> {
    pub operation: &'static str,
    pub token: Option<&'a str>,
    pub fingerprint: String,
}

impl<'a> ClientToken<'a> {
    pub(in crate::model) fn new(operation: &'static str, token: Option<&'a str>, fingerprint: String) -> Self {
        ClientToken {
            operation,
            token,
            fingerprint,
        }
    }

    /// EKS's length constraint (33 to 126 characters).
    pub(in crate::model) fn check_length(&self) -> Result<(), ApiError> {
        if let Some(t) = self.token {
            let n = t.chars().count();
            if !(33..=126).contains(&n) {
                return Err(ApiError::invalid_parameter(format!(
                    "Value '{t}' at 'clientRequestToken' failed to satisfy constraint: Member must have length between 33 and 126"
                )));
            }
        }
        Ok(())
    }
}

/// A token seen before: the request's fingerprint and what it produced (an update id,
/// or a cluster name for CreateCluster; None when the request names what it creates).
#[derive(Debug, Clone)]
pub(in crate::model) struct TokenEntry {
    pub(in crate::model) fingerprint: String,
    pub produced: Option<String>,
}

/// The tokens of successful requests.
#[derive(Debug, Clone, Default)]
pub(crate) struct TokenTable(HashMap<String, TokenEntry>);

impl TokenTable {
    /// The entry of a token seen before with the same parameters; the token-mismatch
    /// error (about `cluster`) if it came with other parameters.
    pub(in crate::model) fn check(&self, t: &ClientToken, cluster: &str) -> Result<Option<TokenEntry>, ApiError> {
        let Some(token) = t.token else { return Ok(None) };
        match self.0.get(token) {
            None => Ok(None),
            Some(e) if e.fingerprint == t.fingerprint => Ok(Some(e.clone())),
            Some(_) => Err(ApiError::invalid_parameter(format!(
                "Client request token {token} was already used with different request parameters."
            ))
            .cluster(cluster)),
        }
    }

    /// Keeps a successful request's token for later retries.
    pub(in crate::model) fn remember(&mut self, t: &ClientToken, produced: Option<String>) {
        if let Some(token) = t.token {
            self.0.insert(
                token.to_string(),
                TokenEntry {
                    fingerprint: t.fingerprint.clone(),
                    produced,
                },
            );
        }
    }
}
