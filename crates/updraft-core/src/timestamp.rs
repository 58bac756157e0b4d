//! Points in time as the wire formats write them. The core never reads a clock:
//! drivers pass the current [`Timestamp`] in.

use std::fmt;

use crate::Error;

// The calendar arithmetic and the two parsers are the core's own rather than the `time`
// and `httpdate` crates': those came to about 16.6 KB of the browser package's wasm
// (twiggy, wasm-release), against a 30 KB gzip budget for the whole package, for what
// is below. The AWS SigV4 suite and the tests here check them.

/// The seconds of 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: formatting clamps to
/// the years that have four digits.
const MIN_SECS: i64 = -62_167_219_200;
const MAX_SECS: i64 = 253_402_300_799;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of `days` since 1970-01-01 (Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    // In range by construction: d is 1..=31 and m 1..=12.
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Seconds since the epoch of a UTC date and time, checking every field's range (a
/// second of 60, a leap second, counts as 59).
fn from_civil(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<i64> {
    let ok = (1..=12).contains(&mo)
        && d >= 1
        && d <= days_in_month(y, mo)
        && h < 24
        && mi < 60
        && s <= 60;
    ok.then(|| days_from_civil(y, mo, d) * 86_400 + i64::from(h * 3600 + mi * 60 + s.min(59)))
}

/// Appends `n` with at least `width` digits (zero-padded).
fn push_num(out: &mut String, n: i64, width: usize) {
    let digits = crate::cat!("{}", n.unsigned_abs());
    if n < 0 {
        out.push('-');
    }
    for _ in digits.len()..width {
        out.push('0');
    }
    out.push_str(&digits);
}

/// `s` as an unsigned number of exactly `len` ASCII digits.
fn digits(s: &str, len: usize) -> Option<u32> {
    if s.len() != len || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Whole seconds since the Unix epoch, UTC.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The timestamp `secs` seconds after the Unix epoch.
    pub const fn from_unix(secs: i64) -> Self {
        Timestamp(secs)
    }

    /// Seconds since the Unix epoch.
    pub const fn unix(self) -> i64 {
        self.0
    }

    /// This timestamp moved by `secs` seconds (saturating).
    pub const fn add_secs(self, secs: i64) -> Self {
        Timestamp(self.0.saturating_add(secs))
    }

    /// `[year, month, day, hour, minute, second]`; out-of-range values clamp to the
    /// years 0000–9999.
    fn civil(self) -> [i64; 6] {
        let t = self.0.clamp(MIN_SECS, MAX_SECS);
        let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
        let (y, m, d) = civil_from_days(days);
        [
            y,
            i64::from(m),
            i64::from(d),
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
        ]
    }

    /// The civil fields with `seps[i]` written before field `i` (`"\0"`: nothing).
    fn format(self, seps: [&str; 6], tail: &str) -> String {
        let mut out = String::new();
        for (i, (v, sep)) in self.civil().into_iter().zip(seps).enumerate() {
            out.push_str(sep);
            push_num(&mut out, v, if i == 0 { 4 } else { 2 });
        }
        out.push_str(tail);
        out
    }

    /// `YYYYMMDD'T'HHMMSS'Z'`, the form of `X-Amz-Date`.
    pub fn amz_date(self) -> String {
        self.format(["", "", "", "T", "", ""], "Z")
    }

    /// `YYYYMMDD`, the date of a SigV4 credential scope.
    pub fn date_stamp(self) -> String {
        let mut s = self.amz_date();
        s.truncate(8);
        s
    }

    /// `YYYY-MM-DDTHH:MM:SS.000Z`, the form of a POST policy's `expiration`.
    pub fn iso8601_millis(self) -> String {
        self.format(["", "-", "-", "T", ":", ":"], ".000Z")
    }

    /// Parses an RFC 3339 / ISO 8601 time such as `2019-11-09T13:34:41Z` (STS
    /// `Expiration`, S3 `ServerTime`, `LastModified`), with `Z` or a `±HH:MM` offset.
    /// Fractions of a second are dropped.
    ///
    /// # Errors
    /// [`Error::InvalidResponse`] naming `what` when `s` is not such a time.
    pub fn parse_rfc3339(s: &str, what: &'static str) -> Result<Self, Error> {
        Self::rfc3339(s.trim()).ok_or_else(|| Error::InvalidResponse {
            what,
            detail: crate::cat!("{} is not an RFC 3339 time", crate::text::Quoted(s)),
        })
    }

    fn rfc3339(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        if b.len() < 20
            || b[4] != b'-'
            || b[7] != b'-'
            || !matches!(b[10], b'T' | b't')
            || b[13] != b':'
            || b[16] != b':'
        {
            return None;
        }
        let n = |r: std::ops::Range<usize>| digits(s.get(r.clone())?, r.len());
        let secs = from_civil(
            i64::from(n(0..4)?),
            n(5..7)?,
            n(8..10)?,
            n(11..13)?,
            n(14..16)?,
            n(17..19)?,
        )?;
        let mut rest = &s[19..];
        if let Some(frac) = rest.strip_prefix('.') {
            let end = frac
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(frac.len());
            if end == 0 {
                return None;
            }
            rest = &frac[end..];
        }
        let offset = match rest.as_bytes() {
            [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
                let (h, m) = (digits(&rest[1..3], 2)?, digits(&rest[4..6], 2)?);
                if h > 23 || m > 59 {
                    return None;
                }
                let o = i64::from(h * 3600 + m * 60);
                if *sign == b'-' { -o } else { o }
            }
            _ => return None,
        };
        Some(Timestamp(secs - offset))
    }

    /// Parses an HTTP `Date` header: IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), or
    /// the obsolete RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime
    /// (`Sun Nov  6 08:49:37 1994`) forms a recipient must also accept (RFC 9110 §5.6.7).
    ///
    /// # Errors
    /// [`Error::InvalidResponse`] when `s` is not an HTTP date.
    pub fn parse_http_date(s: &str) -> Result<Self, Error> {
        Self::http_date(s.trim()).ok_or_else(|| Error::InvalidResponse {
            what: "Date header",
            detail: crate::cat!("{} is not an HTTP date", crate::text::Quoted(s)),
        })
    }

    fn http_date(s: &str) -> Option<Self> {
        // A loop, not adapters and `collect`, whose code is its own (wasm size).
        let mut tokens = Vec::new();
        for token in s.split([' ', ',', '-', ':']) {
            if !token.is_empty() {
                tokens.push(token);
            }
        }
        let (weekday, t) = tokens.split_first()?;
        if weekday.len() < 3 || !weekday.bytes().all(|b| b.is_ascii_alphabetic()) {
            return None;
        }
        let month = |m: &str| Some(MONTHS.iter().position(|n| *n == m)? as u32 + 1);
        let two = |x: &str| digits(x, 2);
        let (y, mo, d, time) = match t {
            [d, mo, y, time @ .., "GMT"] if time.len() == 3 && s.as_bytes().contains(&b',') => {
                let y = match y.len() {
                    4 => i64::from(digits(y, 4)?),
                    // RFC 850's two-digit years: 70–99 are 19xx, the rest 20xx (as the
                    // `httpdate` crate read them).
                    2 => i64::from(two(y)?) + if two(y)? < 70 { 2000 } else { 1900 },
                    _ => return None,
                };
                (y, month(mo)?, two(d)?, time)
            }
            [mo, d, time @ .., y] if time.len() == 3 && !s.as_bytes().contains(&b',') => {
                let d = if d.len() == 1 { digits(d, 1)? } else { two(d)? };
                (i64::from(digits(y, 4)?), month(mo)?, d, time)
            }
            _ => return None,
        };
        let secs = from_civil(y, mo, d, two(time[0])?, two(time[1])?, two(time[2])?)?;
        Some(Timestamp(secs))
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({})", self.amz_date())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses() {
        let t = Timestamp::parse_rfc3339("2015-08-30T12:36:00Z", "test").unwrap();
        assert_eq!(t.amz_date(), "20150830T123600Z");
        assert_eq!(t.date_stamp(), "20150830");
        assert_eq!(t.iso8601_millis(), "2015-08-30T12:36:00.000Z");
        let h = Timestamp::parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT").unwrap();
        assert_eq!(h, t);
        assert_eq!(
            Timestamp::parse_rfc3339("2015-08-30T12:36:00.123Z", "t").unwrap(),
            t
        );
        assert!(Timestamp::parse_rfc3339("yesterday", "t").is_err());
        assert!(Timestamp::parse_http_date("yesterday").is_err());
    }

    #[test]
    fn http_date_forms() {
        let want = Timestamp::parse_rfc3339("1994-11-06T08:49:37Z", "t").unwrap();
        for s in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(Timestamp::parse_http_date(s).unwrap(), want, "{s}");
        }
        for bad in [
            "Sun, 06 Nov 1994 08:49:37",
            "Sun, 31 Feb 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "06 Nov 1994 08:49:37 GMT",
        ] {
            assert!(Timestamp::parse_http_date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rfc3339_offsets_and_ranges() {
        let t = |s: &str| Timestamp::parse_rfc3339(s, "t").map(Timestamp::unix);
        assert_eq!(t("1970-01-01T00:00:00Z").unwrap(), 0);
        assert_eq!(t("1970-01-01T01:00:00+01:00").unwrap(), 0);
        assert_eq!(t("1969-12-31t23:30:00.5-00:30").unwrap(), 0);
        assert_eq!(
            t("2016-12-31T23:59:60Z").unwrap(),
            t("2016-12-31T23:59:59Z").unwrap()
        );
        assert_eq!(t("2000-02-29T00:00:00Z").unwrap(), 951_782_400);
        for bad in [
            "1900-02-29T00:00:00Z",
            "2000-13-01T00:00:00Z",
            "2000-01-01T00:00:00",
            "2000-01-01T00:00:00.Z",
            "2000-01-01 00:00:00Z",
            "2000-01-01T00:00:00+24:00",
        ] {
            assert!(t(bad).is_err(), "{bad}");
        }
    }

    /// Every day from 1600 to 2400 round-trips through the calendar arithmetic.
    #[test]
    fn civil_days_round_trip() {
        let mut days = days_from_civil(1600, 1, 1);
        for y in 1600..2400 {
            for m in 1..=12 {
                for d in 1..=days_in_month(y, m) {
                    assert_eq!(days_from_civil(y, m, d), days);
                    assert_eq!(civil_from_days(days), (y, m, d));
                    days += 1;
                }
            }
        }
    }

    #[test]
    fn extreme_values_do_not_panic() {
        assert_eq!(Timestamp(i64::MAX).amz_date(), "99991231T235959Z");
        assert_eq!(Timestamp(i64::MIN).date_stamp(), "00000101");
        let _ = Timestamp(i64::MAX).amz_date();
        let _ = Timestamp(i64::MIN).date_stamp();
    }
}
