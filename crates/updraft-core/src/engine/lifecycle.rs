//! A file's transitions between states, how it ends, and the bookkeeping that goes
//! with them: progress, events, requests and checksums released.

use crate::Error;

use super::event::{Completed, Event, Progress, UploadError};
use super::request::InFlight;
use super::state::{Outcome, State, Task, TaskStatus, Upload};
use super::{Engine, FileId, RequestId};

/// How a file ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum End {
    Done,
    /// Failed, keeping its multipart upload for a retry.
    Failed,
    Cancelled,
}

impl Engine {
    /// After a part is stored or the upload was created: complete when every part is in.
    pub(super) fn after_part(&mut self, file: FileId) {
        let Some(u) = self.uploads.get_mut(&file) else {
            return;
        };
        let count = u.part_plan().map_or(0, |p| p.count);
        let State::SendingParts {
            upload,
            tasks,
            next_part,
        } = &mut u.state
        else {
            return;
        };
        if !tasks.is_empty() {
            return;
        }
        // Parts are started in order and leave `tasks` only when stored, so with no task
        // left every part below the cursor is stored; move it past stored parts (amortised
        // O(1) per part) and see whether any part is left.
        while *next_part <= count && upload.parts[*next_part as usize - 1].is_some() {
            *next_part += 1;
        }
        if *next_part > count
            && let Some(upload) = u.state.take_multipart()
        {
            u.state = State::ExpectCompleted {
                upload,
                task: Task::new(),
                answer_lost: false,
            };
        }
    }

    /// Starts the multipart upload again from nothing (the old one is gone).
    pub(super) fn restart(&mut self, file: FileId) {
        self.release_checksums(file);
        let Some(u) = self.uploads.get_mut(&file) else {
            return;
        };
        u.confirmed = 0;
        u.state = State::ExpectCreated { task: Task::new() };
        self.events.push_back(Event::ResumeRecordChanged { file });
    }

    /// When a CreateMultipartUpload answer was lost, starts cleaning up before `outcome`
    /// is reported; returns whether it did.
    pub(super) fn clean_up_first(&mut self, file: FileId, outcome: Outcome) -> bool {
        let Some(u) = self.uploads.get_mut(&file) else {
            return false;
        };
        if !u.create_uncertain {
            return false;
        }
        u.create_uncertain = false;
        self.release_checksums(file);
        let Some(u) = self.uploads.get_mut(&file) else {
            return false;
        };
        let ours = u.state.upload_id().map(str::to_owned);
        u.state = State::CleaningUp {
            outcome,
            ours,
            orphans: Vec::new(),
            marker: None,
            listed: false,
            task: Task::new(),
        };
        true
    }

    /// Aborts the next orphan, or reports the outcome when none is left.
    pub(super) fn next_cleanup(&mut self, file: FileId, now: u64) {
        let Some(u) = self.uploads.get_mut(&file) else {
            return;
        };
        let State::CleaningUp {
            orphans, listed, ..
        } = &u.state
        else {
            return;
        };
        if !*listed || !orphans.is_empty() {
            return;
        }
        match std::mem::replace(&mut u.state, State::Cancelled) {
            State::CleaningUp {
                outcome: Outcome::Completed(c),
                ..
            } => self.complete(file, c, now),
            _ => self.finish(file, End::Cancelled),
        }
    }

    pub(super) fn complete(&mut self, file: FileId, completed: Completed, now: u64) {
        if self.clean_up_first(file, Outcome::Completed(completed.clone())) {
            return;
        }
        if let Some(u) = self.uploads.get_mut(&file) {
            u.confirmed = u.spec.size;
        }
        self.progress(file, now);
        // Completed before the status change and AllComplete it may bring.
        self.events.push_back(Event::Completed { file, completed });
        self.finish(file, End::Done);
    }

    pub(super) fn fail(&mut self, file: FileId, error: Error) {
        self.report(file, error);
        self.finish(file, End::Failed);
    }

    pub(super) fn report(&mut self, file: FileId, error: Error) {
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

    pub(super) fn finish(&mut self, file: FileId, end: End) {
        self.release_checksums(file);
        self.cancel_requests(file);
        let Some(u) = self.uploads.get_mut(&file) else {
            return;
        };
        u.state = match end {
            End::Done => {
                u.confirmed = u.spec.size;
                State::Done
            }
            End::Failed => State::Failed {
                upload: u.state.take_multipart(),
            },
            End::Cancelled => State::Cancelled,
        };
        u.paused = false;
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

    /// Forgets every request of `file` and tells the driver to stop them; returns
    /// whether one of them was a CreateMultipartUpload.
    pub(super) fn cancel_requests(&mut self, file: FileId) -> bool {
        let mut ids = Vec::new();
        for (id, r) in self.requests.iter() {
            if r.file == file {
                ids.push(*id);
            }
        }
        let mut creating = false;
        for id in ids {
            if let Some(r) = self.forget_request(id) {
                creating |= matches!(r.sent, super::request::Sent::Create(_));
            }
            self.cancels.push_back(id);
        }
        creating
    }

    fn check_all_complete(&mut self) {
        if self.all_complete_sent || !self.queue.is_empty() || !self.active.is_empty() {
            return;
        }
        let (mut completed, mut failed, mut cancelled) = (0, 0, 0);
        for u in self.uploads.values() {
            match u.state {
                State::Done => completed += 1,
                State::Failed { .. } => failed += 1,
                State::Cancelled => cancelled += 1,
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

    pub(super) fn status_changed(&mut self, file: FileId) {
        if let Some(status) = self.status(file) {
            self.events.push_back(Event::StatusChanged { file, status });
        }
    }

    /// Drops request `id`, taking its bytes out of its file's progress.
    pub(super) fn forget_request(&mut self, id: RequestId) -> Option<InFlight> {
        let r = self.requests.remove(&id)?;
        if let Some(u) = self.uploads.get_mut(&r.file) {
            u.in_flight = u.in_flight.saturating_sub(r.moved);
        }
        Some(r)
    }

    /// Gives back the checksum slots `file`'s tasks hold.
    pub(super) fn release_checksums(&mut self, file: FileId) {
        if let Some(u) = self.uploads.get(&file) {
            let mut n = 0;
            u.state
                .each_task(&mut |t| n += usize::from(t.status == TaskStatus::Checksumming));
            self.checksumming = self.checksumming.saturating_sub(n);
        }
    }

    pub(super) fn progress(&mut self, file: FileId, now: u64) {
        let Some(u) = self.uploads.get(&file) else {
            return;
        };
        let file_progress = rate(u.sent(), u.spec.size, u.started_ms, now);
        let mut in_progress = 0;
        for f in self.active.iter().chain(&self.paused) {
            in_progress += self.uploads.get(f).map_or(0, Upload::sent);
        }
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

    /// The URL of the object at `key`.
    pub(super) fn location(&self, key: &str) -> String {
        let (host, path) = self.config.endpoint.locate(&self.config.bucket, Some(key));
        crate::cat!(
            "{}://{}{}",
            self.config.endpoint.origin.scheme.as_str(),
            host,
            path
        )
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
