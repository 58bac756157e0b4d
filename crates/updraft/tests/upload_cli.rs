//! `updraft upload` and `updraft uploads` as a user runs them (issue 6), against
//! `updraft dev` started on ephemeral ports: bytes read back equal the sources, a killed
//! upload resumes without sending stored parts again, unfinished uploads are listed and
//! aborted, and the exit codes say what happened.
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{Dev, TempDir, start};
use updraft_core::http::Method;

const MIB: usize = 1 << 20;

/// `updraft ARGS` with the stack's admin keys and nothing else from this environment.
fn updraft(dev: &Dev, work: &Path, args: &[&str]) -> Command {
    updraft_via(&dev.endpoint, dev, work, args)
}

/// [`updraft`] with the S3 endpoint `endpoint` (a proxy in front of the stack).
fn updraft_via(endpoint: &str, dev: &Dev, work: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_updraft"));
    cmd.args(args)
        .args(["--endpoint-url", endpoint, "--region", "us-east-1"])
        .env("AWS_ACCESS_KEY_ID", &dev.creds.access_key_id)
        .env(
            "AWS_SECRET_ACCESS_KEY",
            dev.creds.secret_access_key.expose(),
        )
        .env("HOME", work)
        .env("XDG_CACHE_HOME", work.join("cache"))
        .env("AWS_CONFIG_FILE", work.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", work.join("no-credentials"));
    for v in [
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
    ] {
        cmd.env_remove(v);
    }
    cmd
}

fn upload_args<'a>(paths: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["upload"];
    v.extend_from_slice(paths);
    v.extend_from_slice(&[
        "--bucket",
        "uploads",
        "--no-progress",
        "--part-size",
        "5MiB",
    ]);
    v.extend_from_slice(extra);
    v
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The `--json` summary line.
fn summary(out: &Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(last).unwrap();
    assert_eq!(v["type"], "summary", "{}", text(out));
    v
}

fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_be_bytes()[0] ^ seed)
        .collect()
}

fn stored(dev: &Dev, key: &str) -> Vec<u8> {
    let (status, head, body) = dev.get_raw(key);
    assert_eq!(status, 200, "{key}: {head}");
    body
}

#[test]
fn r6_sizes_and_a_tree_of_500_files_read_back_byte_for_byte() {
    let dir = TempDir::new("cli-sizes");
    let work = TempDir::new("cli-sizes-work");
    let dev = start(&dir.0, false);
    let sizes = [0, 1, 5 * MIB - 1, 5 * MIB + 1, 64 * MIB];
    let mut files = Vec::new();
    for (i, size) in sizes.iter().enumerate() {
        let p = work.0.join(format!("f{i}.bin"));
        let bytes = data(*size, i as u8);
        std::fs::write(&p, &bytes).unwrap();
        files.push((format!("in/f{i}.bin"), bytes, p));
    }
    let tree = work.0.join("many");
    std::fs::create_dir_all(&tree).unwrap();
    for i in 0..500 {
        let name = format!("{:03} note #{i}.txt", i);
        std::fs::write(tree.join(&name), format!("file {i}")).unwrap();
    }
    let mut paths: Vec<String> = files.iter().map(|f| f.2.display().to_string()).collect();
    paths.push(tree.display().to_string());
    let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
    let out = updraft(
        &dev,
        &work.0,
        &upload_args(&paths, &["--prefix", "in/", "--json", "--concurrency", "8"]),
    )
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let s = summary(&out);
    assert_eq!(s["completed"], 505, "{s}");
    for (key, bytes, _) in &files {
        assert!(stored(&dev, key) == *bytes, "{key} differs");
    }
    for i in (0..500).step_by(37) {
        let key = format!("in/many/{:03} note #{i}.txt", i);
        assert_eq!(stored(&dev, &key), format!("file {i}").into_bytes());
    }
}

/// `updraft uploads list`, then ListParts on the stack: the first unfinished upload
/// under `prefix` and how many of its parts are stored.
fn stored_parts(dev: &Dev, work: &Path, prefix: &str) -> Option<(String, usize)> {
    let out = updraft(
        dev,
        work,
        &["uploads", "list", "--bucket", "uploads", "--prefix", prefix],
    )
    .output()
    .unwrap();
    let list = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut columns = list.lines().next()?.split('\t');
    let (key, id) = (columns.next()?.to_owned(), columns.next()?.to_owned());
    let (status, body) = dev.call(Method::Get, &key, &[("uploadId", id.as_str())], Vec::new());
    assert_eq!(status, 200, "{body}");
    Some((id, body.matches("<PartNumber>").count()))
}

fn kill_9(child: &mut Child) {
    Command::new("kill")
        .args(["-9", &child.id().to_string()])
        .status()
        .unwrap();
    let _ = child.wait();
}

#[test]
fn r6_killed_mid_upload_resumes_without_sending_stored_parts_again() {
    let dir = TempDir::new("cli-resume");
    let work = TempDir::new("cli-resume-work");
    let dev = start(&dir.0, false);
    let file = work.0.join("big.bin");
    let bytes = data(120 * MIB, 3);
    std::fs::write(&file, &bytes).unwrap();
    let path = file.display().to_string();
    let args = upload_args(
        &[&path],
        &["--json", "--concurrency", "1", "--key", "big.bin"],
    );

    let mut first = updraft(&dev, &work.0, &args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if stored_parts(&dev, &work.0, "big.bin").is_some_and(|(_, n)| n >= 3) {
            break;
        }
        assert!(
            first.try_wait().unwrap().is_none(),
            "finished before it could be killed"
        );
        assert!(Instant::now() < deadline, "no parts stored after 60 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    kill_9(&mut first);
    let (upload_id, kept) = stored_parts(&dev, &work.0, "big.bin").unwrap();
    assert!(kept < 24, "{kept} of 24 parts stored already");

    let out = updraft(&dev, &work.0, &args).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let s = summary(&out);
    // 120 MiB in 5 MiB parts: 24 parts, of which the kept ones are not sent again.
    assert_eq!(s["partsSent"], 24 - kept as u64, "kept {kept}: {s}");
    assert!(stored(&dev, "big.bin") == bytes);
    assert!(
        stored_parts(&dev, &work.0, "big.bin").is_none(),
        "{upload_id} is complete"
    );
}

#[test]
fn r6_uploads_list_and_abort_clean_what_a_killed_upload_left() {
    let dir = TempDir::new("cli-abort");
    let work = TempDir::new("cli-abort-work");
    let dev = start(&dir.0, false);
    let file = work.0.join("left.bin");
    std::fs::write(&file, data(100 * MIB, 5)).unwrap();
    let path = file.display().to_string();
    let args = upload_args(&[&path], &["--concurrency", "1", "--key", "left/over.bin"]);
    let mut child = updraft(&dev, &work.0, &args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while stored_parts(&dev, &work.0, "left/").is_none_or(|(_, n)| n == 0) {
        assert!(Instant::now() < deadline, "no part stored after 60 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    kill_9(&mut child);
    let list = updraft(&dev, &work.0, &["uploads", "list", "--bucket", "uploads"])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&list.stdout).into_owned();
    assert!(listed.starts_with("left/over.bin\t"), "{}", text(&list));
    let abort = updraft(
        &dev,
        &work.0,
        &[
            "uploads", "abort", "--bucket", "uploads", "--all", "--prefix", "left/",
        ],
    )
    .output()
    .unwrap();
    assert!(abort.status.success(), "{}", text(&abort));
    assert!(String::from_utf8_lossy(&abort.stdout).contains("aborted left/over.bin"));
    assert!(stored_parts(&dev, &work.0, "left/").is_none());
}

#[test]
fn r6_exit_codes_name_the_problem() {
    let dir = TempDir::new("cli-exit");
    let work = TempDir::new("cli-exit-work");
    let dev = start(&dir.0, false);
    let file = work.0.join("a.txt");
    std::fs::write(&file, b"a").unwrap();
    let path = file.display().to_string();

    // No credentials at all: a usage error, saying what to set.
    let out = updraft(&dev, &work.0, &upload_args(&[&path], &[]))
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("AWS_ACCESS_KEY_ID"));

    // A path that is not there: a usage error naming it.
    let out = updraft(&dev, &work.0, &upload_args(&["/no/such/file"], &[]))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/file"));

    // A bucket that does not exist: the file fails, named with S3's reason.
    let mut args = upload_args(&[&path], &[]);
    let at = args.iter().position(|a| *a == "uploads").unwrap();
    args[at] = "no-such-bucket";
    let out = updraft(&dev, &work.0, &args).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("a.txt") && stderr.contains("NoSuchBucket"),
        "{stderr}"
    );
}

#[test]
fn r6_dev_signs_in_through_dev_token_and_the_role_keeps_users_in_their_folder() {
    let dir = TempDir::new("cli-dev");
    let work = TempDir::new("cli-dev-work");
    let dev = start(&dir.0, false);
    let file = work.0.join("notes.txt");
    std::fs::write(&file, b"alice's notes").unwrap();
    let path = file.display().to_string();
    let dev_flag = format!("--dev={}", dir.0.display());
    let run = |extra: &[&str]| {
        let mut args = vec![
            "upload",
            path.as_str(),
            dev_flag.as_str(),
            "--dev-user",
            "alice",
        ];
        args.extend_from_slice(extra);
        args.push("--no-progress");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_updraft"));
        cmd.args(&args)
            .env("HOME", &work.0)
            .env("XDG_CACHE_HOME", work.0.join("cache"))
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_PROFILE");
        cmd.output().unwrap()
    };
    // Temporary keys from the stack's STS, for alice: her folder is the default prefix.
    let out = run(&[]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(stored(&dev, "alice/notes.txt"), b"alice's notes");
    // The role's policy refuses bob's folder, and the error says so for that key.
    let out = run(&["--prefix", "bob/"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bob/notes.txt") && stderr.contains("AccessDenied"),
        "{stderr}"
    );
}

#[test]
fn r6_short_sessions_are_refreshed_from_the_token_file_mid_upload() {
    let dir = TempDir::new("cli-refresh");
    let work = TempDir::new("cli-refresh-work");
    // Dev-only: STS grants one-second sessions, so keys expire many times per upload.
    let config = work.0.join("updraft.toml");
    std::fs::write(&config, "min_session_seconds = 1\n").unwrap();
    let dev = common::start_with(&dir.0, false, &["--config", config.to_str().unwrap()]);
    let token = Command::new(env!("CARGO_BIN_EXE_updraft"))
        .args(["dev", "token", "--sub", "carol", "--data-dir"])
        .arg(&dir.0)
        .output()
        .unwrap();
    assert!(token.status.success(), "{}", text(&token));
    let token_file = work.0.join("token");
    std::fs::write(&token_file, &token.stdout).unwrap();
    let stack: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.0.join("stack.json")).unwrap()).unwrap();
    let tree = work.0.join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    let big = data(48 * MIB, 9);
    std::fs::write(tree.join("big.bin"), &big).unwrap();
    for i in 0..200 {
        std::fs::write(tree.join(format!("s{i:03}")), data(64 * 1024, i as u8)).unwrap();
    }
    let tree_arg = tree.display().to_string();
    let out = updraft(
        &dev,
        &work.0,
        &upload_args(
            &[&tree_arg],
            &[
                "--prefix",
                "carol/",
                "--concurrency",
                "1",
                "--session-duration",
                "1",
                "--json",
            ],
        ),
    )
    .env_remove("AWS_ACCESS_KEY_ID")
    .env_remove("AWS_SECRET_ACCESS_KEY")
    .env("AWS_WEB_IDENTITY_TOKEN_FILE", &token_file)
    .env("AWS_ROLE_ARN", stack["role_arn"].as_str().unwrap())
    .env(
        "AWS_ENDPOINT_URL_STS",
        stack["sts_endpoint"].as_str().unwrap(),
    )
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let s = summary(&out);
    assert_eq!(s["completed"], 201, "{s}");
    assert!(
        s["credentialFetches"].as_u64().unwrap() >= 3,
        "keys lasting one second were fetched only {} times: {s}",
        s["credentialFetches"]
    );
    assert!(stored(&dev, "carol/tree/big.bin") == big);
}

/// A TCP proxy to `target` whose first connection hangs: it reads whatever comes and
/// never answers. Returns its address and the number of connections it accepted.
fn stalling_proxy(
    target: &str,
) -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use std::io::{Read, copy};
    use std::net::{TcpListener, TcpStream};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    let target = target.to_owned();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut client) = conn else { return };
            if count.fetch_add(1, Ordering::SeqCst) == 0 {
                std::thread::spawn(move || {
                    let mut sink = [0u8; 64 * 1024];
                    while matches!(client.read(&mut sink), Ok(n) if n > 0) {}
                });
                continue;
            }
            let Ok(mut server) = TcpStream::connect(&target) else {
                return;
            };
            let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || copy(&mut c2, &mut s2));
            std::thread::spawn(move || copy(&mut server, &mut client));
        }
    });
    (addr, accepted)
}

#[test]
fn r7_a_request_that_stalls_is_abandoned_and_sent_again() {
    let dir = TempDir::new("cli-stall");
    let work = TempDir::new("cli-stall-work");
    let dev = start(&dir.0, false);
    let bytes = data(MIB, 21);
    let file = work.0.join("stall.bin");
    std::fs::write(&file, &bytes).unwrap();
    let (proxy, accepted) = stalling_proxy(&dev.host());

    let started = Instant::now();
    let path = file.display().to_string();
    let args = upload_args(&[&path], &["--stall-timeout", "1", "--json"]);
    let out = updraft_via(&format!("http://{proxy}"), &dev, &work.0, &args)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(summary(&out)["completed"], 1, "{}", text(&out));
    assert!(
        accepted.load(std::sync::atomic::Ordering::SeqCst) >= 2,
        "the stalled connection was given up for a new one"
    );
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited out the stall"
    );
    assert_eq!(stored(&dev, "stall.bin"), bytes);
}

/// A file that cannot be read any more mid-upload (here: truncated, as when it is
/// replaced or its disk goes) fails with a message naming it, and its multipart upload
/// stays open with the stored parts; once the file is back, a rerun resumes it and sends
/// only the parts S3 lacks. Before the fix the CLI cancelled the file, which aborted the
/// upload and threw the stored parts away.
#[test]
fn r15_a_read_error_keeps_the_upload_and_a_rerun_resumes_it() {
    let dir = TempDir::new("cli-read-error");
    let work = TempDir::new("cli-read-error-work");
    let dev = start(&dir.0, false);
    let file = work.0.join("big.bin");
    let bytes = data(120 * MIB, 5);
    std::fs::write(&file, &bytes).unwrap();
    let modified = std::fs::metadata(&file).unwrap().modified().unwrap();
    let path = file.display().to_string();
    let args = upload_args(
        &[&path],
        &["--json", "--concurrency", "1", "--key", "big.bin"],
    );

    let first = updraft(&dev, &work.0, &args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while stored_parts(&dev, &work.0, "big.bin").is_none_or(|(_, n)| n < 2) {
        assert!(Instant::now() < deadline, "no parts stored after 60 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::OpenOptions::new()
        .write(true)
        .open(&file)
        .unwrap()
        .set_len(0)
        .unwrap();
    let out = first.wait_with_output().unwrap();
    assert!(!out.status.success(), "{}", text(&out));
    let all = text(&out);
    assert!(
        all.contains("could not be read") && all.contains("big.bin") && all.contains("shorter"),
        "{all}"
    );
    let (upload_id, kept) = stored_parts(&dev, &work.0, "big.bin").expect("the upload stays");
    assert!((2..24).contains(&kept), "{kept} parts stored");

    // The file is back as it was: the rerun continues the same upload.
    std::fs::write(&file, &bytes).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(modified)
        .unwrap();
    let out = updraft(&dev, &work.0, &args).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let s = summary(&out);
    assert!(
        s["partsSent"].as_u64().unwrap() <= 24 - kept as u64,
        "kept {kept}: {s}"
    );
    assert!(stored(&dev, "big.bin") == bytes);
    assert!(
        stored_parts(&dev, &work.0, "big.bin").is_none(),
        "{upload_id} is complete"
    );
}

/// The fault mix of the soak runs (issue 18): about one request in eight meets a fault.
pub(crate) const SOAK_FAULTS: &str =
    "500=0.02,503=0.02,slowdown=0.02,reset=0.02,stall=0.01,expired-token=0.05,lose-answer=0.02";

/// `faults injected: 500=3 …` from a stopped `updraft dev`'s log, each fault with a floor
/// of one: a run whose faults silently stopped firing fails here.
fn injected(log: &Path) -> Vec<(String, u64)> {
    let text = std::fs::read_to_string(log).unwrap();
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("updraft dev: faults injected:"))
        .unwrap_or_else(|| panic!("no summary in the log:\n{text}"));
    let counts: Vec<(String, u64)> = line
        .split_whitespace()
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_owned(), v.parse().unwrap())
        })
        .collect();
    println!("faults injected: {line}");
    assert_eq!(
        counts.len(),
        7,
        "every fault of the spec is counted: {line}"
    );
    for (fault, n) in &counts {
        assert!(*n >= 1, "no `{fault}` fault was injected: {line}");
    }
    counts
}

/// Stops `dev` as a user does (SIGTERM), so it writes its faults' summary.
fn terminate(mut dev: Dev) {
    Command::new("kill")
        .args(["-TERM", &dev.child.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while dev.child.try_wait().unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "updraft dev did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// How many objects are stored under `prefix` (the first page of ListObjectsV2).
fn listed(dev: &Dev, prefix: &str) -> usize {
    match dev.try_call(
        Method::Get,
        "",
        &[("list-type", "2"), ("prefix", prefix)],
        Duration::from_secs(5),
    ) {
        Some((200, body)) => body.matches("<Key>").count(),
        _ => 0,
    }
}

#[test]
fn r18_soak_500_files_through_faults_expiring_keys_a_kill_and_a_rerun() {
    let dir = TempDir::new("cli-soak");
    let work = TempDir::new("cli-soak-work");
    // Dev-only: sessions as short as asked, so keys expire during the run.
    let config = work.0.join("updraft.toml");
    std::fs::write(&config, "min_session_seconds = 1\n").unwrap();
    let log = work.0.join("dev.log");
    let dev = common::start_logging(
        &dir.0,
        true,
        &[
            "--config",
            config.to_str().unwrap(),
            "--faults",
            SOAK_FAULTS,
            "--faults-seed",
            "18",
        ],
        Some(&log),
    );
    let token = Command::new(env!("CARGO_BIN_EXE_updraft"))
        .args(["dev", "token", "--sub", "soak", "--data-dir"])
        .arg(&dir.0)
        .output()
        .unwrap();
    assert!(token.status.success(), "{}", text(&token));
    let token_file = work.0.join("token");
    std::fs::write(&token_file, &token.stdout).unwrap();
    let stack: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.0.join("stack.json")).unwrap()).unwrap();

    // 100 empty files, 380 small ones, 20 of 5–20 MiB (multipart in 5 MiB parts).
    let tree = work.0.join("mix");
    std::fs::create_dir_all(&tree).unwrap();
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for i in 0..100 {
        files.push((format!("e{i:03}"), Vec::new()));
    }
    for i in 0..380 {
        files.push((
            format!("s{i:03}"),
            data(1 + (i * 173) % (64 * 1024), i as u8),
        ));
    }
    for i in 0..20 {
        files.push((
            format!("m{i:02}"),
            data(5 * MIB + 1 + i * (15 * MIB / 19), i as u8),
        ));
    }
    for (name, bytes) in &files {
        std::fs::write(tree.join(name), bytes).unwrap();
    }
    let tree_arg = tree.display().to_string();
    let args = upload_args(
        &[&tree_arg],
        &[
            "--prefix",
            "soak/",
            "--concurrency",
            "8",
            "--session-duration",
            "15",
            "--stall-timeout",
            "3",
            "--json",
        ],
    );
    let run = || {
        let mut cmd = updraft(&dev, &work.0, &args);
        cmd.env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env("AWS_WEB_IDENTITY_TOKEN_FILE", &token_file)
            .env("AWS_ROLE_ARN", stack["role_arn"].as_str().unwrap())
            .env(
                "AWS_ENDPOINT_URL_STS",
                stack["sts_endpoint"].as_str().unwrap(),
            );
        cmd
    };

    // kill -9 part-way, once a third of the files are stored.
    let mut first = run()
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    while listed(&dev, "soak/mix/") < 170 {
        assert!(
            first.try_wait().unwrap().is_none(),
            "finished before it could be killed"
        );
        assert!(
            Instant::now() < deadline,
            "170 files not stored after 300 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    kill_9(&mut first);
    let log_at_kill = std::fs::metadata(&log).unwrap().len() as usize;

    let out = run().output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let s = summary(&out);
    assert_eq!(s["completed"], 500, "{s}");
    assert!(
        s["credentialFetches"].as_u64().unwrap() >= 2,
        "keys lasting 15 s were fetched only {} times: {s}",
        s["credentialFetches"]
    );
    terminate(dev);
    let counts = injected(&log);
    println!("soak (CLI): {s}; {counts:?}");

    // Read back on the same data, without faults.
    let dev = start(&dir.0, false);
    for (name, bytes) in &files {
        let key = format!("soak/mix/{name}");
        assert!(stored(&dev, &key) == *bytes, "{key} differs");
    }
    // An upload is left open only where a CreateMultipartUpload's answer was lost (or the
    // kill came between its request and its answer): the uploader's role may not list the
    // bucket's uploads (S3 has no prefix condition for it), so it cannot find that upload
    // to abort it. Such an upload holds no part: it stores nothing, and the bucket's
    // lifecycle rule (AbortIncompleteMultipartUpload) removes it. Anything else is a leak.
    let (status, body) = dev.call(Method::Get, "", &[("uploads", "")], Vec::new());
    assert_eq!(status, 200, "{body}");
    let log = std::fs::read_to_string(&log).unwrap();
    let open: Vec<(String, String)> = body
        .split("<Upload>")
        .skip(1)
        .map(|u| {
            let field = |name: &str| {
                u.split(&format!("<{name}>"))
                    .nth(1)
                    .and_then(|r| r.split(&format!("</{name}>")).next())
                    .unwrap_or_default()
                    .to_owned()
            };
            (field("Key"), field("UploadId"))
        })
        .collect();
    let lost_creates = log
        .lines()
        .filter(|l| l.starts_with("fault lose-answer: POST ") && l.ends_with("?uploads"))
        .count();
    println!(
        "soak (CLI): {} upload(s) left open, {lost_creates} CreateMultipartUpload answer(s) lost",
        open.len()
    );
    // The kill may come between one CreateMultipartUpload and its answer.
    let mut killed_mid_create = 1;
    for (key, id) in &open {
        let (status, parts) = dev.call(Method::Get, key, &[("uploadId", id)], Vec::new());
        assert_eq!(status, 200, "{parts}");
        let lost = log
            .lines()
            .any(|l| l == format!("fault lose-answer: POST uploads/{key}?uploads"));
        if !parts.contains("<Part>") {
            if lost {
                continue;
            }
            if killed_mid_create > 0 {
                killed_mid_create -= 1;
                continue;
            }
        }
        // What the faulty stack saw of this upload, before and after the kill.
        let open = [key.as_str()];
        let about = |text: &str| -> Vec<String> {
            text.lines()
                .filter(|l| {
                    open.iter().any(|k| {
                        let k = format!("uploads/{k}");
                        l.contains(&format!("{k} "))
                            || l.contains(&format!("{k}?"))
                            || l.ends_with(&k)
                    })
                })
                .map(str::to_owned)
                .collect()
        };
        let at = log_at_kill.min(log.len());
        // After the kill, the bucket's own requests are the uploader's ListMultipartUploads.
        let bucket: Vec<String> = log[at..]
            .lines()
            .filter(|l| l.contains(" uploads/ "))
            .map(str::to_owned)
            .collect();
        let seen = [
            about(&log[..at]),
            vec!["-- kill -9 --".to_owned()],
            about(&log[at..]),
            vec!["-- bucket requests after the kill --".to_owned()],
            bucket,
        ]
        .concat();
        panic!(
            "{key} ({id}) is left open with {} part(s), its CreateMultipartUpload answered:\n{}\n{body}",
            parts.matches("<Part>").count(),
            seen.join("\n")
        );
    }
}
