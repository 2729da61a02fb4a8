//! Several accounts and regions: EKS's state in each (account, region) besides the emulator's
//! own, which stays in [`crate::shared::Shared::state`]. A request is served by the state of
//! the account of its credentials (STS sessions name it; any other key is the emulator's own
//! account) and the region of its signature. A seed's clusters carry `account` and `region`
//! when they live elsewhere, and so do its alarms (the CloudWatch stand-in's, per location too).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::cloudwatch::Alarms;
use crate::model::{State, StateInit};
use crate::seed::{Seed, SeedError};
use crate::stats::Stats;

/// (account, region).
pub(crate) type Location = (String, String);

/// The states of the other accounts and regions, made when first seeded or called.
pub(crate) struct Members {
    init: StateInit,
    states: Mutex<BTreeMap<Location, Arc<Mutex<State>>>>,
    alarms: Mutex<BTreeMap<Location, Arc<Alarms>>>,
}

impl Members {
    pub(crate) fn new(init: StateInit) -> Self {
        Self {
            init,
            states: Mutex::default(),
            alarms: Mutex::default(),
        }
    }

    /// The alarms at `at`: none when nothing was seeded or set there.
    pub(crate) fn alarms(&self, at: &Location) -> Arc<Alarms> {
        let mut alarms = self.alarms.lock().unwrap();
        alarms
            .entry(at.clone())
            .or_insert_with(|| Arc::new(Alarms::new(&at.0, &at.1)))
            .clone()
    }

    /// The state at `at`: empty (no clusters) when nothing was seeded there.
    pub(crate) fn get(&self, at: &Location) -> Arc<Mutex<State>> {
        let mut states = self.states.lock().unwrap();
        states
            .entry(at.clone())
            .or_insert_with(|| {
                let init = StateInit {
                    account_id: at.0.clone(),
                    region: at.1.clone(),
                    ..self.init.clone()
                };
                Arc::new(Mutex::new(State::new(&init)))
            })
            .clone()
    }

    /// Seeds each location's part (see [`split`]); all or nothing is checked by the caller,
    /// which seeds a scratch copy first.
    pub(crate) fn seed(&self, parts: &[(Location, Seed)], now: f64) -> Result<(), SeedError> {
        for (at, seed) in parts {
            let state = self.get(at);
            let mut st = state.lock().unwrap();
            st.advance(now);
            st.apply_seed(seed, now)?;
            self.alarms(at).apply_seed(&seed.alarms, now)?;
        }
        Ok(())
    }

    pub(crate) fn clear(&self) {
        self.states.lock().unwrap().clear();
        self.alarms.lock().unwrap().clear();
    }

    /// Every member state, in order.
    pub(crate) fn all(&self) -> Vec<(Location, Arc<Mutex<State>>)> {
        let states = self.states.lock().unwrap();
        states.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

/// Adds what another account and region's EKS served: its requests to the totals, its
/// clusters under their ARNs; the peak is the sum of each location's peaks (an upper bound).
pub(crate) fn add_member_stats(stats: &mut Stats, account: &str, region: &str, st: &mut State, now: f64) {
    let r = &st.requests;
    stats.requests.total += r.total;
    for (op, n) in &r.by_operation {
        *stats.requests.by_operation.entry(op.clone()).or_default() += n;
    }
    for (code, n) in &r.errors_by_code {
        *stats.requests.errors_by_code.entry(code.clone()).or_default() += n;
    }
    stats.requests.throttled += r.throttled;
    stats.requests.server_errors += r.server_errors;
    stats.requests.lost_responses += r.lost_responses;
    stats.requests.denied += r.denied;
    stats
        .requests_by_location
        .insert(format!("{account}/{region}"), r.total);
    stats.clusters_updating_now += st.clusters_updating(now);
    stats.peak_clusters_updating += st.peak_clusters_updating();
    for (name, c) in &st.cluster_stats {
        let partition = if region.starts_with("cn-") {
            "aws-cn"
        } else if region.starts_with("us-gov-") {
            "aws-us-gov"
        } else {
            "aws"
        };
        stats.clusters.insert(
            format!("arn:{partition}:eks:{region}:{account}:cluster/{name}"),
            c.clone(),
        );
    }
}

/// A seed cut by location: the part for `home` (clusters and alarms with no account and
/// region, or home's), and one part per other location, each with that location's account,
/// region, clusters and alarms, and the seed's tables.
pub(crate) fn split(seed: &Seed, home: &Location) -> (Seed, Vec<(Location, Seed)>) {
    let home = (
        seed.account_id.clone().unwrap_or_else(|| home.0.clone()),
        seed.region.clone().unwrap_or_else(|| home.1.clone()),
    );
    let mut parts: BTreeMap<Location, Seed> = BTreeMap::new();
    let mut own = Seed {
        clusters: Vec::new(),
        alarms: Vec::new(),
        ..seed.clone()
    };
    let located = |account: &Option<String>, region: &Option<String>| -> Location {
        (
            account.clone().unwrap_or_else(|| home.0.clone()),
            region.clone().unwrap_or_else(|| home.1.clone()),
        )
    };
    let blank = |at: &Location| Seed {
        account_id: Some(at.0.clone()),
        region: Some(at.1.clone()),
        clusters: Vec::new(),
        alarms: Vec::new(),
        accounts: Vec::new(),
        ..seed.clone()
    };
    for cluster in &seed.clusters {
        let at = located(&cluster.account, &cluster.region);
        if at == home {
            own.clusters.push(cluster.clone());
        } else {
            parts
                .entry(at.clone())
                .or_insert_with(|| blank(&at))
                .clusters
                .push(cluster.clone());
        }
    }
    for alarm in &seed.alarms {
        let at = located(&alarm.account, &alarm.region);
        if at == home {
            own.alarms.push(alarm.clone());
        } else {
            parts
                .entry(at.clone())
                .or_insert_with(|| blank(&at))
                .alarms
                .push(alarm.clone());
        }
    }
    (own, parts.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_is_cut_by_account_and_region() {
        let seed: Seed = serde_json::from_value(serde_json::json!({
            "clusters": [
                {"name": "web", "version": "1.30"},
                {"name": "web", "version": "1.30", "account": "210987654321"},
                {"name": "web", "version": "1.30", "account": "210987654321", "region": "eu-west-1"},
                {"name": "api", "version": "1.30", "account": "123456789012", "region": "us-east-1"}
            ]
        }))
        .unwrap();
        let (own, parts) = split(&seed, &("123456789012".into(), "us-east-1".into()));
        let names: Vec<&str> = own.clusters.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["web", "api"]);
        let at: Vec<(String, usize)> = parts
            .iter()
            .map(|(l, s)| (format!("{}/{}", l.0, l.1), s.clusters.len()))
            .collect();
        assert_eq!(
            at,
            [
                ("210987654321/eu-west-1".into(), 1),
                ("210987654321/us-east-1".into(), 1)
            ]
        );
        assert_eq!(parts[0].1.account_id.as_deref(), Some("210987654321"));
    }
}
