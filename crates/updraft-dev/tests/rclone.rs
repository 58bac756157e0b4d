//! The store against rclone (Debian's package): copy, check, copy back (issue 4).
//!
//! `cargo xtask test` makes sure `rclone` is installed and runs this; plain `cargo test`
//! ignores it.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use updraft_dev::StackInfo;

async fn rclone(info: &StackInfo, home: &Path, args: &[&str]) -> String {
    // `cargo xtask test` names the pinned Debian build (UPDRAFT_RCLONE).
    let mut cmd =
        Command::new(std::env::var_os("UPDRAFT_RCLONE").unwrap_or_else(|| "rclone".into()));
    cmd.args(args)
        .args([
            "--s3-upload-cutoff",
            "5M",
            "--s3-chunk-size",
            "5M",
            "--low-level-retries",
            "1",
            "--retries",
            "1",
        ])
        .env("RCLONE_CONFIG", home.join("rclone.conf"))
        .env("RCLONE_CONFIG_DEV_TYPE", "s3")
        .env("RCLONE_CONFIG_DEV_PROVIDER", "Other")
        .env("RCLONE_CONFIG_DEV_ENDPOINT", &info.s3_endpoint)
        .env("RCLONE_CONFIG_DEV_REGION", &info.region)
        .env("RCLONE_CONFIG_DEV_ACCESS_KEY_ID", &info.admin_access_key_id)
        .env(
            "RCLONE_CONFIG_DEV_SECRET_ACCESS_KEY",
            &info.admin_secret_access_key,
        )
        .env("RCLONE_CONFIG_DEV_FORCE_PATH_STYLE", "true")
        // rclone 1.60's AWS SDK refuses a CA bundle on its own HTTP transport; the
        // endpoint is plain HTTP on loopback anyway.
        .env_remove("AWS_CA_BUNDLE");
    let shown = args.join(" ");
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("the rclone thread panicked")
        .expect("cannot run rclone");
    assert!(
        out.status.success(),
        "rclone {shown} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs rclone: `cargo xtask test` makes sure it is installed and runs this"]
async fn r4_rclone_copy_check_and_back() {
    let dir = TempDir::new("rclone");
    let work = TempDir::new("rclone-work");
    let stack = start(&dir.0).await;
    let info = stack.info();
    let src = work.0.join("src");
    let names = [
        "big.bin",
        "with space.txt",
        "plus+hash#.txt",
        "ünï/日本.txt",
        "dots..txt",
    ];
    for (i, n) in names.iter().enumerate() {
        let p = src.join(n);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let len = if i == 0 {
            12 * 1024 * 1024 + 17
        } else {
            100 * (i + 1)
        };
        let data: Vec<u8> = (0..len).map(|j| (j * 31 + i * 7) as u8).collect();
        std::fs::write(&p, data).unwrap();
    }
    let s = src.to_str().unwrap();
    rclone(info, &work.0, &["copy", s, "dev:uploads/rc"]).await;
    rclone(info, &work.0, &["check", s, "dev:uploads/rc"]).await;
    let down = work.0.join("down");
    rclone(
        info,
        &work.0,
        &["copy", "dev:uploads/rc", down.to_str().unwrap()],
    )
    .await;
    for n in names {
        assert_eq!(
            std::fs::read(src.join(n)).unwrap(),
            std::fs::read(down.join(n)).unwrap(),
            "{n}"
        );
    }
    stack.stop().await;
}
