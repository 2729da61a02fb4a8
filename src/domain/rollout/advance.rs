//! A rollout's tick, with no I/O: what its clusters' upgrade records say ([`observe`]), what
//! the starts answered ([`started`]), then the stages move on and the clusters to start now
//! are named ([`advance`]). The handler writes the record *before* it starts any cluster, so a
//! crash between the two leaves those clusters `STARTING`, and the next tick starts them (the
//! child's key makes that start happen once).

use super::{
    ClusterEntry, ClusterState, RolloutHistory, RolloutRecord, RolloutStatus, StageStatus, MAX_NOTES, NOTE_CHARS,
};
use crate::domain::event::ClusterId;
use crate::domain::record::UpgradeStatus;
use crate::domain::text::human_duration;
use std::collections::BTreeMap;

/// What a cluster's upgrade record says, read at a tick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChildSeen {
    /// No record (yet).
    Missing,
    /// Going: running, parked, or BLOCKED and checked again.
    Going { status: UpgradeStatus },
    /// Over: it holds its cluster no more.
    Ended {
        status: UpgradeStatus,
        message: Option<String>,
    },
}

/// What starting a cluster's upgrade answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartOutcome {
    /// Its record is there (created now, or before).
    Started,
    /// Another upgrade holds the cluster: waited for.
    Busy(String),
    /// Refused for good (not enrolled any more, a bad option): the cluster failed.
    Refused(String),
}

/// Takes in what the clusters' upgrade records say.
pub fn observe(r: &mut RolloutRecord, seen: &[(String, ChildSeen)], now: i64) {
    for (cluster, child) in seen {
        let Some((s, c)) = r.find(cluster) else { continue };
        let state = r.stages[s].clusters[c].state;
        match (state, child) {
            (ClusterState::Starting | ClusterState::Waiting, ChildSeen::Going { .. }) => {
                r.stages[s].clusters[c].state = ClusterState::Running;
            }
            (ClusterState::Running, ChildSeen::Missing) => {
                let note = "its upgrade record is gone".to_owned();
                end_cluster(r, s, c, false, Some(note), now);
            }
            // Stopping or cancelling, a start that never made its record is given up once no
            // invocation that tried it can still be running.
            (ClusterState::Starting, ChildSeen::Missing)
                if matches!(r.status, RolloutStatus::Stopping | RolloutStatus::Cancelling)
                    && r.stages[s].clusters[c]
                        .started_at
                        .is_none_or(|t| now - t > START_GRACE_SECS) =>
            {
                not_started(r, s, c);
            }
            (
                ClusterState::Starting | ClusterState::Waiting | ClusterState::Running,
                ChildSeen::Ended {
                    status: UpgradeStatus::Cancelled,
                    ..
                },
            ) => {
                let entry = &mut r.stages[s].clusters[c];
                entry.state = ClusterState::Skipped;
                entry.finished_at = Some(now);
                set_note(r, s, c, "skipped: its upgrade was cancelled".into());
            }
            (
                ClusterState::Starting | ClusterState::Waiting | ClusterState::Running,
                ChildSeen::Ended { status, message },
            ) => {
                let ok = *status == UpgradeStatus::Succeeded;
                let note = (!ok).then(|| format!("{status:?}: {}", message.as_deref().unwrap_or("no message")));
                end_cluster(r, s, c, ok, note, now);
            }
            _ => {}
        }
    }
}

/// Takes in what starting clusters answered.
pub fn started(r: &mut RolloutRecord, outcomes: &[(String, StartOutcome)], now: i64) {
    for (cluster, outcome) in outcomes {
        let Some((s, c)) = r.find(cluster) else { continue };
        if !matches!(
            r.stages[s].clusters[c].state,
            ClusterState::Starting | ClusterState::Waiting
        ) {
            continue;
        }
        match outcome {
            StartOutcome::Started => {
                let entry = &mut r.stages[s].clusters[c];
                entry.state = ClusterState::Running;
                entry.note = None;
            }
            StartOutcome::Busy(why) => {
                r.stages[s].clusters[c].state = ClusterState::Waiting;
                set_note(r, s, c, format!("waiting: {why}"));
            }
            StartOutcome::Refused(why) => end_cluster(r, s, c, false, Some(why.clone()), now),
        }
    }
}

/// Moves the stages on as far as they go now; returns the clusters to start (or start again,
/// those waiting for another upgrade's lock among them).
pub fn advance(r: &mut RolloutRecord, now: i64) -> Vec<String> {
    advance_with(r, now, true)
}

/// The same, right after this tick's starts answered: clusters just found busy wait for the
/// next tick rather than being tried again at once.
pub fn advance_after_starts(r: &mut RolloutRecord, now: i64) -> Vec<String> {
    advance_with(r, now, false)
}

fn advance_with(r: &mut RolloutRecord, now: i64, retry_waiting: bool) -> Vec<String> {
    if r.is_finished() {
        return Vec::new();
    }
    // A failure past the budget stops a paused rollout too: resuming it must not start more.
    if let Some(s) = r.current_stage().filter(|&s| r.stages[s].over_budget()) {
        if r.status == RolloutStatus::Paused {
            stop(r, s, now);
        }
    }
    if r.status == RolloutStatus::Paused {
        return Vec::new();
    }
    // Bounded: each pass moves a stage on, or stops.
    for _ in 0..=r.stages.len() * 4 + 1 {
        let Some(s) = r.current_stage() else {
            // Failures within the budgets (a cluster, or an account or region that could not be
            // reached) are said, not hidden behind "the fleet is at".
            let failed: usize = r.stages.iter().map(|s| s.count(ClusterState::Failed)).sum();
            let note = match failed {
                0 => format!("every stage succeeded: the fleet is at {}", r.target_version),
                n => format!(
                    "every stage ended within its failure budget: {n} cluster(s) or location(s) failed or could \
                     not be reached (see each stage's notes), the others are at {}",
                    r.target_version
                ),
            };
            end(r, RolloutStatus::Succeeded, note, now);
            return Vec::new();
        };
        if r.stages[s].over_budget() && r.status == RolloutStatus::Running {
            stop(r, s, now);
        }
        if matches!(r.status, RolloutStatus::Stopping | RolloutStatus::Cancelling) {
            return wind_down(r, now);
        }
        let stopped_here = match r.stages[s].status {
            StageStatus::Waiting | StageStatus::AwaitingApproval => open_stage(r, s, now),
            StageStatus::Running => run_stage(r, s, now, retry_waiting),
            StageStatus::Soaking => end_soak(r, s, now),
            StageStatus::Succeeded | StageStatus::Stopped => Some(Vec::new()),
        };
        if let Some(starts) = stopped_here {
            return starts;
        }
    }
    Vec::new()
}

// Each stage's step below answers `Some(clusters to start)` where the rollout stops for this
// tick, `None` where it moved the stage on and the next pass looks again.

/// A waiting stage opens, once approved where it must be.
fn open_stage(r: &mut RolloutRecord, s: usize, now: i64) -> Option<Vec<String>> {
    if r.stages[s].approval && !r.stages[s].approved {
        if r.stages[s].status == StageStatus::Waiting {
            r.stages[s].status = StageStatus::AwaitingApproval;
            let note = format!("stage {} waits for its approval", r.stages[s].name);
            history(r, now, note);
        }
        return Some(Vec::new());
    }
    r.stages[s].status = StageStatus::Running;
    r.stages[s].started_at = Some(now);
    let note = format!(
        "stage {} started: {} cluster(s)",
        r.stages[s].name,
        r.stages[s].clusters.len()
    );
    history(r, now, note);
    None
}

/// A running stage starts clusters up to its bounds; once every cluster ended, it soaks.
fn run_stage(r: &mut RolloutRecord, s: usize, now: i64, retry_waiting: bool) -> Option<Vec<String>> {
    fill(r, s, now, retry_waiting);
    let stage = &r.stages[s];
    if stage.active() > 0 || stage.count(ClusterState::Pending) > 0 {
        return Some(to_start(r, s));
    }
    let soak = i64::from(stage.soak_minutes) * 60;
    r.stages[s].status = StageStatus::Soaking;
    r.stages[s].soak_until = Some(now + soak);
    let note = format!(
        "stage {}: every cluster ended ({} succeeded, {} failed, {} skipped); soaking {}",
        r.stages[s].name,
        r.stages[s].count(ClusterState::Succeeded),
        r.stages[s].count(ClusterState::Failed),
        r.stages[s].count(ClusterState::Skipped),
        human_duration(soak)
    );
    history(r, now, note);
    None
}

/// A soaking stage succeeds when its soak is over.
fn end_soak(r: &mut RolloutRecord, s: usize, now: i64) -> Option<Vec<String>> {
    if r.stages[s].soak_until.is_some_and(|t| now < t) {
        return Some(Vec::new());
    }
    r.stages[s].status = StageStatus::Succeeded;
    r.stages[s].finished_at = Some(now);
    let note = format!("stage {} succeeded", r.stages[s].name);
    history(r, now, note);
    None
}

/// When the rollout should be looked at again by itself: the end of a soak.
pub fn wake_at(r: &RolloutRecord) -> Option<i64> {
    let s = r.current_stage()?;
    (r.stages[s].status == StageStatus::Soaking && r.status == RolloutStatus::Running)
        .then_some(r.stages[s].soak_until)
        .flatten()
}

/// A start is made within one invocation of the tick that wrote its cluster `STARTING` (at
/// `started_at`), and no invocation runs past Lambda's 15 minutes: after this, nobody can still
/// be creating its upgrade record.
pub const START_GRACE_SECS: i64 = 16 * 60;

/// Nothing more starts: the stage's failures went over its budget.
fn stop(r: &mut RolloutRecord, s: usize, now: i64) {
    let failed = failures(r);
    r.status = RolloutStatus::Stopping;
    let note = format!(
        "stage {} has {} failed cluster(s), over its budget of {}: nothing more starts; {failed}",
        r.stages[s].name,
        r.stages[s].count(ClusterState::Failed),
        r.stages[s].failure_budget
    );
    history(r, now, note);
}

/// The clusters this tick starts are written `STARTING` (at `now`) before any start is made,
/// so a skip or a stop read after that write cannot cross a start: waiting ones try again,
/// then pending ones take the stage's free places.
fn fill(r: &mut RolloutRecord, s: usize, now: i64, retry_waiting: bool) {
    let home = r.home_account.clone().unwrap_or_default();
    let account_of = |key: &str| account_of(key, &home);
    let stage = &mut r.stages[s];
    let mut free = (stage.max_concurrent as usize).saturating_sub(stage.active());
    // Each account's free places, when the stage caps them.
    let per_account = stage.max_concurrent_per_account.map(|cap| cap as usize);
    let mut by_account: BTreeMap<String, usize> = BTreeMap::new();
    for entry in stage.clusters.iter().filter(|c| c.state.is_active()) {
        *by_account.entry(account_of(&entry.name)).or_default() += 1;
    }
    for entry in stage.clusters.iter_mut() {
        match entry.state {
            ClusterState::Waiting if !retry_waiting => {}
            ClusterState::Starting | ClusterState::Waiting => {
                entry.state = ClusterState::Starting;
                entry.started_at = Some(now);
            }
            ClusterState::Pending if free > 0 => {
                let account = by_account.entry(account_of(&entry.name)).or_default();
                if per_account.is_some_and(|cap| *account >= cap) {
                    continue;
                }
                *account += 1;
                entry.state = ClusterState::Starting;
                entry.started_at = Some(now);
                free -= 1;
            }
            _ => {}
        }
    }
}

/// The account of a cluster's key: its ARN's, or `home` (the function's own) for a bare name.
fn account_of(key: &str, home: &str) -> String {
    ClusterId::parse(key)
        .ok()
        .and_then(|id| id.at)
        .map_or_else(|| home.to_owned(), |at| at.account.as_str().to_owned())
}

fn to_start(r: &RolloutRecord, s: usize) -> Vec<String> {
    r.stages[s]
        .clusters
        .iter()
        .filter(|c| c.state == ClusterState::Starting)
        .map(|c| c.name.clone())
        .collect()
}

/// A cluster whose upgrade was never made goes back to `PENDING`, with a note why.
fn not_started(r: &mut RolloutRecord, s: usize, c: usize) {
    let why = if r.status == RolloutStatus::Cancelling {
        "not started: the rollout was cancelled"
    } else {
        "not started: the rollout stopped"
    };
    let entry = &mut r.stages[s].clusters[c];
    entry.state = ClusterState::Pending;
    entry.started_at = None;
    set_note(r, s, c, why.into());
}

/// Stopping or cancelling: nothing new starts (clusters not yet started stay so, and those
/// waiting for another upgrade's lock wait no more); once none is active, the rollout ends.
fn wind_down(r: &mut RolloutRecord, now: i64) -> Vec<String> {
    for s in 0..r.stages.len() {
        for c in 0..r.stages[s].clusters.len() {
            if r.stages[s].clusters[c].state == ClusterState::Waiting {
                not_started(r, s, c);
            }
        }
    }
    let active: usize = r.stages.iter().map(|s| s.active()).sum();
    if active > 0 {
        return Vec::new();
    }
    for stage in r.stages.iter_mut().filter(|s| s.status != StageStatus::Succeeded) {
        stage.status = StageStatus::Stopped;
        stage.finished_at.get_or_insert(now);
    }
    let (status, note) = if r.status == RolloutStatus::Cancelling {
        let failed = r.stages.iter().map(|s| s.count(ClusterState::Failed)).sum::<usize>();
        let note = if failed > 0 {
            format!("cancelled: the running upgrades finished; {}", failures(r))
        } else {
            "cancelled: the running upgrades finished".to_owned()
        };
        (RolloutStatus::Cancelled, note)
    } else {
        (RolloutStatus::Stopped, format!("stopped: {}", failures(r)))
    };
    end(r, status, note, now);
    Vec::new()
}

/// The failed clusters and why, for a message.
fn failures(r: &RolloutRecord) -> String {
    let failed: Vec<String> = r
        .stages
        .iter()
        .flat_map(|s| s.clusters.iter())
        .filter(|c| c.state == ClusterState::Failed)
        .map(|c| format!("{} ({})", c.name, c.note.as_deref().unwrap_or("see its record")))
        .take(10)
        .collect();
    if failed.is_empty() {
        "no cluster failed".into()
    } else {
        format!("failed: {}", failed.join("; "))
    }
}

fn end_cluster(r: &mut RolloutRecord, s: usize, c: usize, ok: bool, note: Option<String>, now: i64) {
    let entry: &mut ClusterEntry = &mut r.stages[s].clusters[c];
    entry.state = if ok {
        ClusterState::Succeeded
    } else {
        ClusterState::Failed
    };
    entry.finished_at = Some(now);
    entry.note = None;
    if let Some(note) = note {
        set_note(r, s, c, note);
    }
}

/// A cluster's note, bounded in length and in number.
pub(super) fn set_note(r: &mut RolloutRecord, s: usize, c: usize, note: String) {
    let kept = r
        .stages
        .iter()
        .flat_map(|s| s.clusters.iter())
        .filter(|c| c.note.is_some())
        .count();
    let entry = &mut r.stages[s].clusters[c];
    if entry.note.is_none() && kept >= MAX_NOTES {
        r.notes_dropped += 1;
        return;
    }
    entry.note = Some(note.chars().take(NOTE_CHARS).collect());
}

pub(super) fn history(r: &mut RolloutRecord, now: i64, note: String) {
    r.message = Some(note.clone());
    r.history.push(RolloutHistory { at: now, note });
}

pub(super) fn end(r: &mut RolloutRecord, status: RolloutStatus, note: String, now: i64) {
    r.status = status;
    r.finished_at = Some(now);
    r.sweep_bucket = None;
    history(r, now, note);
}
