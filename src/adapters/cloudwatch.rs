//! [`Alarms`] over `aws-sdk-cloudwatch` (DescribeAlarms), metric alarms only. A member
//! cluster's alarms are read in its own account and region, through the spoke role.

use super::aws::LazyClient;
use super::eks::failure;
use super::spokes::{no_spoke_role, Spokes, HUB_SESSION};
use crate::domain::eks::AlarmView;
use crate::domain::{EksFailure, Location};
use crate::ports::Alarms;
use aws_sdk_cloudwatch::types::AlarmType;

#[derive(Debug, Clone)]
pub struct CloudWatchAlarms {
    client: LazyClient<aws_sdk_cloudwatch::Client>,
    /// Member accounts' clients (hub and spoke); none: only this account's alarms.
    spokes: Option<Spokes>,
}

impl CloudWatchAlarms {
    pub fn new(client: impl Into<LazyClient<aws_sdk_cloudwatch::Client>>) -> Self {
        Self {
            client: client.into(),
            spokes: None,
        }
    }

    /// Reads member clusters' alarms through `spokes`.
    pub fn with_spokes(mut self, spokes: Spokes) -> Self {
        self.spokes = Some(spokes);
        self
    }

    async fn client_at(&self, at: Option<&Location>) -> Result<aws_sdk_cloudwatch::Client, EksFailure> {
        match (at, &self.spokes) {
            (None, _) => Ok(self.client.get().await.clone()),
            (Some(at), Some(spokes)) => Box::pin(spokes.cloudwatch(at, HUB_SESSION)).await,
            (Some(at), None) => Err(no_spoke_role(at)),
        }
    }
}

impl Alarms for CloudWatchAlarms {
    async fn describe(&self, at: Option<&Location>, names: &[String]) -> Result<Vec<AlarmView>, EksFailure> {
        if names.is_empty() {
            // No alarms named: no call (nor a CloudWatch permission) needed.
            return Ok(Vec::new());
        }
        let pages = self
            .client_at(at)
            .await?
            .describe_alarms()
            .set_alarm_names(Some(names.to_vec()))
            // Metric alarms only: CloudWatch returns composite alarms only to a caller whose
            // cloudwatch:DescribeAlarms is scoped to `*`, and the template scopes it to
            // VerifyAlarmPrefix. A composite alarm named in a request is refused at intake.
            .alarm_types(AlarmType::MetricAlarm)
            .into_paginator()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| failure(&e))?;
        let mut alarms = Vec::new();
        for page in &pages {
            for alarm in page.metric_alarms() {
                alarms.push(view(alarm.alarm_name(), alarm.state_value(), alarm.state_reason()));
            }
        }
        Ok(alarms)
    }
}

fn view(name: Option<&str>, state: Option<&aws_sdk_cloudwatch::types::StateValue>, reason: Option<&str>) -> AlarmView {
    AlarmView {
        name: name.unwrap_or_default().to_owned(),
        state: state.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        reason: reason.unwrap_or_default().to_owned(),
    }
}
