//! The harness the handler's tests share: the function over in-memory ports, with a manual
//! clock, and a cluster with node groups and an add-on.
#![allow(dead_code)]

use eks_upgrade_orchestrator::config::Config;
use eks_upgrade_orchestrator::crash::CrashPoints;
use eks_upgrade_orchestrator::domain::workflow::Limits;
use eks_upgrade_orchestrator::domain::KubeVersion;
use eks_upgrade_orchestrator::fakes::{
    FakeAlarms, FakeEks, ManualClock, MemoryStore, RecordingInvoker, RecordingNotifier,
};
use eks_upgrade_orchestrator::handler::{HandlerError, Invocation, Orchestrator};
use serde_json::{json, Value};
use std::sync::atomic::Ordering;

pub const T0: i64 = 1_790_000_000;

pub struct Harness {
    pub app: Orchestrator<(
        FakeEks,
        MemoryStore,
        RecordingInvoker,
        ManualClock,
        RecordingNotifier,
        FakeAlarms,
    )>,
    pub invocations: std::sync::atomic::AtomicUsize,
}

impl Harness {
    pub fn new(eks: FakeEks) -> Self {
        Self::with_limits(eks, Limits::default())
    }

    pub fn with_limits(eks: FakeEks, limits: Limits) -> Self {
        Self {
            app: Orchestrator {
                eks,
                store: MemoryStore::default(),
                invoker: RecordingInvoker::default(),
                clock: ManualClock::at(T0),
                notifier: RecordingNotifier::default(),
                alarms: FakeAlarms::default(),
                config: Config {
                    safety_margin_secs: 45,
                    invocation_budget_secs: None,
                    ..Config::new("upgrades", "orchestrator", limits)
                },
                crash_points: CrashPoints::none(),
            },
            invocations: Default::default(),
        }
    }

    /// A fresh invocation with Lambda's 900 s from now.
    pub fn invocation(&self, seconds: i64) -> Invocation {
        let n = self.invocations.fetch_add(1, Ordering::SeqCst);
        Invocation {
            request_id: format!("invocation-{n}"),
            deadline_ms: self.app.clock.now_ms.load(Ordering::SeqCst) + seconds * 1000,
        }
    }

    pub async fn send(&self, event: Value) -> Result<Value, HandlerError> {
        let invocation = self.invocation(900);
        self.app.handle(&event, &invocation).await
    }

    pub async fn send_ok(&self, event: Value) -> Value {
        self.send(event).await.expect("handled")
    }

    /// Delivers every continuation the function sent itself, until none is left.
    pub async fn deliver_continuations(&self) -> Vec<Value> {
        let mut answers = Vec::new();
        loop {
            let sent = self.app.invoker.take();
            if sent.is_empty() {
                return answers;
            }
            for continuation in sent {
                answers.push(self.send_ok(json!({ "continuation": continuation })).await);
            }
        }
    }

    pub fn record_of(&self, cluster: &str, request_id: &str) -> eks_upgrade_orchestrator::domain::UpgradeRecord {
        self.app.store.record(cluster, request_id).expect("record stored")
    }

    pub fn record(&self, request_id: &str) -> eks_upgrade_orchestrator::domain::UpgradeRecord {
        self.app.store.record("devel", request_id).expect("record stored")
    }
}

pub fn fleet_cluster(ng_b_version: &str) -> FakeEks {
    use eks_upgrade_orchestrator::domain::eks::{AddonVersionOption, AddonView, NodegroupView};
    let eks = FakeEks::with_cluster("devel", "1.30", 1);
    {
        let mut s = eks.lock();
        s.nodegroups = vec![
            NodegroupView {
                name: "ng-a".into(),
                version: Some(KubeVersion::new(1, 30)),
                status: "ACTIVE".into(),
                ..Default::default()
            },
            NodegroupView {
                name: "ng-b".into(),
                version: ng_b_version.parse().ok(),
                status: "ACTIVE".into(),
                ..Default::default()
            },
        ];
        s.addons = vec![AddonView {
            name: "kube-proxy".into(),
            version: "v1.30.3-eksbuild.2".into(),
            status: "ACTIVE".into(),
            ..Default::default()
        }];
        s.addon_catalog = vec![(
            "kube-proxy".into(),
            (30..=33)
                .map(|m| AddonVersionOption {
                    version: format!("v1.{m}.3-eksbuild.2"),
                    compatible: vec![(KubeVersion::new(1, m), true)],
                })
                .collect(),
        )];
    }
    eks
}
