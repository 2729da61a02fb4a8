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
        // PutEvents takes at most 10 entries; the ones that went out are said, so a failure
        // keeps only the others for the next change.
        let mut published: Vec<String> = Vec::new();
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
            let sent = self
                .client
                .get()
                .await
                .put_events()
                .set_entries(Some(entries))
                .send()
                .await;
            let out = match sent {
                Ok(out) => out,
                Err(e) => {
                    let failure = sdk_failure(&e);
                    return Err(NotifyError {
                        message: format!("PutEvents: {} {}", failure.code, failure.message),
                        published,
                    });
                }
            };
            if out.failed_entry_count() == 0 {
                published.extend(chunk.iter().map(|n| n.id.clone()));
                continue;
            }
            // The answer's entries are in the request's order: one without an error went out.
            let mut reasons = Vec::new();
            for (notification, entry) in chunk.iter().zip(out.entries()) {
                match entry.error_code() {
                    None => published.push(notification.id.clone()),
                    Some(code) => reasons.push(format!("{code}: {}", entry.error_message().unwrap_or_default())),
                }
            }
            return Err(NotifyError {
                message: format!(
                    "PutEvents refused {} entries: {}",
                    out.failed_entry_count(),
                    reasons.join("; ")
                ),
                published,
            });
        }
        Ok(())
    }
}
