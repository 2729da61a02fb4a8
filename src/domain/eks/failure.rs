//! The failure policy: what an AWS error means for the workflow, decided in one place, from
//! the error's code and how the call was answered, with no SDK type. The adapters hand every
//! failed call to [`classify`]; each step then acts on the [`FailureKind`] (an exhaustive
//! match, so a new kind is pointed at by the compiler). A new error code is one line here and
//! one case in the test below.

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
        | "NotAuthorizedException" => FailureKind::AccessDenied,
        // ClientException, UnsupportedAvailabilityZoneException, and anything unmodelled.
        _ => FailureKind::Rejected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
