//! A wake-up: an event the function is to receive at a later time (an EventBridge Scheduler
//! one-time schedule), so that nothing runs while an upgrade or a rollout waits.
//!
//! Its name is derived from what it carries, so arranging the same wake-up twice (a retry
//! after a lost answer, a crash and a resume) is one schedule: the second create is refused
//! as a duplicate and changes nothing.

use super::rollout::RolloutTick;
use super::Continuation;
use serde_json::Value;

/// What a wake-up's schedule names are derived in (a fixed UUID namespace, so a name is the
/// same in every process and version).
const WAKE_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6b1f_42a4_9c1e_4f0e_8a7d_2e51_93c0_d7a1);

/// An event to deliver at `at`.
#[derive(Debug, Clone, PartialEq)]
pub struct Wake {
    /// The schedule's name: `wake-` and 32 hex digits (Scheduler allows 64 characters of
    /// letters, digits, `.`, `_` and `-`).
    pub name: String,
    /// When, in epoch seconds.
    pub at: i64,
    /// The event delivered.
    pub event: Value,
}

impl Wake {
    /// The continuation of a parked record, named by its cluster, request and handoff: the
    /// handoff decides who goes on, so a wake-up delivered twice or late does nothing twice.
    pub fn continuation(continuation: &Continuation, at: i64) -> Self {
        let key = format!(
            "upgrade/{}/{}/{}",
            continuation.cluster.key(),
            continuation.request_id.as_str(),
            continuation.handoff
        );
        Self::named(&key, at, continuation.to_event())
    }

    /// A rollout's tick at the time it next has something to do (a soak's end), named by the
    /// rollout and that time.
    pub fn rollout_tick(tick: &RolloutTick, at: i64) -> Self {
        let key = format!("rollout/{}/{}/{at}", tick.name.as_str(), tick.request_id.as_str());
        Self::named(&key, at, tick.to_event())
    }

    fn named(key: &str, at: i64, event: Value) -> Self {
        let id = uuid::Uuid::new_v5(&WAKE_NAMESPACE, key.as_bytes());
        Self {
            name: format!("wake-{}", id.simple()),
            at,
            event,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::event::{ClusterId, RequestId};

    fn continuation(handoff: &str) -> Continuation {
        Continuation {
            cluster: ClusterId::parse("a-cluster-whose-name-is-long-enough-to-not-fit-a-schedule-name-by-itself")
                .unwrap(),
            request_id: RequestId::parse("2026-11-24T03:00:00Z").unwrap(),
            handoff: handoff.to_owned(),
        }
    }

    #[test]
    fn a_wake_is_named_by_what_it_carries_within_schedulers_limits() {
        let a = Wake::continuation(&continuation("n1"), 100);
        assert_eq!(
            a,
            Wake::continuation(&continuation("n1"), 100),
            "the same wake, the same name"
        );
        assert_ne!(a.name, Wake::continuation(&continuation("n2"), 100).name);
        assert_eq!(a.name.len(), 37);
        assert!(a
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')));
        assert_eq!(a.event["continuation"]["handoff"], "n1");
    }
}
