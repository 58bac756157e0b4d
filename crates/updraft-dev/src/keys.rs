//! The admin keys: generated on first start, kept in `<data-dir>/admin-keys.json` (0600).

use std::fmt;
use std::io::Write as _;
use std::path::Path;

use s3s::auth::SecretKey;
use serde::{Deserialize, Serialize};

use crate::Error;

/// File name of the admin keys inside the data directory.
pub const ADMIN_KEYS_FILE: &str = "admin-keys.json";

/// The access key pair that may do anything on the dev store.
#[derive(Clone)]
pub struct AdminKeys {
    pub access_key_id: String,
    /// Zeroized on drop; prints as `***`.
    pub secret_access_key: SecretKey,
}

impl fmt::Debug for AdminKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminKeys")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"***")
            .finish()
    }
}

/// The file's form. (s3s's `SecretKey` serialises as a placeholder, on purpose, so the
/// secret goes through this plain, zeroized string instead.)
#[derive(Serialize, Deserialize)]
struct KeysFile {
    access_key_id: String,
    secret_access_key: zeroize::Zeroizing<String>,
}

const KEY_ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn random_string(alphabet: &[u8], len: usize) -> Result<String, getrandom::Error> {
    let mut raw = vec![0u8; len];
    getrandom::fill(&mut raw)?;
    // Both alphabets have a power-of-two length, so `% len` is unbiased.
    Ok(raw
        .iter()
        .map(|b| char::from(alphabet[usize::from(*b) % alphabet.len()]))
        .collect())
}

impl AdminKeys {
    /// Reads the keys from `dir`, or makes new ones and writes them (mode 0600, written
    /// to a temporary file and renamed).
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read or written, [`Error::Config`] when it
    /// exists but is not the JSON this function writes.
    pub fn load_or_create(dir: &Path) -> Result<AdminKeys, Error> {
        let path = dir.join(ADMIN_KEYS_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => {
                let file: KeysFile = serde_json::from_slice(&bytes).map_err(|e| Error::Config {
                    detail: format!(
                        "{} is not valid ({e}); delete it to get new admin keys",
                        path.display()
                    ),
                })?;
                return Ok(AdminKeys {
                    access_key_id: file.access_key_id,
                    secret_access_key: SecretKey::from(file.secret_access_key.as_str()),
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("read the admin keys", &path, e)),
        }
        let rand_err = |e: getrandom::Error| Error::Config {
            detail: format!("no randomness for the admin keys: {e}"),
        };
        let keys = AdminKeys {
            access_key_id: format!(
                "UPDRAFT{}",
                random_string(KEY_ID_ALPHABET, 13).map_err(rand_err)?
            ),
            secret_access_key: SecretKey::from(
                random_string(SECRET_ALPHABET, 40).map_err(rand_err)?,
            ),
        };
        let file = KeysFile {
            access_key_id: keys.access_key_id.clone(),
            secret_access_key: zeroize::Zeroizing::new(keys.secret_access_key.expose().to_owned()),
        };
        let json = zeroize::Zeroizing::new(serde_json::to_vec_pretty(&file).map_err(|e| {
            Error::Config {
                detail: e.to_string(),
            }
        })?);
        write_private(&path, &json)?;
        Ok(keys)
    }
}

/// Writes `bytes` to `path` atomically with mode 0600.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp).map_err(|e| Error::io("create", &tmp, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| Error::io("set permissions of", &tmp, e))?;
    }
    f.write_all(bytes)
        .map_err(|e| Error::io("write", &tmp, e))?;
    f.sync_all().map_err(|e| Error::io("sync", &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io("rename into place", path, e))?;
    Ok(())
}
