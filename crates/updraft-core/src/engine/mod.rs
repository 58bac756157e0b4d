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
//!    - [`Engine::handle_checksum`] with the checksum of a byte range it was asked for;
//!    - [`Engine::set_credentials`] / [`Engine::handle_credentials_failure`] after a
//!      [`Action::RefreshCredentials`];
//!    - [`Engine::handle_timeout`] when the time from [`Engine::poll_timeout`] comes;
//!    - user commands: [`Engine::pause`], [`Engine::resume`], [`Engine::cancel`],
//!      [`Engine::retry`], [`Engine::remove`] (and the `_all` forms).
//! 2. Then drain it: call [`Engine::poll_action`] until it returns `None` and do each
//!    action (send a request, compute a checksum, cancel a request, fetch credentials);
//!    call [`Engine::poll_event`] until `None` and show or store each event.
//! 3. Sleep until the next I/O completion or [`Engine::poll_timeout`], whichever is first.
//!
//! Every call that depends on time takes `now`: milliseconds since the Unix epoch from the
//! device's clock. The engine corrects it for skew when S3 says the clock is off, and signs
//! with the corrected time.
//!
//! # A file's life
//! ```text
//!                 small                                  ┌────────────── retry ─────────────┐
//!  Queued ─┬──────────────▶ ExpectPut ─────────────────▶ Done                              │
//!          │ large                                                                         │
//!          ├──────────────▶ ExpectCreated ──▶ SendingParts ──▶ ExpectCompleted ──▶ Done    │
//!          │ resume record                        ▲   │                │ answer lost,      │
//!          └──────────────▶ ExpectListed ─────────┘   │                ▼ then NoSuchUpload │
//!                              │ NoSuchUpload /       │             ExpectHead ──▶ Done    │
//!                              │ changed file         │ fatal error                        │
//!                              ▼                      ▼                                    │
//!                       (abort, then ExpectCreated)  Failed ───────────────────────────────┘
//!  cancel (any state) ──▶ Aborting ──▶ Cancelled
//! ```
//! Paused is a flag, not a state: a paused file keeps its state, its requests in flight
//! finish, and nothing new is sent for it.
//!
//! # Scheduling
//! At most [`EngineConfig::concurrency`] requests are in flight across all files, parts
//! and files sharing the one limit. The first file that can use a slot gets it, so files
//! finish in the order they were added and one large file uses every slot. Checksums are
//! asked for ahead, up to two parts of a file not yet sent, so the next request is signed
//! and ready as soon as a slot frees (a few parts ahead, not more: a driver keeps
//! those bytes in memory). Files not yet started wait in a queue that `poll`
//! never walks: its cost grows with the files in progress, not with the queue.

mod credentials;
mod event;
mod ids;
mod resume;
mod validation;

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

pub use credentials::RefreshFailure;
pub use event::{Completed, Event, FileStatus, Progress, UploadError};
pub use resume::{RecordedPart, ResumeRecord};
pub use validation::Validation;

use crate::checksum::{
    ChecksumAlgorithm, crc32c_base64, crc32c_composite, crc64nvme_base64, crc64nvme_combine,
};
use crate::http::{Request, Response};
use crate::plan::{PartPlan, Plan, PlanConfig};
use crate::retry::{Backoff, Disposition, RetryConfig, classify};
use crate::s3::{
    AbortMultipartUpload, Checksums, CompleteMultipartUpload, CompletedPart, CreateMultipartUpload,
    Endpoint, HeadObject, ListMultipartUploads, ListParts, PostObject, PutObject, PutOptions,
    S3ErrorKind, UploadPart,
};
use crate::sigv4::{PostPolicy, Signer, SigningParams};
use crate::{Credentials, Error, Timestamp};

use credentials::CredentialCache;
use ids::IdMap;

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
    /// (`cargo xtask bench web` measures both); natively PUT costs nothing more.
    pub post_max_size: u64,
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

/// A request's operation. Part 0 is the single `PutObject`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Put,
    Create,
    Part(u32),
    List {
        marker: Option<u32>,
    },
    Complete,
    Head,
    Abort,
    /// ListMultipartUploads for this key, to find uploads a lost answer left behind.
    ListUploads,
    /// Abort the last of `Upload::orphans`.
    AbortOrphan,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TaskStatus {
    NeedsChecksum,
    Checksumming,
    Ready,
    InFlight(RequestId),
    /// Waiting for a retry until this time (ms).
    Waiting(u64),
}

/// One operation of a file that has started and not finished.
#[derive(Clone, Debug)]
struct Task {
    op: Op,
    status: TaskStatus,
    backoff: Backoff,
    crc: Option<u64>,
}

impl Task {
    fn new(op: Op, needs_checksum: bool) -> Self {
        Task {
            op,
            status: if needs_checksum {
                TaskStatus::NeedsChecksum
            } else {
                TaskStatus::Ready
            },
            backoff: Backoff::default(),
            crc: None,
        }
    }
}

/// A confirmed part.
#[derive(Clone, Debug, PartialEq, Eq)]
struct DonePart {
    etag: String,
    crc: Option<u64>,
}

/// What a file waits for.
#[derive(Clone, Debug)]
enum Phase {
    Queued,
    ExpectPut,
    ExpectListed,
    ExpectCreated,
    SendingParts,
    ExpectCompleted {
        answer_lost: bool,
    },
    ExpectHead,
    Aborting {
        then: AfterAbort,
    },
    /// An answer to CreateMultipartUpload was lost, so S3 may hold an upload this file
    /// never heard of: find and abort it before reporting the outcome.
    CleaningUp,
    Done,
    Failed,
    Cancelled,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AfterAbort {
    Cancel,
    /// A stale upload (changed file) was cleaned up: start a new one.
    Restart,
}

#[derive(Clone, Debug)]
struct Upload {
    spec: FileSpec,
    plan: Plan,
    phase: Phase,
    paused: bool,
    remove_when_done: bool,
    /// Retries spent, against the file budget.
    retries: u32,
    tasks: Vec<Task>,
    /// The next part never started (multipart).
    next_part: u32,
    upload_id: Option<String>,
    /// Confirmed parts, indexed by part number − 1.
    parts: Vec<Option<DonePart>>,
    /// The record this run continues from, until ListParts confirmed it.
    resume: Option<ResumeRecord>,
    /// Bytes in confirmed parts, and bytes of requests in flight.
    confirmed: u64,
    in_flight: u64,
    started_ms: Option<u64>,
    /// A CreateMultipartUpload went unanswered: it may have created an upload.
    create_uncertain: bool,
    orphans: Vec<String>,
    list_marker: Option<(String, String)>,
    /// What to report once cleaning up is done.
    outcome: Option<Outcome>,
}

#[derive(Clone, Debug)]
enum Outcome {
    Completed(Completed),
    Cancelled,
}

impl Upload {
    fn status(&self) -> FileStatus {
        match self.phase {
            Phase::Done => FileStatus::Completed,
            Phase::Failed => FileStatus::Failed,
            Phase::Cancelled => FileStatus::Cancelled,
            _ if self.paused => FileStatus::Paused,
            Phase::Queued => FileStatus::Queued,
            _ => FileStatus::Uploading,
        }
    }

    fn finished(&self) -> bool {
        matches!(self.phase, Phase::Done | Phase::Failed | Phase::Cancelled)
    }

    fn part_plan(&self) -> Option<PartPlan> {
        match self.plan {
            Plan::Multipart(p) => Some(p),
            Plan::Single { .. } => None,
        }
    }

    fn range(&self, op: Op) -> Option<(u64, u64)> {
        match op {
            Op::Put => Some((0, self.spec.size)),
            Op::Part(n) => self.part_plan()?.range(n),
            _ => None,
        }
    }

    fn sent(&self) -> u64 {
        (self.confirmed + self.in_flight).min(self.spec.size)
    }
}

#[derive(Clone, Debug)]
struct InFlight {
    file: FileId,
    op: Op,
    len: u64,
    sent: u64,
    /// When a byte last moved (or the request was handed out), and how long it may stall.
    active_at: u64,
    /// `None`: never abandoned (`stall_timeout_ms` 0).
    stall_limit_ms: Option<u64>,
    signed_at: Timestamp,
    /// The clock offset the request was signed with.
    offset_secs: i64,
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
        let resume = spec.resume.clone();
        self.uploads.insert(
            id,
            Upload {
                spec,
                plan,
                phase: Phase::Queued,
                paused: false,
                remove_when_done: false,
                retries: 0,
                tasks: Vec::new(),
                next_part: 1,
                upload_id: None,
                parts: Vec::new(),
                resume,
                confirmed: 0,
                in_flight: 0,
                started_ms: None,
                create_uncertain: false,
                orphans: Vec::new(),
                list_marker: None,
                outcome: None,
            },
        );
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
        let upload_id = u.upload_id.clone()?;
        if matches!(
            u.phase,
            Phase::Done | Phase::Cancelled | Phase::Aborting { .. } | Phase::CleaningUp
        ) {
            return None;
        }
        let parts = u
            .parts
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let p = p.as_ref()?;
                Some(RecordedPart {
                    number: i as u32 + 1,
                    etag: p.etag.clone(),
                    crc: p.crc,
                })
            })
            .collect();
        Some(ResumeRecord {
            bucket: self.config.bucket.clone(),
            key: u.spec.key.clone(),
            upload_id,
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
        if matches!(u.phase, Phase::Queued) {
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
        if matches!(
            u.phase,
            Phase::Done | Phase::Cancelled | Phase::Aborting { .. } | Phase::CleaningUp
        ) {
            return;
        }
        if matches!(u.phase, Phase::Failed) {
            // Counted as finished once already; it finishes again as cancelled.
            self.finished_bytes -= u.spec.size;
        }
        let ids: Vec<RequestId> = self
            .requests
            .iter()
            .filter(|(_, r)| r.file == file)
            .map(|(id, _)| *id)
            .collect();
        // A CreateMultipartUpload on its way may still create an upload: find it later.
        let creating = ids
            .iter()
            .any(|id| self.requests.get(id).is_some_and(|r| r.op == Op::Create));
        for id in ids {
            self.forget_request(id);
            self.cancels.push_back(id);
        }
        self.queue.retain(|f| *f != file);
        self.paused.retain(|f| *f != file);
        self.release_checksums(file);
        let Some(u) = self.uploads.get_mut(&file) else {
            return;
        };
        u.paused = false;
        u.tasks.clear();
        u.create_uncertain |= creating;
        if !self.active.contains(&file) {
            self.active.push(file);
        }
        if u.upload_id.is_some() {
            u.phase = Phase::Aborting {
                then: AfterAbort::Cancel,
            };
            u.tasks.push(Task::new(Op::Abort, false));
        } else if !self.clean_up_first(file, Outcome::Cancelled) {
            self.finish(file, Phase::Cancelled);
        }
        self.status_changed(file);
    }

    /// Starts a failed file again, continuing its multipart upload where it stopped.
    pub fn retry(&mut self, file: FileId) {
        let Some(u) = self.uploads.get_mut(&file) else {
            return;
        };
        if !matches!(u.phase, Phase::Failed) {
            return;
        }
        self.finished_bytes -= u.spec.size;
        u.retries = 0;
        u.tasks.clear();
        u.phase = Phase::Queued;
        u.paused = false;
        // Continue through ListParts, which confirms what S3 holds.
        u.resume = None;
        self.all_complete_sent = false;
        self.queue.push_front(file);
        self.status_changed(file);
    }

    /// Removes a file: cancels it if unfinished, and forgets it.
    pub fn remove(&mut self, file: FileId) {
        let Some(u) = self.uploads.get_mut(&file) else {
            return;
        };
        if matches!(u.phase, Phase::Failed) && u.upload_id.is_some() {
            // Its multipart upload stays open for a retry; removing the file aborts it.
            self.finished_bytes -= u.spec.size;
            u.remove_when_done = true;
            u.phase = Phase::Aborting {
                then: AfterAbort::Cancel,
            };
            u.retries = 0;
            u.tasks = vec![Task::new(Op::Abort, false)];
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

    // ---- polling ---------------------------------------------------------------------

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`Engine::handle_timeout`] should be called next (ms), if anything waits.
    pub fn poll_timeout(&self) -> Option<u64> {
        let tasks = self
            .active
            .iter()
            .filter_map(|f| self.uploads.get(f))
            .flat_map(|u| u.tasks.iter())
            .filter_map(|t| match t.status {
                TaskStatus::Waiting(at) => Some(at),
                _ => None,
            });
        let refresh = self
            .credentials
            .next_timeout()
            .map(|t| t.saturating_add_signed(-self.clock_offset_secs.saturating_mul(1000)));
        let stalls = self
            .requests
            .values()
            .filter_map(|r| Some(r.active_at.saturating_add(r.stall_limit_ms?)));
        tasks.chain(refresh).chain(stalls).min()
    }

    /// Time passed: waiting retries become ready, and requests that stalled are
    /// abandoned and retried. (Polling does the rest.)
    pub fn handle_timeout(&mut self, now: u64) {
        let stalled: Vec<(RequestId, u64)> = self
            .requests
            .iter()
            .filter_map(|(id, r)| {
                let limit = r.stall_limit_ms?;
                (now >= r.active_at.saturating_add(limit)).then_some((*id, limit))
            })
            .collect();
        for (id, limit) in stalled {
            if self.requests.get(&id).is_none() {
                continue; // ended with its file by an earlier one's failure
            }
            self.cancels.push_back(id);
            let error = Error::Network {
                detail: format!(
                    "no byte moved for {} s: the connection stalled",
                    limit.div_ceil(1000)
                ),
            };
            self.handle_response(id, Err(error), now);
        }
        for f in &self.active {
            if let Some(u) = self.uploads.get_mut(f) {
                for t in &mut u.tasks {
                    if let TaskStatus::Waiting(at) = t.status
                        && at <= now
                    {
                        t.status = if t.crc.is_none() && needs_checksum(&self.config, t.op) {
                            TaskStatus::NeedsChecksum
                        } else {
                            TaskStatus::Ready
                        };
                    }
                }
            }
        }
    }

    /// The next thing the driver must do, if any.
    pub fn poll_action(&mut self, now: u64) -> Option<Action> {
        if let Some(id) = self.cancels.pop_front() {
            return Some(Action::Cancel { id });
        }
        // Credentials are fetched only when there is work for them.
        let busy = !self.active.is_empty() || !self.queue.is_empty();
        if busy && self.credentials.poll_refresh(self.server_now(now)) {
            return Some(Action::RefreshCredentials);
        }
        self.handle_timeout(now);
        let mut i = 0;
        while i < self.active.len() {
            let file = self.active[i];
            if let Some(a) = self.poll_upload(file, now) {
                return Some(a);
            }
            i += 1;
        }
        // Start queued files while a slot is free and the files in progress cannot use it.
        while self.requests.len() < self.config.concurrency.max(1)
            && self.active.len() < 2 * self.config.concurrency.max(1)
        {
            let file = self.queue.pop_front()?;
            self.start(file, now);
            if let Some(a) = self.poll_upload(file, now) {
                return Some(a);
            }
        }
        None
    }

    fn start(&mut self, file: FileId, now: u64) {
        let needs = self.config.checksum.is_some();
        let bucket = self.config.bucket.clone();
        let Some(u) = self.uploads.get_mut(&file) else {
            return;
        };
        u.started_ms.get_or_insert(now);
        self.batch_started_ms.get_or_insert(now);
        self.active.push(file);
        match u.plan {
            Plan::Single { .. } => {
                u.phase = Phase::ExpectPut;
                u.tasks = vec![Task::new(Op::Put, needs)];
            }
            Plan::Multipart(plan) => {
                u.parts = vec![None; plan.count as usize];
                // A stored record for this very file, or an upload id of an earlier attempt.
                let record = u.resume.take();
                let usable = record.as_ref().is_some_and(|r| {
                    r.bucket == bucket
                        && r.key == u.spec.key
                        && r.size == u.spec.size
                        && r.part_size == plan.part_size
                        && r.fingerprint == u.spec.fingerprint
                });
                let stale = record
                    .as_ref()
                    .filter(|r| !usable && r.bucket == bucket && r.key == u.spec.key)
                    .map(|r| r.upload_id.clone());
                if let Some(upload_id) = stale {
                    // The file changed since: abort the old upload, then start afresh.
                    u.upload_id = Some(upload_id);
                    u.phase = Phase::Aborting {
                        then: AfterAbort::Restart,
                    };
                    u.tasks = vec![Task::new(Op::Abort, false)];
                    self.status_changed(file);
                    return;
                }
                if let Some(r) = record.filter(|_| usable) {
                    for p in &r.parts {
                        if let Some(slot) = (p.number as usize)
                            .checked_sub(1)
                            .and_then(|i| u.parts.get_mut(i))
                        {
                            *slot = Some(DonePart {
                                etag: p.etag.clone(),
                                crc: p.crc,
                            });
                        }
                    }
                    u.upload_id = Some(r.upload_id);
                    u.resume = None;
                }
                if u.upload_id.is_some() {
                    u.phase = Phase::ExpectListed;
                    u.tasks = vec![Task::new(Op::List { marker: None }, false)];
                } else {
                    u.phase = Phase::ExpectCreated;
                    u.tasks = vec![Task::new(Op::Create, false)];
                }
            }
        }
        self.status_changed(file);
    }

    fn poll_upload(&mut self, file: FileId, now: u64) -> Option<Action> {
        let concurrency = self.config.concurrency.max(1);
        let checksum = self.config.checksum;
        let u = self.uploads.get_mut(&file)?;
        if u.paused || u.finished() {
            return None;
        }
        // Ask for checksums ahead, so a part is ready when a slot frees.
        if let Some(algorithm) = checksum
            && self.checksumming < concurrency
        {
            if matches!(u.phase, Phase::SendingParts) {
                let waiting = u
                    .tasks
                    .iter()
                    .filter(|t| !matches!(t.status, TaskStatus::InFlight(_)))
                    .count();
                let count = u.part_plan().map_or(0, |p| p.count);
                while waiting < LOOKAHEAD && u.next_part <= count {
                    let n = u.next_part;
                    u.next_part += 1;
                    if u.parts[n as usize - 1].is_none() {
                        u.tasks.push(Task::new(Op::Part(n), true));
                        break;
                    }
                }
            }
            if let Some(i) = u
                .tasks
                .iter()
                .position(|t| t.status == TaskStatus::NeedsChecksum)
            {
                let op = u.tasks[i].op;
                let range = u.range(op)?;
                u.tasks[i].status = TaskStatus::Checksumming;
                self.checksumming += 1;
                let part = match op {
                    Op::Part(n) => n,
                    _ => 0,
                };
                return Some(Action::Checksum {
                    file,
                    part,
                    range,
                    algorithm,
                });
            }
        }
        if self.requests.len() >= concurrency {
            return None;
        }
        // Without checksums, parts are ready as soon as they are started.
        if checksum.is_none()
            && matches!(u.phase, Phase::SendingParts)
            && !u.tasks.iter().any(|t| t.status == TaskStatus::Ready)
        {
            let count = u.part_plan().map_or(0, |p| p.count);
            while u.next_part <= count {
                let n = u.next_part;
                u.next_part += 1;
                if u.parts[n as usize - 1].is_none() {
                    u.tasks.push(Task::new(Op::Part(n), false));
                    break;
                }
            }
        }
        let idx = u.tasks.iter().position(|t| t.status == TaskStatus::Ready)?;
        let creds = self.credentials.usable(self.server_now(now))?.clone();
        let time = Timestamp::from_unix((self.server_now(now) / 1000) as i64);
        let id = RequestId(self.next_request);
        self.next_request += 1;
        let u = self.uploads.get_mut(&file)?;
        let post = is_post(&self.config, u, u.tasks[idx].op);
        let (action, len) = if post {
            let (url, fields) = post_form(
                &self.config,
                u,
                u.tasks[idx].crc,
                &creds,
                time,
                &mut self.signer,
            );
            let body = (0, u.spec.size);
            let post = Action::Post {
                id,
                file,
                url,
                fields,
                body,
            };
            (post, u.spec.size)
        } else {
            let (mut request, body) = build(&self.config, u, idx);
            let params = SigningParams::s3(&creds, &self.config.endpoint.region, time);
            if let Err(e) = self.signer.sign(&mut request, &params) {
                self.fail(file, e);
                return None;
            }
            let len = body.map_or(0, |(a, b)| b - a);
            let send = Action::Send {
                id,
                file,
                request,
                body,
            };
            (send, len)
        };
        let u = self.uploads.get_mut(&file)?;
        let task = &mut u.tasks[idx];
        task.status = TaskStatus::InFlight(id);
        self.requests.insert(
            id,
            InFlight {
                file,
                op: task.op,
                len,
                sent: 0,
                active_at: now,
                stall_limit_ms: stall_limit(self.config.stall_timeout_ms, post, len),
                signed_at: time,
                offset_secs: self.clock_offset_secs,
            },
        );
        Some(action)
    }

    // ---- I/O results -----------------------------------------------------------------

    /// The checksum of the range asked for by [`Action::Checksum`] (the CRC's value).
    pub fn handle_checksum(&mut self, file: FileId, part: u32, crc: u64) {
        let Some(u) = self.uploads.get_mut(&file) else {
            return;
        };
        let op = if part == 0 { Op::Put } else { Op::Part(part) };
        if let Some(t) = u
            .tasks
            .iter_mut()
            .find(|t| t.op == op && t.status == TaskStatus::Checksumming)
        {
            t.crc = Some(crc);
            t.status = TaskStatus::Ready;
            self.checksumming = self.checksumming.saturating_sub(1);
        }
    }

    /// `sent` bytes of request `id`'s body have gone out.
    pub fn handle_progress(&mut self, id: RequestId, sent: u64, now: u64) {
        let Some(r) = self.requests.get_mut(&id) else {
            return;
        };
        let sent = sent.min(r.len);
        if sent <= r.sent {
            return;
        }
        let delta = sent - r.sent;
        r.sent = sent;
        r.active_at = now;
        let file = r.file;
        if let Some(u) = self.uploads.get_mut(&file) {
            u.in_flight += delta;
        }
        self.progress(file, now);
    }

    /// The answer to request `id`, or the network error that stopped it.
    pub fn handle_response(&mut self, id: RequestId, result: Result<Response, Error>, now: u64) {
        let Some(r) = self.requests.get(&id).cloned() else {
            return; // cancelled, or answered twice
        };
        self.forget_request(id);
        let file = r.file;
        let Some(u) = self.uploads.get(&file) else {
            return;
        };
        let Some(idx) = u
            .tasks
            .iter()
            .position(|t| t.status == TaskStatus::InFlight(id))
        else {
            return;
        };
        let date = result
            .as_ref()
            .ok()
            .and_then(|resp| resp.header("date"))
            .and_then(|d| Timestamp::parse_http_date(d).ok());
        if let Ok(resp) = &result
            && (200..300).contains(&resp.status)
            && !self.clock_verified
        {
            self.clock_verified = true;
            self.credentials.clock_verified();
        }
        let outcome = result.and_then(|resp| self.on_answer(file, idx, &resp, now));
        if let Err(error) = outcome {
            self.on_failure(file, idx, &r, date, error, now);
            // A failed request's bytes are no longer counted: they must be sent again. (A
            // stored part or file reports its progress where it is confirmed, so the figure
            // never dips in between; issue 15.)
            if r.len > 0 {
                self.progress(file, now);
            }
        }
    }

    /// Applies a successful-looking answer; `Err` when the answer is a failure.
    fn on_answer(
        &mut self,
        file: FileId,
        idx: usize,
        resp: &Response,
        now: u64,
    ) -> Result<(), Error> {
        let bucket = self.config.bucket.clone();
        let u = self.uploads.get_mut(&file).ok_or(Error::Network {
            detail: "file removed".into(),
        })?;
        let task = u.tasks[idx].clone();
        let key = u.spec.key.clone();
        let upload_id = u.upload_id.clone().unwrap_or_default();
        match task.op {
            Op::Put => {
                let (etag, returned) = if is_post(&self.config, u, Op::Put) {
                    let out = PostObject {
                        bucket: bucket.clone(),
                        key: key.clone(),
                        ..PostObject::default()
                    }
                    .parse(resp)?;
                    let returned = Checksums {
                        crc32c: resp.header("x-amz-checksum-crc32c").map(str::to_owned),
                        crc64nvme: resp.header("x-amz-checksum-crc64nvme").map(str::to_owned),
                    };
                    // A form upload needs no ETag; S3 sends one, which CORS may hide.
                    (out.etag.unwrap_or_default(), returned)
                } else {
                    let out = PutObject {
                        bucket: bucket.clone(),
                        key: key.clone(),
                        len: u.spec.size,
                        options: PutOptions::default(),
                        content_md5: None,
                        checksums: Checksums::default(),
                    }
                    .parse(resp)
                    .map_err(|e| missing_etag(e, &self.config.bucket))?;
                    (out.etag, out.checksums)
                };
                let expected = task.crc.map(|c| checksum_base64(self.config.checksum, c));
                verify_checksum(&key, self.config.checksum, expected.as_deref(), &returned)?;
                u.tasks.clear();
                u.confirmed = u.spec.size;
                let completed = Completed {
                    location: self.location(&key),
                    bucket,
                    key,
                    etag,
                    checksum: expected,
                };
                self.complete(file, completed, now);
            }
            Op::Create => {
                let out = CreateMultipartUpload {
                    bucket,
                    key,
                    options: PutOptions::default(),
                }
                .parse(resp)?;
                u.upload_id = Some(out.upload_id);
                u.tasks.clear();
                u.next_part = 1;
                u.phase = Phase::SendingParts;
                self.events.push_back(Event::ResumeRecordChanged { file });
                self.after_part(file);
            }
            Op::Part(n) => {
                if resp.header("etag").is_none() && (200..300).contains(&resp.status) {
                    return Err(Error::EtagNotExposed {
                        bucket: bucket.clone(),
                    });
                }
                let out = UploadPart {
                    bucket,
                    key: key.clone(),
                    upload_id,
                    part_number: n,
                    len: 0,
                    content_md5: None,
                    checksums: Checksums::default(),
                }
                .parse(resp)?;
                let expected = task.crc.map(|c| checksum_base64(self.config.checksum, c));
                verify_checksum(
                    &key,
                    self.config.checksum,
                    expected.as_deref(),
                    &out.checksums,
                )?;
                let len = u.range(Op::Part(n)).map_or(0, |(a, b)| b - a);
                u.tasks.remove(idx);
                u.parts[n as usize - 1] = Some(DonePart {
                    etag: out.etag,
                    crc: task.crc,
                });
                u.confirmed += len;
                // The part's bytes moved from in flight to confirmed: report it now, with
                // nothing lost in between (issue 15).
                self.progress(file, now);
                self.events.push_back(Event::ResumeRecordChanged { file });
                self.after_part(file);
            }
            Op::List { marker } => {
                let list = ListParts {
                    bucket,
                    key,
                    upload_id,
                    max_parts: None,
                    part_number_marker: marker,
                };
                let page = list.parse(resp)?;
                let plan = u.part_plan();
                for p in &page.parts {
                    let Some(slot) = (p.part_number as usize)
                        .checked_sub(1)
                        .and_then(|i| u.parts.get_mut(i))
                    else {
                        continue;
                    };
                    let expected_len = plan
                        .and_then(|pl| pl.range(p.part_number))
                        .map(|(a, b)| b - a);
                    if Some(p.size) != expected_len {
                        *slot = None;
                        continue;
                    }
                    // Our own CRC of a part we sent; a part this device has no record of is
                    // used without one (S3's listed checksum is not ours to vouch for), and
                    // the whole-object checksum is then left to S3.
                    let crc = slot
                        .as_ref()
                        .filter(|d| d.etag == p.etag)
                        .and_then(|d| d.crc);
                    *slot = Some(DonePart {
                        etag: p.etag.clone(),
                        crc,
                    });
                }
                // Mark which parts this listing has seen: parts below the page's end that
                // were not listed are not on S3 and must be sent.
                let seen: Vec<u32> = page.parts.iter().map(|p| p.part_number).collect();
                let from = marker.unwrap_or(0);
                let to = if page.is_truncated {
                    page.next_part_number_marker.unwrap_or(u32::MAX)
                } else {
                    u32::MAX
                };
                for (i, slot) in u.parts.iter_mut().enumerate() {
                    let n = i as u32 + 1;
                    if n > from && n <= to && !seen.contains(&n) {
                        *slot = None;
                    }
                }
                u.tasks.clear();
                if let Some(next) = list.next_page(&page) {
                    u.tasks.push(Task::new(
                        Op::List {
                            marker: next.part_number_marker,
                        },
                        false,
                    ));
                } else {
                    u.confirmed = u
                        .parts
                        .iter()
                        .enumerate()
                        .filter(|(_, p)| p.is_some())
                        .filter_map(|(i, _)| plan?.range(i as u32 + 1))
                        .map(|(a, b)| b - a)
                        .sum();
                    u.phase = Phase::SendingParts;
                    u.next_part = 1;
                    self.events.push_back(Event::ResumeRecordChanged { file });
                    self.after_part(file);
                    self.progress(file, now);
                }
            }
            Op::Complete => {
                let complete = self.complete_request(file).ok_or(Error::Network {
                    detail: "file removed".into(),
                })?;
                let out = complete.parse(resp)?;
                let expected = complete
                    .full_object_crc64nvme
                    .clone()
                    .or_else(|| self.composite_crc32c(file));
                if let (Some(want), Some(got)) = (
                    expected.as_deref(),
                    out.checksums
                        .crc64nvme
                        .as_deref()
                        .or(out.checksums.crc32c.as_deref()),
                ) && want != got
                {
                    return Err(Error::ChecksumMismatch {
                        key: complete.key.clone(),
                        algorithm: self.config.checksum.map_or("", ChecksumAlgorithm::as_str),
                        expected: want.to_owned(),
                        actual: got.to_owned(),
                    });
                }
                let completed = Completed {
                    location: self.location(&complete.key),
                    bucket: complete.bucket,
                    key: complete.key,
                    etag: out.etag,
                    checksum: expected,
                };
                self.complete(file, completed, now);
            }
            Op::Head => {
                let out = HeadObject {
                    bucket: bucket.clone(),
                    key: key.clone(),
                }
                .parse(resp)?;
                let parts = u.part_plan().map_or(0, |p| p.count);
                let matches = out.content_length == Some(u.spec.size)
                    && out
                        .etag
                        .as_deref()
                        .is_some_and(|e| e.trim_matches('"').ends_with(&format!("-{parts}")));
                if matches {
                    let expected = self.full_crc(file);
                    let completed = Completed {
                        location: self.location(&key),
                        bucket,
                        key,
                        etag: out.etag.unwrap_or_default(),
                        checksum: expected,
                    };
                    self.complete(file, completed, now);
                } else {
                    // The upload is gone and the object is not ours: start again.
                    self.restart(file);
                }
            }
            Op::ListUploads => {
                // The marker stays until the page parses: a page that fails is asked for
                // again from the same place, not from the first page (issue 15).
                let list = ListMultipartUploads {
                    bucket,
                    prefix: Some(key.clone()),
                    key_marker: u.list_marker.as_ref().map(|m| m.0.clone()),
                    upload_id_marker: u.list_marker.as_ref().map(|m| m.1.clone()),
                    max_uploads: None,
                };
                let page = list.parse(resp)?;
                u.list_marker = None;
                let ours = u.upload_id.clone();
                u.orphans.extend(
                    page.uploads
                        .into_iter()
                        .filter(|m| m.key == key && Some(&m.upload_id) != ours.as_ref())
                        .map(|m| m.upload_id),
                );
                u.tasks.clear();
                if page.is_truncated
                    && let (Some(k), Some(id)) = (page.next_key_marker, page.next_upload_id_marker)
                {
                    u.list_marker = Some((k, id));
                    u.tasks.push(Task::new(Op::ListUploads, false));
                } else {
                    self.next_cleanup(file, now);
                }
            }
            Op::AbortOrphan => {
                let upload_id = u.orphans.last().cloned().unwrap_or_default();
                aborted_or_gone(
                    &AbortMultipartUpload {
                        bucket,
                        key,
                        upload_id,
                    },
                    resp,
                )?;
                u.orphans.pop();
                u.tasks.clear();
                self.next_cleanup(file, now);
            }
            Op::Abort => {
                aborted_or_gone(
                    &AbortMultipartUpload {
                        bucket,
                        key,
                        upload_id,
                    },
                    resp,
                )?;
                self.aborted(file);
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn on_failure(
        &mut self,
        file: FileId,
        idx: usize,
        r: &InFlight,
        date: Option<Timestamp>,
        error: Error,
        now: u64,
    ) {
        let op = r.op;
        let temporary = self.credentials.temporary();
        let no_such_upload = matches!(&error, Error::S3(s) if s.kind == S3ErrorKind::NoSuchUpload);
        let Some(u) = self.uploads.get_mut(&file) else {
            return;
        };
        if no_such_upload {
            match (op, &u.phase) {
                // The answer to an earlier Complete was lost: see whether it took effect.
                (Op::Complete, Phase::ExpectCompleted { answer_lost: true }) => {
                    u.phase = Phase::ExpectHead;
                    u.tasks = vec![Task::new(Op::Head, false)];
                    return;
                }
                (Op::Part(_) | Op::List { .. } | Op::Complete, _) => {
                    self.restart(file);
                    return;
                }
                _ => {}
            }
        }
        if matches!(error, Error::Network { .. }) && op == Op::Complete {
            u.phase = Phase::ExpectCompleted { answer_lost: true };
        }
        if matches!(error, Error::Network { .. }) && op == Op::Create {
            u.create_uncertain = true;
        }
        let budget_left = u.retries < self.config.retry.file_retry_budget;
        let task = &mut u.tasks[idx];
        match classify(&error, temporary, r.signed_at, date) {
            Disposition::Retry if budget_left => {
                if let Some(delay) = task.backoff.next_delay(&self.config.retry, &mut self.rng) {
                    task.status = TaskStatus::Waiting(now + delay);
                    u.retries += 1;
                    return;
                }
            }
            Disposition::CorrectClock { adjust_secs } if budget_left => {
                task.backoff.attempts += 1;
                if task.backoff.attempts < self.config.retry.max_attempts {
                    // Relative to the offset this request was signed with, so that several
                    // answers to requests signed alike correct the clock once.
                    if let Some(adjust) = adjust_secs {
                        self.clock_offset_secs = r.offset_secs + adjust;
                        self.clock_verified = true;
                        self.credentials.clock_verified();
                    }
                    task.status = TaskStatus::Ready;
                    u.retries += 1;
                    return;
                }
            }
            Disposition::RefreshCredentials if budget_left => {
                task.backoff.attempts += 1;
                if task.backoff.attempts < self.config.retry.max_attempts {
                    self.credentials.reject();
                    task.status = TaskStatus::Ready;
                    u.retries += 1;
                    return;
                }
            }
            _ => {}
        }
        if matches!(u.phase, Phase::CleaningUp) {
            // Cleaning up is a courtesy: report the outcome all the same; a lifecycle
            // rule on the bucket removes what is left.
            u.orphans.clear();
            u.list_marker = None;
            u.tasks.clear();
            self.next_cleanup(file, now);
            return;
        }
        if op == Op::Abort {
            // The upload could not be aborted: say so, naming the upload to clean up.
            let upload_id = u.upload_id.clone().unwrap_or_default();
            let then = match u.phase {
                Phase::Aborting { then } => then,
                _ => AfterAbort::Cancel,
            };
            let error = Error::AbortFailed {
                upload_id,
                reason: error.to_string(),
            };
            self.report(file, error);
            match then {
                AfterAbort::Cancel => self.finish(file, Phase::Cancelled),
                AfterAbort::Restart => {
                    if let Some(u) = self.uploads.get_mut(&file) {
                        u.upload_id = None;
                    }
                    self.restart(file);
                }
            }
            return;
        }
        self.fail(file, error);
    }

    // ---- transitions -----------------------------------------------------------------

    /// After a part finished or the upload was created: complete when every part is in.
    fn after_part(&mut self, file: FileId) {
        let Some(u) = self.uploads.get_mut(&file) else {
            return;
        };
        if !matches!(u.phase, Phase::SendingParts) || !u.tasks.is_empty() {
            return;
        }
        // Parts are started in order and leave `tasks` only when stored, so with no task
        // left every part below the cursor is stored; move it past stored parts (amortised
        // O(1) per part) and see whether any part is left.
        let count = u.part_plan().map_or(0, |p| p.count);
        while u.next_part <= count && u.parts[u.next_part as usize - 1].is_some() {
            u.next_part += 1;
        }
        if u.next_part > count {
            u.phase = Phase::ExpectCompleted { answer_lost: false };
            u.tasks = vec![Task::new(Op::Complete, false)];
        }
    }

    /// Starts the multipart upload again from nothing (the old one is gone).
    fn restart(&mut self, file: FileId) {
        self.release_checksums(file);
        let Some(u) = self.uploads.get_mut(&file) else {
            return;
        };
        u.upload_id = None;
        u.parts.iter_mut().for_each(|p| *p = None);
        u.confirmed = 0;
        u.next_part = 1;
        u.phase = Phase::ExpectCreated;
        u.tasks = vec![Task::new(Op::Create, false)];
        self.events.push_back(Event::ResumeRecordChanged { file });
    }

    fn aborted(&mut self, file: FileId) {
        let Some(u) = self.uploads.get_mut(&file) else {
            return;
        };
        let then = match u.phase {
            Phase::Aborting { then } => then,
            _ => AfterAbort::Cancel,
        };
        u.upload_id = None;
        match then {
            AfterAbort::Cancel => {
                if !self.clean_up_first(file, Outcome::Cancelled) {
                    self.finish(file, Phase::Cancelled);
                }
            }
            AfterAbort::Restart => self.restart(file),
        }
    }

    /// When a CreateMultipartUpload answer was lost, starts cleaning up before `outcome`
    /// is reported; returns whether it did.
    fn clean_up_first(&mut self, file: FileId, outcome: Outcome) -> bool {
        let Some(u) = self.uploads.get_mut(&file) else {
            return false;
        };
        if !u.create_uncertain || u.outcome.is_some() {
            return false;
        }
        u.create_uncertain = false;
        u.outcome = Some(outcome);
        u.phase = Phase::CleaningUp;
        u.tasks = vec![Task::new(Op::ListUploads, false)];
        true
    }

    /// Aborts the next orphan, or reports the outcome when none is left.
    fn next_cleanup(&mut self, file: FileId, now: u64) {
        let Some(u) = self.uploads.get_mut(&file) else {
            return;
        };
        if !u.orphans.is_empty() {
            u.tasks = vec![Task::new(Op::AbortOrphan, false)];
            return;
        }
        match u.outcome.take() {
            Some(Outcome::Completed(c)) => self.complete(file, c, now),
            Some(Outcome::Cancelled) | None => self.finish(file, Phase::Cancelled),
        }
    }

    fn complete(&mut self, file: FileId, completed: Completed, now: u64) {
        if self.clean_up_first(file, Outcome::Completed(completed.clone())) {
            return;
        }
        if let Some(u) = self.uploads.get_mut(&file) {
            u.confirmed = u.spec.size;
        }
        self.progress(file, now);
        // Completed before the status change and AllComplete it may bring.
        self.events.push_back(Event::Completed { file, completed });
        self.finish(file, Phase::Done);
    }

    fn fail(&mut self, file: FileId, error: Error) {
        self.report(file, error);
        self.finish(file, Phase::Failed);
    }

    fn report(&mut self, file: FileId, error: Error) {
        let Some(u) = self.uploads.get(&file) else {
            return;
        };
        let error = UploadError {
            name: u.spec.name.clone(),
            bucket: self.config.bucket.clone(),
            key: u.spec.key.clone(),
            error,
        };
        self.events.push_back(Event::Failed { file, error });
    }

    fn finish(&mut self, file: FileId, phase: Phase) {
        self.release_checksums(file);
        let ids: Vec<RequestId> = self
            .requests
            .iter()
            .filter(|(_, r)| r.file == file)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.forget_request(id);
            self.cancels.push_back(id);
        }
        let Some(u) = self.uploads.get_mut(&file) else {
            return;
        };
        let done = matches!(phase, Phase::Done);
        u.phase = phase;
        u.tasks.clear();
        u.paused = false;
        if done {
            u.confirmed = u.spec.size;
        }
        u.in_flight = 0;
        self.finished_bytes += u.spec.size;
        let remove = u.remove_when_done;
        self.active.retain(|f| *f != file);
        self.paused.retain(|f| *f != file);
        self.status_changed(file);
        self.events.push_back(Event::ResumeRecordChanged { file });
        if remove {
            let size = self.uploads.get(&file).map_or(0, |u| u.spec.size);
            self.uploads.remove(&file);
            self.total_bytes -= size;
            self.finished_bytes -= size;
        }
        self.check_all_complete();
    }

    fn check_all_complete(&mut self) {
        if self.all_complete_sent || !self.queue.is_empty() || !self.active.is_empty() {
            return;
        }
        let (mut completed, mut failed, mut cancelled) = (0, 0, 0);
        for u in self.uploads.values() {
            match u.phase {
                Phase::Done => completed += 1,
                Phase::Failed => failed += 1,
                Phase::Cancelled => cancelled += 1,
                _ => return, // paused
            }
        }
        self.all_complete_sent = true;
        self.events.push_back(Event::AllComplete {
            completed,
            failed,
            cancelled,
        });
    }

    fn status_changed(&mut self, file: FileId) {
        if let Some(status) = self.status(file) {
            self.events.push_back(Event::StatusChanged { file, status });
        }
    }

    fn forget_request(&mut self, id: RequestId) {
        if let Some(r) = self.requests.remove(&id)
            && let Some(u) = self.uploads.get_mut(&r.file)
        {
            u.in_flight = u.in_flight.saturating_sub(r.sent);
        }
    }

    fn release_checksums(&mut self, file: FileId) {
        if let Some(u) = self.uploads.get(&file) {
            let n = u
                .tasks
                .iter()
                .filter(|t| t.status == TaskStatus::Checksumming)
                .count();
            self.checksumming = self.checksumming.saturating_sub(n);
        }
    }

    fn progress(&mut self, file: FileId, now: u64) {
        let Some(u) = self.uploads.get(&file) else {
            return;
        };
        let file_progress = rate(u.sent(), u.spec.size, u.started_ms, now);
        let in_progress: u64 = self
            .active
            .iter()
            .chain(&self.paused)
            .filter_map(|f| self.uploads.get(f))
            .map(Upload::sent)
            .sum();
        let total = rate(
            (self.finished_bytes + in_progress).min(self.total_bytes),
            self.total_bytes,
            self.batch_started_ms,
            now,
        );
        self.events.push_back(Event::Progress {
            file,
            file_progress,
            total,
        });
    }

    fn location(&self, key: &str) -> String {
        let (host, path) = self.config.endpoint.locate(&self.config.bucket, Some(key));
        format!(
            "{}://{host}{path}",
            self.config.endpoint.origin.scheme.as_str()
        )
    }

    fn complete_request(&self, file: FileId) -> Option<CompleteMultipartUpload> {
        let u = self.uploads.get(&file)?;
        let algorithm = self.config.checksum;
        let parts = u
            .parts
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let p = p.as_ref()?;
                Some(CompletedPart {
                    part_number: i as u32 + 1,
                    etag: p.etag.clone(),
                    checksums: part_checksums(algorithm, p.crc),
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(CompleteMultipartUpload {
            bucket: self.config.bucket.clone(),
            key: u.spec.key.clone(),
            upload_id: u.upload_id.clone()?,
            parts,
            full_object_crc64nvme: self.full_crc(file),
        })
    }

    /// The whole-object CRC64NVME, folded from the parts' values (when all are known).
    fn full_crc(&self, file: FileId) -> Option<String> {
        if self.config.checksum != Some(ChecksumAlgorithm::Crc64Nvme) {
            return None;
        }
        full_crc_of(self.uploads.get(&file)?)
    }

    fn composite_crc32c(&self, file: FileId) -> Option<String> {
        if self.config.checksum != Some(ChecksumAlgorithm::Crc32c) {
            return None;
        }
        let u = self.uploads.get(&file)?;
        let crcs = u
            .parts
            .iter()
            .map(|p| Some(p.as_ref()?.crc? as u32))
            .collect::<Option<Vec<u32>>>()?;
        Some(crc32c_composite(&crcs))
    }
}

/// How long a request may move no byte: see [`EngineConfig::stall_timeout_ms`].
fn stall_limit(stall_ms: u64, post: bool, len: u64) -> Option<u64> {
    match (stall_ms, post, len) {
        (0, _, _) => None,
        (ms, true, len) => Some(ms.saturating_add(len / 16)),
        (ms, false, 0) => Some(ms.saturating_mul(5)),
        (ms, false, _) => Some(ms),
    }
}

/// Whether `op` of `u` goes as a POST Object form ([`EngineConfig::post_max_size`]).
fn is_post(config: &EngineConfig, u: &Upload, op: Op) -> bool {
    op == Op::Put && config.post_max_size > 0 && u.spec.size <= config.post_max_size
}

/// The bucket's URL and the signed fields of a POST Object form for `u`: its key, the
/// object's options and checksum, each pinned by the policy to exactly this value, and
/// the length to exactly the file's.
fn post_form(
    config: &EngineConfig,
    u: &Upload,
    crc: Option<u64>,
    creds: &Credentials,
    time: Timestamp,
    signer: &mut Signer,
) -> (String, Vec<(String, String)>) {
    let (host, path) = config.endpoint.locate(&config.bucket, None);
    let url = format!("{}://{host}{path}", config.endpoint.origin.scheme.as_str());
    let o = &u.spec.options;
    let mut fields = vec![("key".to_owned(), u.spec.key.clone())];
    for (name, value) in [
        ("acl", &o.acl),
        ("Content-Type", &o.content_type),
        ("Content-Disposition", &o.content_disposition),
        ("Cache-Control", &o.cache_control),
        ("x-amz-storage-class", &o.storage_class),
        ("x-amz-server-side-encryption", &o.server_side_encryption),
        (
            "x-amz-server-side-encryption-aws-kms-key-id",
            &o.sse_kms_key_id,
        ),
    ] {
        if let Some(v) = value {
            fields.push((name.to_owned(), v.clone()));
        }
    }
    for (name, value) in &o.metadata {
        fields.push((
            format!("x-amz-meta-{}", name.to_ascii_lowercase()),
            value.clone(),
        ));
    }
    if let (Some(algorithm), Some(crc)) = (config.checksum, crc) {
        fields.push((
            algorithm.header_name().to_owned(),
            checksum_base64(Some(algorithm), crc),
        ));
    }
    // Valid long enough for a slow link; the form is sent at once.
    let mut policy = PostPolicy::new(time.add_secs(3600))
        .equals("bucket", &config.bucket)
        .content_length_range(u.spec.size, u.spec.size);
    for (name, value) in &fields {
        policy = policy.equals(name, value);
    }
    let params = SigningParams::s3(creds, &config.endpoint.region, time);
    fields.extend(policy.sign(signer, &params).fields);
    (url, fields)
}

fn needs_checksum(config: &EngineConfig, op: Op) -> bool {
    config.checksum.is_some() && matches!(op, Op::Put | Op::Part(_))
}

/// Builds the unsigned request for task `idx` and the byte range its body carries.
fn build(config: &EngineConfig, u: &Upload, idx: usize) -> (Request, Option<(u64, u64)>) {
    let task = &u.tasks[idx];
    let bucket = config.bucket.clone();
    let key = u.spec.key.clone();
    let upload_id = u.upload_id.clone().unwrap_or_default();
    let algorithm = config.checksum;
    let range = u.range(task.op);
    let req = match task.op {
        Op::Put => PutObject {
            bucket,
            key,
            len: u.spec.size,
            options: u.spec.options.clone(),
            content_md5: None,
            checksums: part_checksums(algorithm, task.crc),
        }
        .request(&config.endpoint),
        Op::Create => {
            let mut options = u.spec.options.clone();
            if let Some(a) = algorithm {
                options.checksum_algorithm = Some(a.as_str().to_owned());
                options.checksum_type = Some(
                    match a {
                        ChecksumAlgorithm::Crc64Nvme => "FULL_OBJECT",
                        ChecksumAlgorithm::Crc32c => "COMPOSITE",
                    }
                    .to_owned(),
                );
            }
            CreateMultipartUpload {
                bucket,
                key,
                options,
            }
            .request(&config.endpoint)
        }
        Op::Part(n) => UploadPart {
            bucket,
            key,
            upload_id,
            part_number: n,
            len: range.map_or(0, |(a, b)| b - a),
            content_md5: None,
            checksums: part_checksums(algorithm, task.crc),
        }
        .request(&config.endpoint),
        Op::List { marker } => ListParts {
            bucket,
            key,
            upload_id,
            max_parts: None,
            part_number_marker: marker,
        }
        .request(&config.endpoint),
        Op::Complete => {
            let parts = u
                .parts
                .iter()
                .enumerate()
                .filter_map(|(i, p)| {
                    let p = p.as_ref()?;
                    Some(CompletedPart {
                        part_number: i as u32 + 1,
                        etag: p.etag.clone(),
                        checksums: part_checksums(algorithm, p.crc),
                    })
                })
                .collect();
            let full = if algorithm == Some(ChecksumAlgorithm::Crc64Nvme) {
                full_crc_of(u)
            } else {
                None
            };
            CompleteMultipartUpload {
                bucket,
                key,
                upload_id,
                parts,
                full_object_crc64nvme: full,
            }
            .request(&config.endpoint)
        }
        Op::Head => HeadObject { bucket, key }.request(&config.endpoint),
        Op::Abort => AbortMultipartUpload {
            bucket,
            key,
            upload_id,
        }
        .request(&config.endpoint),
        Op::ListUploads => ListMultipartUploads {
            bucket,
            prefix: Some(key),
            key_marker: u.list_marker.as_ref().map(|m| m.0.clone()),
            upload_id_marker: u.list_marker.as_ref().map(|m| m.1.clone()),
            max_uploads: None,
        }
        .request(&config.endpoint),
        Op::AbortOrphan => AbortMultipartUpload {
            bucket,
            key,
            upload_id: u.orphans.last().cloned().unwrap_or_default(),
        }
        .request(&config.endpoint),
    };
    (
        req,
        range.filter(|_| matches!(task.op, Op::Put | Op::Part(_))),
    )
}

/// The whole-object CRC64NVME of `u`, folded from its parts' values (when all are known).
fn full_crc_of(u: &Upload) -> Option<String> {
    let plan = u.part_plan()?;
    let mut crc = 0u64;
    for (i, p) in u.parts.iter().enumerate() {
        let (a, b) = plan.range(i as u32 + 1)?;
        let part = p.as_ref()?.crc?;
        crc = if i == 0 {
            part
        } else {
            crc64nvme_combine(crc, part, b - a)
        };
    }
    Some(crc64nvme_base64(crc))
}

fn checksum_base64(algorithm: Option<ChecksumAlgorithm>, crc: u64) -> String {
    match algorithm {
        Some(ChecksumAlgorithm::Crc32c) => crc32c_base64(crc as u32),
        _ => crc64nvme_base64(crc),
    }
}

fn part_checksums(algorithm: Option<ChecksumAlgorithm>, crc: Option<u64>) -> Checksums {
    let mut c = Checksums::default();
    match (algorithm, crc) {
        (Some(ChecksumAlgorithm::Crc32c), Some(v)) => c.crc32c = Some(crc32c_base64(v as u32)),
        (Some(ChecksumAlgorithm::Crc64Nvme), Some(v)) => c.crc64nvme = Some(crc64nvme_base64(v)),
        _ => {}
    }
    c
}

/// Compares the checksum S3 echoed (when CORS lets us see it) with ours.
fn verify_checksum(
    key: &str,
    algorithm: Option<ChecksumAlgorithm>,
    expected: Option<&str>,
    returned: &Checksums,
) -> Result<(), Error> {
    let got = match algorithm {
        Some(ChecksumAlgorithm::Crc32c) => returned.crc32c.as_deref(),
        Some(ChecksumAlgorithm::Crc64Nvme) => returned.crc64nvme.as_deref(),
        None => None,
    };
    match (expected, got) {
        (Some(want), Some(got)) if want != got => Err(Error::ChecksumMismatch {
            key: key.to_owned(),
            algorithm: algorithm.map_or("", ChecksumAlgorithm::as_str),
            expected: want.to_owned(),
            actual: got.to_owned(),
        }),
        _ => Ok(()),
    }
}

/// An abort's answer: done, or the upload is already gone (completed or aborted), which
/// is what aborting wanted.
fn aborted_or_gone(op: &AbortMultipartUpload, resp: &Response) -> Result<(), Error> {
    op.parse(resp).or_else(|e| match &e {
        Error::S3(s) if s.kind == S3ErrorKind::NoSuchUpload => Ok(()),
        _ => Err(e),
    })
}

/// A 2xx answer without `ETag` means CORS hides it: say how to fix that.
fn missing_etag(e: Error, bucket: &str) -> Error {
    match e {
        Error::InvalidResponse { detail, .. } if detail.contains("ETag") => Error::EtagNotExposed {
            bucket: bucket.to_owned(),
        },
        e => e,
    }
}

fn rate(sent: u64, total: u64, started: Option<u64>, now: u64) -> Progress {
    let elapsed_ms = started.map_or(0, |s| now.saturating_sub(s));
    let rate = if elapsed_ms > 0 {
        sent as f64 * 1000.0 / elapsed_ms as f64
    } else {
        0.0
    };
    let eta_ms = (rate > 0.0).then(|| ((total - sent.min(total)) as f64 / rate * 1000.0) as u64);
    Progress {
        sent,
        total,
        rate,
        eta_ms,
    }
}
