//! The Lambda Invoke relay, driven by the real aws-sdk-lambda client, delivering to a
//! tiny HTTP server that plays `cargo lambda watch`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_lambda::operation::invoke::InvokeError;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Router;
use eks_emulator::{Emulator, EmulatorConfig, RelayConfig, RelayConfigPatch};

use crate::common::*;

#[derive(Clone, Copy, Debug)]
enum Answer {
    Ok,
    Status(u16),
    FunctionError,
}

#[derive(Debug, Clone)]
struct Received {
    path: String,
    invocation_type: String,
    body: String,
}

#[derive(Clone, Default)]
struct Target {
    received: Arc<Mutex<Vec<Received>>>,
    plan: Arc<Mutex<VecDeque<Answer>>>,
    always: Arc<Mutex<Option<Answer>>>,
    /// How long each answer takes, and how many were being answered at once (now, at most).
    delay_ms: Arc<Mutex<u64>>,
    busy: Arc<Mutex<(u64, u64)>>,
}

async fn target_handler(State(t): State<Target>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let invocation_type = req
        .headers()
        .get("x-amz-invocation-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = axum::body::to_bytes(req.into_body(), 1 << 20).await.unwrap();
    {
        let mut busy = t.busy.lock().unwrap();
        busy.0 += 1;
        busy.1 = busy.1.max(busy.0);
    }
    let delay = *t.delay_ms.lock().unwrap();
    tokio::time::sleep(Duration::from_millis(delay)).await;
    t.busy.lock().unwrap().0 -= 1;
    let body = String::from_utf8_lossy(&body).into_owned();
    t.received.lock().unwrap().push(Received {
        path,
        invocation_type,
        body: body.clone(),
    });
    let answer = t
        .plan
        .lock()
        .unwrap()
        .pop_front()
        .or(*t.always.lock().unwrap())
        .unwrap_or(Answer::Ok);
    let mut r = Response::new(Body::from(format!("{{\"echo\":{body}}}")));
    match answer {
        Answer::Ok => {}
        Answer::Status(s) => *r.status_mut() = StatusCode::from_u16(s).unwrap(),
        Answer::FunctionError => {
            r.headers_mut()
                .insert("x-amz-function-error", "Unhandled".parse().unwrap());
        }
    }
    r
}

async fn start_target() -> (Target, String) {
    let t = Target::default();
    let app = Router::new().fallback(target_handler).with_state(t.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (t, url)
}

async fn emulator_forwarding_to(url: &str) -> Emulator {
    start_with(EmulatorConfig {
        relay: RelayConfig {
            forward_url: Some(url.to_string()),
            max_retries: 3,
            backoff_ms: 1,
            timeout_ms: 10_000,
            ..RelayConfig::default()
        },
        ..Default::default()
    })
    .await
}

async fn lambda(emu: &Emulator) -> aws_sdk_lambda::Client {
    aws_sdk_lambda::Client::new(&sdk_config(emu, 1).await)
}

async fn invoke_event(l: &aws_sdk_lambda::Client, function: &str, payload: &str) {
    let out = l
        .invoke()
        .function_name(function)
        .invocation_type(InvocationType::Event)
        .payload(Blob::new(payload.as_bytes().to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status_code(), 202);
}

#[tokio::test]
async fn delivers_event_invokes_in_order_per_function_one_at_a_time() {
    let (target, url) = start_target().await;
    let emu = emulator_forwarding_to(&url).await;
    emu.set_relay(RelayConfigPatch {
        max_concurrency: Some(1),
        ..Default::default()
    })
    .unwrap();
    let l = lambda(&emu).await;
    for i in 0..20 {
        invoke_event(&l, "orchestrator", &format!("{{\"seq\":{i}}}")).await;
        invoke_event(&l, "other", &format!("{{\"seq\":{i}}}")).await;
    }
    assert!(emu.wait_relay_idle(Duration::from_secs(10)).await);
    let got = target.received.lock().unwrap().clone();
    assert_eq!(got.len(), 40);
    for f in ["orchestrator", "other"] {
        let seqs: Vec<String> = got
            .iter()
            .filter(|r| r.path == format!("/2015-03-31/functions/{f}/invocations"))
            .map(|r| r.body.clone())
            .collect();
        let want: Vec<String> = (0..20).map(|i| format!("{{\"seq\":{i}}}")).collect();
        assert_eq!(seqs, want, "in order for {f}");
    }
    assert!(got.iter().all(|r| r.invocation_type == "RequestResponse"));
    let s = emu.stats().relay;
    assert_eq!(
        (s.accepted, s.delivered, s.dropped, s.retried, s.pending),
        (40, 40, 0, 0, 0)
    );
    assert_eq!(s.peak_in_flight, 1);
    assert_eq!(s.by_function["orchestrator"].delivered, 20);
    emu.shutdown().await;
}

#[tokio::test]
async fn retries_on_5xx_and_function_errors() {
    let (target, url) = start_target().await;
    target
        .plan
        .lock()
        .unwrap()
        .extend([Answer::Status(500), Answer::Status(503), Answer::FunctionError]);
    let emu = emulator_forwarding_to(&url).await;
    // One at a time, so the three failures are the first invocation's attempts.
    emu.set_relay(RelayConfigPatch {
        max_concurrency: Some(1),
        ..Default::default()
    })
    .unwrap();
    let l = lambda(&emu).await;
    invoke_event(&l, "f", r#"{"n":1}"#).await;
    invoke_event(&l, "f", r#"{"n":2}"#).await;
    assert!(emu.wait_relay_idle(Duration::from_secs(10)).await);
    let bodies: Vec<String> = target.received.lock().unwrap().iter().map(|r| r.body.clone()).collect();
    assert_eq!(
        bodies,
        [r#"{"n":1}"#, r#"{"n":1}"#, r#"{"n":1}"#, r#"{"n":1}"#, r#"{"n":2}"#]
    );
    let s = emu.stats().relay;
    assert_eq!((s.delivered, s.retried, s.function_errors, s.dropped), (2, 3, 1, 0));
    emu.shutdown().await;
}

#[tokio::test]
async fn drops_after_bounded_retries_and_keeps_going() {
    let (target, url) = start_target().await;
    *target.always.lock().unwrap() = Some(Answer::Status(500));
    let emu = emulator_forwarding_to(&url).await;
    emu.set_relay(RelayConfigPatch {
        max_retries: Some(2),
        ..Default::default()
    })
    .unwrap();
    let l = lambda(&emu).await;
    invoke_event(&l, "f", r#"{"n":1}"#).await;
    assert!(emu.wait_relay_idle(Duration::from_secs(10)).await);
    assert_eq!(target.received.lock().unwrap().len(), 3);
    let s = emu.stats().relay;
    assert_eq!((s.accepted, s.delivered, s.dropped, s.retried), (1, 0, 1, 2));
    assert_eq!(s.dropped_invocations[0].attempts, 3);
    assert!(
        s.dropped_invocations[0].reason.contains("500"),
        "{:?}",
        s.dropped_invocations
    );

    // A 4xx is not retried.
    *target.always.lock().unwrap() = Some(Answer::Status(404));
    invoke_event(&l, "f", r#"{"n":2}"#).await;
    assert!(emu.wait_relay_idle(Duration::from_secs(10)).await);
    assert_eq!(target.received.lock().unwrap().len(), 4);
    assert_eq!(emu.stats().relay.dropped, 2);

    // The queue works again once the target does.
    *target.always.lock().unwrap() = None;
    invoke_event(&l, "f", r#"{"n":3}"#).await;
    assert!(emu.wait_relay_idle(Duration::from_secs(10)).await);
    assert_eq!(emu.stats().relay.delivered, 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn connection_errors_are_retried_then_dropped() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let emu = emulator_forwarding_to(&format!("http://{closed}")).await;
    let l = lambda(&emu).await;
    invoke_event(&l, "f", "{}").await;
    assert!(emu.wait_relay_idle(Duration::from_secs(10)).await);
    let s = emu.stats().relay;
    assert_eq!((s.dropped, s.retried), (1, 3));
    assert!(
        s.dropped_invocations[0].reason.contains("cannot reach"),
        "{:?}",
        s.dropped_invocations
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn drop_next_switch_loses_an_event() {
    let (target, url) = start_target().await;
    let emu = emulator_forwarding_to(&url).await;
    emu.drop_next_event_invokes(1);
    let l = lambda(&emu).await;
    invoke_event(&l, "f", r#"{"n":1}"#).await;
    invoke_event(&l, "f", r#"{"n":2}"#).await;
    assert!(emu.wait_relay_idle(Duration::from_secs(10)).await);
    let bodies: Vec<String> = target.received.lock().unwrap().iter().map(|r| r.body.clone()).collect();
    assert_eq!(bodies, [r#"{"n":2}"#]);
    let s = emu.stats().relay;
    assert_eq!(
        (
            s.accepted,
            s.delivered,
            s.dropped,
            s.dropped_injected,
            s.drop_next_events
        ),
        (2, 1, 1, 1, 0)
    );

    // Same through the admin API.
    let (status, _) = admin(
        &emu,
        hyper::http::Method::POST,
        "/_emulator/relay/drop-next",
        r#"{"count": 1}"#,
    )
    .await;
    assert_eq!(status, 200);
    invoke_event(&l, "f", r#"{"n":3}"#).await;
    let (status, v) = admin(
        &emu,
        hyper::http::Method::POST,
        "/_emulator/relay/wait-idle",
        r#"{"timeoutMs": 5000}"#,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(v["relay"]["droppedInjected"], 2);
    emu.shutdown().await;
}

#[tokio::test]
async fn request_response_is_proxied() {
    let (target, url) = start_target().await;
    let emu = emulator_forwarding_to(&url).await;
    let l = lambda(&emu).await;
    let out = l
        .invoke()
        .function_name("f")
        .payload(Blob::new(br#"{"hello":1}"#.to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status_code(), 200);
    assert_eq!(out.payload().unwrap().as_ref(), br#"{"echo":{"hello":1}}"#);
    assert!(out.function_error().is_none());
    target.plan.lock().unwrap().push_back(Answer::FunctionError);
    let out = l
        .invoke()
        .function_name("f")
        .payload(Blob::new(b"{}".to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(out.function_error(), Some("Unhandled"));
    assert_eq!(emu.stats().relay.sync_invocations, 2);
    emu.shutdown().await;
}

#[tokio::test]
async fn without_a_target_invoke_is_not_found() {
    let emu = start_with(EmulatorConfig::default()).await;
    let l = lambda(&emu).await;
    let e = l
        .invoke()
        .function_name("f")
        .invocation_type(InvocationType::Event)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(matches!(e, InvokeError::ResourceNotFoundException(_)), "{e:?}");
    emu.shutdown().await;
}

#[tokio::test]
async fn delivers_event_invokes_side_by_side_up_to_max_concurrency() {
    let (target, url) = start_target().await;
    *target.delay_ms.lock().unwrap() = 100;
    let emu = emulator_forwarding_to(&url).await;
    emu.set_relay(RelayConfigPatch {
        max_concurrency: Some(5),
        ..Default::default()
    })
    .unwrap();
    let l = lambda(&emu).await;
    for i in 0..20 {
        invoke_event(&l, "orchestrator", &format!("{{\"seq\":{i}}}")).await;
    }
    assert!(emu.wait_relay_idle(Duration::from_secs(10)).await);
    assert_eq!(target.received.lock().unwrap().len(), 20);
    let s = emu.stats().relay;
    assert_eq!((s.delivered, s.pending, s.in_flight), (20, 0, 0));
    assert_eq!(s.peak_in_flight, 5, "five at once, never more");
    assert_eq!(target.busy.lock().unwrap().1, 5, "the target saw five at once");
    emu.shutdown().await;
}
