//! An operator's controls of a rollout. Each returns the changed record, or why it can't
//! apply; the handler then takes a tick, so that what the control allows happens at once.

use super::advance::{history, set_note};
use super::{ClusterState, RolloutRecord, RolloutStatus, StageStatus};
use crate::domain::event::rollout::Name;
use crate::domain::event::rollout::{Control, RolloutControl};
use crate::domain::event::ClusterId;

pub fn apply(r: &RolloutRecord, control: &RolloutControl, now: i64) -> Result<RolloutRecord, String> {
    if r.is_finished() {
        return Err(format!(
            "rollout {}/{} is {:?}: it has ended",
            r.name, r.request_id, r.status
        ));
    }
    let mut next = r.clone();
    match &control.control {
        Control::Pause => match r.status {
            RolloutStatus::Running => {
                next.status = RolloutStatus::Paused;
                history(
                    &mut next,
                    now,
                    "paused: nothing new starts; running upgrades go on".into(),
                );
            }
            RolloutStatus::Paused => {}
            other => return Err(format!("it is {other:?}: nothing new starts anyway")),
        },
        Control::Resume => match r.status {
            RolloutStatus::Paused => {
                next.status = RolloutStatus::Running;
                history(&mut next, now, "resumed".into());
            }
            RolloutStatus::Running => {}
            other => return Err(format!("it is {other:?}: it can't be resumed")),
        },
        Control::Cancel => match r.status {
            RolloutStatus::Cancelling => {}
            _ => {
                next.status = RolloutStatus::Cancelling;
                history(
                    &mut next,
                    now,
                    "cancelled: nothing new starts; running upgrades finish".into(),
                );
            }
        },
        Control::Approve { stage } => approve(&mut next, stage, now)?,
        Control::Skip { cluster } => skip(&mut next, cluster, now)?,
    }
    Ok(next)
}

fn approve(r: &mut RolloutRecord, stage: &Name, now: i64) -> Result<(), String> {
    let name = stage.as_str();
    let Some(stage) = r.stages.iter_mut().find(|s| s.name == name) else {
        let names: Vec<&str> = r.stages.iter().map(|s| s.name.as_str()).collect();
        return Err(format!("it has no stage {name} (stages: {})", names.join(", ")));
    };
    // Only a gate that has been reached: approving prod while dev still runs would let it
    // start later with nobody asked at the moment it matters.
    if stage.status != StageStatus::AwaitingApproval {
        return Err(format!(
            "stage {name} is {:?}: only a stage AWAITING_APPROVAL can be approved",
            stage.status
        ));
    }
    if !stage.approved {
        stage.approved = true;
        history(r, now, format!("stage {name} approved"));
    }
    Ok(())
}

fn skip(r: &mut RolloutRecord, cluster: &ClusterId, now: i64) -> Result<(), String> {
    let key = cluster.key();
    let cluster = key.as_str();
    let Some((s, c)) = r.find(cluster) else {
        return Err(format!("cluster {cluster} is in none of its stages"));
    };
    match r.stages[s].clusters[c].state {
        ClusterState::Pending | ClusterState::Waiting => {
            r.stages[s].clusters[c].state = ClusterState::Skipped;
            r.stages[s].clusters[c].finished_at = Some(now);
            set_note(r, s, c, "skipped by an operator".into());
            let stage = r.stages[s].name.clone();
            history(r, now, format!("cluster {cluster} of stage {stage} skipped"));
            Ok(())
        }
        ClusterState::Skipped => Ok(()),
        ClusterState::Starting | ClusterState::Running => Err(format!(
            "the upgrade of cluster {cluster} has started ({}); cancel that upgrade ({{\"cancel\": {{\"cluster\": \
             \"{cluster}\", \"requestId\": \"{}\"}}}}) if it is parked or blocked: the rollout then counts it skipped",
            r.child_request_id(),
            r.child_request_id()
        )),
        state => Err(format!("cluster {cluster} is already {state:?}")),
    }
}
