//! Points in time as the wire formats write them. The core never reads a clock:
//! drivers pass the current [`Timestamp`] in.

use std::fmt;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::Error;

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

    fn civil(self) -> OffsetDateTime {
        // Out-of-range values clamp to the edges `time` supports (years ±9999).
        OffsetDateTime::from_unix_timestamp(self.0).unwrap_or(if self.0 < 0 {
            time::PrimitiveDateTime::MIN.assume_utc()
        } else {
            time::PrimitiveDateTime::MAX.assume_utc()
        })
    }

    /// `YYYYMMDD'T'HHMMSS'Z'`, the form of `X-Amz-Date`.
    pub fn amz_date(self) -> String {
        let t = self.civil();
        format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }

    /// `YYYYMMDD`, the date of a SigV4 credential scope.
    pub fn date_stamp(self) -> String {
        let t = self.civil();
        format!("{:04}{:02}{:02}", t.year(), u8::from(t.month()), t.day())
    }

    /// `YYYY-MM-DDTHH:MM:SS.000Z`, the form of a POST policy's `expiration`.
    pub fn iso8601_millis(self) -> String {
        let t = self.civil();
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }

    /// Parses an RFC 3339 / ISO 8601 time such as `2019-11-09T13:34:41Z` (STS
    /// `Expiration`, S3 `ServerTime`, `LastModified`). Fractions of a second are dropped.
    ///
    /// # Errors
    /// [`Error::InvalidResponse`] naming `what` when `s` is not such a time.
    pub fn parse_rfc3339(s: &str, what: &'static str) -> Result<Self, Error> {
        OffsetDateTime::parse(s.trim(), &Rfc3339)
            .map(|t| Timestamp(t.unix_timestamp()))
            .map_err(|_| Error::InvalidResponse {
                what,
                detail: format!("{s:?} is not an RFC 3339 time"),
            })
    }

    /// Parses an HTTP `Date` header (`Sun, 06 Nov 1994 08:49:37 GMT`).
    ///
    /// # Errors
    /// [`Error::InvalidResponse`] when `s` is not an HTTP date.
    pub fn parse_http_date(s: &str) -> Result<Self, Error> {
        let t = httpdate::parse_http_date(s.trim()).map_err(|_| Error::InvalidResponse {
            what: "Date header",
            detail: format!("{s:?} is not an HTTP date"),
        })?;
        let secs = t
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Ok(Timestamp(secs))
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
    fn extreme_values_do_not_panic() {
        let _ = Timestamp(i64::MAX).amz_date();
        let _ = Timestamp(i64::MIN).date_stamp();
    }
}
