//! `Verify`: once a hop's control plane, add-ons and node groups are done, the hop is verified
//! before the next starts or the upgrade ends (a request with `verify`): the cluster, each
//! add-on and each node group healthy and ACTIVE, and the named CloudWatch alarms OK, every
//! look through the soak time. The verdict and its evidence go into the record.

use super::flow::Flow;
use super::status::{finish, refused};
use super::{Limits, Next};
use crate::domain::eks::{EksFailure, HealthIssue, Operation, VerifyEvidence};
use crate::domain::event::{OnVerifyFailure, VerifySpec};
use crate::domain::record::safety::{Check, RollbackCause, Verification};
use crate::domain::record::{HistoryEntry, Step, UpgradeRecord, UpgradeStatus};
use crate::domain::text::human_duration;
use crate::domain::version::KubeVersion;

/// The hop's verification begins.
pub(super) fn start(r: &mut UpgradeRecord, now: i64) -> Next {
    let hop = r.hop_reached.unwrap_or(r.target_version);
    // The soak starts now, whenever it was begun before: time nobody looked (blocked, parked)
    // does not count.
    r.verification = Some(Verification {
        hop,
        started_at: now,
        checked_at: now,
        passed: None,
        checks: Vec::new(),
    });
    r.step = Step::Verify;
    r.message = Some(format!("verifying the hop to {hop}"));
    Next::Now
}

/// The step's function: what the verification's look found.
pub(super) fn on_evidence(
    r: &mut UpgradeRecord,
    answer: Result<VerifyEvidence, EksFailure>,
    now: i64,
    limits: &Limits,
) -> Flow {
    let evidence = match answer {
        Ok(evidence) => evidence,
        Err(e) => {
            return refused(
                r,
                Operation::Verify,
                "the hop's verification (read-only calls)",
                &e,
                now,
                limits,
            )
            .into()
        }
    };
    let spec = r.verify.clone().unwrap_or_default();
    let hop = r.hop_reached.unwrap_or(r.target_version);
    let checks = evaluate(&spec, hop, &evidence);
    let passed = checks.iter().all(|c| c.passed);
    let verification = r.verification.get_or_insert(Verification {
        hop,
        started_at: now,
        checked_at: now,
        passed: None,
        checks: Vec::new(),
    });
    verification.checks = checks;
    verification.checked_at = now;
    if !passed {
        verification.passed = Some(false);
        return failed(r, now, limits);
    }
    let soaked = now - verification.started_at;
    let soak = i64::from(spec.soak_minutes) * 60;
    let no_data = without_data(&spec, &evidence);
    if soaked >= soak && !no_data.is_empty() {
        // No data is no evidence either way: wait for it (bounded), never fail or roll back on it.
        if soaked >= soak + NO_DATA_WAIT_SECS {
            return no_evidence(r, &no_data, soaked, now, limits).into();
        }
        r.message = Some(format!(
            "the hop to {hop} holds so far; waiting for data of alarm(s) {} (INSUFFICIENT_DATA is no evidence either \
             way; waited {} of at most {})",
            no_data.join(", "),
            human_duration(soaked - soak),
            human_duration(NO_DATA_WAIT_SECS)
        ));
        return Next::After(limits.poll_interval_secs).into();
    }
    if soaked < soak {
        r.message = Some(format!(
            "the hop to {hop} holds so far ({} of {} soak)",
            human_duration(soaked),
            human_duration(soak)
        ));
        return Next::After(limits.update_poll_secs.min(soak - soaked).max(1)).into();
    }
    verification.passed = Some(true);
    verified(r, hop, now)
}

/// The hop held through its soak: on to the next hop, or the end of the upgrade.
fn verified(r: &mut UpgradeRecord, hop: KubeVersion, now: i64) -> Flow {
    let count = r.verification.as_ref().map_or(0, |v| v.checks.len());
    r.verified_hops.push(hop);
    let note = format!("the hop to {hop} verified: {count} check(s) held");
    r.history.push(HistoryEntry {
        at: now,
        status: r.status,
        note: note.clone(),
    });
    r.message = Some(note);
    r.step = Step::InspectCluster;
    Next::Now.into()
}

/// How long past its soak a verification waits for an alarm with no data (INSUFFICIENT_DATA,
/// every new alarm's state, and a metric that reports only errors when all is well) to have
/// some, before it ends without a verdict.
pub const NO_DATA_WAIT_SECS: i64 = 3600;

/// The named alarms that had no data at this look, or that CloudWatch no longer knows.
fn without_data(spec: &VerifySpec, evidence: &VerifyEvidence) -> Vec<String> {
    spec.alarms
        .iter()
        .filter(|name| {
            evidence
                .alarms
                .iter()
                .find(|a| &a.name == *name)
                .is_none_or(|a| a.state == "INSUFFICIENT_DATA")
        })
        .cloned()
        .collect()
}

/// Nothing showed harm, nothing showed health: the upgrade stops (`stop`'s outcome, whatever
/// `onVerifyFailure` says), the cluster left at the hop. A rollback is never made on no evidence.
fn no_evidence(r: &mut UpgradeRecord, no_data: &[String], soaked: i64, now: i64, limits: &Limits) -> Next {
    let hop = r.hop_reached.unwrap_or(r.target_version);
    if let Some(v) = r.verification.as_mut() {
        v.passed = Some(false);
    }
    let note = format!(
        "verification of the hop to {hop} has no verdict: alarm(s) {} had no data (INSUFFICIENT_DATA) {} after the hop. \
         Nothing was rolled back on no evidence; the cluster is left at {hop}. Check the alarms' metrics; to roll the \
         hop back, send {{\"rollback\": {{\"cluster\": \"{}\", \"requestId\": \"{}\"}}}}",
        no_data.join(", "),
        human_duration(soaked),
        r.cluster,
        r.request_id
    );
    finish(r, UpgradeStatus::Failed, note, now, limits)
}

/// The verification failed: the evidence stays in the record; then stop, or roll the hop back.
fn failed(r: &mut UpgradeRecord, now: i64, limits: &Limits) -> Flow {
    let Some(verification) = r.verification.clone() else {
        return Next::Now.into();
    };
    let hop = verification.hop;
    let reason = format!("verification of the hop to {hop} failed: {}", verification.failures());
    match r.on_verify_failure {
        OnVerifyFailure::Stop => {
            let note = format!(
                "{reason}. The cluster is left at {hop}; to roll the hop back, send {{\"rollback\": {{\"cluster\": \"{}\", \
                 \"requestId\": \"{}\"}}}}",
                r.cluster, r.request_id
            );
            finish(r, UpgradeStatus::Failed, note, now, limits).into()
        }
        OnVerifyFailure::Rollback => Flow::Rollback {
            cause: RollbackCause::VerificationFailed,
            reason,
        },
    }
}

/// The checks of one look: the cluster's health, each add-on's and node group's status and
/// health, and each named alarm's state.
pub fn evaluate(spec: &VerifySpec, hop: KubeVersion, evidence: &VerifyEvidence) -> Vec<Check> {
    let cluster = &evidence.cluster;
    let at = cluster.version.map_or("?".to_owned(), |v| v.to_string());
    let mut checks = vec![Check {
        check: format!("cluster ACTIVE at {hop}"),
        passed: cluster.status == "ACTIVE" && cluster.version == Some(hop),
        detail: format!("cluster is {} at {at}", cluster.status),
    }];
    checks.push(Check {
        check: "cluster health".into(),
        passed: cluster.health.is_empty(),
        detail: if cluster.health.is_empty() {
            "no health issues".into()
        } else {
            joined(&cluster.health)
        },
    });
    for addon in &evidence.addons {
        checks.push(resource_check(
            format!("add-on {}", addon.name),
            &addon.status,
            &addon.health,
        ));
    }
    for ng in &evidence.nodegroups {
        checks.push(resource_check(
            format!("node group {}", ng.name),
            &ng.status,
            &ng.health,
        ));
    }
    checks.extend(spec.alarms.iter().map(|name| alarm_check(name, evidence)));
    checks
}

fn joined(issues: &[HealthIssue]) -> String {
    issues
        .iter()
        .map(|i| format!("{}: {}", i.code, i.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// An add-on or node group holds when it is ACTIVE with no health issue.
fn resource_check(what: String, status: &str, health: &[HealthIssue]) -> Check {
    let passed = status == "ACTIVE" && health.is_empty();
    let detail = match (status == "ACTIVE", health.is_empty()) {
        (true, true) => "ACTIVE, no health issues".to_owned(),
        (true, false) => format!("ACTIVE with health issues: {}", joined(health)),
        (false, true) => status.to_owned(),
        (false, false) => format!("{status}: {}", joined(health)),
    };
    Check {
        check: what,
        passed,
        detail,
    }
}

/// A named alarm holds unless it is in ALARM; no data and a vanished alarm are no evidence.
fn alarm_check(name: &str, evidence: &VerifyEvidence) -> Check {
    let check = format!("alarm {name}");
    match evidence.alarms.iter().find(|a| a.name == name) {
        Some(alarm) if alarm.state == "OK" => Check {
            check,
            passed: true,
            detail: "OK".into(),
        },
        // No data is no evidence of harm: it fails nothing (the soak waits for data).
        Some(alarm) if alarm.state == "INSUFFICIENT_DATA" => Check {
            check,
            passed: true,
            detail: format!(
                "INSUFFICIENT_DATA (no evidence either way; waited for): {}",
                alarm.reason
            ),
        },
        Some(alarm) => Check {
            check,
            passed: false,
            detail: format!("{}: {}", alarm.state, alarm.reason),
        },
        // Gone since the preflight read it (deleted, renamed): no evidence either way, like
        // no data; the soak waits, and never rolls back on it.
        None => Check {
            check,
            passed: true,
            detail: "CloudWatch does not know this alarm now (no evidence either way; waited for)".into(),
        },
    }
}
