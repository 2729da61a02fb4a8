//! Each command is an event the function accepts (its own decoder says so), and the binary's
//! exit codes: 2 for bad arguments (clap's), 1 with one line when the function can't be named.

use clap::Parser;
use eks_upgrade::cli::Cli;
use eks_upgrade::events::event_for;
use eks_upgrade_orchestrator::domain::{decode_event, InboundEvent};

fn event(args: &[&str]) -> InboundEvent {
    let mut all = vec!["eks-upgrade"];
    all.extend_from_slice(args);
    let cli = Cli::try_parse_from(&all).unwrap_or_else(|e| panic!("{e}"));
    let value = event_for(&cli.command).unwrap();
    decode_event(&value).unwrap_or_else(|e| panic!("{args:?}: {e}: {value}"))
}

#[test]
fn every_command_sends_an_event_the_function_accepts() {
    let arn = "arn:aws:eks:eu-west-1:210987654321:cluster/web";
    match event(&["plan", "-c", "web", "-t", "latest"]) {
        InboundEvent::Upgrade(r) => assert!(r.dry_run),
        other => panic!("{other:?}"),
    }
    match event(&[
        "upgrade",
        "-c",
        "web",
        "--account",
        "210987654321",
        "--cluster-region",
        "eu-west-1",
        "-t",
        "1.31",
        "--force",
    ]) {
        InboundEvent::Upgrade(r) => {
            assert!(r.force && !r.dry_run);
            assert_eq!(r.cluster.key(), arn);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(event(&["status", "-c", arn]), InboundEvent::Status(_)));
    assert!(matches!(
        event(&["watch", "-c", "web", "--request-id", "to-1.31"]),
        InboundEvent::Status(_)
    ));
    assert!(
        matches!(event(&["rollback", "-c", "web", "--request-id", "to-1.31", "--dry-run"]), InboundEvent::Rollback(r) if r.dry_run)
    );
    assert!(matches!(
        event(&["cancel", "-c", "web", "--request-id", "to-1.31"]),
        InboundEvent::Cancel(_)
    ));
    assert!(
        matches!(event(&["fleet", "--tag", "env=prod", "--notify"]), InboundEvent::FleetReport(r) if r.notify && r.tags["env"] == "prod")
    );
    for control in [
        &["rollout", "approve", "-n", "fleet", "--stage", "prod"][..],
        &["rollout", "pause", "-n", "fleet"],
        &["rollout", "resume", "-n", "fleet"],
        &["rollout", "cancel", "-n", "fleet"],
        &["rollout", "skip", "-n", "fleet", "--cluster", "web"],
    ] {
        assert!(matches!(event(control), InboundEvent::RolloutControl(_)), "{control:?}");
    }
    assert!(matches!(
        event(&["rollout", "status", "-n", "fleet"]),
        InboundEvent::RolloutStatus(_)
    ));
    let sample = format!("{}/../../events/rollout.json", env!("CARGO_MANIFEST_DIR"));
    assert!(matches!(event(&["rollout", "start", "-f", &sample, "--dry-run"]), InboundEvent::Rollout(r) if r.dry_run));
}

fn binary(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_eks-upgrade"))
        .args(args)
        .env_remove("EKS_UPGRADE_FUNCTION")
        .env_remove("EKS_UPGRADE_STACK")
        .output()
        .unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (out.status.code().unwrap(), text(out.stdout), text(out.stderr))
}

#[test]
fn bad_arguments_get_clap_errors_and_a_missing_function_one_line() {
    let (code, _, err) = binary(&["upgrade", "-c", "web"]);
    assert_eq!(code, 2);
    assert!(err.contains("--target"), "{err}");
    let (code, _, err) = binary(&["upgrade", "-c", "web", "-t", "1.31", "--account", "210987654321"]);
    assert_eq!(code, 2, "--account needs --cluster-region: {err}");
    let (code, out, err) = binary(&["status", "-c", "web", "--region", "us-east-1"]);
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--function"), "{err}");
    let (code, _, err) = binary(&["rollout", "start", "-f", "/nonexistent.json", "--function", "f"]);
    assert_eq!(code, 1);
    assert!(err.contains("/nonexistent.json"), "{err}");
    let (code, _, err) = binary(&["watch", "-c", "web", "--interval", "0", "--function", "f"]);
    assert_eq!(code, 2, "an interval of at least a second: {err}");
    // --function beside the stack's variable: the function named wins (no clap conflict).
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_eks-upgrade"))
        .args(["rollout", "start", "-f", "/nonexistent.json", "--function", "f"])
        .env("EKS_UPGRADE_STACK", "some-stack")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
}
