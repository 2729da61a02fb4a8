//! Support deadlines on the local stack: the fleet report and a `standard-support` rollout read
//! the emulator's DescribeClusterVersions dates and DescribeCluster's upgrade policy through
//! the real SDK adapters.

use super::*;

const DAY: i64 = 86_400;

fn seed(now: i64) -> String {
    let tags = json!({ "upgrade-orchestrator/enabled": "true" });
    json!({
        "kubernetesVersions": [
            { "version": "1.32", "endOfStandardSupportDate": now - 30 * DAY, "endOfExtendedSupportDate": now + 335 * DAY },
            { "version": "1.33", "endOfStandardSupportDate": now + 20 * DAY, "endOfExtendedSupportDate": now + 385 * DAY },
            { "version": "1.34", "endOfStandardSupportDate": now + 120 * DAY, "endOfExtendedSupportDate": now + 485 * DAY,
              "defaultVersion": true },
            { "version": "1.35", "endOfStandardSupportDate": now + 300 * DAY, "endOfExtendedSupportDate": now + 665 * DAY },
        ],
        "clusters": [
            { "name": "legacy", "version": "1.32", "tags": tags },
            { "name": "soon", "version": "1.33", "tags": tags },
            { "name": "auto", "version": "1.33", "tags": tags, "supportType": "STANDARD" },
            { "name": "stray", "version": "1.32" },
        ],
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fleet_report_and_a_standard_support_rollout_read_the_emulators_support_dates() {
    let now = SystemClock.now_secs();
    let stack = Stack::start(Options {
        seed: Some(seed(now)),
        ..Options::default()
    })
    .await;
    let report = stack
        .invoke(json!({ "fleetReport": { "notify": false } }))
        .await
        .expect("handled");
    let by_name = |name: &str| -> Value {
        report["clusters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["cluster"] == name)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert!(by_name("stray").is_null(), "not enrolled");
    let legacy = by_name("legacy");
    assert_eq!(legacy["support"], "EXTENDED_SUPPORT", "{legacy}");
    assert_eq!(legacy["upgradePolicy"], "EXTENDED");
    assert_eq!(legacy["extendedSupportExtraMonthlyUsd"], 365.0);
    assert!(
        matches!(legacy["daysOfStandardSupportLeft"].as_i64(), Some(-31..=-29)),
        "{legacy}"
    );
    assert_eq!(by_name("auto")["upgradePolicy"], "STANDARD");
    assert_eq!(report["enteringExtendedSupportWithin30Days"], json!(["soon"]));
    let rollout = stack
        .invoke(
            json!({ "rollout": { "name": "keep", "targetVersion": "standard-support", "dryRun": true,
                                     "stages": [{ "name": "all", "clusters": ["soon"] }] } }),
        )
        .await
        .expect("handled");
    assert_eq!(rollout["targetVersion"], "1.34", "{rollout}");
    stack.stop().await;
}
