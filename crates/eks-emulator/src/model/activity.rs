//! How many clusters are updating: now, and at most at one moment since the state began
//! (`clustersUpdatingNow`, `peakClustersUpdating` in the stats).
//!
//! A cluster is updating at `t` when one of its updates (of any kind: control plane, node
//! group, add-on) is in progress at `t`, i.e. `createdAt <= t < endsAt`: the model
//! completes an update once the clock reaches its `endsAt` (Successful or Failed), and
//! finishing or cancelling one early sets `endsAt` to that moment, so the interval is
//! always the time it read InProgress. An update that ends the moment it starts
//! (duration 0) never counts.
//!
//! The number of updating clusters only goes up when an update starts, so its maximum is
//! reached at the creation of some update: the peak is taken there, from the model itself,
//! and needs no request at the moment of the peak. An `endsAt` never moves later, so a
//! cluster found idle stays idle until its next update; the clusters seen updating are
//! kept in a set (pruned whenever it is counted), which makes a count cost the updates of
//! those clusters only, not of all clusters.

use super::state::State;

use super::data::cluster::Cluster;

impl Cluster {
    /// Whether one of its updates is in progress at `now` (whether or not the model has
    /// completed the due ones yet).
    fn updating_at(&self, now: f64) -> bool {
        self.updates
            .iter()
            .any(|u| u.in_progress() && u.created_at <= now && now < u.ends_at)
    }
}

impl State {
    /// Notes that an update of `cluster` started at `now` and raises the peak to the
    /// clusters updating at that moment.
    pub(super) fn note_update_started(&mut self, cluster: &str, now: f64) {
        self.activity.maybe_updating.insert(cluster.to_string());
        let n = self.clusters_updating(now);
        self.activity.peak = self.activity.peak.max(n);
    }

    /// The clusters with an update in progress at `now`.
    pub(crate) fn clusters_updating(&mut self, now: f64) -> u64 {
        let clusters = &self.clusters;
        self.activity
            .maybe_updating
            .retain(|name| clusters.get(name).is_some_and(|c| c.updating_at(now)));
        self.activity.maybe_updating.len() as u64
    }

    /// The most clusters that had an update in progress at one moment.
    pub(crate) fn peak_clusters_updating(&self) -> u64 {
        self.activity.peak
    }
}

#[cfg(test)]
mod tests {
    use super::super::clusters::UpdateClusterVersionReq;
    use super::super::state::test_state;
    use crate::seed::Seed;

    fn upgrade(s: &mut super::State, cluster: &str, now: f64) -> String {
        let req: UpdateClusterVersionReq = serde_json::from_str(r#"{"version":"1.31"}"#).unwrap();
        s.advance(now);
        s.update_cluster_version(cluster, req, now).unwrap().id
    }

    #[test]
    fn peak_counts_clusters_updating_at_one_moment() {
        // Updates take 1 s in the test state.
        let mut s = test_state();
        let seed = r#"{"clusters":[{"name":"a","version":"1.30"},{"name":"b","version":"1.30"},
                                   {"name":"c","version":"1.30"}]}"#;
        s.apply_seed(&Seed::from_json(seed).unwrap(), 100.0).unwrap();
        upgrade(&mut s, "a", 100.0); // [100, 101)
        upgrade(&mut s, "b", 100.5); // [100.5, 101.5)
        assert_eq!((s.clusters_updating(100.7), s.peak_clusters_updating()), (2, 2));
        upgrade(&mut s, "c", 101.0); // [101, 102): a ended at 101
        assert_eq!((s.clusters_updating(101.0), s.peak_clusters_updating()), (2, 2));
        // Not yet completed by the model, but over by the clock.
        assert_eq!(s.clusters_updating(101.5), 1);
        // Finishing early ends the interval then.
        s.finish_all(Some("c"), 101.6);
        assert_eq!(s.clusters_updating(101.6), 0);
        assert_eq!(s.peak_clusters_updating(), 2);
    }
}
