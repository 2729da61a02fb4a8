//! Helpers for the workflow's tests: a record at a step, EKS answers, one step taken as the
//! driver takes it (reconcile, then commit).

pub use super::*;
pub use crate::domain::eks::{ClusterView, EksFailure, EksUpdateError, FailureKind, Survey, UpdateState, UpdateView};
pub use crate::domain::event::{ClusterName, RequestId, UpgradeRequest};
pub use crate::domain::record::{Step, UpgradeRecord, UpgradeStatus, RESUMABLE};
pub use crate::domain::version::KubeVersion;

pub const NOW: i64 = 1_790_000_000;

pub fn limits() -> Limits {
    Limits::default()
}

pub fn request(force: bool) -> UpgradeRequest {
    UpgradeRequest {
        force,
        request_id: Some(RequestId::parse("r1").unwrap()),
        ..UpgradeRequest::new(
            ClusterName::parse("devel").unwrap(),
            crate::domain::version::TargetVersion::Exact(KubeVersion::new(1, 31)),
        )
    }
}

pub fn record_at(step: Step) -> UpgradeRecord {
    let mut r = UpgradeRecord::new(
        &request(false),
        KubeVersion::new(1, 31),
        "token-0000-0000-0000-0000-000000000000".into(),
        NOW,
    );
    r.step = step;
    match step {
        Step::TrackUpdate => {
            r.status = UpgradeStatus::InProgress;
            r.update_id = Some("u-ours".into());
            r.update_started_at = Some(NOW);
        }
        Step::AwaitOtherUpdate => r.awaited_update_id = Some("u-other".into()),
        _ => {}
    }
    r
}

pub fn cluster(status: &str, version: &str) -> ClusterView {
    ClusterView {
        status: status.into(),
        version: Some(version.parse().unwrap()),
        platform_version: Some("eks.5".into()),
        tags: [(DEFAULT_ENROLLMENT_TAG.to_owned(), "true".to_owned())].into(),
        ..Default::default()
    }
}

pub fn update(id: &str, state: UpdateState, kind: &str, version: Option<&str>) -> UpdateView {
    UpdateView {
        id: id.into(),
        state,
        kind: kind.into(),
        version: version.map(Into::into),
        errors: Vec::new(),
        created_at: None,
    }
}

pub fn failure(kind: FailureKind, message: &str) -> EksFailure {
    EksFailure::new(kind, format!("{kind:?}Exception"), message)
}

/// One step as the driver takes it: reconcile, then commit if anything changed.
pub fn step(record: &UpgradeRecord, answer: Answer) -> Transition {
    let t = reconcile(record, answer, NOW + 10, &limits());
    if t.record == *record {
        return t;
    }
    Transition {
        record: committed(record, t.record, NOW + 10),
        next: t.next,
    }
}

pub fn window(json: serde_json::Value) -> crate::domain::window::MaintenanceWindow {
    serde_json::from_value(json).unwrap()
}

pub fn survey_at(version: &str) -> Survey {
    Survey {
        cluster: cluster("ACTIVE", version),
        versions: (28..=36)
            .map(|m| crate::domain::eks::OfferedVersion {
                version: KubeVersion::new(1, m),
                status: "STANDARD_SUPPORT".into(),
                default: false,
                end_of_standard: None,
                end_of_extended: None,
            })
            .collect(),
        nodegroups: vec![crate::domain::eks::NodegroupView {
            name: "ng-1".into(),
            version: Some(version.parse().unwrap()),
            status: "ACTIVE".into(),
            ..Default::default()
        }],
        addons: vec![],
        addon_versions: vec![],
        insights: vec![],
        alarms: vec![],
    }
}

/// `next` as the driver writes it after `previous`.
pub fn committed(previous: &UpgradeRecord, next: UpgradeRecord, now: i64) -> UpgradeRecord {
    commit(previous, next, CommitOptions { now, notify: false })
}
