//! The HTTP server and the [`Emulator`] handle.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Request, State as AxState};
use axum::http::{HeaderName, HeaderValue, Method};
use axum::response::Response;
use axum::Router;
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::cloudwatch::Alarms;
use crate::error::ApiError;
use crate::faults::{DenyRule, Durations, DurationsPatch, FailNextUpdate, Faults, FaultsPatch, SetHealth};
use crate::model::{State, StateInit};
use crate::relay::{RelayConfig, RelayConfigPatch};
use crate::responses::{error_response, json_response};
use crate::seed::{Seed, SeedError};
use crate::shared::{Shared, Startup};
use crate::stats::{ClusterStats, Stats};
use crate::util::{now_secs, percent_decode};

const MAX_BODY: usize = 16 * 1024 * 1024;

/// How to start an [`Emulator`]. `Default` gives the CLI defaults (127.0.0.1:4599,
/// account 123456789012, region us-east-1, 60 s updates, no faults, no relay target).
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Address to bind, "127.0.0.1" by default.
    pub host: String,
    /// Port; 0 picks a free one (see [`Emulator::url`]).
    pub port: u16,
    /// Account id in ARNs.
    pub account_id: String,
    /// Region in ARNs and endpoints.
    pub region: String,
    /// A seed applied at start and again at every reset.
    pub seed: Option<Seed>,
    /// Update durations.
    pub durations: Durations,
    /// Faults in force at start and after a reset.
    pub faults: Faults,
    /// Lambda relay settings.
    pub relay: RelayConfig,
    /// Seed of the random numbers behind the fault rates (None: from the clock).
    pub rng_seed: Option<u64>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            host: "127.0.0.1".into(),
            port: 4599,
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
            seed: None,
            durations: Durations::default(),
            faults: Faults::default(),
            relay: RelayConfig::default(),
            rng_seed: None,
        }
    }
}

/// Why the emulator could not start.
#[derive(Debug)]
pub enum StartError {
    /// The port is taken.
    PortInUse {
        /// The port asked for.
        port: u16,
    },
    /// Binding failed for another reason.
    Bind {
        /// host:port asked for.
        addr: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The seed could not be applied.
    Seed(SeedError),
    /// A setting is out of range.
    Config(String),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::PortInUse { port } => {
                write!(f, "port {port} is already in use; pass --port or set EKS_EMULATOR_PORT")
            }
            StartError::Bind { addr, source } => write!(f, "cannot listen on {addr}: {source}"),
            StartError::Seed(e) => write!(f, "{e}"),
            StartError::Config(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for StartError {}

/// A running emulator. Dropping it stops the server too; [`Emulator::shutdown`] waits
/// for that.
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Emulator {
    /// Binds the port, applies the seed and serves in the background on the current
    /// tokio runtime.
    pub async fn start(config: EmulatorConfig) -> Result<Emulator, StartError> {
        config.faults.validate().map_err(StartError::Config)?;
        config.relay.validate().map_err(StartError::Config)?;
        let init = StateInit {
            account_id: config.account_id.clone(),
            region: config.region.clone(),
            durations: config.durations,
            faults: config.faults.clone(),
            rng_seed: config.rng_seed,
        };
        let mut state = State::new(&init);
        if let Some(seed) = &config.seed {
            Alarms::check_seed(&seed.alarms).map_err(StartError::Seed)?;
            // This account and region's clusters here; the others' in Shared::new.
            let (own, parts) = crate::accounts::split(seed, &state.location());
            state.apply_seed(&own, now_secs()).map_err(StartError::Seed)?;
            for (_, part) in &parts {
                let mut scratch = State::new(&init);
                scratch.apply_seed(part, now_secs()).map_err(StartError::Seed)?;
            }
        }
        let host = config.host.trim_start_matches('[').trim_end_matches(']');
        let bind = format!("{}:{}", host, config.port);
        let listener = match tokio::net::TcpListener::bind((host, config.port)).await {
            Ok(l) => l,
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                return Err(StartError::PortInUse { port: config.port })
            }
            Err(e) => return Err(StartError::Bind { addr: bind, source: e }),
        };
        let addr = listener.local_addr().map_err(|e| StartError::Bind {
            addr: bind.clone(),
            source: e,
        })?;
        let startup = Startup {
            init,
            seed: config.seed.clone(),
            relay: config.relay.clone(),
        };
        let shared = Arc::new(Shared::new(state, startup));
        let app = Router::new().fallback(handle).with_state(shared.clone());
        // EventBridge Scheduler's schedules fire by the emulator's clock.
        let firing = Arc::downgrade(&shared);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let Some(shared) = firing.upgrade() else { break };
                shared.fire_due_schedules().await;
            }
        });
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = rx.await;
            });
            if let Err(e) = serve.await {
                tracing::error!("server error: {e}");
            }
        });
        Ok(Emulator {
            addr,
            shared,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Base URL, e.g. "http://127.0.0.1:4599"; use it as the EKS (and Lambda) endpoint.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Applies a seed document (clusters with the same name are replaced).
    pub fn seed(&self, seed: &Seed) -> Result<(), SeedError> {
        self.shared.seed(seed)
    }

    /// Parses and applies a seed document given as JSON text.
    pub fn seed_json(&self, json: &str) -> Result<(), SeedError> {
        self.shared.seed(&Seed::from_json(json)?)
    }

    /// Back to the start: no clusters but the startup seed's, startup faults, durations
    /// and relay settings, stats zeroed.
    pub fn reset(&self) {
        self.shared.reset(true)
    }

    /// Like [`Emulator::reset`] but without re-applying the startup seed.
    pub fn clear(&self) {
        self.shared.reset(false)
    }

    /// The faults in force.
    pub fn faults(&self) -> Faults {
        self.shared.faults()
    }

    /// Changes some faults; returns the faults now in force.
    pub fn set_faults(&self, patch: FaultsPatch) -> Result<Faults, String> {
        self.shared.set_faults(&patch)
    }

    /// Makes the next matching update end Failed with the rule's errors.
    pub fn fail_next_update(&self, rule: FailNextUpdate) -> Result<(), String> {
        self.shared.fail_next_update(rule).map(|_| ())
    }

    /// Makes `operation` (e.g. "UpdateClusterVersion") answer HTTP 403
    /// AccessDeniedException, on `cluster` only if given, until [`Emulator::allow_all`] or
    /// a reset. Refuses an operation name the emulator does not serve.
    pub fn deny(&self, operation: &str, cluster: Option<&str>) -> Result<(), String> {
        self.shared.deny(DenyRule::new(operation, cluster)).map(|_| ())
    }

    /// Lifts every [`Emulator::deny`].
    pub fn allow_all(&self) {
        self.shared.allow_all();
    }

    /// Sets the `health.issues` of a cluster, node group or add-on (and optionally the
    /// node group's or add-on's status, e.g. DEGRADED). Refuses unknown resources, issue
    /// codes outside the model's enum for the resource, and unknown statuses.
    pub fn set_health(&self, health: SetHealth) -> Result<(), String> {
        self.shared.set_health(&health).map(|_| ()).map_err(|e| e.message)
    }

    /// Adds (blocking = true) or resolves (false) an ERROR insight of category
    /// UPGRADE_READINESS for `version` (default: the cluster's next minor), so that
    /// UpdateClusterVersion to it answers InvalidStateException unless force=true.
    /// Returns the version concerned.
    pub fn set_blocking_insights(
        &self,
        cluster: &str,
        version: Option<&str>,
        blocking: bool,
    ) -> Result<String, String> {
        self.shared.set_blocking_insights(cluster, version, blocking)
    }

    /// Adds (blocking = true) or resolves (false) an ERROR insight of category
    /// ROLLBACK_READINESS for the cluster's previous minor, so that a rollback to it
    /// (UpdateClusterVersion) answers InvalidStateException unless force=true. Returns the
    /// version concerned.
    pub fn set_rollback_blocking_insights(&self, cluster: &str, blocking: bool) -> Result<String, String> {
        self.shared.set_rollback_blocking_insights(cluster, None, blocking)
    }

    /// Moves the emulator's clock `secs` seconds forward (creation and update times, the
    /// 7-day rollback window, insight and alarm timestamps all read it); a reset puts it
    /// back. Updates that end within the jump complete.
    pub fn advance_clock(&self, secs: u64) {
        self.shared.advance_clock(secs);
    }

    /// The emulator's now, epoch seconds (the wall clock plus [`Emulator::advance_clock`]s).
    pub fn now(&self) -> f64 {
        self.shared.now()
    }

    /// Sets (creating it if needed) a CloudWatch alarm of the stand-in served on the same
    /// port (`DescribeAlarms`): `state` is OK, ALARM or INSUFFICIENT_DATA; `reason`
    /// becomes its StateReason (a default when None).
    pub fn set_alarm(&self, name: &str, state: &str, reason: Option<&str>) -> Result<(), String> {
        self.shared.set_alarm(name, state, reason).map(|_| ())
    }

    /// Sets (creating it if needed) an alarm of another account and region (where a member
    /// cluster's verification reads it).
    pub fn set_alarm_at(&self, account: &str, region: &str, name: &str, state: &str) -> Result<(), String> {
        let alarms = self.shared.alarms_at(Some(account), Some(region));
        alarms.set(name, state, None, self.shared.now()).map(|_| ())
    }

    /// Sets (creating it if needed) a composite alarm with its AlarmRule.
    pub fn set_composite_alarm(&self, name: &str, rule: &str, state: &str, reason: Option<&str>) -> Result<(), String> {
        self.shared
            .alarms
            .set_kind(name, Some(rule), state, reason, self.shared.now())
            .map(|_| ())
    }

    /// The caller's `cloudwatch:DescribeAlarms` scope, as an alarm-name prefix (the template
    /// grants `alarm:${VerifyAlarmPrefix}*`), or none for `*`: under a prefix, a DescribeAlarms
    /// that asks for composite alarms is denied, as CloudWatch does.
    pub fn set_alarm_read_scope(&self, prefix: Option<&str>) {
        self.shared.alarms.set_read_scope(prefix.map(str::to_string));
    }

    /// The update durations in force.
    pub fn durations(&self) -> Durations {
        self.shared.durations()
    }

    /// Changes update durations (for updates created from now on).
    pub fn set_durations(&self, patch: DurationsPatch) -> Durations {
        self.shared.set_durations(&patch)
    }

    /// Finishes every in-progress update (and pending creation/deletion) now.
    /// Returns the ids of the updates that finished.
    pub fn finish_updates(&self) -> Vec<String> {
        self.shared.finish_updates(None)
    }

    /// Like [`Emulator::finish_updates`] for one cluster.
    pub fn finish_updates_of(&self, cluster: &str) -> Vec<String> {
        self.shared.finish_updates(Some(cluster))
    }

    /// All counters.
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// The counters of one cluster (zeros if never called).
    pub fn cluster_stats(&self, cluster: &str) -> ClusterStats {
        self.stats().clusters.remove(cluster).unwrap_or_default()
    }

    /// The whole state as JSON (what `GET /_emulator/state` answers).
    pub fn state(&self) -> Value {
        self.shared.state_json()
    }

    /// Changes relay settings; returns the settings now in force.
    pub fn set_relay(&self, patch: RelayConfigPatch) -> Result<RelayConfig, String> {
        self.shared.set_relay(&patch)
    }

    /// Drops the next `n` Event invocations (answered 202, never delivered).
    pub fn drop_next_event_invokes(&self, n: u64) {
        self.shared.relay.drop_next(n)
    }

    /// Waits until the relay has no Event invocation queued or in delivery;
    /// false on timeout.
    pub async fn wait_relay_idle(&self, timeout: Duration) -> bool {
        self.shared.relay.wait_idle(timeout).await
    }

    /// Stops serving and waits (up to 5 s) for open connections to finish.
    pub async fn shutdown(mut self) {
        self.stop_now();
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task).await.is_err() {
                abort.abort();
            }
        }
    }

    fn stop_now(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.shared.relay.shutdown();
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop_now();
    }
}

fn segments(path: &str) -> (Vec<String>, Vec<String>) {
    let raw: Vec<String> = path.split('/').filter(|s| !s.is_empty()).map(str::to_string).collect();
    let decoded = raw.iter().map(|s| percent_decode(s, false)).collect();
    (raw, decoded)
}

async fn handle(AxState(shared): AxState<Arc<Shared>>, req: Request) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let request_id = uuid::Uuid::new_v4().to_string();
    let (mut resp, op) = dispatch(&shared, req, &request_id).await;
    let h = resp.headers_mut();
    if !h.contains_key("x-amzn-requestid") {
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            h.insert(HeaderName::from_static("x-amzn-requestid"), v);
        }
    }
    let status = resp.status().as_u16();
    let error = resp
        .headers()
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::info!(
        "{method} {path} {status} {op}{}{} {}ms",
        if error.is_empty() { "" } else { " " },
        error,
        started.elapsed().as_millis()
    );
    resp
}

/// Sends a request to the admin API, the Lambda relay, the CloudWatch stand-in or EKS;
/// returns the answer and the operation's name for the log.
async fn dispatch(shared: &Arc<Shared>, req: Request, request_id: &str) -> (Response, &'static str) {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let (parts, body) = req.into_parts();
    let (raw_segs, segs) = segments(&path);
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(e) => {
            let e = ApiError::serialization(format!("Cannot read request body: {e}"));
            return (error_response(&e), "-");
        }
    };
    if segs.first().map(String::as_str) == Some("_emulator") {
        return (crate::admin::handle(shared, &method, &segs[1..], &bytes).await, "admin");
    }
    if let (&Method::POST, ["2015-03-31", "functions", _, "invocations"]) =
        (&method, segs.iter().map(String::as_str).collect::<Vec<_>>().as_slice())
    {
        let r = crate::relay::http::handle(
            &shared.relay,
            &segs[2],
            &raw_segs[2],
            query.as_deref(),
            &parts.headers,
            bytes,
            request_id,
        )
        .await;
        return (r, "Invoke");
    }
    if crate::scheduler::wire::recognize(&segs) {
        return crate::scheduler::wire::handle(shared, &method, &segs, query.as_deref(), &bytes);
    }
    if method == Method::POST && path == "/" && crate::sts::recognize(&parts.headers, &bytes) {
        return crate::sts::handle(&shared.sts, &parts.headers, &bytes, request_id, shared.now());
    }
    let signer = crate::sts::signer(&parts.headers);
    if let Some(call) = crate::cloudwatch::recognize(&method, &path, &parts.headers, &bytes) {
        let alarms = shared.alarms_for(signer.as_ref());
        let alarms = alarms.as_deref().map_err(Clone::clone);
        return crate::cloudwatch::handle(alarms, &call, &bytes, request_id);
    }
    let state = match shared.state_for(signer.as_ref()) {
        Ok(state) => state,
        Err(e) => return (error_response(&e), "-"),
    };
    let a = crate::eks::handle(shared, &state, &method, &segs, query.as_deref(), &bytes).await;
    if a.result.is_ok() && a.op.starts_with("Update") {
        shared.sts.count_change(signer.as_ref());
    }
    let r = match &a.result {
        Ok(v) => json_response(200, v),
        Err(e) => error_response(e),
    };
    (r, a.op)
}
