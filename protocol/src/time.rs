//! Stream's timestamps: RFC 3339 in UTC with nanosecond precision
//! (`2025-08-01T00:07:30.504563511Z`), as Unix nanoseconds in code. No date-time dependency.
//!
//! Writers use [`format_rfc3339`] (fixed width, so the strings sort like the times). Readers of
//! what a server wrote use [`parse_rfc3339`] (an offset is required); a server reading times
//! that clients send uses [`parse_rfc3339_or_naive`], which also takes the offset-less form
//! Python's `datetime.isoformat()` produces, as UTC.
//!
//! ```
//! use stream_chat_protocol::time;
//!
//! let t = time::parse_rfc3339("2020-11-02T18:36:01.125136Z").unwrap();
//! assert_eq!(time::format_rfc3339(t), "2020-11-02T18:36:01.125136000Z");
//! assert!(time::now_nanos() > t);
//! ```

use std::time::{SystemTime, UNIX_EPOCH};

/// Nanoseconds in a second.
const NANOS: i128 = 1_000_000_000;

/// Now, in nanoseconds since the Unix epoch (the system clock; 0 if it reads before 1970).
///
/// ```
/// assert!(stream_chat_protocol::time::now_nanos() > 1_600_000_000 * 1_000_000_000);
/// ```
pub fn now_nanos() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i128::try_from(d.as_nanos()).unwrap_or(i128::MAX))
}

/// Now, in whole seconds since the Unix epoch (JWT `exp`/`iat`/`nbf` use these).
///
/// ```
/// use stream_chat_protocol::time;
/// assert_eq!(time::now_secs(), i64::try_from(time::now_nanos() / 1_000_000_000).unwrap());
/// ```
pub fn now_secs() -> i64 {
    i64::try_from(now_nanos().div_euclid(NANOS)).unwrap_or(i64::MAX)
}

/// Now as Stream writes it: [`format_rfc3339`] of [`now_nanos`].
///
/// ```
/// let now = stream_chat_protocol::time::now_rfc3339();
/// assert!(now.ends_with('Z') && now.len() == 30, "{now}");
/// ```
pub fn now_rfc3339() -> String {
    format_rfc3339(now_nanos())
}

/// `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`: UTC, always nine fractional digits.
///
/// ```
/// use stream_chat_protocol::time::format_rfc3339;
/// assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00.000000000Z");
/// assert_eq!(format_rfc3339(-1), "1969-12-31T23:59:59.999999999Z");
/// ```
pub fn format_rfc3339(nanos: i128) -> String {
    let secs = i64::try_from(nanos.div_euclid(NANOS)).unwrap_or(0);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:09}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        nanos.rem_euclid(NANOS)
    )
}

/// Parses an RFC 3339 time, `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` (`t`/`z` and a space
/// separator accepted), into nanoseconds since the Unix epoch (negative before 1970).
/// Fraction digits beyond the ninth are ignored. `None` if it is not one, including a time
/// without an offset.
///
/// ```
/// use stream_chat_protocol::time::parse_rfc3339;
/// assert_eq!(parse_rfc3339("1970-01-01T00:00:01.5Z"), Some(1_500_000_000));
/// assert_eq!(parse_rfc3339("1970-01-01T02:00:01.5+02:00"), Some(1_500_000_000));
/// assert_eq!(parse_rfc3339("1970-01-01T00:00:01"), None);
/// ```
pub fn parse_rfc3339(text: &str) -> Option<i128> {
    parse(text, false)
}

/// Like [`parse_rfc3339`], and a time without an offset counts as UTC (Python's naive
/// `isoformat()`, e.g. `2020-11-02T18:36:01.125000`). For times clients send to a server.
///
/// ```
/// use stream_chat_protocol::time::parse_rfc3339_or_naive;
/// assert_eq!(parse_rfc3339_or_naive("1970-01-01T00:00:01"), Some(1_000_000_000));
/// assert_eq!(parse_rfc3339_or_naive("1970-01-01T00:00:01Z"), Some(1_000_000_000));
/// ```
pub fn parse_rfc3339_or_naive(text: &str) -> Option<i128> {
    parse(text, true)
}

fn parse(text: &str, naive_is_utc: bool) -> Option<i128> {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(range)?;
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| part.iter().fold(0_i64, |n, d| n * 10 + i64::from(d - b'0')))
    };
    let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if separators.iter().any(|&(i, c)| b.get(i) != Some(&c))
        || !matches!(b.get(10), Some(b'T' | b't' | b' '))
    {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    // Bytes 0..19 are ASCII (checked above), so 19 is a char boundary.
    let mut rest = &text[19..];
    let mut nanos: i128 = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let len = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 {
            return None;
        }
        nanos = fraction[..len]
            .bytes()
            .chain(std::iter::repeat(b'0'))
            .take(9)
            .fold(0, |n, d| n * 10 + i128::from(d - b'0'));
        rest = &fraction[len..];
    }
    let offset_secs: i64 = match rest.as_bytes() {
        [] if naive_is_utc => 0,
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let field = |a: &u8, b: &u8| -> Option<i64> {
                (a.is_ascii_digit() && b.is_ascii_digit())
                    .then(|| i64::from(a - b'0') * 10 + i64::from(b - b'0'))
            };
            let secs = field(h1, h2)? * 3600 + field(m1, m2)? * 60;
            if *sign == b'+' { secs } else { -secs }
        }
        _ => return None,
    };
    let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
        - offset_secs;
    Some(i128::from(secs) * NANOS + nanos)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (inverse of [`civil_from_days`]).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(
            format_rfc3339(1_604_342_161_125_136_000),
            "2020-11-02T18:36:01.125136000Z"
        );
        assert_eq!(
            format_rfc3339(951_782_400_000_000_001),
            "2000-02-29T00:00:00.000000001Z"
        );
        assert_eq!(
            format_rfc3339(-62_135_596_800_000_000_000),
            "0001-01-01T00:00:00.000000000Z"
        );
    }

    /// What the SDK reads from servers (the assertions of the SDK's former copy).
    #[test]
    fn rfc3339_parses_what_servers_send() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2020-11-02T18:36:01.125136Z"),
            Some(1_604_342_161_125_136_000)
        );
        assert_eq!(
            parse_rfc3339("2020-11-02T18:36:01.125136000Z"),
            parse_rfc3339("2020-11-02T19:36:01.125136+01:00")
        );
        assert_eq!(
            parse_rfc3339("2000-02-29T00:00:00.000000001Z"),
            Some(951_782_400_000_000_001)
        );
        assert!(parse_rfc3339("0001-01-01T00:00:00Z").unwrap() < 0);
        // Variable-length fractions still compare as times.
        assert!(parse_rfc3339("2020-01-01T00:00:01.1Z") > parse_rfc3339("2020-01-01T00:00:01.09Z"));
        for bad in [
            "",
            "2020-01-01",
            "2020-13-01T00:00:00Z",
            "2020-01-01T00:00:00",
            "2020-01-01T00:00:00.Z",
            "2020-01-01T0a:00:00Z",
            "2020-01-01T00x00:00Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    /// What the server reads from clients (the assertions of the server's former copy).
    #[test]
    fn parses_what_it_formats_and_what_clients_send() {
        for nanos in [0, 951_782_400_000_000_001, 1_604_342_161_125_136_000, -1] {
            assert_eq!(parse_rfc3339(&format_rfc3339(nanos)), Some(nanos));
        }
        let ms = 1_604_342_161_125_000_000;
        for text in [
            "2020-11-02T18:36:01.125Z",        // JS Date#toISOString
            "2020-11-02T18:36:01.125000",      // Python isoformat, naive
            "2020-11-02T20:36:01.125+02:00",   // offset
            "2020-11-02t18:36:01.1250000009z", // lowercase, extra digits ignored
        ] {
            assert_eq!(parse_rfc3339_or_naive(text), Some(ms), "{text}");
        }
        assert_eq!(
            parse_rfc3339_or_naive("0001-01-01T00:00:00Z"),
            Some(-62_135_596_800_000_000_000)
        );
        for bad in [
            "",
            "2020-11-02",
            "2020-13-02T00:00:00Z",
            "2020-11-02T00:00:00.Z",
            "2020-11-02T00:00:00+0200",
            "2020-11-02T00:00:00Zjunk",
            "２０２０-11-02T00:00:00Z",
            "2020-11-02T00:00:0é",
        ] {
            assert_eq!(parse_rfc3339_or_naive(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_clock_reads_after_2020() {
        assert!(now_nanos() > 1_577_836_800 * NANOS);
        assert!(parse_rfc3339(&now_rfc3339()).is_some());
    }
}
