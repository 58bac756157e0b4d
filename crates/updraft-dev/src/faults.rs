//! `updraft dev --faults SPEC`: the store misbehaves on purpose, as a bad network and a
//! busy S3 do, so a page (or the CLI) can be watched coping before its users meet it.
//!
//! Each S3 request (not a CORS preflight, STS or Cognito call) draws one number from a
//! seeded generator (`--faults-seed`, printed at start) and, by the rates of the spec,
//! meets at most one fault:
//!
//! | name            | what the client sees                                                      |
//! |-----------------|---------------------------------------------------------------------------|
//! | `500`           | `500 InternalError` after its body is read                                |
//! | `503`           | `503 ServiceUnavailable` after its body is read                           |
//! | `slowdown`      | `503 SlowDown` ("Please reduce your request rate.") after its body is read |
//! | `reset`         | the connection closed part-way through its body, no answer               |
//! | `stall`         | nothing: the body is not read and no answer comes for [`STALL`]           |
//! | `expired-token` | `400 ExpiredToken` after its body is read, nothing done (only requests that carry a session token in a header or the query) |
//! | `lose-answer`   | the request is carried out, then the connection closes without its answer |
//!
//! Error answers carry the CORS headers of the bucket's rule, as S3's do, so a page sees
//! the status rather than an opaque network error. The order in which concurrent requests
//! draw varies from run to run, so a seed reproduces the sequence of draws, not which
//! request meets which fault.

use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

/// How long a `stall` holds a request before closing its connection (clients give up
/// sooner: the package's and the CLI's stall timeout is 60 s by default).
pub const STALL: Duration = Duration::from_secs(300);

/// One kind of fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    InternalError,
    ServiceUnavailable,
    SlowDown,
    Reset,
    Stall,
    ExpiredToken,
    LoseAnswer,
}

impl Fault {
    /// Every fault, in the order the spec's rates are drawn against and the summary lists.
    pub const ALL: [Fault; 7] = [
        Fault::InternalError,
        Fault::ServiceUnavailable,
        Fault::SlowDown,
        Fault::Reset,
        Fault::Stall,
        Fault::ExpiredToken,
        Fault::LoseAnswer,
    ];

    /// Its name in a spec and in the summary.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Fault::InternalError => "500",
            Fault::ServiceUnavailable => "503",
            Fault::SlowDown => "slowdown",
            Fault::Reset => "reset",
            Fault::Stall => "stall",
            Fault::ExpiredToken => "expired-token",
            Fault::LoseAnswer => "lose-answer",
        }
    }

    fn index(self) -> usize {
        Fault::ALL.iter().position(|f| *f == self).unwrap_or(0)
    }

    /// The status, code and message of a fault answered with an S3 error; `None` for
    /// the faults that answer nothing.
    #[must_use]
    pub fn error(self) -> Option<(http::StatusCode, &'static str, &'static str)> {
        use http::StatusCode as S;
        match self {
            Fault::InternalError => Some((
                S::INTERNAL_SERVER_ERROR,
                "InternalError",
                "We encountered an internal error. Please try again.",
            )),
            Fault::ServiceUnavailable => Some((
                S::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "Service is unable to handle request.",
            )),
            Fault::SlowDown => Some((
                S::SERVICE_UNAVAILABLE,
                "SlowDown",
                "Please reduce your request rate.",
            )),
            Fault::ExpiredToken => Some((
                S::BAD_REQUEST,
                "ExpiredToken",
                "The provided token has expired.",
            )),
            Fault::Reset | Fault::Stall | Fault::LoseAnswer => None,
        }
    }
}

/// The rates of a `--faults` spec, e.g. `503=0.05,reset=0.02,lose-answer=0.01`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FaultSpec {
    rates: [f64; 7],
}

impl FaultSpec {
    /// Parses `name=rate,…`: names from [`Fault::name`], each at most once, rates from 0
    /// to 1 that add up to at most 1.
    ///
    /// # Errors
    /// A message naming the part of the spec that is wrong and what is accepted.
    pub fn parse(spec: &str) -> Result<FaultSpec, String> {
        let names = || {
            Fault::ALL
                .iter()
                .map(|f| f.name())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut out = FaultSpec::default();
        let mut seen = [false; 7];
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let Some((name, rate)) = item.split_once('=') else {
                return Err(format!(
                    "`{item}` is not `name=rate` (e.g. `503=0.05`); the faults are {}",
                    names()
                ));
            };
            let name = name.trim();
            let Some(fault) = Fault::ALL.iter().copied().find(|f| f.name() == name) else {
                return Err(format!(
                    "`{name}` is not a fault; the faults are {}",
                    names()
                ));
            };
            let rate: f64 = match rate.trim().parse() {
                Ok(r) if (0.0..=1.0).contains(&r) => r,
                _ => {
                    return Err(format!(
                        "the rate of `{name}` is `{}`: it is a number from 0 to 1 (0.05 is one request in twenty)",
                        rate.trim()
                    ));
                }
            };
            if seen[fault.index()] {
                return Err(format!("`{name}` is given twice"));
            }
            seen[fault.index()] = true;
            out.rates[fault.index()] = rate;
        }
        if !seen.iter().any(|s| *s) {
            return Err(format!(
                "no fault is given: write `name=rate,…`, e.g. `503=0.05,reset=0.02`; the faults are {}",
                names()
            ));
        }
        let total: f64 = out.rates.iter().sum();
        if total > 1.0 + 1e-9 {
            return Err(format!(
                "the rates add up to {total}: at most 1 (each request meets at most one fault)"
            ));
        }
        Ok(out)
    }

    /// The rate of one fault.
    #[must_use]
    pub fn rate(&self, fault: Fault) -> f64 {
        self.rates[fault.index()]
    }
}

impl fmt::Display for FaultSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for fault in Fault::ALL {
            let rate = self.rate(fault);
            if rate > 0.0 {
                if !first {
                    f.write_str(",")?;
                }
                first = false;
                write!(f, "{}={rate}", fault.name())?;
            }
        }
        Ok(())
    }
}

/// The running fault mode: the spec, its generator and what it has injected.
#[derive(Debug)]
pub struct Faults {
    spec: FaultSpec,
    seed: u64,
    rng: Mutex<StdRng>,
    counts: [AtomicU64; 7],
}

impl Faults {
    /// A fault mode drawing from `seed`.
    #[must_use]
    pub fn new(spec: FaultSpec, seed: u64) -> Faults {
        Faults {
            spec,
            seed,
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
            counts: Default::default(),
        }
    }

    /// The seed it draws from (printed at start, so a run can be repeated).
    #[must_use]
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The spec it runs.
    #[must_use]
    pub fn spec(&self) -> &FaultSpec {
        &self.spec
    }

    /// Draws for one request: the fault it meets, if any. `has_session_token` says
    /// whether `expired-token` can apply (it is not injected on requests that carry none;
    /// such a draw injects nothing).
    pub(crate) fn draw(&self, has_session_token: bool) -> Option<Fault> {
        let x: f64 = match self.rng.lock() {
            Ok(mut rng) => rng.r#gen(),
            Err(poisoned) => poisoned.into_inner().r#gen(),
        };
        let mut edge = 0.0;
        for fault in Fault::ALL {
            edge += self.spec.rate(fault);
            if x < edge {
                if fault == Fault::ExpiredToken && !has_session_token {
                    return None;
                }
                self.counts[fault.index()].fetch_add(1, Ordering::Relaxed);
                return Some(fault);
            }
        }
        None
    }

    /// How many of `fault` it has injected.
    #[must_use]
    pub fn count(&self, fault: Fault) -> u64 {
        self.counts[fault.index()].load(Ordering::Relaxed)
    }

    /// `faults injected: 500=3 503=5 …` — every fault of the spec, also those at 0.
    #[must_use]
    pub fn summary(&self) -> String {
        let mut s = String::from("faults injected:");
        for fault in Fault::ALL {
            if self.spec.rate(fault) > 0.0 {
                s.push_str(&format!(" {}={}", fault.name(), self.count(fault)));
            }
        }
        s
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn r18_a_spec_reads_back_and_bad_specs_say_what_is_wrong() {
        let spec = FaultSpec::parse(
            "503=0.05,slowdown=0.05,reset=0.02,stall=0.01,expired-token=0.01,lose-answer=0.01",
        )
        .unwrap();
        assert_eq!(spec.rate(Fault::ServiceUnavailable), 0.05);
        assert_eq!(spec.rate(Fault::InternalError), 0.0);
        assert_eq!(
            spec.to_string(),
            "503=0.05,slowdown=0.05,reset=0.02,stall=0.01,expired-token=0.01,lose-answer=0.01"
        );
        for (bad, says) in [
            ("", "no fault is given"),
            ("504=0.1", "`504` is not a fault; the faults are 500, 503"),
            ("503", "`503` is not `name=rate`"),
            ("503=0.1,503=0.2", "`503` is given twice"),
            (
                "reset=-0.1",
                "the rate of `reset` is `-0.1`: it is a number from 0 to 1",
            ),
            ("reset=lots", "the rate of `reset` is `lots`"),
            ("reset=NaN", "the rate of `reset` is `NaN`"),
            ("503=0.6,500=0.5", "the rates add up to 1.1"),
        ] {
            let err = FaultSpec::parse(bad).unwrap_err();
            assert!(err.contains(says), "{bad:?}: {err}");
        }
    }

    #[test]
    fn r18_a_seed_repeats_its_draws_and_the_rates_hold() {
        let spec = FaultSpec::parse("500=0.1,reset=0.2,expired-token=0.1").unwrap();
        let a = Faults::new(spec.clone(), 7);
        let b = Faults::new(spec, 7);
        let draws_a: Vec<_> = (0..10_000).map(|i| a.draw(i % 2 == 0)).collect();
        let draws_b: Vec<_> = (0..10_000).map(|i| b.draw(i % 2 == 0)).collect();
        assert_eq!(draws_a, draws_b);
        let near = |n: u64, want: f64| (n as f64 - want).abs() < want * 0.15;
        assert!(
            near(a.count(Fault::InternalError), 1000.0),
            "{}",
            a.summary()
        );
        assert!(near(a.count(Fault::Reset), 2000.0), "{}", a.summary());
        // Only the half of the requests that carry a session token can meet it.
        assert!(near(a.count(Fault::ExpiredToken), 500.0), "{}", a.summary());
        assert_eq!(a.count(Fault::Stall), 0);
        assert_eq!(
            a.summary(),
            format!(
                "faults injected: 500={} reset={} expired-token={}",
                a.count(Fault::InternalError),
                a.count(Fault::Reset),
                a.count(Fault::ExpiredToken)
            )
        );
    }
}
