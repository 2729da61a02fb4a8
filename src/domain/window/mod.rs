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

/// Serde for the small string types: written with Display, read with a validating parser whose
/// message serde_path_to_error reports under the field's path.
macro_rules! string_serde {
    ($ty:ty, $parse:expr) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <String as serde::Deserialize>::deserialize(d)?;
                $parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

mod calendar;
mod exclusions;
mod weekly;

use calendar::instant;
pub use calendar::{TimeOfDay, Weekday, Zone, MAX_EXCLUSIONS, SEARCH_HORIZON_DAYS};
pub use exclusions::{Exclusion, Exclusions};
pub use weekly::MaintenanceWindow;

use jiff::Timestamp;

/// How long one control-plane hop is assumed to take when the caller gives no estimate.
pub const DEFAULT_HOP_ESTIMATE_SECS: i64 = 45 * 60;
const SEARCH_HORIZON_SECS: i64 = SEARCH_HORIZON_DAYS * 86_400;

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
mod tests;
