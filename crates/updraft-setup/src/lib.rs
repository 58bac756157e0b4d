//! `updraft setup aws` (issue 14): the seed's twenty console steps in one command — the
//! uploads bucket, its CORS rule and a lifecycle rule for forgotten uploads, one IAM role per
//! sign-in provider (an IAM OIDC provider for a generic issuer), a Cognito identity pool for
//! guests — read as they are, shown as a diff, applied after a yes, and written as the
//! page's `config.json`; or emitted as a CloudFormation template.
//!
//! # In scope
//! The [`provider`]s and their IAM names, the [`model`] of what should exist (from the role
//! files `updraft dev` enforces), the [`plan`] and its diff, the AWS calls in [`aws`]
//! (the AWS SDK for Rust, in this crate alone so that the upload path does not carry it),
//! the template in [`cfn`].
//!
//! # Out of scope
//! Registering the app with Google, Amazon or Facebook (their consoles give the ids this
//! command takes), and checking the live setup from a browser's view (`updraft doctor`).

pub mod aws;
pub mod cfn;
pub mod model;
pub mod plan;
pub mod provider;

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Value, json};

use crate::model::Settings;
use crate::provider::{PROVIDER_FORMS, Provider};

/// Exit status: the setup is as planned (applied, or nothing to change), or the plan or
/// template was printed.
pub const EXIT_OK: u8 = 0;
/// Exit status: a call to AWS failed; what was applied before it is said.
pub const EXIT_FAILED: u8 = 1;
/// Exit status: bad arguments, or the change was not confirmed; nothing was changed.
pub const EXIT_USAGE: u8 = 2;

/// `updraft setup`'s targets.
#[derive(Clone, Debug, Subcommand)]
pub enum Setup {
    /// Make or check the bucket, its CORS and lifecycle rules, the sign-in roles and a
    /// Cognito guest pool in an AWS account; shows the plan as a diff first.
    Aws(Box<AwsArgs>),
}

/// What `--emit` prints instead of applying.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Emit {
    /// A CloudFormation template (JSON) of the same resources.
    Cloudformation,
}

/// `updraft setup aws`.
#[derive(Clone, Debug, Args)]
pub struct AwsArgs {
    /// The uploads bucket (made if it does not exist).
    #[arg(long)]
    pub bucket: String,
    /// The page's origin (`https://app.example.com`), which the CORS rule admits; repeat
    /// for more.
    #[arg(long = "app-origin", value_name = "ORIGIN", required = true)]
    pub app_origins: Vec<String>,
    /// A sign-in provider whose users may upload, each with a role of its own:
    /// google:CLIENT_ID, amazon:APP_ID, facebook:APP_ID or oidc:ISSUER_URL,CLIENT_ID;
    /// repeat for more.
    #[arg(long = "provider", value_name = "PROVIDER", value_parser = Provider::parse)]
    pub providers: Vec<Provider>,
    /// A Cognito identity pool whose guests (no sign-in) may upload under `guest/`.
    #[arg(long)]
    pub cognito_guest: bool,
    /// Anyone may read the uploaded objects (a bucket policy; not listing).
    #[arg(long)]
    pub public_read: bool,
    /// The region (else the AWS environment and profile's).
    #[arg(long)]
    pub region: Option<String>,
    /// The AWS profile whose credentials make the setup.
    #[arg(long)]
    pub profile: Option<String>,
    /// Apply without asking.
    #[arg(long)]
    pub yes: bool,
    /// Show the plan and stop; nothing is changed.
    #[arg(long, conflicts_with = "yes")]
    pub dry_run: bool,
    /// Print the plan as JSON on stdout (each item's kind, name, action, current and
    /// desired document); the progress goes to stderr.
    #[arg(long)]
    pub json: bool,
    /// Print this instead of planning or applying (no AWS call is made).
    #[arg(long, value_enum, conflicts_with_all = ["yes", "dry_run", "config_out", "json"])]
    pub emit: Option<Emit>,
    /// Write the page's `config.json` (the shape `updraft dev` serves) here once the setup
    /// is as planned.
    #[arg(long, value_name = "FILE")]
    pub config_out: Option<PathBuf>,
}

/// The rules of S3 bucket names:
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html>.
fn check_bucket(b: &str) -> Result<(), String> {
    let ok_chars = b
        .bytes()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'.');
    let ends = |c: Option<u8>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !(3..=63).contains(&b.len())
        || !ok_chars
        || !ends(b.bytes().next())
        || !ends(b.bytes().last())
        || b.contains("..")
        || b.parse::<std::net::Ipv4Addr>().is_ok()
    {
        return Err(format!(
            "--bucket `{b}` is not a valid S3 bucket name: 3 to 63 lower-case letters, digits, \
             `-` and `.`, beginning and ending with a letter or digit, not an IP address"
        ));
    }
    Ok(())
}

/// A CORS origin is a scheme, a host and maybe a port: nothing after.
fn check_origin(o: &str) -> Result<(), String> {
    let rest = o
        .strip_prefix("https://")
        .or_else(|| o.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(['/', '?', '#', ' ']) => Ok(()),
        Some(_) if o.ends_with('/') && check_origin(o.trim_end_matches('/')).is_ok() => {
            Err(format!(
                "--app-origin `{o}`: an origin has no path, not even `/`; give `{}`",
                o.trim_end_matches('/')
            ))
        }
        _ => Err(format!(
            "--app-origin `{o}` is not an origin: give the page's scheme, host and port, as the \
             browser sends it in `Origin` (https://app.example.com)"
        )),
    }
}

fn settings(args: &AwsArgs, region: String, account: String) -> Settings {
    Settings {
        bucket: args.bucket.clone(),
        region,
        account,
        app_origins: args.app_origins.clone(),
        providers: args.providers.clone(),
        cognito_guest: args.cognito_guest,
        public_read: args.public_read,
    }
}

fn check(args: &AwsArgs) -> Result<(), String> {
    check_bucket(&args.bucket)?;
    for o in &args.app_origins {
        check_origin(o)?;
    }
    if args.providers.is_empty() && !args.cognito_guest {
        return Err(format!(
            "nobody could sign in to upload: give --provider ({PROVIDER_FORMS}) or \
             --cognito-guest"
        ));
    }
    let mut kinds: Vec<String> = args
        .providers
        .iter()
        .map(|p| p.role_name(model::ROLE_BASE))
        .collect();
    kinds.sort();
    if let Some(w) = kinds.windows(2).find(|w| w[0] == w[1]) {
        return Err(format!(
            "two --provider options make the same role {}: give each provider once (a role \
             trusts one app id of each provider)",
            w[0]
        ));
    }
    Ok(())
}

fn usage(message: &str) -> u8 {
    eprintln!("updraft setup aws: {message}");
    EXIT_USAGE
}

/// The page's `config.json` for this setup: what `updraft dev` serves, with this
/// account's roles (the endpoints only when `AWS_ENDPOINT_URL…` point elsewhere than AWS).
pub fn page_config(s: &Settings, pool_id: Option<&str>) -> Value {
    let mut c = json!({ "bucket": s.bucket, "region": s.region });
    let endpoint = |service: &str| {
        std::env::var(format!("AWS_ENDPOINT_URL_{service}"))
            .or_else(|_| std::env::var("AWS_ENDPOINT_URL"))
            .ok()
    };
    if let Some(e) = endpoint("S3") {
        c["endpoint"] = json!(e);
        c["pathStyle"] = json!(true);
    }
    if let Some(e) = endpoint("STS") {
        c["stsEndpoint"] = json!(e);
    }
    if let Some(e) = endpoint("COGNITO_IDENTITY").filter(|_| s.cognito_guest) {
        c["cognitoEndpoint"] = json!(e);
    }
    for p in &s.providers {
        let arn = aws::arn_of_role(&s.account, &p.role_name(model::ROLE_BASE));
        match p {
            Provider::Oidc { issuer, client_id } => {
                // The page signs in with one issuer; the first given.
                if c.get("issuer").is_none() {
                    c["issuer"] = json!(issuer);
                    // The widget's button: "Sign in with id.example.com".
                    c["issuerName"] = json!(p.iam_name().split('/').next().unwrap_or_default());
                    c["clientId"] = json!(client_id);
                    c["roleArn"] = json!(arn);
                }
            }
            _ => c[p.kind()] = json!({ "clientId": p.app_id(), "roleArn": arn }),
        }
    }
    if let Some(id) = pool_id {
        c["identityPoolId"] = json!(id);
    }
    c
}

fn write_config(path: &PathBuf, s: &Settings, pool_id: Option<&str>) -> Result<(), String> {
    let text = serde_json::to_string_pretty(&page_config(s, pool_id)).unwrap_or_default() + "\n";
    std::fs::write(path, text)
        .map_err(|e| format!("cannot write --config-out {}: {e}", path.display()))
}

/// Asks on the terminal; `false` unless the answer is yes.
fn confirmed(changes: usize) -> bool {
    eprint!("Apply {changes} change(s)? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line).is_err() {
        return false;
    }
    matches!(line.trim(), "y" | "Y" | "yes" | "Yes" | "YES")
}

/// Runs `updraft setup aws`; returns its exit status.
pub fn setup_aws(args: &AwsArgs) -> u8 {
    if let Err(e) = check(args) {
        return usage(&e);
    }
    if let Some(Emit::Cloudformation) = args.emit {
        let s = settings(args, args.region.clone().unwrap_or_default(), String::new());
        println!(
            "{}",
            serde_json::to_string_pretty(&cfn::template(&s)).unwrap_or_default()
        );
        return EXIT_OK;
    }
    if !args.yes && !args.dry_run && !std::io::stdin().is_terminal() {
        return usage(
            "the plan needs a yes, and stdin is not a terminal: give --yes to apply without \
             asking, or --dry-run to see the plan",
        );
    }
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("updraft setup aws: cannot start the async runtime: {e}");
            return EXIT_FAILED;
        }
    };
    rt.block_on(run(args))
}

/// Progress and the plan's text: stdout, or stderr under `--json`.
fn say(json: bool, text: &str) {
    if json {
        eprintln!("{text}");
    } else {
        println!("{text}");
    }
}

async fn run(args: &AwsArgs) -> u8 {
    let clients = aws::Clients::load(args.region.as_deref(), args.profile.as_deref()).await;
    let Some(region) = args.region.clone().or_else(|| clients.region()) else {
        return usage("no region: give --region, or set AWS_REGION or a profile's region");
    };
    let account = match aws::account(&clients).await {
        Ok(a) => a,
        Err(e) => {
            eprintln!("updraft setup aws: {e}");
            return EXIT_FAILED;
        }
    };
    let s = settings(args, region, account);
    let (plan, current) = match aws::plan(&clients, &s).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("updraft setup aws: {e}");
            return EXIT_FAILED;
        }
    };
    say(
        args.json,
        &format!(
            "updraft setup aws: account {}, region {}, bucket {}\n{}",
            s.account,
            s.region,
            s.bucket,
            plan.render()
        ),
    );
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&plan.to_json()).unwrap_or_default()
        );
    }
    let changes = plan.changes();
    let mut pool_id = current.pool_id.clone();
    if changes == 0 {
        say(
            args.json,
            "Nothing to change: the setup is as it should be.",
        );
    } else if args.dry_run {
        say(
            args.json,
            &format!("{changes} change(s) planned; nothing changed (--dry-run)."),
        );
        return EXIT_OK;
    } else {
        if !args.yes && !confirmed(changes) {
            eprintln!("updraft setup aws: not applied; nothing changed");
            return EXIT_USAGE;
        }
        let mut done = 0;
        let json = args.json;
        let mut tell = |line: String| {
            done += 1;
            say(json, &format!("  done: {line}"));
        };
        match aws::apply(&clients, &s, &plan, &current, &mut tell).await {
            Ok(id) => {
                pool_id = id;
                say(args.json, &format!("Applied {changes} change(s)."));
            }
            Err(e) => {
                eprintln!(
                    "updraft setup aws: {e}\n  ({done} step(s) were done before it; run the \
                     command again to see what is left)"
                );
                return EXIT_FAILED;
            }
        }
    }
    if let Some(path) = &args.config_out {
        if let Err(e) = write_config(path, &s, pool_id.as_deref()) {
            eprintln!("updraft setup aws: {e}");
            return EXIT_FAILED;
        }
        say(
            args.json,
            &format!("Wrote the page's configuration to {}.", path.display()),
        );
    }
    EXIT_OK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_and_origins_are_checked_before_any_call() {
        for ok in ["my-uploads", "a.b-c", "abc"] {
            check_bucket(ok).unwrap();
        }
        for bad in ["ab", "My-Uploads", "-a-", "a..b", "192.168.1.1", "a_b"] {
            assert!(check_bucket(bad).is_err(), "{bad}");
        }
        check_origin("https://app.example.com").unwrap();
        check_origin("http://localhost:4180").unwrap();
        assert!(
            check_origin("https://app.example.com/")
                .unwrap_err()
                .contains("no path")
        );
        assert!(
            check_origin("app.example.com")
                .unwrap_err()
                .contains("not an origin")
        );
        assert!(
            check_origin("https://a.com/page")
                .unwrap_err()
                .contains("not an origin")
        );
    }
}
