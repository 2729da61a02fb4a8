//! `{"rollback": {...}}`: an operator rolls back the last hop of a recorded upgrade (or, with
//! `dryRun`, sees what would be rolled back and whether the prerequisites hold).

use super::reply::{Reply, RollbackDryRunReply};
use super::{HandlerError, Invocation};
use crate::domain::record::ItemPurpose;
use crate::domain::workflow;
use crate::domain::{RollbackRequest, UpgradeRecord};
use crate::ports::{Clock, Ports, RecordStore};
use tracing::info;

impl<P: Ports> super::Orchestrator<P> {
    pub async fn rollback(&self, request: RollbackRequest, invocation: &Invocation) -> Result<Reply, HandlerError> {
        let key = request.cluster.key();
        let (cluster, request_id) = (key.as_str(), request.request_id.as_str());
        let refused = |why: String| {
            HandlerError::NotRolledBack(format!(
                "upgrade {request_id} of cluster {cluster} not rolled back: {why}"
            ))
        };
        let Some(record) = self.store.get(cluster, request_id).await? else {
            return Err(refused("there is no such upgrade".into()));
        };
        let now = self.clock.now_secs();
        let next = workflow::rollback_on_request(
            &record,
            request.force,
            request.rollback_config.map(|c| c.timeout_minutes),
            now,
        )
        .map_err(refused)?;
        if request.dry_run {
            return Ok(Reply::RollbackDryRun(Box::new(self.rollback_dry_run(next, now).await?)));
        }
        let Some(written) = self.hold_then_write(&record, next).await? else {
            return Err(refused("it changed meanwhile; send the rollback again".into()));
        };
        info!(cluster, request_id, "rollback requested");
        Ok(Reply::Upgrade(self.run(written, None, invocation).await?))
    }

    /// The rollback's read-only look and its plan, as the workflow would make them; nothing
    /// is written or started.
    async fn rollback_dry_run(&self, candidate: UpgradeRecord, now: i64) -> Result<RollbackDryRunReply, HandlerError> {
        let survey = self
            .rollback_survey(&candidate.cluster)
            .await
            .map_err(HandlerError::Eks)?;
        let planned = workflow::rollback_preview(&candidate, &survey, now, &self.config.limits);
        let Some(rollback) = planned.rollback.clone() else {
            return Err(HandlerError::NotRolledBack("no rollback was planned".into()));
        };
        let blocked: Vec<String> = rollback
            .prerequisites
            .iter()
            .filter(|c| !c.passed)
            .map(|c| format!("{}: {}", c.check, c.detail))
            .collect();
        let would_start = blocked.is_empty();
        let nodegroups = planned
            .items
            .iter()
            .filter(|i| i.purpose == ItemPurpose::Rollback)
            .map(|i| i.name.clone())
            .collect();
        Ok(RollbackDryRunReply {
            dry_run: true,
            cluster: planned.cluster.clone(),
            request_id: planned.request_id.clone(),
            from: rollback.from,
            to: rollback.to,
            would_start,
            prerequisites: rollback.prerequisites,
            nodegroups,
            addons_back: rollback.addons_back,
            notes: rollback.notes,
            outcome: if would_start {
                "every prerequisite holds: a rollback would start; nothing was changed".to_owned()
            } else {
                format!(
                    "a rollback would not start: {}; nothing was changed",
                    blocked.join("; ")
                )
            },
        })
    }
}
