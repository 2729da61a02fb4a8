//! The harness the handler's tests share: the function over in-memory ports, with a manual
//! clock, and a cluster with node groups and an add-on.
#![allow(dead_code)]

use eks_upgrade_orchestrator::config::{Config, WakeConfig};
use eks_upgrade_orchestrator::crash::CrashPoints;
use eks_upgrade_orchestrator::domain::workflow::Limits;
use eks_upgrade_orchestrator::domain::KubeVersion;
use eks_upgrade_orchestrator::fakes::{
    FakeAlarms, FakeEks, ManualClock, MemoryStore, RecordingInvoker, RecordingNotifier, RecordingScheduler,
};
use eks_upgrade_orchestrator::handler::{HandlerError, Invocation, Orchestrator};
use eks_upgrade_orchestrator::ports::{Clock, MetricsLog};
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
        RecordingScheduler,
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
                scheduler: RecordingScheduler::default(),
                config: Config {
                    safety_margin_secs: 45,
                    invocation_budget_secs: None,
                    ..Config::new("upgrades", "orchestrator", limits)
                },
                metrics: MetricsLog::recording("eks-upgrade-orchestrator"),
                crash_points: CrashPoints::none(),
            },
            invocations: Default::default(),
        }
    }

    /// With wake-ups (EventBridge Scheduler) configured as the template does: waits of a minute
    /// or more park, and each look at an update is one a minute.
    pub fn with_wakes(eks: FakeEks) -> Self {
        let limits = Limits {
            update_poll_secs: 60,
            wake_lateness_secs: 60,
            ..Limits::default()
        };
        let mut h = Self::with_limits(eks, limits);
        h.app.config.wake = Some(WakeConfig {
            group: "eks-upgrade".into(),
            role_arn: "arn:aws:iam::123456789012:role/wake".into(),
            target_arn: "arn:aws:lambda:us-east-1:123456789012:function:orchestrator".into(),
            dead_letter_arn: None,
            park_after_secs: 60,
        });
        h
    }

    /// Delivers continuations, then the earliest wake-up at its time (the clock moved there), and
    /// so on until nothing is left or `max` wake-ups were delivered; returns how many were.
    pub async fn deliver_wakes(&self, max: usize) -> usize {
        let mut delivered = 0;
        while delivered < max {
            self.deliver_continuations().await;
            let Some(next) = self.app.scheduler.next() else { break };
            let now = self.app.clock.now_secs();
            if next.at > now {
                self.app.clock.advance_secs(next.at - now);
            }
            for wake in self.app.scheduler.take_due(self.app.clock.now_secs()) {
                self.send_ok(wake.event).await;
                delivered += 1;
            }
        }
        self.deliver_continuations().await;
        delivered
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
