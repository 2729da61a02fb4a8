//! The Lambda relay — not part of the EKS emulation. It serves the Lambda Invoke route,
//! `POST /2015-03-31/functions/{name}/invocations`, on the emulator's port so that code
//! under test can self-invoke asynchronously without AWS.
//!
//! `X-Amz-Invocation-Type: Event` is answered 202 at once and delivered in the
//! background to the configured Lambda endpoint (e.g. `cargo lambda watch`): one queue and one
//! worker per function name, which starts them in order of arrival and delivers up to
//! `maxConcurrency` at once (as Lambda runs a function's invocations side by side up to its
//! concurrency), with bounded retries and exponential backoff on connection errors, 429, 5xx
//! and function errors. Anything
//! else (RequestResponse, no header) is proxied synchronously.
//!
//! Settings: [`config`]; counters: [`stats`]; the HTTP answer: [`http`]. EKS faults never
//! apply here.

mod config;
pub(crate) mod http;
mod stats;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use tokio::sync::{mpsc, watch, Notify};
use tokio::task::{JoinHandle, JoinSet};

pub use config::{RelayConfig, RelayConfigPatch};
pub use stats::{DroppedInvocation, RelayFunctionStats, RelayStats};

struct Job {
    function: String,
    path: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
    request_id: String,
}

enum Outcome {
    Delivered,
    Retry(String),
    Fatal(String),
}

struct Inner {
    config: Mutex<RelayConfig>,
    counters: Mutex<RelayStats>,
    queues: Mutex<HashMap<String, mpsc::UnboundedSender<Job>>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
    pending: watch::Sender<u64>,
    /// Woken when a delivery ends, so a worker waiting for room looks again.
    room: Notify,
    client: Client<HttpConnector, Full<Bytes>>,
}

/// The relay; cheap to clone.
#[derive(Clone)]
pub(crate) struct Relay {
    inner: Arc<Inner>,
}

/// What the HTTP layer answers for an invoke.
pub(crate) enum InvokeAnswer {
    Accepted,
    Proxied {
        status: StatusCode,
        headers: Vec<(HeaderName, HeaderValue)>,
        body: Bytes,
    },
    /// (status, x-amzn-ErrorType, message)
    Error(u16, &'static str, String),
}

const PASS_REQUEST_HEADERS: &[&str] = &["content-type", "x-amz-client-context", "x-amz-log-type"];
const PASS_RESPONSE_HEADERS: &[&str] = &[
    "content-type",
    "x-amz-function-error",
    "x-amz-executed-version",
    "x-amz-log-result",
    "x-amzn-requestid",
];

impl Relay {
    pub(crate) fn new(config: RelayConfig) -> Relay {
        let client = Client::builder(TokioExecutor::new()).build_http();
        Relay {
            inner: Arc::new(Inner {
                config: Mutex::new(config),
                counters: Mutex::new(RelayStats::default()),
                queues: Mutex::new(HashMap::new()),
                workers: Mutex::new(Vec::new()),
                pending: watch::channel(0).0,
                room: Notify::new(),
                client,
            }),
        }
    }

    pub(crate) fn config(&self) -> RelayConfig {
        self.inner.config.lock().unwrap().clone()
    }

    pub(crate) fn set_config(&self, c: RelayConfig) {
        *self.inner.config.lock().unwrap() = c;
    }

    pub(crate) fn drop_next(&self, n: u64) {
        self.inner.counters.lock().unwrap().drop_next_events = n;
    }

    pub(crate) fn stats(&self) -> RelayStats {
        let mut s = self.inner.counters.lock().unwrap().clone();
        s.pending = *self.inner.pending.borrow();
        s
    }

    pub(crate) fn reset_counters(&self) {
        let mut c = self.inner.counters.lock().unwrap();
        let in_flight = c.in_flight;
        *c = RelayStats {
            in_flight,
            peak_in_flight: in_flight,
            ..RelayStats::default()
        };
    }

    /// Waits until no Event invocation is queued or being delivered.
    pub(crate) async fn wait_idle(&self, timeout: Duration) -> bool {
        let mut rx = self.inner.pending.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|p| *p == 0))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Stops all workers (queued invocations are abandoned).
    pub(crate) fn shutdown(&self) {
        self.inner.queues.lock().unwrap().clear();
        for w in self.inner.workers.lock().unwrap().drain(..) {
            w.abort();
        }
    }

    fn count(&self, function: &str, f: impl Fn(&mut RelayStats, &mut RelayFunctionStats)) {
        let mut c = self.inner.counters.lock().unwrap();
        let mut per = c.by_function.remove(function).unwrap_or_default();
        f(&mut c, &mut per);
        c.by_function.insert(function.to_string(), per);
    }

    fn record_drop(&self, function: &str, request_id: &str, reason: String, attempts: u32, injected: bool) {
        tracing::warn!(
            function,
            request_id,
            attempts,
            "relay dropped an Event invocation: {reason}"
        );
        self.count(function, |c, f| {
            c.dropped += 1;
            f.dropped += 1;
            if injected {
                c.dropped_injected += 1;
            }
            c.dropped_invocations.push(DroppedInvocation {
                function: function.to_string(),
                request_id: request_id.to_string(),
                reason: reason.clone(),
                attempts,
            });
            if c.dropped_invocations.len() > 100 {
                c.dropped_invocations.remove(0);
            }
        });
    }

    fn not_configured(function: &str) -> InvokeAnswer {
        InvokeAnswer::Error(
            404,
            "ResourceNotFoundException",
            format!("Function not found: {function} (eks-emulator has no --lambda-forward-url to deliver to)"),
        )
    }

    /// Handles one Invoke request. `raw_function` is the path segment as received.
    pub(crate) async fn invoke(
        &self,
        function: &str,
        raw_function: &str,
        query: Option<&str>,
        headers: &HeaderMap,
        body: Bytes,
        request_id: &str,
    ) -> InvokeAnswer {
        let invocation_type = headers
            .get("x-amz-invocation-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("RequestResponse")
            .to_string();
        let path = match query {
            Some(q) if !q.is_empty() => format!("/2015-03-31/functions/{raw_function}/invocations?{q}"),
            _ => format!("/2015-03-31/functions/{raw_function}/invocations"),
        };
        let pass: Vec<(HeaderName, HeaderValue)> = headers
            .iter()
            .filter(|(k, _)| PASS_REQUEST_HEADERS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        match invocation_type.as_str() {
            "DryRun" => InvokeAnswer::Proxied {
                status: StatusCode::NO_CONTENT,
                headers: vec![],
                body: Bytes::new(),
            },
            "Event" => self.invoke_event(function, path, pass, body, request_id),
            _ => self.invoke_sync(function, &invocation_type, &path, pass, body).await,
        }
    }

    /// An Event invocation: counted, then queued (or dropped by the drop-next switch).
    fn invoke_event(
        &self,
        function: &str,
        path: String,
        mut pass: Vec<(HeaderName, HeaderValue)>,
        body: Bytes,
        request_id: &str,
    ) -> InvokeAnswer {
        if self.config().forward_url.is_none() {
            return Self::not_configured(function);
        }
        let injected = {
            let mut c = self.inner.counters.lock().unwrap();
            c.accepted += 1;
            c.by_function.entry(function.to_string()).or_default().accepted += 1;
            if c.drop_next_events > 0 {
                c.drop_next_events -= 1;
                true
            } else {
                false
            }
        };
        if injected {
            self.record_drop(
                function,
                request_id,
                "dropped on purpose (drop-next switch)".into(),
                0,
                true,
            );
            return InvokeAnswer::Accepted;
        }
        pass.push((
            HeaderName::from_static("x-amz-invocation-type"),
            HeaderValue::from_static("RequestResponse"),
        ));
        let job = Job {
            function: function.to_string(),
            path,
            headers: pass,
            body,
            request_id: request_id.to_string(),
        };
        self.inner.pending.send_modify(|p| *p += 1);
        self.enqueue(job);
        InvokeAnswer::Accepted
    }

    /// A RequestResponse invocation, proxied to the target.
    async fn invoke_sync(
        &self,
        function: &str,
        invocation_type: &str,
        path: &str,
        mut pass: Vec<(HeaderName, HeaderValue)>,
        body: Bytes,
    ) -> InvokeAnswer {
        let Some(base) = self.config().forward_url else {
            return Self::not_configured(function);
        };
        pass.push((
            HeaderName::from_static("x-amz-invocation-type"),
            HeaderValue::from_str(invocation_type).unwrap_or(HeaderValue::from_static("RequestResponse")),
        ));
        self.count(function, |c, f| {
            c.sync_invocations += 1;
            f.sync_invocations += 1;
        });
        let timeout = Duration::from_millis(self.config().timeout_ms);
        match self.send(&base, path, &pass, body, timeout).await {
            Ok((status, headers, body)) => InvokeAnswer::Proxied {
                status,
                headers: headers
                    .iter()
                    .filter(|(k, _)| PASS_RESPONSE_HEADERS.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                body,
            },
            Err(e) => {
                self.count(function, |c, _| c.sync_failures += 1);
                InvokeAnswer::Error(
                    502,
                    "ServiceException",
                    format!("eks-emulator relay could not reach {base}: {e}"),
                )
            }
        }
    }

    fn enqueue(&self, job: Job) {
        let mut queues = self.inner.queues.lock().unwrap();
        let job = match queues.get(&job.function) {
            Some(tx) => match tx.send(job) {
                Ok(()) => return,
                Err(mpsc::error::SendError(job)) => job,
            },
            None => job,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let function = job.function.clone();
        let _ = tx.send(job);
        queues.insert(function, tx);
        let relay = self.clone();
        let handle = tokio::spawn(async move { relay.worker(rx).await });
        self.inner.workers.lock().unwrap().push(handle);
    }

    /// Starts the function's invocations in order, each once there is room; dropping the
    /// worker (shutdown) aborts the deliveries it started.
    async fn worker(self, mut rx: mpsc::UnboundedReceiver<Job>) {
        let mut deliveries = JoinSet::new();
        while let Some(job) = rx.recv().await {
            while deliveries.try_join_next().is_some() {}
            self.wait_for_room().await;
            let relay = self.clone();
            deliveries.spawn(async move {
                relay.deliver(job).await;
                {
                    let mut c = relay.inner.counters.lock().unwrap();
                    c.in_flight = c.in_flight.saturating_sub(1);
                }
                relay.inner.room.notify_waiters();
                relay.inner.pending.send_modify(|p| *p = p.saturating_sub(1));
            });
        }
        while deliveries.join_next().await.is_some() {}
    }

    /// Waits until fewer than `maxConcurrency` invocations are being delivered, and takes a
    /// place.
    async fn wait_for_room(&self) {
        loop {
            let notified = self.inner.room.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let limit = u64::from(self.config().max_concurrency);
            {
                let mut c = self.inner.counters.lock().unwrap();
                if c.in_flight < limit {
                    c.in_flight += 1;
                    c.peak_in_flight = c.peak_in_flight.max(c.in_flight);
                    return;
                }
            }
            notified.await;
        }
    }

    async fn deliver(&self, job: Job) {
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let cfg = self.config();
            let Some(base) = cfg.forward_url.clone() else {
                self.record_drop(
                    &job.function,
                    &job.request_id,
                    "no forward URL configured".into(),
                    attempt - 1,
                    false,
                );
                return;
            };
            if attempt > 1 {
                self.count(&job.function, |c, f| {
                    c.retried += 1;
                    f.retried += 1;
                });
            }
            let outcome = self.attempt(&job, &base, Duration::from_millis(cfg.timeout_ms)).await;
            match outcome {
                Outcome::Delivered => {
                    tracing::info!(function = %job.function, request_id = %job.request_id, attempt, "relay delivered an Event invocation");
                    self.count(&job.function, |c, f| {
                        c.delivered += 1;
                        f.delivered += 1;
                    });
                    return;
                }
                Outcome::Retry(reason) if attempt <= cfg.max_retries => {
                    let backoff = cfg.backoff_ms.saturating_mul(1u64 << (attempt - 1).min(20)).min(10_000);
                    tracing::warn!(function = %job.function, request_id = %job.request_id, attempt, backoff_ms = backoff, "relay will retry: {reason}");
                    tokio::time::sleep(Duration::from_millis(backoff)).await;
                }
                Outcome::Retry(reason) => {
                    self.record_drop(
                        &job.function,
                        &job.request_id,
                        format!("gave up after {attempt} attempts: {reason}"),
                        attempt,
                        false,
                    );
                    return;
                }
                Outcome::Fatal(reason) => {
                    self.record_drop(
                        &job.function,
                        &job.request_id,
                        format!("not retryable: {reason}"),
                        attempt,
                        false,
                    );
                    return;
                }
            }
        }
    }

    /// One delivery attempt of an Event invocation and what to do next.
    async fn attempt(&self, job: &Job, base: &str, timeout: Duration) -> Outcome {
        let (status, headers) = match self
            .send(base, &job.path, &job.headers, job.body.clone(), timeout)
            .await
        {
            Err(e) => return Outcome::Retry(format!("cannot reach {base}: {e}")),
            Ok((status, headers, _)) => (status, headers),
        };
        if status.is_success() && headers.contains_key("x-amz-function-error") {
            self.count(&job.function, |c, f| {
                c.function_errors += 1;
                f.function_errors += 1;
            });
            Outcome::Retry(format!(
                "function error ({})",
                headers
                    .get("x-amz-function-error")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("Unhandled")
            ))
        } else if status.is_success() {
            Outcome::Delivered
        } else if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            Outcome::Retry(format!("target answered {status}"))
        } else {
            Outcome::Fatal(format!("target answered {status}"))
        }
    }

    async fn send(
        &self,
        base: &str,
        path: &str,
        headers: &[(HeaderName, HeaderValue)],
        body: Bytes,
        timeout: Duration,
    ) -> Result<(StatusCode, HeaderMap, Bytes), String> {
        let uri = format!("{}{}", base.trim_end_matches('/'), path);
        let mut req = Request::builder().method(Method::POST).uri(&uri);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let req = req.body(Full::new(body)).map_err(|e| e.to_string())?;
        let fut = async {
            let resp = self.inner.client.request(req).await.map_err(|e| {
                let mut msg = e.to_string();
                let mut src = std::error::Error::source(&e);
                while let Some(s) = src {
                    msg.push_str(": ");
                    msg.push_str(&s.to_string());
                    src = s.source();
                }
                msg
            })?;
            let (parts, body) = resp.into_parts();
            let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
            Ok((parts.status, parts.headers, body))
        };
        tokio::time::timeout(timeout, fut)
            .await
            .map_err(|_| format!("timed out after {} ms", timeout.as_millis()))?
    }
}
