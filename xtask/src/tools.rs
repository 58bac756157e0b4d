//! Every tool the project installs for itself, each pinned to an exact version here and
//! nowhere else, and the functions that install them (issue 12).
//!
//! The rule: a tool is installed into the project's cache (`~/.cache/updraft`, see
//! [`cache_dir`]) at its pinned version, and one found elsewhere is used only when it
//! reports that version. Nothing else in xtask runs an installer; the tests at the end of
//! this file check both that every pin is exact and that no other file of xtask installs
//! anything.
//!
//! | what | from | pinned | installed into |
//! |---|---|---|---|
//! | `wasm32-unknown-unknown`, `rust-src` | rustup | the toolchain's own ([`RUST_TOOLCHAIN`]) | the toolchain |
//! | cargo-fuzz | crates.io | [`CARGO_FUZZ`] | `~/.cache/updraft/bin` |
//! | garage | crates.io | [`GARAGE`] | `~/.cache/updraft/garage-VERSION` |
//! | wasm-bindgen-cli (+ test runner) | crates.io | Cargo.lock's `wasm-bindgen` (`=` in `crates/updraft-web/Cargo.toml`) | `~/.cache/updraft/bin` |
//! | moto, the AWS CLI, cfn-lint | PyPI | [`PIP`] | `~/.cache/updraft/venv` |
//! | wasm-opt, esbuild, playwright-core, the JS peers | npm | [`NPM_WEB`], [`NPM_JS_SDK`], [`NPM_BENCH`], [`NPM_BENCH_UI`], [`crate::web`]'s size peers | `~/.cache/updraft/node` |
//! | rclone, Chromium, ChromeDriver | Debian | [`APT_RCLONE`], [`APT_CHROMIUM`] | the system (apt, as root) |

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::cargo;

/// The toolchain the project is built and tested with. The rustup target and component
/// come with it, so they carry its version. Another toolchain gets a warning, not a
/// refusal: `rust-version` in Cargo.toml is the floor cargo enforces.
pub(crate) const RUST_TOOLCHAIN: &str = "1.95.0";

/// cargo-fuzz, which builds the fuzz targets (`fuzz/`).
pub(crate) const CARGO_FUZZ: &str = "0.13.2";

/// A Python package installed into the project's venv: `name[extras]==version`.
#[derive(Debug)]
pub(crate) struct PipPin {
    /// The distribution's name, as `importlib.metadata` knows it.
    pub(crate) name: &'static str,
    pub(crate) extras: &'static str,
    pub(crate) version: &'static str,
    /// The executable it puts in the venv's `bin`.
    pub(crate) bin: &'static str,
}

/// moto (a second S3, STS, IAM, Cognito implementation the CLI is tested against) and the
/// AWS CLI (v1, a client nobody here wrote, for the dev-store tests).
pub(crate) const MOTO: PipPin = PipPin {
    name: "moto",
    extras: "[server]",
    version: "5.2.5",
    bin: "moto_server",
};
pub(crate) const AWS_CLI: PipPin = PipPin {
    name: "awscli",
    extras: "",
    version: "1.46.3",
    bin: "aws",
};
/// cfn-lint, which checks the template `updraft setup aws --emit cloudformation` prints
/// (moto's CloudFormation makes only some of its resource types). moto's `[server]` extra
/// pulls in some cfn-lint; this pins the one the tests run.
pub(crate) const CFN_LINT: PipPin = PipPin {
    name: "cfn-lint",
    extras: "",
    version: "1.58.0",
    bin: "cfn-lint",
};
/// Every pip pin, for the checks below.
#[cfg(test)]
const PIP: &[&PipPin] = &[&MOTO, &AWS_CLI, &CFN_LINT];

/// npm packages (name, exact version) the browser build and tests use: wasm-opt, the
/// Chromium driver, the bundler the package is checked with, the dev issuer's peer, the
/// accessibility checker the widget's tests run in the page.
pub(crate) const NPM_WEB: &[(&str, &str)] = &[
    ("binaryen", "132.0.0"),
    ("playwright-core", "1.64.1"),
    ("vite", "7.3.1"),
    ("oidc-provider", "9.13.3"),
    ("esbuild", "0.27.7"),
    ("axe-core", "4.14.1"),
];

/// The AWS JS SDK v3, a client nobody here wrote, for the dev-store tests.
pub(crate) const NPM_JS_SDK: &[(&str, &str)] = &[
    ("@aws-sdk/client-s3", "3.1175.0"),
    ("@aws-sdk/lib-storage", "3.1175.0"),
];

/// The peers `cargo xtask bench browser` runs in the page.
pub(crate) const NPM_BENCH: &[(&str, &str)] = &[
    ("@aws-sdk/client-s3", "3.1175.0"),
    ("@aws-sdk/lib-storage", "3.1175.0"),
    ("@aws-sdk/s3-presigned-post", "3.1164.0"),
    ("@uppy/core", "6.3.1"),
    ("@uppy/aws-s3", "6.3.1"),
    ("fine-uploader", "5.16.2"),
    ("evaporate", "2.1.4"),
    ("spark-md5", "3.0.2"),
    ("js-sha256", "0.11.0"),
];

/// The peer `cargo xtask bench ui` runs beside `<updraft-uploader>`: Uppy's Dashboard with
/// its S3 plugin.
pub(crate) const NPM_BENCH_UI: &[(&str, &str)] = &[
    ("@uppy/core", "6.3.1"),
    ("@uppy/aws-s3", "6.3.1"),
    ("@uppy/dashboard", "6.0.3"),
];

/// A Debian package, pinned to an exact version of the archive.
#[derive(Debug)]
pub(crate) struct AptPin {
    pub(crate) package: &'static str,
    pub(crate) version: &'static str,
    /// Debian replaces this package in `bookworm-security` and deletes the older build
    /// from the archive (Chromium: every few weeks). When the pinned build is gone, the
    /// archive's current one is installed with a warning naming both versions, so a new
    /// machine still passes; the pin is then out of date and should be moved.
    pub(crate) follows_security_updates: bool,
}

/// rclone, a client nobody here wrote, for the dev-store tests (bookworm main).
pub(crate) const APT_RCLONE: &[AptPin] = &[AptPin {
    package: "rclone",
    version: "1.60.1+dfsg-2+b5",
    follows_security_updates: false,
}];

/// Where Debian's packages put the executables the tests run (by path, so another
/// rclone or Chromium on `PATH` is not picked up instead).
pub(crate) const RCLONE_BIN: &str = "/usr/bin/rclone";
pub(crate) const CHROMIUM_BIN: &str = "/usr/bin/chromium";
pub(crate) const CHROMEDRIVER_BIN: &str = "/usr/bin/chromedriver";

/// Chromium and ChromeDriver for the browser tests (bookworm-security).
pub(crate) const APT_CHROMIUM: &[AptPin] = &[
    AptPin {
        package: "chromium",
        version: "156.0.8078.129-1~deb12u1",
        follows_security_updates: true,
    },
    AptPin {
        package: "chromium-driver",
        version: "156.0.8078.129-1~deb12u1",
        follows_security_updates: true,
    },
];

/// Where tools the project installs for itself live, shared by clones on one machine:
/// `$XDG_CACHE_HOME/updraft`, else `~/.cache/updraft`.
pub(crate) fn cache_dir() -> PathBuf {
    let base = env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(env::temp_dir);
    base.join("updraft")
}

/// What `program args…` prints on stdout, trimmed; `None` when it does not run or fails.
fn output_of(program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn run_installer(cmd: &mut Command, what: &str) -> Result<()> {
    let ok = cmd
        .status()
        .with_context(|| format!("`{what}` could not run"))?
        .success();
    if !ok {
        bail!("`{what}` failed; the message above says why (is the registry reachable?)");
    }
    Ok(())
}

/// Warns when the toolchain is not [`RUST_TOOLCHAIN`].
pub(crate) fn check_toolchain() {
    let have = output_of("rustc", &["--version"]).unwrap_or_default();
    if !have.starts_with(&format!("rustc {RUST_TOOLCHAIN} ")) {
        println!(
            "xtask: WARNING: the project is tested with Rust {RUST_TOOLCHAIN}; this is \
             `{have}`. Expect differences (lints, the wasm size)."
        );
    }
}

/// The toolchain's `wasm32-unknown-unknown` target (rustup).
pub(crate) fn ensure_wasm_target() -> Result<()> {
    let installed = output_of("rustup", &["target", "list", "--installed"])
        .context("rustup is needed to add the wasm32 target: install it from https://rustup.rs")?;
    if installed.lines().any(|l| l == "wasm32-unknown-unknown") {
        return Ok(());
    }
    println!("xtask: installing the wasm32-unknown-unknown target (rustup)");
    run_installer(
        Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]),
        "rustup target add wasm32-unknown-unknown",
    )
}

/// The toolchain's `rust-src` component: the standard library's sources, which the wasm
/// build compiles (`-Zbuild-std`).
pub(crate) fn ensure_rust_src() -> Result<()> {
    let sysroot = output_of("rustc", &["--print", "sysroot"]).context("`rustc` could not run")?;
    if Path::new(&sysroot)
        .join("lib/rustlib/src/rust/library/std")
        .exists()
    {
        return Ok(());
    }
    println!("xtask: installing the rust-src component (rustup; the wasm build compiles std)");
    run_installer(
        Command::new("rustup").args(["component", "add", "rust-src"]),
        "rustup component add rust-src",
    )
}

/// `cargo install CRATE --version VERSION` into the cache's `bin` unless `bin` there
/// already prints `expected` for `--version`; returns the path of `bin`.
fn ensure_cargo_tool(
    krate: &str,
    version: &str,
    bin: &str,
    expected: &str,
    locked: bool,
) -> Result<PathBuf> {
    ensure_cargo_tool_in(&cache_dir(), krate, version, bin, expected, locked)
}

/// [`ensure_cargo_tool`] into the install root `root` (`root/bin/BIN`); `expected` is how
/// `BIN --version` begins.
fn ensure_cargo_tool_in(
    root: &Path,
    krate: &str,
    version: &str,
    bin: &str,
    expected: &str,
    locked: bool,
) -> Result<PathBuf> {
    let tool = root.join("bin").join(bin);
    let have =
        |tool: &Path| output_of(tool, &["--version"]).is_some_and(|v| v.starts_with(expected));
    if have(&tool) {
        return Ok(tool);
    }
    println!(
        "xtask: installing {krate} {version} into {}",
        root.display()
    );
    let mut cmd = cargo();
    cmd.args(["install", krate, "--version", version, "--root"])
        .arg(root);
    if locked {
        cmd.arg("--locked");
    }
    run_installer(
        &mut cmd,
        &format!("cargo install {krate} --version {version}"),
    )?;
    if !have(&tool) {
        bail!(
            "after `cargo install {krate}`, {} says `{}`, not `{expected}…`",
            tool.display(),
            output_of(&tool, &["--version"]).unwrap_or_default()
        );
    }
    Ok(tool)
}

/// Garage, the S3-compatible cluster the conformance tests run against (issue 19; AGPL-3.0,
/// run as a test peer only, never linked). Its own directory per version in the cache, as
/// it takes 8 to 14 minutes to build on 2 cores (7 min 52 s here, 2026-12-04).
pub(crate) const GARAGE: &str = "2.5.0";

/// [`GARAGE`], into `~/.cache/updraft/garage-VERSION/bin/garage`.
pub(crate) fn ensure_garage() -> Result<PathBuf> {
    ensure_cargo_tool_in(
        &cache_dir().join(format!("garage-{GARAGE}")),
        "garage",
        GARAGE,
        "garage",
        &format!("garage cargo:{GARAGE}"),
        true,
    )
}

/// [`CARGO_FUZZ`], into the cache's `bin` (which [`cargo`] puts first on `PATH`, so
/// `cargo fuzz` is this one whatever else is installed).
pub(crate) fn ensure_cargo_fuzz() -> Result<PathBuf> {
    ensure_cargo_tool(
        "cargo-fuzz",
        CARGO_FUZZ,
        "cargo-fuzz",
        &format!("cargo-fuzz {CARGO_FUZZ}"),
        true,
    )
}

/// The wasm-bindgen version Cargo.lock pins (`=` in crates/updraft-web/Cargo.toml).
pub(crate) fn locked_wasm_bindgen() -> Result<String> {
    let lock = std::fs::read_to_string(crate::root().join("Cargo.lock"))?;
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

/// The `wasm-bindgen` CLI (and `wasm-bindgen-test-runner`, the wasm tests' runner in
/// `.cargo/config.toml`) of the version Cargo.lock pins, into the cache's `bin`.
/// Without `--locked`: with it, a dependency its own lock file pins is missing from the
/// registry.
pub(crate) fn ensure_wasm_bindgen() -> Result<PathBuf> {
    let version = locked_wasm_bindgen()?;
    ensure_cargo_tool(
        "wasm-bindgen-cli",
        &version,
        "wasm-bindgen",
        &format!("wasm-bindgen {version}"),
        false,
    )
}

/// The Python venv test peers are installed into.
fn venv_dir() -> PathBuf {
    cache_dir().join("venv")
}

/// The version of the distribution `name` installed in the venv, if any.
fn venv_version(name: &str) -> Option<String> {
    output_of(
        venv_dir().join("bin").join("python"),
        &[
            "-c",
            &format!("import importlib.metadata as m; print(m.version({name:?}))"),
        ],
    )
}

/// Installs `pin` into the venv unless that version is there; returns the path of its
/// executable.
pub(crate) fn ensure_pip(pin: &PipPin) -> Result<PathBuf> {
    let venv = venv_dir();
    let tool = venv.join("bin").join(pin.bin);
    if venv_version(pin.name).as_deref() == Some(pin.version) && tool.exists() {
        return Ok(tool);
    }
    let requirement = format!("{}{}=={}", pin.name, pin.extras, pin.version);
    println!(
        "xtask: installing {requirement} (pip) into {}",
        venv.display()
    );
    if !venv.join("bin").join("pip").exists() {
        let python = env::var("PYTHON").unwrap_or_else(|_| "python3".into());
        let out = Command::new(&python)
            .args(["-m", "venv"])
            .arg(&venv)
            .output()
            .with_context(|| format!("`{python} -m venv` could not run: install Python 3"))?;
        if !out.status.success() {
            bail!(
                "`{python} -m venv {}` failed (on Debian: apt-get install python3-venv):\n{}",
                venv.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    let out = Command::new(venv.join("bin").join("pip"))
        .args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            &requirement,
        ])
        .output()
        .context("the venv's pip could not run")?;
    if !out.status.success() {
        bail!(
            "`pip install {requirement}` into {} failed (is PyPI reachable?):\n{}",
            venv.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(tool)
}

/// The version field of an installed npm package's `package.json`.
fn npm_version(modules: &Path, name: &str) -> Option<String> {
    let text = std::fs::read_to_string(modules.join(name).join("package.json")).ok()?;
    let manifest: serde_json::Value = serde_json::from_str(&text).ok()?;
    manifest["version"].as_str().map(str::to_owned)
}

/// Installs `packages` (name, exact version) with npm into `~/.cache/updraft/node`
/// unless there at those versions; returns its `node_modules`.
pub(crate) fn ensure_npm(packages: &[(&str, &str)]) -> Result<PathBuf> {
    let dir = cache_dir().join("node");
    let modules = dir.join("node_modules");
    if output_of("node", &["--version"]).is_none() {
        bail!(
            "`node` is needed for the browser build and the JS tests: install Node.js 18 or newer"
        );
    }
    let missing: Vec<String> = packages
        .iter()
        .filter(|(name, version)| npm_version(&modules, name).as_deref() != Some(*version))
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
        .args([
            "install",
            "--no-audit",
            "--no-fund",
            "--save-exact",
            "--prefix",
        ])
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

/// The installed version of a Debian package, if it is installed.
fn dpkg_version(package: &str) -> Option<String> {
    output_of("dpkg-query", &["-W", "-f=${Status} ${Version}", package])
        .and_then(|s| s.strip_prefix("install ok installed ").map(str::to_owned))
}

/// The versions of `package` the archive offers (`apt-cache madison`).
fn apt_versions(package: &str) -> Vec<String> {
    output_of("apt-cache", &["madison", package])
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split('|').nth(1).map(|v| v.trim().to_owned()))
        .collect()
}

/// Installs `pins` at their versions (apt-get, when running as root: a CI container),
/// unless installed at them already; otherwise says what to install.
pub(crate) fn ensure_apt(pins: &[AptPin], needed_for: &str) -> Result<()> {
    let stale: Vec<&AptPin> = pins
        .iter()
        .filter(|p| dpkg_version(p.package).as_deref() != Some(p.version))
        .collect();
    if stale.is_empty() {
        return Ok(());
    }
    let is_root = output_of("id", &["-u"]).as_deref() == Some("0");
    let mut refreshed = false;
    let mut wanted = Vec::new();
    for pin in stale {
        let mut offered = apt_versions(pin.package);
        if !offered.iter().any(|v| v == pin.version) && is_root && !refreshed {
            // The package lists may predate the pin.
            let _ = Command::new("apt-get").args(["update", "-q"]).status();
            refreshed = true;
            offered = apt_versions(pin.package);
        }
        let installed = dpkg_version(pin.package);
        let version = if offered.iter().any(|v| v == pin.version) {
            pin.version.to_owned()
        } else if pin.follows_security_updates
            && let Some(current) = offered.first()
        {
            // `madison` lists the newest first.
            println!(
                "xtask: WARNING: Debian no longer carries {} {} (a security update replaced \
                 it); using {current}. Move the pin in xtask/src/tools.rs.",
                pin.package, pin.version
            );
            if installed.as_deref() == Some(current.as_str()) {
                continue;
            }
            current.clone()
        } else {
            bail!(
                "{} {} is needed for {needed_for}, and the package archive does not offer \
                 it (it offers: {}); update the pin in xtask/src/tools.rs",
                pin.package,
                pin.version,
                if offered.is_empty() {
                    "nothing".to_owned()
                } else {
                    offered.join(", ")
                }
            );
        };
        wanted.push(format!("{}={version}", pin.package));
    }
    if wanted.is_empty() {
        return Ok(());
    }
    let list = wanted.join(" ");
    if !is_root {
        bail!("{list} is needed for {needed_for}: install it (sudo apt-get install {list})");
    }
    println!("xtask: installing {list} (apt-get)");
    run_installer(
        Command::new("apt-get")
            .args(["install", "-y", "-q", "--allow-downgrades"])
            .args(&wanted)
            .env("DEBIAN_FRONTEND", "noninteractive"),
        &format!("apt-get install {list}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `1.2.3`: digits only, three parts; no range, tag or wildcard.
    fn is_exact_semver(v: &str) -> bool {
        let parts: Vec<&str> = v.split('.').collect();
        parts.len() == 3
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    }

    /// A Debian version (`[epoch:]upstream[-revision]`) names one build: it starts with a
    /// digit and holds none of apt's pattern characters.
    fn is_exact_debian(v: &str) -> bool {
        v.starts_with(|c: char| c.is_ascii_digit())
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.~:".contains(&b))
    }

    #[test]
    fn r12_every_pin_is_exact() {
        assert!(is_exact_semver(RUST_TOOLCHAIN), "{RUST_TOOLCHAIN}");
        assert!(is_exact_semver(CARGO_FUZZ), "cargo-fuzz {CARGO_FUZZ}");
        assert!(is_exact_semver(GARAGE), "garage {GARAGE}");
        let bindgen = locked_wasm_bindgen().expect("Cargo.lock pins wasm-bindgen");
        assert!(is_exact_semver(&bindgen), "wasm-bindgen {bindgen}");
        for pin in PIP {
            assert!(is_exact_semver(pin.version), "{pin:?}");
        }
        let npm = [NPM_WEB, NPM_JS_SDK, NPM_BENCH, NPM_BENCH_UI]
            .into_iter()
            .flatten()
            .chain(crate::web::SIZE_PEERS.iter().flat_map(|p| p.npm))
            .chain(crate::web::UI_SIZE_PEERS.iter().flat_map(|p| p.npm));
        for (name, version) in npm {
            assert!(is_exact_semver(version), "npm {name}@{version}");
        }
        for pin in APT_RCLONE.iter().chain(APT_CHROMIUM) {
            assert!(is_exact_debian(pin.version), "{pin:?}");
        }
        // The checks themselves can fail.
        for loose in ["0.13", "^0.13.2", "3", "1.x", "*", "latest", ">=1.0.0"] {
            assert!(!is_exact_semver(loose), "{loose}");
        }
        assert!(!is_exact_debian("156.*"));
    }

    /// The wasm-bindgen crate is `=`-pinned, so the lock cannot drift from the CLI.
    #[test]
    fn r12_wasm_bindgen_is_pinned_with_eq() {
        let manifest = std::fs::read_to_string(crate::root().join("crates/updraft-web/Cargo.toml"))
            .expect("updraft-web's Cargo.toml");
        let line = manifest
            .lines()
            .find(|l| l.starts_with("wasm-bindgen "))
            .expect("updraft-web depends on wasm-bindgen");
        assert!(
            line.contains("\"=") || line.contains("version = \"="),
            "{line}"
        );
    }

    /// No file of xtask but this one runs an installer, so every install goes through a
    /// pin above.
    #[test]
    fn r12_installs_only_here() {
        let src = crate::root().join("xtask/src");
        let installer = ["\"install\"", "\"add\"", "pip install", "npm install"];
        for entry in std::fs::read_dir(&src).expect("xtask/src") {
            let path = entry.expect("an entry").path();
            if path.file_name().is_some_and(|n| n == "tools.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("a source file");
            for word in installer {
                assert!(
                    !text.contains(word),
                    "{} runs an installer ({word}): install through xtask/src/tools.rs",
                    path.display()
                );
            }
        }
    }
}
