//! The local stack of updraft as a library: what `updraft dev` runs.
//!
//! In scope (issue 4, part 1): an S3-compatible store that behaves like AWS, and the
//! command that runs it.
//! - Protocol, request parsing and **signature verification by [`s3s`]** (header SigV4,
//!   presigned URLs, POST policies, aws-chunked bodies): an implementation independent of
//!   `updraft-core`'s signer, so the tests mean something.
//! - A durable backend of our own ([`store`]): object bytes in files named by random ids
//!   (never by S3 keys), written to a temporary file, fsynced and renamed before the
//!   metadata commits; metadata in **redb**.
//! - Bucket CORS evaluated as S3 does ([`cors`]), in a front service around s3s's.
//! - Admin keys generated on first start (`admin-keys.json`, mode 0600); `stack.json`
//!   describes the running stack.
//!
//! Issue 5 (part 2): who may upload what.
//! - A dev OpenID Connect issuer on its own origin ([`oidc`]).
//! - STS `AssumeRoleWithWebIdentity` on the S3 origin, as MinIO serves it, issuing
//!   temporary keys with HMAC-signed session tokens, checked on every S3 request made
//!   with them (`sts/`).
//! - The role's IAM policy, evaluated with `iam-rs` on those requests ([`policy`]);
//!   the admin keys stay all-powerful.
//!
//! - Cognito Identity `GetId` + `GetCredentialsForIdentity` for guests and signed-in
//!   users ([`cognito`]).
//!
//! - Other issuers trusted through `trusted_issuers`, over `http://` or `https://`
//!   (rustls, Mozilla's roots plus an `issuer_ca` for a private CA).
//! - The demo app on its own origin (`app.rs`): the page, its `config.json`, and the
//!   browser package under `/pkg/` when it is built.
//!
//! Issue 18: a fault mode ([`faults`]): seeded 500s, 503s, `SlowDown`, resets, stalls,
//! early `ExpiredToken`s and answers lost after the request was carried out.
//!
//! Virtual-hosted style only as `BUCKET.localhost:PORT` (browsers send `*.localhost` to
//! loopback), for clients that address buckets by host name alone (Fine Uploader S3).
//!
//! Not in scope: versioning, UploadPartCopy, tagging, ACL grants (canned ACLs work),
//! bucket policies, virtual-hosted style on other host names.
//!
//! Known limits, from s3s 0.14: a POST-object upload's file is buffered in memory before
//! it reaches the backend (S3's 5 GB POST limit applies), and a `${filename}` in the form's
//! `key` is kept literally rather than replaced by the uploaded file's name.
//!
//! ```text
//!   app origin (:4180)   S3 origin (:4181)                          issuer (:4182)
//!   plain page           Front: CORS preflights, CORS headers, log  discovery, JWKS,
//!                          ├ `/` with Action=… → STS                 /authorize, /token
//!                          └ s3s::S3Service: parsing, SigV4, POST policy
//!                              ├ StackAuth: admin key, or ASIA… key's derived secret
//!                              ├ StackAccess: session token, then the role's policy
//!                              └ Backend (s3.rs): the operations
//!                                  └ Store: redb metadata + objects/<id>
//! ```
//!
//! ## Why redb
//! redb is an embedded, transactional (ACID, copy-on-write, fsync on commit) ordered
//! key-value store in pure Rust: no C compiler in the build, a short cold build, and
//! ordered tuple keys `(bucket, key)` give ListObjectsV2 its S3 order (UTF-8 bytes) by a
//! range scan. The store needs no SQL; SQLite would add a C build for nothing.
//!
//! ## Defaults
//! App origin `http://127.0.0.1:4180` ([`DEFAULT_APP_PORT`]), S3 origin and STS
//! `http://127.0.0.1:4181` ([`DEFAULT_S3_PORT`]), issuer `http://127.0.0.1:4182`
//! ([`DEFAULT_ISSUER_PORT`]), client and audience `updraft-dev`, role
//! `arn:aws:iam::000000000000:role/updraft-uploader`, data in `./.updraft`
//! ([`DEFAULT_DATA_DIR`]), region `us-east-1`, bucket `uploads` whose CORS rule admits
//! the app origin ([`default_cors_rule`]).

mod app;
pub mod cognito;
pub mod cors;
pub mod faults;
mod front;
#[doc(hidden)]
pub mod fuzzing;
mod keys;
pub mod oidc;
pub mod policy;
mod s3;
mod stack;
pub mod store;
mod sts;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub use keys::{ADMIN_KEYS_FILE, AdminKeys};
pub use stack::{
    DEFAULT_APP_PORT, DEFAULT_BUCKET, DEFAULT_DATA_DIR, DEFAULT_ISSUER_PORT, DEFAULT_REGION,
    DEFAULT_S3_PORT, DevConfig, EXPOSED_HEADERS, ISSUER_URL_FILE, STACK_FILE, Stack, StackInfo,
    default_cors_rule, id_token, id_token_for, start,
};

/// Why the stack could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Another program listens on the port.
    #[error("{addr} is already in use: stop what listens there or pick another port with {flag}")]
    PortInUse {
        addr: SocketAddr,
        flag: &'static str,
    },
    /// Binding failed for another reason.
    #[error(
        "cannot listen on {addr} ({source}); pick another address or port with --bind / {flag}"
    )]
    Bind {
        addr: SocketAddr,
        flag: &'static str,
        source: std::io::Error,
    },
    /// A file or directory of the data directory.
    #[error("cannot {what} {}: {source}", path.display())]
    Io {
        what: String,
        path: PathBuf,
        source: std::io::Error,
    },
    /// The metadata database.
    #[error(
        "cannot use the database {} ({detail}); is another `updraft dev` running on this data directory?",
        path.display()
    )]
    Database { path: PathBuf, detail: String },
    /// A configuration file or stored file that is not valid.
    #[error("{detail}")]
    Config { detail: String },
}

impl Error {
    fn io(what: &str, path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            what: what.to_owned(),
            path: path.to_owned(),
            source,
        }
    }
}
