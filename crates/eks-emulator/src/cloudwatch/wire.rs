//! CloudWatch on the wire, in the three protocols of its service model:
//!
//! - Smithy RPC v2 CBOR (what `aws-sdk-cloudwatch` 1.1xx speaks): `POST
//!   /service/GraniteServiceVersion20100801/operation/{Op}`, CBOR bodies, timestamps as
//!   tag 1 epoch seconds, `smithy-protocol: rpc-v2-cbor` on every answer, errors as
//!   `{"__type", "message"}`.
//! - awsJson1_0 (what botocore 1.44 speaks): `POST /` with `X-Amz-Target:
//!   GraniteServiceVersion20100801.{Op}`, JSON bodies, timestamps as epoch seconds.
//! - awsQuery: `POST /` with a form body `Action={Op}&AlarmNames.member.1=...`, XML answers,
//!   timestamps as ISO 8601.
//!
//! CloudWatch is `awsQueryCompatible`: CBOR and JSON errors also carry
//! `x-amzn-query-error: {Code};Sender`, from which both SDKs take the error code.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use ciborium::Value as Cbor;
use serde_json::{json, Map, Value as Json};

use super::types::{AlarmView, AlarmsPage, Call, CwError, DescribeAlarmsInput, Protocol, NAMESPACE};
use crate::util::{iso8601, parse_query};

const CBOR_PREFIX: &str = "/service/GraniteServiceVersion20100801/operation/";
const JSON_TARGET_PREFIX: &str = "GraniteServiceVersion20100801.";
const ERROR_NAMESPACE: &str = "com.amazonaws.cloudwatch#";
const XMLNS: &str = "http://monitoring.amazonaws.com/doc/2010-08-01/";

/// The CloudWatch request a method, path, headers and body make, if any.
pub(crate) fn recognize(method: &Method, path: &str, headers: &HeaderMap, body: &[u8]) -> Option<Call> {
    if method != Method::POST {
        return None;
    }
    let call = |protocol, operation: &str| {
        Some(Call {
            protocol,
            operation: operation.to_string(),
        })
    };
    if let Some(op) = path.strip_prefix(CBOR_PREFIX) {
        return call(Protocol::Cbor, op);
    }
    if path != "/" {
        return None;
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
    if let Some(op) = header("x-amz-target").strip_prefix(JSON_TARGET_PREFIX) {
        return call(Protocol::Json, op);
    }
    if header("content-type").starts_with("application/x-www-form-urlencoded") {
        let form = parse_query(std::str::from_utf8(body).ok());
        if let Some((_, op)) = form.iter().find(|(k, _)| k == "Action") {
            return call(Protocol::Query, op);
        }
    }
    None
}

// ---------------------------------------------------------------- requests

fn serialization(message: String) -> CwError {
    CwError {
        status: 400,
        code: "SerializationException",
        message,
    }
}

/// The DescribeAlarms request in a body of `protocol`.
pub(super) fn decode(protocol: Protocol, body: &[u8]) -> Result<DescribeAlarmsInput, CwError> {
    if body.iter().all(u8::is_ascii_whitespace) && protocol != Protocol::Query {
        return Ok(DescribeAlarmsInput::default());
    }
    match protocol {
        Protocol::Cbor => ciborium::de::from_reader(body).map_err(|e| serialization(format!("invalid CBOR body: {e}"))),
        Protocol::Json => serde_json::from_slice(body).map_err(|e| serialization(format!("invalid JSON body: {e}"))),
        Protocol::Query => decode_form(body),
    }
}

/// awsQuery: `AlarmNames.member.N`, `AlarmTypes.member.N` and the scalar members.
fn decode_form(body: &[u8]) -> Result<DescribeAlarmsInput, CwError> {
    let form = parse_query(std::str::from_utf8(body).ok());
    let list = |name: &str| {
        let prefix = format!("{name}.member.");
        let mut items: Vec<(usize, String)> = form
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(&prefix)?.parse().ok()?, v.clone())))
            .collect();
        items.sort();
        (!items.is_empty()).then(|| items.into_iter().map(|(_, v)| v).collect())
    };
    let scalar = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let max_records = match scalar("MaxRecords") {
        Some(m) => Some(
            m.parse()
                .map_err(|_| serialization(format!("MaxRecords {m:?} is not an integer")))?,
        ),
        None => None,
    };
    Ok(DescribeAlarmsInput {
        alarm_names: list("AlarmNames"),
        alarm_name_prefix: scalar("AlarmNamePrefix"),
        alarm_types: list("AlarmTypes"),
        state_value: scalar("StateValue"),
        max_records,
        next_token: scalar("NextToken"),
    })
}

// ---------------------------------------------------------------- answers

/// One member of a MetricAlarm, protocol-neutral.
enum Field {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Time(f64),
    /// A list of strings (empty for the action lists and Dimensions).
    List(Vec<String>),
}

/// The members of a MetricAlarm, in the model's order.
fn alarm_fields(a: &AlarmView) -> Vec<(&'static str, Field)> {
    use Field::*;
    vec![
        ("AlarmName", Str(a.name.clone())),
        ("AlarmArn", Str(a.arn.clone())),
        ("AlarmConfigurationUpdatedTimestamp", Time(a.created_at)),
        ("ActionsEnabled", Bool(true)),
        ("OKActions", List(vec![])),
        ("AlarmActions", List(vec![])),
        ("InsufficientDataActions", List(vec![])),
        ("StateValue", Str(a.state.clone())),
        ("StateReason", Str(a.reason.clone())),
        ("StateUpdatedTimestamp", Time(a.state_updated_at)),
        ("MetricName", Str(a.name.clone())),
        ("Namespace", Str(NAMESPACE.into())),
        ("Statistic", Str("Sum".into())),
        ("Dimensions", List(vec![])),
        ("Period", Int(60)),
        ("EvaluationPeriods", Int(1)),
        ("DatapointsToAlarm", Int(1)),
        ("Threshold", Float(1.0)),
        ("ComparisonOperator", Str("GreaterThanOrEqualToThreshold".into())),
        ("TreatMissingData", Str("missing".into())),
        ("StateTransitionedTimestamp", Time(a.state_transitioned_at)),
    ]
}

/// The members of a CompositeAlarm, in the model's order.
fn composite_fields(a: &AlarmView) -> Vec<(&'static str, Field)> {
    use Field::*;
    vec![
        ("ActionsEnabled", Bool(true)),
        ("AlarmActions", List(vec![])),
        ("AlarmArn", Str(a.arn.clone())),
        ("AlarmConfigurationUpdatedTimestamp", Time(a.created_at)),
        ("AlarmName", Str(a.name.clone())),
        ("AlarmRule", Str(a.rule.clone().unwrap_or_default())),
        ("InsufficientDataActions", List(vec![])),
        ("OKActions", List(vec![])),
        ("StateReason", Str(a.reason.clone())),
        ("StateUpdatedTimestamp", Time(a.state_updated_at)),
        ("StateValue", Str(a.state.clone())),
        ("StateTransitionedTimestamp", Time(a.state_transitioned_at)),
    ]
}

fn response(status: u16, content_type: &'static str, body: Vec<u8>) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static(content_type));
    r
}

fn cbor_bytes(v: &Cbor) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(v, &mut out).expect("CBOR encodes into memory");
    out
}

fn cbor_response(status: u16, v: &Cbor) -> Response {
    let mut r = response(status, "application/cbor", cbor_bytes(v));
    r.headers_mut()
        .insert("smithy-protocol", HeaderValue::from_static("rpc-v2-cbor"));
    r
}

fn cbor_field(f: &Field) -> Cbor {
    match f {
        Field::Str(s) => Cbor::Text(s.clone()),
        Field::Int(i) => Cbor::Integer((*i).into()),
        Field::Float(x) => Cbor::Float(*x),
        Field::Bool(b) => Cbor::Bool(*b),
        Field::Time(t) => Cbor::Tag(1, Box::new(Cbor::Float(*t))),
        Field::List(items) => Cbor::Array(items.iter().cloned().map(Cbor::Text).collect()),
    }
}

fn json_field(f: &Field) -> Json {
    match f {
        Field::Str(s) => json!(s),
        Field::Int(i) => json!(i),
        Field::Float(x) | Field::Time(x) => json!(x),
        Field::Bool(b) => json!(b),
        Field::List(items) => json!(items),
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn xml_field(name: &str, f: &Field) -> String {
    let text = match f {
        Field::Str(s) => xml_escape(s),
        Field::Int(i) => i.to_string(),
        Field::Float(x) => format!("{x:?}"),
        Field::Bool(b) => b.to_string(),
        Field::Time(t) => iso8601(*t),
        Field::List(items) => items
            .iter()
            .map(|i| format!("<member>{}</member>", xml_escape(i)))
            .collect(),
    };
    format!("<{name}>{text}</{name}>")
}

/// One alarm's fields, in the order the wire shows them.
type Fields = Vec<(&'static str, Field)>;

/// The DescribeAlarms answer in `protocol`.
pub(super) fn encode(protocol: Protocol, page: &AlarmsPage, request_id: &str) -> Response {
    let metric: Vec<Fields> = page.metric_alarms.iter().map(alarm_fields).collect();
    let composite: Vec<Fields> = page.composite_alarms.iter().map(composite_fields).collect();
    let next = page.next_token.as_deref();
    match protocol {
        Protocol::Cbor => encode_cbor(&metric, &composite, next),
        Protocol::Json => encode_json(&metric, &composite, next),
        Protocol::Query => encode_query(&metric, &composite, next, request_id),
    }
}

fn encode_cbor(metric: &[Fields], composite: &[Fields], next: Option<&str>) -> Response {
    let list = |alarms: &[Fields]| {
        Cbor::Array(
            alarms
                .iter()
                .map(|a| {
                    Cbor::Map(
                        a.iter()
                            .map(|(k, f)| (Cbor::Text((*k).into()), cbor_field(f)))
                            .collect(),
                    )
                })
                .collect(),
        )
    };
    let mut out = vec![
        (Cbor::Text("MetricAlarms".into()), list(metric)),
        (Cbor::Text("CompositeAlarms".into()), list(composite)),
    ];
    if let Some(t) = next {
        out.push((Cbor::Text("NextToken".into()), Cbor::Text(t.to_owned())));
    }
    cbor_response(200, &Cbor::Map(out))
}

fn encode_json(metric: &[Fields], composite: &[Fields], next: Option<&str>) -> Response {
    let list = |alarms: &[Fields]| -> Vec<Json> {
        alarms
            .iter()
            .map(|a| {
                Json::Object(
                    a.iter()
                        .map(|(k, f)| (k.to_string(), json_field(f)))
                        .collect::<Map<_, _>>(),
                )
            })
            .collect()
    };
    let mut out = json!({"MetricAlarms": list(metric), "CompositeAlarms": list(composite)});
    if let Some(t) = next {
        out["NextToken"] = json!(t);
    }
    response(200, "application/x-amz-json-1.0", out.to_string().into_bytes())
}

fn encode_query(metric: &[Fields], composite: &[Fields], next: Option<&str>, request_id: &str) -> Response {
    let members = |alarms: &[Fields]| -> String {
        alarms
            .iter()
            .map(|a| {
                format!(
                    "<member>{}</member>",
                    a.iter().map(|(k, f)| xml_field(k, f)).collect::<String>()
                )
            })
            .collect()
    };
    let next = next
        .map(|t| format!("<NextToken>{}</NextToken>", xml_escape(t)))
        .unwrap_or_default();
    let xml = format!(
        "<DescribeAlarmsResponse xmlns=\"{XMLNS}\"><DescribeAlarmsResult><MetricAlarms>{}</MetricAlarms><CompositeAlarms>{}</CompositeAlarms>{next}</DescribeAlarmsResult><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></DescribeAlarmsResponse>",
        members(metric),
        members(composite)
    );
    response(200, "text/xml", xml.into_bytes())
}

/// An error answer in `protocol`.
pub(super) fn error(protocol: Protocol, e: &CwError, request_id: &str) -> Response {
    let mut r = match protocol {
        Protocol::Cbor => {
            let body = Cbor::Map(vec![
                (
                    Cbor::Text("__type".into()),
                    Cbor::Text(format!("{ERROR_NAMESPACE}{}", e.code)),
                ),
                (Cbor::Text("message".into()), Cbor::Text(e.message.clone())),
            ]);
            cbor_response(e.status, &body)
        }
        Protocol::Json => {
            let body = json!({"__type": format!("{ERROR_NAMESPACE}{}", e.code), "message": e.message});
            response(e.status, "application/x-amz-json-1.0", body.to_string().into_bytes())
        }
        Protocol::Query => {
            let xml = format!(
                "<ErrorResponse xmlns=\"{XMLNS}\"><Error><Type>Sender</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
                e.code,
                xml_escape(&e.message)
            );
            response(e.status, "text/xml", xml.into_bytes())
        }
    };
    let h = r.headers_mut();
    if protocol != Protocol::Query {
        if let Ok(v) = HeaderValue::from_str(&format!("{};Sender", e.code)) {
            h.insert("x-amzn-query-error", v);
        }
    }
    if let Ok(v) = HeaderValue::from_str(e.code) {
        h.insert("x-amzn-errortype", v);
    }
    r
}

/// The answer to a CloudWatch operation the stand-in does not serve.
pub(super) fn unknown_operation(call: &Call, request_id: &str) -> Response {
    let (status, code) = match call.protocol {
        Protocol::Cbor => (404, "UnknownOperationException"),
        Protocol::Json => (400, "UnknownOperationException"),
        Protocol::Query => (400, "InvalidAction"),
    };
    let e = CwError {
        status,
        code,
        message: format!(
            "The CloudWatch stand-in of eks-emulator serves only DescribeAlarms, not {}.",
            call.operation
        ),
    };
    error(call.protocol, &e, request_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn recognizes_the_three_protocols_and_nothing_else() {
        let post = Method::POST;
        let c = recognize(
            &post,
            "/service/GraniteServiceVersion20100801/operation/DescribeAlarms",
            &headers(&[]),
            b"",
        );
        assert_eq!(
            c.map(|c| (c.protocol, c.operation)),
            Some((Protocol::Cbor, "DescribeAlarms".into()))
        );
        let h = headers(&[("x-amz-target", "GraniteServiceVersion20100801.DescribeAlarms")]);
        assert_eq!(
            recognize(&post, "/", &h, b"{}").map(|c| c.protocol),
            Some(Protocol::Json)
        );
        let h = headers(&[("content-type", "application/x-www-form-urlencoded; charset=utf-8")]);
        let c = recognize(&post, "/", &h, b"Action=DescribeAlarms&Version=2010-08-01");
        assert_eq!(c.map(|c| c.protocol), Some(Protocol::Query));
        assert!(recognize(&post, "/", &h, b"Version=2010-08-01").is_none());
        assert!(recognize(&Method::GET, "/clusters", &headers(&[]), b"").is_none());
        assert!(recognize(&post, "/clusters", &headers(&[]), b"").is_none());
    }

    #[test]
    fn form_lists_keep_their_member_order() {
        let q = decode(
            Protocol::Query,
            b"Action=DescribeAlarms&AlarmNames.member.2=b&AlarmNames.member.1=a&MaxRecords=5&StateValue=OK",
        )
        .unwrap();
        assert_eq!(q.alarm_names, Some(vec!["a".to_string(), "b".to_string()]));
        assert_eq!((q.max_records, q.state_value.as_deref()), (Some(5), Some("OK")));
        assert!(decode(Protocol::Query, b"Action=DescribeAlarms&MaxRecords=x").is_err());
        assert!(decode(Protocol::Cbor, b"").unwrap().alarm_names.is_none());
    }

    #[test]
    fn cbor_timestamps_are_tag_1() {
        let v = cbor_field(&Field::Time(1.5));
        assert_eq!(cbor_bytes(&v), [0xc1, 0xf9, 0x3e, 0x00]);
    }
}
