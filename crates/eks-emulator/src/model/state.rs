//! `State`, everything the emulator knows, with its lookups, time, and pages of list answers.

use super::data::activity::UpdateActivity;
use super::data::cluster::Cluster;
use super::data::token::TokenTable;
use super::data::version::VersionInfo;
use crate::error::ApiError;
use crate::faults::{Durations, Faults};
use crate::seed::AddonCatalogEntry;
use crate::stats::{ClusterStats, RequestStats};
use crate::util;
use crate::util::SplitMix64;
use std::collections::BTreeMap;

/// Everything the emulator knows.
#[derive(Debug)]
pub(crate) struct State {
    pub(super) account_id: String,
    pub(super) region: String,
    pub(super) versions: Vec<VersionInfo>,
    pub(super) catalog: Vec<AddonCatalogEntry>,
    pub(super) clusters: BTreeMap<String, Cluster>,
    /// CreateCluster's tokens (the others are kept per cluster).
    pub(super) create_tokens: TokenTable,
    pub faults: Faults,
    pub durations: Durations,
    pub requests: RequestStats,
    pub cluster_stats: BTreeMap<String, ClusterStats>,
    /// The clusters updating and their peak (`activity.rs`).
    pub(super) activity: UpdateActivity,
    pub rng: SplitMix64,
}

/// What a new state is built from.
#[derive(Debug, Clone)]
pub(crate) struct StateInit {
    pub account_id: String,
    pub region: String,
    pub durations: Durations,
    pub faults: Faults,
    pub rng_seed: Option<u64>,
}

impl State {
    /// Its (account, region).
    pub(crate) fn location(&self) -> (String, String) {
        (self.account_id.clone(), self.region.clone())
    }

    pub(crate) fn new(init: &StateInit) -> State {
        let versions = crate::catalog::default_versions()
            .iter()
            .map(|v| VersionInfo::from_seed(v).expect("built-in versions are valid"))
            .collect();
        State {
            account_id: init.account_id.clone(),
            region: init.region.clone(),
            versions,
            catalog: crate::catalog::default_addon_catalog(),
            clusters: BTreeMap::new(),
            create_tokens: TokenTable::default(),
            faults: init.faults.clone(),
            durations: init.durations,
            requests: RequestStats::default(),
            cluster_stats: BTreeMap::new(),
            activity: UpdateActivity::default(),
            rng: SplitMix64::new(init.rng_seed),
        }
    }

    pub(super) fn cluster(&self, name: &str) -> Result<&Cluster, ApiError> {
        self.clusters.get(name).ok_or_else(|| ApiError::no_cluster(name))
    }

    pub(super) fn cluster_mut(&mut self, name: &str) -> Result<&mut Cluster, ApiError> {
        self.clusters.get_mut(name).ok_or_else(|| ApiError::no_cluster(name))
    }

    pub(super) fn cluster_stats(&mut self, cluster: &str) -> &mut ClusterStats {
        self.cluster_stats.entry(cluster.to_string()).or_default()
    }

    /// `now + ms` for something that takes `ms` milliseconds.
    pub(super) fn after_ms(now: f64, ms: u64) -> f64 {
        now + ms as f64 / 1000.0
    }

    /// Applies everything that is due at `now`: creations, deletions, finished updates
    /// (in the order they ended).
    pub(crate) fn advance(&mut self, now: f64) {
        for c in self.clusters.values_mut() {
            c.settle(now);
        }
        self.clusters.retain(|_, c| !c.deleted_by(now));
        self.complete_due_updates(now);
        for v in &mut self.versions {
            v.follow_clock(now);
        }
    }
}

/// One page of a list answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Page<T> {
    pub items: Vec<T>,
    pub next_token: Option<String>,
}

/// Splits `items` into one page (`maxResults` 1..=100, default 100; opaque `nextToken`).
pub(crate) fn paginate<T>(
    items: Vec<T>,
    max_results: Option<i64>,
    next_token: Option<&str>,
) -> Result<Page<T>, ApiError> {
    let max = match max_results {
        None => 100,
        Some(m) if (1..=100).contains(&m) => m as usize,
        Some(m) => {
            return Err(ApiError::invalid_parameter(format!(
                "maxResults must be between 1 and 100, got {m}"
            )))
        }
    };
    let start = match next_token {
        None | Some("") => 0,
        Some(t) => util::unhex(t)
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.strip_prefix("eksemu:").and_then(|n| n.parse::<usize>().ok()))
            .filter(|n| *n <= items.len())
            .ok_or_else(|| ApiError::invalid_parameter("The nextToken provided is invalid."))?,
    };
    let total = items.len();
    let end = (start + max).min(total);
    let items: Vec<T> = items.into_iter().skip(start).take(end - start).collect();
    let next_token = (end < total).then(|| util::hex(format!("eksemu:{end}").as_bytes()));
    Ok(Page { items, next_token })
}

#[cfg(test)]
pub(crate) fn test_state() -> State {
    State::new(&StateInit {
        account_id: "123456789012".into(),
        region: "us-east-1".into(),
        durations: Durations::updates(1000),
        faults: Faults::default(),
        rng_seed: Some(1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AddonStatus;
    use crate::model::ClusterStatus;
    use crate::model::InsightCategory;
    use crate::model::NodegroupStatus;
    use crate::model::UpdateStatus;
    use crate::model::UpdateType;
    use crate::model::VersionStatus;

    #[test]
    fn pagination_round_trip() {
        let items: Vec<u32> = (0..5).collect();
        let p = paginate(items.clone(), Some(2), None).unwrap();
        assert_eq!(p.items, vec![0, 1]);
        let p = paginate(items.clone(), Some(2), p.next_token.as_deref()).unwrap();
        assert_eq!(p.items, vec![2, 3]);
        let p = paginate(items.clone(), Some(2), p.next_token.as_deref()).unwrap();
        assert_eq!((p.items, p.next_token), (vec![4], None));
        assert!(paginate(items.clone(), Some(0), None).is_err());
        assert!(paginate(items.clone(), Some(101), None).is_err());
        assert!(paginate(items, None, Some("garbage")).is_err());
    }

    #[test]
    fn statuses_keep_their_eks_spelling() {
        assert_eq!(ClusterStatus::parse("PENDING"), Some(ClusterStatus::Pending));
        assert_eq!(ClusterStatus::Updating.as_str(), "UPDATING");
        assert_eq!(UpdateStatus::InProgress.to_string(), "InProgress");
        assert_eq!(
            serde_json::to_value(UpdateType::VersionRollback).unwrap(),
            "VersionRollback"
        );
        assert_eq!(NodegroupStatus::from_text("DEGRADED"), NodegroupStatus::Degraded);
        assert_eq!(NodegroupStatus::from_text("WEIRD").as_str(), "WEIRD");
        assert_eq!(AddonStatus::from_text("UPDATE_FAILED"), AddonStatus::UpdateFailed);
        assert_eq!(VersionStatus::parse("NOPE"), None);
        assert_eq!(
            InsightCategory::parse("ROLLBACK_READINESS").map(|c| c.as_str()),
            Some("ROLLBACK_READINESS")
        );
    }
}
