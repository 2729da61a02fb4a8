//! Every sample in `events/` decodes to the kind its name says, so the README's examples work.

use eks_upgrade_orchestrator::domain::{decode_event, InboundEvent};

fn sample(name: &str) -> InboundEvent {
    let path = format!("{}/events/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    decode_event(&value).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn samples_decode() {
    let InboundEvent::Upgrade(raw) = sample("upgrade-request.json") else {
        panic!("upgrade-request.json")
    };
    assert_eq!(
        (
            raw.cluster.key().as_str(),
            raw.target_version.to_string().as_str(),
            raw.force
        ),
        ("demo", "1.31", false)
    );
    let InboundEvent::Upgrade(wrapped) = sample("upgrade-request-eventbridge.json") else {
        panic!()
    };
    assert_eq!(wrapped.request_id().as_str(), "chg-2026-11-24");
    let InboundEvent::Upgrade(forced) = sample("upgrade-request-force.json") else {
        panic!()
    };
    assert!(forced.force);
    let InboundEvent::Upgrade(windowed) = sample("upgrade-request-window.json") else {
        panic!()
    };
    assert!(windowed.maintenance_window.is_some());
    assert_eq!(windowed.exclusions.len(), 1);
    let InboundEvent::Upgrade(dry) = sample("dry-run.json") else {
        panic!()
    };
    assert!(dry.dry_run);
    assert!(matches!(sample("continuation.json"), InboundEvent::Continuation(_)));
    assert!(matches!(sample("status.json"), InboundEvent::Status(_)));
    assert!(matches!(sample("sweep.json"), InboundEvent::Sweep(_)));
    assert!(matches!(sample("cancel.json"), InboundEvent::Cancel(_)));
    let InboundEvent::Upgrade(verified) = sample("upgrade-request-verified.json") else {
        panic!()
    };
    assert_eq!(verified.verify.as_ref().map(|v| v.soak_minutes), Some(15));
    assert_eq!(
        verified.on_verify_failure,
        eks_upgrade_orchestrator::domain::event::OnVerifyFailure::Rollback
    );
    let InboundEvent::Rollback(rollback) = sample("rollback.json") else {
        panic!()
    };
    assert!(!rollback.dry_run && !rollback.force);
    let InboundEvent::Rollout(fleet) = sample("rollout.json") else {
        panic!()
    };
    assert_eq!(fleet.stages.len(), 3);
    assert!(fleet.stages[2].approval);
    let InboundEvent::Rollout(fleet_dry) = sample("rollout-dry-run.json") else {
        panic!()
    };
    assert!(fleet_dry.dry_run);
    assert!(matches!(
        sample("rollout-approve.json"),
        InboundEvent::RolloutControl(_)
    ));
    assert!(matches!(sample("rollout-pause.json"), InboundEvent::RolloutControl(_)));
    assert!(matches!(sample("rollout-status.json"), InboundEvent::RolloutStatus(_)));
    let InboundEvent::FleetReport(report) = sample("fleet-report.json") else {
        panic!()
    };
    assert!(!report.notify && report.accounts.is_empty());
    let InboundEvent::Rollout(keep) = sample("rollout-standard-support.json") else {
        panic!()
    };
    assert_eq!(
        keep.target_version,
        eks_upgrade_orchestrator::domain::TargetVersion::StandardSupport
    );
    assert_eq!(keep.min_days_of_standard_support(), 90);
    let InboundEvent::Rollback(dry) = sample("rollback-dry-run.json") else {
        panic!()
    };
    assert!(dry.dry_run);
    let InboundEvent::Upgrade(custom) = sample("upgrade-request-custom-ami.json") else {
        panic!()
    };
    assert_eq!(
        custom
            .nodegroup_launch_templates
            .version_for("ng-custom", "1.31".parse().unwrap()),
        Some("7")
    );
}

#[test]
fn every_file_in_events_is_covered() {
    let dir = format!("{}/events", env!("CARGO_MANIFEST_DIR"));
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".json") {
            sample(&name);
        }
    }
}

/// The README's rollout examples (its ```json blocks that are events of a rollout) decode too.
#[test]
fn readme_rollout_examples_decode() {
    let readme = std::fs::read_to_string(format!("{}/README.md", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let blocks: Vec<&str> = readme
        .split("```json")
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .filter(|block| block.trim_start().starts_with("{ \"rollout\": {") || block.contains("\"rolloutControl\""))
        .collect();
    assert!(blocks.len() >= 2, "the README shows a rollout and a control");
    for block in blocks {
        let value: serde_json::Value = serde_json::from_str(block).unwrap_or_else(|e| panic!("{e}: {block}"));
        let event = decode_event(&value).unwrap_or_else(|e| panic!("{e}: {block}"));
        assert!(
            matches!(event, InboundEvent::Rollout(_) | InboundEvent::RolloutControl(_)),
            "{block}"
        );
    }
}
