//! What the fake EKS refuses, with the real service's messages (the rollback's as the
//! emulator models them, see crates/eks-emulator/src/model/rollback.rs).

use super::{FakeEks, FakeEksState};
use crate::domain::{EksFailure, FailureKind, KubeVersion, UpdateState};

impl FakeEks {
    /// EKS's refusal of a `kind` of update while another update of the cluster runs.
    fn update_in_progress(s: &FakeEksState, cluster: &str, kind: &str) -> Option<EksFailure> {
        let running = s
            .updates
            .values()
            .find(|u| u.cluster == cluster && u.state == UpdateState::InProgress)?;
        Some(EksFailure::new(
            FailureKind::ResourceInUse,
            "ResourceInUseException",
            format!(
                "Cannot {kind} because cluster {cluster} currently has update {} in progress",
                running.id
            ),
        ))
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
        let behind: Vec<&str> = s
            .nodegroups
            .iter()
            .filter(|n| n.version.is_some_and(|v| v < current))
            .map(|n| n.name.as_str())
            .collect();
        if !behind.is_empty() {
            return Some(EksFailure::new(
                FailureKind::InvalidParameter,
                "InvalidParameterException",
                format!(
                    "Nodegroups {} must be updated to match cluster version {current} before updating cluster version.",
                    behind.join(", ")
                ),
            ));
        }
        if version != current.next_minor() {
            return Some(EksFailure::new(
                FailureKind::InvalidParameter,
                "InvalidParameterException",
                format!("Unsupported Kubernetes minor version update from {current} to {version}"),
            ));
        }
        if !force && s.blocking_insights.iter().any(|c| c == cluster) {
            return Some(EksFailure::new(
                FailureKind::InvalidState,
                "InvalidStateException",
                "Upgrade readiness issues detected. Call the EKS ListInsights API to view upgrade blocking issues \
                 detected by EKS. Pass the force flag to override upgrade readiness errors and proceed with upgrade.",
            ));
        }
        None
    }

    /// Why EKS refuses a control-plane rollback to `version`, with the emulator's messages
    /// (see crates/eks-emulator/src/model/rollback.rs); none if it accepts.
    pub(super) fn rollback_refusal(
        s: &FakeEksState,
        cluster: &str,
        current: KubeVersion,
        version: KubeVersion,
        force: bool,
    ) -> Option<EksFailure> {
        let refused = |why: String| {
            EksFailure::new(
                FailureKind::InvalidRequest,
                "InvalidRequestException",
                format!("Cluster {cluster} cannot be rolled back to Kubernetes version {version}: {why}"),
            )
        };
        if let Some(busy) = Self::update_in_progress(s, cluster, "VersionRollback") {
            return Some(busy);
        }
        if s.upgraded_from.get(cluster) != Some(&version) {
            return Some(refused(format!(
                "it was not upgraded to {current} in place. A cluster created at its current version cannot be rolled back."
            )));
        }
        let newer: Vec<&str> = s
            .nodegroups
            .iter()
            .filter(|n| n.version.is_some_and(|v| v > version))
            .map(|n| n.name.as_str())
            .collect();
        if !newer.is_empty() {
            return Some(EksFailure::new(
                FailureKind::InvalidParameter,
                "InvalidParameterException",
                format!(
                    "Nodegroups {} must be rolled back to version {version} before rolling back cluster version.",
                    newer.join(", ")
                ),
            ));
        }
        let blocking = s
            .insights
            .iter()
            .any(|i| i.category == "ROLLBACK_READINESS" && i.status == "ERROR");
        if blocking && !force {
            return Some(EksFailure::new(
                FailureKind::InvalidState,
                "InvalidStateException",
                "Rollback readiness issues detected. Call the EKS ListInsights API to view rollback blocking issues \
                 detected by EKS. Pass the force flag to override rollback readiness errors and proceed with rollback.",
            ));
        }
        None
    }
}
