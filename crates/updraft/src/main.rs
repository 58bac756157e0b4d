//! The `updraft` command. Thin: flags are parsed here, the work is in the libraries.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use updraft_dev::DevConfig;

#[derive(Debug, Parser)]
#[command(
    name = "updraft",
    version,
    about = "Uploads from the browser straight into S3"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the local stack on 127.0.0.1: an S3-compatible store, STS and Cognito Identity
    /// on its origin, a dev OpenID Connect issuer, and the demo app; data kept in the data
    /// directory.
    Dev(DevArgs),
    /// Upload files and directories to S3 (or any S3-compatible store).
    Upload(Box<updraft_upload::cli::UploadArgs>),
    /// Show or abort unfinished multipart uploads in a bucket.
    Uploads(Box<updraft_upload::uploads::UploadsArgs>),
    /// Check a live setup as the browser sees it: CORS preflights, exposed headers, STS
    /// and the role's trust, a test upload, the clock; each failure with its fix.
    Doctor(Box<updraft_upload::doctor::DoctorArgs>),
    /// Put a static site (the demo, or your own build) into a bucket, readable by the
    /// public, with content types and cache headers; prints its URL.
    Deploy(Box<updraft_upload::deploy::DeployArgs>),
    /// Make or check the cloud side of a site: `updraft setup aws` makes the bucket, its
    /// CORS and lifecycle rules, the sign-in roles and a guest pool, after showing the plan.
    Setup {
        #[command(subcommand)]
        target: updraft_setup::Setup,
    },
}

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
struct DevArgs {
    #[command(subcommand)]
    action: Option<DevAction>,
    /// Data directory (objects, database, admin keys, stack.json) [default: ./.updraft]
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1]
    #[arg(long)]
    bind: Option<IpAddr>,
    /// TOML file with the same settings (data_dir, bind, app_port, s3_port, region, bucket)
    #[arg(long)]
    config: Option<PathBuf>,
    /// Port of the app origin [default: 4180]
    #[arg(long)]
    app_port: Option<u16>,
    /// Port of the S3 origin, which also answers STS [default: 4181]
    #[arg(long)]
    s3_port: Option<u16>,
    /// Port of the dev OpenID Connect issuer [default: 4182]
    #[arg(long)]
    issuer_port: Option<u16>,
    /// Log one line per request (method, bucket/key, status, bytes, ms) and per fault
    #[arg(long)]
    verbose: bool,
    /// Inject faults into S3 requests at these rates, e.g.
    /// `503=0.05,slowdown=0.05,reset=0.02,stall=0.01,expired-token=0.01,lose-answer=0.01`
    /// (faults: 500, 503, slowdown, reset, stall, expired-token, lose-answer); a summary
    /// of what was injected is printed on exit
    #[arg(long, value_name = "SPEC")]
    faults: Option<String>,
    /// Seed of the faults' draws, to repeat a run [default: a random seed, printed]
    #[arg(long, value_name = "N", requires = "faults")]
    faults_seed: Option<u64>,
}

#[derive(Debug, Subcommand)]
enum DevAction {
    /// Print a fresh ID token of the dev issuer (the JWT alone on stdout), signed with the
    /// key of the stack in the data directory, whether or not it runs.
    Token {
        /// The user (`sub` claim)
        #[arg(long)]
        sub: String,
        /// Lifetime in seconds [default: 3600]; negative: a token that expired that long
        /// ago, to see what an expired sign-in does (STS allows 60 s of clock skew)
        #[arg(long, default_value_t = 3600, allow_hyphen_values = true)]
        ttl: i64,
        /// Audience (`aud` claim) [default: the dev client, `updraft-dev`]; any other makes
        /// a token the role refuses, to see what a token for another app does
        #[arg(long)]
        aud: Option<String>,
        /// Data directory [default: ./.updraft]
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Dev(args) => dev(args),
        Command::Upload(args) => return ExitCode::from(updraft_upload::cli::upload(&args)),
        Command::Uploads(args) => return ExitCode::from(updraft_upload::uploads::uploads(&args)),
        Command::Doctor(args) => return ExitCode::from(updraft_upload::doctor::doctor(&args)),
        Command::Deploy(args) => return ExitCode::from(updraft_upload::deploy::deploy(&args)),
        Command::Setup {
            target: updraft_setup::Setup::Aws(args),
        } => return ExitCode::from(updraft_setup::setup_aws(&args)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("updraft: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Until Ctrl-C (SIGINT) or, on Unix, SIGTERM (what `kill` and process managers send).
async fn stopped() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("cannot wait for SIGTERM")?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.context("cannot wait for Ctrl-C")?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c()
        .await
        .context("cannot wait for Ctrl-C")?;
    Ok(())
}

fn dev(args: DevArgs) -> anyhow::Result<()> {
    if let Some(DevAction::Token {
        sub,
        ttl,
        aud,
        data_dir,
    }) = args.action
    {
        let dir = data_dir.unwrap_or_else(|| PathBuf::from(updraft_dev::DEFAULT_DATA_DIR));
        let token = updraft_dev::id_token_for(&dir, &sub, aud.as_deref(), ttl)?;
        println!("{token}");
        return Ok(());
    }
    let mut config = match &args.config {
        Some(path) => DevConfig::from_file(path)?,
        None => DevConfig::default(),
    };
    if let Some(d) = args.data_dir {
        config.data_dir = d;
    }
    if let Some(b) = args.bind {
        config.bind = b;
    }
    if let Some(p) = args.app_port {
        config.app_port = p;
    }
    if let Some(p) = args.s3_port {
        config.s3_port = p;
    }
    if let Some(p) = args.issuer_port {
        config.issuer_port = p;
    }
    config.verbose |= args.verbose;
    if args.faults.is_some() {
        config.faults = args.faults;
    }
    if args.faults_seed.is_some() {
        config.faults_seed = args.faults_seed;
    }
    let rt = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    rt.block_on(async {
        let stack = updraft_dev::start(&config).await?;
        let info = stack.info();
        println!("updraft dev is running (Ctrl-C stops it)");
        println!("  app:         {}", info.app_url);
        println!(
            "  s3 endpoint: {}  (region {})",
            info.s3_endpoint, info.region
        );
        println!("  bucket:      {}", info.bucket);
        println!(
            "  issuer:      {}  (client {})",
            info.issuer, info.client_id
        );
        println!(
            "  sts:         {}  (role {})",
            info.sts_endpoint, info.role_arn
        );
        println!(
            "  admin key:   {}  (secret in {})",
            info.admin_access_key_id,
            stack.stack_file().display()
        );
        match &info.web_pkg {
            Some(_) => println!(
                "\nOpen {} in a browser: sign in with any name (the dev issuer asks no \
                 password), choose files, and each stored file gets a link.",
                info.app_url
            ),
            None => println!(
                "\nThe browser package is not built, so {} only says how to build it: run \
                 `cargo xtask dev` (it builds the package first) or `cargo xtask web`.",
                info.app_url
            ),
        }
        if let Some(faults) = stack.faults() {
            println!(
                "\nFaults on purpose: {} (seed {}; repeat with --faults-seed {})",
                faults.spec(),
                faults.seed(),
                faults.seed()
            );
        }
        stopped().await?;
        println!("updraft dev: stopping");
        if let Some(faults) = stack.faults() {
            // On stderr, where --verbose logs each one.
            eprintln!("updraft dev: {}", faults.summary());
        }
        stack.stop().await;
        Ok(())
    })
}
