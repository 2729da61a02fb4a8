//! The entry point: decodes an event and drives the workflow of [`crate::domain::workflow`]
//! through the ports. Every record change is committed and written, conditionally on the
//! revision read, before the next EKS call goes out.
//!
//! - [`intake`]: an upgrade request becomes a record (or finds its record);
//! - [`exclusion`]: one upgrade per cluster (its lock), and cancelling one;
//! - [`drive`]: claims a record and makes the calls its steps ask for, until it ends, parks or
//!   hands on to a continuation;
//! - [`persist`]: commits and writes a record, then publishes its outbox;
//! - [`queries`]: the dry run, the status query and the sweep;
//! - [`rollback`]: an operator's rollback of an upgrade's last hop;
//! - [`rollout`]: fleet rollouts: the request, ticks, controls, status;
//! - [`reply`]: what each event answers.

mod drive;
mod exclusion;
pub mod fleet;
pub(crate) mod gather;
mod intake;
mod persist;
mod queries;
pub mod reply;
mod rollback;
pub mod rollout;
mod span;

use crate::config::Config;
use crate::crash::{CrashPoints, InjectedCrash};
use crate::domain::plan::PlanError;
use crate::domain::{decode_event, EksFailure, FailureKind, InboundEvent, InvalidEvent};
use crate::ports::{Clock, MetricsLog, Ports, StoreError};
use reply::Reply;
use serde_json::Value;
use tracing::{warn, Instrument};

pub use reply::Summary;

/// The invocation being served: who it is (the lease owner) and when Lambda stops it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub request_id: String,
    /// Epoch milliseconds.
    pub deadline_ms: i64,
}

impl Invocation {
    /// From the Lambda context. Lambda gives the deadline in epoch milliseconds; `cargo lambda
    /// watch` gives the function's timeout in milliseconds instead, which is taken as counting
    /// from `now_ms`.
    pub fn from_context(request_id: String, deadline_ms: u64, now_ms: i64) -> Self {
        const YEAR_2001_MS: i64 = 978_307_200_000;
        let deadline_ms = deadline_ms.min(i64::MAX as u64) as i64;
        let deadline_ms = if deadline_ms < YEAR_2001_MS {
            now_ms + deadline_ms
        } else {
            deadline_ms
        };
        Self {
            request_id,
            deadline_ms,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error(transparent)]
    InvalidEvent(#[from] InvalidEvent),
    #[error(
        "request id {request_id} of cluster {cluster} already names an upgrade to {existing}; \
             send a new requestId for a different target"
    )]
    ConflictingRequest {
        cluster: String,
        request_id: String,
        existing: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Crashed(#[from] InjectedCrash),
    #[error("no plan: {0}")]
    Plan(PlanError),
    #[error("{0}")]
    NotEnrolled(String),
    #[error("EKS: {0}")]
    Eks(EksFailure),
    #[error(
        "cluster {cluster} is held by upgrade {holder}, which {why}; nothing started. Wait for it to end, or \
         cancel it ({{\"cancel\": {{\"cluster\": \"{cluster}\", \"requestId\": \"{holder}\"}}}}) if it is parked or blocked"
    )]
    ClusterBusy {
        cluster: String,
        holder: String,
        why: String,
    },
    #[error("{0}")]
    NotCancelled(String),
    #[error("{0}")]
    NotRolledBack(String),
    #[error("{0}")]
    RolloutRefused(String),
    #[error("{0}")]
    Misconfigured(String),
}

impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(error: HandlerError) -> Self {
        let error_type = match &error {
            HandlerError::InvalidEvent(_) => "InvalidEvent",
            HandlerError::ConflictingRequest { .. } => "ConflictingRequest",
            HandlerError::Store(_) => "StoreUnavailable",
            HandlerError::Crashed(_) => "InjectedCrash",
            HandlerError::Plan(_) => "PlanRefused",
            HandlerError::NotEnrolled(_) => "NotEnrolled",
            HandlerError::Eks(e) if e.kind == FailureKind::NotFound => "ClusterNotFound",
            HandlerError::Eks(_) => "EksUnavailable",
            HandlerError::ClusterBusy { .. } => "ClusterBusy",
            HandlerError::NotCancelled(_) => "NotCancelled",
            HandlerError::NotRolledBack(_) => "NotRolledBack",
            HandlerError::RolloutRefused(_) => "RolloutRefused",
            HandlerError::Misconfigured(_) => "Misconfigured",
        };
        Self {
            error_type: error_type.to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// The function: the ports, the configuration, and the handling of each event.
pub struct Orchestrator<P: Ports> {
    pub eks: P::Eks,
    pub store: P::Store,
    pub invoker: P::Invoker,
    pub clock: P::Clock,
    pub notifier: P::Notifier,
    /// The CloudWatch alarms a hop's verification reads.
    pub alarms: P::Alarms,
    /// Wake-ups after a park (used only when `config.wake` is set).
    pub scheduler: P::Scheduler,
    pub config: Config,
    /// Where each written change's metrics go (EMF lines on standard output).
    pub metrics: MetricsLog,
    /// Test hook, empty in production: see [`crate::crash`].
    pub crash_points: CrashPoints,
}

impl<P: Ports> Orchestrator<P> {
    /// Handles one invocation's payload, answering JSON.
    pub async fn handle(&self, payload: &Value, invocation: &Invocation) -> Result<Value, HandlerError> {
        let reply = self.reply(payload, invocation).await?;
        Ok(serde_json::to_value(reply).unwrap_or(Value::Null))
    }

    /// Handles one invocation's payload, answering a typed reply.
    pub async fn reply(&self, payload: &Value, invocation: &Invocation) -> Result<Reply, HandlerError> {
        let invocation = &self.budgeted(invocation);
        let event = decode_event(payload)
            .and_then(|e| e.homed(self.config.home.as_ref(), self.config.spoke.is_some()))
            .inspect_err(|e| warn!(error = %e, "event refused"))?;
        if let InboundEvent::Upgrade(request) = &event {
            let window = request.maintenance_window.as_ref();
            self.config
                .limits
                .check_window(window)
                .and_then(|()| self.config.limits.check_verify(request.verify.as_ref()))
                .inspect_err(|e| warn!(error = %e, "event refused"))?;
        }
        if let InboundEvent::Rollout(request) = &event {
            self.check_rollout_options(request)
                .inspect_err(|e| warn!(error = %e, "event refused"))?;
        }
        let drives = match &event {
            InboundEvent::Upgrade(r) => !r.dry_run,
            InboundEvent::Rollback(r) => !r.dry_run,
            InboundEvent::Rollout(r) => !r.dry_run,
            InboundEvent::RolloutControl(_) | InboundEvent::RolloutTick(_) => true,
            InboundEvent::Continuation(_) => true,
            _ => false,
        };
        if drives {
            self.check_time(invocation)?;
        }
        let span = span::event_span(&event);
        Box::pin(self.dispatch(event, invocation)).instrument(span).await
    }

    async fn dispatch(&self, event: InboundEvent, invocation: &Invocation) -> Result<Reply, HandlerError> {
        // Each kind's future is boxed: their union, built on the stack of a debug build, would
        // overflow a 2 MiB worker thread.
        Ok(match event {
            InboundEvent::Upgrade(request) if request.dry_run => {
                Reply::DryRun(Box::new(Box::pin(self.dry_run(&request)).await?))
            }
            InboundEvent::Upgrade(request) => Reply::Upgrade(Box::pin(self.upgrade(request, invocation)).await?),
            InboundEvent::Continuation(continuation) => Box::pin(self.resume(continuation, invocation)).await?,
            InboundEvent::Status(query) => Reply::Status(Box::pin(self.status(query)).await?),
            InboundEvent::Sweep(_) => Reply::Sweep(Box::pin(self.sweep()).await?),
            InboundEvent::Cancel(request) => Reply::Upgrade(Box::pin(self.cancel(request)).await?),
            InboundEvent::Rollback(request) => Box::pin(self.rollback(request, invocation)).await?,
            InboundEvent::Rollout(request) => Box::pin(self.rollout(*request, invocation)).await?,
            InboundEvent::RolloutControl(control) => Box::pin(self.rollout_control(control, invocation)).await?,
            InboundEvent::RolloutStatus(query) => Box::pin(self.rollout_status(query)).await?,
            InboundEvent::RolloutTick(key) => Box::pin(self.rollout_tick(key, invocation)).await?,
            InboundEvent::FleetReport(request) => Box::pin(self.fleet_report(request)).await?,
        })
    }

    /// An invocation too short to make a call and wait once before its safety margin would only
    /// hand on, again and again: refused, naming what to change.
    fn check_time(&self, invocation: &Invocation) -> Result<(), HandlerError> {
        let left = (invocation.deadline_ms - self.clock.now_ms()) / 1000;
        let needed = self.config.min_invocation_secs();
        if left >= needed {
            return Ok(());
        }
        Err(HandlerError::Misconfigured(format!(
            "this invocation has {left}s; it needs at least SAFETY_MARGIN_SECONDS ({}) + POLL_INTERVAL_SECONDS ({}) + \
             OPERATION_TIMEOUT_SECONDS ({}) = {needed}s: raise the function's timeout (the template sets 900 s) or \
             lower those",
            self.config.safety_margin_secs, self.config.limits.poll_interval_secs, self.config.operation_timeout_secs
        )))
    }

    /// The invocation with its deadline brought forward to `INVOCATION_BUDGET_SECONDS`, if set.
    fn budgeted(&self, invocation: &Invocation) -> Invocation {
        match self.config.invocation_budget_secs {
            Some(budget) => Invocation {
                deadline_ms: invocation.deadline_ms.min(self.clock.now_ms() + budget * 1000),
                ..invocation.clone()
            },
            None => invocation.clone(),
        }
    }
}

fn new_token() -> String {
    uuid::Uuid::new_v4().to_string()
}
