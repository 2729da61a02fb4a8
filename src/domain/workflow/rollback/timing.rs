//! A rollback's clock: EKS's 7 days, the `timeoutMinutes` it is sent with, and how long it is
//! followed. Read by the rollback's steps and by the bounds of every step (`status.rs`).

use crate::domain::record::safety::Rollback;
use crate::domain::record::{Step, UpgradeRecord};
use crate::domain::version::KubeVersion;

/// EKS allows a rollback this long after the upgrade completed.
pub const ROLLBACK_WINDOW_SECS: i64 = 7 * 86400;

/// Kept back from EKS's 7 days: we see an update's success up to a poll after EKS completed
/// it, and the node groups go back before the control plane does.
pub const WINDOW_MARGIN_SECS: i64 = 3600;

/// `rollbackConfig.timeoutMinutes` sent with the control plane's rollback unless the request
/// sets one (`rollbackConfig.timeoutMinutes`, 120 to 10080): EKS's own default. EKS cancels the
/// rollback no sooner than this (Auto Mode nodes may take days); it is followed this long and
/// an hour more, so EKS's own end is what the record shows.
pub const ROLLBACK_TIMEOUT_MINUTES: u32 = 720;

/// What a rollback recorded before its time-out was kept was sent with.
const EARLIER_ROLLBACK_TIMEOUT_MINUTES: u32 = 240;

/// The `timeoutMinutes` a rollback is (or was) sent with.
pub fn timeout_minutes(rollback: &Rollback) -> u32 {
    rollback.timeout_minutes.unwrap_or(EARLIER_ROLLBACK_TIMEOUT_MINUTES)
}

/// Until when a control-plane rollback being followed may run: its `timeoutMinutes` and an
/// hour from its start. The attempt's own bounds (MAX_TRACKING_SECONDS, MAX_INVOCATIONS) give
/// way to it, so a rollback EKS may take days over is followed to its end.
pub fn followed_until(r: &UpgradeRecord) -> Option<i64> {
    let rollback = r.rollback.as_ref().filter(|_| r.step == Step::TrackRollback)?;
    let started = rollback.update_started_at?;
    Some(started + i64::from(timeout_minutes(rollback)) * 60 + 3600)
}

/// One minor version down: where a rollback goes.
pub fn previous_minor(version: KubeVersion) -> KubeVersion {
    KubeVersion::new(version.major, version.minor.saturating_sub(1))
}
