//! Helpers shared by the integration tests.

use std::future::Future;
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::BehaviorVersion;
use aws_sdk_eks::config::{Credentials, Region};
use bytes::Bytes;
use eks_emulator::{Durations, Emulator, EmulatorConfig};
use http_body_util::{BodyExt, Full};
use hyper::http::{HeaderMap, Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

pub const DEMO_SEED: &str = include_str!("../../seeds/demo.json");

/// An emulator on a free port with the given durations and a fixed random seed.
pub async fn start_with(config: EmulatorConfig) -> Emulator {
    Emulator::start(EmulatorConfig {
        port: 0,
        rng_seed: Some(42),
        ..config
    })
    .await
    .expect("emulator starts")
}

/// An emulator seeded with seeds/demo.json; updates take a minute unless finished.
pub async fn demo() -> Emulator {
    let emu = start_with(EmulatorConfig {
        durations: Durations::updates(60_000),
        ..Default::default()
    })
    .await;
    emu.seed_json(DEMO_SEED).expect("demo seed applies");
    emu
}

pub async fn sdk_config(emu: &Emulator, attempts: u32) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .endpoint_url(emu.url())
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(attempts)
                .with_initial_backoff(Duration::from_millis(5)),
        )
        .load()
        .await
}

/// An EKS client with the SDK's standard retries (3 attempts).
pub async fn eks(emu: &Emulator) -> aws_sdk_eks::Client {
    aws_sdk_eks::Client::new(&sdk_config(emu, 3).await)
}

/// An EKS client with `attempts` attempts (1 = no retries).
pub async fn eks_attempts(emu: &Emulator, attempts: u32) -> aws_sdk_eks::Client {
    aws_sdk_eks::Client::new(&sdk_config(emu, attempts).await)
}

/// A fresh 36-character token.
pub fn token() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Polls `check` until it is true or `timeout` passes.
pub async fn eventually<F, Fut>(timeout: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One raw HTTP request; returns status, headers and body text.
pub async fn raw(
    base: &str,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, HeaderMap, String) {
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let mut req = Request::builder().method(method).uri(format!("{base}{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = client
        .request(req.body(Full::new(Bytes::from(body.to_string()))).unwrap())
        .await
        .expect("request succeeds");
    let (parts, body) = resp.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    (
        parts.status.as_u16(),
        parts.headers,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

/// Raw JSON request to the emulator; returns status and parsed body.
pub async fn admin(emu: &Emulator, method: Method, path: &str, body: &str) -> (u16, serde_json::Value) {
    let (status, _, text) = raw(&emu.url(), method, path, &[("content-type", "application/json")], body).await;
    (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
}
