//! The clientRequestToken bookkeeping every update-creating operation shares: the length
//! check, the idempotent hit, the replay, remembering a token, the token-mismatch error
//! and the token stats.

use super::data::token::ClientToken;

use super::data::update::{Target, Update};
use super::state::State;

use crate::error::ApiError;
use crate::stats::TokenStat;

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
    use crate::model::data::token::ClientToken;
    use crate::model::data::token::TokenTable;

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
