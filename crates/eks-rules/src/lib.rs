//! What real EKS refuses, in its order and with its messages (`../shared/reference/eks-api.md`;
//! where EKS documents none, as for a refused rollback, `messages.rs` says so),
//! shared by both simulators of EKS: the emulator's model (`crates/eks-emulator/src/model/`)
//! and the in-memory fake behind the orchestrator's `Eks` port (`src/ports/eks_fake/`). An EKS
//! shape is modelled here once; each simulator only gathers the facts a rule reads from its own
//! state. No dependency, so the Lambda binary links nothing of it (the fake is test-only).

pub mod messages;

/// A Kubernetes version as (major, minor), compared numerically.
pub type Minor = (u32, u32);

/// The error code EKS answers a refusal with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    ResourceInUse,
    InvalidParameter,
    InvalidRequest,
    InvalidState,
    ResourceNotFound,
}

impl Code {
    /// The code on the wire (`x-amzn-errortype`, `__type`).
    pub fn as_str(self) -> &'static str {
        match self {
            Code::ResourceInUse => "ResourceInUseException",
            Code::InvalidParameter => "InvalidParameterException",
            Code::InvalidRequest => "InvalidRequestException",
            Code::InvalidState => "InvalidStateException",
            Code::ResourceNotFound => "ResourceNotFoundException",
        }
    }
}

/// A refusal: EKS's code and its message, verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: Code,
    pub message: String,
}

impl Refusal {
    fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

fn shown(v: Minor) -> String {
    format!("{}.{}", v.0, v.1)
}

/// What UpdateClusterVersion to a newer version is checked on (after the update in progress
/// and the cluster's status, which the simulators check first, as EKS does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeAsk<'a> {
    pub current: Minor,
    pub requested: Minor,
    /// Node groups below the control plane's version, by name.
    pub nodegroups_behind: Vec<&'a str>,
    /// An UPGRADE_READINESS insight in ERROR for the requested version.
    pub insights_block: bool,
    pub force: bool,
}

/// The rules of an upgrade, in EKS's order: exactly the next minor, no node group behind, no
/// blocking upgrade-readiness insight unless forced. `None`: EKS accepts it.
pub fn refuse_upgrade(ask: &UpgradeAsk) -> Option<Refusal> {
    let (current, requested) = (shown(ask.current), shown(ask.requested));
    if ask.requested != (ask.current.0, ask.current.1 + 1) {
        return Some(Refusal::new(
            Code::InvalidParameter,
            messages::unsupported_minor_update(&current, &requested),
        ));
    }
    if !ask.nodegroups_behind.is_empty() {
        return Some(Refusal::new(
            Code::InvalidParameter,
            format!(
                "Nodegroups {} must be updated to match cluster version {current} before updating cluster version.",
                ask.nodegroups_behind.join(", ")
            ),
        ));
    }
    if ask.insights_block && !ask.force {
        return Some(Refusal::new(Code::InvalidState, messages::UPGRADE_INSIGHTS_BLOCKING));
    }
    None
}

/// What UpdateClusterVersion to an older version (a version rollback) is checked on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackAsk<'a> {
    pub cluster: &'a str,
    pub current: Minor,
    pub requested: Minor,
    /// The version the cluster was last upgraded from in place, if it was.
    pub upgraded_from: Option<Minor>,
    /// Whether that upgrade completed within EKS's 7 days.
    pub within_window: bool,
    /// The requested version is in extended support and the cluster's `supportType` STANDARD.
    pub extended_on_standard: bool,
    /// Node groups newer than the requested version, by name.
    pub nodegroups_newer: Vec<&'a str>,
    /// A ROLLBACK_READINESS insight in ERROR.
    pub insights_block: bool,
    pub force: bool,
}

/// The prerequisites of a control-plane rollback, in order; `force` overrides only the
/// rollback-readiness insights. `None`: EKS accepts it.
pub fn refuse_rollback(ask: &RollbackAsk) -> Option<Refusal> {
    let (current, requested) = (shown(ask.current), shown(ask.requested));
    let refused = |why: String| {
        Refusal::new(
            Code::InvalidRequest,
            format!(
                "Cluster {} cannot be rolled back to Kubernetes version {requested}: {why}",
                ask.cluster
            ),
        )
    };
    if ask.current.1 == 0 || ask.requested != (ask.current.0, ask.current.1 - 1) {
        return Some(Refusal::new(
            Code::InvalidParameter,
            messages::unsupported_minor_update(&current, &requested),
        ));
    }
    if ask.upgraded_from != Some(ask.requested) {
        return Some(refused(format!(
            "it was not upgraded to {current} in place. A cluster created at its current version cannot be rolled back."
        )));
    }
    if !ask.within_window {
        return Some(refused(format!(
            "the upgrade to {current} completed more than 7 days ago."
        )));
    }
    if ask.extended_on_standard {
        return Some(refused(format!(
            "{requested} is in extended support and the cluster's upgrade policy supportType is STANDARD. Change the \
             upgrade policy to EXTENDED first."
        )));
    }
    if !ask.nodegroups_newer.is_empty() {
        return Some(Refusal::new(
            Code::InvalidParameter,
            format!(
                "Nodegroups {} must be rolled back to version {requested} before rolling back cluster version.",
                ask.nodegroups_newer.join(", ")
            ),
        ));
    }
    if ask.insights_block && !ask.force {
        return Some(Refusal::new(Code::InvalidState, messages::ROLLBACK_INSIGHTS_BLOCKING));
    }
    None
}

#[cfg(test)]
mod tests;
