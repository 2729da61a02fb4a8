use super::*;
use proptest::prelude::*;
use serde::Deserialize;
use serde_json::{json, Value};

const MIN: i64 = 60;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

fn ts(text: &str) -> i64 {
    text.parse::<Timestamp>().unwrap().as_second()
}

fn window(json: Value) -> MaintenanceWindow {
    serde_json::from_value(json).unwrap()
}

fn weekly(days: &[&str], start: &str, minutes: u32, zone: &str) -> MaintenanceWindow {
    window(json!({"days": days, "start": start, "durationMinutes": minutes, "timeZone": zone}))
}

fn exclusion(start: &str, end: &str, reason: &str) -> Exclusion {
    Exclusion::new(ts(start), ts(end), Some(reason.to_owned())).unwrap()
}

fn open(closes_at: &str) -> WindowStatus {
    WindowStatus::Open {
        closes_at: ts(closes_at),
    }
}

fn closed(opens_at: &str) -> WindowStatus {
    WindowStatus::Closed {
        opens_at: Some(ts(opens_at)),
    }
}

fn status(w: &MaintenanceWindow, at: &str) -> WindowStatus {
    status_at(Some(w), &[], ts(at))
}

/// What a request carries, to see errors with their paths as the event decoder reports them.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Carrier {
    #[serde(default)]
    #[allow(dead_code)]
    maintenance_window: Option<MaintenanceWindow>,
    #[serde(default)]
    #[allow(dead_code)]
    exclusions: Exclusions,
}

fn rejected(payload: Value) -> String {
    let err = serde_path_to_error::deserialize::<_, Carrier>(payload).expect_err("should be refused");
    format!("{}: {}", err.path(), err.inner())
}

fn rejected_window(fields: Value) -> String {
    let mut w = json!({"days": ["SAT"], "start": "02:00", "durationMinutes": 60});
    w.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
    rejected(json!({ "maintenanceWindow": w }))
}

#[test]
fn the_documented_shape_parses_describes_and_round_trips() {
    let payload = json!({
        "maintenanceWindow": {"days": ["SAT", "SUN"], "start": "02:00", "durationMinutes": 240, "timeZone": "Europe/Berlin"},
        "exclusions": [{"start": "2026-12-20T00:00:00Z", "end": "2027-01-05T00:00:00Z", "reason": "holiday freeze"}]
    });
    let w: MaintenanceWindow = serde_json::from_value(payload["maintenanceWindow"].clone()).unwrap();
    let ex: Exclusions = serde_json::from_value(payload["exclusions"].clone()).unwrap();
    assert_eq!(w.describe(), "SAT, SUN 02:00-06:00 Europe/Berlin");
    assert_eq!(w.days(), [Weekday::Sat, Weekday::Sun]);
    assert_eq!(w.start(), TimeOfDay::new(2, 0).unwrap());
    assert_eq!(w.duration_minutes(), 240);
    assert_eq!(w.time_zone().name(), "Europe/Berlin");
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0].start(), ts("2026-12-20T00:00:00Z"));
    assert_eq!(ex[0].end(), ts("2027-01-05T00:00:00Z"));
    assert_eq!(ex[0].reason(), Some("holiday freeze"));
    assert_eq!(serde_json::to_value(&w).unwrap(), payload["maintenanceWindow"]);
    assert_eq!(serde_json::to_value(&ex).unwrap(), payload["exclusions"]);
}

#[test]
fn lenient_where_harmless() {
    let w = window(
        json!({"days": ["sat", "Sunday", "SUNDAY", "mon"], "start": "23:59", "durationMinutes": 1,
                          "timeZone": "america/new_york"}),
    );
    assert_eq!(w.days(), [Weekday::Mon, Weekday::Sat, Weekday::Sun]);
    assert_eq!(w.time_zone().name(), "America/New_York");
    let w = window(json!({"start": "00:00", "durationMinutes": 1440}));
    assert!(w.days().is_empty());
    assert_eq!(w.time_zone().name(), "UTC");
    assert_eq!(w.describe(), "daily 00:00-24:00 UTC");
    // An offset other than Z, and fractions of a second rounded outwards.
    let ex: Exclusion =
        serde_json::from_value(json!({"start": "2026-12-20T01:00:00.5+01:00", "end": "2026-12-20T00:10:00.25Z"}))
            .unwrap();
    assert_eq!(
        (ex.start(), ex.end()),
        (ts("2026-12-20T00:00:00Z"), ts("2026-12-20T00:10:01Z"))
    );
    assert_eq!(ex.reason(), None);
}

#[test]
fn describe_shows_midnight_crossings() {
    assert_eq!(
        weekly(&[], "22:00", 240, "UTC").describe(),
        "daily 22:00-02:00 (next day) UTC"
    );
    assert_eq!(
        weekly(&["FRI"], "02:00", 1440, "UTC").describe(),
        "FRI 02:00-02:00 (next day) UTC"
    );
    assert_eq!(
        weekly(&["FRI"], "23:00", 60, "UTC").describe(),
        "FRI 23:00-00:00 (next day) UTC"
    );
    let all = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];
    assert_eq!(
        weekly(&all, "01:30", 60, "Asia/Tokyo").describe(),
        "daily 01:30-02:30 Asia/Tokyo"
    );
}

#[test]
fn invalid_inputs_are_refused_naming_the_field() {
    assert_eq!(
        rejected_window(json!({"start": "25:00"})),
        r#"maintenanceWindow.start: expected HH:MM (24-hour), got "25:00""#
    );
    for start in ["24:00", "2:00", "02:60", "02:00:00", "0200", "ab:cd", ""] {
        let e = rejected_window(json!({ "start": start }));
        assert!(
            e.starts_with("maintenanceWindow.start: expected HH:MM (24-hour)"),
            "{e}"
        );
    }
    assert_eq!(
        rejected_window(json!({"days": ["SAT", "Funday"]})),
        "maintenanceWindow.days[1]: expected a day of the week (MON, TUE, WED, THU, FRI, SAT, SUN or a full \
         name such as \"Saturday\"), got \"Funday\""
    );
    assert!(rejected_window(json!({"days": ["SA"]})).starts_with("maintenanceWindow.days[0]: expected a day"));
    assert_eq!(
        rejected_window(json!({"durationMinutes": 0})),
        "maintenanceWindow.durationMinutes: expected 1 to 1440 minutes (at most one day), got 0"
    );
    assert_eq!(
        rejected_window(json!({"durationMinutes": 1441})),
        "maintenanceWindow.durationMinutes: expected 1 to 1440 minutes (at most one day), got 1441"
    );
    assert!(rejected_window(json!({"durationMinutes": -5})).ends_with("got -5"));
    assert!(rejected_window(json!({"durationMinutes": 2.5})).starts_with("maintenanceWindow.durationMinutes: "));
    assert_eq!(
        rejected_window(json!({"timeZone": "Mars/Olympus"})),
        "maintenanceWindow.timeZone: expected an IANA time zone name such as \"Europe/Berlin\" or \"UTC\", \
         got \"Mars/Olympus\""
    );
    assert!(rejected_window(json!({"timeZone": "Etc/Unknown"})).starts_with("maintenanceWindow.timeZone: "));
    assert!(rejected_window(json!({"timeZone": "+01:00"})).starts_with("maintenanceWindow.timeZone: "));
    let e = rejected_window(json!({"startTime": "02:00"}));
    assert!(
        e.starts_with("maintenanceWindow.startTime: unknown field `startTime`"),
        "{e}"
    );
    let e = rejected(json!({"maintenanceWindow": {"days": [], "durationMinutes": 60}}));
    assert!(e.contains("missing field `start`"), "{e}");

    assert_eq!(
        rejected(json!({"exclusions": [
            {"start": "2026-12-20T00:00:00Z", "end": "2026-12-21T00:00:00Z"},
            {"start": "2027-01-05T00:00:00Z", "end": "2026-12-20T00:00:00Z", "reason": "holiday freeze"}
        ]})),
        "exclusions[1]: `end` (2026-12-20T00:00:00Z) must be after `start` (2027-01-05T00:00:00Z)"
    );
    let e = rejected(json!({"exclusions": [{"start": "2026-12-20T00:00:00Z", "end": "2026-12-20T00:00:00Z"}]}));
    assert!(e.starts_with("exclusions[0]: `end`"), "{e}");
    assert_eq!(
        rejected(json!({"exclusions": [{"start": "2026-12-20", "end": "2027-01-05T00:00:00Z"}]})),
        "exclusions[0].start: expected an RFC 3339 instant with an offset, such as \"2026-12-20T00:00:00Z\", \
         got \"2026-12-20\""
    );
    let e = rejected(json!({"exclusions": [{"start": "2026-12-20T00:00:00", "end": "2027-01-05T00:00:00Z"}]}));
    assert!(
        e.starts_with("exclusions[0].start: expected an RFC 3339 instant"),
        "{e}"
    );
    let e = rejected(json!({"exclusions": [
        {"start": "2026-12-20T00:00:00Z", "end": "2027-01-05T00:00:00Z", "reason": "x".repeat(201)}
    ]}));
    assert_eq!(e, "exclusions[0].reason: expected at most 200 characters, got 201");
    let e = rejected(
        json!({"exclusions": [{"start": "2026-12-20T00:00:00Z", "end": "2027-01-05T00:00:00Z",
                                            "why": "x"}]}),
    );
    assert!(e.starts_with("exclusions[0].why: unknown field `why`"), "{e}");
    let many: Vec<Value> = (0..51)
        .map(|i| json!({"start": format!("2027-01-{:02}T00:00:00Z", i % 28 + 1), "end": "2027-03-01T00:00:00Z"}))
        .collect();
    assert_eq!(
        rejected(json!({ "exclusions": many })),
        "exclusions: expected at most 50 exclusions, got 51"
    );
    assert!(serde_json::from_value::<Exclusions>(Value::Array(many[..50].to_vec())).is_ok());

    // The programmatic constructors hold the same line.
    assert!(Exclusion::new(10, 10, None).is_err());
    assert!(Exclusion::new(10, 11, None).is_ok());
    let e = MaintenanceWindow::new(&[], TimeOfDay::new(2, 0).unwrap(), 1441, Zone::utc()).unwrap_err();
    assert!(e.starts_with("maintenanceWindow.durationMinutes: "), "{e}");
    assert_eq!(TimeOfDay::new(24, 0), None);
}

#[test]
fn inside_and_outside_a_weekday_window() {
    let w = weekly(&["MON", "TUE", "WED", "THU", "FRI"], "09:00", 120, "UTC");
    assert_eq!(status(&w, "2026-11-25T08:59:59Z"), closed("2026-11-25T09:00:00Z"));
    assert_eq!(status(&w, "2026-11-25T09:00:00Z"), open("2026-11-25T11:00:00Z"));
    assert_eq!(status(&w, "2026-11-25T10:59:59Z"), open("2026-11-25T11:00:00Z"));
    assert_eq!(status(&w, "2026-11-25T11:00:00Z"), closed("2026-11-26T09:00:00Z"));
    // Friday after the window: the weekend is skipped.
    assert_eq!(status(&w, "2026-11-27T11:00:00Z"), closed("2026-11-30T09:00:00Z"));
    assert_eq!(status(&w, "2026-11-28T10:00:00Z"), closed("2026-11-30T09:00:00Z"));
}

#[test]
fn empty_days_means_every_day() {
    for w in [
        weekly(&[], "09:00", 60, "UTC"),
        window(json!({"start": "09:00", "durationMinutes": 60})),
    ] {
        // Wednesday through Sunday, each day.
        for day in 25..=29 {
            let at = |time: &str| format!("2026-11-{day}T{time}Z");
            assert_eq!(status(&w, &at("09:30:00")), open(&at("10:00:00")));
            assert_eq!(status(&w, &at("08:00:00")), closed(&at("09:00:00")));
        }
    }
}

#[test]
fn a_window_crossing_midnight() {
    // Friday 22:00 to Saturday 02:00 Berlin (CET, UTC+1).
    let w = weekly(&["FRI"], "22:00", 240, "Europe/Berlin");
    assert_eq!(status(&w, "2026-11-27T20:59:00Z"), closed("2026-11-27T21:00:00Z"));
    assert_eq!(status(&w, "2026-11-27T23:30:00Z"), open("2026-11-28T01:00:00Z"));
    // Saturday 01:30 local: still Friday's occurrence although Saturday is not listed.
    assert_eq!(status(&w, "2026-11-28T00:30:00Z"), open("2026-11-28T01:00:00Z"));
    assert_eq!(status(&w, "2026-11-28T01:00:00Z"), closed("2026-12-04T21:00:00Z"));
    // Daily 24-hour windows join into one that never closes; an exclusion still closes it.
    let always = weekly(&[], "06:00", 1440, "Europe/Berlin");
    assert_eq!(
        status(&always, "2026-03-29T01:30:00Z"),
        WindowStatus::Open { closes_at: i64::MAX }
    );
    let ex = [exclusion(
        "2026-12-20T00:00:00Z",
        "2027-01-05T00:00:00Z",
        "holiday freeze",
    )];
    assert_eq!(
        status_at(Some(&always), &ex, ts("2026-12-01T00:00:00Z")),
        open("2026-12-20T00:00:00Z")
    );
    assert_eq!(
        status_at(Some(&always), &ex, ts("2026-12-24T00:00:00Z")),
        closed("2027-01-05T00:00:00Z")
    );
    // Mon-Sat 24-hour windows join into one stretch that ends when Sunday's would begin.
    let six_days = weekly(&["MON", "TUE", "WED", "THU", "FRI", "SAT"], "00:00", 1440, "UTC");
    assert_eq!(status(&six_days, "2026-11-24T12:00:00Z"), open("2026-11-29T00:00:00Z"));
}

#[test]
fn the_estimate_must_fit_in_what_is_left_of_the_window() {
    let w = weekly(&[], "02:00", 240, "UTC");
    let go = |at: &str| can_start(Some(&w), &[], ts(at), DEFAULT_HOP_ESTIMATE_SECS);
    assert_eq!(go("2026-11-25T02:00:00Z"), Decision::Go);
    assert_eq!(go("2026-11-25T05:15:00Z"), Decision::Go);
    assert_eq!(
        go("2026-11-25T05:15:01Z"),
        Decision::Wait {
            until: Some(ts("2026-11-26T02:00:00Z")),
            reason: "only 44 minutes left in the maintenance window (daily 02:00-06:00 UTC), 45 minutes needed; \
                     next opening long enough (45 minutes): 2026-11-26T02:00:00Z"
                .to_owned(),
        }
    );
    // A shorter estimate from the caller fits later.
    assert_eq!(
        can_start(Some(&w), &[], ts("2026-11-25T05:40:00Z"), 20 * MIN),
        Decision::Go
    );
    assert!(matches!(
        can_start(Some(&w), &[], ts("2026-11-25T05:40:01Z"), 20 * MIN),
        Decision::Wait { .. }
    ));
    assert_eq!(
        next_opening(Some(&w), &[], ts("2026-11-25T05:40:00Z"), 20 * MIN),
        Some(ts("2026-11-25T05:40:00Z"))
    );
    assert_eq!(
        next_opening(Some(&w), &[], ts("2026-11-25T05:40:01Z"), 20 * MIN),
        Some(ts("2026-11-26T02:00:00Z"))
    );
}

#[test]
fn outside_the_window_the_reason_names_it_and_the_next_opening() {
    let w = weekly(&["SAT", "SUN"], "02:00", 240, "Europe/Berlin");
    assert_eq!(
        can_start(Some(&w), &[], ts("2026-11-25T12:00:00Z"), DEFAULT_HOP_ESTIMATE_SECS),
        Decision::Wait {
            until: Some(ts("2026-11-28T01:00:00Z")),
            reason: "outside the maintenance window (SAT, SUN 02:00-06:00 Europe/Berlin); \
                     next opens 2026-11-28T01:00:00Z (SAT 02:00 Europe/Berlin)"
                .to_owned(),
        }
    );
}

#[test]
fn a_window_shorter_than_the_estimate_never_fits() {
    let w = weekly(&["SAT"], "02:00", 30, "UTC");
    let Decision::Wait { until, reason } = can_start(Some(&w), &[], ts("2026-11-28T02:00:00Z"), 45 * MIN) else {
        panic!("should wait");
    };
    assert_eq!(until, None);
    assert!(reason.starts_with("only 30 minutes left"), "{reason}");
    assert!(
        reason.contains("lasts 30 minutes, less than the 45 minutes needed"),
        "{reason}"
    );
    assert!(reason.contains("lengthen the window or lower the estimate"), "{reason}");
    // It still opens; only steps that fit may start in it.
    assert_eq!(status(&w, "2026-11-28T02:00:00Z"), open("2026-11-28T02:30:00Z"));
    assert_eq!(
        can_start(Some(&w), &[], ts("2026-11-28T02:00:00Z"), 30 * MIN),
        Decision::Go
    );
}

#[test]
fn exclusions_cut_windows_and_push_the_next_opening() {
    let w = weekly(&[], "02:00", 240, "UTC");
    let ex = [exclusion("2026-11-10T03:00:00Z", "2026-11-12T04:00:00Z", "freeze")];
    let at = |t: &str| status_at(Some(&w), &ex, ts(t));
    assert_eq!(at("2026-11-10T02:30:00Z"), open("2026-11-10T03:00:00Z"));
    assert_eq!(at("2026-11-10T03:00:00Z"), closed("2026-11-12T04:00:00Z"));
    assert_eq!(at("2026-11-11T03:00:00Z"), closed("2026-11-12T04:00:00Z"));
    assert_eq!(at("2026-11-12T04:00:00Z"), open("2026-11-12T06:00:00Z"));
    assert_eq!(
        can_start(Some(&w), &ex, ts("2026-11-10T02:30:00Z"), DEFAULT_HOP_ESTIMATE_SECS),
        Decision::Wait {
            until: Some(ts("2026-11-12T04:00:00Z")),
            reason: "the exclusion \"freeze\" (2026-11-10T03:00:00Z to 2026-11-12T04:00:00Z) begins in 30 \
                     minutes, 45 minutes needed; next opening long enough (45 minutes): 2026-11-12T04:00:00Z"
                .to_owned(),
        }
    );
    // An exclusion ending 30 minutes before the window closes leaves too little: the next day.
    let ex = [exclusion("2026-11-10T03:00:00Z", "2026-11-12T05:30:00Z", "freeze")];
    let Decision::Wait { until, reason } = can_start(Some(&w), &ex, ts("2026-11-11T12:00:00Z"), 45 * MIN) else {
        panic!("should wait");
    };
    assert_eq!(until, Some(ts("2026-11-13T02:00:00Z")));
    assert_eq!(
        reason,
        "inside the exclusion \"freeze\" (2026-11-10T03:00:00Z to 2026-11-12T05:30:00Z); \
         next opening long enough (45 minutes): 2026-11-13T02:00:00Z"
    );
    assert_eq!(
        status_at(Some(&w), &ex, ts("2026-11-11T12:00:00Z")),
        closed("2026-11-12T05:30:00Z")
    );

    // Overlapping exclusions act as one.
    let ex = [
        exclusion("2026-11-10T00:00:00Z", "2026-11-11T03:00:00Z", "a"),
        exclusion("2026-11-11T02:00:00Z", "2026-11-11T04:00:00Z", "b"),
    ];
    assert_eq!(
        status_at(Some(&w), &ex, ts("2026-11-10T12:00:00Z")),
        closed("2026-11-11T04:00:00Z")
    );
    // An exclusion covering every opening for over the horizon: never.
    let ex = [exclusion("2026-01-01T00:00:00Z", "2028-01-01T00:00:00Z", "forever")];
    assert_eq!(
        status_at(Some(&w), &ex, ts("2026-06-01T00:00:00Z")),
        WindowStatus::Closed { opens_at: None }
    );
    let Decision::Wait { until: None, reason } = can_start(Some(&w), &ex, ts("2026-06-01T00:00:00Z"), 0) else {
        panic!("should wait for ever");
    };
    assert!(reason.ends_with("; no opening in the next 400 days"), "{reason}");
    let Decision::Wait { until: None, reason } = can_start(Some(&w), &ex, ts("2026-06-01T00:00:00Z"), HOUR) else {
        panic!("should wait for ever");
    };
    assert!(
        reason.ends_with("; no opening of at least 60 minutes in the next 400 days"),
        "{reason}"
    );
}

#[test]
fn without_a_window_only_exclusions_close() {
    assert_eq!(status_at(None, &[], 0), WindowStatus::Open { closes_at: i64::MAX });
    assert_eq!(can_start(None, &[], 0, DEFAULT_HOP_ESTIMATE_SECS), Decision::Go);
    let ex = [exclusion(
        "2026-12-20T00:00:00Z",
        "2027-01-05T00:00:00Z",
        "holiday freeze",
    )];
    assert_eq!(
        status_at(None, &ex, ts("2026-12-01T00:00:00Z")),
        open("2026-12-20T00:00:00Z")
    );
    assert_eq!(
        status_at(None, &ex, ts("2026-12-20T00:00:00Z")),
        closed("2027-01-05T00:00:00Z")
    );
    assert_eq!(
        status_at(None, &ex, ts("2027-01-05T00:00:00Z")),
        WindowStatus::Open { closes_at: i64::MAX }
    );
    assert_eq!(
        can_start(None, &ex, ts("2026-12-19T23:30:00Z"), DEFAULT_HOP_ESTIMATE_SECS),
        Decision::Wait {
            until: Some(ts("2027-01-05T00:00:00Z")),
            reason: "the exclusion \"holiday freeze\" (2026-12-20T00:00:00Z to 2027-01-05T00:00:00Z) begins in \
                     30 minutes, 45 minutes needed; next opening long enough (45 minutes): 2027-01-05T00:00:00Z"
                .to_owned(),
        }
    );
}

// Europe/Berlin: clocks go 02:00 CET -> 03:00 CEST on 2026-03-29 (01:00Z) and
// 03:00 CEST -> 02:00 CET on 2026-10-25 (01:00Z).
#[test]
fn dst_in_berlin_for_a_window_starting_at_0200() {
    let w = weekly(&["SUN"], "02:00", 240, "Europe/Berlin");
    // An ordinary winter Sunday: 02:00-06:00 CET.
    assert_eq!(status(&w, "2026-03-22T00:59:59Z"), closed("2026-03-22T01:00:00Z"));
    assert_eq!(status(&w, "2026-03-22T01:00:00Z"), open("2026-03-22T05:00:00Z"));
    // Spring forward: 02:00 does not exist; open from the jump (03:00 CEST) to 06:00 CEST, 3 hours.
    assert_eq!(status(&w, "2026-03-22T05:00:00Z"), closed("2026-03-29T01:00:00Z"));
    assert_eq!(status(&w, "2026-03-29T01:00:00Z"), open("2026-03-29T04:00:00Z"));
    // Fall back: 02:00 happens twice; open from the first (CEST) to 06:00 CET, 5 hours.
    assert_eq!(status(&w, "2026-10-24T23:59:59Z"), closed("2026-10-25T00:00:00Z"));
    assert_eq!(status(&w, "2026-10-25T00:00:00Z"), open("2026-10-25T05:00:00Z"));
    assert_eq!(status(&w, "2026-10-25T01:30:00Z"), open("2026-10-25T05:00:00Z"));
    assert_eq!(status(&w, "2026-10-25T05:00:00Z"), closed("2026-11-01T01:00:00Z"));
    // A start inside the skipped hour also opens at the jump, not an hour later.
    let w = weekly(&["SUN"], "02:30", 60, "Europe/Berlin");
    assert_eq!(status(&w, "2026-03-29T00:00:00Z"), closed("2026-03-29T01:00:00Z"));
    assert_eq!(status(&w, "2026-03-29T01:00:00Z"), open("2026-03-29T01:30:00Z"));
}

#[test]
fn dst_in_berlin_for_a_window_starting_at_0130() {
    let w = weekly(&["SUN"], "01:30", 60, "Europe/Berlin");
    // Spring forward: 01:30 CET to the jump at 02:00 (02:30 does not exist): 30 minutes,
    // too short for a 45-minute hop, which waits a week.
    assert_eq!(status(&w, "2026-03-29T00:30:00Z"), open("2026-03-29T01:00:00Z"));
    let Decision::Wait { until, reason } = can_start(Some(&w), &[], ts("2026-03-29T00:30:00Z"), 45 * MIN) else {
        panic!("should wait");
    };
    assert_eq!(until, Some(ts("2026-04-04T23:30:00Z")));
    assert!(reason.starts_with("only 30 minutes left"), "{reason}");
    assert!(
        reason.ends_with("2026-04-04T23:30:00Z (SUN 01:30 Europe/Berlin)"),
        "{reason}"
    );
    // Fall back: 01:30 CEST to the first 02:30 (CEST): an hour, as usual.
    assert_eq!(status(&w, "2026-10-24T23:29:59Z"), closed("2026-10-24T23:30:00Z"));
    assert_eq!(status(&w, "2026-10-24T23:30:00Z"), open("2026-10-25T00:30:00Z"));
    assert_eq!(status(&w, "2026-10-25T00:30:00Z"), closed("2026-11-01T00:30:00Z"));
}

// America/New_York: 02:00 EST -> 03:00 EDT on 2026-03-08 (07:00Z) and
// 02:00 EDT -> 01:00 EST on 2026-11-01 (06:00Z).
#[test]
fn dst_in_new_york_for_a_window_starting_at_0200() {
    let w = weekly(&["SUN"], "02:00", 240, "America/New_York");
    assert_eq!(status(&w, "2026-03-08T06:59:59Z"), closed("2026-03-08T07:00:00Z"));
    assert_eq!(status(&w, "2026-03-08T07:00:00Z"), open("2026-03-08T10:00:00Z"));
    // Fall back: 02:00 comes once (EST), after the repeated hour; 06:00 EST closes it: 4 hours.
    assert_eq!(status(&w, "2026-11-01T06:30:00Z"), closed("2026-11-01T07:00:00Z"));
    assert_eq!(status(&w, "2026-11-01T07:00:00Z"), open("2026-11-01T11:00:00Z"));
}

#[test]
fn dst_in_new_york_for_a_window_starting_at_0130() {
    let w = weekly(&["SUN"], "01:30", 60, "America/New_York");
    // Spring forward: 01:30 EST to the jump: 30 minutes.
    assert_eq!(status(&w, "2026-03-08T06:29:59Z"), closed("2026-03-08T06:30:00Z"));
    assert_eq!(status(&w, "2026-03-08T06:30:00Z"), open("2026-03-08T07:00:00Z"));
    assert!(matches!(
        can_start(Some(&w), &[], ts("2026-03-08T06:30:00Z"), 45 * MIN),
        Decision::Wait { until: Some(t), .. } if t == ts("2026-03-15T05:30:00Z")
    ));
    // Fall back: 01:30 is repeated; from the first (EDT) to 02:30 EST: 2 hours, through the
    // repeated hour.
    assert_eq!(status(&w, "2026-11-01T05:29:59Z"), closed("2026-11-01T05:30:00Z"));
    assert_eq!(status(&w, "2026-11-01T05:30:00Z"), open("2026-11-01T07:30:00Z"));
    assert_eq!(status(&w, "2026-11-01T06:15:00Z"), open("2026-11-01T07:30:00Z"));
    assert_eq!(status(&w, "2026-11-01T07:30:00Z"), closed("2026-11-08T06:30:00Z"));
    // A window wholly inside the skipped hour does not open that day.
    let w = weekly(&["SUN"], "02:10", 30, "America/New_York");
    assert_eq!(status(&w, "2026-03-08T05:00:00Z"), closed("2026-03-15T06:10:00Z"));
}

const ZONES: [&str; 8] = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe", // 30-minute DST shift
    "America/St_Johns",
    "Asia/Kolkata",
    "America/Santiago", // DST changes at midnight
    "Pacific/Chatham",
];

fn any_window() -> impl Strategy<Value = MaintenanceWindow> {
    (
        0u8..128,
        0u8..24,
        prop_oneof![Just(0u8), Just(30u8), 0u8..60],
        prop_oneof![1u16..=120, 1u16..=1440, Just(1440u16)],
        0..ZONES.len(),
    )
        .prop_map(|(mask, hour, minute, minutes, zone)| {
            let days: Vec<Weekday> = Weekday::ALL
                .into_iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, d)| d)
                .collect();
            let start = TimeOfDay::new(hour, minute).unwrap();
            MaintenanceWindow::new(&days, start, minutes, Zone::get(ZONES[zone]).unwrap()).unwrap()
        })
}

// 2026-2028, where the DST rules of all the zones above apply.
const FROM: i64 = 1_767_225_600;
const TO: i64 = FROM + 2 * 365 * DAY;

fn any_exclusions() -> impl Strategy<Value = Vec<Exclusion>> {
    proptest::collection::vec((FROM..TO, 1..20 * DAY), 0..4).prop_map(|spans| {
        spans
            .into_iter()
            .map(|(start, len)| Exclusion::new(start, start + len, None).unwrap())
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn status_is_consistent(
        window in proptest::option::weighted(0.9, any_window()),
        exclusions in any_exclusions(),
        now in FROM..TO,
        needed in prop_oneof![Just(0i64), Just(DEFAULT_HOP_ESTIMATE_SECS), 0..6 * HOUR],
    ) {
        let w = window.as_ref();
        match status_at(w, &exclusions, now) {
            WindowStatus::Open { closes_at } => {
                prop_assert!(now < closes_at);
                let mut t = now;
                while t < closes_at.min(now + HOUR) {
                    prop_assert!(
                        matches!(status_at(w, &exclusions, t), WindowStatus::Open { .. }),
                        "closed at {} inside [{}, {})", t, now, closes_at
                    );
                    t += 5 * MIN;
                }
                if closes_at < i64::MAX {
                    prop_assert!(
                        !matches!(status_at(w, &exclusions, closes_at), WindowStatus::Open { .. }),
                        "still open at closes_at {}", closes_at
                    );
                }
            }
            WindowStatus::Closed { opens_at } => {
                if let Some(t) = opens_at {
                    prop_assert!(t > now);
                    prop_assert!(
                        matches!(status_at(w, &exclusions, t), WindowStatus::Open { .. }),
                        "not open at opens_at {}", t
                    );
                    // Nothing opens earlier: sample the gap (every 5 minutes, the first hours).
                    let mut s = now;
                    while s < t.min(now + 3 * HOUR) {
                        prop_assert!(!matches!(status_at(w, &exclusions, s), WindowStatus::Open { .. }),
                            "open at {} before {}", s, t);
                        s += 5 * MIN;
                    }
                }
            }
        }
        match can_start(w, &exclusions, now, needed) {
            Decision::Go => {
                let WindowStatus::Open { closes_at } = status_at(w, &exclusions, now) else {
                    return Err(TestCaseError::fail("Go while closed"));
                };
                prop_assert!(closes_at - now >= needed);
                prop_assert_eq!(next_opening(w, &exclusions, now, needed), Some(now));
            }
            Decision::Wait { until, reason } => {
                prop_assert!(!reason.is_empty());
                if let Some(t) = until {
                    prop_assert!(t > now);
                    prop_assert_eq!(can_start(w, &exclusions, t, needed), Decision::Go);
                }
            }
        }
    }
}
