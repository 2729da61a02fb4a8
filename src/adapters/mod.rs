//! The ports over the AWS SDK. Clients are built once, on first use, from `aws_config` (see
//! [`aws`]); endpoints follow the standard `AWS_ENDPOINT_URL_EKS`, `AWS_ENDPOINT_URL_DYNAMODB`,
//! `AWS_ENDPOINT_URL_LAMBDA` and `AWS_ENDPOINT_URL_CLOUDWATCH` variables, so the same binary runs against AWS or the local
//! stack.

pub mod aws;
pub mod cloudwatch;
pub mod dynamodb;
mod dynamodb_rollouts;
pub mod eks;
pub mod eventbridge;
pub mod lambda;

use aws_sdk_eks::config::http::HttpResponse;
use aws_sdk_eks::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// An SDK error reduced to its code, message and whether retrying later can help. The SDK has
/// already retried throttling, 5xx and connection errors by the time we see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SdkFailure {
    pub code: String,
    pub message: String,
    pub transient: bool,
}

pub(crate) fn sdk_failure<E>(err: &SdkError<E, HttpResponse>) -> SdkFailure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match err {
        SdkError::ServiceError(context) => {
            let code = context.err().code().unwrap_or_default().to_owned();
            let status = context.raw().status().as_u16();
            let transient = status == 429
                || status >= 500
                || matches!(
                    code.as_str(),
                    "ThrottlingException"
                        | "ServerException"
                        | "ServiceUnavailableException"
                        | "TooManyRequestsException"
                        | "ProvisionedThroughputExceededException"
                        | "RequestLimitExceeded"
                        | "InternalServerError"
                );
            let message = context
                .err()
                .message()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("HTTP {status}"));
            SdkFailure {
                code,
                message,
                transient,
            }
        }
        SdkError::ConstructionFailure(_) => SdkFailure {
            code: String::new(),
            message: DisplayErrorContext(err).to_string(),
            transient: false,
        },
        // Time-outs, connection failures, unreadable answers.
        _ => SdkFailure {
            code: String::new(),
            message: DisplayErrorContext(err).to_string(),
            transient: true,
        },
    }
}
