//! Which event a payload is, told apart by its keys (see the list in `event/mod.rs`), and
//! decoded into its type, or refused naming the field.

use super::rollout::{self, RolloutControl, RolloutControlFields, RolloutQuery, RolloutRequest, RolloutTick};
use super::{
    json_kind, typed, CancelRequest, ClusterId, Continuation, FleetReportRequest, InvalidEvent, Location,
    OnVerifyFailure, RollbackRequest, StatusQuery, SweepRequest, UpgradeRequest,
};
use crate::domain::text::shown;
use crate::domain::TargetVersion;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboundEvent {
    Upgrade(UpgradeRequest),
    Continuation(Continuation),
    Status(StatusQuery),
    Sweep(SweepRequest),
    Cancel(CancelRequest),
    Rollback(RollbackRequest),
    Rollout(Box<RolloutRequest>),
    RolloutControl(RolloutControl),
    RolloutStatus(RolloutQuery),
    RolloutTick(RolloutTick),
    FleetReport(FleetReportRequest),
}

const KIND_KEYS: [&str; 10] = [
    "continuation",
    "status",
    "sweep",
    "cancel",
    "rollback",
    "rollout",
    "rolloutControl",
    "rolloutStatus",
    "rolloutTick",
    "fleetReport",
];

/// Decodes a raw invocation payload.
pub fn decode_event(payload: &Value) -> Result<InboundEvent, InvalidEvent> {
    decode_at(payload, "")
}

fn decode_at(payload: &Value, prefix: &str) -> Result<InboundEvent, InvalidEvent> {
    let Some(object) = payload.as_object() else {
        return Err(InvalidEvent {
            field: prefix.trim_end_matches('.').to_owned(),
            problem: format!("expected a JSON object, got {}", json_kind(payload)),
        });
    };
    if prefix.is_empty() && object.contains_key("detail-type") {
        let envelope: aws_lambda_events::event::eventbridge::EventBridgeEvent<Value> = typed(payload, "")?;
        return decode_at(&envelope.detail, "detail.");
    }
    let kinds: Vec<&str> = KIND_KEYS.into_iter().filter(|k| object.contains_key(*k)).collect();
    match kinds.as_slice() {
        [] if object.contains_key("cluster") || object.contains_key("targetVersion") => {
            upgrade_request(payload, prefix)
        }
        [] => Err(InvalidEvent {
            field: prefix.trim_end_matches('.').to_owned(),
            problem: format!(
                "unrecognised event: expected an upgrade request {{\"cluster\", \"targetVersion\"}} \
                 or an object with one of the keys {}; got keys [{}]",
                KIND_KEYS.map(|k| format!("\"{k}\"")).join(", "),
                object.keys().take(10).map(|k| shown(k)).collect::<Vec<_>>().join(", ")
            ),
        }),
        [kind] => {
            if let Some(extra) = object.keys().find(|k| k.as_str() != *kind) {
                return Err(InvalidEvent {
                    field: format!("{prefix}{extra}"),
                    problem: format!("unexpected field beside \"{kind}\""),
                });
            }
            let inner = &object[*kind];
            let at = format!("{prefix}{kind}");
            match *kind {
                "continuation" => Ok(InboundEvent::Continuation(typed(inner, &at)?)),
                "status" => Ok(InboundEvent::Status(typed(inner, &at)?)),
                "cancel" => Ok(InboundEvent::Cancel(typed(inner, &at)?)),
                "rollback" => Ok(InboundEvent::Rollback(typed(inner, &at)?)),
                "rollout" => {
                    let request: RolloutRequest = typed(inner, &at)?;
                    rollout::check(&request, &at)?;
                    Ok(InboundEvent::Rollout(Box::new(request)))
                }
                "rolloutControl" => {
                    let fields: RolloutControlFields = typed(inner, &at)?;
                    Ok(InboundEvent::RolloutControl(RolloutControl::from_fields(fields, &at)?))
                }
                "rolloutStatus" => Ok(InboundEvent::RolloutStatus(typed(inner, &at)?)),
                "rolloutTick" => Ok(InboundEvent::RolloutTick(typed(inner, &at)?)),
                "fleetReport" => Ok(InboundEvent::FleetReport(typed(inner, &at)?)),
                _ => Ok(InboundEvent::Sweep(typed(inner, &at)?)),
            }
        }
        several => Err(InvalidEvent {
            field: prefix.trim_end_matches('.').to_owned(),
            problem: format!(
                "expected exactly one of {}, got {}",
                KIND_KEYS.map(|k| format!("\"{k}\"")).join(", "),
                several.join(", ")
            ),
        }),
    }
}

/// An upgrade request: its fields, and what they can't be together.
fn upgrade_request(payload: &Value, prefix: &str) -> Result<InboundEvent, InvalidEvent> {
    let request: UpgradeRequest = typed(payload, prefix)?;
    if request.target_version == TargetVersion::StandardSupport {
        return Err(InvalidEvent {
            field: format!("{prefix}targetVersion"),
            problem: "expected a version or \"latest\": \"standard-support\" is a rollout's target, \
                      resolved once for its whole fleet"
                .into(),
        });
    }
    if request.on_verify_failure == OnVerifyFailure::Rollback && request.verify.is_none() {
        return Err(InvalidEvent {
            field: format!("{prefix}onVerifyFailure"),
            problem: "expected \"stop\" without a \"verify\" object: nothing would be verified, so nothing \
                      would roll back"
                .into(),
        });
    }
    Ok(InboundEvent::Upgrade(request))
}

impl InboundEvent {
    /// The same event, each cluster it names told where home is ([`ClusterId::homed`]): a
    /// reference to this function's own account and region is the bare name, so one cluster
    /// has one key however it was named. A cluster of another account or region is refused,
    /// naming the field, when no spoke role is configured to reach it (`reaches_members`).
    pub fn homed(mut self, home: Option<&Location>, reaches_members: bool) -> Result<Self, InvalidEvent> {
        let each = |id: &mut ClusterId, field: String| -> Result<(), InvalidEvent> {
            *id = id.clone().homed(home);
            match &id.at {
                Some(at) if home.is_some_and(|h| h.region.partition() != at.region.partition()) => Err(InvalidEvent {
                    field,
                    problem: format!(
                        "cluster {} is in region {}, of partition {}: a role there can't be assumed from this \
                         function's partition ({})",
                        id.name,
                        at.region.as_str(),
                        at.region.partition(),
                        home.map_or("aws", |h| h.region.partition())
                    ),
                }),
                Some(at) if !reaches_members => Err(InvalidEvent {
                    field,
                    problem: format!(
                        "cluster {} is in account {} region {}: this function reaches only its own account's \
                         clusters (deploy it with the SpokeRoleName parameter and spoke.yaml in that account)",
                        id.name,
                        at.account.as_str(),
                        at.region.as_str()
                    ),
                }),
                _ => Ok(()),
            }
        };
        match &mut self {
            InboundEvent::Upgrade(r) => each(&mut r.cluster, "cluster".into())?,
            InboundEvent::Continuation(r) => each(&mut r.cluster, "continuation.cluster".into())?,
            InboundEvent::Status(r) => each(&mut r.cluster, "status.cluster".into())?,
            InboundEvent::Cancel(r) => each(&mut r.cluster, "cancel.cluster".into())?,
            InboundEvent::Rollback(r) => each(&mut r.cluster, "rollback.cluster".into())?,
            InboundEvent::Rollout(r) => {
                // Checked again once homed: an ARN of this account and a bare name are one.
                let mut named = std::collections::BTreeMap::new();
                for (i, stage) in r.stages.iter_mut().enumerate() {
                    for (j, id) in stage.clusters.iter_mut().enumerate() {
                        let field = format!("rollout.stages[{i}].clusters[{j}]");
                        each(id, field.clone())?;
                        if let Some(first) = named.insert(id.key(), stage.name.to_string()) {
                            return Err(InvalidEvent {
                                field,
                                problem: format!(
                                    "cluster {id} is already in stage {first}: a cluster belongs to one stage"
                                ),
                            });
                        }
                    }
                }
            }
            InboundEvent::RolloutControl(RolloutControl {
                control: rollout::Control::Skip { cluster },
                ..
            }) => each(cluster, "rolloutControl.cluster".into())?,
            InboundEvent::RolloutTick(RolloutTick { cluster: Some(id), .. }) => each(id, "rolloutTick.cluster".into())?,
            InboundEvent::RolloutControl(_)
            | InboundEvent::RolloutTick(_)
            | InboundEvent::Sweep(_)
            | InboundEvent::FleetReport(_)
            | InboundEvent::RolloutStatus(_) => {}
        }
        Ok(self)
    }
}
