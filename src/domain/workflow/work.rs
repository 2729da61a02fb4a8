//! What a record has to do, read from it with no decision taken: which item may start now and
//! which to poll, which items count while a rollback runs, whether the hop just done needs
//! verifying, and the tokens derived for each update. Read by every step (and by `calls.rs`);
//! imports none of them.

use crate::domain::record::{ItemKind, ItemPurpose, ItemStatus, UpgradeRecord, WorkItem};
use crate::domain::version::KubeVersion;

/// The planned item that may start now: the next one when nothing runs, or the next node group
/// while fewer than `nodegroupParallelism` node groups (and nothing else) run.
pub(super) fn next_startable(record: &UpgradeRecord) -> Option<&WorkItem> {
    if record
        .items
        .iter()
        .any(|i| in_phase(record, i) && i.status.is_failure())
    {
        // One failed: nothing new starts; the ones running are followed to their end.
        return None;
    }
    let running: Vec<&WorkItem> = record
        .items
        .iter()
        .filter(|i| i.status == ItemStatus::InProgress)
        .collect();
    // An item of a hop whose control plane is not there yet waits for it.
    let ready = |i: &WorkItem| record.control_plane_version.is_none_or(|cp| i.hop <= cp);
    let planned = record.items.iter().find(|i| {
        i.status == ItemStatus::Planned && in_phase(record, i) && ready(i) && (!i.deferred || running.is_empty())
    })?;
    let room = running.is_empty()
        || (planned.kind == ItemKind::Nodegroup
            && running.iter().all(|i| i.kind == ItemKind::Nodegroup)
            && running.len() < record.nodegroup_parallelism.max(1) as usize);
    room.then_some(planned)
}

/// Whether an item belongs to what the record is doing: during a rollback, only the rollback's
/// items count (the upgrade's leftovers, planned or failed, are not started nor held against it).
pub(super) fn in_phase(r: &UpgradeRecord, item: &WorkItem) -> bool {
    r.rollback.is_none() || item.purpose == ItemPurpose::Rollback
}

/// The running item whose update to describe next: the least recently described, so that node
/// groups updating side by side are each followed in turn (a single one is simply followed).
pub(super) fn item_to_poll(record: &UpgradeRecord) -> Option<usize> {
    record
        .items
        .iter()
        .enumerate()
        .filter(|(_, i)| i.status == ItemStatus::InProgress)
        .min_by_key(|(index, i)| (i.polled_at.unwrap_or(0), *index))
        .map(|(index, _)| index)
}

/// Whether the hop just done must be verified before going on.
pub(super) fn needs_verification(r: &UpgradeRecord) -> bool {
    let Some(hop) = r.hop_reached else { return false };
    // Every update of the hop (and of those before) done.
    let hop_done = r
        .items
        .iter()
        .filter(|i| i.purpose == ItemPurpose::Upgrade && i.hop <= hop)
        .all(|i| matches!(i.status, ItemStatus::Succeeded | ItemStatus::Skipped));
    r.verify.is_some()
        && r.rollback.is_none()
        && !r.control_plane_updates.is_empty()
        && !r.verified_hops.contains(&hop)
        && hop_done
}

/// A deterministic clientRequestToken for a step, derived from the hop's token: the same step
/// always gets the same token, so a resumed step sends EKS the token it sent before.
pub fn derived_token(base: &str, what: &str) -> String {
    let namespace = uuid::Uuid::parse_str(base).unwrap_or(uuid::Uuid::NAMESPACE_OID);
    uuid::Uuid::new_v5(&namespace, what.as_bytes()).to_string()
}

/// An item for `purpose` unless it is there already (the same purpose, kind, name and
/// version: its token is derived from those, so it is the same step).
#[allow(clippy::too_many_arguments)]
pub(super) fn add_item_for(
    r: &mut UpgradeRecord,
    purpose: ItemPurpose,
    kind: ItemKind,
    name: &str,
    version: &str,
    from: Option<String>,
    hop: KubeVersion,
    base: &str,
) {
    let exists = r
        .items
        .iter()
        .any(|i| i.purpose == purpose && i.kind == kind && i.name == name && i.version == version);
    if !exists {
        let what = format!("{kind:?}:{name}:{version}");
        r.items.push(WorkItem {
            kind,
            name: name.to_owned(),
            version: version.to_owned(),
            from,
            hop,
            client_request_token: derived_token(base, &what),
            status: ItemStatus::Planned,
            update_id: None,
            started_at: None,
            finished_at: None,
            polled_at: None,
            deferred: false,
            errors: Vec::new(),
            launch_template: None,
            from_launch_template: None,
            purpose,
        });
    }
}
