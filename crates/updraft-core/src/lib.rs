//! The sans-IO core of updraft.
//!
//! Start with [`engine`]: its docs say what a driver calls, in which order. The other
//! modules are the wire layer it stands on.
//!
//! # In scope
//! - [`engine`]: the upload engine — per-file state machines, a scheduler across files,
//!   retries, credentials with refresh ahead of expiry, clock-skew correction, resume
//!   records, validation, progress events.
//! - [`plan`]: part sizes within S3's limits; [`retry`]: backoff and the one table that
//!   classifies failures.
//! - [`sigv4`]: AWS Signature Version 4 — header auth, presigned URLs, POST-policy
//!   signing, session tokens, signed and `UNSIGNED-PAYLOAD` bodies.
//! - [`s3`]: S3 request builders and response parsers for the operations an uploader
//!   needs (single PUT, POST form, multipart, listing, errors), path- and
//!   virtual-hosted-style addressing.
//! - [`sts`] and [`cognito`]: `AssumeRoleWithWebIdentity` and the Cognito Identity
//!   `GetId` / `GetCredentialsForIdentity` calls.
//! - [`checksum`]: CRC32C and CRC64NVME, per part and combined into whole-object values.
//! - [`object`]: key templates, content types, user metadata, ACL, storage class, SSE.
//! - [`base64`]: the standard base64 encoding S3 headers and POST policies use;
//!   [`json`]: the small JSON reader and writer of the Cognito bodies, POST policies and
//!   resume records.
//! - [`text`]: [`cat!`], `format!` without `core::fmt` (whose machinery is wasm size),
//!   for every message, URL and header value the core writes.
//! - [`text`]: [`cat!`], `format!` without `core::fmt` (its machinery is wasm size), for
//!   every message, URL and header value the core writes.
//!
//! # Out of scope
//! No I/O, no clock and no randomness: a [`http::Request`] is a description a driver
//! sends, a response is bytes a driver hands back, and the time of day and any random
//! seed come in as arguments. Drivers (the browser library, the CLI) do the sending.

pub mod base64;
pub mod checksum;
pub mod cognito;
pub mod credentials;
pub mod engine;
mod error;
pub mod http;
pub mod json;
pub mod object;
pub mod plan;
pub mod retry;
pub mod s3;
pub mod sigv4;
pub mod sts;
pub mod text;
pub mod timestamp;
mod xml;

pub use credentials::{Credentials, Secret};
pub use error::Error;
pub use timestamp::Timestamp;
