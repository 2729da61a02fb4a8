//! [`SelfInvoker`] over `aws-sdk-lambda`: an asynchronous Invoke of the function itself.

use super::aws::LazyClient;
use super::sdk_failure;
use crate::domain::event::rollout::RolloutTick;
use crate::domain::Continuation;
use crate::ports::{InvokeError, SelfInvoker};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;

#[derive(Debug, Clone)]
pub struct LambdaInvoker {
    client: LazyClient<aws_sdk_lambda::Client>,
    function_name: String,
}

impl LambdaInvoker {
    pub fn new(client: impl Into<LazyClient<aws_sdk_lambda::Client>>, function_name: impl Into<String>) -> Self {
        Self {
            client: client.into(),
            function_name: function_name.into(),
        }
    }
}

impl SelfInvoker for LambdaInvoker {
    async fn send(&self, continuation: &Continuation) -> Result<(), InvokeError> {
        self.invoke_event(continuation.to_event()).await
    }

    async fn send_tick(&self, tick: &RolloutTick) -> Result<(), InvokeError> {
        self.invoke_event(tick.to_event()).await
    }
}

impl LambdaInvoker {
    async fn invoke_event(&self, payload: serde_json::Value) -> Result<(), InvokeError> {
        let out = self
            .client
            .get()
            .await
            .invoke()
            .function_name(&self.function_name)
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(payload.to_string()))
            .send()
            .await
            .map_err(|e| {
                let failure = sdk_failure(&e);
                InvokeError(format!("{} {}", failure.code, failure.message).trim().to_owned())
            })?;
        match out.status_code() {
            202 => Ok(()),
            other => Err(InvokeError(format!("Invoke answered HTTP {other}, expected 202"))),
        }
    }
}
