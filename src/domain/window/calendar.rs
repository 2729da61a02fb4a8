//! The calendar a window is written in: days of the week, local times of day, IANA zones.

use super::super::text::shown;
use jiff::civil;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use std::fmt;
use std::str::FromStr;

/// The most exclusions a request may carry.
pub const MAX_EXCLUSIONS: usize = 50;
/// How far ahead the next opening is looked for; beyond it an opening counts as "never".
pub const SEARCH_HORIZON_DAYS: i64 = 400;
pub(super) const MAX_DURATION_MINUTES: u16 = 1440;
pub(super) const MAX_REASON_CHARS: usize = 200;

/// An instant on the wire and in messages: RFC 3339, UTC.
pub(super) fn instant(t: i64) -> String {
    Timestamp::from_second(t).map_or_else(|_| format!("@{t}"), |ts| ts.to_string())
}

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

    pub(super) fn from_jiff(day: civil::Weekday) -> Self {
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

    pub(super) fn minutes_of_day(self) -> u16 {
        u16::from(self.hour) * 60 + u16::from(self.minute)
    }

    pub(super) fn to_civil(self) -> civil::Time {
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
    pub(super) name: String,
    pub(super) tz: TimeZone,
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

string_serde!(Weekday, Weekday::from_str);
string_serde!(TimeOfDay, TimeOfDay::from_str);
string_serde!(Zone, Zone::get);
