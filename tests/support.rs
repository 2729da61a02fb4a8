//! Support deadlines on the handler over in-memory ports and a controllable clock: the fleet
//! report (dates from DescribeClusterVersions, upgrade policies, costs, the notification of
//! clusters entering extended support) and the `standard-support` rollout target.

use eks_upgrade_orchestrator::domain::eks::OfferedVersion;
use eks_upgrade_orchestrator::domain::KubeVersion;
use eks_upgrade_orchestrator::fakes::FakeEks;
use eks_upgrade_orchestrator::handler::HandlerError;
use serde_json::{json, Value};

mod common;
use common::*;

const DAY: i64 = 86_400;

/// 1.32 left standard support 200 days ago; 1.33 leaves it in 20 days, 1.34 in 100, 1.35 in
/// 300 (each with a year of extended support after).
fn catalogue() -> Vec<OfferedVersion> {
    [(32, -200), (33, 20), (34, 100), (35, 300)]
        .into_iter()
        .map(|(minor, days)| OfferedVersion {
            version: KubeVersion::new(1, minor),
            status: if days > 0 {
                "STANDARD_SUPPORT"
            } else {
                "EXTENDED_SUPPORT"
            }
            .into(),
            default: minor == 34,
            end_of_standard: Some(T0 + days * DAY),
            end_of_extended: Some(T0 + (days + 365) * DAY),
        })
        .collect()
}

fn fleet() -> FakeEks {
    let eks = FakeEks::default();
    eks.lock().update_polls = 1;
    for (name, version) in [
        ("old", "1.32"),
        ("soon", "1.33"),
        ("auto", "1.33"),
        ("new", "1.35"),
        ("stray", "1.32"),
    ] {
        eks.add_cluster(name, version, &[("env", "prod")]);
    }
    let mut s = eks.lock();
    s.offered = catalogue();
    s.support_types.insert("auto".into(), "STANDARD".into());
    s.unenrolled.push("stray".into());
    drop(s);
    eks
}

fn line<'a>(report: &'a Value, cluster: &str) -> &'a Value {
    report["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["cluster"] == cluster)
        .unwrap_or_else(|| panic!("{cluster} in {report}"))
}

#[tokio::test]
async fn the_fleet_report_shows_each_enrolled_clusters_deadlines_costs_and_policy() {
    let h = Harness::new(fleet());
    let report = h.send_ok(json!({ "fleetReport": { "notify": true } })).await;
    let names: Vec<&str> = report["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["cluster"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["old", "auto", "soon", "new"],
        "most urgent first, enrolled only"
    );
    let old = line(&report, "old");
    assert_eq!(old["support"], "EXTENDED_SUPPORT");
    assert_eq!(old["upgradePolicy"], "EXTENDED");
    assert_eq!(old["daysOfStandardSupportLeft"], -200);
    assert_eq!(old["monthlyCostUsd"], 438.0);
    assert_eq!(old["extendedSupportExtraMonthlyUsd"], 365.0);
    let soon = line(&report, "soon");
    assert_eq!(
        (soon["support"].as_str(), soon["daysOfStandardSupportLeft"].as_i64()),
        (Some("STANDARD_SUPPORT"), Some(20))
    );
    assert_eq!(soon["monthlyCostUsd"], 73.0);
    assert_eq!(
        report["enteringExtendedSupportWithin30Days"],
        json!(["soon"]),
        "auto is upgraded by EKS itself"
    );
    assert_eq!(report["inExtendedSupport"], json!(["old"]));
    assert_eq!(report["extendedSupportExtraMonthlyUsd"], 365.0);
    // The notification names it, once a day (its id is the day's).
    assert_eq!(report["notified"], true);
    let notices: Vec<_> = h
        .app
        .notifier
        .all()
        .into_iter()
        .filter(|n| n.detail_type == "EKS Clusters Entering Extended Support")
        .collect();
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].detail["clusters"][0]["cluster"], "soon");
    assert_eq!(notices[0].id, "fleet-report/2026-09-21");
    assert_eq!(notices[0].detail["notificationId"], "fleet-report/2026-09-21");
    // An operator's look notifies nobody.
    assert_eq!(h.send_ok(json!({ "fleetReport": {} })).await["notified"], false);
    assert!(h.app.store.all().is_empty(), "nothing written");
    assert_eq!(h.app.eks.update_cluster_version_calls(), 0);
}

#[tokio::test]
async fn the_report_moves_with_the_clock_and_shows_each_clusters_last_upgrade() {
    let h = Harness::new(fleet());
    h.send_ok(json!({ "cluster": "soon", "targetVersion": "1.34" })).await;
    h.app.clock.advance_secs(21 * DAY);
    let report = h.send_ok(json!({ "fleetReport": {} })).await;
    let soon = line(&report, "soon");
    assert_eq!(soon["version"], "1.34", "{soon}");
    assert_eq!(soon["upgrade"]["requestId"], "to-1.34");
    assert_eq!(soon["upgrade"]["status"], "SUCCEEDED");
    // 100 days from T0, 21 days and the upgrade's own minutes later.
    assert_eq!(soon["daysOfStandardSupportLeft"], 78);
    // 1.33 left standard support a day and some minutes ago (rounded down: -2).
    let auto = line(&report, "auto");
    assert_eq!(auto["daysOfStandardSupportLeft"], -2);
    assert_eq!(report["notified"], false);
}

#[tokio::test]
async fn a_standard_support_rollout_goes_to_the_oldest_version_with_enough_standard_support_left() {
    let h = Harness::new(fleet());
    let stages = json!([{ "name": "prod", "tags": { "env": "prod" }, "maxConcurrent": 10 }]);
    let dry = h
        .send_ok(json!({ "rollout": { "name": "keep", "targetVersion": "standard-support", "dryRun": true, "stages": stages } }))
        .await;
    assert_eq!(dry["targetVersion"], "1.34", "{dry}");
    let longer = h
        .send_ok(
            json!({ "rollout": { "name": "keep", "targetVersion": "standard-support", "minDaysOfStandardSupport": 200,
                                      "dryRun": true, "stages": stages } }),
        )
        .await;
    assert_eq!(longer["targetVersion"], "1.35");
    let err = h
        .send(
            json!({ "rollout": { "name": "keep", "targetVersion": "standard-support", "minDaysOfStandardSupport": 365,
                                   "stages": stages } }),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, HandlerError::Plan(e) if e.0.contains("365 more days")),
        "{err}"
    );
    let err = h
        .send(json!({ "rollout": { "name": "keep", "targetVersion": "1.34", "minDaysOfStandardSupport": 90, "stages": stages } }))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("rollout.minDaysOfStandardSupport"), "{err}");
    let err = h
        .send(json!({ "cluster": "old", "targetVersion": "standard-support" }))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("targetVersion"), "{err}");
    assert!(
        h.app.store.all().is_empty() && h.app.store.rollouts().is_empty(),
        "nothing written"
    );
}
