//! The store against a client nobody here wrote: the AWS CLI from PyPI (issue 4).
//!
//! `cargo xtask test` installs it into `~/.cache/updraft/venv` and runs these with
//! `UPDRAFT_AWS_CLI` pointing at it; plain `cargo test` lists them as ignored.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use updraft_dev::StackInfo;

fn aws_cli() -> PathBuf {
    PathBuf::from(
        std::env::var_os("UPDRAFT_AWS_CLI")
            .expect("UPDRAFT_AWS_CLI: run through `cargo xtask test`"),
    )
}

/// Runs `aws <args>` against the stack with its admin keys; panics with the output on failure.
async fn aws(info: &StackInfo, home: &Path, args: &[&str]) -> String {
    let mut cmd = Command::new(aws_cli());
    cmd.args([
        "--endpoint-url",
        &info.s3_endpoint,
        "--region",
        &info.region,
    ])
    .args(args)
    .env("AWS_ACCESS_KEY_ID", &info.admin_access_key_id)
    .env("AWS_SECRET_ACCESS_KEY", &info.admin_secret_access_key)
    .env("AWS_CONFIG_FILE", home.join("config"))
    .env("AWS_SHARED_CREDENTIALS_FILE", home.join("credentials"))
    .env("HOME", home)
    .env_remove("AWS_PROFILE")
    .env_remove("AWS_SESSION_TOKEN");
    let shown = args.join(" ");
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("the aws thread panicked")
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", aws_cli().display()));
    assert!(
        out.status.success(),
        "aws {shown} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the AWS CLI: `cargo xtask test` installs it and runs this"]
async fn r4_aws_cli_cp_50_mib_multipart_and_back() {
    let dir = TempDir::new("awscp");
    let work = TempDir::new("awscp-work");
    let stack = start(&dir.0).await;
    let info = stack.info();
    let src = work.0.join("big.bin");
    let data = pseudo_random(50 * 1024 * 1024, 4);
    std::fs::write(&src, &data).unwrap();
    aws(
        info,
        &work.0,
        &[
            "s3",
            "cp",
            src.to_str().unwrap(),
            "s3://uploads/dir/big.bin",
        ],
    )
    .await;
    let head = aws(
        info,
        &work.0,
        &[
            "s3api",
            "head-object",
            "--bucket",
            "uploads",
            "--key",
            "dir/big.bin",
        ],
    )
    .await;
    assert!(
        head.contains("-7\\\""),
        "50 MiB in 8 MiB parts is a 7-part ETag: {head}"
    );
    let back = work.0.join("back.bin");
    aws(
        info,
        &work.0,
        &[
            "s3",
            "cp",
            "s3://uploads/dir/big.bin",
            back.to_str().unwrap(),
        ],
    )
    .await;
    assert!(
        std::fs::read(&back).unwrap() == data,
        "download differs from the upload"
    );
    stack.stop().await;
}

const ODD_NAMES: &[&str] = &[
    "plain.txt",
    "with space.txt",
    "plus+sign.txt",
    "100%.txt",
    "hash#tag.txt",
    "question?mark.txt",
    "dots..name",
    "..leading",
    "ünïcødé/日本語 ファイル.txt",
    "deep/a/b/c/d.txt",
    "amp&lt.txt",
];

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the AWS CLI: `cargo xtask test` installs it and runs this"]
async fn r4_aws_cli_sync_odd_names_both_ways() {
    let dir = TempDir::new("awssync");
    let work = TempDir::new("awssync-work");
    let stack = start(&dir.0).await;
    let info = stack.info();
    let up = work.0.join("up");
    for (i, name) in ODD_NAMES.iter().enumerate() {
        let p = up.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, pseudo_random(1000 + i * 777, i as u64 + 1)).unwrap();
    }
    aws(
        info,
        &work.0,
        &["s3", "sync", up.to_str().unwrap(), "s3://uploads/tree"],
    )
    .await;
    let listing = aws(
        info,
        &work.0,
        &["s3", "ls", "--recursive", "s3://uploads/tree/"],
    )
    .await;
    for name in ODD_NAMES {
        assert!(
            listing.contains(&format!("tree/{name}")),
            "{name} missing from:\n{listing}"
        );
    }
    // A second sync has nothing to do.
    let again = aws(
        info,
        &work.0,
        &["s3", "sync", up.to_str().unwrap(), "s3://uploads/tree"],
    )
    .await;
    assert!(
        again.trim().is_empty(),
        "second sync uploaded again:\n{again}"
    );
    let down = work.0.join("down");
    aws(
        info,
        &work.0,
        &["s3", "sync", "s3://uploads/tree", down.to_str().unwrap()],
    )
    .await;
    for name in ODD_NAMES {
        assert_eq!(
            std::fs::read(up.join(name)).unwrap(),
            std::fs::read(down.join(name)).unwrap(),
            "{name}"
        );
    }
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the AWS CLI: `cargo xtask test` installs it and runs this"]
async fn r4_aws_cli_bucket_cors_presign_and_multipart_uploads() {
    let dir = TempDir::new("awsapi");
    let work = TempDir::new("awsapi-work");
    let stack = start(&dir.0).await;
    let info = stack.info();

    // put-bucket-cors / get-bucket-cors, then a preflight the new rule governs.
    let cors = r#"{"CORSRules":[{"AllowedOrigins":["https://app.example"],"AllowedMethods":["PUT"],"AllowedHeaders":["*"],"ExposeHeaders":["ETag"],"MaxAgeSeconds":600}]}"#;
    aws(
        info,
        &work.0,
        &[
            "s3api",
            "put-bucket-cors",
            "--bucket",
            "uploads",
            "--cors-configuration",
            cors,
        ],
    )
    .await;
    let got = aws(
        info,
        &work.0,
        &["s3api", "get-bucket-cors", "--bucket", "uploads"],
    )
    .await;
    assert!(
        got.contains("https://app.example") && got.contains("ETag"),
        "{got}"
    );
    let h = host(&info.s3_endpoint);
    let pre = |origin: &str| {
        vec![
            ("origin".to_owned(), origin.to_owned()),
            ("access-control-request-method".to_owned(), "PUT".to_owned()),
        ]
    };
    assert_eq!(
        send(
            &h,
            "OPTIONS",
            "/uploads/k",
            &pre("https://app.example"),
            b""
        )
        .await
        .status,
        200
    );
    assert_eq!(
        send(&h, "OPTIONS", "/uploads/k", &pre(&info.app_url), b"")
            .await
            .status,
        403
    );

    // s3 presign, then a GET by curl.
    let file = work.0.join("small.txt");
    std::fs::write(&file, b"presigned body").unwrap();
    aws(
        info,
        &work.0,
        &[
            "s3",
            "cp",
            file.to_str().unwrap(),
            "s3://uploads/p/small file+.txt",
        ],
    )
    .await;
    let url = aws(
        info,
        &work.0,
        &[
            "s3",
            "presign",
            "s3://uploads/p/small file+.txt",
            "--expires-in",
            "300",
        ],
    )
    .await;
    let out = Command::new("curl")
        .args(["-sS", "-f", url.trim()])
        .output()
        .expect("curl");
    assert!(
        out.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"presigned body");

    // Server-side copy and move.
    aws(
        info,
        &work.0,
        &[
            "s3",
            "cp",
            "s3://uploads/p/small file+.txt",
            "s3://uploads/p/copied #1.txt",
        ],
    )
    .await;
    aws(
        info,
        &work.0,
        &[
            "s3",
            "mv",
            "s3://uploads/p/copied #1.txt",
            "s3://uploads/p/moved.txt",
        ],
    )
    .await;
    let back = work.0.join("moved.txt");
    aws(
        info,
        &work.0,
        &[
            "s3",
            "cp",
            "s3://uploads/p/moved.txt",
            back.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(std::fs::read(&back).unwrap(), b"presigned body");
    let listing = aws(info, &work.0, &["s3", "ls", "s3://uploads/p/"]).await;
    assert!(!listing.contains("copied #1.txt"), "{listing}");

    // list-multipart-uploads sees an upload in progress; abort removes it.
    let created = aws(
        info,
        &work.0,
        &[
            "s3api",
            "create-multipart-upload",
            "--bucket",
            "uploads",
            "--key",
            "mp/in progress.bin",
        ],
    )
    .await;
    let id = created
        .split("\"UploadId\": \"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let listed = aws(
        info,
        &work.0,
        &["s3api", "list-multipart-uploads", "--bucket", "uploads"],
    )
    .await;
    assert!(
        listed.contains(&id) && listed.contains("mp/in progress.bin"),
        "{listed}"
    );
    aws(
        info,
        &work.0,
        &[
            "s3api",
            "abort-multipart-upload",
            "--bucket",
            "uploads",
            "--key",
            "mp/in progress.bin",
            "--upload-id",
            &id,
        ],
    )
    .await;
    let listed = aws(
        info,
        &work.0,
        &["s3api", "list-multipart-uploads", "--bucket", "uploads"],
    )
    .await;
    assert!(!listed.contains(&id), "{listed}");
    stack.stop().await;
}

/// Runs `aws <args>` with the given environment only (no admin keys); returns
/// (success, stdout, stderr).
async fn aws_as(home: &Path, env: &[(&str, &str)], args: &[&str]) -> (bool, String, String) {
    let mut cmd = Command::new(aws_cli());
    cmd.args(args)
        .env("AWS_CONFIG_FILE", home.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("credentials"))
        .env("HOME", home)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("the aws thread panicked")
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", aws_cli().display()));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the AWS CLI: `cargo xtask test` installs it and runs this"]
async fn r5_aws_cli_assume_role_with_web_identity_then_cp_20_mib_under_the_users_prefix() {
    let dir = TempDir::new("awssts");
    let work = TempDir::new("awssts-work");
    let stack = start(&dir.0).await;
    let info = stack.info();
    let token = updraft_dev::id_token(&dir.0, "alice", 600).unwrap();
    let (ok, out, err) = aws_as(
        &work.0,
        &[
            ("AWS_ENDPOINT_URL_STS", &info.sts_endpoint),
            ("AWS_REGION", &info.region),
        ],
        &[
            "sts",
            "assume-role-with-web-identity",
            "--role-arn",
            &info.role_arn,
            "--role-session-name",
            "cli",
            "--web-identity-token",
            &token,
            "--output",
            "json",
        ],
    )
    .await;
    assert!(ok, "assume-role-with-web-identity failed: {err}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["SubjectFromWebIdentityToken"], "alice");
    let c = &j["Credentials"];
    let env = [
        ("AWS_ACCESS_KEY_ID", c["AccessKeyId"].as_str().unwrap()),
        (
            "AWS_SECRET_ACCESS_KEY",
            c["SecretAccessKey"].as_str().unwrap(),
        ),
        ("AWS_SESSION_TOKEN", c["SessionToken"].as_str().unwrap()),
        ("AWS_ENDPOINT_URL_S3", info.s3_endpoint.as_str()),
        ("AWS_REGION", info.region.as_str()),
        ("AWS_DEFAULT_REGION", info.region.as_str()),
    ];
    let src = work.0.join("big.bin");
    let data = pseudo_random(20 * 1024 * 1024, 5);
    std::fs::write(&src, &data).unwrap();
    let (ok, _, err) = aws_as(
        &work.0,
        &env,
        &[
            "s3",
            "cp",
            src.to_str().unwrap(),
            "s3://uploads/alice/big.bin",
        ],
    )
    .await;
    assert!(ok, "cp under alice/ failed: {err}");
    let head = aws(
        info,
        &work.0,
        &[
            "s3api",
            "head-object",
            "--bucket",
            "uploads",
            "--key",
            "alice/big.bin",
        ],
    )
    .await;
    assert!(head.contains("-3\\\""), "20 MiB in 8 MiB parts: {head}");
    let back = work.0.join("back.bin");
    let (ok, _, err) = aws_as(
        &work.0,
        &env,
        &[
            "s3",
            "cp",
            "s3://uploads/alice/big.bin",
            back.to_str().unwrap(),
        ],
    )
    .await;
    assert!(ok, "cp back failed: {err}");
    assert!(std::fs::read(&back).unwrap() == data, "download differs");
    let (ok, out, _) = aws_as(&work.0, &env, &["s3", "ls", "s3://uploads/alice/"]).await;
    assert!(ok && out.contains("big.bin"), "{out}");
    // Outside the user's folder: AccessDenied, as on AWS.
    let (ok, _, err) = aws_as(
        &work.0,
        &env,
        &[
            "s3",
            "cp",
            src.to_str().unwrap(),
            "s3://uploads/bob/big.bin",
        ],
    )
    .await;
    assert!(!ok && err.contains("AccessDenied"), "{err}");
    let (ok, _, err) = aws_as(&work.0, &env, &["s3", "ls", "s3://uploads/bob/"]).await;
    assert!(!ok && err.contains("AccessDenied"), "{err}");
    // A forged token through the CLI: InvalidIdentityToken.
    let (ok, _, err) = aws_as(
        &work.0,
        &[
            ("AWS_ENDPOINT_URL_STS", &info.sts_endpoint),
            ("AWS_REGION", &info.region),
        ],
        &[
            "sts",
            "assume-role-with-web-identity",
            "--role-arn",
            &info.role_arn,
            "--role-session-name",
            "cli",
            "--web-identity-token",
            &format!(
                "{}{}",
                &token[..token.len() - 1],
                if token.ends_with('A') { 'B' } else { 'A' }
            ),
        ],
    )
    .await;
    assert!(!ok && err.contains("InvalidIdentityToken"), "{err}");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the AWS CLI: `cargo xtask test` installs it and runs this"]
async fn r5_aws_cli_cognito_guest_get_id_credentials_and_upload() {
    let dir = TempDir::new("awscog");
    let work = TempDir::new("awscog-work");
    let stack = start(&dir.0).await;
    let info = stack.info();
    let env = [
        (
            "AWS_ENDPOINT_URL_COGNITO_IDENTITY",
            info.cognito_endpoint.as_str(),
        ),
        ("AWS_REGION", info.region.as_str()),
        ("AWS_DEFAULT_REGION", info.region.as_str()),
    ];
    let (ok, out, err) = aws_as(
        &work.0,
        &env,
        &[
            "cognito-identity",
            "get-id",
            "--no-sign-request",
            "--identity-pool-id",
            &info.identity_pool_id,
            "--output",
            "json",
        ],
    )
    .await;
    assert!(ok, "get-id failed: {err}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    let id = j["IdentityId"].as_str().unwrap().to_owned();
    let (ok, out, err) = aws_as(
        &work.0,
        &env,
        &[
            "cognito-identity",
            "get-credentials-for-identity",
            "--no-sign-request",
            "--identity-id",
            &id,
            "--output",
            "json",
        ],
    )
    .await;
    assert!(ok, "get-credentials-for-identity failed: {err}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    let c = &j["Credentials"];
    let s3env = [
        ("AWS_ACCESS_KEY_ID", c["AccessKeyId"].as_str().unwrap()),
        ("AWS_SECRET_ACCESS_KEY", c["SecretKey"].as_str().unwrap()),
        ("AWS_SESSION_TOKEN", c["SessionToken"].as_str().unwrap()),
        ("AWS_ENDPOINT_URL_S3", info.s3_endpoint.as_str()),
        ("AWS_REGION", info.region.as_str()),
        ("AWS_DEFAULT_REGION", info.region.as_str()),
    ];
    let src = work.0.join("guest.bin");
    std::fs::write(&src, pseudo_random(1024 * 1024, 6)).unwrap();
    let (ok, _, err) = aws_as(
        &work.0,
        &s3env,
        &[
            "s3",
            "cp",
            src.to_str().unwrap(),
            &format!("s3://uploads/guest/{id}/guest.bin"),
        ],
    )
    .await;
    assert!(ok, "guest upload failed: {err}");
    let (ok, _, err) = aws_as(
        &work.0,
        &s3env,
        &[
            "s3",
            "cp",
            src.to_str().unwrap(),
            "s3://uploads/guest/someone-else/guest.bin",
        ],
    )
    .await;
    assert!(!ok && err.contains("AccessDenied"), "{err}");
    stack.stop().await;
}
