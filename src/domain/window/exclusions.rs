//! Exclusion periods: absolute intervals in which nothing starts, window or not.

use super::super::text::shown;
use super::calendar::{instant, MAX_EXCLUSIONS, MAX_REASON_CHARS};
use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use std::str::FromStr;

/// A period in which no step starts, `[start, end)` in epoch seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ExclusionWire", into = "ExclusionWire")]
pub struct Exclusion {
    pub(super) start: i64,
    pub(super) end: i64,
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

    pub(super) fn contains(&self, t: i64) -> bool {
        self.start <= t && t < self.end
    }

    pub(super) fn describe(&self) -> String {
        let name = self.reason.as_deref().map(|r| format!(" {r:?}")).unwrap_or_default();
        format!("exclusion{name} ({} to {})", instant(self.start), instant(self.end))
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ExclusionWire {
    pub(super) start: Instant,
    pub(super) end: Instant,
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
