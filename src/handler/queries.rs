//! The events that only look or nudge: the dry run (plans, changes nothing), the status query,
//! and the sweep (resumes upgrades whose chain of invocations broke).

use super::reply::{DryRunReply, RecordKey, StatusReply, SweepReply, WindowState};
use super::{new_token, HandlerError};
use crate::domain::metrics::overdue_resumed;
use crate::domain::plan::{make_plan, PlanOptions};
use crate::domain::window::next_opening;
use crate::domain::workflow;
use crate::domain::{StatusQuery, UpgradeRecord, UpgradeRequest};
use crate::ports::{Clock, Listed, Ports, RecordStore, RolloutStore, SelfInvoker, Unreadable};
use tracing::{info, warn};

impl<P: Ports> super::Orchestrator<P> {
    /// A dry run: the plan from read-only EKS calls; nothing is written, in EKS or in the table.
    pub async fn dry_run(&self, request: &UpgradeRequest) -> Result<DryRunReply, HandlerError> {
        let key = request.cluster.key();
        let cluster = key.as_str();
        let alarms = request.verify.as_ref().map(|v| v.alarms.clone()).unwrap_or_default();
        let survey = self.survey(cluster, &alarms).await.map_err(HandlerError::Eks)?;
        let options = PlanOptions {
            force: request.force,
            launch_templates: &request.nodegroup_launch_templates,
        };
        let plan = make_plan(cluster, request.target_version, options, &survey).map_err(HandlerError::Plan)?;
        info!(
            cluster,
            hops = plan.hops.len(),
            blockers = plan.blockers.len(),
            "dry run planned"
        );
        let now = self.clock.now_secs();
        let window = request.maintenance_window.as_ref();
        let next_opening = next_opening(window, &request.exclusions, now, self.config.limits.hop_estimate_secs);
        Ok(DryRunReply {
            dry_run: true,
            enrolled: self.config.limits.admits(cluster, &survey.cluster),
            plan,
            window: WindowState {
                window: window.map(|w| w.describe()),
                open_now: next_opening == Some(now),
                next_opening,
            },
            outcome: "planned only: nothing was changed in EKS or in the table".to_owned(),
        })
    }

    /// The status query: the stored records, as they are.
    pub async fn status(&self, query: StatusQuery) -> Result<StatusReply, HandlerError> {
        let key = query.cluster.key();
        let cluster = key.as_str();
        let listed = match &query.request_id {
            Some(id) => match self.store.get(cluster, id.as_str()).await {
                Ok(record) => Listed {
                    records: record.into_iter().collect(),
                    unreadable: Vec::new(),
                },
                // One record that does not decode is reported, not a failed query.
                Err(e) if e.0.contains("does not decode") => Listed {
                    records: Vec::new(),
                    unreadable: vec![Unreadable {
                        cluster: cluster.to_owned(),
                        request_id: id.to_string(),
                        error: e.0,
                    }],
                },
                Err(e) => return Err(e.into()),
            },
            None => self.store.list_cluster(cluster).await?,
        };
        for bad in &listed.unreadable {
            warn!(cluster = %bad.cluster, request_id = %bad.request_id, error = %bad.error, "a stored record does not decode; skipped");
        }
        Ok(StatusReply {
            cluster: cluster.to_owned(),
            records: listed.records,
            unreadable: listed.unreadable,
        })
    }

    /// The sweep: hands every stale unfinished record to a fresh continuation.
    pub async fn sweep(&self) -> Result<SweepReply, HandlerError> {
        let now = self.clock.now_secs();
        let limits = &self.config.limits;
        let listed = self.store.list_resumable(now - limits.stale_after_secs).await?;
        for bad in &listed.unreadable {
            warn!(cluster = %bad.cluster, request_id = %bad.request_id, error = %bad.error, "sweep skipped a record that does not decode");
        }
        let candidates = listed.records;
        let (mut resumed, mut failed) = (Vec::new(), Vec::new());
        for record in candidates.iter().filter(|r| workflow::is_stale(r, now, limits)) {
            match self.resume_stale(record).await {
                Ok(true) => resumed.push(RecordKey::of(record)),
                Ok(false) => {} // someone else took it meanwhile: it is alive
                Err(()) => failed.push(RecordKey::of(record)),
            }
        }
        // Every unfinished rollout gets a tick (a soak that ended, an upgrade's end not told).
        let mut rollouts = Vec::new();
        for rollout in self.store.list_unfinished_rollouts().await? {
            match rollout.key() {
                Ok(key) => match self.invoker.send_tick(&key.tick(None)).await {
                    Ok(()) => rollouts.push(format!("{}/{}", rollout.name, rollout.request_id)),
                    Err(e) => warn!(rollout = %rollout.name, error = %e, "sweep could not tick a rollout"),
                },
                Err(e) => warn!(rollout = %rollout.name, error = %e, "sweep skipped a rollout with a bad key"),
            }
        }
        self.metrics.emit(&overdue_resumed(resumed.len()), now * 1000);
        info!(
            candidates = candidates.len(),
            resumed = resumed.len(),
            failed = failed.len(),
            rollouts = rollouts.len(),
            "sweep done"
        );
        Ok(SweepReply {
            checked: candidates.len(),
            resumed,
            failed,
            skipped: listed.unreadable,
            rollouts_ticked: rollouts,
        })
    }

    /// Writes a handoff to a stale record and sends it a continuation: `Ok(false)` if someone
    /// else wrote it first, `Err` (logged) if the write or the send failed.
    async fn resume_stale(&self, record: &UpgradeRecord) -> Result<bool, ()> {
        let nonce = new_token();
        let handed = match self.write(record, workflow::resume_stale(record, &nonce)).await {
            Ok(Some(handed)) => handed,
            Ok(None) => return Ok(false),
            Err(e) => {
                warn!(cluster = %record.cluster, request_id = %record.request_id, error = %e, "sweep could not write the record");
                return Err(());
            }
        };
        let sent = match handed.continuation(nonce) {
            Ok(continuation) => self.invoker.send(&continuation).await.map_err(|e| e.to_string()),
            Err(e) => Err(e),
        };
        match sent {
            Ok(()) => {
                info!(cluster = %record.cluster, request_id = %record.request_id, step = ?record.step, "sweep resumed a stale upgrade");
                Ok(true)
            }
            Err(e) => {
                warn!(cluster = %record.cluster, request_id = %record.request_id, error = %e, "sweep could not send a continuation");
                Err(())
            }
        }
    }
}
