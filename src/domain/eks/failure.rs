//! The failure policy: what an AWS error means for the workflow, decided in one place, with no
//! SDK type. The adapters hand every failed call to [`classify`] (its code and how it was
//! answered make a [`FailureKind`]); every step and the rollout ask [`policy`] what to do about
//! it for the operation that failed (an [`Action`], matched exhaustively, so a new kind or
//! action is pointed at by the compiler). [`decide`] is both at once: (operation, code, HTTP
//! status) to what to do. A new error code is one line in `classify` and one case in the test
//! below; a new rule for one operation, one arm in `policy`.

/// How an EKS call failed, by what the workflow does about it. Only [`FailureKind::Transient`]
/// is tried again; the rest is an answer: EKS would say the same again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// ResourceInUseException: another update is in progress.
    ResourceInUse,
    /// InvalidParameterException: skipped minor, same version, unknown version, node groups
    /// behind, a custom AMI given a version. EKS will say the same again.
    InvalidParameter,
    /// InvalidStateException: upgrade-readiness insights block the update.
    InvalidState,
    /// ResourceNotFoundException.
    NotFound,
    /// AccessDeniedException and other refusals of the caller's identity: an operator can fix
    /// the role, so the upgrade waits (BLOCKED) rather than fails.
    AccessDenied,
    /// InvalidRequestException: not now, given the state of the resource (a DEGRADED node
    /// group): an operator can fix it, so the upgrade waits (BLOCKED).
    InvalidRequest,
    /// ClientException, UnsupportedAvailabilityZoneException and any other 4xx: the call can
    /// never succeed as made; the step fails with EKS's code and message.
    Rejected,
    /// Throttling, 5xx, time-outs, connection errors, still failing after the SDK's retries:
    /// the only kind tried again.
    Transient,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EksFailure {
    pub kind: FailureKind,
    /// The error code (e.g. `ResourceInUseException`), when EKS sent one.
    pub code: String,
    /// EKS's message, verbatim.
    pub message: String,
}

impl EksFailure {
    pub fn new(kind: FailureKind, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind,
            code: code.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for EksFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.code.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.code, self.message)
        }
    }
}

/// How a failed call was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answered {
    /// The service answered with this HTTP status (and an error code).
    Status(u16),
    /// No answer: a time-out, a connection error, an answer that could not be read.
    NoAnswer,
    /// The call could not be made as asked (the SDK refused to build it).
    NotSent,
}

/// What the workflow does about an AWS error: the one failure policy. The SDK has already
/// retried throttling, 5xx and connection errors by the time a failure comes here.
pub fn classify(code: &str, answered: Answered) -> FailureKind {
    let status = match answered {
        Answered::NoAnswer => return FailureKind::Transient,
        Answered::NotSent => return FailureKind::Rejected,
        Answered::Status(status) => status,
    };
    if status == 429 || status >= 500 {
        return FailureKind::Transient;
    }
    match code {
        // Throttled or briefly unavailable (whatever status it came with).
        "ThrottlingException"
        // STS's (AssumeRole of a member's spoke role), answered with HTTP 400.
        | "Throttling"
        | "ServerException"
        | "ServiceUnavailableException"
        | "TooManyRequestsException"
        | "ProvisionedThroughputExceededException"
        | "RequestLimitExceeded"
        | "InternalServerError"
        // Credentials that expired between two refreshes: the next attempt signs with new ones.
        | "ExpiredTokenException"
        | "RequestExpired" => FailureKind::Transient,
        "ResourceInUseException" => FailureKind::ResourceInUse,
        "InvalidParameterException" => FailureKind::InvalidParameter,
        "InvalidStateException" => FailureKind::InvalidState,
        "ResourceNotFoundException" => FailureKind::NotFound,
        "InvalidRequestException" => FailureKind::InvalidRequest,
        "AccessDeniedException"
        | "AccessDenied"
        | "UnauthorizedOperation"
        | "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "NotAuthorizedException"
        // STS, assuming a member account's spoke role: the account has not enabled the region,
        // or the hub's own credentials are refused. An operator can fix either.
        | "RegionDisabledException"
        | "InvalidClientTokenId" => FailureKind::AccessDenied,
        // ClientException, UnsupportedAvailabilityZoneException, and anything unmodelled.
        _ => FailureKind::Rejected,
    }
}

/// The call that failed: the same error means different things for different calls (a node
/// group that is gone is skipped when its update is asked for, but fails the upgrade when the
/// cluster is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// DescribeCluster of the cluster being upgraded.
    DescribeCluster,
    /// The preflight's read-only survey of the cluster.
    Survey,
    /// The description of one node group or add-on a survey listed.
    DescribeSurveyedItem,
    /// UpdateClusterVersion: the hop's control-plane update.
    UpdateClusterVersion,
    /// ListUpdates and DescribeUpdate: the updates in progress, after EKS said one is in the way.
    ListUpdates,
    /// DescribeUpdate of someone else's update, waited for.
    DescribeOtherUpdate,
    /// DescribeUpdate of our control-plane update.
    DescribeUpdate,
    /// UpdateAddon.
    UpdateAddon,
    /// UpdateNodegroupVersion.
    UpdateNodegroupVersion,
    /// DescribeUpdate of an add-on's or node group's update.
    DescribeItemUpdate,
    /// The read-only calls of a hop's verification (DescribeCluster, DescribeAlarms ...).
    Verify,
    /// The rollback's read-only look.
    RollbackSurvey,
    /// UpdateClusterVersion down: the control plane's version rollback.
    RollBackClusterVersion,
    /// DescribeUpdate of the version rollback.
    DescribeRollback,
    /// Reading the rollout that started the upgrade.
    ReadRollout,
    /// A rollout's DescribeCluster of a member it found or is about to start.
    DescribeMember,
}

/// What to do about a failed call: the decision every step and the rollout act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A fault: the same call again after the poll interval. Only this is retried.
    Retry,
    /// Another update holds the resource: follow it to its end, then ask again.
    WaitForOther,
    /// What the call was about is gone: the step skips it or starts over.
    Gone,
    /// An operator can fix it (a permission, a DEGRADED resource, insights, a custom AMI):
    /// BLOCKED with EKS's message, checked again later.
    Block,
    /// The call can never succeed as made: FAILED with EKS's message.
    Fail,
}

/// What to do when `op` failed with `failure`: the one failure policy.
pub fn policy(op: Operation, failure: &EksFailure) -> Action {
    use Operation as Op;
    match failure.kind {
        FailureKind::Transient => Action::Retry,
        FailureKind::ResourceInUse => match op {
            Op::UpdateClusterVersion | Op::RollBackClusterVersion | Op::UpdateAddon | Op::UpdateNodegroupVersion => {
                Action::WaitForOther
            }
            Op::DescribeCluster
            | Op::Survey
            | Op::DescribeSurveyedItem
            | Op::ListUpdates
            | Op::DescribeOtherUpdate
            | Op::DescribeUpdate
            | Op::DescribeItemUpdate
            | Op::Verify
            | Op::RollbackSurvey
            | Op::DescribeRollback
            | Op::ReadRollout
            | Op::DescribeMember => Action::Fail,
        },
        FailureKind::NotFound => match op {
            // Gone between its listing and its description: looked at again later.
            Op::DescribeSurveyedItem => Action::Retry,
            // An update that ended and went, a node group or add-on deleted, a member deleted.
            Op::ListUpdates
            | Op::DescribeOtherUpdate
            | Op::UpdateAddon
            | Op::UpdateNodegroupVersion
            | Op::DescribeMember => Action::Gone,
            // The cluster, or our own update: nothing to go on with.
            Op::DescribeCluster
            | Op::Survey
            | Op::UpdateClusterVersion
            | Op::DescribeUpdate
            | Op::DescribeItemUpdate
            | Op::Verify
            | Op::RollbackSurvey
            | Op::RollBackClusterVersion
            | Op::DescribeRollback
            | Op::ReadRollout => Action::Fail,
        },
        // A launch template naming an image of its own: the operator rolls it (or names the
        // launch template version to use) and the re-check goes on.
        FailureKind::InvalidParameter if op == Op::UpdateNodegroupVersion && failure.message.contains("custom AMI") => {
            Action::Block
        }
        FailureKind::InvalidParameter | FailureKind::Rejected => Action::Fail,
        FailureKind::AccessDenied | FailureKind::InvalidRequest | FailureKind::InvalidState => Action::Block,
    }
}

/// (operation, EKS error code, how it was answered) to what to do: [`classify`] then [`policy`].
pub fn decide(op: Operation, code: &str, answered: Answered, message: &str) -> Action {
    policy(op, &EksFailure::new(classify(code, answered), code, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_operation_decides_what_a_failure_means() {
        use Action::*;
        use Operation::*;
        let s = Answered::Status;
        let cases = [
            (UpdateClusterVersion, "ResourceInUseException", s(409), "", WaitForOther),
            (
                UpdateNodegroupVersion,
                "ResourceInUseException",
                s(409),
                "",
                WaitForOther,
            ),
            (
                RollBackClusterVersion,
                "ResourceInUseException",
                s(409),
                "",
                WaitForOther,
            ),
            (DescribeUpdate, "ResourceInUseException", s(409), "", Fail),
            (UpdateClusterVersion, "ResourceNotFoundException", s(404), "", Fail),
            (DescribeCluster, "ResourceNotFoundException", s(404), "", Fail),
            (DescribeUpdate, "ResourceNotFoundException", s(404), "", Fail),
            (UpdateAddon, "ResourceNotFoundException", s(404), "", Gone),
            (ListUpdates, "ResourceNotFoundException", s(404), "", Gone),
            (DescribeMember, "ResourceNotFoundException", s(404), "", Gone),
            (DescribeSurveyedItem, "ResourceNotFoundException", s(404), "", Retry),
            (
                UpdateNodegroupVersion,
                "InvalidParameterException",
                s(400),
                "uses a custom AMI",
                Block,
            ),
            (
                UpdateClusterVersion,
                "InvalidParameterException",
                s(400),
                "uses a custom AMI",
                Fail,
            ),
            (UpdateNodegroupVersion, "InvalidParameterException", s(400), "", Fail),
            (UpdateClusterVersion, "InvalidStateException", s(400), "", Block),
            (UpdateAddon, "InvalidRequestException", s(400), "", Block),
            (DescribeCluster, "AccessDeniedException", s(403), "", Block),
            (UpdateClusterVersion, "ClientException", s(400), "", Fail),
            (UpdateClusterVersion, "ThrottlingException", s(429), "", Retry),
            (DescribeUpdate, "", Answered::NoAnswer, "", Retry),
            (UpdateClusterVersion, "InvalidParameterException", s(503), "", Retry),
        ];
        for (op, code, answered, message, action) in cases {
            assert_eq!(
                decide(op, code, answered, message),
                action,
                "{op:?} {code} {answered:?}"
            );
        }
    }

    #[test]
    fn every_answer_of_eks_has_one_policy() {
        use Answered::*;
        use FailureKind::*;
        let cases = [
            ("ResourceInUseException", Status(409), ResourceInUse),
            ("InvalidParameterException", Status(400), InvalidParameter),
            ("InvalidStateException", Status(400), InvalidState),
            ("ResourceNotFoundException", Status(404), NotFound),
            ("InvalidRequestException", Status(400), InvalidRequest),
            ("AccessDeniedException", Status(403), AccessDenied),
            ("AccessDenied", Status(403), AccessDenied),
            ("RegionDisabledException", Status(403), AccessDenied),
            ("Throttling", Status(400), Transient),
            ("InvalidClientTokenId", Status(403), AccessDenied),
            ("ClientException", Status(400), Rejected),
            ("UnsupportedAvailabilityZoneException", Status(400), Rejected),
            ("SomethingNew", Status(400), Rejected),
            ("ThrottlingException", Status(429), Transient),
            ("ThrottlingException", Status(400), Transient),
            ("ServerException", Status(500), Transient),
            ("ServiceUnavailableException", Status(503), Transient),
            // A 5xx is a fault whatever its code says.
            ("InvalidParameterException", Status(502), Transient),
            ("ExpiredTokenException", Status(400), Transient),
            ("", NoAnswer, Transient),
            ("", NotSent, Rejected),
        ];
        for (code, answered, kind) in cases {
            assert_eq!(classify(code, answered), kind, "{code} {answered:?}");
        }
    }
}
