//! Waiting without running: a long wait parks the record and arranges a wake-up (an
//! EventBridge Scheduler one-time schedule, here the recording double) that carries it on.
//! Wake-ups delivered twice, late or never lose nothing and double nothing.

use eks_upgrade_orchestrator::domain::UpgradeStatus;
use eks_upgrade_orchestrator::fakes::FakeEks;
use eks_upgrade_orchestrator::handler::HandlerError;
use eks_upgrade_orchestrator::ports::Clock;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;

mod common;
use common::*;

fn request(version: &str) -> Value {
    json!({ "cluster": "devel", "targetVersion": version })
}

/// An upgrade whose control-plane update ends after `polls` looks at it.
fn parked_upgrade(polls: u32) -> Harness {
    Harness::with_wakes(FakeEks::with_cluster("devel", "1.30", polls))
}

#[tokio::test]
async fn a_tracked_update_parks_between_looks_and_each_wake_up_goes_on() {
    // 20 looks a minute apart: a 20-minute update.
    let h = parked_upgrade(20);
    let answer = h.send_ok(request("1.31")).await;
    assert_eq!(answer["status"], "IN_PROGRESS", "{answer}");
    assert!(answer["outcome"].as_str().unwrap().contains("parked"), "{answer}");
    let record = h.record("to-1.31");
    let wake = h.app.scheduler.next().expect("a wake-up is arranged");
    assert_eq!((record.wake_at, record.lease_owner.clone()), (Some(wake.at), None));
    assert!(
        (T0 + 60..=T0 + 70).contains(&wake.at),
        "the next look, a minute later and a few seconds its own: {}",
        wake.at - T0
    );
    assert_eq!(wake.event["continuation"]["handoff"], json!(record.handoff));
    assert!(
        h.app.invoker.take().is_empty(),
        "no continuation: nothing runs while parked"
    );
    assert_eq!(h.app.clock.now_secs(), T0, "nothing was slept in the invocation");

    let delivered = h.deliver_wakes(100).await;
    let record = h.record("to-1.31");
    assert_eq!(record.status, UpgradeStatus::Succeeded, "{:?}", record.message);
    assert_eq!(h.app.eks.update_cluster_version_calls(), 1);
    // The fake answers IN_PROGRESS to 20 looks, SUCCESSFUL to the 21st.
    assert_eq!(delivered, 21, "one wake-up per look");
    assert!(
        record.updated_at - record.update_started_at.unwrap() <= 21 * 70,
        "looks at most 70 s apart (a minute and a sixth)"
    );
    assert_eq!(
        record.invocations, 1,
        "a wake-up after a park is no step of a runaway chain"
    );
    assert!(h.app.scheduler.pending().is_empty(), "nothing left arranged");
    assert_eq!((record.wake_at, record.handoff), (None, None));
}

#[tokio::test]
async fn a_wake_up_delivered_twice_or_late_adds_no_update_and_loses_no_step() {
    let h = parked_upgrade(3);
    h.send_ok(request("1.31")).await;
    let wake = h.app.scheduler.next().unwrap();
    // Late: ten minutes past its time.
    h.app.clock.advance_secs(wake.at - T0 + 600);
    h.app.scheduler.take_due(h.app.clock.now_secs());
    let first = h.send_ok(wake.event.clone()).await;
    assert_eq!(first["status"], "IN_PROGRESS", "{first}");
    // The same again (Scheduler delivers at least once): its handoff is spent.
    let again = h.send_ok(wake.event.clone()).await;
    assert!(again["outcome"].as_str().unwrap().contains("does not match"), "{again}");
    h.deliver_wakes(10).await;
    let record = h.record("to-1.31");
    assert_eq!(record.status, UpgradeStatus::Succeeded, "{:?}", record.message);
    assert_eq!(h.app.eks.update_cluster_version_calls(), 1);
    // Delivered again after the end: ignored.
    let after = h.send_ok(wake.event).await;
    assert_eq!(after["status"], "SUCCEEDED", "{after}");
    assert_eq!(h.app.eks.update_cluster_version_calls(), 1);
}

/// The sweep until it resumes the record, then continuations and wake-ups to the end.
async fn sweep_when_overdue(h: &Harness, wake_at: i64) {
    let margin = h.app.config.limits.stale_after_secs;
    h.app.clock.advance_secs(wake_at + margin - 1 - h.app.clock.now_secs());
    let early = h.send_ok(json!({ "sweep": {} })).await;
    assert_eq!(
        early["resumed"],
        json!([]),
        "left to its wake-up until overdue: {early}"
    );
    h.app.clock.advance_secs(1);
    let sweep = h.send_ok(json!({ "sweep": {} })).await;
    assert_eq!(sweep["resumed"].as_array().map(Vec::len), Some(1), "{sweep}");
}

#[tokio::test]
async fn a_wake_up_that_cannot_be_arranged_is_left_to_the_sweep_never_lost() {
    let h = parked_upgrade(3);
    h.app.scheduler.failing.store(true, Ordering::SeqCst);
    let answer = h.send_ok(request("1.31")).await;
    assert!(
        answer["outcome"].as_str().unwrap().contains("could not be arranged"),
        "{answer}"
    );
    let record = h.record("to-1.31");
    let wake_at = record.wake_at.expect("parked all the same");
    assert!((T0 + 60..=T0 + 70).contains(&wake_at), "{wake_at}");
    assert!(h.app.scheduler.pending().is_empty());
    h.app.scheduler.failing.store(false, Ordering::SeqCst);
    sweep_when_overdue(&h, wake_at).await;
    h.deliver_wakes(10).await;
    let record = h.record("to-1.31");
    assert_eq!(record.status, UpgradeStatus::Succeeded, "{:?}", record.message);
    assert_eq!(h.app.eks.update_cluster_version_calls(), 1);
}

#[tokio::test]
async fn a_crash_between_writing_the_park_and_arranging_its_wake_up_is_resumed_by_the_sweep() {
    let h = parked_upgrade(3);
    h.app.crash_points.arm("before:wake");
    let crashed = h.send(request("1.31")).await;
    assert!(matches!(crashed, Err(HandlerError::Crashed(_))), "{crashed:?}");
    let record = h.record("to-1.31");
    let wake_at = record.wake_at.expect("parked before the crash");
    assert!((T0 + 60..=T0 + 70).contains(&wake_at), "{wake_at}");
    assert!(h.app.scheduler.pending().is_empty(), "the crash came first");
    sweep_when_overdue(&h, wake_at).await;
    h.deliver_wakes(10).await;
    let record = h.record("to-1.31");
    assert_eq!(record.status, UpgradeStatus::Succeeded, "{:?}", record.message);
    assert_eq!(h.app.eks.update_cluster_version_calls(), 1);
}

#[tokio::test]
async fn a_window_that_opens_later_wakes_the_upgrade_when_it_opens() {
    // T0 is 14:13:20 UTC; the window opens daily at 16:30.
    let opens = T0 + 8200;
    let h = parked_upgrade(2);
    let parked = h
        .send_ok(json!({
            "cluster": "devel", "targetVersion": "1.31",
            "maintenanceWindow": { "start": "16:30", "durationMinutes": 120, "timeZone": "UTC" }
        }))
        .await;
    assert_eq!(parked["status"], "WAITING_FOR_WINDOW", "{parked}");
    assert_eq!(h.app.scheduler.next().map(|w| w.at), Some(opens), "woken as it opens");
    h.deliver_wakes(10).await;
    let record = h.record("to-1.31");
    assert_eq!(record.status, UpgradeStatus::Succeeded, "{:?}", record.message);
    assert_eq!(record.update_started_at, Some(opens), "started the moment it opened");
    assert_eq!(h.app.eks.update_cluster_version_calls(), 1);
}

#[tokio::test]
async fn a_soak_ends_on_time_when_its_last_wake_up_comes() {
    let h = parked_upgrade(2);
    h.app.alarms.set("api-5xx", "OK", "fine");
    h.send_ok(json!({
        "cluster": "devel", "targetVersion": "1.31",
        "verify": { "alarms": ["api-5xx"], "soakMinutes": 10 },
    }))
    .await;
    h.deliver_wakes(100).await;
    let record = h.record("to-1.31");
    assert_eq!(record.status, UpgradeStatus::Succeeded, "{:?}", record.message);
    let verification = record.verification.unwrap();
    assert_eq!(verification.passed, Some(true));
    assert_eq!(
        verification.checked_at - verification.started_at,
        600,
        "the verdict at the soak's end, not a look later"
    );
}

#[tokio::test]
async fn a_blocked_upgrade_is_woken_to_be_checked_again() {
    let h = parked_upgrade(2);
    h.app.eks.lock().blocking_insights.push("devel".into());
    let blocked = h.send_ok(request("1.31")).await;
    assert_eq!(blocked["status"], "BLOCKED", "{blocked}");
    let recheck = T0 + h.app.config.limits.blocked_recheck_secs;
    assert_eq!(h.record("to-1.31").wait_until, Some(recheck));
    // On the next whole minute: Scheduler fires within the minute it names, never before.
    let on_the_minute = |t: i64| (t + 59) / 60 * 60;
    assert_eq!(
        h.app.scheduler.next().map(|w| w.at),
        Some(on_the_minute(recheck)),
        "woken to be checked again"
    );
    // Delivered early (within its minute): nothing is looked at, and it is parked again.
    let early = h.app.scheduler.take_due(i64::MAX).remove(0);
    let calls = h.app.eks.lock().calls.clone();
    let answer = h.send_ok(early.event.clone()).await;
    assert_eq!(answer["status"], "BLOCKED", "{answer}");
    let again = h.app.scheduler.next().expect("arranged again");
    assert_ne!(again.name, early.name);
    assert_eq!(again.at, on_the_minute(recheck));
    assert_eq!(h.app.eks.lock().calls, calls, "nothing asked of EKS before it was due");
    // Checked again, still blocked: another wake-up, an hour on.
    assert_eq!(h.deliver_wakes(1).await, 1);
    assert_eq!(h.record("to-1.31").status, UpgradeStatus::Blocked);
    let next = h.app.clock.now_secs() + h.app.config.limits.blocked_recheck_secs;
    assert_eq!(h.app.scheduler.next().map(|w| w.at), Some(on_the_minute(next)));
    // The operator fixed it: the next wake-up goes on.
    h.app.eks.lock().blocking_insights.clear();
    h.deliver_wakes(20).await;
    let record = h.record("to-1.31");
    assert_eq!(record.status, UpgradeStatus::Succeeded, "{:?}", record.message);
    assert_eq!(h.app.eks.updates_created_by_tokens(), 1);
}

#[tokio::test]
async fn a_request_sent_again_while_parked_withdraws_the_wake_up_it_replaces() {
    let h = parked_upgrade(5);
    h.send_ok(request("1.31")).await;
    let first = h.app.scheduler.next().unwrap();
    h.app.clock.advance_secs(10);
    h.send_ok(request("1.31")).await;
    assert_eq!(
        h.app.scheduler.withdrawn.lock().unwrap().clone(),
        vec![first.name.clone()],
        "the wake-up it replaced"
    );
    let pending = h.app.scheduler.pending();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_ne!(pending[0].name, first.name);
    h.deliver_wakes(20).await;
    assert_eq!(h.record("to-1.31").status, UpgradeStatus::Succeeded);
    assert_eq!(h.app.eks.update_cluster_version_calls(), 1);
}

#[tokio::test]
async fn with_wake_ups_a_window_needs_the_hop_and_a_minute_not_a_sweep_period() {
    let h = parked_upgrade(2);
    let window = |minutes: u32| {
        json!({
            "cluster": "devel", "targetVersion": "1.31",
            "maintenanceWindow": { "start": "16:30", "durationMinutes": minutes, "timeZone": "UTC" }
        })
    };
    // HOP_ESTIMATE_MINUTES (45) and a minute: 46.
    let err = h.send(window(45)).await.unwrap_err();
    assert!(
        err.to_string().contains("expected at least 46 minutes") && err.to_string().contains("EventBridge Scheduler"),
        "{err}"
    );
    assert_eq!(h.send_ok(window(46)).await["status"], "WAITING_FOR_WINDOW");
}
