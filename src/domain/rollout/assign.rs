//! The clusters of each stage, from what discovery found (ListClusters, then each cluster's
//! tags): named ones must exist and be enrolled; tags select enrolled clusters only; a cluster
//! belongs to one stage. Errors name the field, and nothing is written.

use super::{
    partition, ClusterEntry, ClusterState, RolloutRecord, RolloutStatus, StageState, StageStatus, ROLLOUT_BUCKET,
};
use crate::domain::eks::ClusterView;
use crate::domain::event::rollout::{RolloutRequest, StageSpec, MAX_CLUSTERS};
use crate::domain::event::{AccountId, ClusterId, InvalidEvent, Location, Region};
use crate::domain::version::KubeVersion;
use crate::domain::workflow::Limits;
use std::collections::BTreeMap;

/// A cluster discovery found: its key (a name here, an ARN elsewhere) and what EKS said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    pub name: String,
    pub view: ClusterView,
}

/// An account and region discovery could not list, and why (the account, the role, AWS's
/// message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreachable {
    pub at: Location,
    pub message: String,
}

/// What discovery found, across the accounts and regions the stages select.
#[derive(Debug, Clone, Copy)]
pub struct Discovery<'a> {
    pub clusters: &'a [Discovered],
    pub unreachable: &'a [Unreachable],
    /// This function's own account and region, when known.
    pub home: Option<&'a Location>,
}

/// Where a stage looks for clusters by tag, account or region (`None`: this function's own
/// account and region): each of its accounts (the function's own when empty) in each of its
/// regions (its own when empty); nowhere if it selects none of the three.
pub fn stage_locations(spec: &StageSpec, home: Option<&Location>) -> Vec<Option<Location>> {
    if spec.tags.is_empty() && spec.accounts.is_empty() && spec.regions.is_empty() {
        return Vec::new();
    }
    match home {
        Some(home) => locations_of(&spec.accounts, &spec.regions, home),
        None => vec![None], // accounts and regions need a home (refused before)
    }
}

/// Each of `accounts` (the function's own when empty) in each of `regions` (its own when
/// empty), `None` for the function's own account and region.
pub fn locations_of(accounts: &[AccountId], regions: &[Region], home: &Location) -> Vec<Option<Location>> {
    let accounts = if accounts.is_empty() {
        std::slice::from_ref(&home.account)
    } else {
        accounts
    };
    let regions = if regions.is_empty() {
        std::slice::from_ref(&home.region)
    } else {
        regions
    };
    let mut at = Vec::new();
    for account in accounts {
        for region in regions {
            let here = Location {
                account: account.clone(),
                region: region.clone(),
            };
            let here = (here != *home).then_some(here);
            if !at.contains(&here) {
                at.push(here);
            }
        }
    }
    at
}

/// The location of a cluster's key (`None`: home).
fn location_of(key: &str) -> Option<Location> {
    ClusterId::parse(key).ok().and_then(|id| id.at)
}

/// The new rollout's record, its clusters in their stages, or the field that can't be met
/// (all of them in this function's own account and region).
pub fn new_rollout(
    request: &RolloutRequest,
    request_id: &str,
    target: KubeVersion,
    discovered: &[Discovered],
    limits: &Limits,
    now: i64,
) -> Result<RolloutRecord, InvalidEvent> {
    let discovery = Discovery {
        clusters: discovered,
        unreachable: &[],
        home: None,
    };
    new_rollout_across(request, request_id, target, discovery, limits, now)
}

/// The same across accounts and regions: a cluster, account or region that could not be
/// reached is a failed cluster of its stage (its budget decides whether the rollout goes on).
pub fn new_rollout_across(
    request: &RolloutRequest,
    request_id: &str,
    target: KubeVersion,
    discovery: Discovery<'_>,
    limits: &Limits,
    now: i64,
) -> Result<RolloutRecord, InvalidEvent> {
    let by_name: BTreeMap<&str, &Discovered> = discovery.clusters.iter().map(|d| (d.name.as_str(), d)).collect();
    let mut owner: BTreeMap<String, &str> = BTreeMap::new();
    let mut not_enrolled = Vec::new();
    let mut left_out = Vec::new();
    let mut stages = Vec::new();
    for (i, spec) in request.stages.iter().enumerate() {
        let here = format!("rollout.stages[{i}]");
        let StageMembers { names, unreached } = members(
            spec,
            &here,
            (&by_name, discovery),
            limits,
            (&mut not_enrolled, &mut left_out),
        )?;
        claim(&mut owner, &names, spec, &here)?;
        if names.is_empty() && unreached.is_empty() {
            return Err(InvalidEvent {
                field: here,
                problem: "selects no enrolled cluster (a typo in a tag would otherwise skip a whole stage)".into(),
            });
        }
        stages.push(stage(request, spec, names, unreached));
    }
    if owner.len() > MAX_CLUSTERS {
        return Err(InvalidEvent {
            field: "rollout.stages".into(),
            problem: format!("selects {} clusters: at most {MAX_CLUSTERS} per rollout", owner.len()),
        });
    }
    let (not_enrolled, left_out) = (bounded(not_enrolled), bounded(left_out));
    let notes_dropped = bound_notes(&mut stages);
    Ok(RolloutRecord {
        cluster: partition(request.name.as_str()),
        request_id: request_id.to_owned(),
        name: request.name.to_string(),
        requested: request.target_version,
        target_version: target,
        status: RolloutStatus::Running,
        options: request.options.clone(),
        stages,
        not_enrolled,
        left_out,
        message: Some(format!("rollout to {target} requested")),
        history: Vec::new(),
        history_dropped: 0,
        outbox: Vec::new(),
        notifications: 0,
        notes_dropped,
        created_at: now,
        updated_at: now,
        finished_at: None,
        expires_at: None,
        sweep_bucket: Some(ROLLOUT_BUCKET.to_owned()),
        heartbeat_at: now,
        revision: 0,
        ticks: 0,
        home_account: discovery.home.map(|home| home.account.as_str().to_owned()),
    })
}

/// At most [`super::MAX_NOTES`] notes in all, as later ones are: a rollout over 200 accounts
/// and regions that can't be reached keeps every failed entry (its label names the account and
/// region) but only the first notes of why. Returns how many were dropped.
fn bound_notes(stages: &mut [StageState]) -> u32 {
    let mut kept = 0;
    let mut dropped = 0;
    for entry in stages.iter_mut().flat_map(|s| s.clusters.iter_mut()) {
        if entry.note.is_none() {
            continue;
        }
        if kept < super::MAX_NOTES {
            kept += 1;
        } else {
            entry.note = None;
            dropped += 1;
        }
    }
    dropped
}

/// Each of the stage's clusters belongs to it alone.
fn claim<'a>(
    owner: &mut BTreeMap<String, &'a str>,
    names: &[String],
    spec: &'a StageSpec,
    here: &str,
) -> Result<(), InvalidEvent> {
    for name in names {
        if let Some(first) = owner.insert(name.clone(), spec.name.as_str()) {
            return Err(InvalidEvent {
                field: format!("{here}.tags"),
                problem: format!(
                    "cluster {name} is selected by stage {first} and stage {}: a cluster belongs to one stage",
                    spec.name
                ),
            });
        }
    }
    Ok(())
}

/// A list of names for the record: sorted, each once, bounded.
fn bounded(mut names: Vec<String>) -> Vec<String> {
    names.sort();
    names.dedup();
    names.truncate(super::MAX_NOTES);
    names
}

/// A stage's clusters, and what could not be reached (a failed entry each: its label and why).
#[derive(Default)]
struct StageMembers {
    names: Vec<String>,
    unreached: Vec<(String, String)>,
}

/// A stage's clusters: those it names, then those its tags, accounts and regions select, in
/// name order.
fn members(
    spec: &StageSpec,
    here: &str,
    (by_name, discovery): (&BTreeMap<&str, &Discovered>, Discovery<'_>),
    limits: &Limits,
    (not_enrolled, left_out): (&mut Vec<String>, &mut Vec<String>),
) -> Result<StageMembers, InvalidEvent> {
    let mut m = named(spec, here, (by_name, discovery), limits)?;
    let locations = stage_locations(spec, discovery.home);
    for at in &locations {
        if let Some(u) = unreachable_at(discovery, at) {
            let label = format!("account {} region {}", u.at.account.as_str(), u.at.region.as_str());
            m.unreached.push((label, u.message.clone()));
        }
    }
    if locations.is_empty() {
        return Ok(m);
    }
    for (name, found) in by_name {
        let tagged = spec.tags.iter().all(|(k, v)| found.view.tags.get(k) == Some(v));
        if !tagged || !locations.contains(&location_of(name)) || m.names.iter().any(|n| n == name) {
            continue;
        }
        if !limits.admits(name, &found.view) {
            not_enrolled.push((*name).to_owned());
        } else if unupgradable(&found.view.status) {
            left_out.push(format!("{name} ({})", found.view.status));
        } else {
            m.names.push((*name).to_owned());
        }
    }
    Ok(m)
}

fn unreachable_at<'a>(discovery: Discovery<'a>, at: &Option<Location>) -> Option<&'a Unreachable> {
    at.as_ref()
        .and_then(|at| discovery.unreachable.iter().find(|u| u.at == *at))
}

/// The clusters a stage names: each must exist and be enrolled and upgradable (or be in an
/// account or region that could not be reached: a failure of the stage).
fn named(
    spec: &StageSpec,
    here: &str,
    (by_name, discovery): (&BTreeMap<&str, &Discovered>, Discovery<'_>),
    limits: &Limits,
) -> Result<StageMembers, InvalidEvent> {
    let mut m = StageMembers::default();
    for (j, cluster) in spec.clusters.iter().enumerate() {
        let key = cluster.key();
        let name = key.as_str();
        let field = format!("{here}.clusters[{j}]");
        if let Some(u) = unreachable_at(discovery, &cluster.at) {
            m.unreached.push((key.clone(), u.message.clone()));
            continue;
        }
        let Some(found) = by_name.get(name) else {
            return Err(InvalidEvent {
                field,
                problem: match &cluster.at {
                    None => format!("no cluster {name} in this account and region (ListClusters)"),
                    Some(at) => format!(
                        "no cluster {} in account {} region {} (ListClusters)",
                        cluster.name,
                        at.account.as_str(),
                        at.region.as_str()
                    ),
                },
            });
        };
        if !limits.admits(name, &found.view) {
            return Err(InvalidEvent {
                field,
                problem: limits.not_enrolled(name),
            });
        }
        if unupgradable(&found.view.status) {
            return Err(InvalidEvent {
                field,
                problem: format!("cluster {name} is {}: EKS cannot upgrade it", found.view.status),
            });
        }
        m.names.push(name.to_owned());
    }
    Ok(m)
}

fn stage(
    request: &RolloutRequest,
    spec: &StageSpec,
    names: Vec<String>,
    unreached: Vec<(String, String)>,
) -> StageState {
    StageState {
        name: spec.name.to_string(),
        status: StageStatus::Waiting,
        max_concurrent: spec.max_concurrent,
        max_concurrent_per_account: spec.max_concurrent_per_account,
        soak_minutes: spec.soak_minutes,
        failure_budget: spec.failure_budget,
        approval: spec.approval,
        approved: false,
        options: request.options_for(spec),
        started_at: None,
        soak_until: None,
        finished_at: None,
        clusters: names
            .into_iter()
            .map(|name| ClusterEntry {
                name,
                state: ClusterState::Pending,
                started_at: None,
                finished_at: None,
                note: None,
            })
            .chain(unreached.into_iter().map(|(name, why)| ClusterEntry {
                name,
                state: ClusterState::Failed,
                started_at: None,
                finished_at: None,
                note: Some(format!("unreachable: {why}").chars().take(super::NOTE_CHARS).collect()),
            }))
            .collect(),
    }
}

/// A cluster EKS will never upgrade: it failed, or it is being deleted. Selected by tags, it
/// is left out (and said so) rather than counted a failure against the stage's budget.
fn unupgradable(status: &str) -> bool {
    matches!(status, "FAILED" | "DELETING")
}
