//! `{"fleetReport": {...}}`: every enrolled cluster (across the accounts and regions asked
//! for) with its version, the end of standard and of extended support for that version (from
//! `DescribeClusterVersions` in its region), its upgrade policy, the days left, what extended
//! support costs it, and its upgrade running or last ended. Changes nothing in EKS or the
//! table; with `notify`, notifies the clusters entering extended support within 30 days.

use super::reply::Reply;
use super::HandlerError;
use crate::domain::eks::OfferedVersion;
use crate::domain::record::outbox::Notification;
use crate::domain::rollout::assign::{locations_of, Discovered, Unreachable};
use crate::domain::support::{date, support_line, SupportLine, UpgradeSeen, NOTICE_DAYS};
use crate::domain::{ClusterId, FleetReportRequest, InvalidEvent, Location};
use crate::ports::{Clock, Eks, Notifier, Ports, RecordStore};
use futures_util::future::join_all;
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use tracing::{info, warn};

/// The notification naming the clusters entering extended support soon.
pub const DETAIL_ENTERING_EXTENDED_SUPPORT: &str = "EKS Clusters Entering Extended Support";
/// At most this many clusters named in one notification (the count says how many in all).
const NOTICE_CLUSTERS: usize = 100;
/// Stored upgrades read at once.
const READS_AT_ONCE: usize = 16;

/// What a fleet report answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FleetReportReply {
    pub generated_at: i64,
    pub prices: crate::domain::support::Prices,
    /// Most urgent first: the fewest days of standard support left.
    pub clusters: Vec<SupportLine>,
    pub entering_extended_support_within_30_days: Vec<String>,
    pub in_extended_support: Vec<String>,
    /// What extended support adds per month over the fleet, now.
    pub extended_support_extra_monthly_usd: f64,
    pub unreachable: Vec<UnreachableLocation>,
    /// Whether the notification went out (none is sent when nobody enters extended support).
    pub notified: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnreachableLocation {
    pub account: String,
    pub region: String,
    pub message: String,
}

impl<P: Ports> super::Orchestrator<P> {
    pub(super) async fn fleet_report(&self, request: FleetReportRequest) -> Result<Reply, HandlerError> {
        let locations = self.report_locations(&request)?;
        let (found, unreachable) = self.discover(&locations).await?;
        let limits = &self.config.limits;
        let selected: Vec<&Discovered> = found
            .iter()
            .filter(|d| limits.admits(&d.name, &d.view))
            .filter(|d| request.tags.iter().all(|(k, v)| d.view.tags.get(k) == Some(v)))
            .collect();
        let catalogues = self.catalogues_of(&selected).await?;
        let upgrades = self.upgrades_of(&selected).await;
        let now = self.clock.now_secs();
        let prices = self.config.support_prices.prices();
        let mut lines: Vec<SupportLine> = selected
            .iter()
            .zip(upgrades)
            .map(|(d, upgrade)| {
                let catalogue = catalogues.get(&located(&d.name)).map(Vec::as_slice).unwrap_or_default();
                support_line(&d.name, &d.view, catalogue, now, prices, upgrade)
            })
            .collect();
        lines.sort_by_key(|l| (l.days_of_standard_support_left.unwrap_or(i64::MAX), l.cluster.clone()));
        let entering: Vec<&SupportLine> = lines.iter().filter(|l| l.enters_extended_soon()).collect();
        let notified = request.notify && self.notify_entering(&entering, now).await;
        let extra = lines.iter().map(|l| l.extended_support_extra_monthly_usd).sum::<f64>();
        info!(
            clusters = lines.len(),
            entering = entering.len(),
            notified,
            "fleet report"
        );
        Ok(Reply::FleetReport(Box::new(FleetReportReply {
            generated_at: now,
            prices,
            entering_extended_support_within_30_days: entering.iter().map(|l| l.cluster.clone()).collect(),
            in_extended_support: lines
                .iter()
                .filter(|l| l.support == "EXTENDED_SUPPORT")
                .map(|l| l.cluster.clone())
                .collect(),
            extended_support_extra_monthly_usd: (extra * 100.0).round() / 100.0,
            unreachable: unreachable.iter().map(unreachable_location).collect(),
            clusters: lines,
            notified,
        })))
    }

    /// The function's own account and region, or `accounts` in `regions`.
    fn report_locations(&self, request: &FleetReportRequest) -> Result<Vec<Option<Location>>, HandlerError> {
        if request.accounts.is_empty() && request.regions.is_empty() {
            return Ok(vec![None]);
        }
        let refused = |field: &str, problem: &str| {
            HandlerError::from(InvalidEvent {
                field: format!("fleetReport.{field}"),
                problem: problem.into(),
            })
        };
        let Some(home) = self.config.home.as_ref() else {
            return Err(refused("accounts", "needs HOME_ACCOUNT_ID (the template sets it)"));
        };
        let pairs = request.accounts.len().max(1) * request.regions.len().max(1);
        if pairs > super::rollout::MAX_LOCATIONS {
            return Err(refused(
                "regions",
                "expected at most 200 accounts and regions (each account in each region)",
            ));
        }
        let locations = locations_of(&request.accounts, &request.regions, home);
        if locations.iter().any(Option::is_some) && self.config.spoke.is_none() {
            return Err(refused(
                "accounts",
                "other accounts and regions are reached through the spoke role: deploy with SpokeRoleName",
            ));
        }
        if locations.len() > super::rollout::MAX_LOCATIONS {
            return Err(refused(
                "regions",
                "expected at most 200 accounts and regions (each account in each region)",
            ));
        }
        Ok(locations)
    }

    /// The version catalogue of each location the clusters are in (one call per location).
    async fn catalogues_of(
        &self,
        clusters: &[&Discovered],
    ) -> Result<BTreeMap<Option<Location>, Vec<OfferedVersion>>, HandlerError> {
        let mut wanted: Vec<Option<Location>> = clusters.iter().map(|d| located(&d.name)).collect();
        wanted.sort();
        wanted.dedup();
        let mut catalogues = BTreeMap::new();
        for chunk in wanted.chunks(8) {
            let answers = join_all(chunk.iter().map(|at| self.eks.describe_cluster_versions(at.as_ref()))).await;
            for (at, answer) in chunk.iter().zip(answers) {
                match answer {
                    Ok(catalogue) => {
                        catalogues.insert(at.clone(), catalogue);
                    }
                    // A member's catalogue unread: its clusters show their status as UNKNOWN.
                    Err(e) if at.is_some() => warn!(error = %e, "fleet report: version catalogue unread"),
                    Err(e) => return Err(HandlerError::Eks(e)),
                }
            }
        }
        Ok(catalogues)
    }

    /// Each cluster's upgrade running, or last ended (a cluster whose records can't be read
    /// shows none).
    async fn upgrades_of(&self, clusters: &[&Discovered]) -> Vec<Option<UpgradeSeen>> {
        let mut seen = Vec::new();
        for chunk in clusters.chunks(READS_AT_ONCE) {
            let listed = join_all(chunk.iter().map(|d| self.store.list_cluster(&d.name))).await;
            seen.extend(
                listed
                    .into_iter()
                    .map(|l| l.ok().and_then(|l| UpgradeSeen::of(&l.records))),
            );
        }
        seen
    }

    /// The notification naming the clusters entering extended support soon (its
    /// `notificationId` the day's, so a consumer keeps one a day); whether it went out.
    async fn notify_entering(&self, entering: &[&SupportLine], now: i64) -> bool {
        if entering.is_empty() || !self.notifier.enabled() {
            return false;
        }
        let clusters: Vec<_> = entering
            .iter()
            .take(NOTICE_CLUSTERS)
            .map(|l| {
                json!({ "cluster": l.cluster, "version": l.version, "endOfStandardSupport": l.end_of_standard_support,
                        "daysLeft": l.days_of_standard_support_left, "upgradePolicy": l.upgrade_policy })
            })
            .collect();
        // The day's id: consumers drop a second report of the same day (a retried delivery).
        let id = format!("fleet-report/{}", date(Some(now)));
        let notice = Notification {
            id: id.clone(),
            detail_type: DETAIL_ENTERING_EXTENDED_SUPPORT.to_owned(),
            detail: json!({ "notificationId": id, "withinDays": NOTICE_DAYS, "total": entering.len(), "clusters": clusters }),
        };
        match self.notifier.publish(&[notice]).await {
            Ok(()) => true,
            Err(e) => {
                warn!(error = %e, "fleet report: notification not published");
                false
            }
        }
    }
}

fn located(key: &str) -> Option<Location> {
    ClusterId::parse(key).ok().and_then(|id| id.at)
}

fn unreachable_location(u: &Unreachable) -> UnreachableLocation {
    UnreachableLocation {
        account: u.at.account.as_str().to_owned(),
        region: u.at.region.as_str().to_owned(),
        message: u.message.clone(),
    }
}
