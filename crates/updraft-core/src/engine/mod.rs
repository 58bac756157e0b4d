//! The upload engine: plans, per-file state machines, a scheduler across files,
//! retries, credentials and resume — all without I/O, a clock or randomness of its own.
//!
//! # How a driver uses it
//! A driver (the browser library, the CLI) owns one [`Engine`] and runs a loop around it,
//! in the manner of quinn-proto's `Connection`:
//!
//! 1. Feed it what happened, as it happens:
//!    - [`Engine::add`] a file (with a resume record if one was stored for it);
//!    - [`Engine::handle_response`] for every request it sent (or the network error);
//!    - [`Engine::handle_progress`] as a request's body goes out;
//!    - [`Engine::handle_checksum`] with the checksum of a byte range it was asked for,
//!      or [`Engine::handle_read_error`] when the file's bytes cannot be read;
//!    - [`Engine::set_credentials`] / [`Engine::handle_credentials_failure`] after a
//!      [`Action::RefreshCredentials`];
//!    - [`Engine::handle_timeout`] when the time from [`Engine::poll_timeout`] comes;
//!    - user commands: [`Engine::pause`], [`Engine::resume`], [`Engine::cancel`],
//!      [`Engine::retry`], [`Engine::remove`] (and the `_all` forms).
//! 2. Then drain it: call [`Engine::poll_action`] until it returns `None` and do each
//!    action (send a request, compute a checksum, cancel a request, fetch credentials);
//!    call [`Engine::poll_event`] until `None` and show or store each event.
//!    `poll_action` also fires the timeouts due at its `now` (retries that waited long
//!    enough, stalled requests), as [`Engine::handle_timeout`] would.
//! 3. Sleep until the next I/O completion or [`Engine::poll_timeout`], whichever is first.
//!
//! Every call that depends on time takes `now`: milliseconds since the Unix epoch from the
//! device's clock. The engine corrects it for skew when S3 says the clock is off, and signs
//! with the corrected time.
//!
//! # A file's life
//! Each state holds exactly its own data (`state.rs`); this is the whole machine.
//! ```text
//!                 small                                   ┌──────────── retry ──────────────┐
//!  Queued ─┬──────────────▶ ExpectPut ──────────────────▶ Done                             │
//!          │ large                                                                         │
//!          ├──────────────▶ ExpectCreated ──▶ SendingParts ──▶ ExpectCompleted ──▶ Done    │
//!          │ upload to continue    ▲              ▲   │               │ answer lost,       │
//!          │ (record, retry)       │ NoSuchUpload │   │               ▼ then NoSuchUpload  │
//!          └──────────────▶ ExpectListed ─────────┘   │            ExpectHead ──▶ Done     │
//!                              │ changed file         │ fatal error, read error            │
//!                              ▼                      ▼                                    │
//!                   Aborting(then Restart)         Failed ─────────────────────────────────┘
//!                              └──▶ ExpectCreated
//!  cancel (any state) ──▶ Aborting(then Cancel) ──▶ Cancelled
//!
//!  A CreateMultipartUpload whose answer was lost may have made an upload: before such a
//!  file reports Done or Cancelled it passes through
//!    CleaningUp: ListMultipartUploads (page by page) ──▶ AbortMultipartUpload (each
//!    orphan) ──▶ Done / Cancelled        (a failure there reports the outcome anyway)
//! ```
//! Every request a state sends is a task with its own sub-state (`TaskStatus`):
//! ```text
//!  NeedsChecksum ──▶ Checksumming ──▶ Ready ──▶ InFlight ──▶ (answer: next state)
//!    (PutObject and UploadPart,         ▲          │ retryable failure
//!     when checksums are on)            └─ Waiting ◀┘ (backoff; clock or keys fixed: Ready)
//! ```
//! Only `ExpectPut` and `SendingParts` need checksums; `SendingParts` has a task per part
//! on its way, every other state one. Paused is a flag, not a state: a paused file keeps
//! its state, its requests in flight finish, and nothing new is sent for it.
//!
//! # Where the code is
//! `mod.rs` the public API and the user's commands; `state.rs` the states and their data;
//! `schedule.rs` polling (slots, checksums ahead, timeouts, starting files);
//! `request.rs` building a state's request and what is kept of it in flight;
//! `answer.rs` reading answers, one method per state, and failures through the error
//! table; `lifecycle.rs` transitions, endings, progress; `checksums.rs` the checksums
//! each request carries and the whole object's.
//!
//! # Scheduling
//! At most [`EngineConfig::concurrency`] requests are in flight across all files, parts
//! and files sharing the one limit. The first file that can use a slot gets it, so files
//! finish in the order they were added and one large file uses every slot. Checksums are
//! asked for ahead, up to two parts of a file not yet sent, so the next request is signed
//! and ready as soon as a slot frees (a few parts ahead, not more: a driver keeps
//! those bytes in memory). Files not yet started wait in a queue that `poll`
//! never walks: its cost grows with the files in progress, not with the queue.

mod answer;
mod checksums;
mod credentials;
mod event;
mod ids;
mod lifecycle;
mod request;
mod resume;
mod schedule;
mod state;
mod validation;

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

pub use credentials::RefreshFailure;
pub use event::{Completed, Event, FileStatus, Progress, UploadError};
pub use resume::{RecordedPart, ResumeRecord};
pub use validation::Validation;

use crate::checksum::ChecksumAlgorithm;
use crate::http::Request;
use crate::plan::{Plan, PlanConfig};
use crate::retry::RetryConfig;
use crate::s3::{Endpoint, PutOptions};
use crate::sigv4::Signer;
use crate::{Credentials, Error};

use credentials::CredentialCache;
use ids::IdMap;
use lifecycle::End;
use request::InFlight;
use state::{AfterAbort, State, Task, Upload};

/// Parts of one file checksummed ahead of a free request slot. Two keep every slot busy
/// (the next part is signed the moment one ends) while bounding what a driver holds in
/// memory to about `concurrency + 2` parts.
const LOOKAHEAD: usize = 2;

/// Identifies a file within one engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FileId(pub u64);

/// Identifies a request the engine asked to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RequestId(pub u64);

/// How an engine uploads. Defaults: 6 requests at once (a browser's connections per
/// host), CRC64NVME checksums, credentials refreshed 5 minutes before they expire, and
/// the defaults of [`PlanConfig`] and [`RetryConfig`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct EngineConfig {
    pub bucket: String,
    pub endpoint: Endpoint,
    /// Requests in flight at once, across all files and parts.
    pub concurrency: usize,
    /// `CRC32C` (per part, composite), `CRC64NVME` (per part and whole object), or none.
    pub checksum: Option<ChecksumAlgorithm>,
    /// Ask for new temporary credentials this long before they expire.
    pub refresh_ahead_ms: u64,
    pub plan: PlanConfig,
    pub retry: RetryConfig,
    /// Which files are accepted at all.
    pub validation: Validation,
    /// Files of at most this many bytes are sent as a POST Object form
    /// ([`Action::Post`]) instead of PutObject; 0: never. In a browser a form POST is a
    /// CORS simple request, so it skips the preflight every PUT to a new key costs
    /// (`cargo xtask bench browser` measures both); natively PUT costs nothing more.
    pub post_max_size: u64,
    /// More URLs of the bucket (each a host name of its own) that POST forms are spread
    /// over: a browser opens at most 6 connections to a host, so with `n` of them forms go
    /// up to `concurrency` at once to each of the `n + 1` hosts, the rest (PUTs, parts)
    /// `concurrency` at once to the endpoint. A form goes where the fewest are in flight.
    pub form_urls: Vec<String>,
    /// A request that moves no byte for this long is abandoned ([`Action::Cancel`]) and
    /// retried as a network error; 0: never. A request's clock restarts with each
    /// [`Engine::handle_progress`]. A POST form, which reports no progress, gets 1 ms
    /// more per 16 bytes of its file (16 KB/s at the least); a request without a file
    /// body (CompleteMultipartUpload can take minutes) five times as long.
    pub stall_timeout_ms: u64,
}

/// [`EngineConfig::stall_timeout_ms`]'s default: a minute.
pub const STALL_TIMEOUT_MS: u64 = 60_000;

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            bucket: String::new(),
            endpoint: Endpoint::aws("us-east-1"),
            concurrency: 6,
            checksum: Some(ChecksumAlgorithm::Crc64Nvme),
            refresh_ahead_ms: 300_000,
            plan: PlanConfig::default(),
            retry: RetryConfig::default(),
            validation: Validation::default(),
            post_max_size: 0,
            form_urls: Vec::new(),
            stall_timeout_ms: STALL_TIMEOUT_MS,
        }
    }
}

/// A file to upload, as the driver describes it. The engine never reads it: it asks the
/// driver for byte ranges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileSpec {
    /// The file's name, for messages.
    pub name: String,
    pub key: String,
    pub size: u64,
    /// Name, size and last-modified time, or whatever tells this file from another.
    pub fingerprint: String,
    /// Content type, ACL, metadata and the like, sent when the upload starts.
    pub options: PutOptions,
    /// A record stored by an earlier run for this file, to continue from.
    pub resume: Option<ResumeRecord>,
}

/// Something the driver must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Send `request`. When `body` is set, the request's body is that byte range
    /// (`start..end`) of the file. Report the outcome to [`Engine::handle_response`].
    Send {
        id: RequestId,
        file: FileId,
        request: Request,
        body: Option<(u64, u64)>,
    },
    /// Compute `algorithm` over the byte range `start..end` of the file and report it to
    /// [`Engine::handle_checksum`] with the same `file` and `part`.
    Checksum {
        file: FileId,
        part: u32,
        range: (u64, u64),
        algorithm: ChecksumAlgorithm,
    },
    /// Send a POST Object form to `url`: `fields` in this order, then the byte range
    /// `body` of the file as the last field, `file` (a `multipart/form-data` body the
    /// driver builds, e.g. with `FormData`). Report the outcome to
    /// [`Engine::handle_response`]. Only when [`EngineConfig::post_max_size`] is set.
    Post {
        id: RequestId,
        file: FileId,
        url: String,
        fields: Vec<(String, String)>,
        body: (u64, u64),
    },
    /// Stop request `id` (its file was cancelled, or it stalled:
    /// [`EngineConfig::stall_timeout_ms`]); no answer needs reporting.
    Cancel { id: RequestId },
    /// Fetch credentials and call [`Engine::set_credentials`], or
    /// [`Engine::handle_credentials_failure`].
    RefreshCredentials,
}

/// The upload engine. See the [module docs](self) for how to drive it.
#[derive(Debug)]
pub struct Engine {
    config: EngineConfig,
    rng: fastrand::Rng,
    signer: Signer,
    credentials: CredentialCache,
    /// Seconds to add to the device clock (server minus device).
    clock_offset_secs: i64,
    /// Whether an S3 answer has shown the clock (corrected) to be right.
    clock_verified: bool,
    uploads: IdMap<FileId, Upload>,
    queue: VecDeque<FileId>,
    active: Vec<FileId>,
    /// Paused files (out of `active`, so polling skips them; still counted in progress).
    paused: Vec<FileId>,
    requests: IdMap<RequestId, InFlight>,
    cancels: VecDeque<RequestId>,
    events: VecDeque<Event>,
    next_file: u64,
    next_request: u64,
    checksumming: usize,
    /// Bytes of all files, and bytes of finished ones (kept so totals cost O(1)).
    total_bytes: u64,
    finished_bytes: u64,
    batch_started_ms: Option<u64>,
    all_complete_sent: bool,
}

impl Engine {
    /// An engine with `config`; `seed` drives the retry jitter.
    pub fn new(config: EngineConfig, seed: u64) -> Self {
        Engine {
            credentials: CredentialCache::new(config.refresh_ahead_ms),
            config,
            rng: fastrand::Rng::with_seed(seed),
            signer: Signer::new(),
            clock_offset_secs: 0,
            clock_verified: false,
            uploads: IdMap::new(),
            queue: VecDeque::new(),
            active: Vec::new(),
            paused: Vec::new(),
            requests: IdMap::new(),
            cancels: VecDeque::new(),
            events: VecDeque::new(),
            next_file: 0,
            next_request: 0,
            checksumming: 0,
            total_bytes: 0,
            finished_bytes: 0,
            batch_started_ms: None,
            all_complete_sent: false,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Seconds the engine adds to the device clock, learnt from S3's answers.
    pub fn clock_offset_secs(&self) -> i64 {
        self.clock_offset_secs
    }

    /// The device time `now` corrected by what S3 said of the clock (ms).
    fn server_now(&self, now: u64) -> u64 {
        now.saturating_add_signed(self.clock_offset_secs.saturating_mul(1000))
    }

    /// Queues a file.
    ///
    /// # Errors
    /// [`Error::FileRejected`] for a file the [`Validation`] rules refuse, and
    /// [`Error::ObjectTooLarge`] for one S3 cannot store; nothing is queued then.
    pub fn add(&mut self, spec: FileSpec) -> Result<FileId, Error> {
        crate::object::key::check_len(&spec.name, &spec.key)?;
        self.config.validation.check(
            &spec.name,
            spec.size,
            spec.options.content_type.as_deref(),
            self.uploads.len(),
        )?;
        let plan = Plan::new(spec.size, &self.config.plan)?;
        let id = FileId(self.next_file);
        self.next_file += 1;
        self.total_bytes += spec.size;
        self.all_complete_sent = false;
        self.uploads.insert(id, Upload::new(spec, plan));
        self.queue.push_back(id);
        self.events.push_back(Event::Submitted { file: id });
        self.events.push_back(Event::StatusChanged {
            file: id,
            status: FileStatus::Queued,
        });
        Ok(id)
    }

    /// The file's status, or `None` for an unknown (or removed) file.
    pub fn status(&self, file: FileId) -> Option<FileStatus> {
        self.uploads.get(&file).map(Upload::status)
    }

    /// Files this engine holds, in the order they were added.
    pub fn files(&self) -> impl Iterator<Item = FileId> + '_ {
        self.uploads.keys().copied()
    }

    /// The record to store so that this file's multipart upload can continue after a
    /// crash; `None` when there is nothing to continue (not started, single request,
    /// finished).
    pub fn resume_record(&self, file: FileId) -> Option<ResumeRecord> {
        let u = self.uploads.get(&file)?;
        let plan = u.part_plan()?;
        let upload = u.state.multipart()?;
        // A loop, not adapters and `collect`, whose code is its own (wasm size).
        let mut parts = Vec::new();
        for (i, p) in upload.parts.iter().enumerate() {
            if let Some(p) = p {
                parts.push(RecordedPart {
                    number: i as u32 + 1,
                    etag: p.etag.clone(),
                    crc: p.crc,
                });
            }
        }
        Some(ResumeRecord {
            bucket: self.config.bucket.clone(),
            key: u.spec.key.clone(),
            upload_id: upload.upload_id.clone(),
            size: u.spec.size,
            part_size: plan.part_size,
            fingerprint: u.spec.fingerprint.clone(),
            checksum_algorithm: self.config.checksum.map(|a| a.as_str().to_owned()),
            parts,
        })
    }

    // ---- user commands ---------------------------------------------------------------

    /// Pauses a file: requests in flight finish, nothing new is sent.
    pub fn pause(&mut self, file: FileId) {
        let Some(u) = self.uploads.get_mut(&file) else {
            return;
        };
        if u.finished() || u.paused {
            return;
        }
        u.paused = true;
        self.active.retain(|f| *f != file);
        self.queue.retain(|f| *f != file);
        self.paused.push(file);
        self.status_changed(file);
    }

    /// Resumes a paused file.
    pub fn resume(&mut self, file: FileId) {
        let Some(u) = self.uploads.get_mut(&file) else {
            return;
        };
        if !u.paused {
            return;
        }
        u.paused = false;
        self.all_complete_sent = false;
        self.paused.retain(|f| *f != file);
        if matches!(u.state, State::Queued { .. }) {
            self.queue.push_front(file);
        } else {
            self.active.push(file);
        }
        self.status_changed(file);
    }

    /// Cancels a file: stops its requests and aborts its multipart upload.
    pub fn cancel(&mut self, file: FileId) {
        let Some(u) = self.uploads.get_mut(&file) else {
            return;
        };
        if matches!(u.state, State::Done | State::Cancelled) || u.state.ending() {
            return;
        }
        if matches!(u.state, State::Failed { .. }) {
            // Counted as finished once already; it finishes again as cancelled.
            self.finished_bytes -= u.spec.size;
        }
        // A CreateMultipartUpload on its way may still create an upload: find it later.
        let creating = self.cancel_requests(file);
        self.queue.retain(|f| *f != file);
        self.paused.retain(|f| *f != file);
        self.release_checksums(file);
        let Some(u) = self.uploads.get_mut(&file) else {
            return;
        };
        u.paused = false;
        u.create_uncertain |= creating;
        if !self.active.contains(&file) {
            self.active.push(file);
        }
        if let Some(upload) = u.state.take_multipart() {
            u.state = State::Aborting {
                upload_id: upload.upload_id,
                then: AfterAbort::Cancel,
                task: Task::new(),
            };
        } else if !self.clean_up_first(file, state::Outcome::Cancelled) {
            self.finish(file, End::Cancelled);
        }
        self.status_changed(file);
    }

    /// Starts a failed file again, continuing its multipart upload where it stopped
    /// (ListParts first confirms what S3 holds).
    pub fn retry(&mut self, file: FileId) {
        let Some(u) = self.uploads.get_mut(&file) else {
            return;
        };
        let State::Failed { upload } = &mut u.state else {
            return;
        };
        let upload = upload.take();
        self.finished_bytes -= u.spec.size;
        u.retries = 0;
        u.state = State::Queued { upload };
        u.paused = false;
        self.all_complete_sent = false;
        self.queue.push_front(file);
        self.status_changed(file);
    }

    /// Removes a file: cancels it if unfinished, and forgets it.
    pub fn remove(&mut self, file: FileId) {
        let Some(u) = self.uploads.get_mut(&file) else {
            return;
        };
        if let State::Failed {
            upload: Some(upload),
        } = &mut u.state
        {
            // Its multipart upload stays open for a retry; removing the file aborts it.
            let upload_id = std::mem::take(&mut upload.upload_id);
            self.finished_bytes -= u.spec.size;
            u.remove_when_done = true;
            u.state = State::Aborting {
                upload_id,
                then: AfterAbort::Cancel,
                task: Task::new(),
            };
            u.retries = 0;
            self.active.push(file);
            return;
        }
        if u.finished() {
            let size = u.spec.size;
            self.uploads.remove(&file);
            self.total_bytes -= size;
            self.finished_bytes -= size;
            self.active.retain(|f| *f != file);
            return;
        }
        u.remove_when_done = true;
        self.cancel(file);
    }

    /// Pauses every file.
    pub fn pause_all(&mut self) {
        let ids: Vec<FileId> = self.uploads.keys().copied().collect();
        ids.into_iter().for_each(|f| self.pause(f));
    }

    /// Resumes every paused file.
    pub fn resume_all(&mut self) {
        let ids: Vec<FileId> = self.uploads.keys().copied().collect();
        ids.into_iter().for_each(|f| self.resume(f));
    }

    /// Cancels every unfinished file.
    pub fn cancel_all(&mut self) {
        let ids: Vec<FileId> = self.uploads.keys().copied().collect();
        ids.into_iter().for_each(|f| self.cancel(f));
    }

    /// Retries every failed file.
    pub fn retry_all(&mut self) {
        let ids: Vec<FileId> = self.uploads.keys().copied().collect();
        ids.into_iter().for_each(|f| self.retry(f));
    }

    // ---- credentials -----------------------------------------------------------------

    /// New credentials from the driver's provider. Waiting requests go on with them.
    pub fn set_credentials(&mut self, credentials: Credentials, now: u64) {
        let server_now = self.server_now(now);
        self.credentials
            .set(credentials, server_now, self.clock_verified);
    }

    /// The provider could not give credentials. For [`RefreshFailure::SignInExpired`]
    /// the engine emits [`Event::CredentialsExpired`] and waits for
    /// [`Engine::set_credentials`]; uploads do not fail meanwhile.
    pub fn handle_credentials_failure(&mut self, failure: RefreshFailure, now: u64) {
        if self.credentials.failed(failure, self.server_now(now)) {
            self.events.push_back(Event::CredentialsExpired);
        }
    }

    /// Signs a request of the driver's own — a listing, a delete — with the engine's
    /// credentials and corrected clock, as its uploads are signed; with `presign_secs`
    /// it becomes a presigned URL valid that long (a link to an object) instead.
    ///
    /// `None` when there are no usable credentials: refresh them
    /// ([`Action::RefreshCredentials`]) and ask again.
    ///
    /// # Errors
    /// As [`Signer::sign`] and [`Signer::presign`] (an expiry out of range).
    pub fn sign_own(
        &mut self,
        request: &mut Request,
        presign_secs: Option<u32>,
        now: u64,
    ) -> Option<Result<(), Error>> {
        let server_now = self.server_now(now);
        let creds = self.credentials.usable(server_now)?;
        let time = crate::Timestamp::from_unix((server_now / 1000) as i64);
        let params = crate::sigv4::SigningParams::s3(creds, &self.config.endpoint.region, time);
        Some(match presign_secs {
            Some(secs) => self.signer.presign(request, &params, secs).map(drop),
            None => self.signer.sign(request, &params).map(drop),
        })
    }

    // ---- polling ---------------------------------------------------------------------

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }
}
