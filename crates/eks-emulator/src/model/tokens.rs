//! The clientRequestToken bookkeeping every update-creating operation shares: the length
//! check, the idempotent hit, the replay, remembering a token, the token-mismatch error
//! and the token stats.

use std::collections::HashMap;

use crate::error::ApiError;
use crate::stats::TokenStat;

use super::updates::{Target, Update};
use super::State;

/// A request's clientRequestToken and what identifies the request ("fingerprint": its
/// parameters without the token).
pub(super) struct ClientToken<'a> {
    pub operation: &'static str,
    pub token: Option<&'a str>,
    pub fingerprint: String,
}

impl<'a> ClientToken<'a> {
    pub(super) fn new(operation: &'static str, token: Option<&'a str>, fingerprint: String) -> Self {
        ClientToken {
            operation,
            token,
            fingerprint,
        }
    }

    /// EKS's length constraint (33 to 126 characters).
    pub(super) fn check_length(&self) -> Result<(), ApiError> {
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
pub(super) struct TokenEntry {
    fingerprint: String,
    pub produced: Option<String>,
}

/// The tokens of successful requests.
#[derive(Debug, Clone, Default)]
pub(crate) struct TokenTable(HashMap<String, TokenEntry>);

impl TokenTable {
    /// The entry of a token seen before with the same parameters; the token-mismatch
    /// error (about `cluster`) if it came with other parameters.
    pub(super) fn check(&self, t: &ClientToken, cluster: &str) -> Result<Option<TokenEntry>, ApiError> {
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
    pub(super) fn remember(&mut self, t: &ClientToken, produced: Option<String>) {
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

impl State {
    /// Counts an update call and its token (called for every request received).
    pub(crate) fn record_update_call(&mut self, cluster: &str, op: &str, token: Option<&str>) {
        let s = self.cluster_stats(cluster);
        match op {
            "UpdateClusterVersion" => s.update_cluster_version_calls += 1,
            "UpdateNodegroupVersion" => s.update_nodegroup_version_calls += 1,
            "UpdateAddon" => s.update_addon_calls += 1,
            _ => {}
        }
        if let Some(t) = token {
            match s
                .client_request_tokens
                .iter_mut()
                .find(|e| e.token == t && e.operation == op)
            {
                Some(e) => e.calls += 1,
                None => s.client_request_tokens.push(TokenStat {
                    token: t.to_string(),
                    operation: op.to_string(),
                    update_id: None,
                    calls: 1,
                }),
            }
        }
    }

    /// Notes in the token stats which update a token produced.
    pub(super) fn record_token_update(&mut self, cluster: &str, t: &ClientToken, id: &str) {
        if let Some(token) = t.token {
            let s = self.cluster_stats(cluster);
            if let Some(e) = s
                .client_request_tokens
                .iter_mut()
                .find(|e| e.token == token && e.operation == t.operation)
            {
                e.update_id = Some(id.to_string());
            }
        }
    }

    /// The token check every update-creating operation starts with (after finding what
    /// it updates): the length check, then, for a token seen before with the same
    /// parameters, the update that request created (also once it finished). Errors name
    /// the cluster and the target.
    pub(super) fn replayed_update(
        &mut self,
        cluster: &str,
        target: &Target,
        t: &ClientToken,
    ) -> Result<Option<Update>, ApiError> {
        t.check_length().map_err(|e| target.scope(e.cluster(cluster)))?;
        let hit = self
            .cluster(cluster)?
            .tokens
            .check(t, cluster)
            .map_err(|e| target.scope(e))?;
        let Some(hit) = hit else { return Ok(None) };
        let id = hit.produced.unwrap_or_default();
        let u = self
            .update_by_id(cluster, &id)
            .cloned()
            .ok_or_else(|| ApiError::no_update(cluster, &id))?;
        self.record_token_update(cluster, t, &id);
        Ok(Some(u))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_replay_or_refuse() {
        let mut table = TokenTable::default();
        let token = "t".repeat(40);
        let first = ClientToken::new("Op", Some(&token), "a".into());
        assert!(table.check(&first, "c").unwrap().is_none());
        table.remember(&first, Some("u-1".into()));
        let hit = table.check(&first, "c").unwrap().unwrap();
        assert_eq!(hit.produced.as_deref(), Some("u-1"));
        let other = ClientToken::new("Op", Some(&token), "b".into());
        let e = table.check(&other, "c").unwrap_err();
        assert_eq!(e.code, "InvalidParameterException");
        assert_eq!(e.cluster.as_deref(), Some("c"));
        assert!(ClientToken::new("Op", Some("short"), String::new())
            .check_length()
            .is_err());
        assert!(ClientToken::new("Op", None, String::new()).check_length().is_ok());
    }
}
