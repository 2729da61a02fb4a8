//! Maintenance windows and exclusion periods: when a step of an upgrade may start. No I/O and no
//! clock reads: every function takes `now` (epoch seconds) from the caller.
//!
//! A request may carry
//!
//! ```json
//! "maintenanceWindow": {"days": ["SAT", "SUN"], "start": "02:00", "durationMinutes": 240, "timeZone": "Europe/Berlin"},
//! "exclusions": [{"start": "2026-12-20T00:00:00Z", "end": "2027-01-05T00:00:00Z", "reason": "holiday freeze"}]
//! ```
//!
//! The window is read on the local wall clock: on each listed day it is open from `start` until
//! `start + durationMinutes` (which may be on the next day), both taken as local times. Exclusions
//! are half-open `[start, end)` intervals of absolute time and win over the window.
//!
//! Daylight-saving changes: an edge (the start, or the end) of a window occurrence is *the first
//! instant at which the local clock reads that time or later*. So
//! - a local time that is skipped (spring forward, e.g. 02:30 in Europe/Berlin on the last Sunday
//!   of March) is taken as the moment the clocks jump (03:00 CEST): a window never extends past
//!   its wall-clock end, and a window lying wholly inside the skipped hour does not open that day;
//! - a local time that occurs twice (fall back) is taken at its first occurrence, as jiff's
//!   "compatible" disambiguation does. A window whose end falls after the repeated hour is then
//!   an hour longer in real time (02:00-06:00 Berlin lasts 5 hours on the last Sunday of October).
//!
//! A window's real length therefore changes on those days; `durationMinutes` is its length on
//! the wall clock.

use jiff::civil::{self, Date, DateTime};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// How long one control-plane hop is assumed to take when the caller gives no estimate.
pub const DEFAULT_HOP_ESTIMATE_SECS: i64 = 45 * 60;
/// The most exclusions a request may carry.
pub const MAX_EXCLUSIONS: usize = 50;
/// How far ahead the next opening is looked for; beyond it an opening counts as "never".
pub const SEARCH_HORIZON_DAYS: i64 = 400;
const SEARCH_HORIZON_SECS: i64 = SEARCH_HORIZON_DAYS * 86_400;
const MAX_DURATION_MINUTES: u16 = 1440;
const MAX_REASON_CHARS: usize = 200;

fn shown(text: &str) -> String {
    let mut head: String = text.chars().take(40).collect();
    if head.len() < text.len() {
        head.push('…');
    }
    format!("{head:?}")
}

// ---------------------------------------------------------------------------------------------
// Days, times of day, zones
// ---------------------------------------------------------------------------------------------

/// A day of the week. Written `MON`..`SUN`; read case-insensitively, full names too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Weekday {
    pub const ALL: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];

    pub fn abbreviation(self) -> &'static str {
        ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"][self as usize]
    }

    fn full_name(self) -> &'static str {
        [
            "monday",
            "tuesday",
            "wednesday",
            "thursday",
            "friday",
            "saturday",
            "sunday",
        ][self as usize]
    }

    fn from_jiff(day: civil::Weekday) -> Self {
        Self::ALL[day.to_monday_zero_offset() as usize]
    }
}

impl FromStr for Weekday {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let lower = s.to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|d| lower == d.full_name() || lower == d.full_name()[..3])
            .ok_or_else(|| {
                format!(
                    "expected a day of the week (MON, TUE, WED, THU, FRI, SAT, SUN or a full name such as \
                     \"Saturday\"), got {}",
                    shown(s)
                )
            })
    }
}

impl fmt::Display for Weekday {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.abbreviation())
    }
}

/// A local time of day, minute precision, written `HH:MM` (24-hour).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay {
    hour: u8,
    minute: u8,
}

impl TimeOfDay {
    pub fn new(hour: u8, minute: u8) -> Option<Self> {
        (hour < 24 && minute < 60).then_some(Self { hour, minute })
    }

    pub fn hour(self) -> u8 {
        self.hour
    }

    pub fn minute(self) -> u8 {
        self.minute
    }

    fn minutes_of_day(self) -> u16 {
        u16::from(self.hour) * 60 + u16::from(self.minute)
    }

    fn to_civil(self) -> civil::Time {
        civil::time(self.hour as i8, self.minute as i8, 0, 0)
    }
}

impl FromStr for TimeOfDay {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("expected HH:MM (24-hour), got {}", shown(s));
        let b = s.as_bytes();
        // Exactly two digits, a colon, two digits: "2:00" and "02:00:00" are refused, not guessed at.
        if b.len() != 5 || b[2] != b':' || ![b[0], b[1], b[3], b[4]].iter().all(u8::is_ascii_digit) {
            return Err(bad());
        }
        let hour = (b[0] - b'0') * 10 + (b[1] - b'0');
        let minute = (b[3] - b'0') * 10 + (b[4] - b'0');
        Self::new(hour, minute).ok_or_else(bad)
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour, self.minute)
    }
}

/// An IANA time zone, resolved from the tz database bundled into the binary (so it works
/// without /usr/share/zoneinfo). Compared and written by its canonical name.
#[derive(Clone)]
pub struct Zone {
    name: String,
    tz: TimeZone,
}

impl Zone {
    pub fn utc() -> Self {
        Self {
            name: "UTC".to_owned(),
            tz: TimeZone::UTC,
        }
    }

    /// Looks a zone up by IANA name, ignoring ASCII case ("europe/berlin" is "Europe/Berlin").
    pub fn get(name: &str) -> Result<Self, String> {
        let tz = TimeZone::get(name)
            .ok()
            // "Etc/Unknown" is in the database but means "no idea"; refuse it like a typo.
            .filter(|_| !name.eq_ignore_ascii_case("Etc/Unknown"))
            .ok_or_else(|| {
                format!(
                    "expected an IANA time zone name such as \"Europe/Berlin\" or \"UTC\", got {}",
                    shown(name)
                )
            })?;
        let name = tz.iana_name().unwrap_or(name).to_owned();
        Ok(Self { name, tz })
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Default for Zone {
    fn default() -> Self {
        Self::utc()
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Zone {}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Zone({:?})", self.name)
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// Serde for the small string types: written with Display, read with a validating parser whose
/// message serde_path_to_error reports under the field's path.
macro_rules! string_serde {
    ($ty:ty, $parse:expr) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                $parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

string_serde!(Weekday, Weekday::from_str);
string_serde!(TimeOfDay, TimeOfDay::from_str);
string_serde!(Zone, Zone::get);

// ---------------------------------------------------------------------------------------------
// The window and the exclusions
// ---------------------------------------------------------------------------------------------

/// A weekly maintenance window: on each of `days` (none listed = every day), from `start` local
/// time for `durationMinutes` of wall-clock time, in `timeZone` (default UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MaintenanceWindow {
    #[serde(default, deserialize_with = "sorted_days")]
    days: Vec<Weekday>,
    start: TimeOfDay,
    #[serde(deserialize_with = "duration_minutes")]
    duration_minutes: u16,
    #[serde(default)]
    time_zone: Zone,
}

fn sorted_days<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Weekday>, D::Error> {
    let mut days = Vec::<Weekday>::deserialize(d)?;
    days.sort();
    days.dedup();
    Ok(days)
}

fn check_duration(minutes: i64) -> Result<u16, String> {
    u16::try_from(minutes)
        .ok()
        .filter(|m| (1..=MAX_DURATION_MINUTES).contains(m))
        .ok_or_else(|| format!("expected 1 to {MAX_DURATION_MINUTES} minutes (at most one day), got {minutes}"))
}

fn duration_minutes<'de, D: Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
    check_duration(i64::deserialize(d)?).map_err(serde::de::Error::custom)
}

impl MaintenanceWindow {
    /// `days` empty means every day. Errors name the offending field as the JSON does.
    pub fn new(days: &[Weekday], start: TimeOfDay, duration_minutes: u16, time_zone: Zone) -> Result<Self, String> {
        let duration_minutes = check_duration(i64::from(duration_minutes))
            .map_err(|e| format!("maintenanceWindow.durationMinutes: {e}"))?;
        let mut days = days.to_vec();
        days.sort();
        days.dedup();
        Ok(Self {
            days,
            start,
            duration_minutes,
            time_zone,
        })
    }

    /// The listed days, sorted; empty means every day.
    pub fn days(&self) -> &[Weekday] {
        &self.days
    }

    pub fn start(&self) -> TimeOfDay {
        self.start
    }

    pub fn duration_minutes(&self) -> u16 {
        self.duration_minutes
    }

    pub fn time_zone(&self) -> &Zone {
        &self.time_zone
    }

    /// For operators: `SAT, SUN 02:00-06:00 Europe/Berlin`, `daily 22:00-02:00 (next day) UTC`.
    pub fn describe(&self) -> String {
        let days = if self.days.is_empty() || self.days.len() == Weekday::ALL.len() {
            "daily".to_owned()
        } else {
            self.days
                .iter()
                .map(|d| d.abbreviation())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let end_minutes = self.start.minutes_of_day() + self.duration_minutes;
        let end = if end_minutes == MAX_DURATION_MINUTES && self.start.minutes_of_day() == 0 {
            "24:00".to_owned()
        } else {
            let wrapped = end_minutes % MAX_DURATION_MINUTES;
            let next_day = if end_minutes > MAX_DURATION_MINUTES
                || (end_minutes == MAX_DURATION_MINUTES && self.start.minutes_of_day() > 0)
            {
                " (next day)"
            } else {
                ""
            };
            format!("{:02}:{:02}{next_day}", wrapped / 60, wrapped % 60)
        };
        format!("{days} {}-{end} {}", self.start, self.time_zone)
    }

    fn includes(&self, day: Weekday) -> bool {
        self.days.is_empty() || self.days.contains(&day)
    }

    /// The occurrence that starts on local date `date`, as `[open, close)` epoch seconds; None if
    /// the window is not on that day or the day's occurrence is empty (wholly skipped by DST).
    fn occurrence_on(&self, date: Date) -> Option<(i64, i64)> {
        if !self.includes(Weekday::from_jiff(date.weekday())) {
            return None;
        }
        let start = date.to_datetime(self.start.to_civil());
        let end = start
            .checked_add(SignedDuration::from_mins(i64::from(self.duration_minutes)))
            .ok()?;
        let open = first_instant_reading(&self.time_zone.tz, start)?;
        let close = first_instant_reading(&self.time_zone.tz, end)?;
        (close > open).then_some((open, close))
    }

    /// Occurrences in time order, for `count` local dates from the date that could still hold
    /// one covering `t` (an occurrence lasts at most a day; the extra day absorbs DST shifts).
    fn occurrences_around(&self, t: i64, count: i64) -> impl Iterator<Item = (i64, i64)> + '_ {
        let first = Timestamp::from_second(t)
            .ok()
            .and_then(|ts| self.time_zone.tz.to_datetime(ts).date().checked_sub(3.days()).ok());
        std::iter::successors(first, |d| d.tomorrow().ok())
            .take(usize::try_from(count + 4).unwrap_or(usize::MAX))
            .filter_map(|d| self.occurrence_on(d))
    }

    /// If `t` is inside the window: the end of the open stretch around it, joining occurrences
    /// that touch or overlap (a daily 24-hour window never closes: `i64::MAX`).
    fn run_end(&self, t: i64) -> Option<i64> {
        let mut end: Option<i64> = None;
        for (open, close) in self.occurrences_around(t, SEARCH_HORIZON_DAYS) {
            match end {
                None if open > t => return None,
                None if t < close => end = Some(close),
                None => {}
                Some(e) if open <= e => end = Some(e.max(close)),
                Some(e) => return Some(e),
            }
        }
        // Still joined at the horizon: open for as far as anyone will ask.
        end.map(|_| i64::MAX)
    }

    /// The next opening after `t` (which is outside the window), within the horizon.
    fn next_open_after(&self, t: i64) -> Option<i64> {
        self.occurrences_around(t, SEARCH_HORIZON_DAYS)
            .map(|(open, _)| open)
            .find(|&open| open > t)
    }
}

impl fmt::Display for MaintenanceWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// The first instant at which the local clock in `tz` reads `local` or later: a skipped local
/// time becomes the moment of the jump, a repeated one its first occurrence.
fn first_instant_reading(tz: &TimeZone, local: DateTime) -> Option<i64> {
    let instant = match tz.to_ambiguous_timestamp(local).offset() {
        AmbiguousOffset::Unambiguous { offset } => offset.to_timestamp(local).ok()?,
        AmbiguousOffset::Fold { before, .. } => before.to_timestamp(local).ok()?,
        // Read with the new offset the local time lies before the jump; the jump comes next.
        AmbiguousOffset::Gap { after, .. } => tz.following(after.to_timestamp(local).ok()?).next()?.timestamp(),
    };
    Some(instant.as_second())
}

/// A period in which no step starts, `[start, end)` in epoch seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ExclusionWire", into = "ExclusionWire")]
pub struct Exclusion {
    start: i64,
    end: i64,
    reason: Option<String>,
}

impl Exclusion {
    pub fn new(start: i64, end: i64, reason: Option<String>) -> Result<Self, String> {
        let wire = ExclusionWire {
            start: Instant::at(start)?,
            end: Instant::at(end)?,
            reason: reason.map(|r| check_reason(&r)).transpose()?,
        };
        Self::try_from(wire)
    }

    pub fn start(&self) -> i64 {
        self.start
    }

    pub fn end(&self) -> i64 {
        self.end
    }

    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }

    fn contains(&self, t: i64) -> bool {
        self.start <= t && t < self.end
    }

    fn describe(&self) -> String {
        let name = self.reason.as_deref().map(|r| format!(" {r:?}")).unwrap_or_default();
        format!("exclusion{name} ({} to {})", instant(self.start), instant(self.end))
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ExclusionWire {
    start: Instant,
    end: Instant,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "reason")]
    reason: Option<String>,
}

impl TryFrom<ExclusionWire> for Exclusion {
    type Error = String;

    fn try_from(wire: ExclusionWire) -> Result<Self, String> {
        // Rounded outwards, so a sub-second exclusion still excludes something.
        let (start, end) = (wire.start.floor_secs(), wire.end.ceil_secs());
        if end <= start {
            return Err(format!(
                "`end` ({}) must be after `start` ({})",
                wire.end.0, wire.start.0
            ));
        }
        Ok(Self {
            start,
            end,
            reason: wire.reason,
        })
    }
}

impl From<Exclusion> for ExclusionWire {
    fn from(e: Exclusion) -> Self {
        // In range: an Exclusion is only made from valid instants.
        let at = |t| Instant(Timestamp::from_second(t).unwrap_or(Timestamp::UNIX_EPOCH));
        Self {
            start: at(e.start),
            end: at(e.end),
            reason: e.reason,
        }
    }
}

fn check_reason(text: &str) -> Result<String, String> {
    let count = text.chars().count();
    if count > MAX_REASON_CHARS {
        return Err(format!("expected at most {MAX_REASON_CHARS} characters, got {count}"));
    }
    Ok(text.to_owned())
}

fn reason<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)?
        .map(|r| check_reason(&r))
        .transpose()
        .map_err(serde::de::Error::custom)
}

/// An RFC 3339 instant on the wire ("2026-12-20T00:00:00Z", "2026-12-20T01:00:00+01:00").
struct Instant(Timestamp);

impl Instant {
    fn at(secs: i64) -> Result<Self, String> {
        Timestamp::from_second(secs)
            .map(Self)
            .map_err(|_| format!("{secs} is out of the supported range of instants"))
    }

    fn floor_secs(&self) -> i64 {
        self.0.as_second() - i64::from(self.0.subsec_nanosecond() < 0)
    }

    fn ceil_secs(&self) -> i64 {
        self.0.as_second() + i64::from(self.0.subsec_nanosecond() > 0)
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for Instant {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        s.parse::<Timestamp>().map(Self).map_err(|_| {
            format!(
                "expected an RFC 3339 instant with an offset, such as \"2026-12-20T00:00:00Z\", got {}",
                shown(s)
            )
        })
    }
}

string_serde!(Instant, Instant::from_str);

/// A request's exclusions: at most [`MAX_EXCLUSIONS`], in the order given (they may overlap).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Exclusions(Vec<Exclusion>);

impl Exclusions {
    pub fn new(exclusions: Vec<Exclusion>) -> Result<Self, String> {
        if exclusions.len() > MAX_EXCLUSIONS {
            return Err(format!(
                "expected at most {MAX_EXCLUSIONS} exclusions, got {}",
                exclusions.len()
            ));
        }
        Ok(Self(exclusions))
    }

    pub fn as_slice(&self) -> &[Exclusion] {
        &self.0
    }
}

impl std::ops::Deref for Exclusions {
    type Target = [Exclusion];

    fn deref(&self) -> &[Exclusion] {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Exclusions {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::new(Vec::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

// ---------------------------------------------------------------------------------------------
// Decisions
// ---------------------------------------------------------------------------------------------

/// Whether steps may start at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowStatus {
    /// Open until `closes_at` (exclusive): the end of the window's open stretch or the start of
    /// the next exclusion, whichever is first; `i64::MAX` if neither ever comes.
    Open { closes_at: i64 },
    /// Closed; `opens_at` is the next instant that is in the window and not excluded, None if
    /// there is none within [`SEARCH_HORIZON_DAYS`].
    Closed { opens_at: Option<i64> },
}

/// Whether a step needing some time may start now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Go,
    /// `until`: the next instant at which a step of that length could start (re-ask then; an
    /// exclusion or the window may have changed). None: no such instant within
    /// [`SEARCH_HORIZON_DAYS`]; `reason` says why (e.g. the window is shorter than the step), and
    /// the upgrade needs an operator. `reason` is for people, not for parsing.
    Wait {
        until: Option<i64>,
        reason: String,
    },
}

/// The end of the run of overlapping exclusions covering `t`, if any covers it.
fn excluded_until(exclusions: &[Exclusion], t: i64) -> Option<i64> {
    let mut until = None;
    let mut at = t;
    while let Some(end) = exclusions.iter().filter(|e| e.contains(at)).map(|e| e.end).max() {
        until = Some(end);
        at = end;
    }
    until
}

fn next_exclusion_start(exclusions: &[Exclusion], t: i64) -> Option<i64> {
    exclusions.iter().map(|e| e.start).filter(|&s| s > t).min()
}

/// If open at `t`: when it closes.
fn open_until(window: Option<&MaintenanceWindow>, exclusions: &[Exclusion], t: i64) -> Option<i64> {
    if excluded_until(exclusions, t).is_some() {
        return None;
    }
    let run_end = match window {
        None => i64::MAX,
        Some(w) => w.run_end(t)?,
    };
    Some(next_exclusion_start(exclusions, t).map_or(run_end, |s| s.min(run_end)))
}

/// The first instant at or after `from` that is open, within the horizon.
fn first_open(window: Option<&MaintenanceWindow>, exclusions: &[Exclusion], from: i64) -> Option<i64> {
    let limit = from.saturating_add(SEARCH_HORIZON_SECS);
    let mut t = from;
    // Each turn moves `t` strictly forward, past an exclusion run or to a window occurrence.
    while t <= limit {
        if let Some(end) = excluded_until(exclusions, t) {
            t = end;
            continue;
        }
        match window {
            None => return Some(t),
            Some(w) if w.run_end(t).is_some() => return Some(t),
            Some(w) => t = w.next_open_after(t)?,
        }
    }
    None
}

/// Whether steps may start at `now`, and until or from when.
pub fn status_at(window: Option<&MaintenanceWindow>, exclusions: &[Exclusion], now: i64) -> WindowStatus {
    match open_until(window, exclusions, now) {
        Some(closes_at) => WindowStatus::Open { closes_at },
        None => WindowStatus::Closed {
            opens_at: first_open(window, exclusions, now),
        },
    }
}

/// The first instant at or after `now` at which a step needing `needed_secs` may start: open,
/// and staying open for at least `needed_secs`. None if there is none within the horizon. For a
/// dry-run plan; `now` itself is returned when the step could start at once.
pub fn next_opening(
    window: Option<&MaintenanceWindow>,
    exclusions: &[Exclusion],
    now: i64,
    needed_secs: i64,
) -> Option<i64> {
    let limit = now.saturating_add(SEARCH_HORIZON_SECS);
    let mut t = now;
    loop {
        let open = first_open(window, exclusions, t).filter(|&o| o <= limit)?;
        let closes = open_until(window, exclusions, open)?;
        if closes.saturating_sub(open) >= needed_secs {
            return Some(open);
        }
        // Too short: closed at `closes` (the window ends or an exclusion begins), look further.
        t = closes;
    }
}

/// Go if open at `now` and staying open for at least `needed_secs` (e.g.
/// [`DEFAULT_HOP_ESTIMATE_SECS`] for a control-plane hop); otherwise Wait until the next opening
/// long enough for it, with a reason for operators.
///
/// If no opening within the horizon is long enough, `until` is None and the reason says so; when
/// the window itself is shorter than `needed_secs` the reason names that ("lengthen the window or
/// lower the estimate") rather than parking the upgrade at every opening to no purpose.
pub fn can_start(window: Option<&MaintenanceWindow>, exclusions: &[Exclusion], now: i64, needed_secs: i64) -> Decision {
    let closes = open_until(window, exclusions, now);
    if closes.is_some_and(|c| c.saturating_sub(now) >= needed_secs) {
        return Decision::Go;
    }
    let needed = format!("{} minutes", needed_secs.max(0).saturating_add(59) / 60);
    let in_window = window.map(|w| format!(" ({})", w.describe())).unwrap_or_default();
    let why = match closes {
        Some(closes) => {
            let left = closes.saturating_sub(now) / 60;
            match exclusions.iter().find(|e| e.start == closes) {
                Some(e) => format!("the {} begins in {left} minutes, {needed} needed", e.describe()),
                None => format!("only {left} minutes left in the maintenance window{in_window}, {needed} needed"),
            }
        }
        None => match exclusions.iter().find(|e| e.contains(now)) {
            Some(e) => format!("inside the {}", e.describe()),
            None => format!("outside the maintenance window{in_window}"),
        },
    };
    let until = next_opening(window, exclusions, now, needed_secs);
    let next = match (until, window) {
        (Some(t), _) if Some(t) == first_open(window, exclusions, now) => format!("next opens {}", at(window, t)),
        (Some(t), _) => format!("next opening long enough ({needed}): {}", at(window, t)),
        (None, Some(w)) if i64::from(w.duration_minutes) * 60 < needed_secs => format!(
            "the window lasts {} minutes, less than the {needed} needed, so it will never open long enough: \
             lengthen the window or lower the estimate",
            w.duration_minutes
        ),
        (None, _) if needed_secs <= 0 => format!("no opening in the next {SEARCH_HORIZON_DAYS} days"),
        (None, _) => format!("no opening of at least {needed} in the next {SEARCH_HORIZON_DAYS} days"),
    };
    Decision::Wait {
        until,
        reason: format!("{why}; {next}"),
    }
}

fn instant(t: i64) -> String {
    Timestamp::from_second(t).map_or_else(|_| format!("@{t}"), |ts| ts.to_string())
}

/// An instant for operators: UTC, and the window's local time when that is not UTC.
fn at(window: Option<&MaintenanceWindow>, t: i64) -> String {
    match (window, Timestamp::from_second(t)) {
        (Some(w), Ok(ts)) if w.time_zone.name != "UTC" => {
            let local = w.time_zone.tz.to_datetime(ts);
            format!(
                "{ts} ({} {:02}:{:02} {})",
                Weekday::from_jiff(local.weekday()),
                local.hour(),
                local.minute(),
                w.time_zone
            )
        }
        _ => instant(t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
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
}
