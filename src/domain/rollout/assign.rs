//! The clusters of each stage, from what discovery found (ListClusters, then each cluster's
//! tags): named ones must exist and be enrolled; tags select enrolled clusters only; a cluster
//! belongs to one stage. Errors name the field, and nothing is written.

use super::{
    partition, ClusterEntry, ClusterState, RolloutRecord, RolloutStatus, StageState, StageStatus, ROLLOUT_BUCKET,
};
use crate::domain::eks::ClusterView;
use crate::domain::event::rollout::{RolloutRequest, StageSpec, MAX_CLUSTERS};
use crate::domain::event::InvalidEvent;
use crate::domain::version::KubeVersion;
use crate::domain::workflow::Limits;
use std::collections::BTreeMap;

/// A cluster discovery found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    pub name: String,
    pub view: ClusterView,
}

/// The new rollout's record, its clusters in their stages, or the field that can't be met.
pub fn new_rollout(
    request: &RolloutRequest,
    request_id: &str,
    target: KubeVersion,
    discovered: &[Discovered],
    limits: &Limits,
    now: i64,
) -> Result<RolloutRecord, InvalidEvent> {
    let by_name: BTreeMap<&str, &Discovered> = discovered.iter().map(|d| (d.name.as_str(), d)).collect();
    let mut owner: BTreeMap<String, &str> = BTreeMap::new();
    let mut not_enrolled = Vec::new();
    let mut left_out = Vec::new();
    let mut stages = Vec::new();
    for (i, spec) in request.stages.iter().enumerate() {
        let here = format!("rollout.stages[{i}]");
        let names = members(spec, &here, &by_name, limits, (&mut not_enrolled, &mut left_out))?;
        claim(&mut owner, &names, spec, &here)?;
        if names.is_empty() {
            return Err(InvalidEvent {
                field: here,
                problem: "selects no enrolled cluster (a typo in a tag would otherwise skip a whole stage)".into(),
            });
        }
        stages.push(stage(request, spec, names));
    }
    if owner.len() > MAX_CLUSTERS {
        return Err(InvalidEvent {
            field: "rollout.stages".into(),
            problem: format!("selects {} clusters: at most {MAX_CLUSTERS} per rollout", owner.len()),
        });
    }
    let (not_enrolled, left_out) = (bounded(not_enrolled), bounded(left_out));
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
        notes_dropped: 0,
        created_at: now,
        updated_at: now,
        finished_at: None,
        expires_at: None,
        sweep_bucket: Some(ROLLOUT_BUCKET.to_owned()),
        heartbeat_at: now,
        revision: 0,
        ticks: 0,
    })
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

/// A stage's clusters: those it names, then those its tags select, in name order.
fn members(
    spec: &StageSpec,
    here: &str,
    by_name: &BTreeMap<&str, &Discovered>,
    limits: &Limits,
    (not_enrolled, left_out): (&mut Vec<String>, &mut Vec<String>),
) -> Result<Vec<String>, InvalidEvent> {
    let mut names = Vec::new();
    for (j, cluster) in spec.clusters.iter().enumerate() {
        let key = cluster.key();
        let name = key.as_str();
        let field = format!("{here}.clusters[{j}]");
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
        names.push(name.to_owned());
    }
    if !spec.tags.is_empty() {
        for (name, found) in by_name {
            let tagged = spec.tags.iter().all(|(k, v)| found.view.tags.get(k) == Some(v));
            if !tagged || names.iter().any(|n| n == name) {
                continue;
            }
            if !limits.admits(name, &found.view) {
                not_enrolled.push((*name).to_owned());
            } else if unupgradable(&found.view.status) {
                left_out.push(format!("{name} ({})", found.view.status));
            } else {
                names.push((*name).to_owned());
            }
        }
    }
    Ok(names)
}

fn stage(request: &RolloutRequest, spec: &StageSpec, names: Vec<String>) -> StageState {
    StageState {
        name: spec.name.to_string(),
        status: StageStatus::Waiting,
        max_concurrent: spec.max_concurrent,
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
            .collect(),
    }
}

/// A cluster EKS will never upgrade: it failed, or it is being deleted. Selected by tags, it
/// is left out (and said so) rather than counted a failure against the stage's budget.
fn unupgradable(status: &str) -> bool {
    matches!(status, "FAILED" | "DELETING")
}
