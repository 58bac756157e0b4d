//! The app origin: the demo page and `config.json`, the browser package under `/pkg/`,
//! and a page naming the build command when the package is missing (issue 7).

mod common;

use common::{TempDir, config, host, send};

#[tokio::test]
async fn without_the_package_the_page_names_the_command_that_builds_it() {
    let dir = TempDir::new("app-no-pkg");
    let mut c = config(&dir.0);
    c.web_pkg = Some(dir.0.join("nowhere"));
    let stack = updraft_dev::start(&c).await.unwrap();
    let app = host(&stack.info().app_url);
    let page = send(&app, "GET", "/", &[], b"").await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("cargo xtask web"), "{}", page.text());
    assert_eq!(
        send(&app, "GET", "/pkg/updraft.js", &[], b"").await.status,
        404
    );
    stack.stop().await;
}

#[tokio::test]
async fn the_demo_its_config_and_the_package_are_served_and_nothing_else() {
    let dir = TempDir::new("app-pkg");
    let pkg = dir.0.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("updraft.js"), "export const x = 1;\n").unwrap();
    std::fs::write(pkg.join("core_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(dir.0.join("secret.txt"), "no").unwrap();
    let mut c = config(&dir.0.join("data"));
    c.web_pkg = Some(pkg.clone());
    let stack = updraft_dev::start(&c).await.unwrap();
    let info = stack.info();
    let app = host(&info.app_url);

    let page = send(&app, "GET", "/", &[], b"").await;
    assert!(
        page.text()
            .contains("<script type=\"module\" src=\"demo.js\">"),
        "{}",
        page.text()
    );
    let demo = send(&app, "GET", "/demo.js", &[], b"").await;
    assert!(demo.text().contains("from \"./pkg/updraft.js\""));
    assert_eq!(
        demo.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );

    let config: serde_json::Value =
        serde_json::from_slice(&send(&app, "GET", "/config.json", &[], b"").await.body).unwrap();
    assert_eq!(config["bucket"], info.bucket.as_str());
    assert_eq!(config["endpoint"], info.s3_endpoint.as_str());
    assert_eq!(config["roleArn"], info.role_arn.as_str());
    assert_eq!(config["issuer"], info.issuer.as_str());
    assert_eq!(config["clientId"], info.client_id.as_str());
    assert!(
        !config.to_string().contains(&info.admin_secret_access_key),
        "no admin key in config.json"
    );

    let wasm = send(&app, "GET", "/pkg/core_bg.wasm", &[], b"").await;
    assert_eq!(wasm.status, 200);
    assert_eq!(wasm.header("content-type"), Some("application/wasm"));
    for outside in [
        "/pkg/../secret.txt",
        "/pkg/%2e%2e/secret.txt",
        "/pkg/.hidden",
        "/pkg/",
        "/secret.txt",
        "/pkg/sub/x.js",
    ] {
        assert_eq!(
            send(&app, "GET", outside, &[], b"").await.status,
            404,
            "{outside}"
        );
    }
    stack.stop().await;
}
