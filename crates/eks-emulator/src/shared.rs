//! The state shared by the HTTP handlers and the [`crate::Emulator`] handle: the EKS model
//! under its lock, the emulator's clock, the Lambda relay, the CloudWatch alarms and the
//! EventBridge Scheduler's schedules, and the admin operations on them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::Value;

use crate::accounts::{split, Members};
use crate::cloudwatch::{AlarmView, Alarms, CwError};
use crate::error::ApiError;
use crate::faults::{DenyRule, Durations, DurationsPatch, FailNextUpdate, Faults, FaultsPatch, SetHealth};
use crate::model::{State, StateInit};
use crate::relay::{Relay, RelayConfig, RelayConfigPatch};
use crate::scheduler::Schedules;
use crate::seed::{HealthIssue, Seed, SeedError};
use crate::stats::{ScheduleStats, Stats};
use crate::sts::{Signer, Sts};
use crate::util::{now_secs, round_ms};

/// The emulator's notion of now: the wall clock plus an offset that the admin API moves
/// forward (`POST /_emulator/clock`), so that a test can let days pass (the 7-day rollback
/// window) in no time. Every time the model reads (creation times, update ends, the
/// rollback window, insight refreshes, alarm timestamps) comes from here.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    offset_ms: AtomicU64,
}

/// `GET /_emulator/clock`.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ClockView {
    /// Seconds added to the wall clock.
    pub offset_seconds: f64,
    /// The emulator's now, epoch seconds.
    pub now: f64,
}

impl Clock {
    pub(crate) fn now(&self) -> f64 {
        round_ms(now_secs() + self.offset_secs())
    }

    fn offset_secs(&self) -> f64 {
        self.offset_ms.load(Ordering::SeqCst) as f64 / 1000.0
    }

    fn advance(&self, secs: u64) {
        self.offset_ms.fetch_add(secs.saturating_mul(1000), Ordering::SeqCst);
    }

    fn reset(&self) {
        self.offset_ms.store(0, Ordering::SeqCst);
    }

    pub(crate) fn view(&self) -> ClockView {
        ClockView {
            offset_seconds: self.offset_secs(),
            now: self.now(),
        }
    }
}

pub(crate) struct Startup {
    pub init: StateInit,
    pub seed: Option<Seed>,
    pub relay: RelayConfig,
}

/// State shared by the HTTP handlers and the [`crate::Emulator`] handle.
pub(crate) struct Shared {
    /// EKS in the emulator's own account and region.
    pub state: Arc<Mutex<State>>,
    /// EKS in other accounts and regions (hub and spoke).
    pub members: Members,
    /// STS: the accounts' roles, and the sessions given out.
    pub sts: Sts,
    pub relay: Relay,
    pub clock: Clock,
    /// The CloudWatch stand-in's alarms in the emulator's own account and region (not part of
    /// the EKS model); other locations' are in [`Members`].
    pub alarms: Arc<Alarms>,
    /// The EventBridge Scheduler stand-in's schedules (not part of the EKS model).
    pub schedules: Schedules,
    pub startup: Startup,
}

impl Shared {
    pub(crate) fn new(state: State, startup: Startup) -> Shared {
        let alarms = Arc::new(Alarms::new(&startup.init.account_id, &startup.init.region));
        let schedules = Schedules::new(&startup.init.account_id, &startup.init.region);
        let members = Members::new(startup.init.clone());
        let sts = Sts::new(&startup.init.account_id);
        if let Some(seed) = &startup.seed {
            // Validated before the state was seeded.
            let (own, parts) = split(seed, &state.location());
            let _ = alarms.apply_seed(&own.alarms, now_secs());
            let _ = members.seed(&parts, now_secs());
            sts.apply_seed(&seed.accounts);
        }
        Shared {
            state: Arc::new(Mutex::new(state)),
            members,
            sts,
            relay: Relay::new(startup.relay.clone()),
            clock: Clock::default(),
            alarms,
            schedules,
            startup,
        }
    }

    /// The emulator's now (wall clock plus the admin offset).
    pub(crate) fn now(&self) -> f64 {
        self.clock.now()
    }

    fn fresh_state(&self, apply_seed: bool) -> State {
        let mut st = State::new(&self.startup.init);
        self.members.clear();
        self.sts.clear();
        if apply_seed {
            if let Some(seed) = &self.startup.seed {
                // Validated at start.
                let (own, parts) = split(seed, &st.location());
                let _ = st.apply_seed(&own, self.now());
                let _ = self.members.seed(&parts, self.now());
                self.sts.apply_seed(&seed.accounts);
            }
        }
        st
    }

    /// The state that serves a request signed by `signer`: the account of its credentials
    /// and the region of its signature; or EKS's refusal of those credentials.
    pub(crate) fn state_for(&self, signer: Option<&Signer>) -> Result<Arc<Mutex<State>>, ApiError> {
        let home = self.state.lock().unwrap().location();
        let account = self.sts.account_of(signer, self.now())?;
        let at = (
            account.unwrap_or_else(|| home.0.clone()),
            signer.and_then(|s| s.region.clone()).unwrap_or_else(|| home.1.clone()),
        );
        Ok(if at == home {
            self.state.clone()
        } else {
            self.members.get(&at)
        })
    }

    /// The alarms that serve a CloudWatch request signed by `signer` (as [`Self::state_for`]
    /// picks EKS's state), read under the same scope as the emulator's own; or CloudWatch's
    /// refusal of those credentials.
    pub(crate) fn alarms_for(&self, signer: Option<&Signer>) -> Result<Arc<Alarms>, CwError> {
        let home = self.state.lock().unwrap().location();
        let account = self.sts.account_of(signer, self.now()).map_err(|e| CwError {
            status: e.status,
            // CloudWatch (a query service) names these as STS does.
            code: if e.code == "ExpiredTokenException" {
                "ExpiredToken"
            } else {
                "InvalidClientTokenId"
            },
            message: e.message,
        })?;
        let at = (
            account.unwrap_or_else(|| home.0.clone()),
            signer.and_then(|s| s.region.clone()).unwrap_or_else(|| home.1.clone()),
        );
        if at == home {
            return Ok(self.alarms.clone());
        }
        let alarms = self.members.alarms(&at);
        alarms.set_read_scope(self.alarms.read_scope());
        Ok(alarms)
    }

    /// The alarms of `account` and `region` (each the emulator's own when not given).
    pub(crate) fn alarms_at(&self, account: Option<&str>, region: Option<&str>) -> Arc<Alarms> {
        let home = self.state.lock().unwrap().location();
        let at = (
            account.map_or_else(|| home.0.clone(), str::to_string),
            region.map_or_else(|| home.1.clone(), str::to_string),
        );
        if at == home {
            self.alarms.clone()
        } else {
            self.members.alarms(&at)
        }
    }

    pub(crate) fn reset(&self, apply_startup_seed: bool) {
        self.clock.reset();
        let fresh = self.fresh_state(apply_startup_seed);
        *self.state.lock().unwrap() = fresh;
        self.alarms.clear();
        self.schedules.clear();
        if let (true, Some(seed)) = (apply_startup_seed, &self.startup.seed) {
            let (own, _) = split(seed, &self.state.lock().unwrap().location());
            let _ = self.alarms.apply_seed(&own.alarms, self.now());
        }
        self.relay.set_config(self.startup.relay.clone());
        self.relay.reset_counters();
    }

    pub(crate) fn seed(&self, seed: &Seed) -> Result<(), SeedError> {
        Alarms::check_seed(&seed.alarms)?;
        let mut st = self.state.lock().unwrap();
        let now = self.now();
        st.advance(now);
        let (own, parts) = split(seed, &st.location());
        st.apply_seed(&own, now)?;
        self.members.seed(&parts, now)?;
        self.sts.apply_seed(&seed.accounts);
        self.alarms.apply_seed(&own.alarms, now)
    }

    pub(crate) fn faults(&self) -> Faults {
        self.state.lock().unwrap().faults.clone()
    }

    pub(crate) fn set_faults(&self, patch: &FaultsPatch) -> Result<Faults, String> {
        let mut st = self.state.lock().unwrap();
        let mut f = st.faults.clone();
        f.apply(patch);
        f.validate()?;
        st.faults = f.clone();
        Ok(f)
    }

    pub(crate) fn fail_next_update(&self, rule: FailNextUpdate) -> Result<Faults, String> {
        rule.validate()?;
        let mut st = self.state.lock().unwrap();
        st.faults.fail_next_updates.push(rule);
        Ok(st.faults.clone())
    }

    pub(crate) fn deny(&self, rule: DenyRule) -> Result<Faults, String> {
        rule.validate()?;
        let mut st = self.state.lock().unwrap();
        if !st.faults.denied_operations.contains(&rule) {
            st.faults.denied_operations.push(rule);
        }
        Ok(st.faults.clone())
    }

    pub(crate) fn allow_all(&self) -> Faults {
        let mut st = self.state.lock().unwrap();
        st.faults.denied_operations.clear();
        st.faults.clone()
    }

    pub(crate) fn set_health(&self, h: &SetHealth) -> Result<(String, Vec<HealthIssue>), ApiError> {
        let mut st = self.state.lock().unwrap();
        st.advance(self.now());
        st.set_health(h)
    }

    pub(crate) fn set_blocking_insights(
        &self,
        cluster: &str,
        version: Option<&str>,
        blocking: bool,
    ) -> Result<String, String> {
        let mut st = self.state.lock().unwrap();
        let now = self.now();
        st.advance(now);
        st.set_blocking_insight(cluster, version, blocking, now)
    }

    pub(crate) fn set_rollback_blocking_insights(
        &self,
        cluster: &str,
        version: Option<&str>,
        blocking: bool,
    ) -> Result<String, String> {
        let mut st = self.state.lock().unwrap();
        let now = self.now();
        st.advance(now);
        st.set_rollback_blocking_insight(cluster, version, blocking, now)
    }

    /// Moves the emulator's clock `secs` seconds forward, then applies what became due.
    pub(crate) fn advance_clock(&self, secs: u64) -> ClockView {
        let mut st = self.state.lock().unwrap();
        self.clock.advance(secs);
        st.advance(self.now());
        self.clock.view()
    }

    pub(crate) fn durations(&self) -> Durations {
        self.state.lock().unwrap().durations
    }

    pub(crate) fn set_durations(&self, patch: &DurationsPatch) -> Durations {
        let mut st = self.state.lock().unwrap();
        st.durations.apply(patch);
        st.durations
    }

    pub(crate) fn finish_updates(&self, cluster: Option<&str>) -> Vec<String> {
        self.state.lock().unwrap().finish_all(cluster, self.now())
    }

    pub(crate) fn set_alarm(&self, name: &str, state: &str, reason: Option<&str>) -> Result<AlarmView, String> {
        self.alarms.set(name, state, reason, self.now())
    }

    pub(crate) fn stats(&self) -> Stats {
        let mut st = self.state.lock().unwrap();
        let now = self.now();
        let mut stats = Stats {
            requests: st.requests.clone(),
            clusters_updating_now: st.clusters_updating(now),
            peak_clusters_updating: st.peak_clusters_updating(),
            clusters: st.cluster_stats.clone(),
            assume_role_by_account: self.sts.assumed(),
            changes_by_session: self.sts.changes(),
            requests_by_location: Default::default(),
            relay: self.relay.stats(),
            schedules: {
                let (waiting, fired) = self.schedules.counts();
                ScheduleStats {
                    waiting: waiting as u64,
                    fired,
                }
            },
        };
        drop(st);
        for ((account, region), member) in self.members.all() {
            let mut m = member.lock().unwrap();
            crate::accounts::add_member_stats(&mut stats, &account, &region, &mut m, now);
        }
        stats
    }

    /// Invokes, through the relay and asynchronously, the target of every schedule that came due
    /// by the emulator's clock (the server looks every 100 ms).
    pub(crate) async fn fire_due_schedules(&self) {
        for due in self.schedules.take_due(self.now()) {
            // arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]
            let function = due.target.split(':').nth(6).unwrap_or(due.target.as_str()).to_owned();
            let mut headers = axum::http::HeaderMap::new();
            headers.insert("x-amz-invocation-type", axum::http::HeaderValue::from_static("Event"));
            let request_id = uuid::Uuid::new_v4().to_string();
            let body = bytes::Bytes::from(due.input);
            let answer = self
                .relay
                .invoke(&function, &function, None, &headers, body, &request_id)
                .await;
            if let crate::relay::InvokeAnswer::Error(_, kind, message) = answer {
                tracing::warn!("schedule {} could not invoke {function}: {kind} {message}", due.name);
            }
        }
    }

    pub(crate) fn state_json(&self) -> Value {
        let mut st = self.state.lock().unwrap();
        let now = self.now();
        st.advance(now);
        let mut v = crate::eks::render::state(&st.dump(now));
        v["relay"] = serde_json::to_value(self.relay.config()).unwrap_or_default();
        v
    }

    pub(crate) fn set_relay(&self, patch: &RelayConfigPatch) -> Result<RelayConfig, String> {
        let mut c = self.relay.config();
        c.apply(patch);
        c.validate()?;
        self.relay.set_config(c.clone());
        if let Some(n) = patch.drop_next_events {
            self.relay.drop_next(n);
        }
        Ok(c)
    }
}
