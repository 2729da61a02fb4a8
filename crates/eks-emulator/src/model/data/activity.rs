//! The clusters seen updating and the peak (the rules of counting are in `../activity.rs`).

use std::collections::BTreeSet;

/// The clusters seen updating and the peak.
#[derive(Debug, Default)]
pub(crate) struct UpdateActivity {
    /// Every cluster updating now, and maybe some that stopped since (pruned on count).
    pub(in crate::model) maybe_updating: BTreeSet<String>,
    /// The most clusters updating at one moment.
    pub(in crate::model) peak: u64,
}
