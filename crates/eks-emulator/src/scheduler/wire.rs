//! EventBridge Scheduler's restJson1 wire format for the three operations the stand-in serves:
//! `POST /schedules/{Name}` (CreateSchedule), `GET` (GetSchedule) and `DELETE` (DeleteSchedule)
//! the same path, the group in the body or the `groupName` query parameter. Errors carry
//! `x-amzn-ErrorType` and `{"Message": ...}`, as Scheduler's do.

use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::store::{Refusal, ScheduleInput};
use crate::shared::Shared;
use crate::util;

/// Whether a request is Scheduler's: its path starts with `/schedules/`.
pub(crate) fn recognize(segs: &[String]) -> bool {
    segs.len() == 2 && segs[0] == "schedules"
}

fn answer(status: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    r
}

fn refused((status, kind, message): Refusal) -> Response {
    let mut r = answer(status, json!({ "Message": message }));
    r.headers_mut()
        .insert("x-amzn-errortype", HeaderValue::from_static(kind));
    r
}

/// Serves one Scheduler request; answers and names the operation for the log.
pub(crate) fn handle(
    shared: &Shared,
    method: &Method,
    segs: &[String],
    query: Option<&str>,
    body: &[u8],
) -> (Response, &'static str) {
    let name = segs[1].as_str();
    let group = util::parse_query(query)
        .into_iter()
        .find(|(k, _)| k == "groupName")
        .map(|(_, v)| v)
        .unwrap_or_else(|| "default".to_owned());
    let schedules = &shared.schedules;
    match *method {
        Method::POST => {
            let input: ScheduleInput = match serde_json::from_slice(body) {
                Ok(input) => input,
                Err(e) => return (refused((400, "ValidationException", e.to_string())), "CreateSchedule"),
            };
            let r = match schedules.create(name, input, shared.now()) {
                Ok(arn) => answer(200, json!({ "ScheduleArn": arn })),
                Err(e) => refused(e),
            };
            (r, "CreateSchedule")
        }
        Method::GET => {
            let r = match schedules.get(&group, name) {
                Ok(s) => {
                    let mut view = serde_json::to_value(&s.input).unwrap_or_default();
                    if let Some(fields) = view.as_object_mut() {
                        fields.remove("ClientToken");
                        fields.insert("Name".into(), s.name.clone().into());
                        fields.insert("GroupName".into(), s.group.clone().into());
                        fields.insert("Arn".into(), schedules.arn(&s.group, &s.name).into());
                        fields.insert("CreationDate".into(), s.created_at.into());
                        fields.insert("LastModificationDate".into(), s.created_at.into());
                        fields.entry("State").or_insert_with(|| "ENABLED".into());
                        fields.retain(|_, v| !v.is_null());
                    }
                    answer(200, view)
                }
                Err(e) => refused(e),
            };
            (r, "GetSchedule")
        }
        Method::DELETE => {
            let r = match schedules.delete(&group, name) {
                Ok(()) => answer(200, json!({})),
                Err(e) => refused(e),
            };
            (r, "DeleteSchedule")
        }
        _ => (
            refused((404, "UnknownOperationException", format!("{method} /schedules/{name}"))),
            "-",
        ),
    }
}
