//! Version rollback (EKS user guide, "Rollback cluster to previous Kubernetes version",
//! 2026): the 7-day window after an in-place upgrade, the prerequisites of a control-plane
//! rollback (UpdateClusterVersion to the previous minor) and of a managed node group's
//! (UpdateNodegroupVersion to its previous minor), in the order the emulator checks them,
//! with their errors. `plan_version_update` (clusters.rs) and `plan_nodegroup_update`
//! (nodegroups.rs) call these; CancelUpdate's rule is in updates.rs.

use super::data::last_upgrade::{latest_platform, LastUpgrade};

use super::data::cluster::Cluster;
use super::data::insight::InsightCategory;
use super::data::nodegroup::Nodegroup;
use super::data::version::{cmp_versions, VersionStatus};
use super::state::State;
use crate::error::ApiError;
use crate::util::{parse_minor, prev_minor};

/// The InvalidStateException message of a rollback blocked by ROLLBACK_READINESS insights
/// (inferred: modelled on EKS's message for upgrade readiness).
pub(crate) const ROLLBACK_INSIGHTS_BLOCKING_MESSAGE: &str = eks_rules::messages::ROLLBACK_INSIGHTS_BLOCKING;

impl Cluster {
    /// The in-place upgrade that brought the cluster to its version, if any.
    pub(crate) fn last_upgrade(&self) -> Option<&LastUpgrade> {
        self.last_upgrade.as_ref()
    }

    /// The version a rollback may go back to at `now`: the previous minor, when the
    /// cluster was upgraded from it in place and the window is open.
    pub(super) fn rollback_target(&self, now: f64) -> Option<String> {
        let l = self.last_upgrade.as_ref()?;
        (prev_minor(&self.version).as_deref() == Some(l.from_version.as_str()) && l.open_at(now))
            .then(|| l.from_version.clone())
    }

    /// The node groups newer than `version` (or with an unreadable version).
    pub(super) fn nodegroups_newer_than(&self, version: &str) -> Vec<&str> {
        self.nodegroups
            .values()
            .filter(|n| !matches!(cmp_versions(&n.version, version), Some(o) if o.is_le()))
            .map(|n| n.name.as_str())
            .collect()
    }
}

impl State {
    /// The prerequisites of a control-plane rollback of `c` to `version` (older than its
    /// version, supported), in order; `force` overrides only the ROLLBACK_READINESS
    /// insights. Returns the platform version it goes to: the latest for `version` (the
    /// table's, or the one the cluster had there if newer).
    pub(super) fn plan_cluster_rollback(
        &self,
        c: &Cluster,
        version: &str,
        force: bool,
        now: f64,
    ) -> Result<String, ApiError> {
        let (name, current) = (c.name.as_str(), c.version.as_str());
        let unsupported = || {
            ApiError::invalid_parameter(eks_rules::messages::unsupported_minor_update(current, version)).cluster(name)
        };
        let last = c.last_upgrade.as_ref().filter(|l| l.from_version == version);
        let ask = eks_rules::RollbackAsk {
            cluster: name,
            current: parse_minor(current).ok_or_else(unsupported)?,
            requested: parse_minor(version).ok_or_else(unsupported)?,
            upgraded_from: last.and_then(|l| parse_minor(&l.from_version)),
            within_window: last.is_some_and(|l| l.open_at(now)),
            extended_on_standard: c.support_type == "STANDARD"
                && self
                    .version_info(version)
                    .is_some_and(|v| v.status == VersionStatus::ExtendedSupport),
            nodegroups_newer: c.nodegroups_newer_than(version),
            insights_block: c
                .insights
                .iter()
                .any(|i| i.blocks(InsightCategory::RollbackReadiness, version)),
            force,
        };
        if let Some(refusal) = eks_rules::refuse_rollback(&ask) {
            return Err(ApiError::refused(refusal).cluster(name));
        }
        let from_platform = last.map_or("", |l| l.from_platform.as_str());
        Ok(latest_platform(&self.platform_for(version), from_platform))
    }
}

/// Whether moving node group `ng` down to `version` rolls back its last in-place upgrade:
/// exactly one minor down, to the version it was upgraded from, within the window.
pub(super) fn nodegroup_may_roll_back(ng: &Nodegroup, version: &str, now: f64) -> bool {
    prev_minor(&ng.version).as_deref() == Some(version)
        && ng
            .last_upgrade
            .as_ref()
            .is_some_and(|l| l.from_version == version && l.open_at(now))
}

#[cfg(test)]
mod tests {
    use crate::model::data::last_upgrade::latest_platform;
    use crate::model::data::last_upgrade::LastUpgrade;
    use crate::model::ROLLBACK_WINDOW_SECS;

    #[test]
    fn platform_versions_compare_by_number() {
        assert_eq!(latest_platform("eks.1", "eks.32"), "eks.32");
        assert_eq!(latest_platform("eks.40", "eks.32"), "eks.40");
        assert_eq!(latest_platform("eks.9", "weird"), "eks.9");
    }

    #[test]
    fn the_last_upgrade_follows_version_changes() {
        let up = LastUpgrade::after_change(None, "1.30", "eks.3", "1.31", 10.0).unwrap();
        assert_eq!((up.from_version.as_str(), up.at), ("1.30", 10.0));
        assert!(up.open_at(10.0 + ROLLBACK_WINDOW_SECS));
        assert!(!up.open_at(10.1 + ROLLBACK_WINDOW_SECS));
        let same = LastUpgrade::after_change(Some(up.clone()), "1.31", "eks.4", "1.31", 20.0);
        assert_eq!(same, Some(up.clone()));
        assert_eq!(LastUpgrade::after_change(Some(up), "1.31", "eks.4", "1.30", 30.0), None);
    }
}
