//! The EventBridge Scheduler stand-in through the real `aws-sdk-scheduler`: one-time schedules
//! created, read, refused and deleted as Scheduler does, and fired at their time on the
//! emulator's clock into the Lambda relay.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_scheduler::error::ProvideErrorMetadata;
use aws_sdk_scheduler::types::{ActionAfterCompletion, FlexibleTimeWindow, FlexibleTimeWindowMode, Target};
use axum::extract::{Request, State};
use axum::Router;
use eks_emulator::{Emulator, EmulatorConfig, RelayConfig};

use crate::common::*;

type Received = Arc<Mutex<Vec<(String, String, String)>>>;

/// A function behind the relay that keeps (path, invocation type, body) of what it got.
async fn function() -> (Received, String) {
    let received: Received = Arc::default();
    let app = Router::new()
        .fallback(|State(r): State<Received>, req: Request| async move {
            let path = req.uri().path().to_owned();
            let kind = req
                .headers()
                .get("x-amz-invocation-type")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            let body = axum::body::to_bytes(req.into_body(), 1 << 20).await.unwrap();
            r.lock()
                .unwrap()
                .push((path, kind, String::from_utf8_lossy(&body).into_owned()));
            "{}"
        })
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (received, url)
}

async fn emulator(forward: &str) -> Emulator {
    start_with(EmulatorConfig {
        relay: RelayConfig {
            forward_url: Some(forward.to_owned()),
            ..RelayConfig::default()
        },
        ..Default::default()
    })
    .await
}

/// `at(...)` for epoch seconds `t` (UTC).
fn at(t: f64) -> String {
    let secs = t.ceil() as i64;
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "at({y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02})",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

async fn create(
    client: &aws_sdk_scheduler::Client,
    name: &str,
    when: f64,
    input: &str,
) -> Result<String, aws_sdk_scheduler::Error> {
    let out = client
        .create_schedule()
        .name(name)
        .group_name("orchestrator-wakes")
        .schedule_expression(at(when))
        .schedule_expression_timezone("UTC")
        .flexible_time_window(
            FlexibleTimeWindow::builder()
                .mode(FlexibleTimeWindowMode::Off)
                .build()
                .unwrap(),
        )
        .action_after_completion(ActionAfterCompletion::Delete)
        .target(
            Target::builder()
                .arn("arn:aws:lambda:us-east-1:123456789012:function:orchestrator")
                .role_arn("arn:aws:iam::123456789012:role/wake")
                .input(input)
                .build()
                .unwrap(),
        )
        .send()
        .await?;
    Ok(out.schedule_arn().to_owned())
}

#[tokio::test]
async fn schedules_are_created_read_refused_and_deleted_as_scheduler_does() {
    let (_, url) = function().await;
    let emu = emulator(&url).await;
    let client = aws_sdk_scheduler::Client::new(&sdk_config(&emu, 1).await);
    let later = emu.now() + 3600.0;
    let arn = create(&client, "wake-1", later, "{\"continuation\":{}}").await.unwrap();
    assert_eq!(
        arn,
        "arn:aws:scheduler:us-east-1:123456789012:schedule/orchestrator-wakes/wake-1"
    );
    let got = client
        .get_schedule()
        .name("wake-1")
        .group_name("orchestrator-wakes")
        .send()
        .await
        .unwrap();
    assert_eq!(got.schedule_expression(), Some(at(later).as_str()));
    assert_eq!(got.action_after_completion(), Some(&ActionAfterCompletion::Delete));
    assert_eq!(got.target().unwrap().input(), Some("{\"continuation\":{}}"));
    assert_eq!(got.arn(), Some(arn.as_str()));

    let again = create(&client, "wake-1", later, "{}").await.unwrap_err();
    assert_eq!(again.code(), Some("ConflictException"));
    assert_eq!(again.message(), Some("Schedule wake-1 already exists."));
    let bad = create(&client, "wake 2", later, "{}").await.unwrap_err();
    assert_eq!(bad.code(), Some("ValidationException"));

    client
        .delete_schedule()
        .name("wake-1")
        .group_name("orchestrator-wakes")
        .send()
        .await
        .unwrap();
    let gone = client
        .delete_schedule()
        .name("wake-1")
        .group_name("orchestrator-wakes")
        .send()
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Some("ResourceNotFoundException"));
    assert_eq!(gone.message(), Some("Schedule wake-1 does not exist."));
    assert_eq!(emu.stats().schedules.waiting, 0);
}

#[tokio::test]
async fn a_schedule_fires_once_at_its_time_on_the_emulators_clock_as_an_event_invoke() {
    let (received, url) = function().await;
    let emu = emulator(&url).await;
    let client = aws_sdk_scheduler::Client::new(&sdk_config(&emu, 1).await);
    create(&client, "soon", emu.now() + 1.0, "{\"n\":1}").await.unwrap();
    create(&client, "tomorrow", emu.now() + 86_400.0, "{\"n\":2}")
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(5), || async { received.lock().unwrap().len() == 1 }).await,
        "the first fired"
    );
    let (path, kind, body) = received.lock().unwrap()[0].clone();
    assert_eq!(path, "/2015-03-31/functions/orchestrator/invocations");
    // The relay delivers an Event invocation as `cargo lambda watch` expects it.
    assert_eq!((kind.as_str(), body.as_str()), ("RequestResponse", "{\"n\":1}"));
    assert_eq!(emu.stats().relay.accepted, 1, "through the relay, as an Event invoke");
    // Tomorrow's fires when the clock gets there, and each only once.
    emu.advance_clock(86_400);
    assert!(eventually(Duration::from_secs(5), || async { received.lock().unwrap().len() == 2 }).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(received.lock().unwrap().len(), 2, "once each");
    assert_eq!(emu.stats().schedules.fired, 2);
    assert_eq!(emu.stats().schedules.waiting, 0, "deleted after they ran");
}
