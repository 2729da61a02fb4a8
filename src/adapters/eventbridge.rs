//! [`Notifier`] over `aws-sdk-eventbridge`: PutEvents to the configured bus.

use super::aws::LazyClient;
use super::sdk_failure;
use crate::domain::record::outbox::{Notification, SOURCE};
use crate::ports::{Notifier, NotifyError};
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

#[derive(Debug, Clone)]
pub struct EventBridgeNotifier {
    client: LazyClient<aws_sdk_eventbridge::Client>,
    /// `None`: notifications are off (`EVENT_BUS_NAME` unset).
    bus: Option<String>,
}

impl EventBridgeNotifier {
    pub fn new(client: impl Into<LazyClient<aws_sdk_eventbridge::Client>>, bus: Option<String>) -> Self {
        Self {
            client: client.into(),
            bus,
        }
    }
}

impl Notifier for EventBridgeNotifier {
    fn enabled(&self) -> bool {
        self.bus.is_some()
    }

    async fn publish(&self, notifications: &[Notification]) -> Result<(), NotifyError> {
        let Some(bus) = &self.bus else {
            return Ok(());
        };
        // PutEvents takes at most 10 entries.
        for chunk in notifications.chunks(10) {
            let entries = chunk
                .iter()
                .map(|n| {
                    PutEventsRequestEntry::builder()
                        .event_bus_name(bus)
                        .source(SOURCE)
                        .detail_type(&n.detail_type)
                        .detail(n.detail.to_string())
                        .build()
                })
                .collect();
            let out = self
                .client
                .get()
                .await
                .put_events()
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| {
                    let failure = sdk_failure(&e);
                    NotifyError(format!("PutEvents: {} {}", failure.code, failure.message))
                })?;
            if out.failed_entry_count() > 0 {
                let reasons: Vec<String> = out
                    .entries()
                    .iter()
                    .filter_map(|e| {
                        e.error_code()
                            .map(|c| format!("{c}: {}", e.error_message().unwrap_or_default()))
                    })
                    .collect();
                return Err(NotifyError(format!(
                    "PutEvents refused {} entries: {}",
                    out.failed_entry_count(),
                    reasons.join("; ")
                )));
            }
        }
        Ok(())
    }
}
