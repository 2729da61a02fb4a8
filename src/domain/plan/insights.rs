//! The upgrade-readiness insights gate of a hop.

use super::{Gate, GateResult};
use crate::domain::eks::Survey;
use crate::domain::version::KubeVersion;

/// The upgrade-readiness insights for `to`. EKS computes them for the next minor only (about
/// daily), so a later hop's insights are not checked yet: its preflight checks them.
pub(super) fn insights_gate(
    survey: &Survey,
    to: KubeVersion,
    next_minor: bool,
    force: bool,
    warnings: &mut Vec<String>,
) -> GateResult {
    let to_text = to.to_string();
    let relevant: Vec<_> = survey
        .insights
        .iter()
        .filter(|i| i.category == "UPGRADE_READINESS" && i.kubernetes_version.as_deref() == Some(to_text.as_str()))
        .collect();
    let unchecked = |detail: String| GateResult {
        gate: Gate::UpgradeInsights,
        passed: true,
        checked: false,
        detail,
    };
    if !next_minor {
        return unchecked(format!(
            "not checked yet: EKS computes upgrade insights for the next minor only; checked at the preflight of the hop to {to}"
        ));
    }
    if relevant.is_empty() {
        return unchecked(format!(
            "not checked: EKS reports no upgrade insight for {to} yet (it computes them about daily); EKS checks them again when the update is asked for"
        ));
    }
    let errors: Vec<String> = relevant
        .iter()
        .filter(|i| i.status == "ERROR")
        .map(|i| format!("{}: {}", i.name, i.reason))
        .collect();
    for warning in relevant.iter().filter(|i| i.status == "WARNING") {
        warnings.push(format!(
            "upgrade insight for {to}: {}: {}",
            warning.name, warning.reason
        ));
    }
    if !errors.is_empty() && force {
        for error in &errors {
            warnings.push(format!(
                "upgrade insight for {to} (ERROR, overridden by force): {error}"
            ));
        }
    }
    GateResult {
        gate: Gate::UpgradeInsights,
        passed: errors.is_empty() || force,
        checked: true,
        detail: if errors.is_empty() {
            format!("no ERROR insight for {to} ({} checked)", relevant.len())
        } else if force {
            format!("ERROR insights for {to} overridden by force: {}", errors.join("; "))
        } else {
            format!(
                "ERROR insights for {to} (send \"force\": true to override): {}",
                errors.join("; ")
            )
        },
    }
}
