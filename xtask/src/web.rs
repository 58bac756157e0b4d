//! `cargo xtask web`: the browser package, and what building and testing it needs.
//!
//! Steps: `updraft-web` for wasm32 with the `wasm-release` profile; `wasm-bindgen
//! --target web` (the CLI of the exact version in Cargo.lock, installed into
//! `~/.cache/updraft/bin`); `wasm-opt -Oz` (npm's `binaryen`, installed into
//! `~/.cache/updraft/node`: Debian's is too old for current Rust wasm); then the
//! hand-written ES modules (minified with esbuild), types and `package.json` from
//! `crates/updraft-web/js`, into `<target dir>/web/pkg/`. Ends with the size of each file, gzip -9.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::tools::{self, NPM_WEB, ensure_npm};
use crate::{cargo, root};

/// The headless API's budget: what one page loads for it ([`ONE_PAGE`]), gzip -9
/// (issue 16; issue 7's 30 KB for every file was withdrawn there).
pub(crate) const BUDGET_GZIP_BYTES: u64 = 64 * 1024;

/// What `cargo xtask test` holds one page's load to while the budget is not met: the
/// figure when it was last lowered plus a little, so the package can only shrink. Lower
/// it as the figure falls. History (gzip -9, issue 16): 95,155 B with std built with
/// `optimize_for_size`, the content-type table as one string, hex without `core::fmt`,
/// one export for the five file commands, actions and events written as text; then talc
/// for dlmalloc, a plain `join` and one export each for STS and Cognito (-3,158 B) paid
/// for the list/delete/link API (+3,060 B), with `{path}` +146 B, the refused File in
/// `error` +6 B and the shared `offThread` +36 B: 95,341 B; SigV4's URI encoding
/// without the `percent-encoding` crate (-893 B) paid for the requests in the worker
/// (+288 B, issue 13): 94,682 B; a second `wasm-opt` run, flattened and re-relooped
/// (-422 B), paid for issue 18's clear errors (a page where S3 should answer, `partSize`
/// and `concurrency` ranges, `credentials` and `add()` arguments checked: +425 B):
/// 94,691 B; Garage's InvalidDigest for a mismatch sent again (+36 B, issue 19) and a
/// third `wasm-opt -Oz` run (-207 B): 94,524 B; `wasm-opt` told that low memory is unused
/// and memory starts zeroed ([`WASM_OPT_FEATURES`], -597 B): 93,927 B; slicing-by-16 CRCs
/// (-8 B) paid for the checksums' own worker (issue 17): 93,928 B; one slicing loop for
/// both CRCs (-344 B): 93,584 B; the JSON the core writes for the wasm path (resume
/// records, POST policies, Cognito requests, `resumable()`) as text straight away instead
/// of trees of values (-2,021 B), `Utf8Error`'s and `LowerHex`'s `Display` off the path
/// (-159 B), paying for `formUrls` (issue 17: the option +~250 B, forms spread over hosts
/// +247 B) and checksums of small files made ahead (+12 B): 92,254 B; `json::pairs` one
/// function instead of one per iterator type and `Value`'s `PartialEq` off the path
/// (-217 B); a bad metadata name quoted by `Quoted`, not `char::escape_default`, whose
/// escape iterators went with it (-400 B): 91,637 B; the checksums made ahead dropped
/// again (no gain the loopback bench could tell from its noise, a queue lookup a poll;
/// -59 B): 91,578 B; presigning's header names kept once by `contains`, not `dedup`
/// (-85 B), the `validation` option taken instead of cloned (-119 B), `PostPolicy::sign`
/// taking the policy instead of cloning its conditions (-145 B): 91,229 B; the engine's
/// next timeout found by plain loops instead of a chain of iterator adapters (-447 B),
/// a state's tasks visited through one `dyn` callback instead of an iterator each caller
/// folds its own way (-41 B): 90,741 B; lists built by loops instead of
/// `collect::<Result<…>>`/`collect::<Option<…>>` (ListParts, ListMultipartUploads,
/// ListObjectsV2, the parts of CompleteMultipartUpload and of a resume record, the
/// composite CRC32C, two option readers: -1,806 B): 88,935 B; the same for SigV4's
/// canonical query and headers, STS's form, metadata headers, the requests of a file or
/// that stalled, and the option's metadata taken whole (-721 B): 88,214 B; and for a
/// resume record's parts, the orphaned uploads found, STS's optional fields and the
/// `logins` read (-300 B): 87,914 B; the answer headers and common prefixes read by
/// loops (-205 B): 87,709 B; an HTTP date's tokens gathered by a loop (-146 B):
/// 87,563 B; no `core::fmt` on the wasm path: messages, URLs and headers filled by
/// `updraft_core::cat!` instead of `format!`/`write!`/`to_string()` (-1,115 B gzip,
/// -985 B brotli; `cargo xtask test` checks `core::fmt::write` stays out, one `format!`
/// on the path brings back +987 B): 86,448 B; no two-way string searcher either:
/// `text::find` for the `&str` needles, `as_bytes().contains` for `char`s (`contains` with
/// a `char` brings the searcher for non-ASCII ones; -922 B gzip, -858 B brotli):
/// 85,526 B; `cat!` reserving room for its text first, as `format!` does (the native
/// CLI signs with it; `bench core` per part 5.0 → 4.8 µs, best of 6; +8 B): 85,534 B;
/// five exports in one (`Core::tell`: progress, a network error, a failed read, a
/// command, a failed credentials provider; -425 B gzip, -238 B brotli): 85,109 B, the
/// ceiling 0.01 % above it. Measured and not kept: `#[cold]` on the error constructors
/// (0 B), `js_error` taking `&dyn` (+89 B), rustc's `-Zmir-opt-level=0` (-165 B, its
/// effect on the checksum loop's speed not measured), `-Zinline-mir=no` (-89 B),
/// LLVM's `-inline-threshold=0` (+1 B), more `wasm-opt` passes (`--gufa-optimizing`,
/// `--monomorphize`, `--type-ssa`, …: -5 to -7 B, what one more `-Oz` gives).
pub(crate) const CEILING_GZIP_BYTES: u64 = 85_115;

/// The widget's own weight, JS and CSS (its CSS lives in [`WIDGET`]), gzip -9 (issue 13).
pub(crate) const WIDGET_BUDGET_GZIP_BYTES: u64 = 12 * 1024;

/// The files of `<updraft-uploader>` (the element, its image-resizing worker); a page with
/// the widget loads them beside [`ONE_PAGE`].
pub(crate) const WIDGET: &[&str] = &["element.js", "resize.js"];

/// The files of the package one page loads for the headless API: the entry module, the
/// wasm glue, the wasm, the checksum worker, and one sign-in adapter — the largest
/// (`oidc.js`), so the figure holds for any of them. The other adapters are in the
/// package for pages that pick them instead.
pub(crate) const ONE_PAGE: &[&str] = &[
    "updraft.js",
    "core.js",
    "core_bg.wasm",
    "worker.js",
    "oidc.js",
];

pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// Where `cargo xtask web` puts the package.
pub(crate) fn pkg_dir() -> PathBuf {
    target_dir().join("web").join("pkg")
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

/// Flags of the wasm build (a RUSTFLAGS of the caller's own takes precedence):
/// - sha2's rolled-up SHA-256 rounds: 7.3 KB less wasm (1.9 KB gzip); SigV4 hashes a
///   canonical request and a few HMAC blocks per request, never a body, so speed does not
///   matter;
/// - a panic traps at once (`immediate-abort`): no panic message or location is kept, and
///   none would reach the page anyway (no panic hook is installed; a trap surfaces as the
///   `RuntimeError` of the call);
/// - no `Debug` formatting and no caller locations: nothing user-visible uses them (the
///   error texts go through `Display` and `Quoted`).
const WASM_RUSTFLAGS: &str = "--cfg sha2_backend_soft=\"compact\" -Zunstable-options \
     -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none";

/// The wasm features the module uses, what `wasm-opt` strips, and what it may assume, for
/// each of its runs. The assumptions hold for this module (issue 16, measured on
/// 2026-12-06: 86,138 → 85,539 B gzip of wasm, -599 B):
/// - `--low-memory-unused`: nothing lives in the first 1 KiB of memory, so `p + c` may
///   become a load at offset `c`. Rust's wasm32 layout puts the 1 MiB stack first,
///   growing down towards 0 (`--stack-first`), and data after it: only a stack 1 MiB
///   deep would reach that kilobyte, and that overflows anyway;
/// - `--zero-filled-memory`: memory starts zeroed, so zero bytes of data segments need
///   not be written — true of memory the module defines itself, as this one does
///   (wasm-bindgen `--target web` imports none).
///
/// `--merge-similar-functions` (suggested in issue 16) saved 8 B: `-Oz` already does it.
const WASM_OPT_FEATURES: &[&str] = &[
    "--low-memory-unused",
    "--zero-filled-memory",
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
    "--strip-debug",
    "--strip-producers",
];

/// [`WASM_RUSTFLAGS`]' stable part, for a toolchain that refuses the others.
const WASM_STABLE_RUSTFLAGS: &str = "--cfg sha2_backend_soft=\"compact\"";

/// What the package is built from: the sources of the two crates it compiles, its JS, the
/// lock file, the build's own code and pins, and the toolchain. `build_if_stale` rebuilds
/// when their digest changes.
const PKG_INPUTS: &[&str] = &[
    "Cargo.toml",
    "Cargo.lock",
    ".cargo/config.toml",
    "crates/updraft-core/Cargo.toml",
    "crates/updraft-core/src",
    "crates/updraft-web/Cargo.toml",
    "crates/updraft-web/src",
    "crates/updraft-web/js",
    "xtask/src/web.rs",
    "xtask/src/tools.rs",
];

/// The file beside [`pkg_dir`] holding the SHA-256 of the inputs it was built from.
fn stamp_file() -> PathBuf {
    target_dir().join("web").join("pkg.inputs-sha256")
}

/// SHA-256 over [`PKG_INPUTS`] (each file's path and bytes, in path order) and the
/// output of `rustc --version`, as hex.
fn inputs_digest() -> Result<String> {
    use sha2::{Digest, Sha256};
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
        for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                walk(&path, out)?;
            } else {
                out.push(path);
            }
        }
        Ok(())
    }
    let root = root();
    let mut files = Vec::new();
    for input in PKG_INPUTS {
        let path = root.join(input);
        if path.is_dir() {
            walk(&path, &mut files)?;
        } else {
            files.push(path);
        }
    }
    files.sort();
    let mut hash = Sha256::new();
    for file in &files {
        let relative = file.strip_prefix(&root).unwrap_or(file);
        hash.update(relative.to_string_lossy().as_bytes());
        hash.update([0]);
        let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(&bytes);
    }
    let rustc = Command::new("rustc").arg("--version").output()?;
    hash.update(&rustc.stdout);
    Ok(hash.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Builds the package unless [`pkg_dir`] holds one built from the current inputs
/// (`cargo xtask dev`, the benches); returns the directory.
pub(crate) fn build_if_stale() -> Result<PathBuf> {
    let digest = inputs_digest()?;
    let built = std::fs::read_to_string(stamp_file()).unwrap_or_default();
    if built.trim() == digest && pkg_dir().join("updraft.js").is_file() {
        println!(
            "xtask: the browser package is up to date ({})",
            pkg_dir().display()
        );
        return Ok(pkg_dir());
    }
    println!(
        "xtask: building the browser package ({}; its sources changed since the last build)",
        if built.is_empty() {
            "none built yet"
        } else {
            "stale"
        }
    );
    build()
}

/// Whether this toolchain takes the size build's unstable flags: rustc those of
/// [`WASM_RUSTFLAGS`] for wasm32 (an unknown `-Z` option or `panic` strategy is refused
/// while the options are read, before anything is compiled), and cargo `-Zbuild-std` and
/// `-Zbuild-std-features` (listed by `cargo -Zhelp`).
fn size_flags_accepted() -> bool {
    use std::process::Stdio;
    let rustc = Command::new("rustc")
        .env("RUSTC_BOOTSTRAP", "1")
        .args(
            WASM_RUSTFLAGS
                .split_whitespace()
                .filter(|f| !f.starts_with("--cfg") && !f.starts_with("sha2_")),
        )
        .args(["--target", "wasm32-unknown-unknown", "--print", "cfg"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let cargo = cargo()
        .env("RUSTC_BOOTSTRAP", "1")
        .arg("-Zhelp")
        .output()
        .is_ok_and(|o| {
            let help = String::from_utf8_lossy(&o.stdout);
            help.contains("build-std ") && help.contains("build-std-features")
        });
    rustc && cargo
}

/// Builds the package into [`pkg_dir`] and prints its sizes; returns the directory.
pub(crate) fn build() -> Result<PathBuf> {
    let digest = inputs_digest()?;
    tools::ensure_wasm_target()?;
    tools::ensure_rust_src()?;
    let bindgen = tools::ensure_wasm_bindgen()?;
    let modules = ensure_npm(NPM_WEB)?;
    let wasm_build = |size_flags: bool| {
        let mut cmd = cargo();
        cmd.args([
            "build",
            "--locked",
            "-p",
            "updraft-web",
            "--lib",
            "--target",
            "wasm32-unknown-unknown",
            "--profile",
            "wasm-release",
        ]);
        if size_flags {
            // std rebuilt with the profile's size settings and WASM_RUSTFLAGS' unstable
            // flags: wasm 88,111 B gzip against 97,062 B with the prebuilt std (measured
            // on Rust 1.95). `-Z` flags are unstable, hence `RUSTC_BOOTSTRAP`, for this
            // build only: tests, the CLI and the store build on plain stable.
            // std's `optimize_for_size` picks its smaller algorithms (sorting, formatting
            // integers, …): 950 B less gzip (89,158 against 90,108 B; issue 16).
            cmd.args([
                "-Zbuild-std=std,panic_abort",
                "-Zbuild-std-features=optimize_for_size",
            ])
            .env("RUSTC_BOOTSTRAP", "1")
            .env(
                "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
                WASM_RUSTFLAGS,
            );
        } else {
            cmd.env(
                "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
                WASM_STABLE_RUSTFLAGS,
            );
        }
        cmd
    };
    // A later toolchain may rename an unstable flag: then the package is built the
    // stable way, larger, and says so (the size check in `cargo xtask test` tells
    // whether it still fits). A build that fails while rustc takes the flags failed on
    // the code: that is said as it is, not as a toolchain problem.
    if run(
        &mut wasm_build(true),
        "cargo build -p updraft-web (wasm32, std for size)",
    )
    .is_err()
    {
        if size_flags_accepted() {
            bail!("cargo build -p updraft-web (wasm32) failed: see the compiler's errors above");
        }
        println!(
            "xtask: WARNING: this toolchain refused the size flags (-Zbuild-std, \
             -Cpanic=immediate-abort, -Zlocation-detail, -Zfmt-debug); building with the \
             prebuilt std instead, about 9 KB gzip larger"
        );
        run(
            &mut wasm_build(false),
            "cargo build -p updraft-web (wasm32, wasm-release)",
        )?;
    }
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
            ])
            .args(WASM_OPT_FEATURES)
            .arg("-o")
            .arg(&core)
            .arg(&core),
        "wasm-opt -Oz",
    )?;
    // A second run on its output, its control flow flattened and re-relooped first: 422 B
    // gzip less than the first alone (issue 16, measured on 2026-12-04: 86,724 → 86,302 B
    // of wasm), for about 10 s of build.
    run(
        Command::new(modules.join(".bin").join("wasm-opt"))
            .args(["--flatten", "--rereloop", "-Oz", "-Oz", "--converge"])
            .args(WASM_OPT_FEATURES)
            .arg("-o")
            .arg(&core)
            .arg(&core),
        "wasm-opt (second run)",
    )?;
    // And `-Oz` once more on what the re-relooping left: 207 B gzip less again (issue 16,
    // measured on 2026-12-04: 86,342 → 86,135 B of wasm), for about 4 s; a fourth round
    // saves 12 B more, not worth its time.
    run(
        Command::new(modules.join(".bin").join("wasm-opt"))
            .args(["-Oz", "--converge"])
            .args(WASM_OPT_FEATURES)
            .arg("-o")
            .arg(&core)
            .arg(&core),
        "wasm-opt (third run)",
    )?;
    let js = root().join("crates").join("updraft-web").join("js");
    for entry in std::fs::read_dir(&js)? {
        let path = entry?.path();
        if let Some(name) = path.file_name() {
            std::fs::copy(&path, pkg.join(name))?;
        }
    }
    // Shipped minified, as npm packages are (each module on its own, imports kept); the
    // readable sources are in crates/updraft-web/js.
    let scripts: Vec<PathBuf> = std::fs::read_dir(&pkg)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "js"))
        .collect();
    run(
        Command::new(modules.join(".bin").join("esbuild"))
            .args(&scripts)
            .args([
                "--minify",
                "--format=esm",
                "--target=es2022",
                "--log-level=warning",
                "--allow-overwrite",
            ])
            .arg(format!("--outdir={}", pkg.display())),
        "esbuild --minify",
    )?;
    print_sizes(&pkg)?;
    // The digest of the inputs as they were when the build started: an edit made during
    // the build leaves the package stale, as it is.
    std::fs::write(stamp_file(), digest)?;
    Ok(pkg)
}

/// Bytes of `path` after gzip -9.
pub(crate) fn gzip_size(path: &Path) -> Result<u64> {
    let out = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(path)
        .output()
        .context("`gzip` could not run")?;
    Ok(out.stdout.len() as u64)
}

/// Bytes of `path` after brotli at its highest quality (11), by Node's zlib.
fn brotli_size(path: &Path) -> Result<u64> {
    let out = Command::new("node")
        .args([
            "-e",
            "const z = require('zlib'); process.stdout.write(String(z.brotliCompressSync(\
             require('fs').readFileSync(process.argv[1]), { params: { \
             [z.constants.BROTLI_PARAM_QUALITY]: 11 } }).length))",
        ])
        .arg(path)
        .output()
        .context("`node` could not run")?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .with_context(|| format!("brotli size of {}", path.display()))
}

/// Code kept out of the browser build (issue 16): its v0-mangled name, what it is, and
/// what brings it back with what to use instead.
pub(crate) type Banned = (&'static str, &'static str, &'static str);

/// See [`Banned`].
pub(crate) const BANNED_IN_WASM: &[Banned] = &[
    (
        "4core3fmt5write",
        "core::fmt::write (about 1 KB gzip with the padding and integer code it calls)",
        "a format!, write! or to_string() reached the browser's path: use updraft_core::cat!",
    ),
    (
        "11StrSearcher",
        "core::str's two-way searcher (about 0.9 KB gzip)",
        "a str::find/contains/split_once/replace with a &str, or contains with a char, \
         reached the browser's path: use updraft_core::text::find or as_bytes().contains",
    ),
];

/// Which of [`BANNED_IN_WASM`] the release wasm holds, read from its names before
/// `wasm-opt` strips them; `None` when the build keeps no names to tell by (a toolchain
/// that mangles otherwise).
pub(crate) fn banned_in_wasm() -> Result<Option<Vec<&'static Banned>>> {
    let wasm = target_dir()
        .join("wasm32-unknown-unknown")
        .join("wasm-release")
        .join("updraft_web.wasm");
    let bytes = std::fs::read(&wasm).with_context(|| format!("reading {}", wasm.display()))?;
    let has = |name: &str| bytes.windows(name.len()).any(|w| w == name.as_bytes());
    // `updraft_core` (v0: `12updraft_core`) is always there when names are.
    if !has("12updraft_core") {
        return Ok(None);
    }
    Ok(Some(
        BANNED_IN_WASM
            .iter()
            .filter(|(name, ..)| has(name))
            .collect(),
    ))
}

/// What one page loads ([`ONE_PAGE`]): gzip -9 and brotli bytes, summed.
pub(crate) fn one_page(pkg: &Path) -> Result<(u64, u64)> {
    let (mut gz, mut br) = (0, 0);
    for name in ONE_PAGE {
        let path = pkg.join(name);
        gz += gzip_size(&path)?;
        br += brotli_size(&path)?;
    }
    Ok((gz, br))
}

/// Every file of the package a page may load, with its raw and gzip -9 sizes.
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
    println!("xtask: {} (gzip -9; * what one page loads)", pkg.display());
    let mut total = 0;
    for (name, raw, gz) in &sizes {
        let mark = if ONE_PAGE.contains(&name.as_str()) {
            '*'
        } else {
            ' '
        };
        println!("  {mark}{name:<16} {raw:>8} B  {gz:>7} B gzip");
        total += gz;
    }
    let (page, brotli) = one_page(pkg)?;
    let met = if page <= BUDGET_GZIP_BYTES {
        "met"
    } else {
        "NOT met"
    };
    println!(
        "   {:<16} {:>8}    {total:>7} B gzip, every file",
        "package", ""
    );
    println!(
        "   {:<16} {:>8}    {page:>7} B gzip, {brotli} B brotli (budget \
         {BUDGET_GZIP_BYTES} B: {met}; ceiling {CEILING_GZIP_BYTES} B)",
        "one page", ""
    );
    Ok(page)
}

/// Runs the end-to-end tests (`crates/updraft-web/tests/e2e/*.test.mjs`, node's test
/// runner driving Chromium against `updraft dev`); returns (passed, failed, names of
/// failures).
pub(crate) fn e2e(
    modules: &Path,
    aws_cli: Option<&Path>,
    moto: &Path,
    garage: Option<&Path>,
) -> Result<(u64, u64, Vec<String>)> {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let dir = root()
        .join("crates")
        .join("updraft-web")
        .join("tests")
        .join("e2e");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".test.mjs"))
        .collect();
    files.sort();
    let mut cmd = Command::new("node");
    cmd.args(["--test", "--test-reporter=tap", "--test-concurrency=1"])
        .args(&files)
        .current_dir(root())
        .env("UPDRAFT_BIN", target_dir().join("debug").join("updraft"))
        .env("UPDRAFT_NODE_MODULES", modules)
        .env("CHROMIUM", tools::CHROMIUM_BIN)
        .env("UPDRAFT_SCREENSHOTS", target_dir().join("screenshots"))
        .env("UPDRAFT_MOTO_SERVER", moto)
        .stdout(Stdio::piped());
    if let Some(aws) = aws_cli {
        cmd.env("UPDRAFT_AWS_CLI", aws);
    }
    if let Some(garage) = garage {
        cmd.env("UPDRAFT_GARAGE", garage);
    }
    let mut child = cmd.spawn().context("`node` could not run")?;
    let (mut passed, mut failed, mut names) = (0, 0, Vec::new());
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines() {
            let line = line?;
            println!("{line}");
            if let Some(n) = line.strip_prefix("# pass ") {
                passed += n.trim().parse::<u64>().unwrap_or(0);
            } else if let Some(n) = line.strip_prefix("# fail ") {
                failed += n.trim().parse::<u64>().unwrap_or(0);
            } else if let Some(name) = line.trim_start().strip_prefix("not ok ") {
                names.push(name.to_owned());
            }
        }
    }
    let ok = child.wait()?.success();
    if !ok && failed == 0 {
        failed = 1;
        names.push("node --test ended with an error before reporting".to_owned());
    }
    Ok((passed, failed, names))
}

/// `entry` and what it imports from `modules`, bundled and minified for a browser page
/// into `out` (esbuild): how the benches load the peers.
fn bundle(modules: &Path, entry: &Path, out: &Path) -> Result<()> {
    run(
        Command::new(modules.join(".bin").join("esbuild"))
            .arg(entry)
            .args([
                "--bundle",
                "--minify",
                "--format=esm",
                "--platform=browser",
                "--log-level=error",
                // Fine Uploader's template and images (`cargo xtask bench size`).
                "--loader:.html=text",
                "--loader:.gif=dataurl",
            ])
            .arg(format!("--outfile={}", out.display()))
            .env("NODE_PATH", modules),
        &format!("esbuild (bundling {})", entry.display()),
    )
}

/// `cargo xtask bench browser [--runs N] [--big-mib N] [--quick] [--tools a,b] [--modes m,n]
/// [--cases big,eight,medium,small] [--networks loopback,wan]`:
/// the package's Uploader against the AWS SDK v3's lib-storage, Uppy, Fine Uploader S3,
/// POST-policy forms and the limit, on loopback and a WAN (a delay line), each with its own
/// defaults and equalised, in one headless Chromium against one release `updraft dev`
/// (crates/updraft-web/bench/browser.mjs prints the table; it is also written to
/// `<target>/bench/browser.md`).
pub(crate) fn bench(args: &[String]) -> Result<std::process::ExitCode> {
    let (mut runs, mut big, mut quick) = ("5".to_owned(), "256".to_owned(), "0");
    let (mut only, mut modes) = (String::new(), "defaults,equalised".to_owned());
    let mut cases = String::new();
    let mut networks =
        std::env::var("UPDRAFT_BENCH_NETWORKS").unwrap_or_else(|_| "loopback,wan".to_owned());
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--quick" {
            (runs, big, quick) = ("1".to_owned(), "16".to_owned(), "1");
            modes = "defaults".to_owned();
            continue;
        }
        match (a.as_str(), it.next()) {
            ("--runs", Some(v)) => runs = v.clone(),
            ("--big-mib", Some(v)) => big = v.clone(),
            // Only these tools of browser.mjs (and the limit), e.g. `updraft,fine`.
            ("--tools", Some(v)) => only = v.clone(),
            ("--modes", Some(v)) => {
                if let Some(bad) = v
                    .split(',')
                    .find(|m| !["defaults", "equalised"].contains(m))
                {
                    bail!("--modes {v}: unknown mode {bad:?}; use defaults, equalised or both");
                }
                modes = v.clone();
            }
            // Only these workloads: big (1 file), eight (8 MiB files), medium (1 MiB),
            // small (64 KiB).
            ("--cases", Some(v)) => {
                if let Some(bad) = v
                    .split(',')
                    .find(|c| !["big", "eight", "medium", "small"].contains(c))
                {
                    bail!("--cases {v}: unknown case {bad:?}; use big, eight, medium or small");
                }
                cases = v.clone();
            }
            ("--networks", Some(v)) => {
                if let Some(bad) = v.split(',').find(|n| !["loopback", "wan"].contains(n)) {
                    bail!("--networks {v}: unknown network {bad:?}; use loopback, wan or both");
                }
                networks = v.clone();
            }
            _ => bail!(
                "unknown flag {a}; use --runs N, --big-mib N, --tools a,b, --modes \
                 defaults,equalised, --cases big,eight,medium,small, --networks loopback,wan \
                 or --quick"
            ),
        }
    }
    let out = target_dir().join("bench").join("browser.md");
    std::fs::create_dir_all(target_dir().join("bench"))?;
    let sizes = tool_sizes()?;
    let code = browser_bench(
        "the browser bench",
        tools::NPM_BENCH,
        ("peers.js", "browser.mjs"),
        &[
            ("UPDRAFT_BENCH_RUNS", runs),
            ("UPDRAFT_BENCH_BIG_MIB", big),
            ("UPDRAFT_BENCH_QUICK", quick.to_owned()),
            ("UPDRAFT_BENCH_OUT", out.display().to_string()),
            ("UPDRAFT_BENCH_TOOLS", only),
            ("UPDRAFT_BENCH_MODES", modes),
            ("UPDRAFT_BENCH_CASES", cases),
            ("UPDRAFT_BENCH_NETWORKS", networks),
            ("UPDRAFT_BENCH_SIZES", sizes),
        ],
    )?;
    println!("xtask: the table is in {}", out.display());
    Ok(code)
}

/// What a page loads for each tool the browser bench runs, gzip -9 bytes, as JSON for
/// browser.mjs: updraft's one page, and the peers as `cargo xtask bench size` weighs them.
fn tool_sizes() -> Result<String> {
    let pkg = build_if_stale()?;
    let mut sizes = serde_json::Map::new();
    sizes.insert("updraft".into(), one_page(&pkg)?.0.into());
    let tools = [
        ("sdk", "aws-sdk.js"),
        ("fine", "fine-uploader.js"),
        ("uppy", "uppy.js"),
        ("evaporate", "evaporate.js"),
    ];
    let mut packages: Vec<(&str, &str)> = NPM_WEB.to_vec();
    for p in SIZE_PEERS
        .iter()
        .filter(|p| tools.iter().any(|(_, e)| *e == p.entry))
    {
        packages.extend_from_slice(p.npm);
    }
    let modules = ensure_npm(&packages)?;
    for (tool, entry) in tools {
        sizes.insert(tool.into(), weigh(&modules, entry)?.0.into());
    }
    Ok(serde_json::Value::Object(sizes).to_string())
}

/// A size peer's entry under `crates/updraft-web/bench/size/`, bundled as a page gets it:
/// gzip -9 and brotli bytes, its stylesheet (esbuild writes one beside the bundle) counted.
fn weigh(modules: &Path, entry: &str) -> Result<(u64, u64)> {
    let out = target_dir().join("web/bench/size");
    std::fs::create_dir_all(&out)?;
    let bundled = out.join(entry);
    bundle(
        modules,
        &root().join("crates/updraft-web/bench/size").join(entry),
        &bundled,
    )?;
    let (mut gz, mut br) = (gzip_size(&bundled)?, brotli_size(&bundled)?);
    let css = bundled.with_extension("css");
    if css.exists() {
        gz += gzip_size(&css)?;
        br += brotli_size(&css)?;
    }
    Ok((gz, br))
}

/// A bench in the page: Chromium, the package, the npm pins, a release `updraft`; the
/// page's peers bundled from `bench/<peers>` (`UPDRAFT_BENCH_PEERS`), then
/// `node bench/<script>` with `env` beside what every such bench gets.
fn browser_bench(
    what: &str,
    npm: &[(&str, &str)],
    (peers, script): (&str, &str),
    env: &[(&str, String)],
) -> Result<std::process::ExitCode> {
    tools::ensure_apt(tools::APT_CHROMIUM, what)?;
    let pkg = build_if_stale()?;
    let modules = ensure_npm(npm)?;
    run(
        cargo().args(["build", "--release", "--locked", "-p", "updraft"]),
        "cargo build --release -p updraft",
    )?;
    let dir = root().join("crates").join("updraft-web").join("bench");
    let bundled = target_dir().join("web").join("bench").join(peers);
    bundle(&modules, &dir.join(peers), &bundled)?;
    let ok = Command::new("node")
        .arg(dir.join(script))
        .env("UPDRAFT_BIN", target_dir().join("release").join("updraft"))
        .env("UPDRAFT_WEB_PKG", &pkg)
        .env("UPDRAFT_BENCH_PEERS", &bundled)
        .env("UPDRAFT_NODE_MODULES", &modules)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .status()?
        .success();
    Ok(if ok {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    })
}

/// `cargo xtask bench ui [--runs N] [--add N] [--upload N]`: `<updraft-uploader>` against
/// Uppy's Dashboard — adding many files at once, and the frames while files upload — in
/// one headless Chromium against one release `updraft dev`
/// (crates/updraft-web/bench/ui.mjs says what is measured and prints the tables).
pub(crate) fn bench_ui(args: &[String]) -> Result<std::process::ExitCode> {
    let (mut runs, mut add, mut upload) = ("3".to_owned(), "10000".to_owned(), "100".to_owned());
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match (a.as_str(), it.next()) {
            ("--runs", Some(v)) => runs = v.clone(),
            ("--add", Some(v)) => add = v.clone(),
            ("--upload", Some(v)) => upload = v.clone(),
            _ => bail!("unknown flag {a}; use --runs N, --add N, --upload N"),
        }
    }
    browser_bench(
        "the widget bench",
        &[NPM_WEB, tools::NPM_JS_SDK, tools::NPM_BENCH_UI].concat(),
        ("ui-peers.js", "ui.mjs"),
        &[
            ("UPDRAFT_BENCH_RUNS", runs),
            ("UPDRAFT_BENCH_ADD", add),
            ("UPDRAFT_BENCH_UPLOAD", upload),
        ],
    )
}

/// A peer `cargo xtask bench size` weighs: its npm packages (pinned), its entry under
/// `crates/updraft-web/bench/size/` (importing what a page needs for the same job, as far
/// as the peer does it), and what a page gets from it.
pub(crate) struct SizePeer {
    pub(crate) npm: &'static [(&'static str, &'static str)],
    entry: &'static str,
    what: &'static str,
}

pub(crate) const SIZE_PEERS: &[SizePeer] = &[
    SizePeer {
        npm: &[
            ("@aws-sdk/client-s3", "3.1175.0"),
            ("@aws-sdk/lib-storage", "3.1175.0"),
            ("@aws-sdk/credential-providers", "3.1175.0"),
        ],
        entry: "aws-sdk.js",
        what: "AWS SDK v3: S3Client + lib-storage Upload + fromWebToken/fromCognitoIdentityPool",
    },
    SizePeer {
        npm: &[("aws-amplify", "6.22.1")],
        entry: "amplify.js",
        what: "AWS Amplify 6: Amplify (Cognito credentials) + uploadData",
    },
    SizePeer {
        npm: &[("fine-uploader", "5.16.2")],
        entry: "fine-uploader.js",
        what: "Fine Uploader S3 5.16, core build (no UI)",
    },
    SizePeer {
        npm: &[("@uppy/core", "6.3.1"), ("@uppy/aws-s3", "6.3.1")],
        entry: "uppy.js",
        what: "Uppy 6 core + aws-s3 (no STS/Cognito: the page gets keys itself)",
    },
    SizePeer {
        npm: &[("evaporate", "2.1.4")],
        entry: "evaporate.js",
        what: "EvaporateJS 2.1 (no signer, MD5 or SHA-256: the page brings them)",
    },
];

/// The widgets `cargo xtask bench size` weighs beside `<updraft-uploader>`: each with its
/// stylesheets (esbuild writes an imported stylesheet beside the bundle; both are counted).
pub(crate) const UI_SIZE_PEERS: &[SizePeer] = &[
    SizePeer {
        npm: &[("fine-uploader", "5.16.2")],
        entry: "fine-uploader-ui.js",
        what: "Fine Uploader S3 5.16 with its UI: UI build, stylesheet and images, default template",
    },
    SizePeer {
        npm: tools::NPM_BENCH_UI,
        entry: "uppy-dashboard.js",
        what: "Uppy 6 Dashboard + aws-s3, both stylesheets (no STS/Cognito)",
    },
];

/// `cargo xtask bench size`: the bytes a page loads for updraft's headless API, and for
/// its widget, against what it loads for each peer, each bundled and minified by esbuild
/// for the browser, gzip -9 and brotli. Figures, not checks (the budget checks are in
/// `cargo xtask test`).
pub(crate) fn bench_size() -> Result<std::process::ExitCode> {
    let pkg = build_if_stale()?;
    let (ours, ours_br) = one_page(&pkg)?;
    let (mut widget, mut widget_br) = (ours, ours_br);
    for name in WIDGET {
        widget += gzip_size(&pkg.join(name))?;
        widget_br += brotli_size(&pkg.join(name))?;
    }
    let mut packages: Vec<(&str, &str)> = NPM_WEB.to_vec();
    for peer in SIZE_PEERS.iter().chain(UI_SIZE_PEERS) {
        packages.extend_from_slice(peer.npm);
    }
    let modules = ensure_npm(&packages)?;
    let weigh = |peers: &[SizePeer]| -> Result<Vec<(String, u64, u64)>> {
        peers
            .iter()
            .map(|p| weigh(&modules, p.entry).map(|(gz, br)| (p.what.to_owned(), gz, br)))
            .collect()
    };
    let table = |title: &str, ours: (String, u64, u64), peers: Vec<(String, u64, u64)>| {
        println!("\n| {title} | KiB gzip -9 | KiB brotli | updraft ÷ this (gzip) |");
        println!("|---|---:|---:|---:|");
        for (what, gz, br) in std::iter::once(&ours).chain(&peers) {
            println!(
                "| {what} | {:.1} | {:.1} | {:.2}× |",
                *gz as f64 / 1024.0,
                *br as f64 / 1024.0,
                ours.1 as f64 / *gz as f64
            );
        }
    };
    table(
        "what a page loads for the headless API",
        (format!("updraft: {}", ONE_PAGE.join(", ")), ours, ours_br),
        weigh(SIZE_PEERS)?,
    );
    table(
        "what a page loads for a widget",
        (
            format!(
                "updraft: <updraft-uploader> ({}) + {}",
                WIDGET.join(", "),
                ONE_PAGE.join(", ")
            ),
            widget,
            widget_br,
        ),
        weigh(UI_SIZE_PEERS)?,
    );
    println!(
        "\nbudget: {:.1} KiB gzip -9 for one page (issue 16); updraft is {:.1} KiB",
        BUDGET_GZIP_BYTES as f64 / 1024.0,
        ours as f64 / 1024.0
    );
    Ok(std::process::ExitCode::SUCCESS)
}
