//! The template's dashboard and alarms name only metrics the function emits (in the namespace
//! and with the dimension it emits them with), and the dashboard shows each of them.

use eks_upgrade_orchestrator::domain::metrics::{ALL, NAMESPACE};
use serde_json::Value;
use yaml_rust2::{Yaml, YamlLoader};

fn template() -> Yaml {
    let text = std::fs::read_to_string(format!("{}/template.yaml", env!("CARGO_MANIFEST_DIR"))).unwrap();
    YamlLoader::load_from_str(&text).unwrap().remove(0)
}

/// The dashboard's body, its `${...}` substitutions filled in as CloudFormation would.
fn dashboard() -> Value {
    let t = template();
    let body = t["Resources"]["OperatorDashboard"]["Properties"]["DashboardBody"]
        .as_str()
        .expect("a !Sub string")
        .replace("${AWS::Region}", "us-east-1")
        .replace("${FunctionName}", "eks-upgrade-orchestrator");
    assert!(!body.contains("${"), "every substitution known");
    serde_json::from_str(&body).expect("the dashboard body is JSON")
}

/// Each metric a widget names in `namespace` (explicit rows, `.` repeating the row above, and
/// `MetricName="..."` in a SEARCH expression).
fn dashboard_metrics(namespace: &str) -> Vec<String> {
    let mut names = Vec::new();
    for widget in dashboard()["widgets"].as_array().unwrap() {
        let mut previous: Vec<Value> = Vec::new();
        for row in widget["properties"]["metrics"].as_array().unwrap() {
            let row = row.as_array().unwrap();
            if let Some(expression) = row[0]["expression"].as_str() {
                assert!(expression.contains(&format!("{{{namespace},")) || !expression.contains(namespace));
                if let Some(rest) = expression.split("MetricName=\"").nth(1) {
                    names.push(rest.split('"').next().unwrap().to_owned());
                }
                continue;
            }
            let mut full: Vec<Value> = if row[0] == "..." {
                let mut p = previous[..previous.len() - (row.len() - 1)].to_vec();
                p.extend(row[1..].iter().cloned());
                p
            } else {
                row.iter()
                    .enumerate()
                    .map(|(i, v)| if v == "." { previous[i].clone() } else { v.clone() })
                    .collect()
            };
            full.retain(|v| v.is_string());
            if full[0] == namespace {
                names.push(full[1].as_str().unwrap().to_owned());
            }
            previous = full;
        }
    }
    names
}

#[test]
fn the_dashboard_shows_every_metric_the_function_emits_and_no_other() {
    let shown = dashboard_metrics(NAMESPACE);
    for name in &shown {
        assert!(ALL.contains(&name.as_str()), "{name} is not emitted");
    }
    for name in ALL {
        assert!(shown.iter().any(|s| s == name), "{name} is not on the dashboard");
    }
}

#[test]
fn the_alarms_on_the_functions_metrics_name_only_what_it_emits_and_go_to_the_topic() {
    let t = template();
    let resources = t["Resources"].as_hash().unwrap();
    let mut ours = 0;
    for (name, resource) in resources {
        if resource["Type"].as_str() != Some("AWS::CloudWatch::Alarm") {
            continue;
        }
        let p = &resource["Properties"];
        let actions = p["AlarmActions"].as_vec().unwrap();
        assert_eq!(actions.len(), 1, "{name:?}");
        if p["Namespace"].as_str() != Some(NAMESPACE) {
            continue;
        }
        ours += 1;
        let metric = p["MetricName"].as_str().unwrap();
        assert!(ALL.contains(&metric), "{name:?}: {metric} is not emitted");
        let dimensions = p["Dimensions"].as_vec().unwrap();
        assert_eq!(
            dimensions.len(),
            1,
            "{name:?}: by FunctionName alone, as each metric is also published"
        );
        assert_eq!(dimensions[0]["Name"].as_str(), Some("FunctionName"));
    }
    assert!(ours >= 2, "an upgrade overdue and a rollout stopped");
    for alarm in [
        "UpgradesOverdueAlarm",
        "RolloutStoppedAlarm",
        "FunctionErrorsAlarm",
        "WakeDeadLettersAlarm",
        "FailedInvocationsAlarm",
    ] {
        assert!(!t["Resources"][alarm].is_badvalue(), "{alarm}");
    }
}
