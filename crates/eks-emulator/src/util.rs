//! Small helpers: time, versions, query strings, percent-decoding, a PRNG.

use std::time::{SystemTime, UNIX_EPOCH};

/// Current wall-clock time as epoch seconds, rounded to milliseconds (as EKS reports them).
pub(crate) fn now_secs() -> f64 {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    round_ms(d.as_secs_f64())
}

pub(crate) fn round_ms(t: f64) -> f64 {
    (t * 1000.0).round() / 1000.0
}

/// Parses "1.30" into (1, 30).
pub(crate) fn parse_minor(v: &str) -> Option<(u32, u32)> {
    let (a, b) = v.split_once('.')?;
    if a.is_empty() || b.is_empty() || b.contains('.') {
        return None;
    }
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// The next minor version: "1.30" -> "1.31".
pub(crate) fn next_minor(v: &str) -> Option<String> {
    parse_minor(v).map(|(a, b)| format!("{a}.{}", b + 1))
}

/// The previous minor version: "1.31" -> "1.30".
pub(crate) fn prev_minor(v: &str) -> Option<String> {
    parse_minor(v).and_then(|(a, b)| b.checked_sub(1).map(|b| format!("{a}.{b}")))
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// Parses "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SS[.fff]Z" into epoch seconds.
pub(crate) fn parse_date(s: &str) -> Option<f64> {
    let s = s.trim();
    let (date, time) = match s.split_once(['T', ' ']) {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let mut parts = date.split('-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    if parts.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let mut secs = days_from_civil(y, m, d) as f64 * 86400.0;
    if let Some(t) = time {
        let t = t.trim_end_matches('Z');
        let mut hp = t.split(':');
        let h: f64 = hp.next()?.parse().ok()?;
        let mi: f64 = hp.next().unwrap_or("0").parse().ok()?;
        let se: f64 = hp.next().unwrap_or("0").parse().ok()?;
        secs += h * 3600.0 + mi * 60.0 + se;
    }
    Some(secs)
}

/// Adds calendar months to a date given as epoch seconds (keeps the day of month when it exists).
pub(crate) fn add_months(epoch: f64, months: i64) -> f64 {
    let days = (epoch / 86400.0).floor() as i64;
    let rem = epoch - days as f64 * 86400.0;
    let (y, m, d) = civil_from_days(days);
    let total = y * 12 + (m as i64 - 1) + months;
    let (ny, nm) = (total.div_euclid(12), total.rem_euclid(12) as u32 + 1);
    let dim = days_in_month(ny, nm);
    days_from_civil(ny, nm, d.min(dim)) as f64 * 86400.0 + rem
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Epoch seconds as ISO 8601 UTC with milliseconds, e.g. "2026-12-01T02:08:48.123Z".
pub(crate) fn iso8601(epoch: f64) -> String {
    let ms = (epoch * 1000.0).round() as i64;
    let (secs, ms) = (ms.div_euclid(1000), ms.rem_euclid(1000));
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Decodes %XX escapes (and '+' as space when `plus_is_space`). Invalid escapes stay literal.
pub(crate) fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses a query string into decoded (key, value) pairs, keeping repeats and order.
pub(crate) fn parse_query(q: Option<&str>) -> Vec<(String, String)> {
    let Some(q) = q else { return Vec::new() };
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (percent_decode(k, true), percent_decode(v, true)),
            None => (percent_decode(p, true), String::new()),
        })
        .collect()
}

/// A tiny deterministic PRNG (SplitMix64), enough for fault injection.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub(crate) fn new(seed: Option<u64>) -> Self {
        let seed = seed.unwrap_or_else(|| {
            let t = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos() as u64;
            t ^ (uuid::Uuid::new_v4().as_u128() as u64)
        });
        SplitMix64(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A float in [0, 1).
    pub(crate) fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A stable UUID-shaped id derived from some text (for insight ids and the like).
pub(crate) fn stable_id(text: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut h1 = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h1);
    let a = h1.finish();
    let mut h2 = std::collections::hash_map::DefaultHasher::new();
    (text, 0x5eed_u32).hash(&mut h2);
    let b = h2.finish();
    let v = ((a as u128) << 64 | b as u128) & !(0xF000u128 << 64) | (0x4000u128 << 64);
    let v = v & !(0xC000u128 << 48) | (0x8000u128 << 48);
    uuid::Uuid::from_u128(v).to_string()
}

/// Lowercase hex of some bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(parse_minor("1.30"), Some((1, 30)));
        assert_eq!(parse_minor("1.30.1"), None);
        assert_eq!(parse_minor("x"), None);
        assert_eq!(next_minor("1.30").as_deref(), Some("1.31"));
        assert_eq!(prev_minor("1.30").as_deref(), Some("1.29"));
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-01"), Some(0.0));
        assert_eq!(parse_date("2024-09-26"), Some(1727308800.0));
        assert_eq!(parse_date("2024-09-26T00:00:01Z"), Some(1727308801.0));
        let d = parse_date("2024-09-26").unwrap();
        assert_eq!(add_months(d, 26), parse_date("2026-11-26").unwrap());
        assert_eq!(
            add_months(parse_date("2024-01-31").unwrap(), 1),
            parse_date("2024-02-29").unwrap()
        );
        assert_eq!(parse_date("2024-13-01"), None);
        assert_eq!(iso8601(1727308801.5), "2024-09-26T00:00:01.500Z");
        assert_eq!(iso8601(0.0), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn query_and_decode() {
        let q = parse_query(Some("a=1&b=x%2Fy&a=2&c=d+e&flag"));
        assert_eq!(
            q,
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "x/y".into()),
                ("a".into(), "2".into()),
                ("c".into(), "d e".into()),
                ("flag".into(), "".into())
            ]
        );
        assert_eq!(percent_decode("100%", false), "100%");
        assert_eq!(percent_decode("%zz", false), "%zz");
        assert_eq!(percent_decode("a+b", false), "a+b");
    }

    #[test]
    fn prng_range() {
        let mut r = SplitMix64::new(Some(7));
        for _ in 0..1000 {
            let f = r.next_f64();
            assert!((0.0..1.0).contains(&f));
        }
    }

    #[test]
    fn stable_ids() {
        assert_eq!(stable_id("x"), stable_id("x"));
        assert_ne!(stable_id("x"), stable_id("y"));
        assert!(uuid::Uuid::parse_str(&stable_id("x")).is_ok());
        assert_eq!(unhex(&hex(b"offset=5")).unwrap(), b"offset=5");
    }
}
