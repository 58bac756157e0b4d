//! The native driver: a loop around [`updraft_core::engine::Engine`] that sends its
//! requests with reqwest, reads file ranges with positioned reads (never whole files),
//! computes checksums off the async threads, fetches credentials and keeps resume
//! records. Memory stays within about twice `concurrency` × part size: one part in
//! flight and one checksummed ahead per slot.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use updraft_core::checksum::{ChecksumAlgorithm, Crc32c, Crc64Nvme};
use updraft_core::engine::{
    Action, Engine, EngineConfig, Event, FileId, FileSpec, FileStatus, RefreshFailure, RequestId,
};
use updraft_core::http::{Body, Request, Response};
use updraft_core::s3::{Origin, PutOptions};
use updraft_core::sts::AssumeRoleWithWebIdentity;
use updraft_core::{Credentials, Error as WireError, Secret};

use crate::Error;
use crate::config::{CredentialSource, read_token};
use crate::files::Planned;
use crate::output::Output;
use crate::resume::ResumeStore;

/// Bytes handed to reqwest at a time, so that progress moves smoothly.
const CHUNK: usize = 256 * 1024;

/// Everything one run uploads, and how.
#[derive(Debug)]
pub struct Job {
    pub engine: EngineConfig,
    pub files: Vec<Planned>,
    pub credentials: CredentialSource,
    /// Sent with every object: content type (else guessed per file), ACL, metadata, ...
    pub options: PutOptions,
    pub resume: Option<ResumeStore>,
    /// The shortest time between two writes of one file's resume record (default 1 s).
    pub record_interval_ms: u64,
    pub abort_on_cancel: bool,
}

impl Job {
    /// The same job without its files or resume records: for another run of other files
    /// with other options (`updraft deploy`'s pages after its assets).
    pub fn clone_config(&self) -> Job {
        Job {
            engine: self.engine.clone(),
            files: Vec::new(),
            credentials: self.credentials.clone(),
            options: self.options.clone(),
            resume: None,
            record_interval_ms: self.record_interval_ms,
            abort_on_cancel: self.abort_on_cancel,
        }
    }
}

/// How a run ended.
#[derive(Debug, Default)]
pub struct Summary {
    pub completed: usize,
    pub cancelled: usize,
    /// Each failed file's key and error; the key is empty for a failure of the whole run
    /// ([`Error::CredentialsGaveUp`]).
    pub failed: Vec<(String, Error)>,
    pub bytes: u64,
    /// Requests sent, for tests and benchmarks.
    pub requests: u64,
    /// Part uploads sent (UploadPart), for the resume tests.
    pub parts_sent: u64,
    /// Times credentials were fetched.
    pub credential_fetches: u64,
    pub interrupted: bool,
}

enum Msg {
    Answer(RequestId, Result<Response, WireError>),
    Progress(RequestId, u64),
    Checksum(FileId, u32, u64, Result<(u64, Bytes), Error>),
    Body(RequestId, Result<Bytes, Error>),
    Credentials(Result<Credentials, Error>),
}

struct Source {
    planned: Planned,
    file: Arc<File>,
    fingerprint: String,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Bytes read ahead for a part (to checksum it), kept until the part is sent or its file
/// ends: what bounds the CLI's memory to concurrency × part size plus the look-ahead.
#[derive(Default)]
struct Prefetched {
    parts: HashMap<(FileId, u64), Bytes>,
}

impl Prefetched {
    fn keep(&mut self, file: FileId, start: u64, bytes: Bytes) {
        self.parts.insert((file, start), bytes);
    }

    fn take(&mut self, file: FileId, start: u64) -> Option<Bytes> {
        self.parts.remove(&(file, start))
    }

    /// Drops the look-ahead of a file that ended (completed, failed, cancelled): its
    /// parts will not be sent, or will be read again if it is retried (issue 15).
    fn on_event(&mut self, event: &Event) {
        if let Event::StatusChanged { file, status } = event
            && matches!(
                status,
                FileStatus::Completed | FileStatus::Failed | FileStatus::Cancelled
            )
        {
            self.parts.retain(|(f, _), _| f != file);
        }
    }

    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.parts.values().map(Bytes::len).sum()
    }
}

/// Bytes `start..end` of `file`, read from `path`.
fn read_range(file: &File, path: &Path, start: u64, end: u64) -> Result<Bytes, Error> {
    let mut buf = vec![0u8; (end - start) as usize];
    file.read_exact_at(&mut buf, start)
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::UnexpectedEof => Error::FileShrank {
                path: path.to_path_buf(),
                end,
            },
            _ => Error::FileReadFailed {
                path: path.to_path_buf(),
                source,
            },
        })?;
    Ok(Bytes::from(buf))
}

/// Runs `job` until every file is finished, or `interrupt` fires.
pub async fn run(
    job: Job,
    output: &mut Output,
    interrupt: impl std::future::Future<Output = ()>,
) -> Summary {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(job.engine.concurrency.max(1) * 2)
        .build()
        .unwrap_or_default();
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let mut engine = Engine::new(job.engine.clone(), now_ms());
    let mut sources: BTreeMap<FileId, Source> = BTreeMap::new();
    let mut summary = Summary::default();
    let bucket = job.engine.bucket.clone();
    let host = job.engine.endpoint.origin.host.clone();

    for planned in &job.files {
        if let Some(why) = &planned.unreadable {
            summary.failed.push((
                planned.key.clone(),
                Error::FileUnreadable {
                    path: planned.path.clone(),
                    source: std::io::Error::other(why.clone()),
                },
            ));
            continue;
        }
        let file = match File::open(&planned.path) {
            Ok(f) => Arc::new(f),
            Err(source) => {
                summary.failed.push((
                    planned.key.clone(),
                    Error::FileUnreadable {
                        path: planned.path.clone(),
                        source,
                    },
                ));
                continue;
            }
        };
        let fingerprint = format!(
            "{}\n{}\n{}\n{host}\n{bucket}\n{}",
            planned
                .path
                .canonicalize()
                .unwrap_or_else(|_| planned.path.clone())
                .display(),
            planned.size,
            planned.modified,
            planned.key
        );
        let mut options = job.options.clone();
        if options.content_type.is_none() {
            let name = planned
                .path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("");
            options.content_type = Some(updraft_core::object::content_type_for(name).to_owned());
        }
        let resume = job.resume.as_ref().and_then(|s| s.load(&fingerprint));
        let spec = FileSpec {
            name: planned.path.display().to_string(),
            key: planned.key.clone(),
            size: planned.size,
            fingerprint: fingerprint.clone(),
            options,
            resume,
        };
        match engine.add(spec) {
            Ok(id) => {
                output.added(id, planned);
                sources.insert(
                    id,
                    Source {
                        planned: planned.clone(),
                        file,
                        fingerprint,
                    },
                );
            }
            Err(e) => summary.failed.push((planned.key.clone(), Error::Wire(e))),
        }
    }
    if sources.is_empty() {
        return summary;
    }

    let mut prefetched = Prefetched::default();
    let mut in_flight: HashMap<RequestId, JoinHandle<()>> = HashMap::new();
    // Requests waiting for their body to be read, and the file it is read from.
    let mut waiting_body: HashMap<RequestId, (FileId, Request)> = HashMap::new();
    let mut last_saved: HashMap<FileId, u64> = HashMap::new();
    let mut refresh_failures = 0u32;
    let mut cancelling = false;
    tokio::pin!(interrupt);

    loop {
        let now = now_ms();
        while let Some(action) = engine.poll_action(now) {
            match action {
                Action::Send {
                    id,
                    file,
                    request,
                    body,
                } => {
                    summary.requests += 1;
                    if request.query.iter().any(|(k, _)| k == "partNumber") {
                        summary.parts_sent += 1;
                    }
                    let Some(src) = sources.get(&file) else {
                        continue;
                    };
                    match body {
                        None => {
                            let handle = spawn_send(&client, request, None, id, tx.clone());
                            in_flight.insert(id, handle);
                        }
                        Some((start, end)) => {
                            if let Some(bytes) = prefetched.take(file, start) {
                                let handle =
                                    spawn_send(&client, request, Some(bytes), id, tx.clone());
                                in_flight.insert(id, handle);
                            } else {
                                // Read the range off the async threads, then send.
                                let (f, path) = (src.file.clone(), src.planned.path.clone());
                                let tx2 = tx.clone();
                                waiting_body.insert(id, (file, request));
                                tokio::task::spawn_blocking(move || {
                                    let bytes = read_range(&f, &path, start, end);
                                    let _ = tx2.send(Msg::Body(id, bytes));
                                });
                            }
                        }
                    }
                }
                Action::Checksum {
                    file,
                    part,
                    range,
                    algorithm,
                } => {
                    let Some(src) = sources.get(&file) else {
                        continue;
                    };
                    let (f, path) = (src.file.clone(), src.planned.path.clone());
                    let tx2 = tx.clone();
                    tokio::task::spawn_blocking(move || {
                        let result = read_range(&f, &path, range.0, range.1).map(|bytes| {
                            let crc = match algorithm {
                                ChecksumAlgorithm::Crc32c => u64::from(Crc32c::checksum(&bytes)),
                                ChecksumAlgorithm::Crc64Nvme => Crc64Nvme::checksum(&bytes),
                            };
                            (crc, bytes)
                        });
                        let _ = tx2.send(Msg::Checksum(file, part, range.0, result));
                    });
                }
                Action::Post { id, .. } => {
                    // The CLI leaves `post_max_size` at 0: PUT costs no preflight here.
                    engine.handle_response(
                        id,
                        Err(WireError::Network {
                            detail: "POST forms are a browser's upload path; the CLI sends PUTs"
                                .into(),
                        }),
                        now,
                    );
                }
                Action::Cancel { id } => {
                    if let Some(h) = in_flight.remove(&id) {
                        h.abort();
                    }
                    waiting_body.remove(&id);
                }
                Action::RefreshCredentials => {
                    summary.credential_fetches += 1;
                    spawn_credentials(&client, &job.credentials, tx.clone());
                }
            }
        }
        let mut all_done = false;
        while let Some(event) = engine.poll_event() {
            match &event {
                Event::ResumeRecordChanged { file } => {
                    if let (Some(store), Some(src)) = (&job.resume, sources.get(file)) {
                        match engine.resume_record(*file) {
                            // Saved at most once a second per file; the last one on exit.
                            Some(record) => {
                                let last = last_saved.entry(*file).or_insert(0);
                                if now.saturating_sub(*last) >= job.record_interval_ms {
                                    store.save(&src.fingerprint, &record);
                                    *last = now;
                                }
                            }
                            None => store.delete(&src.fingerprint),
                        }
                    }
                }
                Event::Completed { file, .. } => {
                    summary.completed += 1;
                    summary.bytes += sources.get(file).map_or(0, |s| s.planned.size);
                }
                Event::Failed { file, error } => {
                    let key = sources
                        .get(file)
                        .map(|s| s.planned.key.clone())
                        .unwrap_or_default();
                    summary
                        .failed
                        .push((key, Error::Upload(Box::new(error.clone()))));
                }
                Event::StatusChanged {
                    status: FileStatus::Cancelled,
                    ..
                } => {
                    summary.cancelled += 1;
                }
                Event::AllComplete { .. } => all_done = true,
                _ => {}
            }
            prefetched.on_event(&event);
            output.event(&event);
        }
        if all_done && in_flight.is_empty() {
            break;
        }
        let timeout = engine
            .poll_timeout()
            .map(|t| Duration::from_millis(t.saturating_sub(now_ms())))
            .unwrap_or(Duration::from_secs(3600));
        tokio::select! {
            msg = rx.recv() => {
                let Some(msg) = msg else { break };
                let now = now_ms();
                match msg {
                    Msg::Answer(id, result) => {
                        in_flight.remove(&id);
                        engine.handle_response(id, result, now);
                    }
                    Msg::Progress(id, sent) => engine.handle_progress(id, sent, now),
                    Msg::Checksum(file, part, start, Ok((crc, bytes))) => {
                        prefetched.keep(file, start, bytes);
                        engine.handle_checksum(file, part, crc);
                    }
                    // The file fails and its upload stays for a rerun to resume (issue 15).
                    Msg::Checksum(file, _, _, Err(e)) => engine.handle_read_error(file, e.to_string()),
                    Msg::Body(id, Ok(bytes)) => {
                        if let Some((_, request)) = waiting_body.remove(&id) {
                            let handle = spawn_send(&client, request, Some(bytes), id, tx.clone());
                            in_flight.insert(id, handle);
                        }
                    }
                    Msg::Body(id, Err(e)) => {
                        if let Some((file, _)) = waiting_body.remove(&id) {
                            engine.handle_read_error(file, e.to_string());
                        }
                    }
                    Msg::Credentials(Ok(c)) => {
                        refresh_failures = 0;
                        engine.set_credentials(c, now);
                    }
                    Msg::Credentials(Err(e)) => {
                        refresh_failures += 1;
                        output.message(&format!("getting credentials failed: {e}"));
                        // STS refused the token itself (another app's, expired, malformed):
                        // asking again cannot help.
                        let refused = matches!(
                            &e,
                            Error::Credentials {
                                source: updraft_core::Error::Sts(s),
                                ..
                            } if !s.kind.is_retryable()
                        );
                        if refresh_failures >= 5 || refused {
                            // A CLI has no one to sign in again: stop, keeping the uploads
                            // (and their records) for a rerun. Cancelling would need keys
                            // to sign the aborts with (issue 15).
                            summary.failed.push((String::new(), Error::CredentialsGaveUp {
                                attempts: refresh_failures,
                                source: Box::new(e),
                            }));
                            break;
                        } else {
                            engine.handle_credentials_failure(RefreshFailure::Transient, now);
                        }
                    }
                }
            }
            _ = tokio::time::sleep(timeout) => engine.handle_timeout(now_ms()),
            _ = &mut interrupt, if !cancelling => {
                cancelling = true;
                summary.interrupted = true;
                if job.abort_on_cancel {
                    engine.cancel_all();
                } else {
                    break;
                }
            }
        }
    }
    // Keep what lets the next run resume.
    if let Some(store) = &job.resume {
        for (id, src) in &sources {
            if let Some(record) = engine.resume_record(*id) {
                store.save(&src.fingerprint, &record);
            }
        }
    }
    for (_, h) in in_flight {
        h.abort();
    }
    summary
}

fn spawn_send(
    client: &reqwest::Client,
    request: Request,
    body: Option<Bytes>,
    id: RequestId,
    tx: mpsc::UnboundedSender<Msg>,
) -> JoinHandle<()> {
    let client = client.clone();
    tokio::spawn(async move {
        let result = send(&client, request, body, id, &tx).await;
        let _ = tx.send(Msg::Answer(id, result));
    })
}

async fn send(
    client: &reqwest::Client,
    request: Request,
    body: Option<Bytes>,
    id: RequestId,
    tx: &mpsc::UnboundedSender<Msg>,
) -> Result<Response, WireError> {
    let method = reqwest::Method::from_bytes(request.method.as_str().as_bytes()).map_err(|e| {
        WireError::Network {
            detail: e.to_string(),
        }
    })?;
    let mut rb = client.request(method, request.url());
    for (name, value) in &request.headers {
        if name != "host" {
            rb = rb.header(name.as_str(), value.as_str());
        }
    }
    rb = match (&request.body, body) {
        (Body::Bytes(b), _) => rb.body(b.clone()),
        (Body::External { .. }, Some(bytes)) => {
            let len = bytes.len();
            let tx = tx.clone();
            let mut sent = 0u64;
            let chunks: Vec<Bytes> = (0..len)
                .step_by(CHUNK)
                .map(|i| bytes.slice(i..(i + CHUNK).min(len)))
                .collect();
            let stream = futures_util::stream::iter(chunks.into_iter().map(move |c| {
                sent += c.len() as u64;
                let _ = tx.send(Msg::Progress(id, sent));
                Ok::<Bytes, std::io::Error>(c)
            }));
            rb.header("content-length", len.to_string())
                .body(reqwest::Body::wrap_stream(stream))
        }
        _ => rb.body(Bytes::new()),
    };
    let resp = rb.send().await.map_err(|e| WireError::Network {
        detail: network_detail(&e),
    })?;
    let status = resp.status().as_u16();
    let headers = header_pairs(resp.headers());
    let body = resp
        .bytes()
        .await
        .map_err(|e| WireError::Network {
            detail: network_detail(&e),
        })?
        .to_vec();
    Ok(Response {
        status,
        headers,
        body,
    })
}

/// The error without its URL: a presigned URL would carry a signature.
/// An answer's headers as the core reads them: names and (lossy UTF-8) values.
pub(crate) fn header_pairs(headers: &reqwest::header::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

pub(crate) fn network_detail(e: &reqwest::Error) -> String {
    let mut detail = String::new();
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = source {
        if !detail.is_empty() {
            detail.push_str(": ");
        }
        detail.push_str(&err.to_string());
        source = err.source();
    }
    // reqwest names the URL in its message; a presigned one would carry a signature. The
    // URL goes, the causes after it ("tcp connect error: Connection refused") stay.
    if let Some(url) = e.url() {
        detail = detail.replace(&format!(" for url ({url})"), "");
    }
    match detail.find(" for url (") {
        // A URL written some other way: cut there rather than risk showing it.
        Some(i) => detail[..i].to_owned(),
        None => detail,
    }
}

fn spawn_credentials(
    client: &reqwest::Client,
    source: &CredentialSource,
    tx: mpsc::UnboundedSender<Msg>,
) {
    let client = client.clone();
    let source = source.clone();
    tokio::spawn(async move {
        let result = fetch_credentials(&client, &source).await;
        let _ = tx.send(Msg::Credentials(result));
    });
}

/// Credentials from `source`: the keys themselves, or `AssumeRoleWithWebIdentity` with
/// the token file read afresh.
///
/// # Errors
/// [`Error::TokenFileUnreadable`] or [`Error::TokenFileEmpty`] for the token file,
/// [`Error::TokenCommandNotRun`] or [`Error::TokenCommandFailed`] for the token command,
/// [`Error::Network`] when STS does not answer and [`Error::Credentials`] when it refuses
/// (never with the token itself).
pub async fn fetch_credentials(
    client: &reqwest::Client,
    source: &CredentialSource,
) -> Result<Credentials, Error> {
    let (token, role_arn, session_name, sts_endpoint, duration_seconds) = match source {
        CredentialSource::Static(c) => return Ok(c.clone()),
        CredentialSource::WebIdentity {
            token_file,
            role_arn,
            session_name,
            sts_endpoint,
            duration_seconds,
        } => (
            read_token(token_file)?,
            role_arn,
            session_name,
            sts_endpoint,
            *duration_seconds,
        ),
        CredentialSource::WebIdentityCommand {
            program,
            args,
            role_arn,
            session_name,
            sts_endpoint,
            duration_seconds,
        } => {
            let out = tokio::process::Command::new(program)
                .args(args)
                .output()
                .await
                .map_err(|source| Error::TokenCommandNotRun {
                    program: program.clone(),
                    source,
                })?;
            if !out.status.success() {
                return Err(Error::TokenCommandFailed {
                    command: format!("{} {}", program.display(), args.join(" ")),
                    stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
                });
            }
            let token = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            if token.is_empty() {
                // Sent on, STS would answer a vaguer error about a malformed token.
                return Err(Error::TokenCommandFailed {
                    command: format!("{} {}", program.display(), args.join(" ")),
                    stderr: "it succeeded but printed no token on standard output".into(),
                });
            }
            (
                token,
                role_arn,
                session_name,
                sts_endpoint,
                *duration_seconds,
            )
        }
    };
    let refused = |source| Error::Credentials {
        sts_endpoint: sts_endpoint.clone(),
        source,
    };
    let origin = Origin::parse(sts_endpoint).map_err(refused)?;
    let op = AssumeRoleWithWebIdentity {
        role_arn: role_arn.clone(),
        role_session_name: session_name.clone(),
        web_identity_token: Secret::new(token),
        provider_id: None,
        duration_seconds,
        policy: None,
    };
    let response = send_once(client, op.request(&origin)).await?;
    op.parse(&response).map(|o| o.credentials).map_err(refused)
}

/// Sends one request and reads the whole answer.
///
/// # Errors
/// [`Error::Network`] when no answer arrives.
pub async fn send_once(client: &reqwest::Client, request: Request) -> Result<Response, Error> {
    let host = request.host.clone();
    let (tx, _rx) = mpsc::unbounded_channel();
    send(client, request, None, RequestId(u64::MAX), &tx)
        .await
        .map_err(|e| match e {
            WireError::Network { detail } => Error::Network { host, detail },
            other => Error::Wire(other),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A token command that prints nothing is an error naming it, before anything goes
    /// to STS (before, the empty token was sent on).
    #[tokio::test]
    async fn r15_a_token_command_that_prints_nothing_is_an_error() {
        let source = CredentialSource::WebIdentityCommand {
            program: "true".into(),
            args: vec!["--quiet".into()],
            role_arn: "arn:aws:iam::000000000000:role/r".into(),
            session_name: "s".into(),
            // Nothing listens there: reaching it would be a network error instead.
            sts_endpoint: "http://127.0.0.1:9".into(),
            duration_seconds: None,
        };
        let e = fetch_credentials(&reqwest::Client::new(), &source)
            .await
            .unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, Error::TokenCommandFailed { .. }), "{text}");
        assert!(
            text.contains("true --quiet") && text.contains("printed no token"),
            "{text}"
        );
    }

    /// A refused connection says so (before, the cause was cut off with the URL, leaving
    /// "error sending request"), and the URL with its query never shows.
    #[tokio::test]
    async fn r15_a_network_error_keeps_its_cause_and_drops_the_url() {
        // A port nothing listens on: bound, then closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}/k?X-Amz-Signature=s3cr3t");
        let e = reqwest::Client::new().get(&url).send().await.unwrap_err();
        let detail = network_detail(&e);
        assert!(detail.contains("onnection refused"), "{detail}");
        assert!(
            !detail.contains("s3cr3t") && !detail.contains("for url"),
            "{detail}"
        );
    }

    /// The look-ahead of a file that ended is dropped at once; before the fix it stayed
    /// until the run ended, so a failed or cancelled file's parts broke the memory bound.
    #[test]
    fn r15_a_finished_files_look_ahead_is_dropped() {
        let mut p = Prefetched::default();
        let part = || Bytes::from(vec![0u8; 1024]);
        for f in 0..4 {
            p.keep(FileId(f), 0, part());
            p.keep(FileId(f), 1024, part());
        }
        for (f, status) in [
            (0, FileStatus::Failed),
            (1, FileStatus::Cancelled),
            (2, FileStatus::Completed),
        ] {
            p.on_event(&Event::StatusChanged {
                file: FileId(f),
                status,
            });
        }
        // Paused or uploading again: kept, it is about to be sent.
        for status in [FileStatus::Paused, FileStatus::Uploading] {
            p.on_event(&Event::StatusChanged {
                file: FileId(3),
                status,
            });
        }
        assert_eq!(p.bytes(), 2048);
        assert!(p.take(FileId(3), 1024).is_some());
        assert!(p.take(FileId(0), 0).is_none());
    }
}
