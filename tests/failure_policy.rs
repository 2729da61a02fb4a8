//! The README's table of EKS answers ("What it does with each EKS answer") is checked against
//! the one failure policy, `domain::eks::decide`: every error code the table names must lead,
//! for the hop's calls (UpdateClusterVersion, and UpdateAddon for a DEGRADED add-on), to what
//! the table says.

use eks_upgrade_orchestrator::domain::eks::{decide, Action, Answered, Operation};

/// What the table says an action makes of the record.
fn outcome(action: Action) -> &'static str {
    match action {
        Action::Block => "`BLOCKED`",
        Action::Fail => "`FAILED`",
        Action::WaitForOther => "**adopted**",
        Action::Retry => "tries again",
        Action::Gone => "skipped",
    }
}

/// The call the table's row is about.
fn operation(code: &str) -> Operation {
    match code {
        "InvalidRequestException" => Operation::UpdateAddon,
        _ => Operation::UpdateClusterVersion,
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
            let action = decide(operation(code), code, Answered::Status(status(code)), "");
            assert!(
                becomes.contains(outcome(action)),
                "README: {code} is {action:?} by the policy, so the table should say {}: {becomes}",
                outcome(action)
            );
            checked += 1;
        }
        if says.contains("throttling, 5xx") {
            for code in ["ThrottlingException", "ServerException", "ServiceUnavailableException"] {
                let answered = Answered::Status(status(code));
                assert_eq!(decide(Operation::DescribeUpdate, code, answered, ""), Action::Retry);
            }
            assert_eq!(
                decide(Operation::DescribeUpdate, "", Answered::NoAnswer, ""),
                Action::Retry
            );
            assert!(becomes.contains(outcome(Action::Retry)), "{becomes}");
            checked += 1;
        }
    }
    assert!(checked >= 9, "the table was found and read: {checked} answers checked");
}
