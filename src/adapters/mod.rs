//! The ports over the AWS SDK. Clients are built once, on first use, from `aws_config` (see
//! [`aws`]); endpoints follow the standard `AWS_ENDPOINT_URL_EKS`, `AWS_ENDPOINT_URL_DYNAMODB`,
//! `AWS_ENDPOINT_URL_LAMBDA`, `AWS_ENDPOINT_URL_CLOUDWATCH` and `AWS_ENDPOINT_URL_SCHEDULER` variables, so the same binary runs against AWS or the local
//! stack.

pub mod aws;
pub mod cloudwatch;
pub mod dynamodb;
mod dynamodb_rollouts;
pub mod eks;
pub mod eventbridge;
pub mod lambda;
pub mod scheduler;
pub mod spokes;
pub mod tls;

use crate::domain::eks::{classify, Answered, FailureKind};
use aws_sdk_eks::config::http::HttpResponse;
use aws_sdk_eks::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// An SDK error reduced to its code, message and what the failure policy
/// ([`crate::domain::eks::classify`]) makes of it. The SDK has already retried throttling,
/// 5xx and connection errors by the time we see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SdkFailure {
    pub code: String,
    pub message: String,
    pub kind: FailureKind,
    /// Whether retrying later can help.
    pub transient: bool,
}

impl SdkFailure {
    fn new(code: String, message: String, answered: Answered) -> Self {
        let kind = classify(&code, answered);
        SdkFailure {
            code,
            message,
            kind,
            transient: kind == FailureKind::Transient,
        }
    }
}

pub(crate) fn sdk_failure<E>(err: &SdkError<E, HttpResponse>) -> SdkFailure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match err {
        SdkError::ServiceError(context) => {
            let code = context.err().code().unwrap_or_default().to_owned();
            let status = context.raw().status().as_u16();
            let message = context
                .err()
                .message()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("HTTP {status}"));
            SdkFailure::new(code, message, Answered::Status(status))
        }
        SdkError::ConstructionFailure(_) => {
            SdkFailure::new(String::new(), DisplayErrorContext(err).to_string(), Answered::NotSent)
        }
        // Time-outs, connection failures, unreadable answers.
        _ => SdkFailure::new(String::new(), DisplayErrorContext(err).to_string(), Answered::NoAnswer),
    }
}
