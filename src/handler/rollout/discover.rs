//! A rollout's discovery: the clusters of each account and region its stages select (and of
//! each cluster they name), with their tags: ListClusters, then DescribeCluster a few at a
//! time, several locations at once. A member account or region that can't be reached is kept
//! with why, for the stage to count (and the dry run to show); this function's own account
//! failing is an error, as before.

use crate::domain::eks::OfferedVersion;
use crate::domain::eks::{policy, Action, FailureKind, Operation};
use crate::domain::event::rollout::RolloutRequest;
use crate::domain::plan::PlanError;
use crate::domain::rollout::assign::{stage_locations, Discovered, Unreachable};
use crate::domain::support::{self, latest_in_every};
use crate::domain::{ClusterId, EksFailure, InvalidEvent, KubeVersion, Location, Region, TargetVersion};
use crate::handler::HandlerError;
use crate::ports::{Clock, Eks, Ports};
use futures_util::future::join_all;

/// DescribeCluster calls made at once in one location.
const DESCRIBES_AT_ONCE: usize = 16;
/// Locations discovered at once.
const LOCATIONS_AT_ONCE: usize = 8;
/// At most this many (account, region) pairs in one rollout: its record keeps an entry for
/// each one that could not be reached.
pub(crate) const MAX_LOCATIONS: usize = 200;

impl<P: Ports> crate::handler::Orchestrator<P> {
    /// Each account and region the request's stages select or name (`None`: this function's
    /// own), or the field that can't be met.
    pub(super) fn locations(&self, request: &RolloutRequest) -> Result<Vec<Option<Location>>, HandlerError> {
        let home = self.config.home.as_ref();
        let mut locations: Vec<Option<Location>> = Vec::new();
        for (i, stage) in request.stages.iter().enumerate() {
            if home.is_none() && !(stage.accounts.is_empty() && stage.regions.is_empty()) {
                // Without knowing its own account, "accounts" could only be guessed at.
                return Err(InvalidEvent {
                    field: format!("rollout.stages[{i}].accounts"),
                    problem: "selects accounts or regions, but HOME_ACCOUNT_ID is not set (the template sets it)"
                        .into(),
                }
                .into());
            }
            let named = stage.clusters.iter().map(|c| c.at.clone());
            for at in stage_locations(stage, home).into_iter().chain(named) {
                if at.is_some() && self.config.spoke.is_none() {
                    return Err(InvalidEvent {
                        field: format!("rollout.stages[{i}].accounts"),
                        problem: "selects clusters of other accounts or regions: deploy the function with the \
                                  SpokeRoleName parameter (and spoke.yaml in those accounts)"
                            .into(),
                    }
                    .into());
                }
                if !locations.contains(&at) {
                    locations.push(at);
                }
            }
            if locations.len() > MAX_LOCATIONS {
                return Err(InvalidEvent {
                    field: format!("rollout.stages[{i}]"),
                    problem: format!(
                        "the rollout selects more than {MAX_LOCATIONS} accounts and regions (each account in each region)"
                    ),
                }
                .into());
            }
        }
        Ok(locations)
    }

    /// Every cluster of `locations`, and the locations that could not be listed.
    pub(in crate::handler) async fn discover(
        &self,
        locations: &[Option<Location>],
    ) -> Result<(Vec<Discovered>, Vec<Unreachable>), HandlerError> {
        let mut found = Vec::new();
        let mut unreachable = Vec::new();
        for chunk in locations.chunks(LOCATIONS_AT_ONCE) {
            let lists = join_all(chunk.iter().map(|at| self.discover_at(at.as_ref()))).await;
            for (at, listed) in chunk.iter().zip(lists) {
                match (listed, at) {
                    (Ok(clusters), _) => found.extend(clusters),
                    (Err(e), Some(at)) if e.kind != FailureKind::Transient => unreachable.push(Unreachable {
                        at: at.clone(),
                        message: e.to_string(),
                    }),
                    (Err(e), _) => return Err(HandlerError::Eks(e)),
                }
            }
        }
        Ok((found, unreachable))
    }

    /// The version catalogue of every region `locations` touch (EKS offers a version region
    /// by region), each region asked once: in the function's own account when it is one of
    /// them, else in its first member location that answers. A region none of whose locations
    /// can be reached is left out: discovery makes each of them a failed entry.
    pub(super) async fn catalogues_across(
        &self,
        locations: &[Option<Location>],
    ) -> Result<Vec<Vec<OfferedVersion>>, HandlerError> {
        let home_region = self.config.home.as_ref().map(|h| h.region.clone());
        // Each region's locations to ask, in order (home's own first).
        let mut regions: Vec<(Option<Region>, Vec<Option<Location>>)> = Vec::new();
        let mut ordered: Vec<&Option<Location>> = locations.iter().filter(|at| at.is_none()).collect();
        ordered.extend(locations.iter().filter(|at| at.is_some()));
        for at in ordered {
            let region = at.as_ref().map(|at| at.region.clone()).or_else(|| home_region.clone());
            match regions.iter_mut().find(|(r, _)| *r == region) {
                Some((_, candidates)) => candidates.push(at.clone()),
                None => regions.push((region, vec![at.clone()])),
            }
        }
        let mut catalogues = Vec::new();
        let mut next: Vec<(usize, usize)> = (0..regions.len()).map(|r| (r, 0)).collect();
        while !next.is_empty() {
            let mut retry = Vec::new();
            for chunk in next.chunks(LOCATIONS_AT_ONCE) {
                let asks = chunk
                    .iter()
                    .map(|&(r, i)| self.eks.describe_cluster_versions(regions[r].1[i].as_ref()));
                for (&(r, i), answer) in chunk.iter().zip(join_all(asks).await) {
                    match answer {
                        Ok(catalogue) => catalogues.push(catalogue),
                        // This account can't be reached there: the region's next location.
                        Err(e) if regions[r].1[i].is_some() && e.kind != FailureKind::Transient => {
                            if i + 1 < regions[r].1.len() {
                                retry.push((r, i + 1));
                            }
                        }
                        Err(e) => return Err(HandlerError::Eks(e)),
                    }
                }
            }
            next = retry;
        }
        Ok(catalogues)
    }

    /// The version a rollout over `locations` goes to: `latest` is the newest version in
    /// standard support in every region it touches; `standard-support` the oldest that stays
    /// in standard support `min_days` more in every one.
    pub(super) async fn resolve_across(
        &self,
        requested: TargetVersion,
        min_days: u32,
        locations: &[Option<Location>],
    ) -> Result<KubeVersion, HandlerError> {
        if let TargetVersion::Exact(version) = requested {
            return Ok(version);
        }
        let catalogues = self.catalogues_across(locations).await?;
        let resolved = match requested {
            TargetVersion::StandardSupport => {
                support::standard_support_target(&catalogues, self.clock.now_secs(), min_days)
            }
            _ => latest_in_every(&catalogues).ok_or_else(|| "EKS lists no version in standard support".to_owned()),
        };
        resolved.map_err(|e| HandlerError::Plan(PlanError(e)))
    }

    /// The clusters of one account and region, with their tags; keyed as records are.
    async fn discover_at(&self, at: Option<&Location>) -> Result<Vec<Discovered>, EksFailure> {
        let names = self.eks.list_clusters(at).await?;
        let keys: Vec<String> = names
            .iter()
            .filter_map(|name| crate::domain::ClusterName::parse(name).ok())
            .map(|name| ClusterId { name, at: at.cloned() }.key())
            .collect();
        let mut found = Vec::new();
        for chunk in keys.chunks(DESCRIBES_AT_ONCE) {
            let described = join_all(chunk.iter().map(|key| self.eks.describe_cluster(key))).await;
            for (key, described) in chunk.iter().zip(described) {
                match described {
                    Ok(view) => found.push(Discovered {
                        name: key.clone(),
                        view,
                    }),
                    // Deleted between the listing and the description.
                    Err(e) if policy(Operation::DescribeMember, &e) == Action::Gone => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(found)
    }
}
