//! The deployed function: found by name or from its stack's outputs, invoked with
//! `RequestResponse`, its answer or its refusal read back.

use crate::cli::Target;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use serde_json::Value;

/// Why a command could not get an answer, or what the function refused; one line each.
#[derive(Debug)]
pub enum CliError {
    /// The function answered with an error: its type and message (a refused request).
    Refused { kind: String, message: String },
    /// The function could not be found or reached.
    Unreachable(String),
    /// The command itself can't be made (a bad file).
    Usage(String),
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::Refused { kind, message } if kind.is_empty() => write!(f, "refused: {message}"),
            CliError::Refused { kind, message } => write!(f, "refused ({kind}): {message}"),
            CliError::Unreachable(why) => write!(f, "cannot reach the function: {why}"),
            CliError::Usage(why) => write!(f, "{why}"),
        }
    }
}

/// The function, reachable.
pub struct Function {
    client: aws_sdk_lambda::Client,
    name: String,
}

impl Function {
    /// From `--function`, or the `FunctionArn` output of `--stack`, with the standard AWS
    /// profile, region and endpoint settings (`--endpoint-url` over `AWS_ENDPOINT_URL_LAMBDA`).
    pub async fn find(target: &Target) -> Result<Self, CliError> {
        let mut loader = aws_config::from_env();
        if let Some(profile) = &target.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = &target.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        let config = loader.load().await;
        let mut lambda = aws_sdk_lambda::config::Builder::from(&config);
        if let Some(url) = &target.endpoint_url {
            lambda = lambda.endpoint_url(url);
        }
        let client = aws_sdk_lambda::Client::from_conf(lambda.build());
        let name = match (&target.function, &target.stack) {
            (Some(name), _) => name.clone(),
            (None, Some(stack)) => function_of_stack(&aws_sdk_cloudformation::Client::new(&config), stack).await?,
            (None, None) => {
                return Err(CliError::Usage(
                    "name the function with --function (or EKS_UPGRADE_FUNCTION), or its stack with --stack".into(),
                ))
            }
        };
        Ok(Self { client, name })
    }

    /// Invokes the function with `event` and waits for its answer.
    pub async fn invoke(&self, event: &Value) -> Result<Value, CliError> {
        let out = self
            .client
            .invoke()
            .function_name(&self.name)
            .invocation_type(InvocationType::RequestResponse)
            .payload(Blob::new(event.to_string()))
            .send()
            .await
            .map_err(|e| {
                CliError::Unreachable(format!(
                    "{}: {}",
                    self.name,
                    aws_sdk_lambda::error::DisplayErrorContext(&e)
                ))
            })?;
        let raw = out.payload().map(|p| p.as_ref().to_vec()).unwrap_or_default();
        let payload: Value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        if out.function_error().is_some() {
            let text = |k: &str| payload[k].as_str().unwrap_or_default().to_owned();
            let message = match text("errorMessage") {
                // Not the function's error shape (a runtime crash): what came back, as it is.
                m if m.is_empty() => String::from_utf8_lossy(&raw).trim().to_owned(),
                m => m,
            };
            return Err(CliError::Refused {
                kind: text("errorType"),
                message,
            });
        }
        Ok(payload)
    }
}

/// The function a stack deployed: its `FunctionArn` output.
pub async fn function_of_stack(
    cloudformation: &aws_sdk_cloudformation::Client,
    stack: &str,
) -> Result<String, CliError> {
    let out = cloudformation
        .describe_stacks()
        .stack_name(stack)
        .send()
        .await
        .map_err(|e| {
            CliError::Unreachable(format!(
                "stack {stack}: {}",
                aws_sdk_cloudformation::error::DisplayErrorContext(&e)
            ))
        })?;
    out.stacks()
        .first()
        .and_then(|s| s.outputs().iter().find(|o| o.output_key() == Some("FunctionArn")))
        .and_then(|o| o.output_value())
        .map(str::to_owned)
        .ok_or_else(|| CliError::Unreachable(format!("stack {stack} has no FunctionArn output")))
}
