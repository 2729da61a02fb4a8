//! Insights: the seeded or injected ones of a cluster plus the UPGRADE_READINESS checks
//! generated for its next minor version and, while a rollback is possible, the
//! ROLLBACK_READINESS checks generated for its previous minor (ListInsights). ERROR
//! insights of category UPGRADE_READINESS block UpdateClusterVersion to their version,
//! of category ROLLBACK_READINESS a rollback to theirs.

use super::data::cluster::Cluster;
use super::data::insight::{Insight, InsightCategory, InsightStatus};
use super::state::{paginate, Page, State};
use serde::Deserialize;

use crate::error::ApiError;
use crate::util::{next_minor, stable_id};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InsightsFilterReq {
    categories: Option<Vec<String>>,
    kubernetes_versions: Option<Vec<String>>,
    statuses: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListInsightsReq {
    filter: Option<InsightsFilterReq>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

/// Whether a filter list (absent or empty: anything) admits `value`.
fn admits(filter: &Option<Vec<String>>, value: &str) -> bool {
    filter
        .as_ref()
        .is_none_or(|v| v.is_empty() || v.iter().any(|f| f == value))
}

/// A generated check: (name, status, reason, description).
type Check = (String, InsightStatus, String, String);

/// The UPGRADE_READINESS checks EKS runs for the next minor `next`; never ERROR.
fn readiness_checks(state: &State, c: &Cluster, next: &str) -> Vec<Check> {
    let behind: Vec<&str> = c
        .nodegroups
        .values()
        .filter(|n| n.version != c.version)
        .map(|n| n.name.as_str())
        .collect();
    let incompatible: Vec<&str> = c
        .addons
        .values()
        .filter(|a| !state.addon_compatible(&a.name, &a.version, next))
        .map(|a| a.name.as_str())
        .collect();
    let passing_if = |ok: bool| {
        if ok {
            InsightStatus::Passing
        } else {
            InsightStatus::Warning
        }
    };
    vec![
        (
            "Kubelet version skew".into(),
            passing_if(behind.is_empty()),
            if behind.is_empty() {
                "Node kubelet versions match the control plane version.".to_string()
            } else {
                format!("Node groups {} run a kubelet older than the control plane.", behind.join(", "))
            },
            "Checks for kubelet versions of worker nodes in the cluster to see if an upgrade would cause noncompliance with supported Kubernetes kubelet version skew policy.".into(),
        ),
        (
            "Amazon EKS add-on version compatibility".into(),
            passing_if(incompatible.is_empty()),
            if incompatible.is_empty() {
                "All installed add-on versions are compatible with the next Kubernetes version.".to_string()
            } else {
                format!("Add-ons {} are not compatible with Kubernetes {next}; update them after the control plane.", incompatible.join(", "))
            },
            "Checks version of installed EKS add-ons to ensure they are compatible with the next version of Kubernetes.".into(),
        ),
        (
            "Cluster health issues".into(),
            InsightStatus::Passing,
            "No cluster health issues detected.".into(),
            "Checks for any cluster health issues that prevent successful upgrade to the next Kubernetes version on EKS.".into(),
        ),
        (
            format!("Deprecated APIs removed in Kubernetes v{next}"),
            InsightStatus::Passing,
            "No deprecated API usage detected within the last 30 days.".into(),
            format!("Checks for usage of deprecated APIs that are scheduled for removal in Kubernetes v{next}."),
        ),
    ]
}

/// The ROLLBACK_READINESS checks EKS runs for a rollback to `prev`; never ERROR (names
/// inferred from the checks the user guide lists).
fn rollback_checks(state: &State, c: &Cluster, prev: &str) -> Vec<Check> {
    let newer = c.nodegroups_newer_than(prev);
    let incompatible: Vec<&str> = c
        .addons
        .values()
        .filter(|a| !state.addon_compatible(&a.name, &a.version, prev))
        .map(|a| a.name.as_str())
        .collect();
    let status = |ok: bool| {
        if ok {
            InsightStatus::Passing
        } else {
            InsightStatus::Warning
        }
    };
    vec![
        (
            "Kubelet version skew".into(),
            status(newer.is_empty()),
            if newer.is_empty() {
                format!("No node runs a kubelet newer than Kubernetes {prev}.")
            } else {
                format!("Node groups {} run a kubelet newer than Kubernetes {prev}; roll them back with UpdateNodegroupVersion before the control plane.", newer.join(", "))
            },
            "Checks that no worker node would run a kubelet newer than the control plane after the rollback.".into(),
        ),
        (
            "Amazon EKS add-on version compatibility".into(),
            status(incompatible.is_empty()),
            if incompatible.is_empty() {
                format!("All installed add-on versions are compatible with Kubernetes {prev}.")
            } else {
                format!("Add-ons {} are not compatible with Kubernetes {prev}; downgrade them before rolling back.", incompatible.join(", "))
            },
            "Checks version of installed EKS add-ons to ensure they are compatible with the previous version of Kubernetes.".into(),
        ),
        (
            "Cluster health issues".into(),
            InsightStatus::Passing,
            "No cluster health issues detected.".into(),
            "Checks for any cluster health issues that prevent a successful rollback to the previous Kubernetes version on EKS.".into(),
        ),
        (
            "Kubernetes API compatibility".into(),
            InsightStatus::Passing,
            format!("No use of APIs or fields unavailable in Kubernetes {prev} detected."),
            format!("Checks for resources stored with APIs or fields that Kubernetes {prev} cannot serve."),
        ),
    ]
}

/// Adds the generated `checks` of `category` for `version` that `all` does not override.
fn add_generated(
    all: &mut Vec<Insight>,
    c: &Cluster,
    category: InsightCategory,
    version: &str,
    checks: Vec<Check>,
    now: f64,
) {
    for (name, status, reason, description) in checks {
        if all.iter().any(|i| i.name == name && i.kubernetes_version == version) {
            continue;
        }
        let key = match category {
            InsightCategory::UpgradeReadiness => format!("{}/{name}/{version}", c.name),
            other => format!("{}/{name}/{version}/{other}", c.name),
        };
        all.push(Insight {
            id: stable_id(&key),
            name,
            category,
            kubernetes_version: version.to_string(),
            status,
            reason,
            description,
            last_refresh: now,
            last_transition: c.created_at,
        });
    }
}

impl State {
    /// The insights of a cluster as of `now` (refreshed now): its own plus the generated
    /// checks for the next minor (when the version table has it) and, while a rollback is
    /// possible, for the previous minor, that it does not override; ERROR first, then by
    /// name.
    pub(super) fn insights_of(&self, c: &Cluster, now: f64) -> Vec<Insight> {
        let mut all = c.insights.clone();
        if let Some(next) = next_minor(&c.version).filter(|n| self.version_info(n).is_some()) {
            let checks = readiness_checks(self, c, &next);
            add_generated(&mut all, c, InsightCategory::UpgradeReadiness, &next, checks, now);
        }
        if let Some(prev) = c.rollback_target(now) {
            let checks = rollback_checks(self, c, &prev);
            add_generated(&mut all, c, InsightCategory::RollbackReadiness, &prev, checks, now);
        }
        for i in &mut all {
            i.last_refresh = now.max(i.last_refresh);
        }
        all.sort_by(|a, b| a.status.rank().cmp(&b.status.rank()).then_with(|| a.name.cmp(&b.name)));
        all
    }

    pub(crate) fn list_insights(&self, name: &str, req: ListInsightsReq, now: f64) -> Result<Page<Insight>, ApiError> {
        let c = self.cluster(name)?;
        let f = req.filter.unwrap_or_default();
        let items: Vec<Insight> = self
            .insights_of(c, now)
            .into_iter()
            .filter(|i| admits(&f.categories, i.category.as_str()))
            .filter(|i| admits(&f.kubernetes_versions, &i.kubernetes_version))
            .filter(|i| admits(&f.statuses, i.status.as_str()))
            .collect();
        paginate(items, req.max_results, req.next_token.as_deref())
    }
}
