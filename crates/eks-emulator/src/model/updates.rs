//! Updates: the [`Update`] type and its lifecycle (created, completed when due or on
//! demand, described, listed, cancelled). The clientRequestToken bookkeeping they share
//! is in `tokens.rs`.
//!
//! An update-creating operation (UpdateClusterVersion, UpdateNodegroupVersion,
//! UpdateAddon) calls [`State::replayed_update`] first, then checks its own rules, then
//! calls [`State::start_update`] with a [`NewUpdate`].

use super::data::update::UpdateStatus;

use super::data::cluster::Cluster;
use super::data::token::ClientToken;
use super::data::update::{Cancellation, Effect, NewUpdate, Target, Update, UpdateType};
use super::state::{paginate, Page, State};
use crate::error::ApiError;
use crate::faults::{default_error_message, UpdateErrorDetail, UpdateKind};
use crate::util::round_ms;

impl Cluster {
    pub(super) fn in_progress_cp_update(&self) -> Option<&Update> {
        self.in_progress_update_of(&Target::Cluster)
    }

    pub(super) fn in_progress_update_of(&self, target: &Target) -> Option<&Update> {
        self.updates.iter().find(|u| u.in_progress() && &u.target == target)
    }
}

impl State {
    /// Creates the update an operation asked for and remembers its token.
    pub(super) fn start_update(
        &mut self,
        cluster: &str,
        t: &ClientToken,
        new: NewUpdate,
        now: f64,
    ) -> Result<Update, ApiError> {
        let u = self.add_update(cluster, new, now);
        if t.token.is_some() {
            self.cluster_mut(cluster)?.tokens.remember(t, Some(u.id.clone()));
            self.record_token_update(cluster, t, &u.id);
        }
        Ok(u)
    }

    // ------------------------------------------------------------ lifecycle

    /// Creates an update: consumes a matching fail-next rule, counts the effect and the
    /// clusters updating (`activity.rs`).
    fn add_update(&mut self, cluster: &str, new: NewUpdate, now: f64) -> Update {
        let kind = new.target.kind();
        let mut u = Update {
            id: uuid::Uuid::new_v4().to_string(),
            planned_errors: None,
            planned_cancel: false,
            target: new.target,
            kind: new.kind,
            status: UpdateStatus::InProgress,
            params: new.params,
            created_at: now,
            ends_at: round_ms(now + new.duration_ms as f64 / 1000.0),
            control_plane_at: round_ms(now + new.node_phase_ms.min(new.duration_ms) as f64 / 1000.0),
            errors: Vec::new(),
            effect: new.effect,
            cancellation: None,
        };
        let s = self.cluster_stats(cluster);
        s.updates_created += 1;
        match kind {
            UpdateKind::Cluster => s.cluster_version_updates_created += 1,
            UpdateKind::Nodegroup => s.nodegroup_updates_created += 1,
            _ => s.addon_updates_created += 1,
        }
        if let Some((errors, cancelled)) = self.take_planned_errors(cluster, &u.target) {
            u.planned_errors = Some(errors);
            u.planned_cancel = cancelled;
        }
        if let Some(c) = self.clusters.get_mut(cluster) {
            c.updates.push(u.clone());
        }
        self.note_update_started(cluster, now);
        u
    }

    /// The errors of the first fail-next-update rule matching an update of `target`
    /// (the rule is consumed).
    fn take_planned_errors(&mut self, cluster: &str, target: &Target) -> Option<(Vec<UpdateErrorDetail>, bool)> {
        let resource = target.resource(cluster);
        let pos = self.faults.fail_next_updates.iter().position(|r| {
            r.cluster == cluster
                && (r.kind == UpdateKind::Any || r.kind == target.kind())
                && r.name.as_ref().is_none_or(|n| n == resource)
        })?;
        let r = self.faults.fail_next_updates.remove(pos);
        let mut errors: Vec<UpdateErrorDetail> = r
            .error_codes
            .iter()
            .map(|code| UpdateErrorDetail {
                error_code: code.clone(),
                error_message: r
                    .error_message
                    .clone()
                    .unwrap_or_else(|| default_error_message(code, resource)),
                resource_ids: r.resource_ids.clone().unwrap_or_else(|| vec![resource.to_string()]),
            })
            .collect();
        errors.extend(r.errors.iter().cloned());
        if errors.is_empty() {
            errors.push(UpdateErrorDetail {
                error_code: "Unknown".into(),
                error_message: default_error_message("Unknown", resource),
                resource_ids: vec![resource.to_string()],
            });
        }
        Some((errors, r.cancelled))
    }

    /// Completes the in-progress updates that ended by `now`, in the order they ended.
    pub(super) fn complete_due_updates(&mut self, now: f64) {
        let mut due: Vec<(f64, String, usize)> = Vec::new();
        for (name, c) in &self.clusters {
            for (i, u) in c.updates.iter().enumerate() {
                if u.in_progress() && u.ends_at <= now {
                    due.push((u.ends_at, name.clone(), i));
                }
            }
        }
        due.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (at, name, i) in due {
            if let Some(c) = self.clusters.get_mut(&name) {
                c.complete_update(i, at);
            }
        }
    }

    /// Makes every in-progress update (and creation/deletion) due now and applies it.
    /// Returns the ids of the updates that finished.
    pub(crate) fn finish_all(&mut self, cluster: Option<&str>, now: f64) -> Vec<String> {
        let mut ids = Vec::new();
        for (name, c) in self.clusters.iter_mut() {
            if cluster.is_some_and(|n| n != name) {
                continue;
            }
            for u in c.updates.iter_mut().filter(|u| u.in_progress()) {
                u.ends_at = u.ends_at.min(now);
                u.control_plane_at = u.control_plane_at.min(now);
                ids.push(u.id.clone());
            }
            c.hurry(now);
        }
        self.advance(now);
        ids
    }

    pub(super) fn update_by_id(&self, cluster: &str, id: &str) -> Option<&Update> {
        self.clusters.get(cluster)?.updates.iter().find(|u| u.id == id)
    }

    // ------------------------------------------------------------ operations

    pub(crate) fn describe_update(
        &self,
        name: &str,
        id: &str,
        nodegroup: Option<&str>,
        addon: Option<&str>,
    ) -> Result<Update, ApiError> {
        let c = self.cluster(name)?;
        let u = c.updates.iter().find(|u| u.id == id).filter(|u| match &u.target {
            Target::Cluster => nodegroup.is_none() && addon.is_none(),
            Target::Nodegroup(n) => nodegroup == Some(n.as_str()),
            Target::Addon(a) => addon == Some(a.as_str()),
        });
        match u {
            Some(u) => Ok(u.clone()),
            None => {
                let mut e = ApiError::no_update(name, id);
                if let Some(n) = nodegroup {
                    e = e.nodegroup(n);
                }
                if let Some(a) = addon {
                    e = e.addon(a);
                }
                Err(e)
            }
        }
    }

    pub(crate) fn list_updates(
        &self,
        name: &str,
        nodegroup: Option<&str>,
        addon: Option<&str>,
        max: Option<i64>,
        next: Option<&str>,
    ) -> Result<Page<String>, ApiError> {
        let c = self.cluster(name)?;
        let target = match (nodegroup, addon) {
            (Some(n), _) => {
                if !c.nodegroups.contains_key(n) {
                    return Err(ApiError::no_nodegroup(name, n));
                }
                Target::Nodegroup(n.to_string())
            }
            (None, Some(a)) => {
                if !c.addons.contains_key(a) {
                    return Err(ApiError::no_addon(name, a));
                }
                Target::Addon(a.to_string())
            }
            (None, None) => Target::Cluster,
        };
        // EKS documents no order: ids are listed by id, neither newest nor oldest first, so a
        // client that takes the first ones as the newest misses updates here too.
        let mut ids: Vec<String> = c
            .updates
            .iter()
            .filter(|u| u.target == target)
            .map(|u| u.id.clone())
            .collect();
        ids.sort();
        paginate(ids, max, next)
    }

    /// Cancels a running VersionRollback during the node phase of an Auto Mode cluster
    /// (nothing else can be cancelled; once the control plane's rollback has begun, which
    /// for a cluster without Auto Mode is at once, CancelUpdate fails).
    pub(crate) fn cancel_update(&mut self, name: &str, id: &str, now: f64) -> Result<Update, ApiError> {
        let c = self.cluster_mut(name)?;
        let u = c
            .updates
            .iter_mut()
            .find(|u| u.id == id)
            .ok_or_else(|| ApiError::no_update(name, id))?;
        if !u.in_progress() {
            return Err(ApiError::invalid_request(format!(
                "Update {id} cannot be cancelled because its status is {}.",
                u.status
            ))
            .cluster(name));
        }
        if u.kind != UpdateType::VersionRollback {
            return Err(ApiError::invalid_request(format!(
                "Cancellation is not supported for update type {}.",
                u.kind
            ))
            .cluster(name));
        }
        if now >= u.control_plane_at {
            return Err(ApiError::invalid_request(format!(
                "Update {id} cannot be cancelled because the control plane rollback has already begun."
            ))
            .cluster(name));
        }
        u.status = UpdateStatus::Cancelled;
        u.ends_at = now;
        u.cancellation = Some(Cancellation {
            status: UpdateStatus::Successful,
            reason: "Cancelled by request.".into(),
        });
        Ok(u.clone())
    }
}

impl Cluster {
    /// Ends update `idx` at `at`: Failed with its planned errors, or Successful with its
    /// effect applied by the resource it changes.
    fn complete_update(&mut self, idx: usize, at: f64) {
        let u = &mut self.updates[idx];
        let target = u.target.clone();
        if let Some(errors) = u.planned_errors.take() {
            u.status = UpdateStatus::Failed;
            u.errors = errors;
            if u.planned_cancel {
                u.status = UpdateStatus::Cancelled;
                u.cancellation = Some(Cancellation {
                    status: UpdateStatus::Successful,
                    reason: "The update was cancelled by EKS.".into(),
                });
            }
            if let Target::Addon(a) = &target {
                if let Some(a) = self.addons.get_mut(a) {
                    a.update_failed(at);
                }
            }
            return;
        }
        u.status = UpdateStatus::Successful;
        match (u.effect.clone(), &target) {
            (Effect::Cluster(change), _) => self.apply_version_change(change, at),
            (Effect::Nodegroup(change), Target::Nodegroup(n)) => {
                if let Some(ng) = self.nodegroups.get_mut(n) {
                    ng.apply(change, at);
                }
            }
            (Effect::Addon(change), Target::Addon(n)) => {
                if let Some(a) = self.addons.get_mut(n) {
                    a.apply(change, at);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::clusters::UpdateClusterVersionReq;
    use super::super::state::test_state;
    use crate::model::ClusterStatus;
    use crate::model::UpdateStatus;

    use crate::seed::Seed;

    #[test]
    fn update_lifecycle_is_lazy() {
        let mut s = test_state();
        let seed = Seed::from_json(r#"{"clusters":[{"name":"c","version":"1.30"}]}"#).unwrap();
        s.apply_seed(&seed, 100.0).unwrap();
        let req: UpdateClusterVersionReq = serde_json::from_str(r#"{"version":"1.31"}"#).unwrap();
        let id = s.update_cluster_version("c", req, 100.0).unwrap().id;
        s.advance(100.5);
        let c = s.describe_cluster("c", 100.5).unwrap();
        assert_eq!(c.status, ClusterStatus::Updating);
        assert_eq!(c.cluster.version, "1.30");
        s.advance(101.0);
        let c = s.describe_cluster("c", 101.0).unwrap();
        assert_eq!(c.status, ClusterStatus::Active);
        assert_eq!(c.cluster.version, "1.31");
        let u = s.describe_update("c", &id, None, None).unwrap();
        assert_eq!(u.status, UpdateStatus::Successful);
    }
}
