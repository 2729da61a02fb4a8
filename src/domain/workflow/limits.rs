//! Bounds and pacing of the workflow, from configuration; and who may be upgraded.

use crate::domain::eks::ClusterView;
use crate::domain::event::{InvalidEvent, VerifySpec};
use crate::domain::record::ItemKind;
use crate::domain::window;
use crate::domain::window::MaintenanceWindow;

/// Bounds and pacing, from configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Seconds between two DescribeUpdate calls (and between retries after a fault).
    pub poll_interval_secs: i64,
    /// Seconds between two looks at something that takes minutes to hours: a control-plane or
    /// node-group update, a rollback, another update awaited, a verification's soak. With
    /// wake-ups (EventBridge Scheduler) each look is an invocation, so 60 s by default; without,
    /// the same as `poll_interval_secs`.
    pub update_poll_secs: i64,
    /// The whole upgrade: an attempt (from the request, or from waking or reopening it) older
    /// than this ends TIMED_OUT.
    pub max_attempt_secs: i64,
    /// A control-plane update still in progress after this long ends the upgrade TIMED_OUT.
    pub control_plane_update_timeout_secs: i64,
    /// The same for an add-on update ...
    pub addon_update_timeout_secs: i64,
    /// ... and for a node-group update (a rolling replacement of every node: hours).
    pub nodegroup_update_timeout_secs: i64,
    /// An attempt that took more invocations than this ends TIMED_OUT.
    pub max_invocations: u32,
    /// A finished record expires (DynamoDB TTL) this long after it finished.
    pub retention_secs: i64,
    /// The sweep resumes an unfinished record whose heartbeat is older than this.
    pub stale_after_secs: i64,
    /// How long a control-plane hop is assumed to take: it starts only if the maintenance window
    /// has that long left.
    pub hop_estimate_secs: i64,
    /// How often the sweep runs (the template's schedule).
    pub sweep_period_secs: i64,
    /// How late a parked upgrade may wake after the moment it parked for (a window opening):
    /// EventBridge Scheduler's minute with wake-ups; without them, a sweep period.
    pub wake_lateness_secs: i64,
    /// A BLOCKED upgrade is checked again by the sweep this long after it blocked (0: never;
    /// only a new request then).
    pub blocked_recheck_secs: i64,
    /// ... until it has been blocked this long (0: for ever); then it ends BLOCKED for good
    /// with a last message.
    pub blocked_give_up_secs: i64,
    /// How many managed node groups update at once.
    pub nodegroup_parallelism: u32,
    /// Clusters opt in: the tag `<enrollment_tag>=true` on the cluster ...
    pub enrollment_tag: String,
    /// ... or their name in this list.
    pub allowed_clusters: Vec<String>,
    /// `VERIFY_ALARM_PREFIX`: the alarms a request may name for its verification start with
    /// this (the template grants DescribeAlarms on those only); none: any alarm.
    pub verify_alarm_prefix: Option<String>,
}

/// The tag that enrolls a cluster, unless configured otherwise (`ENROLLMENT_TAG`).
pub const DEFAULT_ENROLLMENT_TAG: &str = "upgrade-orchestrator/enabled";

impl Limits {
    /// A window must be long enough for a hop even when the parked upgrade wakes as late as it
    /// may after the window opened; a shorter one could never be met.
    pub fn check_window(&self, window: Option<&MaintenanceWindow>) -> Result<(), InvalidEvent> {
        let Some(window) = window else { return Ok(()) };
        let needed = (self.hop_estimate_secs + self.wake_lateness_secs + 59) / 60;
        let minutes = i64::from(window.duration_minutes());
        if minutes >= needed {
            return Ok(());
        }
        Err(InvalidEvent {
            field: "maintenanceWindow.durationMinutes".into(),
            problem: format!(
                "expected at least {needed} minutes: a hop needs HOP_ESTIMATE_MINUTES ({}) of the window, and a \
                 parked upgrade may wake up to {} after the window opens ({}); got {minutes}",
                self.hop_estimate_secs / 60,
                crate::domain::text::human_duration(self.wake_lateness_secs),
                if self.wake_lateness_secs == self.sweep_period_secs {
                    "at a sweep: SWEEP_PERIOD_MINUTES"
                } else {
                    "EventBridge Scheduler's precision"
                }
            ),
        })
    }

    /// A verification must fit the attempt's bound (its soak starts an attempt of its own, with
    /// two polls' room), and the alarms it names must be ones the function may read: refused at
    /// once otherwise, rather than denied by IAM a hop later.
    pub fn check_verify(&self, verify: Option<&VerifySpec>) -> Result<(), InvalidEvent> {
        let Some(verify) = verify else { return Ok(()) };
        let soak = i64::from(verify.soak_minutes) * 60;
        let room = 2 * self.poll_interval_secs;
        if soak + room > self.max_attempt_secs {
            return Err(InvalidEvent {
                field: "verify.soakMinutes".into(),
                problem: format!(
                    "expected at most {} minutes: the soak and two polls must fit MAX_TRACKING_SECONDS ({}); got {}",
                    (self.max_attempt_secs - room).max(0) / 60,
                    self.max_attempt_secs,
                    verify.soak_minutes
                ),
            });
        }
        let Some(prefix) = self.verify_alarm_prefix.as_deref() else {
            return Ok(());
        };
        match verify.alarms.iter().position(|a| !a.starts_with(prefix)) {
            None => Ok(()),
            Some(i) => Err(InvalidEvent {
                field: format!("verify.alarms[{i}]"),
                problem: format!(
                    "expected an alarm name starting with {prefix:?} (VERIFY_ALARM_PREFIX: the function may read only \
                     those alarms); got {:?}",
                    verify.alarms[i]
                ),
            }),
        }
    }

    /// How long an update of this kind may run.
    pub fn update_timeout_secs(&self, kind: Option<ItemKind>) -> i64 {
        match kind {
            None => self.control_plane_update_timeout_secs,
            Some(ItemKind::Addon) => self.addon_update_timeout_secs,
            Some(ItemKind::Nodegroup) => self.nodegroup_update_timeout_secs,
        }
    }

    /// Whether the cluster opted in to upgrades by this function.
    pub fn admits(&self, name: &str, cluster: &ClusterView) -> bool {
        self.allowed_clusters.iter().any(|c| c == name)
            || cluster
                .tags
                .get(&self.enrollment_tag)
                .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// Why a cluster is refused, for operators.
    pub fn not_enrolled(&self, name: &str) -> String {
        format!(
            "cluster {name} is not enrolled for upgrades: tag it {}=true, or list it in ALLOWED_CLUSTERS",
            self.enrollment_tag
        )
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            poll_interval_secs: 30,
            update_poll_secs: 30,
            max_attempt_secs: 24 * 3600,
            control_plane_update_timeout_secs: 2 * 3600,
            addon_update_timeout_secs: 3600,
            nodegroup_update_timeout_secs: 6 * 3600,
            max_invocations: 200,
            retention_secs: 90 * 86400,
            stale_after_secs: 300,
            hop_estimate_secs: window::DEFAULT_HOP_ESTIMATE_SECS,
            sweep_period_secs: 600,
            wake_lateness_secs: 600,
            blocked_recheck_secs: 3600,
            blocked_give_up_secs: 7 * 86400,
            nodegroup_parallelism: 1,
            enrollment_tag: DEFAULT_ENROLLMENT_TAG.to_owned(),
            allowed_clusters: Vec::new(),
            verify_alarm_prefix: None,
        }
    }
}
