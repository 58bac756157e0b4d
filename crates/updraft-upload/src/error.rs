//! The one error type of `updraft upload` and `updraft uploads`. Each variant says what
//! went wrong, to which file, key, option or profile, and what to do next;
//! [`Error::exit_code`] maps it to the status the command exits with.
//!
//! No variant holds a secret: access keys and web identity tokens never reach an error
//! (a token command's stderr is kept, its stdout, the token, is not).

use std::fmt;
use std::io;
use std::path::PathBuf;

use updraft_core::engine::UploadError;

use crate::cli::{EXIT_FAILED, EXIT_USAGE};

/// Everything `updraft upload` and `updraft uploads` can fail with.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    // ---- configuration and arguments: found before anything is sent ------------------
    /// Neither the environment nor the profile holds credentials.
    NoCredentials { profile: String },
    /// `--profile` names a profile that neither `~/.aws/config` nor
    /// `~/.aws/credentials` has.
    ProfileNotFound { profile: String },
    /// A configuration file (`~/.aws/config`, `~/.aws/credentials`, the dev stack's
    /// `stack.json`) cannot be read or parsed.
    ConfigFile { path: PathBuf, detail: String },
    /// An S3 endpoint URL cannot be used; `setting` names where it came from.
    InvalidEndpoint {
        setting: String,
        source: updraft_core::Error,
    },
    /// A flag, or a combination of flags, cannot be used as given.
    InvalidArgument {
        /// The flag, e.g. `--concurrency`, or the command.
        argument: &'static str,
        problem: String,
    },
    /// A path to upload is not UTF-8, which an S3 key must be.
    NotUtf8 { path: PathBuf },
    /// A file or directory to upload cannot be opened or looked at (missing, no
    /// permission).
    FileUnreadable { path: PathBuf, source: io::Error },
    /// `--dev`: the data directory has no `stack.json`, so no stack runs there.
    DevStackMissing { data_dir: PathBuf },
    /// `--dev`: `stack.json` lacks a field this command needs.
    DevStackOutdated { path: PathBuf, field: &'static str },
    /// `--dev`: this program's own path, to run `updraft dev token`, is unknown.
    CurrentExe { source: io::Error },
    /// The async runtime cannot start.
    Runtime { source: io::Error },

    // ---- credentials -----------------------------------------------------------------
    /// The web identity token file cannot be read.
    TokenFileUnreadable { path: PathBuf, source: io::Error },
    /// The web identity token file holds no token.
    TokenFileEmpty { path: PathBuf },
    /// The command that prints a token (`updraft dev token`) cannot be started.
    TokenCommandNotRun { program: PathBuf, source: io::Error },
    /// The command that prints a token exited with a failure.
    TokenCommandFailed {
        /// The program and its arguments, as a shell would show them.
        command: String,
        /// What it wrote on stderr (its stdout, the token, is never kept).
        stderr: String,
    },
    /// STS gave no credentials: it refused `AssumeRoleWithWebIdentity`, its endpoint is
    /// unusable, or its answer cannot be read.
    Credentials {
        sts_endpoint: String,
        source: updraft_core::Error,
    },
    /// Getting credentials failed `attempts` times in a row, so the run stopped every
    /// file not finished yet.
    CredentialsGaveUp { attempts: u32, source: Box<Error> },

    // ---- the wire --------------------------------------------------------------------
    /// A file's upload failed: the engine's error, naming the file, bucket and key, and
    /// what to do.
    Upload(Box<UploadError>),
    /// S3 refused a request, or the engine a file, or a request cannot be signed: the
    /// wire layer's error, which says what to do.
    Wire(updraft_core::Error),
    /// No answer from `host`: the connection failed, timed out or was reset.
    Network {
        host: String,
        /// The system's and reqwest's reason, without the URL (a presigned one would
        /// carry a signature).
        detail: String,
    },

    // ---- reading files mid-upload ----------------------------------------------------
    // Both are handed to the engine, whose `ReadFailed` wraps them with what to do.
    /// A range of a file being uploaded cannot be read.
    FileReadFailed { path: PathBuf, source: io::Error },
    /// A file being uploaded ends before byte `end`: it is shorter than when the upload
    /// started.
    FileShrank { path: PathBuf, end: u64 },

    // ---- updraft uploads -------------------------------------------------------------
    /// `ListMultipartUploads` of `bucket` failed.
    ListFailed { bucket: String, source: Box<Error> },
    /// Some of the uploads to abort could not be; each was named with its reason.
    AbortFailed { failed: usize, total: usize },
}

impl Error {
    /// The status `updraft` exits with when this error ends the command: 2
    /// ([`EXIT_USAGE`]) for a usage or configuration problem found before anything was
    /// sent, else 1 ([`EXIT_FAILED`]). A file's failure in a run that goes on is counted by
    /// [`crate::cli::report`] instead.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::NoCredentials { .. }
            | Error::ProfileNotFound { .. }
            | Error::ConfigFile { .. }
            | Error::InvalidEndpoint { .. }
            | Error::InvalidArgument { .. }
            | Error::NotUtf8 { .. }
            | Error::FileUnreadable { .. }
            | Error::DevStackMissing { .. }
            | Error::DevStackOutdated { .. }
            | Error::CurrentExe { .. }
            | Error::Runtime { .. } => EXIT_USAGE,
            Error::TokenFileUnreadable { .. }
            | Error::TokenFileEmpty { .. }
            | Error::TokenCommandNotRun { .. }
            | Error::TokenCommandFailed { .. }
            | Error::Credentials { .. }
            | Error::CredentialsGaveUp { .. }
            | Error::Upload(_)
            | Error::Wire(_)
            | Error::Network { .. }
            | Error::FileReadFailed { .. }
            | Error::FileShrank { .. }
            | Error::ListFailed { .. }
            | Error::AbortFailed { .. } => EXIT_FAILED,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NoCredentials { profile } => write!(
                f,
                "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or \
                 AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN, or add them to profile \
                 {profile:?} in ~/.aws/credentials"
            ),
            Error::ProfileNotFound { profile } => write!(
                f,
                "profile {profile:?} is not in ~/.aws/config or ~/.aws/credentials; add it \
                 there or name another with --profile"
            ),
            Error::ConfigFile { path, detail } => write!(
                f,
                "{} cannot be read ({detail}); fix or move it",
                path.display()
            ),
            Error::InvalidEndpoint { setting, source } => write!(f, "{source}; check {setting}"),
            Error::InvalidArgument { argument, problem } => write!(f, "{argument}: {problem}"),
            Error::NotUtf8 { path } => write!(
                f,
                "{} is not valid UTF-8, and S3 keys must be: rename it",
                path.display()
            ),
            Error::FileUnreadable { path, source } => write!(
                f,
                "{} cannot be read: {source}; check the path and its permissions",
                path.display()
            ),
            Error::DevStackMissing { data_dir } => write!(
                f,
                "{} is not there: start the local stack first (`cargo xtask dev`, or `updraft \
                 dev --data-dir {}`)",
                data_dir.join("stack.json").display(),
                data_dir.display()
            ),
            Error::DevStackOutdated { path, field } => write!(
                f,
                "{} has no {field:?}: the stack is older than this command; restart it",
                path.display()
            ),
            Error::CurrentExe { source } => write!(
                f,
                "cannot find this program to run `dev token`: {source}; run updraft by its \
                 full path"
            ),
            Error::Runtime { source } => write!(f, "cannot start the async runtime: {source}"),
            Error::TokenFileUnreadable { path, source } => write!(
                f,
                "the web identity token file {} cannot be read: {source}; check \
                 AWS_WEB_IDENTITY_TOKEN_FILE or the profile's web_identity_token_file",
                path.display()
            ),
            Error::TokenFileEmpty { path } => write!(
                f,
                "the web identity token file {} is empty; it must hold the identity \
                 provider's token",
                path.display()
            ),
            Error::TokenCommandNotRun { program, source } => {
                write!(f, "{} could not run: {source}", program.display())
            }
            Error::TokenCommandFailed { command, stderr } => {
                write!(f, "`{command}` failed: {stderr}")
            }
            Error::Credentials {
                sts_endpoint,
                source,
            } => write!(f, "{source} (STS at {sts_endpoint})"),
            Error::CredentialsGaveUp { attempts, source } => write!(
                f,
                "no credentials after {attempts} {}, so the run stopped; the unfinished \
                 uploads stay, and running the same command again resumes them: {source}",
                if *attempts == 1 { "try" } else { "tries" }
            ),
            Error::Upload(e) => fmt::Display::fmt(e, f),
            Error::Wire(e) => fmt::Display::fmt(e, f),
            Error::Network { host, detail } => write!(
                f,
                "no answer from {host} ({detail}); check the network connection and the \
                 endpoint (--endpoint-url, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_STS)"
            ),
            Error::FileReadFailed { path, source } => {
                write!(f, "reading {} failed: {source}", path.display())
            }
            Error::FileShrank { path, end } => write!(
                f,
                "reading {} failed: the file ends before byte {end}: it is shorter than when \
                 the upload started",
                path.display()
            ),
            Error::ListFailed { bucket, source } => write!(
                f,
                "listing the unfinished uploads in bucket {bucket:?} failed: {source}"
            ),
            Error::AbortFailed { failed, total } => write!(
                f,
                "{failed} of {total} could not be aborted; each is named above with its reason"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::InvalidEndpoint { source, .. } | Error::Credentials { source, .. } => {
                Some(source)
            }
            Error::Upload(e) => Some(&e.error),
            Error::Wire(source) => Some(source),
            Error::FileUnreadable { source, .. }
            | Error::CurrentExe { source }
            | Error::Runtime { source }
            | Error::TokenFileUnreadable { source, .. }
            | Error::TokenCommandNotRun { source, .. }
            | Error::FileReadFailed { source, .. } => Some(source),
            Error::CredentialsGaveUp { source, .. } | Error::ListFailed { source, .. } => {
                Some(source.as_ref())
            }
            Error::NoCredentials { .. }
            | Error::ProfileNotFound { .. }
            | Error::ConfigFile { .. }
            | Error::InvalidArgument { .. }
            | Error::NotUtf8 { .. }
            | Error::DevStackMissing { .. }
            | Error::DevStackOutdated { .. }
            | Error::TokenFileEmpty { .. }
            | Error::TokenCommandFailed { .. }
            | Error::Network { .. }
            | Error::FileShrank { .. }
            | Error::AbortFailed { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    /// The codes of README's table: 2 when nothing could start, 1 when something failed.
    #[test]
    fn r15_exit_codes_come_from_what_went_wrong() {
        let usage = [
            Error::NoCredentials {
                profile: "default".into(),
            },
            Error::FileUnreadable {
                path: "/no/such/file".into(),
                source: io::ErrorKind::NotFound.into(),
            },
            Error::InvalidArgument {
                argument: "--concurrency",
                problem: "must be at least 1".into(),
            },
        ];
        for e in &usage {
            assert_eq!(e.exit_code(), EXIT_USAGE, "{e}");
        }
        let failed = [
            Error::TokenFileEmpty {
                path: "/var/run/token".into(),
            },
            Error::AbortFailed {
                failed: 1,
                total: 2,
            },
            Error::ListFailed {
                bucket: "b".into(),
                source: Box::new(Error::Network {
                    host: "127.0.0.1:9000".into(),
                    detail: "connection refused".into(),
                }),
            },
        ];
        for e in &failed {
            assert_eq!(e.exit_code(), EXIT_FAILED, "{e}");
        }
    }

    #[test]
    fn r15_the_underlying_error_is_the_source() {
        let e = Error::CredentialsGaveUp {
            attempts: 5,
            source: Box::new(Error::TokenFileUnreadable {
                path: "/var/run/token".into(),
                source: io::ErrorKind::PermissionDenied.into(),
            }),
        };
        let inner = e.source().expect("the token file error");
        assert!(inner.to_string().contains("/var/run/token"), "{inner}");
        assert!(inner.source().is_some(), "and its io::Error");
        assert!(
            e.to_string().starts_with("no credentials after 5 tries"),
            "{e}"
        );
    }
}
