//! The `eks-upgrade` command line against the local stack: each command invokes the function
//! through its Lambda endpoint, as against AWS; assertions on what it printed and its exit code.

use super::*;
use clap::Parser;
use eks_upgrade::cli::Cli;

/// Runs `eks-upgrade <args>` against the stack: (exit code, what it printed on stdout, then on
/// stderr).
async fn cli(stack: &Stack, args: &[&str]) -> (i32, String) {
    let (code, out, err) = cli_apart(stack, args).await;
    (code, format!("{out}{err}"))
}

async fn cli_apart(stack: &Stack, args: &[&str]) -> (i32, String, String) {
    static CREDENTIALS: std::sync::Once = std::sync::Once::new();
    // The command line reads the standard chain, as a user's shell has it.
    CREDENTIALS.call_once(|| {
        std::env::set_var("AWS_ACCESS_KEY_ID", "test");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "test");
    });
    let mut all = vec![
        "eks-upgrade",
        "--function",
        FUNCTION,
        "--region",
        "us-east-1",
        "--endpoint-url",
        &stack.lambda_url,
    ];
    all.extend_from_slice(args);
    let parsed = Cli::try_parse_from(&all).unwrap_or_else(|e| panic!("{e}"));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = eks_upgrade::run(parsed, &mut out, &mut err).await;
    (code, String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_upgrade_watch_status_and_a_refusal_from_the_command_line() {
    let stack = Stack::start(Options {
        clusters: vec![("demo", "1.30")],
        update_ms: 300,
        ..Options::default()
    })
    .await;
    let (code, plan) = cli(&stack, &["plan", "--cluster", "demo", "--target", "1.31"]).await;
    assert_eq!(code, 0, "{plan}");
    assert!(
        plan.contains("plan for demo: 1.30 -> 1.31") && plan.contains("FROM  TO"),
        "{plan}"
    );
    let (code, out) = cli(&stack, &["upgrade", "--cluster", "demo", "--target", "1.31", "--watch"]).await;
    assert_eq!(code, 0, "{out}");
    let update = stack.record("demo", "to-1.31").await.unwrap().update_id.unwrap();
    assert!(
        out.contains(&format!("control plane -> 1.31  update {update}  Successful")),
        "{out}"
    );
    assert!(out.lines().any(|l| l.starts_with("SUCCEEDED")), "{out}");
    let (code, status) = cli(&stack, &["status", "--cluster", "demo"]).await;
    assert_eq!(code, 0);
    let row = status
        .lines()
        .find(|l| l.starts_with("to-1.31"))
        .unwrap_or_else(|| panic!("{status}"));
    assert!(row.contains("SUCCEEDED") && row.contains(&update), "{row}");
    let (code, json, _) = cli_apart(&stack, &["status", "--cluster", "demo", "--output", "json"]).await;
    assert_eq!(code, 0);
    let parsed: Value = serde_json::from_str(&json).expect("--output json is JSON");
    assert_eq!(parsed["records"][0]["updateId"], update.as_str());
    // Watching with JSON: stdout is the final record alone, the lines go to stderr.
    let (code, json, lines) = cli_apart(&stack, &["watch", "--cluster", "demo", "--output", "json"]).await;
    assert_eq!(code, 0, "{lines}");
    let record: Value = serde_json::from_str(&json).expect("only JSON on stdout");
    assert_eq!(record["status"], "SUCCEEDED");
    assert_eq!(record["updateId"], update.as_str());
    assert!(lines.contains("SUCCEEDED"), "{lines}");
    // A refused request: one line on stderr with the function's message, exit 1, nothing written.
    let (code, out, refused) = cli_apart(&stack, &["upgrade", "--cluster", "demo", "--target", "1.3a"]).await;
    assert_eq!(code, 1);
    assert!(out.is_empty(), "{out}");
    assert!(
        refused.starts_with("eks-upgrade: refused") && refused.contains("targetVersion"),
        "{refused}"
    );
    assert_eq!(refused.lines().count(), 1, "{refused}");
    let (code, unknown) = cli(&stack, &["plan", "--cluster", "nope", "--target", "1.31"]).await;
    assert_eq!(code, 1, "{unknown}");
    assert!(unknown.contains("nope"), "{unknown}");
    assert_eq!(
        stack.emulator.stats().clusters["demo"].cluster_version_updates_created,
        1
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollout_with_an_approval_and_the_fleet_report_from_the_command_line() {
    let stack = Stack::start(Options {
        clusters: vec![("dev-1", "1.30"), ("prod-1", "1.30")],
        update_ms: 300,
        ..Options::default()
    })
    .await;
    let file = std::env::temp_dir().join(format!("rollout-{}.json", uuid::Uuid::new_v4()));
    std::fs::write(
        &file,
        json!({ "rollout": { "name": "fleet", "targetVersion": "1.31", "stages": [
            { "name": "dev", "clusters": ["dev-1"] },
            { "name": "prod", "clusters": ["prod-1"], "approval": true } ] } })
        .to_string(),
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let (code, out) = cli(&stack, &["rollout", "start", "--file", path, "--watch"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("dev  dev-1  SUCCEEDED"), "{out}");
    assert!(out.contains("stage prod awaits approval"), "{out}");
    let (code, out) = cli(&stack, &["rollout", "approve", "--name", "fleet", "--stage", "prod"]).await;
    assert_eq!(code, 0, "{out}");
    let (code, out) = cli(&stack, &["rollout", "watch", "--name", "fleet", "--interval", "1"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("prod  prod-1  SUCCEEDED") && out.contains("rollout fleet: SUCCEEDED"),
        "{out}"
    );
    let (code, report) = cli(&stack, &["fleet"]).await;
    assert_eq!(code, 0, "{report}");
    assert!(
        report.contains("CLUSTER") && report.contains("dev-1") && report.contains("prod-1"),
        "{report}"
    );
    assert!(report.contains("to-1.31"), "each cluster's last upgrade: {report}");
    let (code, _) = cli(&stack, &["rollout", "approve", "--name", "nope", "--stage", "prod"]).await;
    assert_eq!(code, 1);
    std::fs::remove_file(file).ok();
    stack.stop().await;
}
