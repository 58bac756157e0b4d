//! The scheduler: which file gets the next free request slot, checksums asked for
//! ahead, timeouts, and starting queued files.

use crate::plan::Plan;
use crate::sigv4::SigningParams;
use crate::{Error, Timestamp};

use super::request::{self, InFlight, Sent, Slot, build, post_form, stall_limit};
use super::state::{AfterAbort, DonePart, Multipart, PartTask, State, Task, TaskStatus};
use super::{Action, Engine, FileId, LOOKAHEAD, RequestId};

impl Engine {
    /// When [`Engine::handle_timeout`] should be called next (ms), if anything waits.
    pub fn poll_timeout(&self) -> Option<u64> {
        // Plain loops, not a chain of iterator adapters, whose code is its own (wasm size).
        let mut min = self
            .credentials
            .next_timeout()
            .map(|t| t.saturating_add_signed(-self.clock_offset_secs.saturating_mul(1000)));
        let mut take = |t: u64| min = Some(min.map_or(t, |m| m.min(t)));
        for u in self.active.iter().filter_map(|f| self.uploads.get(f)) {
            u.state.each_task(&mut |task| {
                if let TaskStatus::Waiting(at) = task.status {
                    take(at);
                }
            });
        }
        for r in self.requests.values() {
            if let Some(limit) = r.stall_limit_ms {
                take(r.active_at.saturating_add(limit));
            }
        }
        min
    }

    /// Time passed: waiting retries become ready, and requests that stalled are
    /// abandoned ([`Action::Cancel`]) and retried. [`Engine::poll_action`] calls it too,
    /// so a driver that polls need not call it on time.
    pub fn handle_timeout(&mut self, now: u64) {
        let mut stalled = Vec::new();
        for (id, r) in self.requests.iter() {
            if let Some(limit) = r.stall_limit_ms
                && now >= r.active_at.saturating_add(limit)
            {
                stalled.push((*id, limit));
            }
        }
        for (id, limit) in stalled {
            if self.requests.get(&id).is_none() {
                continue; // ended with its file by an earlier one's failure
            }
            self.cancels.push_back(id);
            let error = Error::Network {
                detail: crate::cat!(
                    "no byte moved for {} s: the connection stalled",
                    limit.div_ceil(1000)
                ),
            };
            self.handle_response(id, Err(error), now);
        }
        for f in &self.active {
            if let Some(u) = self.uploads.get_mut(f) {
                for t in u.state.tasks_mut() {
                    if let TaskStatus::Waiting(at) = t.status
                        && at <= now
                    {
                        // A task waits only after it was sent, so its checksum is known.
                        t.status = TaskStatus::Ready;
                    }
                }
            }
        }
    }

    /// The next thing the driver must do, if any. It fires due timeouts first (see
    /// [`Engine::handle_timeout`]).
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
        if let Some(id) = self.cancels.pop_front() {
            return Some(Action::Cancel { id });
        }
        let mut i = 0;
        while i < self.active.len() {
            let file = self.active[i];
            if let Some(a) = self.poll_upload(file, now) {
                return Some(a);
            }
            i += 1;
        }
        // Start queued files while a slot is free and the files in progress cannot use it.
        let slots = self.config.concurrency.max(1) * (1 + self.config.form_urls.len());
        while self.requests.len() < slots && self.active.len() < 2 * slots {
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
        let bucket = &self.config.bucket;
        let Some(u) = self.uploads.get_mut(&file) else {
            return;
        };
        u.started_ms.get_or_insert(now);
        self.batch_started_ms.get_or_insert(now);
        self.active.push(file);
        let plan = match u.plan {
            Plan::Single { .. } => {
                u.state = State::ExpectPut {
                    task: Task::with_body(needs),
                };
                self.status_changed(file);
                return;
            }
            Plan::Multipart(plan) => plan,
        };
        // The upload of an earlier attempt, or one a stored record names for this file.
        let mut upload = u.state.take_multipart();
        if let Some(r) = u.spec.resume.take().filter(|r| r.bucket == *bucket) {
            let same_file = r.key == u.spec.key
                && r.size == u.spec.size
                && r.part_size == plan.part_size
                && r.fingerprint == u.spec.fingerprint;
            if same_file {
                let mut parts = vec![None; plan.count as usize];
                for p in &r.parts {
                    if let Some(slot) = (p.number as usize)
                        .checked_sub(1)
                        .and_then(|i| parts.get_mut(i))
                    {
                        *slot = Some(DonePart {
                            etag: p.etag.clone(),
                            crc: p.crc,
                        });
                    }
                }
                upload = Some(Multipart {
                    upload_id: r.upload_id,
                    parts,
                });
            } else if r.key == u.spec.key {
                // The file changed since: abort the old upload, then start afresh.
                u.state = State::Aborting {
                    upload_id: r.upload_id,
                    then: AfterAbort::Restart,
                    task: Task::new(),
                };
                self.status_changed(file);
                return;
            }
        }
        u.state = match upload {
            Some(upload) => State::ExpectListed {
                upload,
                marker: None,
                task: Task::new(),
            },
            None => State::ExpectCreated { task: Task::new() },
        };
        self.status_changed(file);
    }

    /// The next request (or checksum) of `file`, when it has one and a slot is free.
    fn poll_upload(&mut self, file: FileId, now: u64) -> Option<Action> {
        let concurrency = self.config.concurrency.max(1);
        let checksum = self.config.checksum;
        let server_now = self.server_now(now);
        let u = self.uploads.get_mut(&file)?;
        if u.paused || u.finished() {
            return None;
        }
        let count = u.part_plan().map_or(0, |p| p.count);
        // Ask for checksums ahead, so a part is ready when a slot frees.
        if let Some(algorithm) = checksum
            && self.checksumming < concurrency
        {
            if let State::SendingParts {
                upload,
                tasks,
                next_part,
            } = &mut u.state
            {
                let waiting = tasks
                    .iter()
                    .filter(|t| !matches!(t.task.status, TaskStatus::InFlight(_)))
                    .count();
                if waiting < LOOKAHEAD {
                    start_next_part(upload, tasks, next_part, count, true);
                }
            }
            let wanted = match &u.state {
                State::ExpectPut { task } if task.status == TaskStatus::NeedsChecksum => {
                    Some((Slot::One, 0))
                }
                State::SendingParts { tasks, .. } => tasks
                    .iter()
                    .position(|t| t.task.status == TaskStatus::NeedsChecksum)
                    .map(|i| (Slot::Part(i), tasks[i].number)),
                _ => None,
            };
            if let Some((slot, part)) = wanted {
                let range = if part == 0 {
                    (0, u.spec.size)
                } else {
                    u.part_plan()?.range(part)?
                };
                task_at(&mut u.state, slot)?.status = TaskStatus::Checksumming;
                self.checksumming += 1;
                return Some(Action::Checksum {
                    file,
                    part,
                    range,
                    algorithm,
                });
            }
        }
        let lanes = 1 + self.config.form_urls.len();
        if self.requests.len() >= concurrency * lanes {
            return None;
        }
        // Without checksums, parts are ready as soon as they are started.
        if checksum.is_none()
            && let State::SendingParts {
                upload,
                tasks,
                next_part,
            } = &mut u.state
            && !tasks.iter().any(|t| t.task.status == TaskStatus::Ready)
        {
            start_next_part(upload, tasks, next_part, count, false);
        }
        let slot = match &u.state {
            State::SendingParts { tasks, .. } => Slot::Part(
                tasks
                    .iter()
                    .position(|t| t.task.status == TaskStatus::Ready)?,
            ),
            s => {
                (s.task()?.status == TaskStatus::Ready).then_some(())?;
                Slot::One
            }
        };
        let creds = self.credentials.usable(server_now)?.clone();
        let time = Timestamp::from_unix((server_now / 1000) as i64);
        let sent = build(&self.config, u, slot)?;
        let id = RequestId(self.next_request);
        let body = sent.body(u);
        let len = body.map_or(0, |(a, b)| b - a);
        let post = matches!(sent, Sent::Post(_));
        // A form goes to the host with the fewest requests in flight; the rest to the endpoint.
        let in_lane = |l| self.requests.values().filter(|r| r.lane == l).count();
        let lane = if post {
            (0..lanes).min_by_key(|l| in_lane(*l)).unwrap_or(0)
        } else {
            0
        };
        if in_lane(lane) >= concurrency {
            return None;
        }
        let action = match request::request(&self.config, &sent) {
            None => {
                let crc = task_at(&mut u.state, slot)?.crc;
                let (url, fields) =
                    post_form(&self.config, u, crc, &creds, time, &mut self.signer, lane);
                Action::Post {
                    id,
                    file,
                    url,
                    fields,
                    body: (0, u.spec.size),
                }
            }
            Some(mut request) => {
                let params = SigningParams::s3(&creds, &self.config.endpoint.region, time);
                if let Err(e) = self.signer.sign(&mut request, &params) {
                    self.fail(file, e);
                    return None;
                }
                Action::Send {
                    id,
                    file,
                    request,
                    body,
                }
            }
        };
        self.next_request += 1;
        task_at(&mut u.state, slot)?.status = TaskStatus::InFlight(id);
        self.requests.insert(
            id,
            InFlight {
                file,
                sent,
                len,
                moved: 0,
                active_at: now,
                stall_limit_ms: stall_limit(self.config.stall_timeout_ms, post, len),
                signed_at: time,
                offset_secs: self.clock_offset_secs,
                lane,
            },
        );
        Some(action)
    }

    // ---- what the driver reports -----------------------------------------------------

    /// The checksum of the range asked for by [`Action::Checksum`] (the CRC's value).
    pub fn handle_checksum(&mut self, file: FileId, part: u32, crc: u64) {
        let Some(u) = self.uploads.get_mut(&file) else {
            return;
        };
        let task = match &mut u.state {
            State::ExpectPut { task } if part == 0 => task,
            State::SendingParts { tasks, .. } => {
                match tasks.iter_mut().find(|t| t.number == part) {
                    Some(t) => &mut t.task,
                    None => return,
                }
            }
            _ => return,
        };
        if task.status == TaskStatus::Checksumming {
            task.crc = Some(crc);
            task.status = TaskStatus::Ready;
            self.checksumming = self.checksumming.saturating_sub(1);
        }
    }

    /// The driver could not read the file's bytes (for a checksum or a request's body):
    /// the file was moved, deleted or its disk unplugged. The file fails with `detail`
    /// in its message, and its multipart upload stays open with the parts S3 stored, for
    /// [`Engine::retry`] or a resume once the file can be read again.
    pub fn handle_read_error(&mut self, file: FileId, detail: String) {
        let Some(u) = self.uploads.get(&file) else {
            return;
        };
        if u.finished() || u.state.ending() {
            return;
        }
        self.fail(file, Error::ReadFailed { detail });
    }

    /// `sent` bytes of request `id`'s body have gone out.
    pub fn handle_progress(&mut self, id: RequestId, sent: u64, now: u64) {
        let Some(r) = self.requests.get_mut(&id) else {
            return;
        };
        let sent = sent.min(r.len);
        if sent <= r.moved {
            return;
        }
        let delta = sent - r.moved;
        r.moved = sent;
        r.active_at = now;
        let file = r.file;
        if let Some(u) = self.uploads.get_mut(&file) {
            u.in_flight += delta;
        }
        self.progress(file, now);
    }
}

/// The task in `slot` of `state`.
pub(super) fn task_at(state: &mut State, slot: Slot) -> Option<&mut Task> {
    match (state, slot) {
        (State::SendingParts { tasks, .. }, Slot::Part(i)) => tasks.get_mut(i).map(|t| &mut t.task),
        (s, Slot::One) => s.task_mut(),
        _ => None,
    }
}

/// Starts the next part not yet stored (parts start in order).
fn start_next_part(
    upload: &Multipart,
    tasks: &mut Vec<PartTask>,
    next_part: &mut u32,
    count: u32,
    checksum: bool,
) {
    while *next_part <= count {
        let n = *next_part;
        *next_part += 1;
        if upload.parts[n as usize - 1].is_none() {
            tasks.push(PartTask {
                number: n,
                task: Task::with_body(checksum),
            });
            return;
        }
    }
}
