//! The server key, and the temporary keys minted with it: access key ids, their derived
//! secrets, and the HMAC-sealed session tokens that carry who they were issued to.

use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use hmac::Mac as _;
use http::StatusCode;
use serde::{Deserialize, Serialize};

use super::{Sts, StsErr};
use crate::Error;
use crate::keys::write_private;
use crate::oidc::now_s;

/// File name of the server key that signs session tokens.
const STS_KEY_FILE: &str = "sts-key";
/// The prefix of temporary access key ids, as AWS's.
pub(super) const TEMP_PREFIX: &str = "ASIA";

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// The server key (32 bytes), read from or made in the data directory.
pub(crate) fn load_or_create_key(dir: &Path) -> Result<Arc<[u8; 32]>, Error> {
    let path = dir.join(STS_KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .ok()
                .and_then(|v| <[u8; 32]>::try_from(v).ok())
                .ok_or_else(|| Error::Config {
                    detail: format!(
                        "{} is not a base64 32-byte key; delete it (issued temporary keys stop working)",
                        path.display()
                    ),
                })?;
            Ok(Arc::new(raw))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut k = [0u8; 32];
            getrandom::fill(&mut k).map_err(|e| Error::Config {
                detail: format!("no randomness for the STS key: {e}"),
            })?;
            let text = base64::engine::general_purpose::STANDARD.encode(k);
            write_private(&path, text.as_bytes())?;
            Ok(Arc::new(k))
        }
        Err(e) => Err(Error::io("read the STS key", &path, e)),
    }
}

/// What a session token carries.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Session {
    pub(super) akid: String,
    pub(super) exp: u64,
    pub(super) sub: String,
    pub(super) iss: String,
    pub(super) aud: String,
    pub(super) role: String,
    pub(super) session: String,
}

/// HMAC-SHA256 of the concatenated `parts` under the server key.
pub(crate) fn mac(key: &[u8; 32], parts: &[&[u8]]) -> Vec<u8> {
    // HMAC takes keys of any length; a 32-byte key cannot fail.
    let mut m = <HmacSha256 as hmac::Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().to_vec()
}

/// The secret key of the temporary access key id `akid`.
pub(super) fn secret_for(key: &[u8; 32], akid: &str) -> String {
    let raw = mac(key, &[b"secret\0", akid.as_bytes()]);
    base64::engine::general_purpose::STANDARD.encode(&raw[..30])
}

fn seal(key: &[u8; 32], s: &Session) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let json = serde_json::to_vec(s).unwrap_or_default();
    let sig = mac(key, &[b"session\0", &json]);
    format!("{}.{}", b64.encode(&json), b64.encode(sig))
}

/// The session a token carries, if `key` sealed it.
pub(super) fn open(key: &[u8; 32], token: &str) -> Option<Session> {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (payload, sig) = token.split_once('.')?;
    let json = b64.decode(payload).ok()?;
    let sig = b64.decode(sig).ok()?;
    let mut m = <HmacSha256 as hmac::Mac>::new_from_slice(key).ok()?;
    m.update(b"session\0");
    m.update(&json);
    m.verify_slice(&sig).ok()?;
    serde_json::from_slice(&json).ok()
}

/// Temporary keys just issued.
pub(crate) struct Issued {
    pub(crate) access_key_id: String,
    pub(crate) secret: zeroize::Zeroizing<String>,
    pub(crate) session_token: String,
    /// Unix seconds.
    pub(crate) expires: u64,
}

impl Sts {
    /// Issues temporary keys of `role_arn` for an identity.
    pub(crate) fn issue(
        &self,
        sub: &str,
        iss: &str,
        aud: &str,
        role_arn: &str,
        session: &str,
        duration: u32,
    ) -> Result<Issued, StsErr> {
        let mut raw = [0u8; 16];
        getrandom::fill(&mut raw).map_err(|_| {
            StsErr(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalFailure",
                "No randomness.".into(),
            )
        })?;
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let akid: String = std::iter::once(TEMP_PREFIX.to_owned())
            .chain(
                raw.iter()
                    .map(|b| char::from(alphabet[usize::from(*b) % 32]).to_string()),
            )
            .collect();
        let exp = now_s() + u64::from(duration);
        let s = Session {
            akid: akid.clone(),
            exp,
            sub: sub.to_owned(),
            iss: iss.to_owned(),
            aud: aud.to_owned(),
            role: role_arn.to_owned(),
            session: session.to_owned(),
        };
        Ok(Issued {
            session_token: seal(&self.key, &s),
            secret: zeroize::Zeroizing::new(secret_for(&self.key, &akid)),
            access_key_id: akid,
            expires: exp,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_sessions_open_and_altered_ones_do_not() {
        let key = [7u8; 32];
        let s = Session {
            akid: "ASIAAAAAAAAAAAAAAAAA".into(),
            exp: 10,
            sub: "alice".into(),
            iss: "http://127.0.0.1:4182".into(),
            aud: "updraft-dev".into(),
            role: "r".into(),
            session: "s".into(),
        };
        let t = seal(&key, &s);
        assert_eq!(open(&key, &t).map(|s| s.sub), Some("alice".into()));
        for i in 0..t.len() {
            let mut b = t.clone().into_bytes();
            b[i] = if b[i] == b'A' { b'B' } else { b'A' };
            let altered = String::from_utf8(b).unwrap();
            if altered != t {
                assert!(open(&key, &altered).is_none(), "byte {i}");
            }
        }
        assert!(open(&[8u8; 32], &t).is_none());
    }
}
