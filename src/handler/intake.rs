//! An upgrade request: the target named, the cluster's enrollment checked, then the record
//! created with its token before anything else (or the existing record taken up).

use super::reply::Summary;
use super::{new_token, HandlerError, Invocation};
use crate::domain::plan::PlanError;
use crate::domain::workflow;
use crate::domain::{KubeVersion, Location, RequestId, TargetVersion, UpgradeRecord, UpgradeRequest};
use crate::ports::{Clock, Eks, Inserted, Ports, RecordStore};
use tracing::{info, warn};

impl<P: Ports> super::Orchestrator<P> {
    /// An upgrade request: the record is created (with its token) before anything else, or the
    /// existing one is taken up.
    pub async fn upgrade(&self, request: UpgradeRequest, invocation: &Invocation) -> Result<Summary, HandlerError> {
        let mut request = request;
        let target = self.resolve_target(&mut request).await?;
        self.check_enrollment(&request).await?;
        self.check_alarms(&request).await?;
        let key = request.cluster.key();
        let (cluster, request_id) = (key.as_str(), request.request_id());
        if let Some(existing) = self.store.get(cluster, request_id.as_str()).await? {
            return match self.take_up(existing, &request, target).await? {
                TakenUp::Run(record) => self.run(*record, None, invocation).await,
                TakenUp::Answer(summary) => Ok(summary),
            };
        }
        // One upgrade per cluster: the lock first, then the record.
        self.hold(cluster, request_id.as_str()).await?;
        let now = self.clock.now_secs();
        let fresh = UpgradeRecord::new(&request, target, new_token(), now);
        let record = match self.store.insert_new(&fresh).await? {
            Inserted::Created => {
                info!(cluster = %fresh.cluster, request_id = %fresh.request_id, target = %fresh.target_version,
                      client_request_token = %fresh.client_request_token, "upgrade request recorded");
                fresh
            }
            Inserted::AlreadyExists(existing) => match self.take_up(*existing, &request, target).await? {
                TakenUp::Run(record) => *record,
                TakenUp::Answer(summary) => return Ok(summary),
            },
        };
        self.run(record, None, invocation).await
    }

    /// The version the request names; `latest` is resolved once, when the request comes, and
    /// from then on the request names that version (so a blocked one can be reopened).
    async fn resolve_target(&self, request: &mut UpgradeRequest) -> Result<KubeVersion, HandlerError> {
        if let TargetVersion::Exact(version) = request.target_version {
            return Ok(version);
        }
        // Where the cluster is: EKS offers a new version region by region.
        let latest = self.latest_version_at(request.cluster.at.as_ref()).await?;
        if request.request_id.is_none() {
            request.request_id = Some(RequestId::for_target(TargetVersion::Exact(latest)));
        }
        request.target_version = TargetVersion::Exact(latest);
        Ok(latest)
    }

    /// `latest` at `at` (`None`: this function's own account and region): the newest version
    /// EKS offers there in standard support.
    pub(super) async fn latest_version_at(&self, at: Option<&Location>) -> Result<KubeVersion, HandlerError> {
        let offered = self
            .eks
            .describe_cluster_versions(at)
            .await
            .map_err(HandlerError::Eks)?;
        offered
            .iter()
            .filter(|v| v.status == "STANDARD_SUPPORT")
            .map(|v| v.version)
            .max()
            .ok_or_else(|| HandlerError::Plan(PlanError("EKS lists no version in standard support".into())))
    }

    /// Only enrolled clusters: a stray or forged schedule is refused here, with nothing written.
    /// (If EKS can't answer now, the preflight checks again before any change.)
    async fn check_enrollment(&self, request: &UpgradeRequest) -> Result<(), HandlerError> {
        let key = request.cluster.key();
        let name = key.as_str();
        if let Ok(cluster) = self.eks.describe_cluster(name).await {
            if !self.config.limits.admits(name, &cluster) {
                let reason = self.config.limits.not_enrolled(name);
                warn!(cluster = name, request_id = %request.request_id(), "refused: {reason}");
                return Err(HandlerError::NotEnrolled(reason));
            }
        }
        Ok(())
    }

    /// The alarms `verify` names must be metric alarms CloudWatch knows: a mistyped name (or a
    /// composite alarm, which the function's scoped permission can't read) is refused here,
    /// naming the field, with nothing written, rather than failing the hop after the control
    /// plane changed. (If CloudWatch can't answer now, the preflight reads them again before
    /// any change.)
    async fn check_alarms(&self, request: &UpgradeRequest) -> Result<(), HandlerError> {
        let Some(names) = request.verify.as_ref().map(|v| &v.alarms).filter(|a| !a.is_empty()) else {
            return Ok(());
        };
        self.refuse_unknown_alarms(request.cluster.at.as_ref(), names, "verify.alarms")
            .await
    }

    /// The same request again: a BLOCKED record is reopened; anything else answers as it is.
    async fn take_up(
        &self,
        existing: UpgradeRecord,
        request: &UpgradeRequest,
        target: KubeVersion,
    ) -> Result<TakenUp, HandlerError> {
        if existing.target_version != target {
            return Err(HandlerError::ConflictingRequest {
                cluster: existing.cluster,
                request_id: existing.request_id,
                existing: existing.target_version.to_string(),
            });
        }
        if let Some(taker) = &existing.released_to {
            let outcome = format!(
                "this upgrade ended and gave its cluster to upgrade {taker}; send a new requestId to upgrade again"
            );
            return Ok(TakenUp::Answer(Summary::of(&existing, outcome)));
        }
        let now = self.clock.now_secs();
        match workflow::reopen(&existing, request, new_token(), now) {
            Some(reopened) => match self.hold_then_write(&existing, reopened).await? {
                Some(record) => {
                    info!(cluster = %record.cluster, request_id = %record.request_id, force = record.force,
                          client_request_token = %record.client_request_token, "blocked upgrade requested again");
                    Ok(TakenUp::Run(Box::new(record)))
                }
                None => Ok(TakenUp::Answer(
                    self.current(&existing, "another invocation changed the record first")
                        .await?,
                )),
            },
            None if existing.is_finished() => Ok(TakenUp::Answer(Summary::of(
                &existing,
                "this request was already handled; nothing done",
            ))),
            None => Ok(TakenUp::Run(Box::new(existing))),
        }
    }
}

enum TakenUp {
    Run(Box<UpgradeRecord>),
    Answer(Summary),
}
