//! Support deadlines and what they cost: where each cluster stands against the end of standard
//! and of extended support for its version (dates as `DescribeClusterVersions` reports them,
//! never a calendar of ours), and the versions a fleet can be sent to (`latest`,
//! `standard-support`). Pure.

use crate::domain::eks::{ClusterView, OfferedVersion};
use crate::domain::record::UpgradeRecord;
use crate::domain::{KubeVersion, UpgradeStatus};
use serde::Serialize;

const DAY: i64 = 86_400;
/// CloudWatch's and AWS billing's month: 730 hours.
pub const HOURS_PER_MONTH: f64 = 730.0;
/// A cluster entering extended support within this many days is named in the report's
/// notification.
pub const NOTICE_DAYS: i64 = 30;

/// What EKS charges per cluster-hour (list prices by default; the template's parameters).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Prices {
    pub standard_hourly_usd: f64,
    pub extended_hourly_usd: f64,
}

impl Default for Prices {
    fn default() -> Self {
        Self {
            standard_hourly_usd: 0.10,
            extended_hourly_usd: 0.60,
        }
    }
}

/// `latest` over the catalogues of every region a rollout touches: the newest version in
/// standard support that each of them offers.
pub fn latest_in_every(catalogues: &[Vec<OfferedVersion>]) -> Option<KubeVersion> {
    catalogues
        .iter()
        .map(|c| {
            c.iter()
                .filter(|v| v.status == "STANDARD_SUPPORT")
                .map(|v| v.version)
                .max()
        })
        .min()
        .flatten()
}

/// `standard-support`: the oldest version that every catalogue lists in standard support until
/// at least `min_days` after `now` (a version whose end date EKS does not report does not
/// qualify: the promise could not be checked).
pub fn standard_support_target(
    catalogues: &[Vec<OfferedVersion>],
    now: i64,
    min_days: u32,
) -> Result<KubeVersion, String> {
    let until = now + i64::from(min_days) * DAY;
    let qualifies = |c: &Vec<OfferedVersion>, version: KubeVersion| {
        c.iter().any(|v| {
            v.version == version && v.status == "STANDARD_SUPPORT" && v.end_of_standard.is_some_and(|end| end >= until)
        })
    };
    let first = catalogues.first().map(Vec::as_slice).unwrap_or_default();
    let mut candidates: Vec<KubeVersion> = first.iter().map(|v| v.version).collect();
    candidates.sort();
    candidates
        .into_iter()
        .find(|&version| catalogues.iter().all(|c| qualifies(c, version)))
        .ok_or_else(|| {
            let listed: Vec<String> = first
                .iter()
                .filter(|v| v.status == "STANDARD_SUPPORT")
                .map(|v| format!("{} until {}", v.version, date(v.end_of_standard)))
                .collect();
            format!(
                "no version stays in standard support for {min_days} more days in every region the rollout \
                 touches (EKS lists {})",
                if listed.is_empty() {
                    "none in standard support".to_owned()
                } else {
                    listed.join(", ")
                }
            )
        })
}

/// `YYYY-MM-DD` of an epoch second, or `unknown`.
pub fn date(at: Option<i64>) -> String {
    at.and_then(|s| jiff::Timestamp::from_second(s).ok())
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// The upgrade of a cluster that runs, or that ended last.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeSeen {
    pub request_id: String,
    pub status: UpgradeStatus,
    pub target_version: KubeVersion,
    pub running: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<i64>,
}

impl UpgradeSeen {
    /// The unfinished one among `records`, else the one that ended last.
    pub fn of(records: &[UpgradeRecord]) -> Option<Self> {
        let running = records.iter().find(|r| !r.is_finished());
        let last = || {
            records
                .iter()
                .filter(|r| r.is_finished())
                .max_by_key(|r| r.finished_at.unwrap_or(r.updated_at))
        };
        running.or_else(last).map(|r| UpgradeSeen {
            request_id: r.request_id.clone(),
            status: r.status,
            target_version: r.target_version,
            running: !r.is_finished(),
            finished_at: r.finished_at,
        })
    }
}

/// Where one cluster stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SupportLine {
    /// Its key: the name here, the ARN in another account or region.
    pub cluster: String,
    pub version: Option<KubeVersion>,
    /// `upgradePolicy.supportType`: EXTENDED (the API's default) or STANDARD (EKS upgrades the
    /// cluster itself when standard support ends).
    pub upgrade_policy: Option<String>,
    /// STANDARD_SUPPORT, EXTENDED_SUPPORT or UNSUPPORTED, as of now; UNKNOWN when its
    /// region's catalogue could not be read.
    pub support: String,
    pub end_of_standard_support: String,
    pub end_of_extended_support: String,
    /// Negative once past.
    pub days_of_standard_support_left: Option<i64>,
    pub days_of_extended_support_left: Option<i64>,
    /// What the cluster costs per month now (EKS's cluster-hour price of its support).
    pub monthly_cost_usd: f64,
    /// What extended support adds per month now (0 in standard support).
    pub extended_support_extra_monthly_usd: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<UpgradeSeen>,
}

impl SupportLine {
    /// Whether it enters extended support (and its price) within [`NOTICE_DAYS`].
    pub fn enters_extended_soon(&self) -> bool {
        self.upgrade_policy.as_deref() != Some("STANDARD")
            && self.support == "STANDARD_SUPPORT"
            && self.days_of_standard_support_left.is_some_and(|d| d <= NOTICE_DAYS)
    }
}

/// Where `cluster` (a record key) stands at `now`, from its view, the catalogue of its region
/// and its upgrades.
pub fn support_line(
    cluster: &str,
    view: &ClusterView,
    catalogue: &[OfferedVersion],
    now: i64,
    prices: Prices,
    upgrade: Option<UpgradeSeen>,
) -> SupportLine {
    let offered = view.version.and_then(|v| catalogue.iter().find(|o| o.version == v));
    let (eoss, eoes) = (
        offered.and_then(|o| o.end_of_standard),
        offered.and_then(|o| o.end_of_extended),
    );
    // Whole days left, rounded down: an hour past the end is already -1.
    let days = |end: Option<i64>| end.map(|e| (e - now).div_euclid(DAY));
    // By the dates where EKS gives them (a status read earlier may have moved on since).
    let support = match (eoss, eoes) {
        (Some(s), _) if now < s => "STANDARD_SUPPORT".to_owned(),
        (Some(_), Some(e)) if now < e => "EXTENDED_SUPPORT".to_owned(),
        (Some(_), Some(_)) => "UNSUPPORTED".to_owned(),
        _ => match offered {
            Some(o) => o.status.clone(),
            // EKS lists every version but the UNSUPPORTED ones (without `includeAll`).
            None if !catalogue.is_empty() && view.version.is_some() => "UNSUPPORTED".into(),
            None => "UNKNOWN".into(),
        },
    };
    let extended = support == "EXTENDED_SUPPORT";
    let hourly = if extended {
        prices.extended_hourly_usd
    } else {
        prices.standard_hourly_usd
    };
    let extra = if extended {
        prices.extended_hourly_usd - prices.standard_hourly_usd
    } else {
        0.0
    };
    SupportLine {
        cluster: cluster.to_owned(),
        version: view.version,
        upgrade_policy: view.support_type.clone(),
        support,
        end_of_standard_support: date(eoss),
        end_of_extended_support: date(eoes),
        days_of_standard_support_left: days(eoss),
        days_of_extended_support_left: days(eoes),
        monthly_cost_usd: cents(hourly * HOURS_PER_MONTH),
        extended_support_extra_monthly_usd: cents(extra * HOURS_PER_MONTH),
        upgrade,
    }
}

fn cents(usd: f64) -> f64 {
    (usd * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_796_342_400; // 2026-12-04

    fn offered(minor: u16, status: &str, standard_days: i64) -> OfferedVersion {
        OfferedVersion {
            version: KubeVersion::new(1, minor),
            status: status.into(),
            default: false,
            end_of_standard: Some(NOW + standard_days * DAY),
            end_of_extended: Some(NOW + (standard_days + 365) * DAY),
        }
    }

    fn catalogue() -> Vec<OfferedVersion> {
        vec![
            offered(32, "EXTENDED_SUPPORT", -200),
            offered(33, "STANDARD_SUPPORT", 20),
            offered(34, "STANDARD_SUPPORT", 100),
            offered(35, "STANDARD_SUPPORT", 300),
        ]
    }

    #[test]
    fn standard_support_is_the_oldest_version_with_enough_days_left_in_every_region() {
        assert_eq!(
            standard_support_target(&[catalogue()], NOW, 90),
            Ok(KubeVersion::new(1, 34))
        );
        assert_eq!(
            standard_support_target(&[catalogue()], NOW, 0),
            Ok(KubeVersion::new(1, 33))
        );
        assert_eq!(
            standard_support_target(&[catalogue()], NOW, 200),
            Ok(KubeVersion::new(1, 35))
        );
        // A region where 1.34's standard support ends sooner.
        let mut behind = catalogue();
        behind[2].end_of_standard = Some(NOW + 60 * DAY);
        assert_eq!(
            standard_support_target(&[catalogue(), behind], NOW, 90),
            Ok(KubeVersion::new(1, 35))
        );
        let err = standard_support_target(&[catalogue()], NOW, 365).unwrap_err();
        assert!(
            err.contains("365 more days") && err.contains("1.35 until 2027-09-30"),
            "{err}"
        );
        // A date EKS does not give can't be promised.
        let mut undated = catalogue();
        undated[2].end_of_standard = None;
        assert_eq!(
            standard_support_target(&[undated], NOW, 90),
            Ok(KubeVersion::new(1, 35))
        );
    }

    #[test]
    fn latest_is_the_newest_every_region_offers() {
        let mut behind = catalogue();
        behind.pop();
        assert_eq!(latest_in_every(&[catalogue()]), Some(KubeVersion::new(1, 35)));
        assert_eq!(latest_in_every(&[catalogue(), behind]), Some(KubeVersion::new(1, 34)));
        assert_eq!(latest_in_every(&[]), None);
    }

    fn view(minor: u16, policy: &str) -> ClusterView {
        ClusterView {
            status: "ACTIVE".into(),
            version: Some(KubeVersion::new(1, minor)),
            support_type: Some(policy.into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_cluster_past_standard_support_costs_the_extended_price_by_the_dates_not_a_stale_status() {
        let mut c = catalogue();
        c[1].status = "STANDARD_SUPPORT".into(); // read earlier; 1.33 ends in 20 days
        let line = support_line(
            "web",
            &view(33, "EXTENDED"),
            &c,
            NOW + 21 * DAY,
            Prices::default(),
            None,
        );
        assert_eq!(line.support, "EXTENDED_SUPPORT");
        assert_eq!(line.days_of_standard_support_left, Some(-1));
        assert_eq!(line.monthly_cost_usd, 438.0);
        assert_eq!(line.extended_support_extra_monthly_usd, 365.0);
        assert!(!line.enters_extended_soon(), "already in");
        let line = support_line("web", &view(33, "EXTENDED"), &c, NOW, Prices::default(), None);
        assert_eq!(
            (line.support.as_str(), line.monthly_cost_usd),
            ("STANDARD_SUPPORT", 73.0)
        );
        assert_eq!(line.end_of_standard_support, "2026-12-24");
        assert!(line.enters_extended_soon());
        // With policy STANDARD, EKS upgrades it itself instead.
        let line = support_line("web", &view(33, "STANDARD"), &c, NOW, Prices::default(), None);
        assert!(!line.enters_extended_soon());
        let far = support_line("web", &view(34, "EXTENDED"), &c, NOW, Prices::default(), None);
        assert!(!far.enters_extended_soon(), "100 days left");
        let gone = support_line("web", &view(29, "EXTENDED"), &c, NOW, Prices::default(), None);
        assert_eq!(
            gone.support, "UNSUPPORTED",
            "not listed: EKS hides UNSUPPORTED versions"
        );
        let unread = support_line("web", &view(29, "EXTENDED"), &[], NOW, Prices::default(), None);
        assert_eq!(unread.support, "UNKNOWN");
        let hour_past = support_line(
            "web",
            &view(33, "EXTENDED"),
            &c,
            NOW + 20 * DAY + 3600,
            Prices::default(),
            None,
        );
        assert_eq!(hour_past.days_of_standard_support_left, Some(-1));
    }
}
