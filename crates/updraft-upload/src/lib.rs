//! `updraft upload`: the engine of `updraft-core` driven natively — tokio and reqwest
//! (rustls) for the wire, positioned reads for file ranges, the AWS credential chain,
//! progress bars, resume records in the user cache dir.
//!
//! # In scope
//! The [`driver`] loop, the [`config`] resolution of credentials and endpoints, the
//! [`files`] to keys mapping, [`output`] and [`resume`] records, and the command's
//! flags in [`cli`]; every failure is one [`Error`]. The binary (`updraft upload`) only
//! parses flags and calls [`cli::upload`].
//!
//! # Out of scope
//! Anything the engine decides (planning, retries, checksums, credentials timing).

pub mod cli;
pub mod config;
pub mod deploy;
pub mod doctor;
pub mod driver;
mod error;
pub mod files;
pub mod output;
pub mod resume;
pub mod uploads;

pub use error::Error;
