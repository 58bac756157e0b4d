//! Credentials, region and endpoints the AWS way: flags first, then the environment
//! (`AWS_ACCESS_KEY_ID`, `AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_REGION`,
//! `AWS_ENDPOINT_URL_S3`, ...), then the profile in `~/.aws/config` and
//! `~/.aws/credentials` — the order the AWS CLI and SDKs use.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ini::Ini;
use updraft_core::Credentials;
use updraft_core::s3::{Addressing, Endpoint};

use crate::Error;

/// The region used when nothing names one.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Where temporary credentials come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CredentialSource {
    /// Keys given outright (long-term, or temporary with a session token).
    Static(Credentials),
    /// `AssumeRoleWithWebIdentity` with the token in a file, re-read at every refresh
    /// (Kubernetes and CI runners rotate it).
    WebIdentity {
        token_file: PathBuf,
        role_arn: String,
        session_name: String,
        sts_endpoint: String,
        /// `DurationSeconds` asked of STS (its default, one hour, when `None`).
        duration_seconds: Option<u32>,
    },
    /// `AssumeRoleWithWebIdentity` with a token printed by a command, run again at every
    /// refresh (`updraft dev token` for `--dev`).
    WebIdentityCommand {
        program: PathBuf,
        args: Vec<String>,
        role_arn: String,
        session_name: String,
        sts_endpoint: String,
        duration_seconds: Option<u32>,
    },
}

/// Everything resolved: where to send, as whom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub region: String,
    pub endpoint: Endpoint,
    pub credentials: CredentialSource,
}

/// Settings given on the command line, which win over everything else.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    pub path_style: bool,
    /// How long assumed-role sessions last (`DurationSeconds`).
    pub session_duration: Option<u32>,
}

/// The environment as the resolver sees it: variables and the home directory.
#[derive(Clone, Debug, Default)]
pub struct Environment {
    pub vars: BTreeMap<String, String>,
    pub home: Option<PathBuf>,
}

impl Environment {
    /// This process's environment.
    pub fn current() -> Self {
        Environment {
            vars: std::env::vars().collect(),
            home: dirs::home_dir(),
        }
    }

    fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn aws_file(&self, var: &str, default: &str) -> Option<PathBuf> {
        match self.var(var) {
            Some(p) => Some(PathBuf::from(p)),
            None => self.home.as_ref().map(|h| h.join(".aws").join(default)),
        }
    }
}

/// One profile's settings, merged from `config` (`[profile NAME]`, or `[default]`) and
/// `credentials` (`[NAME]`).
fn profile(env: &Environment, name: &str) -> Result<BTreeMap<String, String>, Error> {
    let mut out = BTreeMap::new();
    let sections = [
        (
            env.aws_file("AWS_CONFIG_FILE", "config"),
            if name == "default" {
                "default".to_owned()
            } else {
                format!("profile {name}")
            },
        ),
        (
            env.aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
            name.to_owned(),
        ),
    ];
    for (file, section) in sections {
        let Some(file) = file.filter(|f| f.exists()) else {
            continue;
        };
        let ini = Ini::load_from_file(&file).map_err(|e| Error::ConfigFile {
            path: file.clone(),
            detail: e.to_string(),
        })?;
        if let Some(props) = ini.section(Some(section.as_str())) {
            for (k, v) in props.iter() {
                out.insert(k.to_ascii_lowercase(), v.to_owned());
            }
        }
    }
    Ok(out)
}

/// Resolves region, endpoint and credentials.
///
/// # Errors
/// [`Error::NoCredentials`] when no credentials are found, [`Error::ProfileNotFound`]
/// for a `--profile` neither file has, [`Error::ConfigFile`] when a file cannot be read
/// and [`Error::InvalidEndpoint`] when an endpoint URL is unusable; the message says
/// what to set.
pub fn resolve(env: &Environment, flags: &Overrides) -> Result<Resolved, Error> {
    let profile_name = flags
        .profile
        .clone()
        .or_else(|| env.var("AWS_PROFILE").map(str::to_owned))
        .unwrap_or_else(|| "default".to_owned());
    let prof = profile(env, &profile_name)?;
    let p = |k: &str| prof.get(k).map(String::as_str).filter(|v| !v.is_empty());
    if flags.profile.is_some() && prof.is_empty() {
        return Err(Error::ProfileNotFound {
            profile: profile_name,
        });
    }

    let region = flags
        .region
        .clone()
        .or_else(|| env.var("AWS_REGION").map(str::to_owned))
        .or_else(|| env.var("AWS_DEFAULT_REGION").map(str::to_owned))
        .or_else(|| p("region").map(str::to_owned))
        .unwrap_or_else(|| DEFAULT_REGION.to_owned());

    let s3_url = flags
        .endpoint_url
        .clone()
        .or_else(|| env.var("AWS_ENDPOINT_URL_S3").map(str::to_owned))
        .or_else(|| env.var("AWS_ENDPOINT_URL").map(str::to_owned))
        .or_else(|| p("endpoint_url").map(str::to_owned));
    let force_path = flags.path_style
        || env
            .var("AWS_S3_FORCE_PATH_STYLE")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let addressing = if force_path {
        Addressing::Path
    } else {
        Addressing::Auto
    };
    let mut endpoint = match &s3_url {
        Some(url) => {
            Endpoint::custom(url, &region, addressing).map_err(|source| Error::InvalidEndpoint {
                setting: "--endpoint-url or AWS_ENDPOINT_URL_S3".into(),
                source,
            })?
        }
        None => Endpoint::aws(&region),
    };
    endpoint.addressing = addressing;
    let sts_endpoint = env
        .var("AWS_ENDPOINT_URL_STS")
        .or_else(|| env.var("AWS_ENDPOINT_URL"))
        .map(|u| u.trim_end_matches('/').to_owned())
        .unwrap_or_else(|| format!("https://sts.{region}.amazonaws.com"));

    let web_identity =
        |token_file: &str, role_arn: &str, session: Option<&str>| CredentialSource::WebIdentity {
            token_file: PathBuf::from(token_file),
            role_arn: role_arn.to_owned(),
            session_name: session.unwrap_or("updraft").to_owned(),
            sts_endpoint: sts_endpoint.clone(),
            duration_seconds: flags
                .session_duration
                .or_else(|| p("duration_seconds").and_then(|d| d.parse().ok())),
        };
    let credentials = if let (Some(id), Some(secret)) = (
        env.var("AWS_ACCESS_KEY_ID"),
        env.var("AWS_SECRET_ACCESS_KEY"),
    ) {
        let mut c = Credentials::new(id, secret);
        if let Some(t) = env.var("AWS_SESSION_TOKEN") {
            c = c.with_session_token(t);
        }
        CredentialSource::Static(c)
    } else if let (Some(file), Some(role)) = (
        env.var("AWS_WEB_IDENTITY_TOKEN_FILE"),
        env.var("AWS_ROLE_ARN"),
    ) {
        web_identity(file, role, env.var("AWS_ROLE_SESSION_NAME"))
    } else if let (Some(id), Some(secret)) = (p("aws_access_key_id"), p("aws_secret_access_key")) {
        let mut c = Credentials::new(id, secret);
        if let Some(t) = p("aws_session_token") {
            c = c.with_session_token(t);
        }
        CredentialSource::Static(c)
    } else if let (Some(file), Some(role)) = (p("web_identity_token_file"), p("role_arn")) {
        web_identity(file, role, p("role_session_name"))
    } else {
        return Err(Error::NoCredentials {
            profile: profile_name,
        });
    };
    Ok(Resolved {
        region,
        endpoint,
        credentials,
    })
}

/// Reads a web identity token file (trimmed).
///
/// # Errors
/// [`Error::TokenFileUnreadable`] when it cannot be read, [`Error::TokenFileEmpty`] when
/// it holds no token.
pub fn read_token(path: &Path) -> Result<String, Error> {
    let token = std::fs::read_to_string(path).map_err(|source| Error::TokenFileUnreadable {
        path: path.to_path_buf(),
        source,
    })?;
    let token = token.trim().to_owned();
    if token.is_empty() {
        return Err(Error::TokenFileEmpty {
            path: path.to_path_buf(),
        });
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)], home: Option<&Path>) -> Environment {
        Environment {
            vars: vars
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            home: home.map(Path::to_path_buf),
        }
    }

    #[test]
    fn environment_keys_win_over_the_profile_and_flags_over_both() {
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir(home.path().join(".aws")).unwrap();
        std::fs::write(
            home.path().join(".aws/credentials"),
            "[default]\naws_access_key_id = FROMFILE\naws_secret_access_key = s\n\
             [other]\naws_access_key_id = OTHER\naws_secret_access_key = s\n",
        )
        .unwrap();
        std::fs::write(
            home.path().join(".aws/config"),
            "[default]\nregion = eu-west-1\n[profile other]\nregion = ap-south-1\n\
             endpoint_url = http://127.0.0.1:9000\n",
        )
        .unwrap();
        let r = resolve(&env(&[], Some(home.path())), &Overrides::default()).unwrap();
        assert_eq!(r.region, "eu-west-1");
        assert!(
            matches!(&r.credentials, CredentialSource::Static(c) if c.access_key_id == "FROMFILE")
        );
        assert_eq!(r.endpoint.origin.host, "s3.eu-west-1.amazonaws.com");

        let e = env(
            &[
                ("AWS_ACCESS_KEY_ID", "ENVKEY"),
                ("AWS_SECRET_ACCESS_KEY", "s"),
                ("AWS_SESSION_TOKEN", "tok"),
                ("AWS_REGION", "us-west-2"),
            ],
            Some(home.path()),
        );
        let r = resolve(&e, &Overrides::default()).unwrap();
        assert_eq!(r.region, "us-west-2");
        assert!(matches!(&r.credentials, CredentialSource::Static(c)
            if c.access_key_id == "ENVKEY" && c.session_token.is_some()));

        let flags = Overrides {
            profile: Some("other".into()),
            region: Some("sa-east-1".into()),
            ..Overrides::default()
        };
        let r = resolve(&env(&[], Some(home.path())), &flags).unwrap();
        assert_eq!(r.region, "sa-east-1");
        assert_eq!(r.endpoint.origin.host, "127.0.0.1:9000");
        assert!(
            matches!(&r.credentials, CredentialSource::Static(c) if c.access_key_id == "OTHER")
        );
    }

    #[test]
    fn web_identity_from_the_environment() {
        let e = env(
            &[
                ("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token"),
                ("AWS_ROLE_ARN", "arn:aws:iam::1:role/r"),
                ("AWS_ENDPOINT_URL", "http://localhost:4181"),
            ],
            None,
        );
        let r = resolve(&e, &Overrides::default()).unwrap();
        assert_eq!(
            r.credentials,
            CredentialSource::WebIdentity {
                token_file: "/var/run/token".into(),
                role_arn: "arn:aws:iam::1:role/r".into(),
                session_name: "updraft".into(),
                sts_endpoint: "http://localhost:4181".into(),
                duration_seconds: None,
            }
        );
        assert_eq!(r.endpoint.addressing_for("uploads"), Addressing::Path);
    }

    #[test]
    fn nothing_found_says_what_to_set() {
        let err = resolve(&env(&[], None), &Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("AWS_ACCESS_KEY_ID"), "{err}");
        let err = resolve(
            &env(&[], None),
            &Overrides {
                profile: Some("nope".into()),
                ..Overrides::default()
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("\"nope\""), "{err}");
    }
}
