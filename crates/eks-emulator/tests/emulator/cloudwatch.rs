//! The CloudWatch stand-in through the unmodified `aws-sdk-cloudwatch` (Smithy RPC v2
//! CBOR), the awsQuery protocol over raw HTTP, and its admin API.

use aws_sdk_cloudwatch::error::ProvideErrorMetadata;
use aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsError;
use aws_sdk_cloudwatch::types::StateValue;
use eks_emulator::Emulator;
use hyper::http::Method;

use crate::common::*;

async fn cloudwatch(emu: &Emulator) -> aws_sdk_cloudwatch::Client {
    aws_sdk_cloudwatch::Client::new(&sdk_config(emu, 1).await)
}

async fn alarms() -> Emulator {
    let emu = demo().await;
    emu.set_alarm(
        "api-5xx",
        "ALARM",
        Some("Threshold Crossed: 3 datapoints were greater than the threshold (1.0)."),
    )
    .unwrap();
    emu.set_alarm("api-latency", "OK", None).unwrap();
    emu.seed_json(
        r#"{"alarms":[{"name":"db-cpu","state":"INSUFFICIENT_DATA","reason":"Unchecked: Initial alarm creation"}]}"#,
    )
    .unwrap();
    emu
}

#[tokio::test]
async fn describe_alarms_by_name_through_the_sdk() {
    let emu = alarms().await;
    let cw = cloudwatch(&emu).await;
    let out = cw
        .describe_alarms()
        .alarm_names("api-5xx")
        .alarm_names("no-such-alarm")
        .send()
        .await
        .unwrap();
    assert!(out.composite_alarms().is_empty());
    let a = out.metric_alarms();
    assert_eq!(a.len(), 1, "unknown names are simply absent");
    let a = &a[0];
    assert_eq!(a.alarm_name(), Some("api-5xx"));
    assert_eq!(
        a.alarm_arn(),
        Some("arn:aws:cloudwatch:us-east-1:123456789012:alarm:api-5xx")
    );
    assert_eq!(a.state_value(), Some(&StateValue::Alarm));
    assert_eq!(
        a.state_reason(),
        Some("Threshold Crossed: 3 datapoints were greater than the threshold (1.0).")
    );
    let updated = a.state_updated_timestamp().unwrap().as_secs_f64();
    assert!((updated - emu.now()).abs() < 5.0, "{updated}");
    assert_eq!(a.threshold(), Some(1.0));
    assert_eq!(a.period(), Some(60));

    // A state change moves StateUpdatedTimestamp with the emulator's clock.
    emu.advance_clock(3600);
    emu.set_alarm("api-5xx", "OK", Some("recovered")).unwrap();
    let out = cw.describe_alarms().alarm_names("api-5xx").send().await.unwrap();
    let a = &out.metric_alarms()[0];
    assert_eq!(
        (a.state_value(), a.state_reason()),
        (Some(&StateValue::Ok), Some("recovered"))
    );
    assert!(a.state_updated_timestamp().unwrap().as_secs_f64() - updated >= 3600.0);
    emu.shutdown().await;
}

#[tokio::test]
async fn filters_pages_and_errors() {
    let emu = alarms().await;
    let cw = cloudwatch(&emu).await;
    let names = |o: &aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput| {
        o.metric_alarms()
            .iter()
            .filter_map(|a| a.alarm_name().map(str::to_string))
            .collect::<Vec<_>>()
    };
    let all = cw.describe_alarms().send().await.unwrap();
    assert_eq!(names(&all), ["api-5xx", "api-latency", "db-cpu"]);
    let prefix = cw.describe_alarms().alarm_name_prefix("api-").send().await.unwrap();
    assert_eq!(names(&prefix), ["api-5xx", "api-latency"]);
    let insufficient = cw
        .describe_alarms()
        .state_value(StateValue::InsufficientData)
        .send()
        .await
        .unwrap();
    assert_eq!(names(&insufficient), ["db-cpu"]);
    let paged = cw
        .describe_alarms()
        .max_records(1)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(paged.len(), 3);

    let e = cw
        .describe_alarms()
        .next_token("garbage")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(matches!(e, DescribeAlarmsError::InvalidNextToken(_)), "{e:?}");
    let e = cw
        .describe_alarms()
        .max_records(0)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(e.code(), Some("ValidationError"), "{e:?}");
    // Other operations are not served.
    let e = cw.list_dashboards().send().await.unwrap_err().into_service_error();
    assert_eq!(e.code(), Some("UnknownOperationException"), "{e:?}");
    emu.shutdown().await;
}

#[tokio::test]
async fn the_service_specific_endpoint_variable_points_the_sdk_at_it() {
    let emu = alarms().await;
    // Only CloudWatch clients read this variable; the other tests give endpoints explicitly.
    std::env::set_var("AWS_ENDPOINT_URL_CLOUDWATCH", emu.url());
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_cloudwatch::config::Credentials::new(
            "test", "test", None, None, "t",
        ))
        .load()
        .await;
    let out = aws_sdk_cloudwatch::Client::new(&conf)
        .describe_alarms()
        .alarm_names("db-cpu")
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.metric_alarms()[0].state_value(),
        Some(&StateValue::InsufficientData)
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn aws_query_protocol_and_admin_api() {
    let emu = alarms().await;
    let (status, headers, body) = raw(
        &emu.url(),
        Method::POST,
        "/",
        &[("content-type", "application/x-www-form-urlencoded; charset=utf-8")],
        "Action=DescribeAlarms&Version=2010-08-01&AlarmNames.member.1=api-5xx",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["content-type"], "text/xml");
    assert!(body.contains("<AlarmName>api-5xx</AlarmName>"), "{body}");
    assert!(body.contains("<StateValue>ALARM</StateValue>"), "{body}");
    assert!(!body.contains("api-latency"), "{body}");
    let (status, _, body) = raw(
        &emu.url(),
        Method::POST,
        "/",
        &[("content-type", "application/x-www-form-urlencoded")],
        "Action=DescribeAlarms&NextToken=zz",
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("<Code>InvalidNextToken</Code>"), "{body}");

    let (s, v) = admin(&emu, Method::GET, "/_emulator/alarms", "").await;
    assert_eq!(s, 200);
    assert_eq!(v["alarms"].as_array().unwrap().len(), 3);
    let (s, v) = admin(
        &emu,
        Method::POST,
        "/_emulator/alarms",
        r#"{"name": "new", "state": "ALARM", "reason": "why"}"#,
    )
    .await;
    assert_eq!(
        (s, v["state"].as_str(), v["reason"].as_str()),
        (200, Some("ALARM"), Some("why"))
    );
    let (s, _) = admin(
        &emu,
        Method::POST,
        "/_emulator/alarms",
        r#"{"name": "x", "state": "RED"}"#,
    )
    .await;
    assert_eq!(s, 400);
    assert!(emu.seed_json(r#"{"alarms":[{"name":"x","state":"RED"}]}"#).is_err());
    emu.reset();
    let (_, v) = admin(&emu, Method::GET, "/_emulator/alarms", "").await;
    assert_eq!(v["alarms"], serde_json::json!([]), "a reset clears the alarms");
    emu.shutdown().await;
}

#[tokio::test]
async fn composite_alarms_need_describe_alarms_on_every_alarm() {
    use aws_sdk_cloudwatch::types::AlarmType;
    let emu = alarms().await;
    emu.set_composite_alarm(
        "eks-upgrade-health",
        "ALARM(api-5xx) OR ALARM(api-latency)",
        "ALARM",
        Some("api-5xx is in ALARM"),
    )
    .unwrap();
    let cw = cloudwatch(&emu).await;
    // Scoped to `*`: asked for, a composite alarm comes in CompositeAlarms.
    let out = cw
        .describe_alarms()
        .alarm_names("eks-upgrade-health")
        .alarm_types(AlarmType::MetricAlarm)
        .alarm_types(AlarmType::CompositeAlarm)
        .send()
        .await
        .unwrap();
    assert!(out.metric_alarms().is_empty());
    let c = &out.composite_alarms()[0];
    assert_eq!(c.alarm_name(), Some("eks-upgrade-health"));
    assert_eq!(c.alarm_rule(), Some("ALARM(api-5xx) OR ALARM(api-latency)"));
    assert_eq!(c.state_value(), Some(&StateValue::Alarm));
    // Without AlarmTypes, metric alarms only (CloudWatch's default).
    let out = cw
        .describe_alarms()
        .alarm_names("eks-upgrade-health")
        .send()
        .await
        .unwrap();
    assert!(out.metric_alarms().is_empty() && out.composite_alarms().is_empty());
    // Scoped to a prefix, as the template grants: composite alarms can't be asked for...
    emu.set_alarm_read_scope(Some("eks-upgrade-"));
    let e = cw
        .describe_alarms()
        .alarm_names("eks-upgrade-health")
        .alarm_types(AlarmType::CompositeAlarm)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(e.code(), Some("AccessDenied"), "{e:?}");
    assert!(e.message().unwrap().contains("cloudwatch:DescribeAlarms"), "{e:?}");
    // ...while metric alarms are read as before, and the composite one is not among them.
    let out = cw
        .describe_alarms()
        .alarm_names("api-5xx")
        .alarm_names("eks-upgrade-health")
        .alarm_types(AlarmType::MetricAlarm)
        .send()
        .await
        .unwrap();
    let names: Vec<_> = out.metric_alarms().iter().filter_map(|a| a.alarm_name()).collect();
    assert_eq!(names, ["api-5xx"]);
    emu.shutdown().await;
}
