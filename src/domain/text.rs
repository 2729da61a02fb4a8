//! Small text helpers shared by the domain: how a value is quoted in an error, how a duration
//! is written for operators. A leaf: imports nothing from the domain.

/// `text` quoted for an error message, cut to 40 characters (an event may carry anything).
pub fn shown(text: &str) -> String {
    let mut head: String = text.chars().take(40).collect();
    if head.len() < text.len() {
        head.push('…');
    }
    format!("{head:?}")
}

/// A duration for people: `45s`, `12m05s`, `3h20m`.
pub fn human_duration(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        0..=59 => format!("{secs}s"),
        60..=3599 => format!("{}m{:02}s", secs / 60, secs % 60),
        _ => format!("{}h{:02}m", secs / 3600, (secs % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_and_quoted() {
        assert_eq!(shown("1.3a"), "\"1.3a\"");
        let long = "x".repeat(100);
        assert_eq!(shown(&long), format!("\"{}…\"", "x".repeat(40)));
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(human_duration(-5), "0s");
        assert_eq!(human_duration(59), "59s");
        assert_eq!(human_duration(725), "12m05s");
        assert_eq!(human_duration(12_000), "3h20m");
    }
}
