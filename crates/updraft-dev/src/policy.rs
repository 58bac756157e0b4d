//! The role temporary keys act as, and IAM policy evaluation for their S3 requests.
//!
//! The role lives in one file, `roles/updraft-uploader.json` ([`ROLE_JSON`]): its name,
//! `MaxSessionDuration`, trust policy (`AssumeRolePolicyDocument`) and permission
//! policy (`PolicyDocument`), each valid IAM JSON. `{issuer}` stands for the issuer's
//! host and path (`127.0.0.1:4182` here, the site's issuer on AWS) and is filled in when
//! the role is loaded, as a later `setup aws` will.
//!
//! ## Evaluation: the `iam-rs` crate
//! Policies are evaluated by [`iam_rs`] 0.8 (maintained; parsing, Allow/Deny with
//! explicit deny winning, `Action`/`Resource` wildcards, ARN matching, condition
//! operators incl. `StringEquals`, `StringLike`, `StringNotLike`, `Null`, and policy
//! variables looked up in a context). Its weight is small (serde, serde_json, chrono
//! without default features, ipnet). What it does not do, and is done here:
//! - a policy variable whose value holds `*`, `?` or `$` would become a wildcard after
//!   its substitution (iam-rs substitutes, then matches), whereas AWS matches a
//!   substituted value literally; so a request whose identity values hold one of those
//!   characters is denied outright (fail closed);
//! - the mapping of S3 operations to IAM actions and resources ([`s3_action`]), and the
//!   context keys: `sub`, `aud`, `iss` and their provider-qualified forms
//!   (`<provider>:sub`, e.g. `accounts.google.com:sub`, `cognito-identity.amazonaws.com:sub`,
//!   `www.amazon.com:user_id`), `aws:userid`, `s3:prefix`;
//! - policy variables in condition values (`"s3:prefix": "${sub}/*"`): iam-rs substitutes
//!   variables in `Resource` only, so conditions are substituted here before evaluation.

use std::collections::HashMap;

use iam_rs::{
    Arn, Context, ContextValue, Decision, IAMPolicy, IAMRequest, PolicyEvaluator, Principal,
    PrincipalId,
};

use crate::Error;

/// The default role: its trust and permission policies, in one IAM-valid file.
pub const ROLE_JSON: &str = include_str!("../roles/updraft-uploader.json");
/// The default role's ARN.
pub const DEFAULT_ROLE_ARN: &str = "arn:aws:iam::000000000000:role/updraft-uploader";
const ACCOUNT: &str = "000000000000";

/// A role: who may assume it (trusted issuers and audiences) and what it may do.
#[derive(Clone, Debug)]
pub struct Role {
    pub arn: String,
    pub name: String,
    pub max_session_seconds: u32,
    /// Providers (`host/path` of the issuer) the trust policy names, each with the
    /// audiences its `StringEquals` `<provider>:aud` condition admits.
    pub trusted: Vec<(String, Vec<String>)>,
    /// The permission policy (IAM JSON).
    pub policy: serde_json::Value,
}

/// The provider name AWS uses for an issuer URL: without `https://` (or `http://`).
pub fn provider_of(issuer: &str) -> &str {
    issuer
        .strip_prefix("https://")
        .or_else(|| issuer.strip_prefix("http://"))
        .unwrap_or(issuer)
        .trim_end_matches('/')
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

impl Role {
    /// Loads a role file, `{issuer}` standing for each of `issuers` (a trust statement
    /// per issuer), and `uploads` replaced by `bucket` in the permission policy.
    ///
    /// # Errors
    /// [`Error::Config`] for a file that is not a role as this module reads it.
    pub fn load(json: &str, issuers: &[String], bucket: &str) -> Result<Role, Error> {
        let bad = |d: String| Error::Config {
            detail: format!("role file: {d}"),
        };
        let doc: serde_json::Value = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
        let name = doc["RoleName"]
            .as_str()
            .ok_or_else(|| bad("no RoleName".into()))?
            .to_owned();
        let max = doc["MaxSessionDuration"]
            .as_u64()
            .and_then(|m| u32::try_from(m).ok())
            .unwrap_or(3600);
        let mut trusted = Vec::new();
        let stmts = doc["AssumeRolePolicyDocument"]["Statement"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for st in &stmts {
            if st["Effect"] != "Allow"
                || !strings(&st["Action"])
                    .iter()
                    .any(|a| a == "sts:AssumeRoleWithWebIdentity")
            {
                continue;
            }
            for fed in strings(&st["Principal"]["Federated"]) {
                let Some(provider) = fed.split_once(":oidc-provider/").map(|(_, p)| p) else {
                    continue;
                };
                let auds = |p: &str| -> Vec<String> {
                    st["Condition"]["StringEquals"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .filter(|(k, _)| k.as_str() == format!("{p}:aud"))
                        .flat_map(|(_, v)| strings(v))
                        .collect()
                };
                if provider == "{issuer}" {
                    for iss in issuers {
                        let p = provider_of(iss);
                        let a = auds("{issuer}");
                        trusted.push((p.to_owned(), a));
                    }
                } else {
                    trusted.push((provider.to_owned(), auds(provider)));
                }
            }
        }
        let policy_json = doc["PolicyDocument"]
            .to_string()
            .replace("arn:aws:s3:::uploads", &format!("arn:aws:s3:::{bucket}"));
        IAMPolicy::from_json(&policy_json).map_err(|e| bad(e.to_string()))?;
        let policy = serde_json::from_str(&policy_json).map_err(|e| bad(e.to_string()))?;
        Ok(Role {
            arn: format!("arn:aws:iam::{ACCOUNT}:role/{name}"),
            name,
            max_session_seconds: max,
            trusted,
            policy,
        })
    }

    /// The audiences the trust policy admits for tokens of `issuer`, or `None` when it
    /// does not trust that issuer.
    pub fn audiences(&self, issuer: &str) -> Option<&[String]> {
        let p = provider_of(issuer);
        self.trusted
            .iter()
            .find(|(q, _)| q == p)
            .map(|(_, a)| a.as_slice())
    }

    /// Whether the permission policy allows `action` on `resource` for `identity`, with
    /// extra context keys `extra` (e.g. `s3:prefix`).
    pub fn allows(
        &self,
        identity: &Identity,
        action: &str,
        resource: &str,
        extra: &[(&str, &str)],
    ) -> bool {
        evaluate(&self.policy, identity, action, resource, extra)
    }
}

/// Who a temporary key belongs to (from the verified ID token).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub sub: String,
    pub iss: String,
    pub aud: String,
    pub role_arn: String,
    pub session_name: String,
}

/// Replaces `${key}` in every string under the statements' `Condition` blocks (iam-rs
/// substitutes variables in `Resource` only; AWS also in condition values). A variable
/// missing from `vars` is left as written, so it matches nothing.
fn interpolate_conditions(
    policy: &serde_json::Value,
    vars: &HashMap<String, String>,
) -> serde_json::Value {
    fn subst(s: &str, vars: &HashMap<String, String>) -> String {
        let mut out = String::new();
        let mut rest = s;
        while let Some(i) = rest.find("${") {
            out.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            match after.find('}') {
                Some(j) => {
                    match vars.get(&after[..j]) {
                        Some(v) => out.push_str(v),
                        None => out.push_str(&rest[i..i + 3 + j]),
                    }
                    rest = &after[j + 1..];
                }
                None => {
                    out.push_str(&rest[i..]);
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        out
    }
    fn walk(v: &mut serde_json::Value, vars: &HashMap<String, String>) {
        match v {
            serde_json::Value::String(s) => *s = subst(s, vars),
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| walk(x, vars)),
            serde_json::Value::Object(o) => o.values_mut().for_each(|x| walk(x, vars)),
            _ => {}
        }
    }
    let mut p = policy.clone();
    match &mut p["Statement"] {
        serde_json::Value::Array(stmts) => {
            for st in stmts {
                walk(&mut st["Condition"], vars);
            }
        }
        st @ serde_json::Value::Object(_) => walk(&mut st["Condition"], vars),
        _ => {}
    }
    p
}

/// Evaluates `policy` (IAM JSON) for one request; anything but an explicit Allow with
/// no explicit Deny is a deny.
pub fn evaluate(
    policy: &serde_json::Value,
    identity: &Identity,
    action: &str,
    resource: &str,
    extra: &[(&str, &str)],
) -> bool {
    let provider = provider_of(&identity.iss);
    let values = [
        identity.sub.as_str(),
        identity.aud.as_str(),
        identity.iss.as_str(),
    ];
    if values.iter().any(|v| v.contains(['*', '?', '$', '{', '}'])) {
        return false;
    }
    let mut vars: HashMap<String, String> = HashMap::new();
    let put = |vars: &mut HashMap<String, String>, k: String, v: &str| {
        vars.insert(k, v.to_owned());
    };
    put(&mut vars, "sub".into(), &identity.sub);
    put(&mut vars, "aud".into(), &identity.aud);
    put(&mut vars, "iss".into(), &identity.iss);
    put(&mut vars, format!("{provider}:sub"), &identity.sub);
    put(&mut vars, format!("{provider}:aud"), &identity.aud);
    put(&mut vars, format!("{provider}:user_id"), &identity.sub);
    put(
        &mut vars,
        "aws:userid".into(),
        &format!("{}:{}", role_id(&identity.role_arn), identity.session_name),
    );
    let identity_vars = vars.clone();
    for (k, v) in extra {
        put(&mut vars, (*k).to_owned(), v);
    }
    let Ok(arn) = Arn::parse(resource) else {
        return false;
    };
    let Ok(policy) =
        serde_json::from_value::<IAMPolicy>(interpolate_conditions(policy, &identity_vars))
    else {
        return false;
    };
    let data: HashMap<String, ContextValue> = vars
        .into_iter()
        .map(|(k, v)| (k, ContextValue::String(v)))
        .collect();
    let session_arn = assumed_role_arn(&identity.role_arn, &identity.session_name);
    let request = IAMRequest::new_with_context(
        Principal::Aws(PrincipalId::String(session_arn)),
        action,
        arn,
        Context::with_data(data),
    );
    let evaluator = PolicyEvaluator::with_policies(vec![policy]);
    matches!(
        evaluator.evaluate(&request).map(|r| r.decision),
        Ok(Decision::Allow)
    )
}

/// `arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION`.
pub fn assumed_role_arn(role_arn: &str, session: &str) -> String {
    let name = role_arn.rsplit('/').next().unwrap_or(role_arn);
    format!("arn:aws:sts::{ACCOUNT}:assumed-role/{name}/{session}")
}

/// A stable role id (`AROA…`) derived from the role ARN.
pub fn role_id(role_arn: &str) -> String {
    use sha2::Digest as _;
    let d = sha2::Sha256::digest(role_arn.as_bytes());
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let tail: String = d
        .iter()
        .take(17)
        .map(|b| char::from(alphabet[usize::from(*b) % 32]))
        .collect();
    format!("AROA{tail}")
}

/// The IAM action and resource ARN(s) an S3 operation needs
/// ([S3 actions](https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html)).
/// Multipart steps need `s3:PutObject`; `HeadObject` needs `s3:GetObject`;
/// `ListObjects(V2)` and `HeadBucket` need `s3:ListBucket` on the bucket.
pub fn s3_action(op: &str, bucket: &str, key: &str) -> (String, String) {
    let object = format!("arn:aws:s3:::{bucket}/{key}");
    let bucket_arn = format!("arn:aws:s3:::{bucket}");
    let (action, on_object) = match op {
        "PutObject"
        | "CreateMultipartUpload"
        | "UploadPart"
        | "CompleteMultipartUpload"
        | "PostObject"
        | "CopyObject"
        | "UploadPartCopy" => ("s3:PutObject", true),
        "GetObject" | "HeadObject" => ("s3:GetObject", true),
        "DeleteObject" => ("s3:DeleteObject", true),
        "AbortMultipartUpload" => ("s3:AbortMultipartUpload", true),
        "ListParts" => ("s3:ListMultipartUploadParts", true),
        "PutObjectAcl" => ("s3:PutObjectAcl", true),
        "GetObjectAcl" => ("s3:GetObjectAcl", true),
        "ListObjects" | "ListObjectsV2" | "HeadBucket" => ("s3:ListBucket", false),
        "ListMultipartUploads" => ("s3:ListBucketMultipartUploads", false),
        "GetBucketCors" => ("s3:GetBucketCORS", false),
        "PutBucketCors" | "DeleteBucketCors" => ("s3:PutBucketCORS", false),
        "GetBucketLocation" => ("s3:GetBucketLocation", false),
        "CreateBucket" => ("s3:CreateBucket", false),
        "DeleteBucket" => ("s3:DeleteBucket", false),
        "ListBuckets" => return ("s3:ListAllMyBuckets".into(), "arn:aws:s3:::*".into()),
        // Unmapped operations need an action nobody grants: denied.
        other => return (format!("s3:{other}"), object),
    };
    (
        action.to_owned(),
        if on_object { object } else { bucket_arn },
    )
}
