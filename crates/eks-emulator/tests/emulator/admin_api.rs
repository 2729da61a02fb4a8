//! The admin API over HTTP.

use hyper::http::Method;
use serde_json::json;

use crate::common::*;
use eks_emulator::{Durations, EmulatorConfig, Seed};

#[tokio::test]
async fn admin_api_round_trip() {
    let emu = start_with(EmulatorConfig {
        seed: Some(Seed::from_json(DEMO_SEED).unwrap()),
        durations: Durations::updates(60_000),
        ..Default::default()
    })
    .await;
    let url = emu.url();
    let (s, v) = admin(&emu, Method::GET, "/_emulator/health", "").await;
    assert_eq!((s, v["status"].as_str()), (200, Some("ok")));

    // Seed another cluster.
    let (s, v) = admin(
        &emu,
        Method::POST,
        "/_emulator/seed",
        &json!({"clusters":[{"name":"other","version":"1.33"}]}).to_string(),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = admin(
        &emu,
        Method::POST,
        "/_emulator/seed",
        r#"{"clusters":[{"name":"x","version":"1.33","typo":1}]}"#,
    )
    .await;
    assert_eq!(s, 400, "unknown keys are rejected: {v}");

    // Faults.
    let (s, v) = admin(
        &emu,
        Method::POST,
        "/_emulator/faults",
        r#"{"throttleRate": 0.25, "latencyMs": 1}"#,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["throttleRate"], 0.25);
    let (s, _) = admin(&emu, Method::POST, "/_emulator/faults", r#"{"throttleRate": 2}"#).await;
    assert_eq!(s, 400);
    let (s, _) = admin(
        &emu,
        Method::POST,
        "/_emulator/faults",
        r#"{"throttleRate": 0, "latencyMs": 0}"#,
    )
    .await;
    assert_eq!(s, 200);
    let (s, v) = admin(
        &emu,
        Method::POST,
        "/_emulator/faults/fail-next-update",
        r#"{"cluster":"demo","errorCodes":["ClusterUnreachable"]}"#,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["failNextUpdates"][0]["cluster"], "demo");
    let (s, v) = admin(
        &emu,
        Method::POST,
        "/_emulator/faults/blocking-insights",
        r#"{"cluster":"demo"}"#,
    )
    .await;
    assert_eq!((s, v["kubernetesVersion"].as_str()), (200, Some("1.31")));
    let (s, _) = admin(
        &emu,
        Method::POST,
        "/_emulator/faults/blocking-insights",
        r#"{"cluster":"nope"}"#,
    )
    .await;
    assert_eq!(s, 404);

    // An update through EKS, blocked, then forced; then finished through the admin API.
    let t = token();
    let body = json!({"version": "1.31", "clientRequestToken": t}).to_string();
    let (s, h, _) = raw(&url, Method::POST, "/clusters/demo/updates", &[], &body).await;
    assert_eq!(
        (s, h["x-amzn-errortype"].to_str().unwrap()),
        (400, "InvalidStateException")
    );
    let body = json!({"version": "1.31", "clientRequestToken": t, "force": true}).to_string();
    let (s, _, text) = raw(&url, Method::POST, "/clusters/demo/updates", &[], &body).await;
    assert_eq!(s, 200, "{text}");
    let id = serde_json::from_str::<serde_json::Value>(&text).unwrap()["update"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, v) = admin(&emu, Method::POST, "/_emulator/updates/finish", "").await;
    assert_eq!(s, 200);
    assert_eq!(v["finished"], json!([id]));
    let (_, _, text) = raw(&url, Method::GET, &format!("/clusters/demo/updates/{id}"), &[], "").await;
    let u: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(u["update"]["status"], "Failed");
    assert_eq!(u["update"]["errors"][0]["errorCode"], "ClusterUnreachable");

    // Stats.
    let (s, v) = admin(&emu, Method::GET, "/_emulator/stats", "").await;
    assert_eq!(s, 200);
    let demo = &v["clusters"]["demo"];
    assert_eq!(demo["updatesCreated"], 1);
    assert_eq!(demo["updateClusterVersionCalls"], 2);
    assert_eq!(demo["clientRequestTokens"][0]["token"], t.as_str());
    assert_eq!(demo["clientRequestTokens"][0]["updateId"], id.as_str());
    assert_eq!(demo["clientRequestTokens"][0]["calls"], 2);
    assert!(v["relay"]["accepted"].is_u64());
    assert!(v["requests"]["byOperation"]["UpdateClusterVersion"].is_u64());

    // State and durations.
    let (s, v) = admin(&emu, Method::GET, "/_emulator/state", "").await;
    assert_eq!(s, 200);
    let names: Vec<&str> = v["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["demo", "other"]);
    assert_eq!(v["clusters"][0]["updates"][0]["id"], id.as_str());
    let (s, v) = admin(
        &emu,
        Method::POST,
        "/_emulator/durations",
        r#"{"updateMs": 5, "addonUpdateMs": 7}"#,
    )
    .await;
    assert_eq!(
        (s, v["clusterUpdateMs"].as_u64(), v["addonUpdateMs"].as_u64()),
        (200, Some(5), Some(7))
    );

    // Reset: back to the startup seed, stats zeroed.
    let (s, _) = admin(&emu, Method::POST, "/_emulator/reset", "").await;
    assert_eq!(s, 200);
    let (_, v) = admin(&emu, Method::GET, "/_emulator/state", "").await;
    let names: Vec<&str> = v["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["demo"]);
    assert_eq!(v["clusters"][0]["version"], "1.30");
    assert_eq!(v["durations"]["clusterUpdateMs"], 60_000);
    let (_, v) = admin(&emu, Method::GET, "/_emulator/stats", "").await;
    assert_eq!(v["clusters"], json!({}));
    let (s, _) = admin(&emu, Method::POST, "/_emulator/reset", r#"{"applyStartupSeed": false}"#).await;
    assert_eq!(s, 200);
    let (_, v) = admin(&emu, Method::GET, "/_emulator/state", "").await;
    assert_eq!(v["clusters"], json!([]));

    let (s, v) = admin(&emu, Method::GET, "/_emulator/nope", "").await;
    assert_eq!(s, 404, "{v}");
    emu.shutdown().await;
}

#[tokio::test]
async fn deny_and_health_over_http() {
    let emu = start_with(EmulatorConfig {
        seed: Some(Seed::from_json(DEMO_SEED).unwrap()),
        ..Default::default()
    })
    .await;
    let url = emu.url();
    let (s, v) = admin(
        &emu,
        Method::POST,
        "/_emulator/faults/deny",
        r#"{"operation":"DescribeCluster"}"#,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["deniedOperations"], json!([{"operation": "DescribeCluster"}]));
    let (s, h, text) = raw(&url, Method::GET, "/clusters/demo", &[], "").await;
    assert_eq!(
        (s, h["x-amzn-errortype"].to_str().unwrap()),
        (403, "AccessDeniedException")
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&text).unwrap(),
        json!({"message": "User: arn:aws:sts::123456789012:assumed-role/eks-upgrade-orchestrator/session is not authorized to perform: eks:DescribeCluster on resource: arn:aws:eks:us-east-1:123456789012:cluster/demo"})
    );
    let (s, _) = admin(&emu, Method::POST, "/_emulator/faults/deny", r#"{"operation":"Nope"}"#).await;
    assert_eq!(s, 400);
    let (s, v) = admin(&emu, Method::DELETE, "/_emulator/faults/deny", "").await;
    assert_eq!((s, v["deniedOperations"].clone()), (200, json!([])));
    let (s, _, _) = raw(&url, Method::GET, "/clusters/demo", &[], "").await;
    assert_eq!(s, 200);
    let (_, v) = admin(&emu, Method::GET, "/_emulator/stats", "").await;
    assert_eq!(v["requests"]["denied"], 1);

    let body = json!({"cluster": "demo", "addon": "coredns", "status": "DEGRADED",
        "issues": [{"code": "InsufficientNumberOfReplicas", "message": "m"}]});
    let (s, v) = admin(&emu, Method::POST, "/_emulator/health", &body.to_string()).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "DEGRADED");
    assert_eq!(
        v["health"]["issues"],
        json!([{"code": "InsufficientNumberOfReplicas", "message": "m", "resourceIds": []}])
    );
    let (_, _, text) = raw(&url, Method::GET, "/clusters/demo/addons/coredns", &[], "").await;
    let a: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(a["addon"]["health"], v["health"]);
    let bad = [
        (r#"{"cluster":"demo","issues":[{"code":"NodeCreationFailure"}]}"#, 400),
        (r#"{"cluster":"demo","nodegroup":"ng-1","addon":"coredns"}"#, 400),
        (r#"{"cluster":"demo","nodegroup":"ng-1","status":"NOPE"}"#, 400),
        (r#"{"cluster":"demo","nodegroup":"nope"}"#, 404),
        (r#"{"cluster":"nope","issues":[]}"#, 404),
        (r#"{"cluster":"demo","typo":1}"#, 400),
    ];
    for (body, status) in bad {
        let (s, v) = admin(&emu, Method::POST, "/_emulator/health", body).await;
        assert_eq!(s, status, "{body}: {v}");
    }
    // A reset lifts deny rules and injected health.
    emu.deny("ListClusters", None).unwrap();
    emu.reset();
    assert!(emu.faults().denied_operations.is_empty());
    let (_, _, text) = raw(&url, Method::GET, "/clusters/demo/addons/coredns", &[], "").await;
    assert!(text.contains(r#""health":{"issues":[]}"#), "{text}");
    emu.shutdown().await;
}
