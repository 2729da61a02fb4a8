//! Fleet rollouts: a request discovers its clusters and writes the rollout (once, by its key),
//! then ticks it; a tick starts clusters' upgrades (each an upgrade record of its own, keyed by
//! the rollout); an upgrade that ends, and the sweep, tick it again. Controls and the status
//! query answer the rollout per stage and cluster.
//!
//! - [`children`]: the clusters' upgrade records, and starting one;
//! - [`discover`]: the clusters the stages select, across accounts and regions;
//! - [`tick`]: observe, advance, write, then start;
//! - [`dry_run`]: every cluster's plan, surveyed a few at a time;
//! - [`reply`]: what rollout events answer.

mod children;
mod discover;
pub(crate) use discover::MAX_LOCATIONS;
mod dry_run;
pub mod reply;
mod tick;

use crate::domain::event::rollout::{Control, RolloutControl, RolloutQuery, RolloutRequest, RolloutTick};
use crate::domain::metrics::rollout_metrics;
use crate::domain::rollout::assign::{new_rollout_across, Discovery};
use crate::domain::rollout::commit::commit;
use crate::domain::rollout::{controls, ClusterState, RolloutRecord};
use crate::domain::{ClusterId, InvalidEvent, KubeVersion, RequestId, TargetVersion, UpgradeRecord};
use crate::handler::reply::Reply;
use crate::handler::{HandlerError, Invocation};
use crate::ports::{Clock, Ports, RecordStore, RolloutStore};
use reply::RolloutReply;

use tracing::info;

impl<P: Ports> crate::handler::Orchestrator<P> {
    /// `{"rollout": ...}`: the rollout is written once (a duplicate finds it), then ticked.
    pub async fn rollout(&self, request: RolloutRequest, invocation: &Invocation) -> Result<Reply, HandlerError> {
        let locations = self.locations(&request)?;
        let min_days = request.min_days_of_standard_support();
        let target = self
            .resolve_across(request.target_version, min_days, &locations)
            .await?;
        let request_id = match &request.request_id {
            Some(id) => id.to_string(),
            None => RequestId::for_target(TargetVersion::Exact(target)).to_string(),
        };
        let name = request.name.as_str();
        if !request.dry_run {
            if let Some(existing) = self.store.get_rollout(name, &request_id).await? {
                return self.existing_rollout(existing, target).await;
            }
        }
        let (discovered, unreachable) = self.discover(&locations).await?;
        let now = self.clock.now_secs();
        let discovery = Discovery {
            clusters: &discovered,
            unreachable: &unreachable,
            home: self.config.home.as_ref(),
        };
        let fresh = new_rollout_across(&request, &request_id, target, discovery, &self.config.limits, now)?;
        let size = serde_json::to_vec(&fresh).map_or(0, |bytes| bytes.len());
        if size > MAX_NEW_ROLLOUT_BYTES {
            return Err(InvalidEvent {
                field: "rollout".into(),
                problem: format!(
                    "its record would start at {} KB, over {} KB (room to grow far below DynamoDB's 400 KB): fewer \
                     clusters or smaller options",
                    size / 1024,
                    MAX_NEW_ROLLOUT_BYTES / 1024
                ),
            }
            .into());
        }
        if request.dry_run {
            return Ok(Reply::RolloutDryRun(Box::new(
                self.rollout_dry_run(&fresh, &unreachable).await,
            )));
        }
        self.check_stage_alarms(&fresh).await?;
        let fresh = commit(None, fresh, self.rollout_commit());
        if let Some(existing) = self.store.insert_rollout(&fresh).await? {
            return self.existing_rollout(existing, target).await;
        }
        info!(rollout = name, request_id, target = %target, stages = fresh.stages.len(), "rollout recorded");
        self.metrics
            .emit(&rollout_metrics(None, &fresh), fresh.created_at * 1000);
        self.publish_rollout(fresh.clone()).await?;
        let ticked = self
            .tick(
                &fresh.key().map_err(HandlerError::Misconfigured)?.tick(None),
                invocation,
            )
            .await?;
        self.rollout_reply(&ticked, "rollout recorded and started").await
    }

    /// The alarms each stage's upgrades would verify must be metric alarms CloudWatch knows, as
    /// for an upgrade request: refused now, naming the stage, rather than blocking every cluster
    /// of the stage at its preflight. (If CloudWatch can't answer now, each preflight reads
    /// them again.)
    async fn check_stage_alarms(&self, rollout: &RolloutRecord) -> Result<(), HandlerError> {
        let target = TargetVersion::Exact(rollout.target_version);
        for (s, stage) in rollout.stages.iter().enumerate() {
            // Read where the stage's first cluster lives (a member's alarms are in its account).
            let Some((first, id)) = stage
                .clusters
                .iter()
                .find_map(|c| ClusterId::parse(&c.name).ok().map(|id| (c, id)))
            else {
                continue;
            };
            let Ok(upgrade) =
                RolloutRequest::upgrade_for(&stage.options, &first.name, target, &rollout.child_request_id())
            else {
                continue; // refused at each start, naming the option
            };
            let names = upgrade.verify.map(|v| v.alarms).unwrap_or_default();
            let field = format!("rollout.stages[{s}].options.verify.alarms");
            self.refuse_unknown_alarms(id.at.as_ref(), &names, &field).await?;
        }
        Ok(())
    }

    async fn existing_rollout(&self, existing: RolloutRecord, target: KubeVersion) -> Result<Reply, HandlerError> {
        if existing.target_version != target {
            return Err(HandlerError::ConflictingRequest {
                cluster: existing.cluster,
                request_id: existing.request_id,
                existing: existing.target_version.to_string(),
            });
        }
        self.rollout_reply(&existing, "this rollout was already requested; nothing done")
            .await
    }

    /// A rollout's per-cluster options get the checks an upgrade request gets (a window long
    /// enough, a soak that fits, alarms the function may read), before anything is written;
    /// the error names the field where the option was set.
    pub(crate) fn check_rollout_options(&self, request: &RolloutRequest) -> Result<(), InvalidEvent> {
        for (i, stage) in request.stages.iter().enumerate() {
            let options = request.options_for(stage);
            let upgrade = RolloutRequest::upgrade_for(&options, "rollout", request.target_version, "rollout")
                .map_err(|e| at_option(e, &format!("rollout.stages[{i}].options")))?;
            let limits = &self.config.limits;
            limits
                .check_window(upgrade.maintenance_window.as_ref())
                .and_then(|()| limits.check_verify(upgrade.verify.as_ref()))
                .map_err(|e| {
                    let key = e.field.split(['.', '[']).next().unwrap_or_default();
                    match stage.options.contains_key(key) {
                        true => at_option(e, &format!("rollout.stages[{i}].options")),
                        false => at_option(e, "rollout.options"),
                    }
                })?;
        }
        Ok(())
    }

    /// `{"rolloutControl": ...}`: applied, written, then a tick makes it take effect.
    pub async fn rollout_control(
        &self,
        control: RolloutControl,
        invocation: &Invocation,
    ) -> Result<Reply, HandlerError> {
        let refused = |why: String| {
            HandlerError::RolloutRefused(format!(
                "{:?} of rollout {}: {why}",
                control.control.action(),
                control.name
            ))
        };
        for _ in 0..5 {
            let current = self
                .find_rollout(control.name.as_str(), control.request_id.as_ref())
                .await?;
            if let Control::Skip { cluster } = &control.control {
                // Belt and braces: a cluster the rollout shows not started, but whose upgrade
                // record exists, has started all the same.
                let not_started = current.find(&cluster.key()).is_some_and(|(s, c)| {
                    matches!(
                        current.stages[s].clusters[c].state,
                        ClusterState::Pending | ClusterState::Waiting
                    )
                });
                let child = current.child_request_id();
                if not_started && self.store.get(&cluster.key(), &child).await?.is_some() {
                    return Err(refused(format!(
                        "the upgrade of cluster {cluster} has started ({}); cancel that upgrade instead",
                        current.child_request_id()
                    )));
                }
            }
            let now = self.clock.now_secs();
            let next = controls::apply(&current, &control, now).map_err(refused)?;
            if next == current {
                return self.rollout_reply(&current, "nothing to change").await;
            }
            let Some(written) = self.write_rollout(&current, next).await? else {
                continue;
            };
            info!(rollout = %written.name, action = ?control.control.action(), "rollout control applied");
            // A control answers at once: its tick does not wait out a soak (the sweep's does).
            let at_once = Invocation {
                deadline_ms: self.clock.now_ms(),
                ..invocation.clone()
            };
            let ticked = self
                .tick(
                    &written.key().map_err(HandlerError::Misconfigured)?.tick(None),
                    &at_once,
                )
                .await?;
            return self
                .rollout_reply(&ticked, format!("{:?} applied", control.control.action()))
                .await;
        }
        Err(refused("the rollout kept changing; send it again".into()))
    }

    /// `{"rolloutStatus": ...}`.
    pub async fn rollout_status(&self, query: RolloutQuery) -> Result<Reply, HandlerError> {
        let record = self
            .find_rollout(query.name.as_str(), query.request_id.as_ref())
            .await?;
        self.rollout_reply(&record, "status").await
    }

    /// `{"rolloutTick": ...}`.
    pub async fn rollout_tick(&self, tick: RolloutTick, invocation: &Invocation) -> Result<Reply, HandlerError> {
        let record = self.tick(&tick, invocation).await?;
        self.rollout_reply(&record, "ticked").await
    }

    /// The rollout a control or query names: by request id, or the only unfinished one (else
    /// the latest) of that name.
    async fn find_rollout(&self, name: &str, request_id: Option<&RequestId>) -> Result<RolloutRecord, HandlerError> {
        let missing = |what: String| HandlerError::RolloutRefused(format!("no rollout {what}"));
        if let Some(id) = request_id {
            return self
                .store
                .get_rollout(name, id.as_str())
                .await?
                .ok_or_else(|| missing(format!("{name}/{id}")));
        }
        let mut all = self.store.list_rollouts(name).await?;
        let unfinished: Vec<&RolloutRecord> = all.iter().filter(|r| !r.is_finished()).collect();
        if unfinished.len() > 1 {
            let ids: Vec<&str> = unfinished.iter().map(|r| r.request_id.as_str()).collect();
            return Err(HandlerError::RolloutRefused(format!(
                "rollout {name} has {} unfinished runs ({}): name one with \"requestId\"",
                ids.len(),
                ids.join(", ")
            )));
        }
        all.sort_by_key(|r| (!r.is_finished(), r.created_at));
        all.pop().ok_or_else(|| missing(name.to_owned()))
    }

    /// The reply, with the upgrade records of the running clusters.
    async fn rollout_reply(&self, record: &RolloutRecord, outcome: impl Into<String>) -> Result<Reply, HandlerError> {
        let child_id = record.child_request_id();
        let mut running: Vec<UpgradeRecord> = Vec::new();
        for entry in record
            .stages
            .iter()
            .flat_map(|s| s.clusters.iter())
            .filter(|c| c.state.is_active())
        {
            if let Some(upgrade) = self.store.get(&entry.name, &child_id).await? {
                running.push(upgrade);
            }
        }
        Ok(Reply::Rollout(Box::new(RolloutReply::of(record, &running, outcome))))
    }
}

/// A new rollout's record at most this large: notes, history and times add to it as it runs.
const MAX_NEW_ROLLOUT_BYTES: usize = 200 * 1024;

/// An option's error, named where it was set.
fn at_option(mut e: InvalidEvent, at: &str) -> InvalidEvent {
    e.field = format!("{at}.{}", e.field);
    e
}
