//! A file's state: what it waits for, with exactly the data that state needs (in the
//! manner of rustls's `Expect*` states). A request for a part cannot be built without
//! an upload id, because only the states that hold a [`Multipart`] send parts.

use crate::plan::{PartPlan, Plan};
use crate::retry::Backoff;

use super::event::{Completed, FileStatus};
use super::{FileSpec, RequestId};

/// A multipart upload S3 holds (or held) for the file.
#[derive(Clone, Debug)]
pub(super) struct Multipart {
    pub(super) upload_id: String,
    /// Confirmed parts, indexed by part number − 1.
    pub(super) parts: Vec<Option<DonePart>>,
}

/// A confirmed part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct DonePart {
    pub(super) etag: String,
    /// Our own CRC of the part, when we sent it (a part only listed has none).
    pub(super) crc: Option<u64>,
}

/// Where one request of a file stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TaskStatus {
    NeedsChecksum,
    Checksumming,
    Ready,
    InFlight(RequestId),
    /// Waiting for a retry until this time (ms).
    Waiting(u64),
}

/// One request a state sends, with its retries.
#[derive(Clone, Debug)]
pub(super) struct Task {
    pub(super) status: TaskStatus,
    pub(super) backoff: Backoff,
    /// The CRC of the body (PutObject, UploadPart), once the driver computed it.
    pub(super) crc: Option<u64>,
}

impl Task {
    pub(super) fn new() -> Self {
        Task {
            status: TaskStatus::Ready,
            backoff: Backoff::default(),
            crc: None,
        }
    }

    /// A task whose body must be checksummed first (when `checksum` is on).
    pub(super) fn with_body(checksum: bool) -> Self {
        Task {
            status: if checksum {
                TaskStatus::NeedsChecksum
            } else {
                TaskStatus::Ready
            },
            ..Task::new()
        }
    }
}

/// An UploadPart on its way.
#[derive(Clone, Debug)]
pub(super) struct PartTask {
    pub(super) number: u32,
    pub(super) task: Task,
}

/// What follows a successful abort.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum AfterAbort {
    Cancel,
    /// A stale upload (the file changed) was cleaned up: start a new one.
    Restart,
}

/// What to report once cleaning up is done.
#[derive(Clone, Debug)]
pub(super) enum Outcome {
    Completed(Completed),
    Cancelled,
}

/// What a file waits for; see the diagram in the [module docs](super).
#[derive(Clone, Debug)]
pub(super) enum State {
    /// Not started. `upload` is the multipart upload of an earlier attempt (a retry),
    /// continued through ListParts.
    Queued {
        upload: Option<Multipart>,
    },
    /// The single PutObject (or POST form).
    ExpectPut {
        task: Task,
    },
    ExpectCreated {
        task: Task,
    },
    /// ListParts, a page at a time from `marker`, confirms what S3 holds of `upload`.
    ExpectListed {
        upload: Multipart,
        marker: Option<u32>,
        task: Task,
    },
    SendingParts {
        upload: Multipart,
        /// Parts checksummed, waiting or in flight, in part-number order.
        tasks: Vec<PartTask>,
        /// The next part never started.
        next_part: u32,
    },
    ExpectCompleted {
        upload: Multipart,
        task: Task,
        /// An earlier CompleteMultipartUpload's answer was lost: a NoSuchUpload now may
        /// mean it took effect.
        answer_lost: bool,
    },
    /// Whether the object a lost CompleteMultipartUpload may have made is ours.
    ExpectHead {
        upload: Multipart,
        task: Task,
    },
    Aborting {
        upload_id: String,
        then: AfterAbort,
        task: Task,
    },
    /// A CreateMultipartUpload's answer was lost, so S3 may hold uploads this file never
    /// heard of: list the key's uploads a page at a time (from `marker`, until `listed`),
    /// then abort each of `orphans` (all but `ours`, the one completed), then report
    /// `outcome`.
    CleaningUp {
        outcome: Outcome,
        ours: Option<String>,
        orphans: Vec<String>,
        marker: Option<(String, String)>,
        listed: bool,
        task: Task,
    },
    Done,
    /// Failed; `upload` stays open for [`Engine::retry`](super::Engine::retry) or a
    /// resume.
    Failed {
        upload: Option<Multipart>,
    },
    Cancelled,
}

/// A file the engine holds.
#[derive(Clone, Debug)]
pub(super) struct Upload {
    pub(super) spec: FileSpec,
    pub(super) plan: Plan,
    pub(super) state: State,
    /// Paused is a flag, not a state: the state stays, nothing new is sent.
    pub(super) paused: bool,
    pub(super) remove_when_done: bool,
    /// Retries spent, against the file budget.
    pub(super) retries: u32,
    /// Bytes in confirmed parts, and bytes of requests in flight.
    pub(super) confirmed: u64,
    pub(super) in_flight: u64,
    pub(super) started_ms: Option<u64>,
    /// A CreateMultipartUpload went unanswered: it may have created an upload, which is
    /// looked for (state `CleaningUp`) before the file reports its outcome.
    pub(super) create_uncertain: bool,
}

impl State {
    /// The one task of a state that sends one request at a time.
    pub(super) fn task(&self) -> Option<&Task> {
        match self {
            State::ExpectPut { task }
            | State::ExpectCreated { task }
            | State::ExpectListed { task, .. }
            | State::ExpectCompleted { task, .. }
            | State::ExpectHead { task, .. }
            | State::Aborting { task, .. }
            | State::CleaningUp { task, .. } => Some(task),
            _ => None,
        }
    }

    pub(super) fn task_mut(&mut self) -> Option<&mut Task> {
        match self {
            State::ExpectPut { task }
            | State::ExpectCreated { task }
            | State::ExpectListed { task, .. }
            | State::ExpectCompleted { task, .. }
            | State::ExpectHead { task, .. }
            | State::Aborting { task, .. }
            | State::CleaningUp { task, .. } => Some(task),
            _ => None,
        }
    }

    /// Every task of the state.
    /// Calls `f` with each task of the state. A `dyn` callback, not an iterator: each
    /// caller's fold over a chain of adapters was code of its own (wasm size, issue 16).
    pub(super) fn each_task(&self, f: &mut dyn FnMut(&Task)) {
        if let Some(t) = self.task() {
            f(t);
        }
        if let State::SendingParts { tasks, .. } = self {
            for p in tasks {
                f(&p.task);
            }
        }
    }

    pub(super) fn tasks_mut(&mut self) -> impl Iterator<Item = &mut Task> {
        let (one, parts): (Option<&mut Task>, &mut [PartTask]) = match self {
            State::SendingParts { tasks, .. } => (None, tasks),
            s => (s.task_mut(), &mut []),
        };
        one.into_iter().chain(parts.iter_mut().map(|p| &mut p.task))
    }

    /// The multipart upload this state continues, if any.
    pub(super) fn multipart(&self) -> Option<&Multipart> {
        match self {
            State::Queued { upload } | State::Failed { upload } => upload.as_ref(),
            State::ExpectListed { upload, .. }
            | State::SendingParts { upload, .. }
            | State::ExpectCompleted { upload, .. }
            | State::ExpectHead { upload, .. } => Some(upload),
            _ => None,
        }
    }

    /// The state's multipart upload, taken (the state is left to be replaced).
    pub(super) fn take_multipart(&mut self) -> Option<Multipart> {
        match std::mem::replace(self, State::Queued { upload: None }) {
            State::Queued { upload } | State::Failed { upload } => upload,
            State::ExpectListed { upload, .. }
            | State::SendingParts { upload, .. }
            | State::ExpectCompleted { upload, .. }
            | State::ExpectHead { upload, .. } => Some(upload),
            _ => None,
        }
    }

    /// The upload id an abort would end: a multipart upload this file holds.
    pub(super) fn upload_id(&self) -> Option<&str> {
        self.multipart().map(|m| m.upload_id.as_str())
    }

    pub(super) fn finished(&self) -> bool {
        matches!(self, State::Done | State::Failed { .. } | State::Cancelled)
    }

    /// Whether the file is on its way out (aborting or cleaning up after a cancel or a
    /// completion): user commands leave it alone.
    pub(super) fn ending(&self) -> bool {
        matches!(self, State::Aborting { .. } | State::CleaningUp { .. })
    }
}

impl Upload {
    pub(super) fn new(spec: FileSpec, plan: Plan) -> Self {
        Upload {
            spec,
            plan,
            state: State::Queued { upload: None },
            paused: false,
            remove_when_done: false,
            retries: 0,
            confirmed: 0,
            in_flight: 0,
            started_ms: None,
            create_uncertain: false,
        }
    }

    pub(super) fn status(&self) -> FileStatus {
        match self.state {
            State::Done => FileStatus::Completed,
            State::Failed { .. } => FileStatus::Failed,
            State::Cancelled => FileStatus::Cancelled,
            _ if self.paused => FileStatus::Paused,
            State::Queued { .. } => FileStatus::Queued,
            _ => FileStatus::Uploading,
        }
    }

    pub(super) fn finished(&self) -> bool {
        self.state.finished()
    }

    pub(super) fn part_plan(&self) -> Option<PartPlan> {
        match self.plan {
            Plan::Multipart(p) => Some(p),
            Plan::Single { .. } => None,
        }
    }

    /// Bytes of part `n` (a valid part number of a multipart plan), else 0.
    pub(super) fn part_len(&self, n: u32) -> u64 {
        self.part_plan()
            .and_then(|p| p.range(n))
            .map_or(0, |(a, b)| b - a)
    }

    pub(super) fn sent(&self) -> u64 {
        (self.confirmed + self.in_flight).min(self.spec.size)
    }
}
