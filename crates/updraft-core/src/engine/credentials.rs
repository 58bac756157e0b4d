//! The engine's credential cache: which keys sign the next request, and when to ask
//! the driver for new ones.
//!
//! Two parts: the keys (`current`, `None` until the first arrive) and where a refresh
//! stands (`Refresh`):
//! ```text
//!           poll_refresh: RefreshCredentials                set_credentials
//!   Idle ─────────────────────────────────────▶ Requested ─────────────────▶ Idle
//!    ▲   (no keys, refresh due, or ExpiredToken       │  │
//!    │    rejected the keys)                           │  │ Transient failure
//!    │                                                 │  ▼
//!    │  set_credentials                                │ RetryAt(t) ──(t comes)──▶ Requested
//!    └──────────────── Unavailable ◀───────────────────┘
//!                 (CredentialsExpired;            SignInExpired failure
//!                  waits for the user)
//! ```
//! One refresh at a time: while one is asked for, no second one is. Temporary keys are
//! still used until shortly before they expire, so requests do not stall during a
//! refresh that starts early.

use crate::Credentials;

/// Whether a credentials provider failed for a moment or needs the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefreshFailure {
    /// The provider could not answer now (network, STS busy): asked again after a pause.
    Transient,
    /// The sign-in token itself expired or was revoked: the user must sign in again.
    SignInExpired,
}

#[derive(Clone, Debug)]
enum Refresh {
    Idle,
    /// Asked for at this time (ms); not asked again until it arrives or fails.
    Requested,
    /// A transient failure: ask again at this time (ms).
    RetryAt(u64),
    /// The user must sign in again.
    Unavailable,
}

#[derive(Clone, Debug)]
pub(super) struct CredentialCache {
    current: Option<Credentials>,
    /// Set when S3 answered ExpiredToken for the current keys.
    rejected: bool,
    refresh: Refresh,
    refresh_ahead_ms: u64,
    /// The refresh lead for the current keys: `refresh_ahead_ms`, or half their lifetime
    /// when they live shorter than twice that (so short sessions do not refresh at once).
    ahead_ms: u64,
    /// Keys this close to expiry are not used: 30 s, or a quarter of a short lifetime.
    margin_ms: u64,
    transient_failures: u32,
    /// The keys looked expired when they arrived although they were just issued: the
    /// device clock is ahead. Their expiry is not trusted until S3 confirmed the clock.
    clock_suspect: bool,
}

/// Keys closer than this to their expiry are not used to sign (a request signed with
/// them could arrive after they expire).
const SAFETY_MARGIN_MS: u64 = 30_000;

impl CredentialCache {
    pub(super) fn new(refresh_ahead_ms: u64) -> Self {
        CredentialCache {
            current: None,
            rejected: false,
            refresh: Refresh::Idle,
            refresh_ahead_ms,
            ahead_ms: refresh_ahead_ms,
            margin_ms: SAFETY_MARGIN_MS,
            transient_failures: 0,
            clock_suspect: false,
        }
    }

    /// New keys at (corrected) time `now_ms`; `clock_verified` tells whether S3 has
    /// confirmed the clock yet.
    pub(super) fn set(&mut self, credentials: Credentials, now_ms: u64, clock_verified: bool) {
        let looks_expired = credentials
            .expiration
            .is_some_and(|exp| expiry_ms(exp.unix()) <= now_ms);
        self.clock_suspect = looks_expired && !clock_verified;
        let lifetime = credentials
            .expiration
            .map(|exp| expiry_ms(exp.unix()).saturating_sub(now_ms))
            .filter(|l| *l > 0 && !self.clock_suspect);
        self.ahead_ms =
            lifetime.map_or(self.refresh_ahead_ms, |l| self.refresh_ahead_ms.min(l / 2));
        self.margin_ms = lifetime.map_or(SAFETY_MARGIN_MS, |l| SAFETY_MARGIN_MS.min(l / 4));
        self.current = Some(credentials);
        self.rejected = false;
        self.refresh = Refresh::Idle;
        self.transient_failures = 0;
    }

    /// S3 confirmed (or corrected) the clock: expiry times can be trusted again.
    pub(super) fn clock_verified(&mut self) {
        self.clock_suspect = false;
    }

    /// Whether the current keys are temporary (a session token or an expiry).
    pub(super) fn temporary(&self) -> bool {
        self.current
            .as_ref()
            .is_some_and(|c| c.session_token.is_some() || c.expiration.is_some())
    }

    /// Keys to sign with now, if any.
    pub(super) fn usable(&self, now_ms: u64) -> Option<&Credentials> {
        let c = self.current.as_ref()?;
        if self.rejected {
            return None;
        }
        match c.expiration {
            Some(_) if self.clock_suspect => Some(c),
            Some(exp) if expiry_ms(exp.unix()) <= now_ms.saturating_add(self.margin_ms) => None,
            _ => Some(c),
        }
    }

    fn refresh_due(&self, now_ms: u64) -> bool {
        match &self.current {
            None => true,
            Some(_) if self.rejected => true,
            Some(_) if self.clock_suspect => false,
            Some(c) => c
                .expiration
                .is_some_and(|exp| expiry_ms(exp.unix()) <= now_ms.saturating_add(self.ahead_ms)),
        }
    }

    /// True when the driver should fetch credentials now; marks the refresh as asked for.
    pub(super) fn poll_refresh(&mut self, now_ms: u64) -> bool {
        let ask = match self.refresh {
            Refresh::Idle => self.refresh_due(now_ms),
            Refresh::RetryAt(at) => now_ms >= at,
            Refresh::Requested | Refresh::Unavailable => false,
        };
        if ask {
            self.refresh = Refresh::Requested;
        }
        ask
    }

    /// When the next refresh falls due, for the driver's timer.
    pub(super) fn next_timeout(&self) -> Option<u64> {
        match self.refresh {
            Refresh::RetryAt(at) => Some(at),
            Refresh::Idle if self.clock_suspect => None,
            Refresh::Idle => {
                let exp = self.current.as_ref()?.expiration?;
                Some(expiry_ms(exp.unix()).saturating_sub(self.ahead_ms))
            }
            _ => None,
        }
    }

    /// S3 said the keys expired or are unknown: stop using them and refresh.
    pub(super) fn reject(&mut self) {
        self.rejected = true;
    }

    /// Returns true when the user must be told (the first `SignInExpired`).
    pub(super) fn failed(&mut self, failure: RefreshFailure, now_ms: u64) -> bool {
        match failure {
            RefreshFailure::Transient => {
                self.transient_failures = self.transient_failures.saturating_add(1);
                let wait = 1_000u64 << self.transient_failures.min(5);
                self.refresh = Refresh::RetryAt(now_ms.saturating_add(wait));
                false
            }
            RefreshFailure::SignInExpired => {
                let first = !matches!(self.refresh, Refresh::Unavailable);
                self.refresh = Refresh::Unavailable;
                first
            }
        }
    }
}

fn expiry_ms(unix_secs: i64) -> u64 {
    u64::try_from(unix_secs).unwrap_or(0).saturating_mul(1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Timestamp;

    fn temp(expires_secs: i64) -> Credentials {
        Credentials::new("ASIA", "s")
            .with_session_token("t")
            .with_expiration(Timestamp::from_unix(expires_secs))
    }

    #[test]
    fn refreshes_ahead_of_expiry_once_and_keeps_signing_meanwhile() {
        let mut c = CredentialCache::new(300_000);
        assert!(c.poll_refresh(0), "no keys yet: ask");
        assert!(!c.poll_refresh(0), "one refresh at a time");
        c.set(temp(3_600), 0, true);
        assert!(!c.poll_refresh(1_000_000));
        assert_eq!(c.next_timeout(), Some(3_300_000));
        assert!(c.poll_refresh(3_300_000));
        assert!(
            c.usable(3_300_000).is_some(),
            "old keys sign until near expiry"
        );
        assert!(
            c.usable(3_580_000).is_none(),
            "not within the safety margin"
        );
    }

    #[test]
    fn rejected_keys_are_not_used_and_sign_in_expiry_is_told_once() {
        let mut c = CredentialCache::new(300_000);
        c.set(temp(3_600), 0, true);
        c.reject();
        assert!(c.usable(0).is_none());
        assert!(c.poll_refresh(0));
        assert!(c.failed(RefreshFailure::SignInExpired, 0));
        assert!(!c.failed(RefreshFailure::SignInExpired, 0));
        assert!(!c.poll_refresh(10_000_000), "waits for the user");
        c.set(temp(7_200), 0, true);
        assert!(c.usable(0).is_some());
    }

    #[test]
    fn transient_failures_are_retried_after_a_pause() {
        let mut c = CredentialCache::new(300_000);
        assert!(c.poll_refresh(0));
        assert!(!c.failed(RefreshFailure::Transient, 0));
        assert!(!c.poll_refresh(1_000));
        assert!(c.poll_refresh(2_000));
    }

    #[test]
    fn keys_that_look_expired_on_arrival_are_used_until_s3_confirms_the_clock() {
        let mut c = CredentialCache::new(300_000);
        c.poll_refresh(0);
        // The device clock is two hours ahead: fresh one-hour keys look expired.
        c.set(temp(3_600), 7_200_000, false);
        assert!(c.usable(7_200_000).is_some());
        assert!(!c.poll_refresh(7_200_000), "no refresh loop");
        c.clock_verified();
        assert!(c.usable(7_200_000).is_none());
        assert!(c.poll_refresh(7_200_000));
    }

    #[test]
    fn short_sessions_refresh_at_half_their_life_not_at_once() {
        let mut c = CredentialCache::new(300_000);
        c.poll_refresh(0);
        // One-minute keys: refreshed after 30 s, still used until 15 s before expiry.
        c.set(temp(60), 0, true);
        assert!(!c.poll_refresh(1_000), "no refresh right after arrival");
        assert_eq!(c.next_timeout(), Some(30_000));
        assert!(c.poll_refresh(30_000));
        assert!(c.usable(44_000).is_some());
        assert!(c.usable(45_000).is_none());
    }

    #[test]
    fn long_term_keys_never_refresh() {
        let mut c = CredentialCache::new(300_000);
        c.poll_refresh(0);
        c.set(Credentials::new("AKIA", "s"), 0, true);
        assert!(!c.temporary());
        assert!(!c.poll_refresh(u64::MAX / 2));
        assert!(c.usable(u64::MAX / 2).is_some());
    }
}
