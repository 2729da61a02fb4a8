//! Add-ons in a plan: each goes to EKS's default version for the hop's Kubernetes unless it
//! already runs there on a version at least as new; a hop is blocked when one has no version
//! for it.

use super::{AddonStep, Gate, GateResult};
use crate::domain::eks::{AddonVersionOption, Survey};
use crate::domain::version::KubeVersion;

/// Each add-on's move in the hop to `to`, and the gate: every add-on has a version for `to`.
pub(super) fn plan_addons(
    survey: &Survey,
    to: KubeVersion,
    addon_versions: &mut [(String, String)],
) -> (Vec<AddonStep>, GateResult) {
    let mut steps = Vec::new();
    let mut incompatible = Vec::new();
    for (name, version) in addon_versions.iter_mut() {
        let options = survey
            .addon_versions
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, o)| o.as_slice())
            .unwrap_or_default();
        let step = addon_step(name, version, options, to);
        match &step.to {
            Some(next) => *version = next.clone(),
            None if !runs_on(options, version, to) => incompatible.push(format!("{name} ({version})")),
            None => {}
        }
        steps.push(step);
    }
    let gate = GateResult {
        checked: true,
        gate: Gate::AddonVersions,
        passed: incompatible.is_empty(),
        detail: if incompatible.is_empty() {
            format!("every installed add-on has a version compatible with {to}")
        } else {
            format!("no version compatible with {to} for: {}", incompatible.join(", "))
        },
    };
    (steps, gate)
}

/// With the control plane at `current` and no hop to make: the add-ons behind EKS's default
/// for it, moved there.
pub(super) fn finish_addons(survey: &Survey, current: KubeVersion) -> Vec<AddonStep> {
    survey
        .addons
        .iter()
        .map(|addon| {
            let options = survey
                .addon_versions
                .iter()
                .find(|(n, _)| *n == addon.name)
                .map(|(_, o)| o.as_slice())
                .unwrap_or_default();
            addon_step(&addon.name, &addon.version, options, current)
        })
        .filter(|step| step.to.is_some())
        .collect()
}

/// Whether `version` of an add-on runs on Kubernetes `on`.
pub(super) fn runs_on(options: &[AddonVersionOption], version: &str, on: KubeVersion) -> bool {
    options
        .iter()
        .any(|o| o.version == version && o.compatible.iter().any(|(k, _)| *k == on))
}

/// The add-on's move in the hop to `to`: to EKS's default version for `to`, unless the installed
/// version already runs on `to` and is at least as new.
pub(super) fn addon_step(name: &str, installed: &str, options: &[AddonVersionOption], to: KubeVersion) -> AddonStep {
    let compatible: Vec<&AddonVersionOption> = options
        .iter()
        .filter(|o| o.compatible.iter().any(|(k, _)| *k == to))
        .collect();
    let default = compatible
        .iter()
        .find(|o| o.compatible.iter().any(|(k, d)| *k == to && *d))
        .or_else(|| {
            compatible
                .iter()
                .max_by(|a, b| addon_version_order(&a.version, &b.version))
        })
        .map(|o| o.version.clone());
    let step = |to_version: Option<String>, why: String| AddonStep {
        name: name.to_owned(),
        from: installed.to_owned(),
        to: to_version,
        why,
    };
    match default {
        None => step(None, format!("no version compatible with {to}")),
        Some(default) => {
            let installed_runs = runs_on(options, installed, to);
            if installed_runs && addon_version_order(installed, &default) != std::cmp::Ordering::Less {
                step(None, format!("{installed} already runs on {to}"))
            } else if default == installed {
                step(None, format!("{installed} is the default for {to}"))
            } else {
                step(Some(default), format!("the default version for {to}"))
            }
        }
    }
}

/// Orders add-on versions such as `v1.18.6-eksbuild.1` by their numbers.
pub fn addon_version_order(a: &str, b: &str) -> std::cmp::Ordering {
    let numbers = |v: &str| -> Vec<u64> {
        v.split(|c: char| !c.is_ascii_digit())
            .filter(|p| !p.is_empty())
            .filter_map(|p| p.parse().ok())
            .collect()
    };
    numbers(a).cmp(&numbers(b)).then_with(|| a.cmp(b))
}
