//! The store against the AWS JS SDK v3 (`@aws-sdk/lib-storage` Upload) from Node (issue 4).
//!
//! `cargo xtask test` installs the SDK with npm into `~/.cache/updraft/node` and runs
//! this with `UPDRAFT_NODE_PATH` at its `node_modules`; plain `cargo test` ignores it.

mod common;

use std::process::Command;

use common::*;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Node and the AWS JS SDK: `cargo xtask test` installs it and runs this"]
async fn r4_aws_js_sdk_lib_storage_upload_round_trips() {
    let node_path = std::env::var_os("UPDRAFT_NODE_PATH")
        .expect("UPDRAFT_NODE_PATH: run through `cargo xtask test`");
    let dir = TempDir::new("jssdk");
    let stack = start(&dir.0).await;
    let info = stack.info();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js/lib_storage.cjs");
    let mut cmd = Command::new("node");
    cmd.arg(script)
        .env("NODE_PATH", node_path)
        .env("UPDRAFT_S3_ENDPOINT", &info.s3_endpoint)
        .env("UPDRAFT_REGION", &info.region)
        .env("UPDRAFT_BUCKET", &info.bucket)
        .env("UPDRAFT_ACCESS_KEY_ID", &info.admin_access_key_id)
        .env("UPDRAFT_SECRET_ACCESS_KEY", &info.admin_secret_access_key);
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("the node thread panicked")
        .expect("cannot run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.trim() == "ok",
        "node failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Node and the AWS JS SDK: `cargo xtask test` installs it and runs this"]
async fn r5_aws_js_sdk_from_web_token_writes_only_under_the_users_folder() {
    let node_path = std::env::var_os("UPDRAFT_NODE_PATH")
        .expect("UPDRAFT_NODE_PATH: run through `cargo xtask test`");
    let dir = TempDir::new("jssdk-sts");
    let stack = start(&dir.0).await;
    let info = stack.info();
    let token = updraft_dev::id_token(&dir.0, "alice", 600).expect("a dev token");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js/web_token.cjs");
    let mut cmd = Command::new("node");
    cmd.arg(script)
        .env("NODE_PATH", node_path)
        .env("UPDRAFT_S3_ENDPOINT", &info.s3_endpoint)
        .env("UPDRAFT_STS_ENDPOINT", &info.sts_endpoint)
        .env("UPDRAFT_REGION", &info.region)
        .env("UPDRAFT_ROLE_ARN", &info.role_arn)
        .env("UPDRAFT_TOKEN", &token)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN");
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("the node thread panicked")
        .expect("cannot run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.trim() == "ok",
        "node failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stack.stop().await;
}
