//! The span each invocation's log lines carry (with Lambda's `requestId`, from the runtime's
//! own span): which event, which cluster or rollout, and, while an upgrade is driven, its
//! request and step. With the template's JSON log format each line holds them, so CloudWatch
//! Logs Insights finds one cluster's history (the README has the query).

use crate::domain::InboundEvent;
use tracing::{field::Empty, span, Level, Span};

/// The spans' level: the highest, so a log level set above INFO (AWS_LAMBDA_LOG_LEVEL=WARN)
/// still gives every warning its cluster and step (a span's level shows on no line).
const SPAN_LEVEL: Level = Level::ERROR;

/// The span of an invocation's event.
pub(super) fn event_span(event: &InboundEvent) -> Span {
    let (kind, cluster, rollout) = match event {
        InboundEvent::Upgrade(r) => ("upgrade", Some(r.cluster.key()), None),
        InboundEvent::Continuation(c) => ("continuation", Some(c.cluster.key()), None),
        InboundEvent::Status(q) => ("status", Some(q.cluster.key()), None),
        InboundEvent::Cancel(r) => ("cancel", Some(r.cluster.key()), None),
        InboundEvent::Rollback(r) => ("rollback", Some(r.cluster.key()), None),
        InboundEvent::Sweep(_) => ("sweep", None, None),
        InboundEvent::Rollout(r) => ("rollout", None, Some(r.name.to_string())),
        InboundEvent::RolloutControl(c) => ("rolloutControl", None, Some(c.name.to_string())),
        InboundEvent::RolloutStatus(q) => ("rolloutStatus", None, Some(q.name.to_string())),
        InboundEvent::RolloutTick(t) => ("rolloutTick", None, Some(t.name.to_string())),
        InboundEvent::FleetReport(_) => ("fleetReport", None, None),
    };
    let span = span!(SPAN_LEVEL, "event", event = kind, cluster = Empty, rollout = Empty);
    if let Some(cluster) = cluster {
        span.record("cluster", cluster.as_str());
    }
    if let Some(rollout) = rollout {
        span.record("rollout", rollout.as_str());
    }
    span
}

/// The span of one upgrade driven in this invocation (a rollout tick drives several): its
/// cluster, request and step (recorded as it moves on).
pub(super) fn upgrade_span(cluster: &str, request_id: &str) -> Span {
    span!(SPAN_LEVEL, "upgrade", cluster, request_id, step = Empty)
}

/// Records the step the current upgrade is at.
pub(super) fn record_step(step: &str) {
    Span::current().record("step", step);
}
