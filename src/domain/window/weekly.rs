//! The weekly maintenance window and its occurrences on the wall clock.

use super::calendar::{TimeOfDay, Weekday, Zone, MAX_DURATION_MINUTES, SEARCH_HORIZON_DAYS};
use jiff::civil::{Date, DateTime};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// A weekly maintenance window: on each of `days` (none listed = every day), from `start` local
/// time for `durationMinutes` of wall-clock time, in `timeZone` (default UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MaintenanceWindow {
    #[serde(default, deserialize_with = "sorted_days")]
    days: Vec<Weekday>,
    start: TimeOfDay,
    #[serde(deserialize_with = "duration_minutes")]
    pub(super) duration_minutes: u16,
    #[serde(default)]
    pub(super) time_zone: Zone,
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

    pub(super) fn includes(&self, day: Weekday) -> bool {
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
    pub(super) fn run_end(&self, t: i64) -> Option<i64> {
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
    pub(super) fn next_open_after(&self, t: i64) -> Option<i64> {
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
