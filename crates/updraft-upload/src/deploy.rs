//! `updraft deploy DIR --bucket SITE` (issue 14): a static site (the demo, or a page's own
//! build) into a bucket, readable by the public, as the seed hosts its page: each file's
//! content type from its name, HTML and `config.json` revalidated on every load
//! ([`REVALIDATE`]), everything else cached for an hour ([`CACHE`]), the canned ACL
//! `public-read`; then the page's URL.

use std::path::PathBuf;

use clap::Args;

use crate::Error;
use crate::cli::{ChecksumArg, ConnectionArgs, EXIT_OK, UploadArgs, fail, job, report};
use crate::config::Environment;
use crate::driver::run;
use crate::output::{Mode, Output};

/// `Cache-Control` of pages and `config.json`: asked again on every load, so a new
/// deploy shows at once.
pub const REVALIDATE: &str = "no-cache";
/// `Cache-Control` of everything else (scripts, styles, images, the wasm).
pub const CACHE: &str = "public, max-age=3600";

/// Put a static site into a bucket, readable by the public, and print its URL.
#[derive(Clone, Debug, Args)]
pub struct DeployArgs {
    /// The site's directory: its `index.html` and everything beside and below it.
    pub dir: PathBuf,
    /// The bucket that serves the site.
    #[arg(long)]
    pub bucket: String,
    /// Put the site under this prefix (add the `/` yourself).
    #[arg(long, default_value = "")]
    pub prefix: String,
    /// A `config.json` for the page (the shape `updraft dev` serves at `/config.json`),
    /// put beside `index.html` as `config.json`.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Send no ACL: for a bucket whose policy makes it public already (buckets made since
    /// April 2023 have ACLs disabled, and refuse `public-read`).
    #[arg(long)]
    pub no_acl: bool,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// Whether a key is a page or the page's configuration, which must not be cached.
fn revalidated(key: &str) -> bool {
    let name = key.rsplit('/').next().unwrap_or(key);
    name.ends_with(".html") || name.ends_with(".htm") || name == "config.json"
}

/// Runs `updraft deploy`; returns its exit status.
pub fn deploy(args: &DeployArgs) -> u8 {
    if !args.dir.join("index.html").is_file() {
        return fail(&Error::InvalidArgument {
            argument: "DIR",
            problem: format!(
                "{} has no index.html; give the directory of the built site",
                args.dir.display()
            ),
        });
    }
    let entries = match std::fs::read_dir(&args.dir) {
        Ok(rd) => {
            let mut v: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
            v.sort();
            v
        }
        Err(source) => {
            return fail(&Error::FileUnreadable {
                path: args.dir.clone(),
                source,
            });
        }
    };
    let upload = UploadArgs {
        paths: entries,
        bucket: Some(args.bucket.clone()),
        dev: None,
        dev_user: None,
        prefix: args.prefix.clone(),
        key: None,
        part_size: None,
        concurrency: 8,
        stall_timeout: updraft_core::engine::STALL_TIMEOUT_MS / 1000,
        checksum: ChecksumArg::Crc64nvme,
        content_type: None,
        metadata: Vec::new(),
        acl: (!args.no_acl).then(|| "public-read".to_owned()),
        storage_class: None,
        connection: args.connection.clone(),
        no_progress: true,
        json: false,
        abort_on_cancel: true,
        resume_dir: None,
    };
    let mut base = match job(&upload, &Environment::current()) {
        Ok(j) => j,
        Err(e) => return fail(&e),
    };
    base.resume = None;
    if let Some(config) = &args.config {
        match crate::files::plan(std::slice::from_ref(config), &args.prefix, None) {
            Ok(mut p) => {
                for f in &mut p {
                    f.key = format!("{}config.json", args.prefix);
                }
                base.files.retain(|f| !p.iter().any(|c| c.key == f.key));
                base.files.extend(p);
            }
            Err(e) => return fail(&e),
        }
    }
    let url = base
        .engine
        .endpoint
        .request(
            updraft_core::http::Method::Get,
            &base.engine.bucket,
            Some(&format!("{}index.html", args.prefix)),
        )
        .url();
    let (pages, assets): (Vec<_>, Vec<_>) = base.files.drain(..).partition(|f| revalidated(&f.key));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(source) => return fail(&Error::Runtime { source }),
    };
    let mut output = Output::new(Mode::Quiet);
    let mut summary = crate::driver::Summary::default();
    // Scripts and styles first, the pages that load them last.
    for (files, cache) in [(assets, CACHE), (pages, REVALIDATE)] {
        if files.is_empty() {
            continue;
        }
        let mut j = base.clone_config();
        j.files = files;
        j.options.cache_control = Some(cache.to_owned());
        let s = runtime.block_on(run(j, &mut output, async {
            let _ = tokio::signal::ctrl_c().await;
        }));
        summary.completed += s.completed;
        summary.cancelled += s.cancelled;
        summary.bytes += s.bytes;
        summary.failed.extend(s.failed);
        if s.interrupted {
            summary.interrupted = true;
            break;
        }
    }
    // https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html:
    // buckets made since April 2023 have ACLs disabled (BucketOwnerEnforced).
    if summary
        .failed
        .iter()
        .any(|(_, e)| e.to_string().contains("AccessControlListNotSupported"))
    {
        eprintln!(
            "The bucket {} has ACLs disabled (Object Ownership: bucket owner enforced), so \
             `public-read` cannot be set: make the site public with a bucket policy allowing \
             s3:GetObject on arn:aws:s3:::{}/{}* to everyone (and Block Public Access off for \
             it), then deploy again with --no-acl.",
            args.bucket, args.bucket, args.prefix
        );
    }
    let status = report(&summary);
    if status == EXIT_OK {
        println!("{url}");
    }
    status
}
