//! Hostile and malformed input: the decoder never panics and always names what is wrong; a
//! corpus of malformed events is refused with nothing written and no EKS call.

use eks_upgrade_orchestrator::config::Config;
use eks_upgrade_orchestrator::crash::CrashPoints;
use eks_upgrade_orchestrator::domain::workflow::Limits;
use eks_upgrade_orchestrator::domain::{decode_event, InboundEvent};
use eks_upgrade_orchestrator::fakes::{
    FakeAlarms, FakeEks, ManualClock, MemoryStore, RecordingInvoker, RecordingNotifier, RecordingScheduler,
};
use eks_upgrade_orchestrator::handler::{HandlerError, Invocation, Orchestrator};
use eks_upgrade_orchestrator::ports::MetricsLog;
use proptest::prelude::*;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        any::<i64>().prop_map(|i| json!(i)),
        ".{0,40}".prop_map(Value::String),
        prop_oneof![
            Just("1.31"),
            Just("devel"),
            Just("latest"),
            Just("01.30"),
            Just("1.3a"),
            Just("")
        ]
        .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        let keys = prop_oneof![
            Just("cluster".to_string()),
            Just("targetVersion".to_string()),
            Just("force".to_string()),
            Just("requestId".to_string()),
            Just("dryRun".to_string()),
            Just("continuation".to_string()),
            Just("status".to_string()),
            Just("sweep".to_string()),
            Just("detail".to_string()),
            Just("detail-type".to_string()),
            Just("source".to_string()),
            Just("handoff".to_string()),
            Just("maintenanceWindow".to_string()),
            ".{0,12}",
        ];
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(keys, inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Whatever arrives: no panic; a refusal says what is wrong, naming a field when there is one.
    #[test]
    fn the_decoder_never_panics_and_explains(value in any_json()) {
        match decode_event(&value) {
            Ok(InboundEvent::Upgrade(request)) => {
                prop_assert!(request.cluster.name.as_str().len() <= 100);
            }
            Ok(_) => {}
            Err(e) => {
                prop_assert!(!e.problem.is_empty());
                prop_assert!(e.to_string().starts_with("invalid event"));
                prop_assert!(e.to_string().len() < 2000, "a refusal stays readable: {}", e);
            }
        }
    }

    /// Upgrade requests with any strings in their fields: accepted only when every field is valid,
    /// refused naming the first bad field otherwise.
    #[test]
    fn upgrade_fields_are_checked_one_by_one(cluster in ".{0,120}", version in ".{0,8}", request_id in ".{0,20}") {
        let event = json!({ "cluster": cluster, "targetVersion": version, "requestId": request_id });
        match decode_event(&event) {
            Ok(InboundEvent::Upgrade(request)) => {
                prop_assert_eq!(request.cluster.key(), cluster.as_str());
                prop_assert!(version == "latest" || version.parse::<eks_upgrade_orchestrator::domain::KubeVersion>().is_ok());
            }
            Ok(other) => prop_assert!(false, "decoded as {:?}", other),
            Err(e) => prop_assert!(["cluster", "targetVersion", "requestId"].contains(&e.field.as_str()), "{}", e),
        }
    }
}

#[tokio::test]
async fn every_malformed_sample_is_refused_naming_its_field_and_writes_nothing() {
    let corpus: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(format!("{}/tests/malformed-events.json", env!("CARGO_MANIFEST_DIR"))).unwrap(),
    )
    .unwrap();
    let app: Orchestrator<(
        FakeEks,
        MemoryStore,
        RecordingInvoker,
        ManualClock,
        RecordingNotifier,
        FakeAlarms,
        RecordingScheduler,
    )> = Orchestrator {
        eks: FakeEks::with_cluster("devel", "1.30", 1),
        store: MemoryStore::default(),
        invoker: RecordingInvoker::default(),
        clock: ManualClock::at(1_790_000_000),
        notifier: RecordingNotifier::default(),
        alarms: FakeAlarms::default(),
        scheduler: RecordingScheduler::default(),
        config: Config {
            safety_margin_secs: 45,
            invocation_budget_secs: None,
            ..Config::new("upgrades", "orchestrator", Limits::default())
        },
        metrics: MetricsLog::recording("eks-upgrade-orchestrator"),
        crash_points: CrashPoints::none(),
    };
    for sample in &corpus {
        let invocation = Invocation {
            request_id: "i".into(),
            deadline_ms: 1_790_000_900_000,
        };
        let err = app
            .handle(&sample["event"], &invocation)
            .await
            .expect_err(sample["why"].as_str().unwrap());
        let HandlerError::InvalidEvent(invalid) = &err else {
            panic!("{}: {err}", sample["why"])
        };
        assert_eq!(
            invalid.field,
            sample["field"].as_str().unwrap(),
            "{}: {err}",
            sample["why"]
        );
        assert!(
            err.to_string().len() < 600,
            "{}: the message stays short: {err}",
            sample["why"]
        );
    }
    assert!(app.store.all().is_empty());
    assert_eq!(app.store.writes.load(Ordering::SeqCst), 0);
    assert!(app.eks.lock().calls.is_empty());
    assert!(app.notifier.all().is_empty());
}
