//! `updraft upload`: the command's flags, and running it.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use updraft_core::checksum::ChecksumAlgorithm;
use updraft_core::engine::{EngineConfig, STALL_TIMEOUT_MS};
use updraft_core::object::{CannedAcl, StorageClass};
use updraft_core::plan::{MAX_PART_SIZE, MIN_PART_SIZE, PlanConfig};
use updraft_core::s3::{Addressing, Endpoint, PutOptions};

use crate::Error;
use crate::config::{CredentialSource, Environment, Overrides, Resolved, resolve};
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
    /// How long an assumed role's session lasts, in seconds (STS `DurationSeconds`; else
    /// the profile's `duration_seconds`, else STS's default of one hour).
    #[arg(long)]
    pub session_duration: Option<u32>,
}

impl ConnectionArgs {
    pub(crate) fn overrides(&self) -> Overrides {
        Overrides {
            profile: self.profile.clone(),
            region: self.region.clone(),
            endpoint_url: self.endpoint_url.clone(),
            path_style: self.path_style,
            session_duration: self.session_duration,
        }
    }
}

/// Upload files and directories to S3 (or any S3-compatible store).
#[derive(Clone, Debug, Args)]
pub struct UploadArgs {
    /// Files and directories; a directory keeps its own name under the prefix.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// The bucket (with `--dev`, the stack's bucket unless given).
    #[arg(long, required_unless_present = "dev")]
    pub bucket: Option<String>,
    /// Upload to the local stack of `updraft dev` with its data directory (default
    /// `./.updraft`; give another as `--dev=DIR`): its endpoint, bucket and role, signed in
    /// as `--dev-user` through `updraft dev token`; keys go under `USER/` unless
    /// `--prefix` or `--key` say otherwise.
    #[arg(long, value_name = "DATA_DIR", num_args = 0..=1, require_equals = true,
          default_missing_value = ".updraft")]
    pub dev: Option<PathBuf>,
    /// Who `--dev` signs in as [default: $USER, else `dev`].
    #[arg(long, requires = "dev")]
    pub dev_user: Option<String>,
    /// Put every key under this prefix, used as given (add the `/` yourself).
    #[arg(long, default_value = "", conflicts_with = "key")]
    pub prefix: String,
    /// The key of the one file given.
    #[arg(long)]
    pub key: Option<String>,
    /// Preferred part size (`8MiB`, `16M`, bytes), from 5 MiB to 5 GiB; raised to fit
    /// 10,000 parts.
    #[arg(long, value_parser = parse_part_size, allow_hyphen_values = true)]
    pub part_size: Option<u64>,
    /// Requests in flight at once, across files and parts.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Abandon and retry a request that moves no byte for this many seconds (one
    /// without a file body, such as CompleteMultipartUpload, gets five times as long);
    /// 0: never.
    #[arg(long, value_name = "SECONDS", default_value_t = STALL_TIMEOUT_MS / 1000)]
    pub stall_timeout: u64,
    #[arg(long, value_enum, default_value_t = ChecksumArg::Crc64nvme)]
    pub checksum: ChecksumArg,
    /// Content type of every file (default: guessed from each file's name).
    #[arg(long)]
    pub content_type: Option<String>,
    /// User metadata, `name=value`; repeat for more.
    #[arg(long = "metadata", value_parser = parse_pair)]
    pub metadata: Vec<(String, String)>,
    /// Canned ACL, e.g. `private` or `public-read`.
    #[arg(long, value_parser = parse_acl)]
    pub acl: Option<String>,
    /// Storage class, e.g. `STANDARD_IA` or `INTELLIGENT_TIERING`.
    #[arg(long, value_parser = parse_storage_class)]
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

/// A part size S3 accepts: [`MIN_PART_SIZE`] to [`MAX_PART_SIZE`].
fn parse_part_size(s: &str) -> Result<u64, String> {
    let range = "give one from 5MiB to 5GiB";
    if s.trim_start().starts_with('-') {
        return Err(format!("a part size is not negative; {range}"));
    }
    let n = parse_size(s)?;
    if n < MIN_PART_SIZE {
        return Err(format!(
            "{n} bytes is below S3's smallest part (5 MiB, but the last); {range}"
        ));
    }
    if n > MAX_PART_SIZE {
        return Err(format!(
            "{n} bytes is above S3's largest part (5 GiB); {range}"
        ));
    }
    Ok(n)
}

/// A canned ACL S3 knows, spelt as S3 wants it.
fn parse_acl(s: &str) -> Result<String, String> {
    s.parse::<CannedAcl>()
        .map(|a| a.as_str().to_owned())
        .map_err(|e| e.to_string())
}

/// A storage class S3 knows, spelt as S3 wants it.
fn parse_storage_class(s: &str) -> Result<String, String> {
    s.parse::<StorageClass>()
        .map(|c| c.as_str().to_owned())
        .map_err(|e| e.to_string())
}

fn parse_pair(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("{s:?} is not name=value"))
}

/// Builds the job `args` describe.
///
/// # Errors
/// A usage or configuration [`Error`] (its [`Error::exit_code`] is [`EXIT_USAGE`]) for
/// missing credentials, unreadable paths, a `--dev` stack that is not running and the
/// like.
pub fn job(args: &UploadArgs, env: &Environment) -> Result<Job, Error> {
    let (resolved, bucket, prefix) = match &args.dev {
        Some(dir) => {
            let user = args
                .dev_user
                .clone()
                .or_else(|| env.vars.get("USER").cloned())
                .filter(|u| !u.is_empty())
                .unwrap_or_else(|| "dev".to_owned());
            let dev = dev_stack(dir, &user)?;
            let prefix = if args.prefix.is_empty() && args.key.is_none() {
                format!("{user}/")
            } else {
                args.prefix.clone()
            };
            (dev.0, args.bucket.clone().unwrap_or(dev.1), prefix)
        }
        None => (
            resolve(env, &args.connection.overrides())?,
            args.bucket.clone().unwrap_or_default(),
            args.prefix.clone(),
        ),
    };
    let files = plan(&args.paths, &prefix, args.key.as_deref())?;
    let mut plan_config = PlanConfig::default();
    if let Some(p) = args.part_size {
        plan_config.part_size = p;
        plan_config.multipart_threshold = p;
    }
    if args.concurrency == 0 {
        return Err(Error::InvalidArgument {
            argument: "--concurrency",
            problem: "must be at least 1".into(),
        });
    }
    let engine = EngineConfig {
        bucket,
        endpoint: resolved.endpoint,
        concurrency: args.concurrency,
        checksum: match args.checksum {
            ChecksumArg::Crc32c => Some(ChecksumAlgorithm::Crc32c),
            ChecksumArg::Crc64nvme => Some(ChecksumAlgorithm::Crc64Nvme),
            ChecksumArg::None => None,
        },
        plan: plan_config,
        stall_timeout_ms: args.stall_timeout.saturating_mul(1000),
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

/// The local stack described by `<dir>/stack.json`: where to send, and its bucket;
/// credentials from its STS with a token of `updraft dev token --sub USER`.
fn dev_stack(dir: &std::path::Path, user: &str) -> Result<(Resolved, String), Error> {
    let path = dir.join("stack.json");
    let text = std::fs::read_to_string(&path).map_err(|_| Error::DevStackMissing {
        data_dir: dir.to_path_buf(),
    })?;
    let stack: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::ConfigFile {
        path: path.clone(),
        detail: e.to_string(),
    })?;
    let field = |field: &'static str| {
        stack[field]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| Error::DevStackOutdated {
                path: path.clone(),
                field,
            })
    };
    let region = field("region")?;
    let endpoint =
        Endpoint::custom(&field("s3_endpoint")?, &region, Addressing::Auto).map_err(|source| {
            Error::InvalidEndpoint {
                setting: format!(
                    "\"s3_endpoint\" in {}, or restart the stack",
                    path.display()
                ),
                source,
            }
        })?;
    let program = std::env::current_exe().map_err(|source| Error::CurrentExe { source })?;
    let credentials = CredentialSource::WebIdentityCommand {
        program,
        args: vec![
            "dev".into(),
            "token".into(),
            "--sub".into(),
            user.to_owned(),
            "--data-dir".into(),
            dir.display().to_string(),
        ],
        role_arn: field("role_arn")?,
        session_name: format!("updraft-{user}"),
        sts_endpoint: field("sts_endpoint")?,
        duration_seconds: None,
    };
    Ok((
        Resolved {
            region,
            endpoint,
            credentials,
        },
        field("bucket")?,
    ))
}

/// Runs `updraft upload` and returns its exit status.
pub fn upload(args: &UploadArgs) -> u8 {
    let job = match job(args, &Environment::current()) {
        Ok(j) => j,
        Err(e) => return fail(&e),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(source) => return fail(&Error::Runtime { source }),
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
            .map(|(key, error)| serde_json::json!({ "key": key, "reason": error.to_string() }))
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
                "credentialFetches": summary.credential_fetches,
                "interrupted": summary.interrupted,
            })
        );
    }
    report(&summary)
}

/// Prints `error` and returns the status to exit with.
pub(crate) fn fail(error: &Error) -> u8 {
    eprintln!("error: {error}");
    error.exit_code()
}

/// Prints the outcome and returns the exit status.
pub fn report(summary: &Summary) -> u8 {
    for (key, error) in &summary.failed {
        if key.is_empty() {
            eprintln!("failed: {error}");
        } else {
            eprintln!("failed: {key}: {error}");
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
