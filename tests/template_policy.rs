//! Least privilege, checked: the function's IAM statements in `template.yaml` name no `*`
//! action, and every resource is this stack's table (and its index), its failure queue, its
//! event bus, the function itself, the account's EKS clusters, node groups and add-ons, or the
//! stack's wake-up schedule group and role. The only `*` resource is for the catalogue look-ups
//! that support no resource-level permissions.

use yaml_rust2::{Yaml, YamlLoader};

fn template() -> Yaml {
    let text = std::fs::read_to_string(format!("{}/template.yaml", env!("CARGO_MANIFEST_DIR"))).unwrap();
    YamlLoader::load_from_str(&text).unwrap().remove(0)
}

/// A statement, or the one a `!If [condition, statement, AWS::NoValue]` grants when its
/// condition holds (the parser drops the tag: the `!If` reads as a three-item list).
fn unconditional(statement: &Yaml) -> Yaml {
    match statement {
        Yaml::Array(items) if items.len() == 3 => items[1].clone(),
        other => other.clone(),
    }
}

fn list(node: &Yaml) -> Vec<String> {
    match node {
        Yaml::String(s) => vec![s.clone()],
        Yaml::Array(items) => items.iter().flat_map(list).collect(),
        _ => Vec::new(),
    }
}

/// Resources the function may name (intrinsic functions' tags are dropped by the parser:
/// `!GetAtt UpgradesTable.Arn` reads as `UpgradesTable.Arn`).
const ALLOWED_RESOURCES: &[&str] = &[
    "arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:cluster/*",
    "arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:nodegroup/*/*/*",
    "arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:addon/*/*/*",
    "UpgradesTable.Arn",
    "${UpgradesTable.Arn}/index/resumable",
    "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${FunctionName}",
    "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/${EventBusName}",
    "FailedInvocations.Arn",
    "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:${VerifyAlarmPrefix}*",
    "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule/${WakeScheduleGroup}/*",
    "WakeRole.Arn",
    "arn:${AWS::Partition}:iam::*:role/${SpokeRoleName}",
];

const CATALOGUE_ACTIONS: &[&str] = &[
    "eks:DescribeClusterVersions",
    "eks:DescribeAddonVersions",
    "eks:ListClusters",
    "ec2:DescribeLaunchTemplateVersions",
];

#[test]
fn the_function_role_is_least_privilege() {
    let template = template();
    let function = &template["Resources"]["Orchestrator"]["Properties"];
    let policies = function["Policies"].as_vec().expect("inline policies");
    let mut statements = 0;
    for policy in policies {
        assert!(
            policy.as_str().is_none(),
            "no managed or SAM policy templates, only explicit statements: {policy:?}"
        );
        for statement in policy["Statement"]
            .as_vec()
            .expect("statements")
            .iter()
            .map(unconditional)
        {
            let statement = &statement;
            statements += 1;
            assert_eq!(statement["Effect"].as_str(), Some("Allow"));
            let actions = list(&statement["Action"]);
            let resources = list(&statement["Resource"]);
            assert!(!actions.is_empty() && !resources.is_empty(), "{statement:?}");
            for action in &actions {
                assert!(!action.contains('*'), "wildcard action {action}");
                assert!(
                    [
                        "eks:",
                        "dynamodb:",
                        "lambda:",
                        "events:",
                        "sqs:",
                        "ec2:Describe",
                        "cloudwatch:DescribeAlarms",
                        "scheduler:",
                        "iam:PassRole",
                        "sts:AssumeRole"
                    ]
                    .iter()
                    .any(|p| action.starts_with(p)),
                    "unexpected service in {action}"
                );
            }
            for resource in &resources {
                if resource == "*" {
                    assert!(
                        actions.iter().all(|a| CATALOGUE_ACTIONS.contains(&a.as_str())),
                        "\"*\" is only for {CATALOGUE_ACTIONS:?}, not {actions:?}"
                    );
                } else {
                    assert!(
                        ALLOWED_RESOURCES.contains(&resource.as_str()),
                        "resource wider than the stack's: {resource}"
                    );
                }
            }
            if actions.iter().any(|a| a.starts_with("dynamodb:")) {
                for action in &actions {
                    assert!(
                        ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"].contains(&action.as_str()),
                        "the function needs no {action}"
                    );
                }
            }
            if actions.iter().any(|a| a == "lambda:InvokeFunction") {
                assert_eq!(
                    resources,
                    ["arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${FunctionName}"],
                    "it may invoke itself only"
                );
            }
        }
    }
    assert!(statements >= 5);
    assert_eq!(
        function["FunctionName"].as_str(),
        Some("FunctionName"),
        "an explicit name, so the policy can name it"
    );
}

#[test]
fn a_wildcard_would_be_caught() {
    // The checks above must be able to fail: the same rules on a too-wide statement.
    let wide = YamlLoader::load_from_str("Action: ['dynamodb:*']\nResource: ['*']")
        .unwrap()
        .remove(0);
    let actions = list(&wide["Action"]);
    assert!(actions.iter().any(|a| a.contains('*')));
    assert!(!ALLOWED_RESOURCES.contains(&"arn:aws:dynamodb:us-east-1:123456789012:table/*"));
}

#[test]
fn the_function_is_bounded_and_async_failures_are_kept() {
    let template = template();
    let function = &template["Resources"]["Orchestrator"]["Properties"];
    assert_eq!(function["RecursiveLoop"].as_str(), Some("Allow"));
    assert_eq!(function["EventInvokeConfig"]["MaximumRetryAttempts"].as_i64(), Some(2));
    assert_eq!(
        function["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]["Type"].as_str(),
        Some("SQS")
    );
    assert_eq!(function["Architectures"][0].as_str(), Some("arm64"));
    assert_eq!(
        (function["MemorySize"].as_i64(), function["Timeout"].as_i64()),
        (Some(128), Some(900))
    );
}

/// Every statement of the function's role.
fn statements(template: &Yaml) -> Vec<Yaml> {
    let function = &template["Resources"]["Orchestrator"]["Properties"];
    function["Policies"]
        .as_vec()
        .expect("inline policies")
        .iter()
        .flat_map(|p| p["Statement"].as_vec().cloned().unwrap_or_default())
        .map(|s| unconditional(&s))
        .collect()
}

#[test]
fn iam_matches_what_the_code_calls() {
    let template = template();
    let statements = statements(&template);
    let with = |action: &str| -> Vec<&Yaml> {
        statements
            .iter()
            .filter(|s| list(&s["Action"]).iter().any(|a| a == action))
            .collect()
    };
    // DescribeUpdate of a node group's or add-on's update is authorized against it.
    let describe_update: Vec<String> = with("eks:DescribeUpdate")
        .iter()
        .flat_map(|s| list(&s["Resource"]))
        .collect();
    for resource in ["cluster/*", "nodegroup/*/*/*", "addon/*/*/*"] {
        assert!(
            describe_update.iter().any(|r| r.ends_with(resource)),
            "eks:DescribeUpdate on {resource}: {describe_update:?}"
        );
    }
    // UpdateClusterVersion only with the enrollment tag, so IAM enforces the opt-in too.
    let update = with("eks:UpdateClusterVersion");
    assert_eq!(update.len(), 1, "one statement grants it");
    let condition = &update[0]["Condition"]["StringEqualsIgnoreCase"];
    let env = &template["Resources"]["Orchestrator"]["Properties"]["Environment"]["Variables"];
    let tag = env["ENROLLMENT_TAG"]
        .as_str()
        .expect("ENROLLMENT_TAG set in the template");
    assert_eq!(
        condition[format!("aws:ResourceTag/{tag}").as_str()].as_str(),
        Some("true"),
        "the condition names the tag the code checks: {:?}",
        update[0]
    );
}

#[test]
fn composite_alarms_are_refused_since_the_scoped_permission_cannot_read_them() {
    // CloudWatch returns composite alarms only to a caller whose cloudwatch:DescribeAlarms is
    // scoped to `*`. The template scopes it to the prefix, so the code must ask for metric
    // alarms only (asking for composite ones would be denied or read them as unknown) and
    // refuse a composite alarm at request time.
    let template = template();
    let scoped = statements(&template)
        .iter()
        .filter(|s| list(&s["Action"]).contains(&"cloudwatch:DescribeAlarms".to_owned()))
        .all(|s| !list(&s["Resource"]).contains(&"*".to_owned()));
    assert!(scoped, "DescribeAlarms is scoped to the prefix, not `*`");
    let adapter =
        std::fs::read_to_string(format!("{}/src/adapters/cloudwatch.rs", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let code: String = adapter
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        code.contains(".alarm_types(AlarmType::MetricAlarm)"),
        "asks for metric alarms"
    );
    assert!(!code.contains("CompositeAlarm"), "never asks for composite alarms");
    let refusal = eks_upgrade_orchestrator::domain::plan::unknown_alarm("x");
    assert!(refusal.contains("composite alarms are not supported"), "{refusal}");
}

#[test]
fn the_alarms_iam_lets_it_read_are_the_ones_the_code_accepts() {
    let template = template();
    let statements = statements(&template);
    let alarms: Vec<&Yaml> = statements
        .iter()
        .filter(|s| list(&s["Action"]).iter().any(|a| a.starts_with("cloudwatch:")))
        .collect();
    assert_eq!(alarms.len(), 1);
    assert_eq!(list(&alarms[0]["Action"]), ["cloudwatch:DescribeAlarms"], "read only");
    assert_eq!(
        list(&alarms[0]["Resource"]),
        ["arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:${VerifyAlarmPrefix}*"]
    );
    let env = &template["Resources"]["Orchestrator"]["Properties"]["Environment"]["Variables"];
    assert_eq!(
        env["VERIFY_ALARM_PREFIX"].as_str(),
        Some("VerifyAlarmPrefix"),
        "the code checks the same prefix"
    );
}

#[test]
fn notifications_and_intake_failures_are_deliverable_and_alarmed() {
    let template = template();
    let resources = &template["Resources"];
    // EventBridge can't publish to a topic under the AWS-managed SNS key.
    let topic = &resources["UpgradeNotificationsTopic"]["Properties"];
    assert_ne!(topic["KmsMasterKeyId"].as_str(), Some("alias/aws/sns"));
    assert_eq!(topic["KmsMasterKeyId"].as_str(), Some("NotificationsKey"));
    let key_statements = resources["NotificationsKey"]["Properties"]["KeyPolicy"]["Statement"]
        .as_vec()
        .expect("a key policy");
    assert!(
        key_statements.iter().any(|s| {
            list(&s["Principal"]["Service"])
                .iter()
                .any(|p| p == "events.amazonaws.com")
                && list(&s["Action"]).iter().any(|a| a == "kms:GenerateDataKey*")
        }),
        "EventBridge may encrypt for the topic"
    );
    // Both schedules retry, then keep what they could not deliver.
    let events = &resources["Orchestrator"]["Properties"]["Events"];
    for schedule in ["ExampleUpgradeSchedule", "ExampleRolloutSchedule", "Sweep"] {
        let properties = &events[schedule]["Properties"];
        assert!(
            properties["RetryPolicy"]["MaximumRetryAttempts"].as_i64() > Some(0),
            "{schedule}"
        );
        assert_eq!(
            properties["DeadLetterConfig"]["Arn"].as_str(),
            Some("ScheduleDeadLetters.Arn"),
            "{schedule}"
        );
    }
    // Each failure queue has an alarm.
    for queue in ["FailedInvocations", "ScheduleDeadLetters", "WakeDeadLetters"] {
        let alarmed = resources.as_hash().unwrap().values().any(|r| {
            r["Type"].as_str() == Some("AWS::CloudWatch::Alarm")
                && r["Properties"]["Dimensions"][0]["Value"].as_str() == Some(format!("{queue}.QueueName").as_str())
        });
        assert!(alarmed, "no alarm on {queue}");
    }
}

/// The value an intrinsic names in the template: a parameter's default for `!Ref Param`.
fn resolved(template: &Yaml, value: &Yaml) -> Option<String> {
    let text = match value {
        Yaml::String(s) => s.clone(),
        Yaml::Integer(n) => n.to_string(),
        _ => return None,
    };
    let parameter = &template["Parameters"][text.as_str()];
    match &parameter["Default"] {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Integer(n) => Some(n.to_string()),
        _ => Some(text),
    }
}

#[test]
fn the_templates_environment_is_a_configuration_the_function_accepts() {
    let template = template();
    let variables = &template["Resources"]["Orchestrator"]["Properties"]["Environment"]["Variables"];
    let mut env: std::collections::HashMap<String, String> = variables
        .as_hash()
        .expect("variables")
        .iter()
        .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), resolved(&template, v)?)))
        .collect();
    // What Lambda sets, and the table (a resource, not a parameter).
    env.insert("AWS_LAMBDA_FUNCTION_NAME".into(), "eks-upgrade-orchestrator".into());
    env.insert("UPGRADES_TABLE".into(), "upgrades".into());
    env.insert("AWS_REGION".into(), "eu-west-1".into());
    assert_eq!(env.get("HOME_ACCOUNT_ID").map(String::as_str), Some("AWS::AccountId"));
    env.insert("HOME_ACCOUNT_ID".into(), "123456789012".into());
    let config = eks_upgrade_orchestrator::config::Config::from_lookup(|name| env.get(name).cloned())
        .unwrap_or_else(|e| panic!("the template's defaults don't start the function: {e}"));
    assert_eq!(
        config.limits.sweep_period_secs, 1800,
        "a backstop only: wake-ups wake parked upgrades"
    );
    let wake = config.wake.expect("wake-ups are on");
    assert_eq!(wake.group, "WakeScheduleGroup");
    assert_eq!(wake.role_arn, "WakeRole.Arn");
    assert_eq!(
        wake.target_arn,
        "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${FunctionName}"
    );
    assert_eq!(wake.dead_letter_arn.as_deref(), Some("WakeDeadLetters.Arn"));
    assert_eq!((wake.park_after_secs, config.limits.update_poll_secs), (60, 60));
    assert_eq!(
        config.limits.wake_lateness_secs, 60,
        "a window needs the hop and Scheduler's minute, not a sweep period"
    );
    assert_eq!(config.limits.max_attempt_secs, 86400);
    assert_eq!(config.limits.verify_alarm_prefix.as_deref(), Some("eks-upgrade-"));
}

#[test]
fn the_example_rollout_schedule_is_off_and_sends_a_rollout_the_function_accepts() {
    let template = template();
    let schedule =
        &template["Resources"]["Orchestrator"]["Properties"]["Events"]["ExampleRolloutSchedule"]["Properties"];
    assert_eq!(schedule["State"].as_str(), Some("RolloutScheduleState"));
    assert_eq!(
        template["Parameters"]["RolloutScheduleState"]["Default"].as_str(),
        Some("DISABLED")
    );
    let input: serde_json::Value = serde_json::from_str(schedule["Input"].as_str().expect("Input")).unwrap();
    match eks_upgrade_orchestrator::domain::decode_event(&input) {
        Ok(eks_upgrade_orchestrator::domain::InboundEvent::Rollout(rollout)) => {
            assert_eq!(rollout.stages.len(), 3);
            assert!(rollout.stages[2].approval, "prod waits for an approval");
        }
        other => panic!("{other:?}"),
    }
    // Discovery needs ListClusters, which supports no resource: the only new "*".
    let list = statements(&template)
        .into_iter()
        .filter(|s| list(&s["Action"]).iter().any(|a| a == "eks:ListClusters"))
        .count();
    assert_eq!(list, 1);
}

/// `describe_cluster_versions` → `DescribeClusterVersions`.
fn operation_name(snake: &str) -> String {
    snake
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The SDK operations an adapter file calls (`.describe_cluster()` and the like), as IAM actions
/// of `service`.
fn called_operations(adapter: &str, service: &str) -> std::collections::BTreeSet<String> {
    let adapter = std::fs::read_to_string(format!("{}/src/adapters/{adapter}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let mut called = std::collections::BTreeSet::new();
    for verb in [
        "describe_",
        "list_",
        "update_",
        "create_",
        "delete_",
        "get_",
        "tag_",
        "untag_",
        "associate_",
        "assume_",
    ] {
        for (at, _) in adapter.match_indices(&format!(".{verb}")) {
            let name: String = adapter[at + 1..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            // An SDK operation is called with no argument: `.describe_cluster()`.
            if adapter[at + 1 + name.len()..].starts_with("()") {
                called.insert(format!("{service}:{}", operation_name(&name)));
            }
        }
    }
    called
}

fn granted(prefix: &str) -> std::collections::BTreeSet<String> {
    statements(&template())
        .iter()
        .flat_map(|s| list(&s["Action"]))
        .filter(|a| a.starts_with(prefix))
        .collect()
}

#[test]
fn the_eks_actions_granted_are_exactly_the_operations_the_adapter_calls() {
    let called = called_operations("eks.rs", "eks");
    assert!(called.len() >= 10, "the adapter's calls were read: {called:?}");
    assert_eq!(
        granted("eks:"),
        called,
        "template.yaml grants exactly the EKS operations src/adapters/eks.rs calls (a new call needs its action; \
         an action no call uses goes)"
    );
}

#[test]
fn wake_ups_are_scoped_to_the_stacks_group_and_role() {
    let template = template();
    let resources = &template["Resources"];
    assert_eq!(
        resources["WakeScheduleGroup"]["Type"].as_str(),
        Some("AWS::Scheduler::ScheduleGroup")
    );
    // The function creates and deletes schedules, exactly what the adapter calls, in its group only.
    let called = called_operations("scheduler.rs", "scheduler");
    assert_eq!(
        called.iter().map(String::as_str).collect::<Vec<_>>(),
        ["scheduler:CreateSchedule", "scheduler:DeleteSchedule"]
    );
    assert_eq!(granted("scheduler:"), called);
    let statements = statements(&template);
    let granting = |action: &str| -> Vec<Yaml> {
        statements
            .iter()
            .filter(|s| list(&s["Action"]).iter().any(|a| a == action))
            .cloned()
            .collect()
    };
    for statement in granting("scheduler:CreateSchedule") {
        assert_eq!(
            list(&statement["Resource"]),
            ["arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule/${WakeScheduleGroup}/*"]
        );
    }
    // It may pass the wake-up role, only that one, and only to EventBridge Scheduler.
    let pass = granting("iam:PassRole");
    assert_eq!(pass.len(), 1);
    assert_eq!(list(&pass[0]["Resource"]), ["WakeRole.Arn"]);
    assert_eq!(
        pass[0]["Condition"]["StringEquals"]["iam:PassedToService"].as_str(),
        Some("scheduler.amazonaws.com")
    );
    // The role: assumed by EventBridge Scheduler for this account's schedules only, allowed to
    // invoke this function and to keep what it could not deliver, nothing else.
    let role = &resources["WakeRole"]["Properties"];
    let trust = role["AssumeRolePolicyDocument"]["Statement"].as_vec().unwrap();
    assert_eq!(trust.len(), 1);
    assert_eq!(list(&trust[0]["Principal"]["Service"]), ["scheduler.amazonaws.com"]);
    assert!(trust[0]["Principal"]["AWS"].is_badvalue(), "no other principal");
    assert_eq!(
        trust[0]["Condition"]["StringEquals"]["aws:SourceAccount"].as_str(),
        Some("AWS::AccountId")
    );
    // Scheduler names the schedule group as the source of the assumption (the schedule for
    // accounts that kept the older form): this stack's group, either way.
    assert_eq!(
        list(&trust[0]["Condition"]["ArnLike"]["aws:SourceArn"]),
        [
            "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule-group/${FunctionName}-wakes",
            "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule/${FunctionName}-wakes/*",
        ]
    );
    assert_eq!(
        template["Parameters"]["FunctionName"]["AllowedPattern"].as_str(),
        Some("^[A-Za-z0-9-_]{1,58}$"),
        "<name>-wakes stays within a schedule group's 64 characters"
    );
    let granted_to_role: Vec<(Vec<String>, Vec<String>)> = role["Policies"]
        .as_vec()
        .unwrap()
        .iter()
        .flat_map(|p| p["PolicyDocument"]["Statement"].as_vec().cloned().unwrap_or_default())
        .map(|s| (list(&s["Action"]), list(&s["Resource"])))
        .collect();
    assert_eq!(
        granted_to_role,
        [
            (
                vec!["lambda:InvokeFunction".to_owned()],
                vec![
                    "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${FunctionName}".to_owned()
                ]
            ),
            (
                vec!["sqs:SendMessage".to_owned()],
                vec!["WakeDeadLetters.Arn".to_owned()]
            ),
        ]
    );
    // The wake-ups the code arranges name that queue, which is alarmed (see above).
    let env = &resources["Orchestrator"]["Properties"]["Environment"]["Variables"];
    assert_eq!(env["WAKE_DEAD_LETTER_ARN"].as_str(), Some("WakeDeadLetters.Arn"));
    assert_eq!(env["WAKE_ROLE_ARN"].as_str(), Some("WakeRole.Arn"));
}

fn spoke_template() -> Yaml {
    let text = std::fs::read_to_string(format!("{}/spoke.yaml", env!("CARGO_MANIFEST_DIR"))).unwrap();
    YamlLoader::load_from_str(&text).unwrap().remove(0)
}

#[test]
fn the_hub_may_assume_only_the_spoke_role_and_only_what_the_code_calls() {
    let called = called_operations("spokes.rs", "sts");
    assert_eq!(
        called.iter().map(String::as_str).collect::<Vec<_>>(),
        ["sts:AssumeRole"]
    );
    assert_eq!(granted("sts:"), called);
    let template = template();
    let assume: Vec<Yaml> = statements(&template)
        .into_iter()
        .filter(|s| list(&s["Action"]).iter().any(|a| a == "sts:AssumeRole"))
        .collect();
    assert_eq!(assume.len(), 1);
    assert_eq!(
        list(&assume[0]["Resource"]),
        ["arn:${AWS::Partition}:iam::*:role/${SpokeRoleName}"],
        "roles of the spoke name only"
    );
    // Only when a spoke role is named, and within the organization when one is given.
    let raw = template["Resources"]["Orchestrator"]["Properties"]["Policies"][0]["Statement"]
        .as_vec()
        .unwrap()
        .iter()
        .find(|s| matches!(s, Yaml::Array(_)))
        .cloned()
        .expect("the grant is conditional");
    assert_eq!(raw[0].as_str(), Some("HasSpokes"));
    let org = &assume[0]["Condition"];
    assert_eq!(org[0].as_str(), Some("HasOrganization"));
    assert_eq!(
        org[1]["StringEquals"]["aws:ResourceOrgID"].as_str(),
        Some("OrganizationId")
    );
    let env = &template["Resources"]["Orchestrator"]["Properties"]["Environment"]["Variables"];
    assert_eq!(env["HOME_ACCOUNT_ID"].as_str(), Some("AWS::AccountId"));
    assert_eq!(
        template["Outputs"]["OrchestratorRoleArn"]["Value"].as_str(),
        Some("OrchestratorRole.Arn"),
        "what spoke.yaml's HubRoleArn takes"
    );
}

#[test]
fn the_spoke_role_trusts_only_the_hub_and_grants_only_the_eks_calls_the_code_makes() {
    let spoke = spoke_template();
    let role = &spoke["Resources"]["SpokeRole"]["Properties"];
    assert_eq!(role["RoleName"].as_str(), Some("SpokeRoleName"));
    let trust = role["AssumeRolePolicyDocument"]["Statement"].as_vec().unwrap();
    assert_eq!(trust.len(), 1);
    assert_eq!(
        list(&trust[0]["Principal"]["AWS"]),
        ["HubRoleArn"],
        "the hub's role only"
    );
    assert!(trust[0]["Principal"]["Service"].is_badvalue());
    assert_eq!(list(&trust[0]["Action"]), ["sts:AssumeRole"]);
    let condition = &trust[0]["Condition"][1]["StringEquals"];
    assert_eq!(condition["sts:ExternalId"][1].as_str(), Some("ExternalId"));
    assert_eq!(condition["aws:PrincipalOrgID"][1].as_str(), Some("OrganizationId"));
    let statements: Vec<Yaml> = role["Policies"]
        .as_vec()
        .unwrap()
        .iter()
        .flat_map(|p| p["PolicyDocument"]["Statement"].as_vec().cloned().unwrap_or_default())
        .collect();
    let granted: std::collections::BTreeSet<String> = statements.iter().flat_map(|s| list(&s["Action"])).collect();
    let mut expected = called_operations("eks.rs", "eks");
    expected.extend(called_operations("cloudwatch.rs", "cloudwatch"));
    expected.insert("ec2:DescribeLaunchTemplateVersions".into());
    assert_eq!(
        granted, expected,
        "the EKS and CloudWatch calls the code makes in a member account, nothing else"
    );
    for statement in &statements {
        assert_eq!(statement["Effect"].as_str(), Some("Allow"));
        let actions = list(&statement["Action"]);
        for resource in list(&statement["Resource"]) {
            if resource == "*" {
                assert!(
                    actions.iter().all(|a| CATALOGUE_ACTIONS.contains(&a.as_str())),
                    "{actions:?}"
                );
            } else if actions.iter().any(|a| a.starts_with("cloudwatch:")) {
                assert_eq!(actions, ["cloudwatch:DescribeAlarms"], "read only");
                assert_eq!(
                    resource, "arn:${AWS::Partition}:cloudwatch:*:${AWS::AccountId}:alarm:${VerifyAlarmPrefix}*",
                    "the member's alarms of the prefix, in any region"
                );
            } else {
                assert!(
                    resource.starts_with("arn:${AWS::Partition}:eks:*:${AWS::AccountId}:"),
                    "the member's own clusters: {resource}"
                );
            }
        }
    }
    // The enrollment tag guards every control-plane update there too: the hub's tag.
    let update: Vec<&Yaml> = statements
        .iter()
        .filter(|s| list(&s["Action"]).iter().any(|a| a == "eks:UpdateClusterVersion"))
        .collect();
    assert_eq!(update.len(), 1);
    let hub = template();
    let tag = hub["Resources"]["Orchestrator"]["Properties"]["Environment"]["Variables"]["ENROLLMENT_TAG"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        update[0]["Condition"]["StringEqualsIgnoreCase"][format!("aws:ResourceTag/{tag}").as_str()].as_str(),
        Some("true")
    );
}
