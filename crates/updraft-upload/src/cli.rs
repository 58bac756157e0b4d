//! `updraft upload`: the command's flags, and running it.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use updraft_core::checksum::ChecksumAlgorithm;
use updraft_core::engine::EngineConfig;
use updraft_core::plan::PlanConfig;
use updraft_core::s3::PutOptions;

use crate::config::{ConfigError, Environment, Overrides, resolve};
use crate::driver::{Job, Summary, run};
use crate::files::plan;
use crate::output::{Mode, Output};
use crate::resume::ResumeStore;

/// Exit status: every file uploaded.
pub const EXIT_OK: u8 = 0;
/// Exit status: some files failed (each is named with its reason).
pub const EXIT_FAILED: u8 = 1;
/// Exit status: a usage or configuration error; nothing was uploaded.
pub const EXIT_USAGE: u8 = 2;

/// Which checksum each part carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ChecksumArg {
    Crc32c,
    Crc64nvme,
    None,
}

/// Where to connect and as whom; each falls back on the AWS environment and profiles.
#[derive(Clone, Debug, Default, Args)]
pub struct ConnectionArgs {
    /// The S3 endpoint (else `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, the profile, AWS).
    #[arg(long)]
    pub endpoint_url: Option<String>,
    #[arg(long)]
    pub region: Option<String>,
    #[arg(long)]
    pub profile: Option<String>,
    /// Address the bucket in the path (`http://host/bucket/key`); chosen by itself for IP
    /// addresses and `localhost`.
    #[arg(long)]
    pub path_style: bool,
}

impl ConnectionArgs {
    pub(crate) fn overrides(&self) -> Overrides {
        Overrides {
            profile: self.profile.clone(),
            region: self.region.clone(),
            endpoint_url: self.endpoint_url.clone(),
            path_style: self.path_style,
        }
    }
}

/// Upload files and directories to S3 (or any S3-compatible store).
#[derive(Clone, Debug, Args)]
pub struct UploadArgs {
    /// Files and directories; a directory keeps its own name under the prefix.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    #[arg(long)]
    pub bucket: String,
    /// Put every key under this prefix, used as given (add the `/` yourself).
    #[arg(long, default_value = "", conflicts_with = "key")]
    pub prefix: String,
    /// The key of the one file given.
    #[arg(long)]
    pub key: Option<String>,
    /// Preferred part size (`8MiB`, `16M`, bytes); raised to fit 10,000 parts.
    #[arg(long, value_parser = parse_size)]
    pub part_size: Option<u64>,
    /// Requests in flight at once, across files and parts.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    #[arg(long, value_enum, default_value_t = ChecksumArg::Crc64nvme)]
    pub checksum: ChecksumArg,
    /// Content type of every file (default: guessed from each file's name).
    #[arg(long)]
    pub content_type: Option<String>,
    /// User metadata, `name=value`; repeat for more.
    #[arg(long = "metadata", value_parser = parse_pair)]
    pub metadata: Vec<(String, String)>,
    /// Canned ACL, e.g. `private` or `public-read`.
    #[arg(long)]
    pub acl: Option<String>,
    #[arg(long)]
    pub storage_class: Option<String>,
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[arg(long)]
    pub no_progress: bool,
    /// Print one JSON event per line instead of progress bars.
    #[arg(long)]
    pub json: bool,
    /// On Ctrl-C, abort the multipart uploads instead of keeping them to resume.
    #[arg(long)]
    pub abort_on_cancel: bool,
    /// Where resume records are kept (default: the user cache dir's `updraft/resume`).
    #[arg(long)]
    pub resume_dir: Option<PathBuf>,
}

fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size such as 8MiB"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        other => return Err(format!("unknown size unit {other:?}; use KiB, MiB or GiB")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("{s:?} is too large"))
}

fn parse_pair(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("{s:?} is not name=value"))
}

/// Builds the job `args` describe.
///
/// # Errors
/// [`ConfigError`] for missing credentials, unreadable paths and the like.
pub fn job(args: &UploadArgs, env: &Environment) -> Result<Job, ConfigError> {
    let resolved = resolve(env, &args.connection.overrides())?;
    let files = plan(&args.paths, &args.prefix, args.key.as_deref())?;
    let mut plan_config = PlanConfig::default();
    if let Some(p) = args.part_size {
        plan_config.part_size = p;
        plan_config.multipart_threshold = p;
    }
    if args.concurrency == 0 {
        return Err(ConfigError("--concurrency must be at least 1".into()));
    }
    let engine = EngineConfig {
        bucket: args.bucket.clone(),
        endpoint: resolved.endpoint,
        concurrency: args.concurrency,
        checksum: match args.checksum {
            ChecksumArg::Crc32c => Some(ChecksumAlgorithm::Crc32c),
            ChecksumArg::Crc64nvme => Some(ChecksumAlgorithm::Crc64Nvme),
            ChecksumArg::None => None,
        },
        plan: plan_config,
        ..EngineConfig::default()
    };
    let resume = args
        .resume_dir
        .clone()
        .or_else(ResumeStore::default_dir)
        .map(ResumeStore::new);
    Ok(Job {
        engine,
        files,
        credentials: resolved.credentials,
        options: PutOptions {
            content_type: args.content_type.clone(),
            acl: args.acl.clone(),
            storage_class: args.storage_class.clone(),
            metadata: args.metadata.clone(),
            ..PutOptions::default()
        },
        resume,
        record_interval_ms: 1_000,
        abort_on_cancel: args.abort_on_cancel,
    })
}

/// Runs `updraft upload` and returns its exit status.
pub fn upload(args: &UploadArgs) -> u8 {
    let job = match job(args, &Environment::current()) {
        Ok(j) => j,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return EXIT_USAGE;
        }
    };
    let mode = if args.json {
        Mode::Json
    } else if args.no_progress {
        Mode::Quiet
    } else {
        Mode::Bars
    };
    let mut output = Output::new(mode);
    let summary = runtime.block_on(run(job, &mut output, async {
        let _ = tokio::signal::ctrl_c().await;
    }));
    if args.json {
        // The last line: what was done, for scripts (and the resume tests).
        let failed: Vec<_> = summary
            .failed
            .iter()
            .map(|(key, reason)| serde_json::json!({ "key": key, "reason": reason }))
            .collect();
        println!(
            "{}",
            serde_json::json!({
                "type": "summary",
                "completed": summary.completed,
                "cancelled": summary.cancelled,
                "failed": failed,
                "bytes": summary.bytes,
                "requests": summary.requests,
                "partsSent": summary.parts_sent,
                "interrupted": summary.interrupted,
            })
        );
    }
    report(&summary)
}

/// Prints the outcome and returns the exit status.
pub fn report(summary: &Summary) -> u8 {
    for (key, reason) in &summary.failed {
        if key.is_empty() {
            eprintln!("failed: {reason}");
        } else {
            eprintln!("failed: {key}: {reason}");
        }
    }
    if summary.interrupted {
        eprintln!(
            "interrupted: {} uploaded; run the same command again to resume the rest",
            summary.completed
        );
        return EXIT_FAILED;
    }
    eprintln!(
        "{} uploaded ({} bytes), {} failed",
        summary.completed,
        summary.bytes,
        summary.failed.len()
    );
    if summary.failed.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAILED
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_pairs() {
        assert_eq!(parse_size("8MiB"), Ok(8 << 20));
        assert_eq!(parse_size("16m"), Ok(16 << 20));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("8XB").is_err());
        assert_eq!(parse_pair("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert!(parse_pair("ab").is_err());
    }
}
