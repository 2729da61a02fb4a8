//! Fault injection through the SDK and over raw HTTP.

use std::time::{Duration, Instant};

use aws_sdk_eks::operation::update_cluster_version::UpdateClusterVersionError;
use eks_emulator::{EmulatorConfig, Faults, FaultsPatch};
use hyper::http::Method;

use crate::common::*;

#[tokio::test]
async fn sdk_retries_get_through_throttling_and_server_errors() {
    let emu = demo().await;
    emu.set_faults(FaultsPatch {
        throttle_rate: Some(0.4),
        error_rate: Some(0.3),
        ..Default::default()
    })
    .unwrap();
    let c = eks_attempts(&emu, 20).await;
    for _ in 0..15 {
        c.describe_cluster().name("demo").send().await.unwrap();
    }
    // An update retried by the SDK is created once.
    let u = c
        .update_cluster_version()
        .name("demo")
        .version("1.31")
        .send()
        .await
        .unwrap();
    let s = emu.stats();
    assert!(s.requests.throttled > 0, "{:?}", s.requests);
    assert!(s.requests.server_errors > 0, "{:?}", s.requests);
    assert!(s.requests.errors_by_code.contains_key("ThrottlingException"));
    let cs = &s.clusters["demo"];
    assert_eq!(cs.updates_created, 1);
    let tok = &cs.client_request_tokens[0];
    assert_eq!(tok.update_id.as_deref(), u.update().unwrap().id());
    assert_eq!(
        tok.calls, cs.update_cluster_version_calls,
        "every retry carried the same token"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn lost_response_then_retry_with_same_token() {
    let emu = demo().await;
    emu.set_faults(FaultsPatch {
        lost_response_rate: Some(1.0),
        operations: Some(vec!["UpdateClusterVersion".into()]),
        ..Default::default()
    })
    .unwrap();
    let c1 = eks_attempts(&emu, 1).await;
    let t = token();
    let e = c1
        .update_cluster_version()
        .name("demo")
        .version("1.31")
        .client_request_token(&t)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(matches!(e, UpdateClusterVersionError::ServerException(_)), "{e:?}");
    // The update exists anyway; DescribeCluster is not affected by the operation filter.
    let d = c1.describe_cluster().name("demo").send().await.unwrap();
    assert_eq!(d.cluster().unwrap().status().unwrap().as_str(), "UPDATING");
    emu.set_faults(FaultsPatch {
        lost_response_rate: Some(0.0),
        ..Default::default()
    })
    .unwrap();
    let u = c1
        .update_cluster_version()
        .name("demo")
        .version("1.31")
        .client_request_token(&t)
        .send()
        .await
        .unwrap();
    let s = emu.cluster_stats("demo");
    assert_eq!(s.updates_created, 1);
    assert_eq!(
        s.client_request_tokens[0].update_id.as_deref(),
        u.update().unwrap().id()
    );
    assert_eq!(emu.stats().requests.lost_responses, 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn latency_slows_answers() {
    let emu = start_with(EmulatorConfig {
        faults: Faults {
            latency_ms: 1500,
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let c = eks(&emu).await;
    let t0 = Instant::now();
    c.list_clusters().send().await.unwrap();
    assert!(t0.elapsed() >= Duration::from_millis(1500));
    // The admin API is never slowed down or faulted.
    let t0 = Instant::now();
    let (status, _) = admin(&emu, Method::GET, "/_emulator/health", "").await;
    assert_eq!(status, 200);
    assert!(t0.elapsed() < Duration::from_millis(1500));
    emu.shutdown().await;
}

#[tokio::test]
async fn unknown_routes_and_malformed_bodies() {
    let emu = demo().await;
    let (status, h, body) = raw(&emu.url(), Method::GET, "/no/such/thing", &[], "").await;
    assert_eq!(status, 404);
    assert_eq!(h["x-amzn-errortype"], "UnknownOperationException");
    assert!(uuid::Uuid::parse_str(h["x-amzn-requestid"].to_str().unwrap()).is_ok());
    assert!(body.contains("message"));
    let (status, h, _) = raw(&emu.url(), Method::PUT, "/clusters/demo", &[], "{}").await;
    assert_eq!(
        (status, h["x-amzn-errortype"].to_str().unwrap()),
        (404, "UnknownOperationException")
    );

    let (status, h, body) = raw(&emu.url(), Method::POST, "/clusters/demo/updates", &[], "{not json").await;
    assert_eq!(status, 400);
    assert_eq!(h["x-amzn-errortype"], "SerializationException");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(v["message"].as_str().unwrap().starts_with("Malformed request body"));
    let (status, h, _) = raw(
        &emu.url(),
        Method::POST,
        "/clusters/demo/updates",
        &[],
        r#"{"version": 131}"#,
    )
    .await;
    assert_eq!(
        (status, h["x-amzn-errortype"].to_str().unwrap()),
        (400, "SerializationException")
    );
    let (status, h, body) = raw(&emu.url(), Method::POST, "/clusters/demo/updates", &[], "{}").await;
    assert_eq!(
        (status, h["x-amzn-errortype"].to_str().unwrap()),
        (400, "InvalidParameterException")
    );
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["clusterName"], "demo");
    assert!(
        v.as_object().unwrap().contains_key("nodegroupName"),
        "model fields present, null when not applicable: {v}"
    );

    // Successful answers: JSON numbers for timestamps, a request id.
    let (status, h, body) = raw(&emu.url(), Method::GET, "/clusters/demo", &[], "").await;
    assert_eq!(status, 200);
    assert!(h.contains_key("x-amzn-requestid"));
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(v["cluster"]["createdAt"].is_f64() || v["cluster"]["createdAt"].is_u64());
    let (status, _, _) = raw(&emu.url(), Method::GET, "/clusters?maxResults=abc", &[], "").await;
    assert_eq!(status, 400);
    emu.shutdown().await;
}
