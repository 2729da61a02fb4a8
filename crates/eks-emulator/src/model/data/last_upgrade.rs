//! The in-place upgrade a version rollback may undo, and EKS's 7-day window.

use super::version::cmp_versions;

/// How long after an in-place upgrade completed it may be rolled back.
pub(crate) const ROLLBACK_WINDOW_SECS: f64 = 7.0 * 86400.0;

/// The in-place version update a cluster or node group went through last, which a
/// rollback may undo within [`ROLLBACK_WINDOW_SECS`] of `at`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LastUpgrade {
    pub from_version: String,
    /// The platform version (a node group's: release version) before the upgrade; a
    /// cluster's rollback uses it.
    pub from_platform: String,
    /// When the upgrade completed (emulator clock).
    pub at: f64,
}

impl LastUpgrade {
    /// Whether the window is still open at `now`.
    pub(in crate::model) fn open_at(&self, now: f64) -> bool {
        now - self.at <= ROLLBACK_WINDOW_SECS
    }

    /// What a change from `from` to `to` that completed at `at` leaves as the last upgrade:
    /// a new one for an upgrade to a newer minor, none after a downgrade (a rollback cannot
    /// itself be rolled back), `previous` when the minor stays.
    pub(in crate::model) fn after_change(
        previous: Option<LastUpgrade>,
        from: &str,
        from_platform: &str,
        to: &str,
        at: f64,
    ) -> Option<LastUpgrade> {
        match cmp_versions(to, from) {
            Some(std::cmp::Ordering::Greater) => Some(LastUpgrade {
                from_version: from.to_string(),
                from_platform: from_platform.to_string(),
                at,
            }),
            Some(std::cmp::Ordering::Equal) => previous,
            _ => None,
        }
    }
}

/// The higher of two platform versions `eks.N` (the first when either is not one).
pub(in crate::model) fn latest_platform(a: &str, b: &str) -> String {
    let n = |p: &str| p.strip_prefix("eks.").and_then(|n| n.parse::<u32>().ok());
    match (n(a), n(b)) {
        (Some(x), Some(y)) if y > x => b.to_string(),
        _ => a.to_string(),
    }
}
