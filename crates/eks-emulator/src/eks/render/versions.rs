//! The JSON of DescribeClusterVersions.

use serde::Serialize;
use serde_json::Value;

use super::shared::page;
use crate::model::{Page, VersionInfo, VersionStatus};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VersionView<'a> {
    cluster_version: &'a str,
    cluster_type: &'static str,
    default_platform_version: &'a str,
    default_version: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    release_date: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_of_standard_support_date: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_of_extended_support_date: Option<f64>,
    status: &'static str,
    version_status: VersionStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    kubernetes_patch_version: Option<&'a str>,
}

fn version_view(v: &VersionInfo) -> VersionView<'_> {
    VersionView {
        cluster_version: &v.version,
        cluster_type: "eks",
        default_platform_version: &v.platform_version,
        default_version: v.default,
        release_date: v.release_date,
        end_of_standard_support_date: v.end_of_standard,
        end_of_extended_support_date: v.end_of_extended,
        status: v.status.support_status(),
        version_status: v.status,
        kubernetes_patch_version: v.patch.as_deref(),
    }
}

/// DescribeClusterVersions: `{"clusterVersions": [...], "nextToken": ...}`.
pub(crate) fn cluster_versions(p: Page<&VersionInfo>) -> Value {
    page(
        "clusterVersions",
        Page {
            items: p.items.into_iter().map(version_view).collect(),
            next_token: p.next_token,
        },
    )
}
