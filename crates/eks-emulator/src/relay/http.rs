//! The HTTP answer of the Lambda Invoke route.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;

use super::{InvokeAnswer, Relay};
use crate::responses::json_response;

/// Answers `POST /2015-03-31/functions/{function}/invocations` (`raw_function` is the path
/// segment as received).
pub(crate) async fn handle(
    relay: &Relay,
    function: &str,
    raw_function: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: Bytes,
    request_id: &str,
) -> Response {
    match relay
        .invoke(function, raw_function, query, headers, body, request_id)
        .await
    {
        InvokeAnswer::Accepted => {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::ACCEPTED;
            r
        }
        InvokeAnswer::Proxied { status, headers, body } => {
            let mut r = Response::new(Body::from(body));
            *r.status_mut() = status;
            for (k, v) in headers {
                r.headers_mut().insert(k, v);
            }
            r
        }
        InvokeAnswer::Error(status, code, message) => {
            let mut r = json_response(status, &serde_json::json!({"Type": "User", "message": message}));
            r.headers_mut()
                .insert("x-amzn-errortype", HeaderValue::from_static(code));
            r
        }
    }
}
