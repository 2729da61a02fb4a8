//! The safety net on the local stack: a hop verified against the emulator's health and its
//! CloudWatch stand-in, and rolled back with the emulator's VersionRollback.

use super::*;

const ALARM: &str = "eks-upgrade-demo-api-5xx";

fn demo_seed() -> String {
    let path = format!("{}/crates/eks-emulator/seeds/demo.json", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).unwrap()
}

fn verified(request_id: &str, on_failure: &str) -> Value {
    json!({
        "cluster": "demo", "targetVersion": "1.31", "requestId": request_id,
        "verify": { "alarms": [ALARM], "soakMinutes": 0 },
        "onVerifyFailure": on_failure,
    })
}

impl Stack {
    /// The alarm reads OK (set before the request, whose intake checks that it exists) until
    /// the hop's control plane has changed, then fires (an alarm already in ALARM before the
    /// hop blocks it at the preflight).
    fn alarm_ok(&self) {
        self.emulator.set_alarm(ALARM, "OK", Some("healthy")).unwrap();
    }

    async fn fire_alarm_once_the_hop_is_made(&self) {
        let start = Instant::now();
        let mut swept = Instant::now();
        loop {
            if let Some(record) = self.record("demo", "safe").await {
                if record.hop_reached.is_some() {
                    break;
                }
            }
            assert!(start.elapsed() < Duration::from_secs(120), "the hop was never made");
            // The sweep runs, as the template's schedule does: on a loaded machine a short
            // invocation's continuation can fail to go out, and only the sweep resumes it.
            if swept.elapsed() > Duration::from_secs(5) {
                let _ = self.invoke(json!({ "sweep": {} })).await;
                swept = Instant::now();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.emulator
            .set_alarm(ALARM, "ALARM", Some("Threshold Crossed"))
            .unwrap();
    }

    /// The types of the cluster's updates (ListUpdates, then DescribeUpdate on each).
    async fn update_types(&self, cluster: &str) -> Vec<String> {
        let listed = self.eks.list_updates().name(cluster).send().await.unwrap();
        let mut types = Vec::new();
        for id in listed.update_ids() {
            let update = self
                .eks
                .describe_update()
                .name(cluster)
                .update_id(id)
                .send()
                .await
                .unwrap();
            types.push(update.update().unwrap().r#type().unwrap().as_str().to_owned());
        }
        types
    }

    async fn nodegroup_version(&self, cluster: &str, nodegroup: &str) -> String {
        let out = self
            .eks
            .describe_nodegroup()
            .cluster_name(cluster)
            .nodegroup_name(nodegroup)
            .send()
            .await
            .unwrap();
        out.nodegroup().unwrap().version().unwrap().to_owned()
    }

    async fn started(seed: String) -> Self {
        Stack::start(Options {
            seed: Some(seed),
            update_ms: 500,
            ..Options::default()
        })
        .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hop_that_fails_its_alarm_is_rolled_back_on_the_emulator_with_one_version_rollback() {
    let stack = Stack::started(demo_seed()).await;
    stack.alarm_ok();
    let (invoked, ()) = tokio::join!(
        stack.invoke(verified("safe", "rollback")),
        stack.fire_alarm_once_the_hop_is_made()
    );
    invoked.unwrap();
    let record = stack.wait_finished("demo", "safe").await;
    assert_eq!(record.status, UpgradeStatus::RolledBack, "{:?}", record.message);
    assert_eq!(stack.cluster_version("demo").await, "1.30");
    assert_eq!(stack.nodegroup_version("demo", "ng-1").await, "1.30");
    let rollbacks = stack
        .update_types("demo")
        .await
        .iter()
        .filter(|t| *t == "VersionRollback")
        .count();
    assert_eq!(rollbacks, 1);
    // Node group first, then the control plane: EKS refuses the other order.
    let rollback = record.rollback.clone().unwrap();
    let nodegroup_back = record
        .items
        .iter()
        .find(|i| i.name == "ng-1" && i.version == "1.30")
        .expect("ng-1 went back");
    assert!(nodegroup_back.finished_at <= rollback.update_started_at);
    let evidence = record.verification.clone().unwrap();
    assert!(evidence
        .checks
        .iter()
        .any(|c| c.check == format!("alarm {ALARM}") && c.detail.contains("Threshold Crossed")));
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_the_rollback_call_and_its_write_finds_the_same_version_rollback() {
    // Short invocations: the dead one's lease runs out soon, and the sweep resumes it.
    let stack = Stack::start(Options {
        seed: Some(demo_seed()),
        update_ms: 500,
        invocation_secs: 3,
        ..Options::default()
    })
    .await;
    stack
        .lambda
        .app
        .crash_points
        .arm("after:UpdateClusterVersion(rollback)");
    // The crash may come in the first invocation or in a continuation.
    stack.alarm_ok();
    let _ = tokio::join!(
        stack.invoke(verified("safe", "rollback")),
        stack.fire_alarm_once_the_hop_is_made()
    );
    let start = Instant::now();
    while stack.lambda.app.crash_points.is_armed() {
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "the rollback call never came"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let stranded = stack.record("demo", "safe").await.unwrap();
    assert_eq!(stranded.status, UpgradeStatus::RollingBack);
    assert_eq!(
        stranded.rollback.as_ref().unwrap().update_id,
        None,
        "the update id never reached the table"
    );
    stack.sweep_until_resumed_or_finished("demo", "safe").await;
    let record = stack.wait_finished("demo", "safe").await;
    assert_eq!(record.status, UpgradeStatus::RolledBack, "{:?}", record.message);
    let token = &record.rollback.as_ref().unwrap().client_request_token;
    let stats = stack.emulator.cluster_stats("demo");
    let sent = stats
        .client_request_tokens
        .iter()
        .find(|t| &t.token == token)
        .expect("the rollback's token reached EKS");
    assert_eq!(sent.calls, 2, "sent twice with the same token");
    assert_eq!(sent.update_id, record.rollback.as_ref().unwrap().update_id);
    let types = stack.update_types("demo").await;
    assert_eq!(types.iter().filter(|t| *t == "VersionRollback").count(), 1, "{types:?}");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollback_on_request_blocked_by_the_emulators_insight_then_forced() {
    let stack = Stack::started(demo_seed()).await;
    stack
        .invoke(json!({ "cluster": "demo", "targetVersion": "1.31", "requestId": "plain" }))
        .await
        .unwrap();
    let done = stack.wait_finished("demo", "plain").await;
    assert_eq!(done.status, UpgradeStatus::Succeeded, "{:?}", done.message);
    stack.emulator.set_rollback_blocking_insights("demo", true).unwrap();
    let dry = stack
        .invoke(json!({ "rollback": { "cluster": "demo", "requestId": "plain", "dryRun": true } }))
        .await
        .unwrap();
    assert_eq!(dry["wouldStart"], false, "{dry}");
    assert_eq!(dry["nodegroups"], json!(["ng-1"]));
    let blocked = stack
        .invoke(json!({ "rollback": { "cluster": "demo", "requestId": "plain" } }))
        .await
        .unwrap();
    assert_eq!(blocked["status"], "ROLLBACK_BLOCKED", "{blocked}");
    assert!(blocked["message"]
        .as_str()
        .unwrap()
        .contains("rollback readiness insights"));
    assert_eq!(stack.nodegroup_version("demo", "ng-1").await, "1.31", "nothing touched");
    stack
        .invoke(json!({ "rollback": { "cluster": "demo", "requestId": "plain", "force": true } }))
        .await
        .unwrap();
    let record = stack.wait_finished("demo", "plain").await;
    assert_eq!(record.status, UpgradeStatus::RolledBack, "{:?}", record.message);
    assert_eq!(stack.cluster_version("demo").await, "1.30");
    let types = stack.update_types("demo").await;
    assert_eq!(types.iter().filter(|t| *t == "VersionRollback").count(), 1, "{types:?}");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_composite_alarm_is_refused_with_the_request_under_the_templates_scope() {
    let stack = Stack::started(demo_seed()).await;
    stack
        .emulator
        .set_composite_alarm(ALARM, "ALARM(eks-upgrade-a) OR ALARM(eks-upgrade-b)", "OK", None)
        .unwrap();
    let refused = stack.invoke(verified("safe", "rollback")).await.unwrap_err();
    assert_eq!(refused["errorType"], "InvalidEvent", "{refused}");
    let message = refused["errorMessage"].as_str().unwrap();
    assert!(
        message.contains("verify.alarms[0]") && message.contains("composite"),
        "{message}"
    );
    assert!(stack.record("demo", "safe").await.is_none(), "nothing written");
    assert_eq!(stack.update_types("demo").await.len(), 0, "nothing changed");
    stack.stop().await;
}
