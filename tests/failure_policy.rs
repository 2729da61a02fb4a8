//! The README's table of EKS answers ("What it does with each EKS answer") is checked against
//! the one failure policy, `domain::eks::classify`: every error code the table names must lead
//! to what the table says.

use eks_upgrade_orchestrator::domain::eks::{classify, Answered, FailureKind};

/// What the table says a failure kind makes of the record.
fn outcome(kind: FailureKind) -> &'static str {
    match kind {
        FailureKind::AccessDenied | FailureKind::InvalidRequest | FailureKind::InvalidState => "`BLOCKED`",
        FailureKind::InvalidParameter | FailureKind::Rejected | FailureKind::NotFound => "`FAILED`",
        FailureKind::ResourceInUse => "**adopted**",
        FailureKind::Transient => "tries again",
    }
}

/// The HTTP status EKS answers a code with (eks-api.md, "Errors on the wire").
fn status(code: &str) -> u16 {
    match code {
        "ResourceInUseException" => 409,
        "ResourceNotFoundException" => 404,
        "AccessDeniedException" => 403,
        "ThrottlingException" => 429,
        "ServerException" => 500,
        "ServiceUnavailableException" => 503,
        _ => 400,
    }
}

#[test]
fn the_readmes_table_of_eks_answers_matches_the_failure_policy() {
    let readme = std::fs::read_to_string(format!("{}/README.md", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let table: Vec<&str> = readme
        .lines()
        .skip_while(|l| !l.starts_with("### What it does with each EKS answer"))
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .collect();
    let mut checked = 0;
    for row in table.iter().skip(2) {
        let cells: Vec<&str> = row.split(" | ").collect();
        let (says, becomes) = (cells[0], cells[1]);
        for code in says.split('`').skip(1).step_by(2).filter(|c| c.ends_with("Exception")) {
            let kind = classify(code, Answered::Status(status(code)));
            assert!(
                becomes.contains(outcome(kind)),
                "README: {code} is {kind:?} by the policy, so the table should say {}: {becomes}",
                outcome(kind)
            );
            checked += 1;
        }
        if says.contains("throttling, 5xx") {
            for code in ["ThrottlingException", "ServerException", "ServiceUnavailableException"] {
                assert_eq!(classify(code, Answered::Status(status(code))), FailureKind::Transient);
            }
            assert_eq!(classify("", Answered::NoAnswer), FailureKind::Transient);
            assert!(becomes.contains(outcome(FailureKind::Transient)), "{becomes}");
            checked += 1;
        }
    }
    assert!(checked >= 9, "the table was found and read: {checked} answers checked");
}
