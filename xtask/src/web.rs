//! `cargo xtask web`: the browser package, and what building and testing it needs.
//!
//! Steps: `updraft-web` for wasm32 with the `wasm-release` profile; `wasm-bindgen
//! --target web` (the CLI of the exact version in Cargo.lock, installed into
//! `~/.cache/updraft/bin`); `wasm-opt -Oz` (npm's `binaryen`, installed into
//! `~/.cache/updraft/node`: Debian's is too old for current Rust wasm); then the
//! hand-written ES modules, types and `package.json` from `crates/updraft-web/js`, into
//! `<target dir>/web/pkg/`. Ends with the size of each file, gzip -9.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{cache_dir, cargo, ensure_wasm_target, root, succeeds};

/// npm packages the browser build and tests use, pinned: wasm-opt, the Chromium driver,
/// and the bundler the package is checked with.
pub(crate) const NPM_WEB: &[(&str, &str)] = &[
    ("binaryen", "132.0.0"),
    ("playwright-core", "1.64.1"),
    ("vite", "7.3.1"),
];

/// The headless API's budget: every file a page may load for it, gzip -9 (issue 7).
pub(crate) const BUDGET_GZIP_BYTES: u64 = 30 * 1024;

pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// Where `cargo xtask web` puts the package.
pub(crate) fn pkg_dir() -> PathBuf {
    target_dir().join("web").join("pkg")
}

/// Installs `packages` (name, exact version) with npm into `~/.cache/updraft/node`
/// unless there; returns its `node_modules`.
pub(crate) fn ensure_npm(packages: &[(&str, &str)]) -> Result<PathBuf> {
    let dir = cache_dir().join("node");
    let modules = dir.join("node_modules");
    if !succeeds(Command::new("node").arg("--version")) {
        bail!("`node` is needed for the browser build and tests: install Node.js 18 or newer");
    }
    let missing: Vec<String> = packages
        .iter()
        .filter(|(name, version)| {
            let manifest = modules.join(name).join("package.json");
            let text = std::fs::read_to_string(manifest).unwrap_or_default();
            !text.contains(&format!("\"version\": \"{version}\""))
        })
        .map(|(name, version)| format!("{name}@{version}"))
        .collect();
    if missing.is_empty() {
        return Ok(modules);
    }
    println!(
        "xtask: installing {} (npm) into {}",
        missing.join(" "),
        dir.display()
    );
    std::fs::create_dir_all(&dir)?;
    let out = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(&dir)
        .args(&missing)
        .output()
        .context("`npm` could not run: install Node.js with npm")?;
    if !out.status.success() {
        bail!(
            "`npm install {}` into {} failed (is the npm registry reachable?):\n{}",
            missing.join(" "),
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(modules)
}

/// The wasm-bindgen version Cargo.lock pins (`=` in crates/updraft-web/Cargo.toml).
fn locked_wasm_bindgen() -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\""
            && let Some(v) = lines
                .next()
                .and_then(|l| l.strip_prefix("version = \""))
                .and_then(|v| v.strip_suffix('"'))
        {
            return Ok(v.to_owned());
        }
    }
    bail!("Cargo.lock has no wasm-bindgen entry")
}

/// The `wasm-bindgen` CLI matching Cargo.lock, installed into `~/.cache/updraft/bin`.
/// Without `--locked`: with it, a dependency it pins is missing from the registry.
fn ensure_wasm_bindgen() -> Result<PathBuf> {
    let version = locked_wasm_bindgen()?;
    let bin = cache_dir().join("bin").join("wasm-bindgen");
    let have = Command::new(&bin)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    if have == format!("wasm-bindgen {version}") {
        return Ok(bin);
    }
    println!(
        "xtask: installing wasm-bindgen-cli {version} into {}",
        cache_dir().display()
    );
    let ok = cargo()
        .args([
            "install",
            "wasm-bindgen-cli",
            "--version",
            &version,
            "--root",
        ])
        .arg(cache_dir())
        .status()?
        .success();
    if !ok {
        bail!("`cargo install wasm-bindgen-cli --version {version}` failed");
    }
    Ok(bin)
}

fn run(cmd: &mut Command, what: &str) -> Result<()> {
    let ok = cmd
        .status()
        .with_context(|| format!("{what} could not run"))?
        .success();
    if !ok {
        bail!("{what} failed");
    }
    Ok(())
}

/// Builds the package into [`pkg_dir`] and prints its sizes; returns the directory.
pub(crate) fn build() -> Result<PathBuf> {
    ensure_wasm_target()?;
    let bindgen = ensure_wasm_bindgen()?;
    let modules = ensure_npm(NPM_WEB)?;
    run(
        cargo()
            .args([
                "build",
                "--locked",
                "-p",
                "updraft-web",
                "--lib",
                "--target",
                "wasm32-unknown-unknown",
                "--profile",
                "wasm-release",
            ])
            // sha2's rolled-up SHA-256 rounds: 7.3 KB less wasm (1.9 KB gzip); SigV4 hashes
            // a canonical request and a few HMAC blocks per request, never a body, so speed
            // does not matter. (A RUSTFLAGS of the caller's own takes precedence.)
            .env(
                "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
                "--cfg sha2_backend_soft=\"compact\"",
            ),
        "cargo build -p updraft-web (wasm32, wasm-release)",
    )?;
    let wasm = target_dir()
        .join("wasm32-unknown-unknown")
        .join("wasm-release")
        .join("updraft_web.wasm");
    let pkg = pkg_dir();
    if pkg.exists() {
        std::fs::remove_dir_all(&pkg)?;
    }
    std::fs::create_dir_all(&pkg)?;
    run(
        Command::new(&bindgen)
            .args([
                "--target",
                "web",
                "--no-typescript",
                "--out-name",
                "core",
                "--out-dir",
            ])
            .arg(&pkg)
            .arg(&wasm),
        "wasm-bindgen",
    )?;
    let core = pkg.join("core_bg.wasm");
    run(
        Command::new(modules.join(".bin").join("wasm-opt"))
            .args([
                "-Oz",
                // Repeats the passes while they still shrink the module (~200 B).
                "--converge",
                "--enable-bulk-memory",
                "--enable-nontrapping-float-to-int",
                "--enable-sign-ext",
                "--enable-mutable-globals",
                "--enable-reference-types",
                "--enable-multivalue",
                "--strip-debug",
                "--strip-producers",
                "-o",
            ])
            .arg(&core)
            .arg(&core),
        "wasm-opt -Oz",
    )?;
    let js = root().join("crates").join("updraft-web").join("js");
    for entry in std::fs::read_dir(&js)? {
        let path = entry?.path();
        if let Some(name) = path.file_name() {
            std::fs::copy(&path, pkg.join(name))?;
        }
    }
    print_sizes(&pkg)?;
    Ok(pkg)
}

/// Bytes of `path` after gzip -9.
fn gzip_size(path: &Path) -> Result<u64> {
    let out = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(path)
        .output()
        .context("`gzip` could not run")?;
    Ok(out.stdout.len() as u64)
}

/// The files a page may load for the headless API, with their raw and gzip -9 sizes.
pub(crate) fn sizes(pkg: &Path) -> Result<Vec<(String, u64, u64)>> {
    let mut out = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(pkg)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "js" || x == "wasm"))
        .collect();
    names.sort();
    for p in names {
        let raw = std::fs::metadata(&p)?.len();
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.push((name, raw, gzip_size(&p)?));
    }
    Ok(out)
}

fn print_sizes(pkg: &Path) -> Result<u64> {
    let sizes = sizes(pkg)?;
    println!("xtask: {} (gzip -9)", pkg.display());
    let mut total = 0;
    for (name, raw, gz) in &sizes {
        println!("  {name:<16} {raw:>8} B  {gz:>7} B gzip");
        total += gz;
    }
    println!(
        "  {:<16} {:>8}    {total:>7} B gzip (budget {BUDGET_GZIP_BYTES} B)",
        "total", ""
    );
    Ok(total)
}
