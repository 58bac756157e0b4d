//! `updraft dev`: binds the origins, opens the store, seeds the bucket, writes
//! `stack.json`, serves until stopped.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::Error;
use crate::cognito::{DEFAULT_IDENTITY_POOL_ID, GUEST_ROLE_JSON};
use crate::faults::{FaultSpec, Faults};
use crate::front::Front;
use crate::keys::{AdminKeys, write_private};
use crate::oidc::{DEFAULT_CLIENT_ID, IssuerKey, IssuerService};
use crate::policy::{DEFAULT_ROLE_ARN, ROLE_JSON, Role};
use crate::s3::Backend;
use crate::store::{BucketMeta, CorsRule, Store, StoreError, now_ms};
use crate::sts::{StackAccess, StackAuth, Sts, load_or_create_key};

/// Default port of the app origin (the page the browser opens).
pub const DEFAULT_APP_PORT: u16 = 4180;
/// Default port of the S3 origin.
pub const DEFAULT_S3_PORT: u16 = 4181;
/// Default port of the dev OpenID Connect issuer.
pub const DEFAULT_ISSUER_PORT: u16 = 4182;
/// The issuer URL of the last stack run on a data directory (kept after it stops, for
/// `updraft dev token`).
pub const ISSUER_URL_FILE: &str = "issuer-url";
/// Default data directory, relative to where `updraft dev` runs.
pub const DEFAULT_DATA_DIR: &str = ".updraft";
/// Default region the store answers as.
pub const DEFAULT_REGION: &str = "us-east-1";
/// Default bucket created on first start.
pub const DEFAULT_BUCKET: &str = "uploads";
/// The machine-readable description of the running stack, inside the data directory.
pub const STACK_FILE: &str = "stack.json";

/// Headers the default CORS rule exposes to the page: what the browser library reads
/// (one list with `updraft doctor`'s fixes).
pub const EXPOSED_HEADERS: &[&str] = updraft_core::s3::cors::EXPOSE_HEADERS;
/// Configuration of `updraft dev`; the TOML file (`--config`) has the same fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DevConfig {
    /// Where data, keys and `stack.json` live. Default [`DEFAULT_DATA_DIR`].
    pub data_dir: PathBuf,
    /// Address every origin binds. Default `127.0.0.1`.
    pub bind: IpAddr,
    /// Default [`DEFAULT_APP_PORT`]; `0` picks a free port.
    pub app_port: u16,
    /// Default [`DEFAULT_S3_PORT`]; `0` picks a free port.
    pub s3_port: u16,
    /// Default [`DEFAULT_REGION`].
    pub region: String,
    /// Default [`DEFAULT_BUCKET`].
    pub bucket: String,
    /// One log line per request on stderr.
    pub verbose: bool,
    /// Default [`DEFAULT_ISSUER_PORT`]; `0` picks a free port.
    pub issuer_port: u16,
    /// Other OpenID Connect issuers (`http://` or `https://` URLs) the role trusts
    /// besides the dev issuer, with the same audience.
    pub trusted_issuers: Vec<String>,
    /// A PEM file of CA certificates trusted for `https://` issuers besides Mozilla's
    /// roots (`webpki-roots`): a private or local test CA.
    pub issuer_ca: Option<PathBuf>,
    /// Redirect URIs of the client `updraft-dev` besides `<app>/` and `<app>/callback`.
    pub redirect_uris: Vec<String>,
    /// Dev-only: lifetime of the dev issuer's ID tokens in seconds (default 3600).
    pub id_token_ttl: u64,
    /// Dev-only: the shortest STS DurationSeconds accepted (AWS: 900), for expiry tests.
    pub min_session_seconds: u32,
    /// The browser package served under `/pkg/` (what `cargo xtask web` builds). Default:
    /// `<target dir>/web/pkg` beside the running executable, when it is there.
    pub web_pkg: Option<PathBuf>,
    /// Faults injected on purpose, e.g. `503=0.05,reset=0.02` ([`crate::faults`]).
    /// Default: none.
    pub faults: Option<String>,
    /// The seed the faults are drawn from. Default: a random one, printed at start.
    pub faults_seed: Option<u64>,
}

impl Default for DevConfig {
    fn default() -> Self {
        DevConfig {
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            app_port: DEFAULT_APP_PORT,
            s3_port: DEFAULT_S3_PORT,
            region: DEFAULT_REGION.to_owned(),
            bucket: DEFAULT_BUCKET.to_owned(),
            verbose: false,
            issuer_port: DEFAULT_ISSUER_PORT,
            trusted_issuers: Vec::new(),
            issuer_ca: None,
            redirect_uris: Vec::new(),
            id_token_ttl: crate::oidc::DEFAULT_ID_TOKEN_TTL,
            min_session_seconds: 900,
            web_pkg: None,
            faults: None,
            faults_seed: None,
        }
    }
}

impl DevConfig {
    /// Reads a TOML configuration file; missing fields take their defaults.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read, [`Error::Config`] when it is not valid.
    pub fn from_file(path: &Path) -> Result<DevConfig, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("read", path, e))?;
        toml::from_str(&text).map_err(|e| Error::Config {
            detail: format!("{}: {e}", path.display()),
        })
    }
}

/// What runs, as written to `<data-dir>/stack.json`.
#[derive(Clone, Serialize)]
pub struct StackInfo {
    pub app_url: String,
    pub s3_endpoint: String,
    pub region: String,
    pub bucket: String,
    pub admin_access_key_id: String,
    pub admin_secret_access_key: String,
    /// STS (AssumeRoleWithWebIdentity): the S3 origin, as MinIO does.
    pub sts_endpoint: String,
    /// The dev OpenID Connect issuer.
    pub issuer: String,
    /// Its client, which is also the audience the role admits.
    pub client_id: String,
    /// The role users assume.
    pub role_arn: String,
    /// Cognito Identity (GetId, GetCredentialsForIdentity): the S3 origin too.
    pub cognito_endpoint: String,
    /// The identity pool whose guests may upload under `guest/<identity id>/`.
    pub identity_pool_id: String,
    /// The browser package the app serves under `/pkg/`; `None` when it is not built, and
    /// the app's page then says how to build it.
    pub web_pkg: Option<PathBuf>,
}

impl Drop for StackInfo {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.admin_secret_access_key);
    }
}

impl std::fmt::Debug for StackInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StackInfo")
            .field("app_url", &self.app_url)
            .field("s3_endpoint", &self.s3_endpoint)
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field("admin_access_key_id", &self.admin_access_key_id)
            .field("admin_secret_access_key", &"***")
            .field("sts_endpoint", &self.sts_endpoint)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("role_arn", &self.role_arn)
            .field("cognito_endpoint", &self.cognito_endpoint)
            .field("identity_pool_id", &self.identity_pool_id)
            .field("web_pkg", &self.web_pkg)
            .finish()
    }
}

/// A running stack. Dropping it without [`Stack::stop`] stops accepting at once.
#[derive(Debug)]
pub struct Stack {
    info: StackInfo,
    stack_file: PathBuf,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    faults: Option<Arc<Faults>>,
}

impl Stack {
    /// The fault mode, when `faults` is set: its seed and what it has injected.
    pub fn faults(&self) -> Option<&Faults> {
        self.faults.as_deref()
    }

    /// URLs, bucket and admin keys of the running stack.
    pub fn info(&self) -> &StackInfo {
        &self.info
    }

    /// Path of `stack.json`.
    pub fn stack_file(&self) -> &Path {
        &self.stack_file
    }

    /// Stops accepting, lets requests in flight finish (up to 5 s), removes `stack.json`.
    pub async fn stop(mut self) {
        let _ = self.shutdown.send(true);
        for t in std::mem::take(&mut self.tasks) {
            let _ = t.await;
        }
        let _ = std::fs::remove_file(&self.stack_file);
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

async fn bind(ip: IpAddr, port: u16, flag: &'static str) -> Result<TcpListener, Error> {
    let addr = SocketAddr::new(ip, port);
    TcpListener::bind(addr).await.map_err(|source| {
        if source.kind() == std::io::ErrorKind::AddrInUse {
            Error::PortInUse { addr, flag }
        } else {
            Error::Bind { addr, flag, source }
        }
    })
}

/// The CORS rule `updraft dev` gives its bucket: the app origin may do everything the
/// browser library does, with any header, and read the headers it needs.
pub fn default_cors_rule(app_origin: &str) -> CorsRule {
    CorsRule {
        id: Some("updraft-dev-app".to_owned()),
        allowed_origins: vec![app_origin.to_owned()],
        allowed_methods: ["GET", "PUT", "POST", "HEAD", "DELETE"]
            .map(str::to_owned)
            .to_vec(),
        allowed_headers: vec!["*".to_owned()],
        expose_headers: EXPOSED_HEADERS.iter().map(|h| (*h).to_owned()).collect(),
        max_age_seconds: Some(3000),
    }
}

fn seed_bucket(store: &Store, bucket: &str, app_origin: &str) -> Result<(), StoreError> {
    let rule = default_cors_rule(app_origin);
    match store.bucket(bucket) {
        Err(StoreError::NoSuchBucket) => store.create_bucket(
            bucket,
            &BucketMeta {
                created_ms: now_ms(),
                cors: Some(vec![rule]),
                managed_cors: true,
            },
        ),
        Ok(meta) if meta.managed_cors => store.update_bucket(bucket, |m| m.cors = Some(vec![rule])),
        Ok(_) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The URL clients use for a listener: loopback when bound to every address.
fn url(addr: SocketAddr) -> String {
    let mut addr = addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
        });
    }
    format!("http://{addr}")
}

/// Starts the stack: binds both origins (a port in use is [`Error::PortInUse`]), opens
/// the store, makes the admin keys and the bucket on first start, serves, and writes
/// `stack.json` once both listeners accept connections.
///
/// # Errors
/// See [`Error`]: binding, the data directory, the database, the keys.
pub async fn start(config: &DevConfig) -> Result<Stack, Error> {
    // Before anything binds or writes: a bad `issuer_ca` or fault spec stops here.
    let issuer_tls = crate::sts::issuer_tls(config.issuer_ca.as_deref())?;
    let faults = match &config.faults {
        Some(spec) => {
            let spec = FaultSpec::parse(spec).map_err(|e| Error::Config {
                detail: format!("--faults `{spec}`: {e}"),
            })?;
            let seed = match config.faults_seed {
                Some(seed) => seed,
                None => rand::random(),
            };
            Some(Arc::new(Faults::new(spec, seed)))
        }
        None if config.faults_seed.is_some() => {
            return Err(Error::Config {
                detail: "--faults-seed is given without --faults: add --faults SPEC (e.g. `--faults 503=0.05`), or leave the seed out".to_owned(),
            });
        }
        None => None,
    };
    let app_listener = bind(config.bind, config.app_port, "--app-port").await?;
    let s3_listener = bind(config.bind, config.s3_port, "--s3-port").await?;
    let issuer_listener = bind(config.bind, config.issuer_port, "--issuer-port").await?;
    let issuer_addr = issuer_listener
        .local_addr()
        .map_err(|e| Error::io("query", Path::new("issuer listener"), e))?;
    let app_addr = app_listener
        .local_addr()
        .map_err(|e| Error::io("query", Path::new("app listener"), e))?;
    let s3_addr = s3_listener
        .local_addr()
        .map_err(|e| Error::io("query", Path::new("s3 listener"), e))?;

    let dir = config.data_dir.clone();
    let store = tokio::task::spawn_blocking(move || Store::open(&dir))
        .await
        .map_err(|e| Error::Config {
            detail: e.to_string(),
        })??;
    let keys = AdminKeys::load_or_create(&config.data_dir)?;
    let app_url = url(app_addr);
    seed_bucket(&store, &config.bucket, &app_url).map_err(|e| Error::Database {
        path: config.data_dir.join("store.redb"),
        detail: format!("{e:?}"),
    })?;

    let issuer = url(issuer_addr);
    std::fs::write(config.data_dir.join(ISSUER_URL_FILE), &issuer)
        .map_err(|e| Error::io("write", &config.data_dir.join(ISSUER_URL_FILE), e))?;
    let data_dir = config.data_dir.clone();
    let issuer_key = tokio::task::spawn_blocking(move || IssuerKey::load_or_create(&data_dir))
        .await
        .map_err(|e| Error::Config {
            detail: e.to_string(),
        })??;
    let mut issuers = vec![issuer.clone()];
    issuers.extend(config.trusted_issuers.iter().cloned());
    let role = Role::load(ROLE_JSON, &issuers, &config.bucket)?;
    let guest_role = Role::load(
        &GUEST_ROLE_JSON.replace("{identity_pool_id}", DEFAULT_IDENTITY_POOL_ID),
        &[],
        &config.bucket,
    )?;
    let sts = Sts::new(
        load_or_create_key(&config.data_dir)?,
        role,
        guest_role,
        DEFAULT_IDENTITY_POOL_ID.to_owned(),
        config.min_session_seconds,
        app_url.clone(),
        issuer_tls,
    );
    let mut redirect_uris = vec![format!("{app_url}/"), format!("{app_url}/callback")];
    redirect_uris.extend(config.redirect_uris.iter().cloned());
    let issuer_service = IssuerService::new(
        issuer.clone(),
        issuer_key,
        DEFAULT_CLIENT_ID.to_owned(),
        redirect_uris,
        app_url.clone(),
        config.id_token_ttl,
    );

    let mut builder = s3s::service::S3ServiceBuilder::new(Backend::new(store.clone()));
    builder.set_auth(StackAuth {
        admin: keys.clone(),
        sts: sts.clone(),
    });
    builder.set_access(StackAccess {
        admin_key_id: keys.access_key_id.clone(),
        sts: sts.clone(),
    });
    builder.set_host(crate::front::DevHost);
    let front = Front {
        s3: builder.build(),
        store,
        sts,
        verbose: config.verbose,
        faults: faults.clone(),
    };

    let info = StackInfo {
        app_url: app_url.clone(),
        s3_endpoint: url(s3_addr),
        region: config.region.clone(),
        bucket: config.bucket.clone(),
        admin_access_key_id: keys.access_key_id.clone(),
        admin_secret_access_key: keys.secret_access_key.expose().to_owned(),
        sts_endpoint: url(s3_addr),
        issuer,
        client_id: DEFAULT_CLIENT_ID.to_owned(),
        role_arn: DEFAULT_ROLE_ARN.to_owned(),
        cognito_endpoint: url(s3_addr),
        identity_pool_id: DEFAULT_IDENTITY_POOL_ID.to_owned(),
        web_pkg: match &config.web_pkg {
            Some(dir) => dir.join("updraft.js").is_file().then(|| dir.clone()),
            None => crate::app::find_pkg(),
        },
    };
    let app = Arc::new(crate::app::App {
        config: crate::app::config_json(&info),
        pkg: info.web_pkg.clone(),
    });
    let (tx, rx) = watch::channel(false);
    let tasks = vec![
        tokio::spawn(serve(s3_listener, front, rx.clone())),
        tokio::spawn(serve(
            issuer_listener,
            hyper::service::service_fn(move |req: Request<Incoming>| {
                let svc = issuer_service.clone();
                async move { Ok::<_, Infallible>(svc.handle(req).await) }
            }),
            rx.clone(),
        )),
        tokio::spawn(serve(
            app_listener,
            hyper::service::service_fn(move |req: Request<Incoming>| {
                let app = Arc::clone(&app);
                async move { Ok::<_, Infallible>(app.respond(&req)) }
            }),
            rx,
        )),
    ];

    // The listeners were bound before serving started, so connections are accepted now.
    let stack_file = config.data_dir.join(STACK_FILE);
    let json = serde_json::to_vec_pretty(&info).map_err(|e| Error::Config {
        detail: e.to_string(),
    })?;
    write_private(&stack_file, &json)?;
    Ok(Stack {
        info,
        stack_file,
        shutdown: tx,
        tasks,
        faults,
    })
}

async fn serve<S, B>(listener: TcpListener, service: S, mut stop: watch::Receiver<bool>)
where
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let conn = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service.clone());
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            _ = stop.changed() => break,
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await;
}

/// A fresh ID token for `sub` from the dev issuer of the data directory `dir` (its key,
/// made if missing, and the issuer URL of its last run, else the default one), valid
/// for `ttl` seconds: what `updraft dev token` prints.
///
/// # Errors
/// [`Error`] for the key file.
pub fn id_token(dir: &Path, sub: &str, ttl: u64) -> Result<String, Error> {
    id_token_for(dir, sub, None, i64::try_from(ttl).unwrap_or(i64::MAX))
}

/// [`id_token`] for the audience `aud` (default: the dev client): another audience makes
/// a token the role refuses, as a token for another app would be. A negative `ttl` makes
/// one that expired that many seconds ago.
///
/// # Errors
/// [`Error`] for the key file.
pub fn id_token_for(dir: &Path, sub: &str, aud: Option<&str>, ttl: i64) -> Result<String, Error> {
    let issuer = std::fs::read_to_string(dir.join(ISSUER_URL_FILE))
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| format!("http://127.0.0.1:{DEFAULT_ISSUER_PORT}"));
    let key = IssuerKey::load_or_create(dir)?;
    key.id_token(&issuer, aud.unwrap_or(DEFAULT_CLIENT_ID), sub, ttl, None)
}
