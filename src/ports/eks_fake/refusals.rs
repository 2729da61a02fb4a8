//! What the fake EKS refuses: EKS's rules and messages from `eks-rules`, the crate the emulator's
//! model follows too, so the fake and the emulator cannot drift apart. Here only the facts a
//! rule reads are gathered from the fake's state.

use super::{FakeEks, FakeEksState};
use crate::domain::eks::{classify, Answered};
use crate::domain::{EksFailure, KubeVersion, UpdateState};
use eks_rules::{messages, Code, Minor, Refusal, RollbackAsk, UpgradeAsk};

/// A refusal of EKS's rules, as the SDK would hand it to the adapter: its code and status
/// classified by the one failure policy.
pub(super) fn failure(refusal: Refusal) -> EksFailure {
    let status = match refusal.code {
        Code::ResourceInUse => 409,
        Code::ResourceNotFound => 404,
        Code::InvalidParameter | Code::InvalidRequest | Code::InvalidState => 400,
    };
    let code = refusal.code.as_str();
    EksFailure::new(classify(code, Answered::Status(status)), code, refusal.message)
}

fn minor(v: KubeVersion) -> Minor {
    (u32::from(v.major), u32::from(v.minor))
}

impl FakeEks {
    /// EKS's refusal of a `kind` of update while another update of the cluster runs.
    fn update_in_progress(s: &FakeEksState, cluster: &str, kind: &str) -> Option<EksFailure> {
        let running = s
            .updates
            .values()
            .find(|u| u.cluster == cluster && u.state == UpdateState::InProgress)?;
        Some(failure(Refusal {
            code: Code::ResourceInUse,
            message: messages::update_in_progress(kind, &format!("cluster {cluster}"), &running.id),
        }))
    }

    /// Why EKS refuses a new control-plane update, with its real message; none if it accepts.
    pub(super) fn refusal(
        s: &FakeEksState,
        cluster: &str,
        current: KubeVersion,
        version: KubeVersion,
        force: bool,
    ) -> Option<EksFailure> {
        if let Some(busy) = Self::update_in_progress(s, cluster, "VersionUpdate") {
            return Some(busy);
        }
        let ask = UpgradeAsk {
            current: minor(current),
            requested: minor(version),
            nodegroups_behind: s
                .nodegroups
                .iter()
                .filter(|n| n.version.is_some_and(|v| v < current))
                .map(|n| n.name.as_str())
                .collect(),
            insights_block: s.blocking_insights.iter().any(|c| c == cluster),
            force,
        };
        eks_rules::refuse_upgrade(&ask).map(failure)
    }

    /// Why EKS refuses a control-plane rollback to `version`; none if it accepts. (The fake
    /// keeps no clock of the 7 days nor support types: those rules are the emulator's.)
    pub(super) fn rollback_refusal(
        s: &FakeEksState,
        cluster: &str,
        current: KubeVersion,
        version: KubeVersion,
        force: bool,
    ) -> Option<EksFailure> {
        if let Some(busy) = Self::update_in_progress(s, cluster, "VersionRollback") {
            return Some(busy);
        }
        let ask = RollbackAsk {
            cluster,
            current: minor(current),
            requested: minor(version),
            upgraded_from: s.upgraded_from.get(cluster).copied().map(minor),
            within_window: true,
            extended_on_standard: false,
            nodegroups_newer: s
                .nodegroups
                .iter()
                .filter(|n| n.version.is_some_and(|v| v > version))
                .map(|n| n.name.as_str())
                .collect(),
            insights_block: s
                .insights
                .iter()
                .any(|i| i.category == "ROLLBACK_READINESS" && i.status == "ERROR"),
            force,
        };
        eks_rules::refuse_rollback(&ask).map(failure)
    }
}
