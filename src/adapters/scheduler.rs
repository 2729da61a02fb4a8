//! [`WakeScheduler`] over `aws-sdk-scheduler`: one-time schedules (`at(...)`, on time, deleted
//! after they ran) in the stack's schedule group, each invoking this function with a
//! continuation or a rollout's tick.

use super::aws::LazyClient;
use super::sdk_failure;
use crate::config::WakeConfig;
use crate::domain::event::wake::Wake;
use crate::ports::{ScheduleError, WakeScheduler};
use aws_sdk_scheduler::types::{
    ActionAfterCompletion, DeadLetterConfig, FlexibleTimeWindow, FlexibleTimeWindowMode, RetryPolicy, Target,
};

/// A wake-up that Scheduler could not deliver within this long goes to the dead-letter queue
/// (and the sweep wakes its upgrade).
const MAX_EVENT_AGE_SECS: i32 = 3600;
/// Delivery attempts after the first (Lambda throttled or unavailable).
const MAX_RETRY_ATTEMPTS: i32 = 20;

#[derive(Debug, Clone)]
pub struct SchedulerWakes {
    client: LazyClient<aws_sdk_scheduler::Client>,
    /// None: wake-ups are not configured, and the driver never asks for one.
    config: Option<WakeConfig>,
}

impl SchedulerWakes {
    pub fn new(client: impl Into<LazyClient<aws_sdk_scheduler::Client>>, config: Option<WakeConfig>) -> Self {
        Self {
            client: client.into(),
            config,
        }
    }

    fn config(&self) -> Result<&WakeConfig, ScheduleError> {
        self.config
            .as_ref()
            .ok_or_else(|| ScheduleError("wake-ups are not configured (WAKE_SCHEDULE_GROUP)".to_owned()))
    }
}

/// `at(yyyy-mm-ddThh:mm:ss)` in UTC, rounded up to the whole second so it never fires early.
pub fn at_expression(epoch_secs: i64) -> String {
    let at = jiff::Timestamp::from_second(epoch_secs).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    format!("at({})", at.strftime("%Y-%m-%dT%H:%M:%S"))
}

fn failure<E>(
    err: &aws_sdk_scheduler::error::SdkError<E, aws_sdk_scheduler::config::http::HttpResponse>,
) -> (String, String)
where
    E: aws_sdk_scheduler::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    let f = sdk_failure(err);
    (f.code, f.message)
}

impl WakeScheduler for SchedulerWakes {
    async fn arrange(&self, wake: &Wake) -> Result<(), ScheduleError> {
        let config = self.config()?;
        let bad = |what: &str, e: &dyn std::fmt::Display| ScheduleError(format!("{what}: {e}"));
        let mut target = Target::builder()
            .arn(&config.target_arn)
            .role_arn(&config.role_arn)
            .input(wake.event.to_string())
            .retry_policy(
                RetryPolicy::builder()
                    .maximum_event_age_in_seconds(MAX_EVENT_AGE_SECS)
                    .maximum_retry_attempts(MAX_RETRY_ATTEMPTS)
                    .build(),
            );
        if let Some(queue) = &config.dead_letter_arn {
            target = target.dead_letter_config(DeadLetterConfig::builder().arn(queue).build());
        }
        let window = FlexibleTimeWindow::builder()
            .mode(FlexibleTimeWindowMode::Off)
            .build()
            .map_err(|e| bad("FlexibleTimeWindow", &e))?;
        // Boxed: an SDK call's future is large, and the driver's own future holds this one.
        let request = self
            .client
            .get()
            .await
            .create_schedule()
            .name(&wake.name)
            .group_name(&config.group)
            .schedule_expression(at_expression(wake.at))
            .schedule_expression_timezone("UTC")
            .flexible_time_window(window)
            .action_after_completion(ActionAfterCompletion::Delete)
            .target(target.build().map_err(|e| bad("Target", &e))?);
        let result = Box::pin(request.send()).await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => match failure(&e) {
                // The same name is the same wake-up (names derive from what they carry).
                (code, _) if code == "ConflictException" => Ok(()),
                (code, message) => Err(ScheduleError(
                    format!("CreateSchedule: {code} {message}").trim().to_owned(),
                )),
            },
        }
    }

    async fn withdraw(&self, name: &str) -> Result<(), ScheduleError> {
        let config = self.config()?;
        let request = self
            .client
            .get()
            .await
            .delete_schedule()
            .name(name)
            .group_name(&config.group);
        let result = Box::pin(request.send()).await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => match failure(&e) {
                (code, _) if code == "ResourceNotFoundException" => Ok(()),
                (code, message) => Err(ScheduleError(
                    format!("DeleteSchedule: {code} {message}").trim().to_owned(),
                )),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_at_expression_is_utc_to_the_second() {
        assert_eq!(super::at_expression(1_790_000_000), "at(2026-09-21T14:13:20)");
    }
}
