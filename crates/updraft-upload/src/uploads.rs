//! `updraft uploads list|abort`: see and clean unfinished multipart uploads in a bucket
//! (what an interrupted `updraft upload` leaves for its next run, or a crashed page).

use clap::{Args, Subcommand};
use updraft_core::Timestamp;
use updraft_core::http::Request;
use updraft_core::s3::{AbortMultipartUpload, ListMultipartUploads, MultipartUpload};
use updraft_core::sigv4::{Signer, SigningParams};

use crate::Error;
use crate::cli::{ConnectionArgs, EXIT_OK, fail};
use crate::config::{Environment, Resolved, resolve};
use crate::driver::{fetch_credentials, send_once};

/// Unfinished multipart uploads.
#[derive(Clone, Debug, Args)]
pub struct UploadsArgs {
    #[command(subcommand)]
    pub action: UploadsAction,
}

/// What to do with them.
#[derive(Clone, Debug, Subcommand)]
pub enum UploadsAction {
    /// List them: key, upload id and when each started, tab-separated.
    List {
        #[arg(long)]
        bucket: String,
        /// Only keys starting with this.
        #[arg(long, default_value = "")]
        prefix: String,
        #[command(flatten)]
        connection: ConnectionArgs,
    },
    /// Abort one (`--key` and `--upload-id`) or every one under `--prefix` (`--all`).
    Abort {
        #[arg(long)]
        bucket: String,
        #[arg(long, requires = "upload_id")]
        key: Option<String>,
        #[arg(long, requires = "key")]
        upload_id: Option<String>,
        /// Abort every unfinished upload whose key starts with `--prefix`.
        #[arg(long, conflicts_with_all = ["key", "upload_id"])]
        all: bool,
        #[arg(long, default_value = "")]
        prefix: String,
        #[command(flatten)]
        connection: ConnectionArgs,
    },
}

struct Client {
    http: reqwest::Client,
    resolved: Resolved,
    credentials: updraft_core::Credentials,
    signer: Signer,
}

impl Client {
    async fn call(&mut self, mut request: Request) -> Result<updraft_core::http::Response, Error> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let params = SigningParams::s3(
            &self.credentials,
            &self.resolved.region,
            Timestamp::from_unix(now),
        );
        self.signer
            .sign(&mut request, &params)
            .map_err(Error::Wire)?;
        send_once(&self.http, request).await
    }

    async fn list(&mut self, bucket: &str, prefix: &str) -> Result<Vec<MultipartUpload>, Error> {
        self.list_pages(bucket, prefix)
            .await
            .map_err(|e| Error::ListFailed {
                bucket: bucket.to_owned(),
                source: Box::new(e),
            })
    }

    async fn list_pages(
        &mut self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<MultipartUpload>, Error> {
        let mut op = ListMultipartUploads {
            bucket: bucket.to_owned(),
            prefix: (!prefix.is_empty()).then(|| prefix.to_owned()),
            key_marker: None,
            upload_id_marker: None,
            max_uploads: None,
        };
        let mut all = Vec::new();
        loop {
            let response = self.call(op.request(&self.resolved.endpoint)).await?;
            let page = op.parse(&response).map_err(Error::Wire)?;
            all.extend(page.uploads);
            match (
                page.is_truncated,
                page.next_key_marker,
                page.next_upload_id_marker,
            ) {
                (true, Some(k), Some(id)) => {
                    op.key_marker = Some(k);
                    op.upload_id_marker = Some(id);
                }
                _ => return Ok(all),
            }
        }
    }

    async fn abort(&mut self, bucket: &str, key: &str, upload_id: &str) -> Result<(), Error> {
        let op = AbortMultipartUpload {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            upload_id: upload_id.to_owned(),
        };
        let response = self.call(op.request(&self.resolved.endpoint)).await?;
        op.parse(&response).map_err(Error::Wire)
    }
}

async fn connect(connection: &ConnectionArgs) -> Result<Client, Error> {
    let resolved = resolve(&Environment::current(), &connection.overrides())?;
    let http = reqwest::Client::new();
    let credentials = fetch_credentials(&http, &resolved.credentials).await?;
    Ok(Client {
        http,
        resolved,
        credentials,
        signer: Signer::new(),
    })
}

async fn run(args: &UploadsArgs) -> Result<(), Error> {
    match &args.action {
        UploadsAction::List {
            bucket,
            prefix,
            connection,
        } => {
            let mut client = connect(connection).await?;
            for u in client.list(bucket, prefix).await? {
                let started = u.initiated.map(|t| t.iso8601_millis()).unwrap_or_default();
                println!("{}\t{}\t{started}", u.key, u.upload_id);
            }
            Ok(())
        }
        UploadsAction::Abort {
            bucket,
            key,
            upload_id,
            all,
            prefix,
            connection,
        } => {
            let mut client = connect(connection).await?;
            let targets: Vec<(String, String)> = match (key, upload_id, all) {
                (Some(k), Some(id), false) => vec![(k.clone(), id.clone())],
                (None, None, true) => client
                    .list(bucket, prefix)
                    .await?
                    .into_iter()
                    .map(|u| (u.key, u.upload_id))
                    .collect(),
                _ => {
                    return Err(Error::InvalidArgument {
                        argument: "updraft uploads abort",
                        problem:
                            "give --key and --upload-id, or --all (with --prefix to narrow it)"
                                .into(),
                    });
                }
            };
            let mut failed = 0;
            for (k, id) in &targets {
                match client.abort(bucket, k, id).await {
                    Ok(()) => println!("aborted {k}\t{id}"),
                    Err(e) => {
                        failed += 1;
                        eprintln!("failed: {k}\t{id}: {e}");
                    }
                }
            }
            if failed > 0 {
                return Err(Error::AbortFailed {
                    failed,
                    total: targets.len(),
                });
            }
            Ok(())
        }
    }
}

/// Runs `updraft uploads …` and returns its exit status.
pub fn uploads(args: &UploadsArgs) -> u8 {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(source) => return fail(&Error::Runtime { source }),
    };
    match runtime.block_on(run(args)) {
        Ok(()) => EXIT_OK,
        Err(e) => fail(&e),
    }
}
