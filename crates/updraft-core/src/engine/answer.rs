//! Reading answers: each request's answer is parsed by the S3 operation it was built
//! from, then applied by the method of the state that sent it; a failure goes through
//! the one error table ([`crate::retry::classify`]).

use crate::http::Response;
use crate::retry::{Disposition, classify};
use crate::s3::{
    AbortMultipartUpload, Checksums, CompleteMultipartUpload, CompleteMultipartUploadOutput,
    ListMultipartUploadsOutput, ListParts, ListPartsOutput, S3ErrorKind, UploadPartOutput,
};
use crate::{Error, Timestamp};

use super::checksums::{checksum_base64, composite_crc32c, full_crc, verify_checksum};
use super::event::{Completed, Event};
use super::request::{InFlight, Sent};
use super::state::{AfterAbort, DonePart, Multipart, Outcome, State, Task, TaskStatus};
use super::{Engine, FileId, RequestId};

impl Engine {
    /// The answer to request `id`, or the network error that stopped it.
    pub fn handle_response(&mut self, id: RequestId, result: Result<Response, Error>, now: u64) {
        let Some(r) = self.forget_request(id) else {
            return; // cancelled, or answered twice
        };
        let file = r.file;
        let Some(u) = self.uploads.get(&file) else {
            return;
        };
        let mut ours = false;
        u.state
            .each_task(&mut |t| ours |= t.status == TaskStatus::InFlight(id));
        if !ours {
            return; // its file moved on (restarted, cancelled)
        }
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
        let outcome = result.and_then(|resp| self.on_answer(file, id, &r.sent, &resp, now));
        if let Err(error) = outcome {
            self.on_failure(file, id, &r, date, error, now);
            // A failed request's bytes are no longer counted: they must be sent again. (A
            // stored part or file reports its progress where it is confirmed, so the figure
            // never dips in between; issue 15.)
            if r.len > 0 {
                self.progress(file, now);
            }
        }
    }

    /// Parses a successful-looking answer by what was sent and applies it; `Err` when
    /// the answer is a failure. Nothing changes before the answer has parsed.
    fn on_answer(
        &mut self,
        file: FileId,
        id: RequestId,
        sent: &Sent,
        resp: &Response,
        now: u64,
    ) -> Result<(), Error> {
        match sent {
            Sent::Put(op) => {
                self.etag_exposed(resp)?;
                let out = op.parse(resp)?;
                self.on_stored(file, out.etag, &out.checksums, now)
            }
            Sent::Post(op) => {
                let out = op.parse(resp)?;
                let returned = Checksums {
                    crc32c: resp.header("x-amz-checksum-crc32c").map(str::to_owned),
                    crc64nvme: resp.header("x-amz-checksum-crc64nvme").map(str::to_owned),
                };
                // A form upload needs no ETag; S3 sends one, which CORS may hide.
                self.on_stored(file, out.etag.unwrap_or_default(), &returned, now)
            }
            Sent::Create(op) => {
                let out = op.parse(resp)?;
                self.on_created(file, out.upload_id);
                Ok(())
            }
            Sent::Part(op) => {
                self.etag_exposed(resp)?;
                let out = op.parse(resp)?;
                self.on_part(file, id, op.part_number, out, now)
            }
            Sent::List(op) => {
                let page = op.parse(resp)?;
                self.on_listed(file, op, &page, now);
                Ok(())
            }
            Sent::Complete(op) => {
                let out = op.parse(resp)?;
                self.on_completed(file, op, out, now)
            }
            Sent::Head(op) => {
                let out = op.parse(resp)?;
                self.on_head(file, out, now);
                Ok(())
            }
            Sent::Abort(op) => {
                aborted_or_gone(op, resp)?;
                self.on_aborted(file);
                Ok(())
            }
            Sent::ListUploads(op) => {
                let page = op.parse(resp)?;
                self.on_uploads_listed(file, page, now);
                Ok(())
            }
            Sent::AbortOrphan(op) => {
                aborted_or_gone(op, resp)?;
                self.on_orphan_aborted(file, now);
                Ok(())
            }
        }
    }

    /// A 2xx answer to a PUT without `ETag` means the bucket's CORS rules hide it.
    fn etag_exposed(&self, resp: &Response) -> Result<(), Error> {
        if (200..300).contains(&resp.status) && resp.header("etag").is_none() {
            return Err(Error::EtagNotExposed {
                bucket: self.config.bucket.clone(),
            });
        }
        Ok(())
    }

    /// `ExpectPut`: the single PutObject or POST form stored the file.
    fn on_stored(
        &mut self,
        file: FileId,
        etag: String,
        returned: &Checksums,
        now: u64,
    ) -> Result<(), Error> {
        let algorithm = self.config.checksum;
        let Some(u) = self.uploads.get_mut(&file) else {
            return Ok(());
        };
        let State::ExpectPut { task } = &u.state else {
            return Ok(());
        };
        let expected = task.crc.map(|c| checksum_base64(algorithm, c));
        verify_checksum(&u.spec.key, algorithm, expected.as_deref(), returned)?;
        u.confirmed = u.spec.size;
        let key = u.spec.key.clone();
        let completed = Completed {
            location: self.location(&key),
            bucket: self.config.bucket.clone(),
            key,
            etag,
            checksum: expected,
        };
        self.complete(file, completed, now);
        Ok(())
    }

    /// `ExpectCreated`: the multipart upload exists; send its parts.
    fn on_created(&mut self, file: FileId, upload_id: String) {
        let Some(u) = self.uploads.get_mut(&file) else {
            return;
        };
        if !matches!(u.state, State::ExpectCreated { .. }) {
            return;
        }
        let count = u.part_plan().map_or(0, |p| p.count);
        u.state = State::SendingParts {
            upload: Multipart {
                upload_id,
                parts: vec![None; count as usize],
            },
            tasks: Vec::new(),
            next_part: 1,
        };
        self.events.push_back(Event::ResumeRecordChanged { file });
        self.after_part(file);
    }

    /// `SendingParts`: part `n` is stored.
    fn on_part(
        &mut self,
        file: FileId,
        id: RequestId,
        n: u32,
        out: UploadPartOutput,
        now: u64,
    ) -> Result<(), Error> {
        let algorithm = self.config.checksum;
        let Some(u) = self.uploads.get_mut(&file) else {
            return Ok(());
        };
        let len = u.part_len(n);
        let State::SendingParts { upload, tasks, .. } = &mut u.state else {
            return Ok(());
        };
        let Some(i) = tasks
            .iter()
            .position(|t| t.task.status == TaskStatus::InFlight(id))
        else {
            return Ok(());
        };
        let crc = tasks[i].task.crc;
        let expected = crc.map(|c| checksum_base64(algorithm, c));
        verify_checksum(&u.spec.key, algorithm, expected.as_deref(), &out.checksums)?;
        tasks.remove(i);
        upload.parts[n as usize - 1] = Some(DonePart {
            etag: out.etag,
            crc,
        });
        u.confirmed += len;
        // The part's bytes moved from in flight to confirmed: report it now, with
        // nothing lost in between (issue 15).
        self.progress(file, now);
        self.events.push_back(Event::ResumeRecordChanged { file });
        self.after_part(file);
        Ok(())
    }

    /// `ExpectListed`: a page of the parts S3 holds; the next page, or send what is
    /// missing.
    fn on_listed(&mut self, file: FileId, op: &ListParts, page: &ListPartsOutput, now: u64) {
        let Some(u) = self.uploads.get_mut(&file) else {
            return;
        };
        let plan = u.part_plan();
        let State::ExpectListed {
            upload,
            marker,
            task,
        } = &mut u.state
        else {
            return;
        };
        for p in &page.parts {
            let Some(slot) = (p.part_number as usize)
                .checked_sub(1)
                .and_then(|i| upload.parts.get_mut(i))
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
            // Our own CRC of a part we sent; a part this device has no record of is used
            // without one (S3's listed checksum is not ours to vouch for), and the
            // whole-object checksum is then left to S3.
            let crc = slot
                .as_ref()
                .filter(|d| d.etag == p.etag)
                .and_then(|d| d.crc);
            *slot = Some(DonePart {
                etag: p.etag.clone(),
                crc,
            });
        }
        // Parts between this page's start and end that were not listed are not on S3
        // and must be sent.
        let from = op.part_number_marker.unwrap_or(0);
        let to = if page.is_truncated {
            page.next_part_number_marker.unwrap_or(u32::MAX)
        } else {
            u32::MAX
        };
        for (i, slot) in upload.parts.iter_mut().enumerate() {
            let n = i as u32 + 1;
            if n > from && n <= to && !page.parts.iter().any(|p| p.part_number == n) {
                *slot = None;
            }
        }
        if let Some(next) = op.next_page(page) {
            *marker = next.part_number_marker;
            *task = Task::new();
            return;
        }
        let Some(upload) = u.state.take_multipart() else {
            return;
        };
        u.confirmed = upload
            .parts
            .iter()
            .enumerate()
            .filter(|(_, p)| p.is_some())
            .filter_map(|(i, _)| plan?.range(i as u32 + 1))
            .map(|(a, b)| b - a)
            .sum();
        u.state = State::SendingParts {
            upload,
            tasks: Vec::new(),
            next_part: 1,
        };
        self.events.push_back(Event::ResumeRecordChanged { file });
        self.after_part(file);
        self.progress(file, now);
    }

    /// `ExpectCompleted`: S3 assembled the object; check its checksum.
    fn on_completed(
        &mut self,
        file: FileId,
        op: &CompleteMultipartUpload,
        out: CompleteMultipartUploadOutput,
        now: u64,
    ) -> Result<(), Error> {
        let Some(u) = self.uploads.get(&file) else {
            return Ok(());
        };
        let State::ExpectCompleted { upload, .. } = &u.state else {
            return Ok(());
        };
        let expected = op
            .full_object_crc64nvme
            .clone()
            .or_else(|| composite_crc32c(&self.config, upload));
        let got = out
            .checksums
            .crc64nvme
            .as_deref()
            .or(out.checksums.crc32c.as_deref());
        if let (Some(want), Some(got)) = (expected.as_deref(), got)
            && want != got
        {
            return Err(Error::ChecksumMismatch {
                key: op.key.clone(),
                algorithm: self
                    .config
                    .checksum
                    .map_or("", crate::checksum::ChecksumAlgorithm::as_str),
                expected: want.to_owned(),
                actual: got.to_owned(),
            });
        }
        let completed = Completed {
            location: self.location(&op.key),
            bucket: op.bucket.clone(),
            key: op.key.clone(),
            etag: out.etag,
            checksum: expected,
        };
        self.complete(file, completed, now);
        Ok(())
    }

    /// `ExpectHead`: after a lost CompleteMultipartUpload answer and a NoSuchUpload, is
    /// the object at the key the one we completed?
    fn on_head(&mut self, file: FileId, out: crate::s3::HeadObjectOutput, now: u64) {
        let Some(u) = self.uploads.get(&file) else {
            return;
        };
        let State::ExpectHead { upload, .. } = &u.state else {
            return;
        };
        let parts = u.part_plan().map_or(0, |p| p.count);
        let ours = out.content_length == Some(u.spec.size)
            && out
                .etag
                .as_deref()
                .is_some_and(|e| e.trim_matches('"').ends_with(&crate::cat!("-{}", parts)));
        if !ours {
            // The upload is gone and the object is not ours: start again.
            self.restart(file);
            return;
        }
        let completed = Completed {
            location: self.location(&u.spec.key),
            bucket: self.config.bucket.clone(),
            key: u.spec.key.clone(),
            etag: out.etag.unwrap_or_default(),
            checksum: full_crc(&self.config, u, upload),
        };
        self.complete(file, completed, now);
    }

    /// `Aborting`: the upload is gone; cancelled, or start afresh.
    fn on_aborted(&mut self, file: FileId) {
        let Some(u) = self.uploads.get_mut(&file) else {
            return;
        };
        let State::Aborting { then, .. } = u.state else {
            return;
        };
        match then {
            AfterAbort::Cancel => {
                if !self.clean_up_first(file, Outcome::Cancelled) {
                    self.finish(file, super::lifecycle::End::Cancelled);
                }
            }
            AfterAbort::Restart => self.restart(file),
        }
    }

    /// `CleaningUp`: a page of the key's unfinished uploads.
    fn on_uploads_listed(&mut self, file: FileId, page: ListMultipartUploadsOutput, now: u64) {
        let Some(u) = self.uploads.get_mut(&file) else {
            return;
        };
        let State::CleaningUp {
            ours,
            orphans,
            marker,
            listed,
            task,
            ..
        } = &mut u.state
        else {
            return;
        };
        let key = &u.spec.key;
        for m in page.uploads {
            if m.key == *key && Some(&m.upload_id) != ours.as_ref() {
                orphans.push(m.upload_id);
            }
        }
        *task = Task::new();
        if page.is_truncated
            && let (Some(k), Some(id)) = (page.next_key_marker, page.next_upload_id_marker)
        {
            *marker = Some((k, id));
        } else {
            *listed = true;
            self.next_cleanup(file, now);
        }
    }

    /// `CleaningUp`: an orphan is aborted.
    fn on_orphan_aborted(&mut self, file: FileId, now: u64) {
        if let Some(u) = self.uploads.get_mut(&file)
            && let State::CleaningUp { orphans, task, .. } = &mut u.state
        {
            orphans.pop();
            *task = Task::new();
            self.next_cleanup(file, now);
        }
    }

    /// A request failed: retry it as the error table says, or give up on the file.
    fn on_failure(
        &mut self,
        file: FileId,
        id: RequestId,
        r: &InFlight,
        date: Option<Timestamp>,
        error: Error,
        now: u64,
    ) {
        let temporary = self.credentials.temporary();
        let no_such_upload = matches!(&error, Error::S3(s) if s.kind == S3ErrorKind::NoSuchUpload);
        let network = matches!(error, Error::Network { .. });
        let Some(u) = self.uploads.get_mut(&file) else {
            return;
        };
        if no_such_upload {
            match (&r.sent, &u.state) {
                // The answer to an earlier Complete was lost: see whether it took effect.
                (
                    Sent::Complete(_),
                    State::ExpectCompleted {
                        answer_lost: true, ..
                    },
                ) => {
                    if let Some(upload) = u.state.take_multipart() {
                        u.state = State::ExpectHead {
                            upload,
                            task: Task::new(),
                        };
                    }
                    return;
                }
                (Sent::Part(_) | Sent::List(_) | Sent::Complete(_), _) => {
                    self.restart(file);
                    return;
                }
                _ => {}
            }
        }
        match (&r.sent, &mut u.state) {
            (Sent::Complete(_), State::ExpectCompleted { answer_lost, .. }) if network => {
                *answer_lost = true;
            }
            (Sent::Create(_), _) if network => u.create_uncertain = true,
            _ => {}
        }
        let budget_left = u.retries < self.config.retry.file_retry_budget;
        let Some(task) = u
            .state
            .tasks_mut()
            .find(|t| t.status == TaskStatus::InFlight(id))
        else {
            return;
        };
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
        if let State::CleaningUp {
            orphans, listed, ..
        } = &mut u.state
        {
            // Cleaning up is a courtesy: report the outcome all the same; a lifecycle
            // rule on the bucket removes what is left.
            orphans.clear();
            *listed = true;
            self.next_cleanup(file, now);
            return;
        }
        if let Sent::Abort(op) = &r.sent {
            // The upload could not be aborted: say so, naming the upload to clean up.
            let then = match u.state {
                State::Aborting { then, .. } => then,
                _ => AfterAbort::Cancel,
            };
            let error = Error::AbortFailed {
                upload_id: op.upload_id.clone(),
                reason: crate::cat!("{}", error),
            };
            self.report(file, error);
            match then {
                AfterAbort::Cancel => self.finish(file, super::lifecycle::End::Cancelled),
                AfterAbort::Restart => self.restart(file),
            }
            return;
        }
        self.fail(file, error);
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
