//! The s3s hooks of the stack: who may sign ([`StackAuth`]), and what a request may do
//! ([`StackAccess`]: the session token of a temporary key, then its role's policy), with
//! the same check for POST-form uploads, which s3s does not hand the form's fields.

use std::sync::Arc;

use http::StatusCode;
use s3s::auth::{S3Auth, SecretKey};
use s3s::{S3Result, s3_error};

use super::Sts;
use super::session::{TEMP_PREFIX, open, secret_for};
use crate::keys::AdminKeys;
use crate::oidc::{field, form, now_s};
use crate::policy::{Identity, Role, s3_action};

/// For DeleteObjects with temporary keys: whether the role may delete each key (S3
/// checks `s3:DeleteObject` per key and reports a denied one as that key's
/// `AccessDenied` error).
#[derive(Clone, Debug)]
pub(crate) struct KeyCheck {
    role: Arc<Role>,
    identity: Identity,
}

impl KeyCheck {
    pub(crate) fn may_delete(&self, bucket: &str, key: &str) -> bool {
        let (action, resource) = s3_action("DeleteObject", bucket, key);
        self.role.allows(&self.identity, &action, &resource, &[])
    }
}

/// Marks a POST-form upload whose `x-amz-security-token` field and key the front checked
/// for this temporary access key id.
#[derive(Clone, Debug)]
pub(crate) struct PostChecked(pub(crate) String);

impl Sts {
    /// The role a session acts as.
    fn role_of(&self, arn: &str) -> Option<Arc<Role>> {
        [&self.role, &self.guest_role]
            .into_iter()
            .find(|r| r.arn == arn)
            .cloned()
    }

    /// Checks a request signed with a temporary key: its session token, then the role's
    /// policy for the operation.
    fn check(&self, cx: &mut s3s::access::S3AccessContext<'_>, akid: &str) -> S3Result<()> {
        if cx.s3_op().name() == "PostObject" {
            // The form's session token and key were checked by the front (`post_form`).
            return match cx.extensions_mut().get::<PostChecked>() {
                Some(c) if c.0 == akid => Ok(()),
                _ => Err(s3_error!(AccessDenied, "Access Denied")),
            };
        }
        let token = cx
            .headers()
            .get("x-amz-security-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| {
                form(cx.uri().query().unwrap_or(""))
                    .into_iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("X-Amz-Security-Token"))
                    .map(|(_, v)| v)
            });
        let Some(token) = token else {
            return Err(s3_error!(
                InvalidAccessKeyId,
                "The AWS Access Key Id you provided does not exist in our records."
            ));
        };
        let Some(s) = open(&self.key, &token).filter(|s| s.akid == akid) else {
            return Err(s3_error!(
                InvalidToken,
                "The provided token is malformed or otherwise invalid."
            ));
        };
        if now_s() >= s.exp {
            return Err(s3_error!(ExpiredToken, "The provided token has expired."));
        }
        let Some(role) = self.role_of(&s.role) else {
            return Err(s3_error!(AccessDenied, "Access Denied"));
        };
        let op = cx.s3_op().name();
        if op == "DeleteObjects" {
            // The keys are in the body: the backend asks, key by key, with this.
            cx.extensions_mut().insert(KeyCheck {
                role,
                identity: Identity {
                    sub: s.sub,
                    iss: s.iss,
                    aud: s.aud,
                    role_arn: s.role,
                    session_name: s.session,
                },
            });
            return Ok(());
        }
        let (bucket, key) = match cx.s3_path() {
            s3s::path::S3Path::Root => (String::new(), String::new()),
            s3s::path::S3Path::Bucket { bucket } => (bucket.to_string(), String::new()),
            s3s::path::S3Path::Object { bucket, key } => (bucket.to_string(), key.to_string()),
        };
        let identity = Identity {
            sub: s.sub,
            iss: s.iss,
            aud: s.aud,
            role_arn: s.role,
            session_name: s.session,
        };
        let (action, resource) = s3_action(op, &bucket, &key);
        let q = form(cx.uri().query().unwrap_or(""));
        let mut extra: Vec<(&str, &str)> = Vec::new();
        if action == "s3:ListBucket"
            && let Some(p) = field(&q, "prefix")
        {
            extra.push(("s3:prefix", p));
        }
        if action == "s3:ListBucket"
            && let Some(d) = field(&q, "delimiter")
        {
            extra.push(("s3:delimiter", d));
        }
        let mut allowed = role.allows(&identity, &action, &resource, &extra);
        // CopyObject also reads its source.
        if allowed
            && op == "CopyObject"
            && let Some(src) = cx
                .headers()
                .get("x-amz-copy-source")
                .and_then(|v| v.to_str().ok())
        {
            let src = percent_encoding::percent_decode_str(src.split('?').next().unwrap_or(""))
                .decode_utf8_lossy()
                .into_owned();
            let src = src.trim_start_matches('/');
            allowed = role.allows(
                &identity,
                "s3:GetObject",
                &format!("arn:aws:s3:::{src}"),
                &[],
            );
        }
        if allowed {
            Ok(())
        } else {
            Err(s3_error!(AccessDenied, "Access Denied"))
        }
    }

    /// Checks the session token of a POST-form upload signed with the temporary key
    /// `akid`, and that its role may `s3:PutObject` `bucket`/`key`. `Err` is the S3
    /// error: status, code, message.
    pub(crate) fn check_post(
        &self,
        akid: &str,
        token: Option<&str>,
        bucket: &str,
        key: &str,
    ) -> Result<(), (StatusCode, &'static str, &'static str)> {
        let Some(token) = token else {
            return Err((
                StatusCode::FORBIDDEN,
                "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records.",
            ));
        };
        let Some(s) = open(&self.key, token).filter(|s| s.akid == akid) else {
            return Err((
                StatusCode::BAD_REQUEST,
                "InvalidToken",
                "The provided token is malformed or otherwise invalid.",
            ));
        };
        if now_s() >= s.exp {
            return Err((
                StatusCode::BAD_REQUEST,
                "ExpiredToken",
                "The provided token has expired.",
            ));
        }
        let denied = (StatusCode::FORBIDDEN, "AccessDenied", "Access Denied");
        let role = self.role_of(&s.role).ok_or(denied)?;
        let identity = Identity {
            sub: s.sub,
            iss: s.iss,
            aud: s.aud,
            role_arn: s.role,
            session_name: s.session,
        };
        let (action, resource) = s3_action("PostObject", bucket, key);
        if role.allows(&identity, &action, &resource, &[]) {
            Ok(())
        } else {
            Err(denied)
        }
    }
}

/// s3s's view of who may sign: the admin keys, and temporary keys (`ASIA…`), whose
/// secret is derived from the server key.
#[derive(Debug)]
pub(crate) struct StackAuth {
    pub(crate) admin: AdminKeys,
    pub(crate) sts: Sts,
}

#[async_trait::async_trait]
impl S3Auth for StackAuth {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        if access_key == self.admin.access_key_id {
            Ok(self.admin.secret_access_key.clone())
        } else if access_key.len() == 20 && access_key.starts_with(TEMP_PREFIX) {
            Ok(SecretKey::from(secret_for(&self.sts.key, access_key)))
        } else {
            Err(s3_error!(
                InvalidAccessKeyId,
                "The AWS Access Key Id you provided does not exist in our records."
            ))
        }
    }
}

/// Anonymous requests reach only GetObject and HeadObject (the backend then demands a
/// `public-read` ACL); the admin key may do anything; temporary keys what their session
/// token and role allow.
#[derive(Debug)]
pub(crate) struct StackAccess {
    pub(crate) admin_key_id: String,
    pub(crate) sts: Sts,
}

#[async_trait::async_trait]
impl s3s::access::S3Access for StackAccess {
    async fn check(&self, cx: &mut s3s::access::S3AccessContext<'_>) -> S3Result<()> {
        match cx.credentials().map(|c| c.access_key.clone()) {
            Some(k) if k == self.admin_key_id => Ok(()),
            Some(k) => self.sts.check(cx, &k),
            None => match cx.s3_op().name() {
                "GetObject" | "HeadObject" => Ok(()),
                _ => Err(s3_error!(AccessDenied, "Access Denied")),
            },
        }
    }
}
