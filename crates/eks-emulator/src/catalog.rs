//! Built-in defaults: Kubernetes versions 1.28 to 1.36 and an add-on catalogue for
//! vpc-cni, coredns and kube-proxy. A seed document can replace either.

use crate::seed::{AddonCatalogEntry, AddonCatalogVersion, DateValue, SeedVersion};

/// (version, release date, patch version, status); 1.35 is the default version.
const VERSIONS: &[(&str, &str, &str, &str)] = &[
    ("1.28", "2023-09-26", "1.28.15", "EXTENDED_SUPPORT"),
    ("1.29", "2024-01-23", "1.29.15", "EXTENDED_SUPPORT"),
    ("1.30", "2024-05-23", "1.30.14", "EXTENDED_SUPPORT"),
    ("1.31", "2024-09-26", "1.31.13", "EXTENDED_SUPPORT"),
    ("1.32", "2025-01-23", "1.32.9", "EXTENDED_SUPPORT"),
    ("1.33", "2025-05-29", "1.33.5", "EXTENDED_SUPPORT"),
    ("1.34", "2025-10-02", "1.34.2", "STANDARD_SUPPORT"),
    ("1.35", "2026-01-27", "1.35.1", "STANDARD_SUPPORT"),
    ("1.36", "2026-05-28", "1.36.0", "STANDARD_SUPPORT"),
];

const DEFAULT_VERSION: &str = "1.35";

/// The built-in table of Kubernetes versions.
pub fn default_versions() -> Vec<SeedVersion> {
    VERSIONS
        .iter()
        .map(|(v, rel, patch, status)| SeedVersion {
            version: v.to_string(),
            version_status: Some(status.to_string()),
            default_version: *v == DEFAULT_VERSION,
            platform_version: Some("eks.1".into()),
            release_date: Some(DateValue::Text(rel.to_string())),
            end_of_standard_support_date: None,
            end_of_extended_support_date: None,
            kubernetes_patch_version: Some(patch.to_string()),
        })
        .collect()
}

fn range(from: u32, to: u32) -> Vec<String> {
    (from..=to).map(|m| format!("1.{m}")).collect()
}

fn v(version: &str, from: u32, to: u32, default_for: &[u32]) -> AddonCatalogVersion {
    AddonCatalogVersion {
        addon_version: version.to_string(),
        cluster_versions: range(from, to),
        default_for: default_for.iter().map(|m| format!("1.{m}")).collect(),
    }
}

/// The built-in add-on catalogue.
pub fn default_addon_catalog() -> Vec<AddonCatalogEntry> {
    let entry = |name: &str, versions: Vec<AddonCatalogVersion>| AddonCatalogEntry {
        addon_name: name.to_string(),
        addon_type: Some("networking".into()),
        publisher: Some("eks".into()),
        owner: Some("aws".into()),
        versions,
    };
    let kube_proxy: Vec<AddonCatalogVersion> = [
        (28, "v1.28.12-eksbuild.2", "v1.28.15-eksbuild.26"),
        (29, "v1.29.7-eksbuild.2", "v1.29.15-eksbuild.12"),
        (30, "v1.30.3-eksbuild.2", "v1.30.14-eksbuild.6"),
        (31, "v1.31.2-eksbuild.3", "v1.31.13-eksbuild.2"),
        (32, "v1.32.0-eksbuild.2", "v1.32.9-eksbuild.2"),
        (33, "v1.33.0-eksbuild.2", "v1.33.5-eksbuild.2"),
        (34, "v1.34.0-eksbuild.2", "v1.34.2-eksbuild.1"),
        (35, "v1.35.0-eksbuild.1", "v1.35.1-eksbuild.1"),
    ]
    .iter()
    .flat_map(|(m, old, new)| [v(old, *m, *m, &[]), v(new, *m, *m, &[*m])])
    .chain([v("v1.36.0-eksbuild.1", 36, 36, &[36])])
    .collect();
    vec![
        entry(
            "vpc-cni",
            vec![
                v("v1.18.3-eksbuild.3", 28, 31, &[]),
                v("v1.18.6-eksbuild.1", 28, 32, &[28, 29]),
                v("v1.19.2-eksbuild.1", 28, 33, &[30, 31]),
                v("v1.19.6-eksbuild.7", 29, 34, &[32, 33]),
                v("v1.20.4-eksbuild.2", 30, 36, &[34, 35]),
                v("v1.21.1-eksbuild.1", 31, 36, &[36]),
            ],
        ),
        entry(
            "coredns",
            vec![
                v("v1.10.1-eksbuild.18", 28, 29, &[28]),
                v("v1.11.1-eksbuild.13", 29, 31, &[29]),
                v("v1.11.3-eksbuild.2", 29, 32, &[30, 31]),
                v("v1.11.4-eksbuild.14", 30, 33, &[32]),
                v("v1.12.1-eksbuild.2", 32, 34, &[33]),
                v("v1.12.4-eksbuild.1", 33, 36, &[34, 35]),
                v("v1.13.1-eksbuild.1", 34, 36, &[36]),
            ],
        ),
        entry("kube-proxy", kube_proxy),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_version_has_one_default_per_addon() {
        let versions = default_versions();
        assert_eq!(versions.iter().filter(|v| v.default_version).count(), 1);
        for entry in default_addon_catalog() {
            for k in &versions {
                let defaults: Vec<_> = entry
                    .versions
                    .iter()
                    .filter(|v| v.default_for.contains(&k.version))
                    .collect();
                assert_eq!(defaults.len(), 1, "{} {}", entry.addon_name, k.version);
                assert!(defaults[0].cluster_versions.contains(&k.version));
            }
        }
    }
}
