//! The rollout's pure steps: assignment, ticks, controls, bounds.

use super::advance::{advance, advance_after_starts, observe, started, wake_at, ChildSeen, StartOutcome};
use super::assign::{new_rollout, Discovered};
use super::commit::{commit, notifications_for, RolloutCommit};
use super::*;
use crate::domain::eks::ClusterView;
use crate::domain::event::rollout::{ControlAction, RolloutControl, RolloutRequest};
use crate::domain::event::{decode_event, InboundEvent};
use crate::domain::record::UpgradeStatus;
use crate::domain::workflow::{Limits, DEFAULT_ENROLLMENT_TAG};
use serde_json::{json, Value};

const NOW: i64 = 1_790_000_000;

fn request(stages: Value) -> RolloutRequest {
    match decode_event(&json!({ "rollout": { "name": "fleet", "targetVersion": "1.31", "stages": stages } })) {
        Ok(InboundEvent::Rollout(r)) => *r,
        other => panic!("{other:?}"),
    }
}

fn cluster(name: &str, env: &str, enrolled: bool) -> Discovered {
    let mut tags: std::collections::BTreeMap<String, String> = [("env".to_owned(), env.to_owned())].into();
    if enrolled {
        tags.insert(DEFAULT_ENROLLMENT_TAG.to_owned(), "true".to_owned());
    }
    Discovered {
        name: name.to_owned(),
        view: ClusterView {
            status: "ACTIVE".into(),
            version: Some(KubeVersion::new(1, 30)),
            tags,
            ..Default::default()
        },
    }
}

fn fleet() -> Vec<Discovered> {
    vec![
        cluster("dev-1", "dev", true),
        cluster("dev-2", "dev", true),
        cluster("stg-1", "staging", true),
        cluster("prod-1", "prod", true),
        cluster("prod-2", "prod", true),
        cluster("prod-3", "prod", true),
        cluster("prod-x", "prod", false),
    ]
}

fn three_stages() -> RolloutRecord {
    let request = request(json!([
        { "name": "dev", "tags": { "env": "dev" }, "maxConcurrent": 2 },
        { "name": "staging", "clusters": ["stg-1"], "soakMinutes": 30 },
        { "name": "prod", "tags": { "env": "prod" }, "maxConcurrent": 2, "approval": true },
    ]));
    new_rollout(
        &request,
        "to-1.31",
        KubeVersion::new(1, 31),
        &fleet(),
        &Limits::default(),
        NOW,
    )
    .unwrap()
}

/// Every started cluster's upgrade ends with `status`.
fn end_all(r: &mut RolloutRecord, status: UpgradeStatus, now: i64) {
    let seen: Vec<(String, ChildSeen)> = r
        .stages
        .iter()
        .flat_map(|s| s.clusters.iter())
        .filter(|c| c.state.is_active())
        .map(|c| {
            (
                c.name.clone(),
                ChildSeen::Ended {
                    status,
                    message: Some("done".into()),
                },
            )
        })
        .collect();
    observe(r, &seen, now);
}

fn start_all(r: &mut RolloutRecord, names: &[String], now: i64) {
    let outcomes: Vec<(String, StartOutcome)> = names.iter().map(|n| (n.clone(), StartOutcome::Started)).collect();
    started(r, &outcomes, now);
}

#[test]
fn stages_get_their_clusters_by_name_and_enrolled_tags() {
    let r = three_stages();
    let names: Vec<Vec<&str>> = r
        .stages
        .iter()
        .map(|s| s.clusters.iter().map(|c| c.name.as_str()).collect())
        .collect();
    assert_eq!(
        names,
        [
            vec!["dev-1", "dev-2"],
            vec!["stg-1"],
            vec!["prod-1", "prod-2", "prod-3"]
        ]
    );
    assert_eq!(r.not_enrolled, ["prod-x"]);
    assert_eq!(r.cluster, "rollout#fleet");
    assert_eq!(r.sweep_bucket.as_deref(), Some(ROLLOUT_BUCKET));
}

#[test]
fn a_three_stage_rollout_runs_in_order_with_its_soak_and_approval() {
    let mut r = three_stages();
    let first = advance(&mut r, NOW);
    assert_eq!(first, ["dev-1", "dev-2"]);
    assert_eq!(r.stages[0].status, StageStatus::Running);
    assert_eq!(r.stages[1].status, StageStatus::Waiting);
    start_all(&mut r, &first, NOW);
    assert!(advance(&mut r, NOW + 60).is_empty(), "running: nothing more");
    end_all(&mut r, UpgradeStatus::Succeeded, NOW + 600);
    // dev has no soak: staging starts at once.
    assert_eq!(advance(&mut r, NOW + 600), ["stg-1"]);
    assert_eq!(r.stages[0].status, StageStatus::Succeeded);
    start_all(&mut r, &["stg-1".to_owned()], NOW + 600);
    end_all(&mut r, UpgradeStatus::Succeeded, NOW + 1200);
    assert!(advance(&mut r, NOW + 1200).is_empty());
    assert_eq!(r.stages[1].status, StageStatus::Soaking);
    assert_eq!(wake_at(&r), Some(NOW + 1200 + 1800));
    // No stage starts before the soak ends.
    assert!(advance(&mut r, NOW + 1200 + 1799).is_empty());
    assert_eq!(r.stages[2].status, StageStatus::Waiting);
    // Then prod waits for its approval.
    assert!(advance(&mut r, NOW + 3000).is_empty());
    assert_eq!(r.stages[2].status, StageStatus::AwaitingApproval);
    let approve = control(ControlAction::Approve, Some("prod"), None);
    r = controls::apply(&r, &approve, NOW + 3100).unwrap();
    let prod = advance(&mut r, NOW + 3100);
    assert_eq!(prod, ["prod-1", "prod-2"], "maxConcurrent 2");
    start_all(&mut r, &prod, NOW + 3100);
    end_all(&mut r, UpgradeStatus::Succeeded, NOW + 3700);
    assert_eq!(advance(&mut r, NOW + 3700), ["prod-3"]);
    start_all(&mut r, &["prod-3".to_owned()], NOW + 3700);
    end_all(&mut r, UpgradeStatus::Succeeded, NOW + 4300);
    assert!(advance(&mut r, NOW + 4300).is_empty());
    assert_eq!(r.status, RolloutStatus::Succeeded, "{:?}", r.message);
    assert!(r.sweep_bucket.is_none());
}

fn control(action: ControlAction, stage: Option<&str>, cluster: Option<&str>) -> RolloutControl {
    let mut body = json!({ "name": "fleet", "action": action });
    if let Some(stage) = stage {
        body["stage"] = json!(stage);
    }
    if let Some(cluster) = cluster {
        body["cluster"] = json!(cluster);
    }
    match decode_event(&json!({ "rolloutControl": body })) {
        Ok(InboundEvent::RolloutControl(c)) => c,
        other => panic!("{other:?}"),
    }
}

#[test]
fn max_concurrent_is_never_exceeded_however_the_ticks_fall() {
    let request =
        request(json!([{ "name": "all", "tags": { "env": "prod" }, "maxConcurrent": 2, "failureBudget": 5 }]));
    let mut fleet = fleet();
    for i in 0..20 {
        fleet.push(cluster(&format!("p{i:02}"), "prod", true));
    }
    let mut r = new_rollout(&request, "r", KubeVersion::new(1, 31), &fleet, &Limits::default(), NOW).unwrap();
    let mut now = NOW;
    for round in 0..40 {
        let names = advance(&mut r, now);
        assert!(
            r.stages[0].active() <= 2,
            "round {round}: {} active",
            r.stages[0].active()
        );
        // Starts answer in turn: one busy, the rest started.
        let outcomes: Vec<(String, StartOutcome)> = names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                (
                    n.clone(),
                    if i == 0 && round % 3 == 0 {
                        StartOutcome::Busy("held".into())
                    } else {
                        StartOutcome::Started
                    },
                )
            })
            .collect();
        started(&mut r, &outcomes, now);
        assert!(r.stages[0].active() <= 2);
        // One running cluster ends per round.
        if let Some(c) = r.stages[0].clusters.iter().find(|c| c.state == ClusterState::Running) {
            let seen = vec![(
                c.name.clone(),
                ChildSeen::Ended {
                    status: UpgradeStatus::Succeeded,
                    message: None,
                },
            )];
            observe(&mut r, &seen, now);
        }
        now += 60;
        if r.is_finished() {
            break;
        }
    }
    assert_eq!(r.status, RolloutStatus::Succeeded, "{:?}", r.message);
}

/// A rollout made across accounts, the function's own being 123456789012 in us-east-1.
fn across(request: &RolloutRequest, found: &[Discovered], unreachable: &[super::assign::Unreachable]) -> RolloutRecord {
    let home = crate::domain::Location::new("123456789012", "us-east-1").unwrap();
    let discovery = super::assign::Discovery {
        clusters: found,
        unreachable,
        home: Some(&home),
    };
    let target = KubeVersion::new(1, 31);
    super::assign::new_rollout_across(request, "r", target, discovery, &Limits::default(), NOW).unwrap()
}

#[test]
fn the_functions_own_clusters_count_in_its_account_whatever_their_key() {
    // Its own region's cluster is keyed by bare name, its other region's by ARN: one account.
    let request = request(json!([{
        "name": "all", "tags": { "env": "prod" }, "maxConcurrent": 10, "maxConcurrentPerAccount": 1,
        "accounts": ["123456789012", "210987654321"], "regions": ["us-east-1", "eu-west-1"]
    }]));
    let mut fleet = fleet();
    fleet.push(cluster(
        "arn:aws:eks:eu-west-1:123456789012:cluster/prod-eu",
        "prod",
        true,
    ));
    fleet.push(cluster(
        "arn:aws:eks:eu-west-1:210987654321:cluster/member",
        "prod",
        true,
    ));
    let mut r = across(&request, &fleet, &[]);
    assert_eq!(r.stages[0].clusters.len(), 5);
    let names = advance(&mut r, NOW);
    assert_eq!(
        names.len(),
        2,
        "one in the function's account, one in the member's: {names:?}"
    );
    assert!(names.contains(&"arn:aws:eks:eu-west-1:210987654321:cluster/member".to_owned()));
}

#[test]
fn unreachable_accounts_keep_a_failed_entry_each_and_at_most_max_notes_notes() {
    let accounts: Vec<String> = (0..150).map(|i| format!("{:012}", 100_000_000_000u64 + i)).collect();
    let request = request(json!([
        { "name": "a", "accounts": accounts[..80], "regions": ["eu-west-1"], "failureBudget": 200 },
        { "name": "b", "accounts": accounts[80..], "regions": ["eu-west-1"], "failureBudget": 200 },
    ]));
    let unreachable: Vec<super::assign::Unreachable> = accounts
        .iter()
        .map(|a| super::assign::Unreachable {
            at: crate::domain::Location::new(a, "eu-west-1").unwrap(),
            message: "x".repeat(500),
        })
        .collect();
    let r = across(&request, &[], &unreachable);
    let entries: Vec<&ClusterEntry> = r.stages.iter().flat_map(|s| s.clusters.iter()).collect();
    assert_eq!(entries.len(), 150, "a failed entry per account");
    assert!(entries.iter().all(|c| c.state == ClusterState::Failed));
    let notes = entries.iter().filter(|c| c.note.is_some()).count();
    assert_eq!(notes, MAX_NOTES);
    assert_eq!(r.notes_dropped, 50);
    assert!(entries
        .iter()
        .flat_map(|c| &c.note)
        .all(|n| n.chars().count() <= NOTE_CHARS));
}

#[test]
fn a_failure_over_a_zero_budget_stops_the_rollout_and_nothing_starts_in_the_next_stage() {
    let mut r = three_stages();
    let first = advance(&mut r, NOW);
    start_all(&mut r, &first, NOW);
    let seen = vec![(
        "dev-1".to_owned(),
        ChildSeen::Ended {
            status: UpgradeStatus::Failed,
            message: Some("update u-1 Failed: NodeCreationFailure".into()),
        },
    )];
    observe(&mut r, &seen, NOW + 300);
    assert!(advance(&mut r, NOW + 300).is_empty(), "nothing new starts");
    assert_eq!(r.status, RolloutStatus::Stopping);
    // dev-2 still runs: it finishes, then the rollout ends.
    end_all(&mut r, UpgradeStatus::Succeeded, NOW + 600);
    assert!(advance(&mut r, NOW + 600).is_empty());
    assert_eq!(r.status, RolloutStatus::Stopped);
    let message = r.message.clone().unwrap();
    assert!(
        message.contains("dev-1") && message.contains("NodeCreationFailure"),
        "{message}"
    );
    assert!(
        r.stages[1].clusters.iter().all(|c| c.state == ClusterState::Pending),
        "staging never started"
    );
    assert_eq!(r.stages[1].status, StageStatus::Stopped);
}

#[test]
fn pause_resume_cancel_and_skip() {
    let mut r = three_stages();
    let first = advance(&mut r, NOW);
    start_all(&mut r, &first, NOW);
    r = controls::apply(&r, &control(ControlAction::Pause, None, None), NOW).unwrap();
    end_all(&mut r, UpgradeStatus::Succeeded, NOW + 60);
    assert!(advance(&mut r, NOW + 60).is_empty(), "paused: nothing starts");
    assert_eq!(r.stages[1].status, StageStatus::Waiting);
    r = controls::apply(&r, &control(ControlAction::Skip, None, Some("stg-1")), NOW + 70).unwrap();
    r = controls::apply(&r, &control(ControlAction::Resume, None, None), NOW + 80).unwrap();
    assert!(
        advance(&mut r, NOW + 80).is_empty(),
        "staging's only cluster was skipped"
    );
    assert_eq!(r.stages[1].status, StageStatus::Soaking);
    let err = controls::apply(&r, &control(ControlAction::Skip, None, Some("dev-1")), NOW + 90).unwrap_err();
    assert!(err.contains("already Succeeded"), "{err}");
    r = controls::apply(&r, &control(ControlAction::Cancel, None, None), NOW + 100).unwrap();
    assert!(advance(&mut r, NOW + 4000).is_empty());
    assert_eq!(r.status, RolloutStatus::Cancelled);
    let err = controls::apply(&r, &control(ControlAction::Resume, None, None), NOW + 5000).unwrap_err();
    assert!(err.contains("ended"), "{err}");
}

#[test]
fn a_cluster_held_by_another_upgrade_waits_and_is_tried_again() {
    let mut r = three_stages();
    let first = advance(&mut r, NOW);
    let outcomes = vec![
        (
            "dev-1".to_owned(),
            StartOutcome::Busy("held by upgrade to-1.31, which is IN_PROGRESS".into()),
        ),
        ("dev-2".to_owned(), StartOutcome::Started),
    ];
    started(&mut r, &outcomes, NOW);
    assert_eq!(first.len(), 2);
    let entry = &r.stages[0].clusters[0];
    assert_eq!(entry.state, ClusterState::Waiting);
    assert!(entry.note.as_deref().unwrap().contains("held by upgrade to-1.31"));
    assert_eq!(advance(&mut r, NOW + 60), ["dev-1"], "asked again at the next tick");
    // ...written STARTING before it is asked, so a skip read after that write cannot cross it.
    assert_eq!(r.stages[0].clusters[0].state, ClusterState::Starting);
    assert_eq!(r.stages[0].clusters[0].started_at, Some(NOW + 60));
}

#[test]
fn right_after_its_starts_a_tick_does_not_ask_a_busy_cluster_again() {
    let mut r = three_stages();
    advance(&mut r, NOW);
    let busy = StartOutcome::Busy("held by upgrade manual, which is IN_PROGRESS".into());
    started(&mut r, &[("dev-1".to_owned(), busy)], NOW);
    assert_eq!(
        advance_after_starts(&mut r, NOW),
        ["dev-2"],
        "dev-2 still to start, dev-1 waits"
    );
    assert_eq!(r.stages[0].clusters[0].state, ClusterState::Waiting);
}

#[test]
fn stopping_gives_up_waiting_clusters_and_stale_starts_and_then_ends() {
    let mut r = three_stages();
    let first = advance(&mut r, NOW);
    assert_eq!(first, ["dev-1", "dev-2"]);
    // dev-1 waits for another upgrade; dev-2's start never made its record (a crash); cancel.
    started(
        &mut r,
        &[("dev-1".to_owned(), StartOutcome::Busy("held by upgrade manual".into()))],
        NOW,
    );
    r = controls::apply(&r, &control(ControlAction::Cancel, None, None), NOW).unwrap();
    let missing = [("dev-2".to_owned(), ChildSeen::Missing)];
    observe(&mut r, &missing, NOW + 60);
    assert!(advance(&mut r, NOW + 60).is_empty(), "nothing starts while cancelling");
    assert_eq!(r.stages[0].clusters[0].state, ClusterState::Pending, "waits no more");
    assert_eq!(
        r.stages[0].clusters[1].state,
        ClusterState::Starting,
        "a start may still be under way"
    );
    assert_eq!(r.status, RolloutStatus::Cancelling);
    // Past any invocation's life, the start that never made its record is given up.
    observe(&mut r, &missing, NOW + advance::START_GRACE_SECS + 1);
    advance(&mut r, NOW + advance::START_GRACE_SECS + 1);
    assert_eq!(r.stages[0].clusters[1].state, ClusterState::Pending);
    assert!(r.stages[0].clusters[1].note.as_deref().unwrap().contains("not started"));
    assert_eq!(r.status, RolloutStatus::Cancelled);
}

#[test]
fn a_crash_after_the_write_leaves_clusters_starting_and_the_next_tick_names_them_again() {
    let mut r = three_stages();
    let first = advance(&mut r, NOW);
    // The write happened; the starts did not (crash). The next tick: no record for them yet.
    let seen: Vec<(String, ChildSeen)> = first.iter().map(|n| (n.clone(), ChildSeen::Missing)).collect();
    observe(&mut r, &seen, NOW + 60);
    assert_eq!(advance(&mut r, NOW + 60), first);
    // One was started before the crash: its record is there, going.
    observe(
        &mut r,
        &[(
            "dev-1".to_owned(),
            ChildSeen::Going {
                status: UpgradeStatus::InProgress,
            },
        )],
        NOW + 61,
    );
    assert_eq!(advance(&mut r, NOW + 61), ["dev-2"]);
}

#[test]
fn notifications_say_what_happened_in_order() {
    let before = three_stages();
    let first = commit(
        None,
        before.clone(),
        RolloutCommit {
            now: NOW,
            notify: true,
            retention_secs: 86400,
        },
    );
    assert_eq!(first.outbox[0].detail_type, "EKS Rollout Started");
    let mut r = first.clone();
    r.outbox.clear();
    let names = advance(&mut r, NOW);
    start_all(&mut r, &names, NOW);
    let kinds: Vec<&str> = notifications_for(Some(&first), &r)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(kinds, ["EKS Rollout Stage Started"]);
}

#[test]
fn a_thousand_clusters_with_long_names_all_failed_stay_far_below_dynamodbs_item_limit() {
    let request =
        request(json!([{ "name": "all", "tags": { "env": "prod" }, "maxConcurrent": 1000, "failureBudget": 1000 }]));
    let fleet: Vec<Discovered> = (0..1000)
        .map(|i| cluster(&format!("{i:04}-{}", "x".repeat(95)), "prod", true))
        .collect();
    let mut r = new_rollout(&request, "r", KubeVersion::new(1, 31), &fleet, &Limits::default(), NOW).unwrap();
    for _ in 0..10 {
        let names = advance(&mut r, NOW);
        start_all(&mut r, &names, NOW);
        let long = "E".repeat(2000);
        let seen: Vec<(String, ChildSeen)> = names
            .iter()
            .map(|n| {
                (
                    n.clone(),
                    ChildSeen::Ended {
                        status: UpgradeStatus::Failed,
                        message: Some(long.clone()),
                    },
                )
            })
            .collect();
        observe(&mut r, &seen, NOW);
    }
    let size = serde_json::to_vec(&r).unwrap().len();
    assert!(size < 200 * 1024, "{size} bytes");
    assert!(r.notes_dropped > 0, "notes beyond the bound are counted, not kept");
}

#[test]
fn bad_specs_are_refused_naming_the_field() {
    let refused = |rollout: Value| match decode_event(&json!({ "rollout": rollout })) {
        Err(e) => e.field,
        Ok(_) => panic!("accepted {rollout}"),
    };
    let stage = json!({ "name": "a", "clusters": ["c1"] });
    assert_eq!(
        refused(json!({ "name": "f", "targetVersion": "1.31", "stages": [] })),
        "rollout.stages"
    );
    assert_eq!(
        refused(
            json!({ "name": "f", "targetVersion": "1.31", "stages": [stage, { "name": "b", "clusters": ["c2", "c1"] }] })
        ),
        "rollout.stages[1].clusters[1]"
    );
    assert_eq!(
        refused(json!({ "name": "f", "targetVersion": "1.31", "stages": [{ "name": "a" }] })),
        "rollout.stages[0]"
    );
    assert_eq!(
        refused(
            json!({ "name": "f", "targetVersion": "1.31", "stages": [{ "name": "a", "clusters": ["c"], "maxConcurrent": 0 }] })
        ),
        "rollout.stages[0].maxConcurrent"
    );
    assert_eq!(
        refused(json!({ "name": "f", "targetVersion": "1.31", "options": { "cluster": "x" }, "stages": [stage] })),
        "rollout.options.cluster"
    );
    assert_eq!(
        refused(
            json!({ "name": "f", "targetVersion": "1.31", "stages": [{ "name": "a", "clusters": ["c"], "options": { "maintenanceWindow": { "start": "25:00", "durationMinutes": 60 } } }] })
        ),
        "rollout.stages[0].options.maintenanceWindow.start"
    );
    assert_eq!(
        refused(json!({ "name": "f/g", "targetVersion": "1.31", "stages": [stage] })),
        "rollout.name"
    );
    assert_eq!(
        refused(
            json!({ "name": "f", "targetVersion": "1.31", "stages": [stage, { "name": "a", "clusters": ["c2"] }] })
        ),
        "rollout.stages[1].name"
    );
    assert_eq!(
        refused(
            json!({ "name": "f", "targetVersion": "1.31", "options": { "onVerifyFailure": "rollback" }, "stages": [stage] })
        ),
        "rollout.options.onVerifyFailure"
    );
}

#[test]
fn discovery_refuses_what_the_fleet_does_not_allow() {
    let limits = Limits::default();
    let at = |stages: Value| {
        new_rollout(&request(stages), "r", KubeVersion::new(1, 31), &fleet(), &limits, NOW)
            .map(|_| ())
            .unwrap_err()
    };
    let e = at(json!([{ "name": "a", "clusters": ["nope"] }]));
    assert_eq!(e.field, "rollout.stages[0].clusters[0]");
    assert!(e.problem.contains("no cluster nope"));
    let e = at(json!([{ "name": "a", "clusters": ["prod-x"] }]));
    assert!(e.problem.contains("not enrolled"), "{}", e.problem);
    let e = at(json!([{ "name": "a", "tags": { "env": "prod" } }, { "name": "b", "clusters": ["prod-1"] }]));
    assert_eq!(e.field, "rollout.stages[1].tags");
    assert!(
        e.problem.contains("prod-1 is selected by stage a and stage b"),
        "{}",
        e.problem
    );
    let e = at(json!([{ "name": "a", "tags": { "env": "qa" } }]));
    assert_eq!(e.field, "rollout.stages[0]");
}

#[test]
fn clusters_eks_cannot_upgrade_are_left_out_when_tagged_and_refused_when_named() {
    let mut discovered = fleet();
    let mut failed = cluster("prod-9", "prod", true);
    failed.view.status = "FAILED".into();
    let mut deleting = cluster("prod-8", "prod", true);
    deleting.view.status = "DELETING".into();
    discovered.extend([failed, deleting]);
    let limits = Limits::default();
    let tagged = request(json!([{ "name": "prod", "tags": { "env": "prod" } }]));
    let r = new_rollout(&tagged, "r", KubeVersion::new(1, 31), &discovered, &limits, NOW).unwrap();
    let names: Vec<&str> = r.stages[0].clusters.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["prod-1", "prod-2", "prod-3"]);
    assert_eq!(r.left_out, ["prod-8 (DELETING)", "prod-9 (FAILED)"]);
    let named = request(json!([{ "name": "prod", "clusters": ["prod-9"] }]));
    let e = new_rollout(&named, "r", KubeVersion::new(1, 31), &discovered, &limits, NOW).unwrap_err();
    assert_eq!(e.field, "rollout.stages[0].clusters[0]");
    assert!(e.problem.contains("prod-9 is FAILED"), "{}", e.problem);
}

#[test]
fn only_a_cluster_the_rollout_shows_running_may_change_anything() {
    use crate::domain::workflow::RolloutConsent;
    let mut r = three_stages();
    // Not started yet (PENDING): given up, nothing may change.
    assert!(matches!(r.consent("dev-1"), RolloutConsent::GivenUp(_)));
    let starting = advance(&mut r, NOW);
    assert_eq!(starting, ["dev-1", "dev-2"]);
    // Recorded as starting: wait for the tick's RUNNING.
    assert_eq!(r.consent("dev-1"), RolloutConsent::NotYet { since: Some(NOW) });
    started(&mut r, &[("dev-1".into(), StartOutcome::Started)], NOW);
    assert_eq!(r.consent("dev-1"), RolloutConsent::Started);
    // Counted already (it ended FAILED): never started again behind the rollout's back.
    let (s, c) = r.find("dev-1").unwrap();
    r.stages[s].clusters[c].state = ClusterState::Failed;
    assert!(matches!(r.consent("dev-1"), RolloutConsent::GivenUp(_)));
    assert!(matches!(r.consent("not-in-it"), RolloutConsent::GivenUp(_)));
}
