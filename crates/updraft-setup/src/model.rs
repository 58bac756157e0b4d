//! What `updraft setup aws` wants to exist, as documents in the shape AWS reads them back
//! (S3's and IAM's own field names), so that the plan compares like with like and the
//! CloudFormation template says the same.
//!
//! The roles come from the files `updraft dev` enforces (`crates/updraft-dev/roles/`):
//! one source. The dev's files name its bucket `uploads` and a signed-in user `${sub}`;
//! here they name the real bucket and the provider's own variable for the user.

use serde_json::{Value, json};
use updraft_core::s3::cors;

use crate::provider::Provider;

/// The `ID` of the CORS rule setup keeps; the bucket's other rules stay as they are.
pub const CORS_RULE_ID: &str = "updraft";
/// The `ID` of the lifecycle rule setup keeps; the bucket's other rules stay as they are.
pub const LIFECYCLE_RULE_ID: &str = "updraft-abort-incomplete-uploads";
/// Days after which S3 aborts a multipart upload nobody completed (`DaysAfterInitiation`):
/// a page closed for good, or a CreateMultipartUpload whose answer was lost (the user's
/// role may not list the bucket's uploads to find it, see `docs/faults.md`). Long enough
/// for a user to come back and resume.
pub const ABORT_INCOMPLETE_AFTER_DAYS: i32 = 7;
/// The `Sid` of the bucket policy statement `--public-read` keeps.
pub const PUBLIC_READ_SID: &str = "updraftPublicRead";
/// The role names' stem; each provider's role is `updraft-uploader-<provider>`.
pub const ROLE_BASE: &str = "updraft-uploader";
/// The identity pool `--cognito-guest` makes or finds by this name.
pub const GUEST_POOL_NAME: &str = "updraft guests";
/// Stands in the guest role's trust policy for the id of a pool not yet made.
pub const NEW_POOL_ID: &str = "{identity_pool_id}";

/// What the command was asked for, and where.
#[derive(Clone, Debug)]
pub struct Settings {
    pub bucket: String,
    pub region: String,
    /// The account the keys belong to (STS GetCallerIdentity).
    pub account: String,
    pub app_origins: Vec<String>,
    pub providers: Vec<Provider>,
    pub cognito_guest: bool,
    pub public_read: bool,
}

/// A role as IAM reads it back (GetRole, GetRolePolicy of its one inline policy).
#[derive(Clone, Debug, PartialEq)]
pub struct Role {
    pub name: String,
    pub description: String,
    pub max_session_duration: i32,
    pub trust: Value,
    pub policy_name: String,
    pub policy: Value,
}

impl Role {
    /// The plan's document.
    pub fn document(&self) -> Value {
        json!({
            "RoleName": self.name,
            "Description": self.description,
            "MaxSessionDuration": self.max_session_duration,
            "AssumeRolePolicyDocument": self.trust,
            "Policies": { self.policy_name.clone(): self.policy },
        })
    }
}

/// Replaces each string of a JSON document through `f`.
fn map_strings(v: &Value, f: &dyn Fn(&str) -> String) -> Value {
    match v {
        Value::String(s) => Value::String(f(s)),
        Value::Array(a) => Value::Array(a.iter().map(|x| map_strings(x, f)).collect()),
        Value::Object(o) => {
            Value::Object(o.iter().map(|(k, x)| (f(k), map_strings(x, f))).collect())
        }
        other => other.clone(),
    }
}

/// The dev bucket's ARN in the role files, and what replaces it.
fn for_bucket(s: &str, bucket: &str) -> String {
    const DEV: &str = "arn:aws:s3:::uploads";
    match s.strip_prefix(DEV) {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => {
            format!("arn:aws:s3:::{bucket}{rest}")
        }
        _ => s.to_string(),
    }
}

fn template(json: &str) -> Value {
    // The files are part of the build and parsed by updraft-dev's tests too.
    serde_json::from_str(json).unwrap_or(Value::Null)
}

fn text(v: &Value, field: &str) -> String {
    v[field].as_str().unwrap_or_default().to_string()
}

/// The uploader role of one provider: `roles/updraft-uploader.json` with the provider's
/// principal, audience condition and user variable, on `bucket`.
pub fn uploader_role(p: &Provider, account: &str, bucket: &str) -> Role {
    let t = template(updraft_dev::policy::ROLE_JSON);
    let mut trust = t["AssumeRolePolicyDocument"].clone();
    if let Some(statement) = trust["Statement"].get_mut(0) {
        statement["Principal"] = json!({ "Federated": p.principal(account) });
        statement["Condition"] = json!({ "StringEquals": { p.audience_key(): p.app_id() } });
    }
    let user = p.user_variable();
    let policy = map_strings(&t["PolicyDocument"], &|s| {
        for_bucket(s, bucket).replace("${sub}", &user)
    });
    Role {
        name: p.role_name(ROLE_BASE),
        description: format!(
            "{} Signed in with {}.",
            text(&t, "Description"),
            p.iam_name()
        ),
        max_session_duration: t["MaxSessionDuration"].as_i64().unwrap_or(3600) as i32,
        trust,
        policy_name: text(&t, "PolicyName"),
        policy,
    }
}

/// The guest role: `roles/updraft-guest.json` on `bucket`, trusting the pool `pool_id`.
pub fn guest_role(pool_id: &str, bucket: &str) -> Role {
    let t = template(updraft_dev::cognito::GUEST_ROLE_JSON);
    let trust = map_strings(&t["AssumeRolePolicyDocument"], &|s| {
        s.replace(NEW_POOL_ID, pool_id)
    });
    let policy = map_strings(&t["PolicyDocument"], &|s| for_bucket(s, bucket));
    Role {
        name: text(&t, "RoleName"),
        description: text(&t, "Description"),
        max_session_duration: t["MaxSessionDuration"].as_i64().unwrap_or(3600) as i32,
        trust,
        policy_name: text(&t, "PolicyName"),
        policy,
    }
}

/// The CORS rule the package needs, from the app's origins (S3's field names).
pub fn cors_rule(origins: &[String]) -> Value {
    json!({
        "ID": CORS_RULE_ID,
        "AllowedOrigins": origins,
        "AllowedMethods": cors::ALLOWED_METHODS,
        "AllowedHeaders": cors::ALLOWED_HEADERS,
        "ExposeHeaders": cors::EXPOSE_HEADERS,
        "MaxAgeSeconds": cors::MAX_AGE_SECONDS,
    })
}

/// The lifecycle rule that aborts forgotten multipart uploads, bucket-wide.
pub fn lifecycle_rule() -> Value {
    json!({
        "ID": LIFECYCLE_RULE_ID,
        "Status": "Enabled",
        "Filter": { "Prefix": "" },
        "AbortIncompleteMultipartUpload": { "DaysAfterInitiation": ABORT_INCOMPLETE_AFTER_DAYS },
    })
}

/// `--public-read`: anyone may GET the bucket's objects (not list them). A bucket policy,
/// because buckets made since April 2023 have ACLs disabled (Object Ownership
/// `BucketOwnerEnforced`), so the seed's `public-read` ACL is refused with
/// `AccessControlListNotSupported`:
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html>.
pub fn public_read_statement(bucket: &str) -> Value {
    json!({
        "Sid": PUBLIC_READ_SID,
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": format!("arn:aws:s3:::{bucket}/*"),
    })
}

/// The Block Public Access settings `--public-read` needs: public ACLs stay blocked (none
/// is used), public policies are allowed, so that the statement above takes effect:
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html>.
pub fn public_access_block(public_read: bool) -> Value {
    json!({
        "BlockPublicAcls": true,
        "IgnorePublicAcls": true,
        "BlockPublicPolicy": !public_read,
        "RestrictPublicBuckets": !public_read,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_uploader_role_is_the_dev_role_for_the_bucket_and_provider() {
        let p = Provider::parse("google:abc.apps.googleusercontent.com").unwrap();
        let r = uploader_role(&p, "123456789012", "my-uploads");
        assert_eq!(r.name, "updraft-uploader-google");
        let s = &r.trust["Statement"][0];
        assert_eq!(s["Principal"]["Federated"], "accounts.google.com");
        assert_eq!(s["Action"], "sts:AssumeRoleWithWebIdentity");
        assert_eq!(
            s["Condition"]["StringEquals"]["accounts.google.com:aud"],
            "abc.apps.googleusercontent.com"
        );
        let text = r.policy.to_string();
        assert!(
            text.contains("arn:aws:s3:::my-uploads/${accounts.google.com:sub}/*"),
            "{text}"
        );
        assert!(text.contains("\"arn:aws:s3:::my-uploads\""), "{text}");
        assert!(
            !text.contains("${sub}") && !text.contains(":::uploads"),
            "{text}"
        );
        assert_eq!(r.max_session_duration, 43200);
    }

    #[test]
    fn the_guest_role_trusts_its_pool() {
        let r = guest_role("eu-west-1:0000", "b");
        let t = r.trust.to_string();
        assert!(
            t.contains("\"cognito-identity.amazonaws.com:aud\":\"eu-west-1:0000\""),
            "{t}"
        );
        assert!(!t.contains(NEW_POOL_ID));
        assert!(
            r.policy
                .to_string()
                .contains("arn:aws:s3:::b/guest/${cognito-identity.amazonaws.com:sub}/*")
        );
    }
}
