//! The admin API under `/_emulator/` (JSON in, JSON out). Never subject to faults.

use std::sync::Arc;
use std::time::Duration;

use axum::http::Method;
use axum::response::Response;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::faults::{DenyRule, DurationsPatch, FailNextUpdate, FaultsPatch, SetHealth};
use crate::relay::RelayConfigPatch;
use crate::responses::json_response;
use crate::seed::Seed;
use crate::shared::Shared;

fn bad_box(status: u16, code: &str, message: impl Into<String>) -> Box<Response> {
    Box::new(bad(status, code, message))
}

fn bad(status: u16, code: &str, message: impl Into<String>) -> Response {
    let mut r = json_response(status, &json!({"message": message.into()}));
    if let Ok(v) = axum::http::HeaderValue::from_str(code) {
        r.headers_mut().insert("x-amzn-errortype", v);
    }
    r
}

fn parse<T: DeserializeOwned + Default>(raw: &Bytes) -> Result<T, Box<Response>> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(raw)
        .map_err(|e| Box::new(bad(400, "SerializationException", format!("invalid JSON body: {e}"))))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ResetReq {
    #[serde(default = "yes")]
    apply_startup_seed: bool,
}

impl Default for ResetReq {
    fn default() -> Self {
        ResetReq {
            apply_startup_seed: true,
        }
    }
}

fn yes() -> bool {
    true
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct BlockingReq {
    cluster: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default = "yes")]
    blocking: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ClockReq {
    advance_seconds: u64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AlarmReq {
    name: String,
    state: String,
    #[serde(default)]
    reason: Option<String>,
    /// A composite alarm's AlarmRule.
    #[serde(default)]
    rule: Option<String>,
    /// Another account's alarm (a member cluster's), with `region`.
    #[serde(default)]
    account: Option<String>,
    #[serde(default)]
    region: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ReadScopeReq {
    /// The caller's DescribeAlarms scope as an alarm-name prefix; null for `*`.
    prefix: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FinishReq {
    #[serde(default)]
    cluster: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DropNextReq {
    count: u64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WaitIdleReq {
    #[serde(default)]
    timeout_ms: Option<u64>,
}

/// Handles `/_emulator/<segs...>`.
pub(crate) async fn handle(shared: &Arc<Shared>, method: &Method, segs: &[String], raw: &Bytes) -> Response {
    match route(shared, method, segs, raw).await {
        Ok(v) => json_response(200, &v),
        Err(r) => *r,
    }
}

async fn route(shared: &Arc<Shared>, method: &Method, segs: &[String], raw: &Bytes) -> Result<Value, Box<Response>> {
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    Ok(match (method.as_str(), s.as_slice()) {
        ("GET", ["health"]) => json!({"status": "ok"}),
        ("GET", ["state"]) => shared.state_json(),
        ("POST", ["reset"]) => {
            let r: ResetReq = parse(raw)?;
            shared.reset(r.apply_startup_seed);
            json!({"reset": true, "appliedStartupSeed": r.apply_startup_seed})
        }
        ("POST", ["seed"]) => seed(shared, raw)?,
        ("GET", ["faults"]) => serde_json::to_value(shared.faults()).unwrap_or_default(),
        ("POST", ["faults"]) => {
            let p: FaultsPatch = parse(raw)?;
            let f = shared
                .set_faults(&p)
                .map_err(|e| bad_box(400, "InvalidParameterException", e))?;
            serde_json::to_value(f).unwrap_or_default()
        }
        ("POST", ["faults", "fail-next-update"]) => {
            let rule: FailNextUpdate = parse(raw)?;
            let f = shared
                .fail_next_update(rule)
                .map_err(|e| bad_box(400, "InvalidParameterException", e))?;
            serde_json::to_value(f).unwrap_or_default()
        }
        ("POST", ["faults", "deny"]) => deny(shared, raw)?,
        ("DELETE", ["faults", "deny"]) => serde_json::to_value(shared.allow_all()).unwrap_or_default(),
        ("POST", ["health"]) => set_health(shared, raw)?,
        ("POST", ["faults", "blocking-insights"]) => {
            let r: BlockingReq = parse(raw)?;
            let v = shared
                .set_blocking_insights(&r.cluster, r.version.as_deref(), r.blocking)
                .map_err(|e| bad_box(404, "ResourceNotFoundException", e))?;
            json!({"cluster": r.cluster, "kubernetesVersion": v, "blocking": r.blocking})
        }
        ("GET", ["durations"]) => serde_json::to_value(shared.durations()).unwrap_or_default(),
        ("POST", ["durations"]) => {
            let p: DurationsPatch = parse(raw)?;
            serde_json::to_value(shared.set_durations(&p)).unwrap_or_default()
        }
        ("POST", ["updates", "finish"]) => {
            let r: FinishReq = parse(raw)?;
            json!({"finished": shared.finish_updates(r.cluster.as_deref())})
        }
        ("GET", ["stats"]) => serde_json::to_value(shared.stats()).unwrap_or_default(),
        ("GET", ["relay"]) => serde_json::to_value(shared.relay.config()).unwrap_or_default(),
        ("POST", ["relay"]) => {
            let p: RelayConfigPatch = parse(raw)?;
            let c = shared
                .set_relay(&p)
                .map_err(|e| bad_box(400, "InvalidParameterException", e))?;
            serde_json::to_value(c).unwrap_or_default()
        }
        ("POST", ["relay", "drop-next"]) => {
            let r: DropNextReq = parse(raw)?;
            shared.relay.drop_next(r.count);
            json!({"dropNextEvents": r.count})
        }
        ("POST", ["relay", "wait-idle"]) => wait_idle(shared, raw).await?,
        _ => return route_more(shared, method, &s, raw),
    })
}

/// The clock, rollback-blocking insights and the CloudWatch stand-in's alarms.
fn route_more(shared: &Arc<Shared>, method: &Method, s: &[&str], raw: &Bytes) -> Result<Value, Box<Response>> {
    Ok(match (method.as_str(), s) {
        ("GET", ["clock"]) => serde_json::to_value(shared.clock.view()).unwrap_or_default(),
        ("POST", ["clock"]) => {
            let r: ClockReq = parse(raw)?;
            serde_json::to_value(shared.advance_clock(r.advance_seconds)).unwrap_or_default()
        }
        ("POST", ["insights", "rollback-blocking"]) => {
            let r: BlockingReq = parse(raw)?;
            let v = shared
                .set_rollback_blocking_insights(&r.cluster, r.version.as_deref(), r.blocking)
                .map_err(|e| bad_box(404, "ResourceNotFoundException", e))?;
            json!({"cluster": r.cluster, "kubernetesVersion": v, "blocking": r.blocking})
        }
        ("GET", ["alarms"]) => json!({"alarms": shared.alarms.list()}),
        ("POST", ["alarms"]) => {
            let r: AlarmReq = parse(raw)?;
            let a = shared
                .alarms_at(r.account.as_deref(), r.region.as_deref())
                .set_kind(&r.name, r.rule.as_deref(), &r.state, r.reason.as_deref(), shared.now())
                .map_err(|e| bad_box(400, "InvalidParameterException", e))?;
            serde_json::to_value(a).unwrap_or_default()
        }
        ("POST", ["alarms", "read-scope"]) => {
            let r: ReadScopeReq = parse(raw)?;
            shared.alarms.set_read_scope(r.prefix.clone());
            json!({"prefix": r.prefix})
        }
        _ => {
            return Err(bad_box(
                404,
                "UnknownOperationException",
                format!("Unknown admin route: {method} /_emulator/{}", s.join("/")),
            ))
        }
    })
}

/// `POST /_emulator/seed`: applies a seed document.
fn seed(shared: &Arc<Shared>, raw: &Bytes) -> Result<Value, Box<Response>> {
    let text = std::str::from_utf8(raw).map_err(|_| bad_box(400, "SerializationException", "body is not UTF-8"))?;
    let seed = Seed::from_json(text).map_err(|e| bad_box(400, "InvalidParameterException", e.0))?;
    shared
        .seed(&seed)
        .map_err(|e| bad_box(400, "InvalidParameterException", e.0))?;
    Ok(json!({"seeded": seed.clusters.iter().map(|c| c.name.clone()).collect::<Vec<_>>()}))
}

/// `POST /_emulator/faults/deny`: denies an operation (on a cluster).
fn deny(shared: &Arc<Shared>, raw: &Bytes) -> Result<Value, Box<Response>> {
    let rule: DenyRule = parse(raw)?;
    let f = shared
        .deny(rule)
        .map_err(|e| bad_box(400, "InvalidParameterException", e))?;
    Ok(serde_json::to_value(f).unwrap_or_default())
}

/// `POST /_emulator/health`: injects health issues (and a status).
fn set_health(shared: &Arc<Shared>, raw: &Bytes) -> Result<Value, Box<Response>> {
    let h: SetHealth = parse(raw)?;
    let (status, issues) = shared
        .set_health(&h)
        .map_err(|e| bad_box(e.status, e.code, e.message))?;
    Ok(json!({
        "cluster": h.cluster,
        "nodegroup": h.nodegroup,
        "addon": h.addon,
        "status": status,
        "health": {"issues": issues},
    }))
}

/// `POST /_emulator/relay/wait-idle`: 200 once the relay is idle, 408 on timeout.
async fn wait_idle(shared: &Arc<Shared>, raw: &Bytes) -> Result<Value, Box<Response>> {
    let r: WaitIdleReq = parse(raw)?;
    let timeout = Duration::from_millis(r.timeout_ms.unwrap_or(10_000));
    let idle = shared.relay.wait_idle(timeout).await;
    let stats = serde_json::to_value(shared.relay.stats()).unwrap_or_default();
    if !idle {
        return Err(Box::new(json_response(408, &json!({"idle": false, "relay": stats}))));
    }
    Ok(json!({"idle": true, "relay": stats}))
}
