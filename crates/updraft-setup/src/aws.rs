//! Reading what exists and applying the plan, through the AWS SDK for Rust. The SDK's
//! credential chain (environment, profiles, SSO, web identity, …) and its endpoint settings
//! (`AWS_ENDPOINT_URL`, which the tests point at moto) apply as to any AWS tool.

use std::fmt::Display;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::types as s3t;
use serde_json::{Value, json};

use crate::model::{self, Role, Settings};
use crate::plan::{Item, Kind, Plan};
use crate::provider::{Provider, oidc_provider_arn};

/// The clients of one run.
#[derive(Debug)]
pub struct Clients {
    pub s3: aws_sdk_s3::Client,
    pub iam: aws_sdk_iam::Client,
    pub sts: aws_sdk_sts::Client,
    pub cognito: aws_sdk_cognitoidentity::Client,
}

impl Clients {
    /// From the SDK's configuration chain; `region` and `profile` override it. Path-style
    /// S3 addressing when an endpoint is configured with an IP address or `localhost`
    /// (moto, `updraft dev`), which have no per-bucket host names.
    pub async fn load(region: Option<&str>, profile: Option<&str>) -> Clients {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(r) = region {
            loader = loader.region(aws_config::Region::new(r.to_string()));
        }
        if let Some(p) = profile {
            loader = loader.profile_name(p);
        }
        let config = loader.load().await;
        let local = std::env::var("AWS_ENDPOINT_URL_S3")
            .or_else(|_| std::env::var("AWS_ENDPOINT_URL"))
            .is_ok_and(|u| {
                let host = u.split("://").nth(1).unwrap_or(&u);
                let host = host.split(['/', ':']).next().unwrap_or(host);
                host == "localhost"
                    || host.parse::<std::net::IpAddr>().is_ok()
                    || host.starts_with('[')
            });
        let s3 = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(local)
            .build();
        Clients {
            s3: aws_sdk_s3::Client::from_conf(s3),
            iam: aws_sdk_iam::Client::new(&config),
            sts: aws_sdk_sts::Client::new(&config),
            cognito: aws_sdk_cognitoidentity::Client::new(&config),
        }
    }

    /// The region the SDK chose, if any.
    pub fn region(&self) -> Option<String> {
        self.s3.config().region().map(|r| r.to_string())
    }
}

/// A failed call: which one, on what, and why — the service's code and message, or for an
/// answer that is not one of AWS's, its status and first line; the SDK's account of a
/// failure to connect.
pub fn failed<E>(what: impl Display, e: SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let not_aws = |raw: &HttpResponse| {
        let body = raw
            .body()
            .bytes()
            .map(String::from_utf8_lossy)
            .unwrap_or_default();
        // Its text, tags left out (an HTML error page), as one short line.
        let mut text = String::new();
        let mut in_tag = false;
        for c in body.chars() {
            match c {
                '<' => in_tag = true,
                '>' => {
                    in_tag = false;
                    text.push(' ');
                }
                c if !in_tag => text.push(c),
                _ => {}
            }
        }
        let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let line: String = line.chars().take(200).collect();
        format!(
            "the service answered HTTP {} with a body that is not an AWS answer ({line})",
            raw.status().as_u16()
        )
    };
    let why = match &e {
        SdkError::ServiceError(se) => {
            let err = se.err();
            match (err.code(), err.message()) {
                (Some(c), Some(m)) => format!("{c}: {m}"),
                (Some(c), None) => c.to_string(),
                _ => not_aws(se.raw()),
            }
        }
        SdkError::ResponseError(re) => not_aws(re.raw()),
        _ => DisplayErrorContext(&e).to_string(),
    };
    format!("{what}: {why}")
}

fn code<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> Option<&str> {
    e.code()
}

/// The account the credentials belong to.
pub async fn account(c: &Clients) -> Result<String, String> {
    let out = c.sts.get_caller_identity().send().await.map_err(|e| {
        failed(
            "cannot tell which AWS account the credentials belong to (STS GetCallerIdentity); \
             set AWS_PROFILE, give --profile, or export AWS_ACCESS_KEY_ID and \
             AWS_SECRET_ACCESS_KEY",
            e,
        )
    })?;
    out.account()
        .map(str::to_string)
        .ok_or_else(|| "STS GetCallerIdentity answered without an account".to_string())
}

/// What exists beside the items setup keeps, needed to apply without losing it: the
/// bucket's other CORS and lifecycle rules and its whole policy, the pool's id.
#[derive(Debug, Default)]
pub struct Current {
    pub other_cors: Vec<s3t::CorsRule>,
    pub other_lifecycle: Vec<s3t::LifecycleRule>,
    pub policy: Option<Value>,
    pub pool_id: Option<String>,
}

fn cors_json(r: &s3t::CorsRule) -> Value {
    let mut v = json!({
        "ID": r.id(),
        "AllowedOrigins": r.allowed_origins(),
        "AllowedMethods": r.allowed_methods(),
        "AllowedHeaders": r.allowed_headers(),
        "ExposeHeaders": r.expose_headers(),
        "MaxAgeSeconds": r.max_age_seconds(),
    });
    if r.max_age_seconds().is_none() {
        v["MaxAgeSeconds"] = Value::Null;
    }
    v
}

fn cors_sdk(v: &Value) -> Result<s3t::CorsRule, String> {
    let list = |f: &str| -> Option<Vec<String>> {
        v[f].as_array().map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
    };
    s3t::CorsRule::builder()
        .set_id(v["ID"].as_str().map(String::from))
        .set_allowed_origins(list("AllowedOrigins"))
        .set_allowed_methods(list("AllowedMethods"))
        .set_allowed_headers(list("AllowedHeaders"))
        .set_expose_headers(list("ExposeHeaders"))
        .set_max_age_seconds(v["MaxAgeSeconds"].as_i64().map(|n| n as i32))
        .build()
        .map_err(|e| format!("the CORS rule is incomplete: {e}"))
}

// A rule made before `Filter` existed has its prefix at the top (deprecated, still read).
#[allow(deprecated)]
fn lifecycle_json(r: &s3t::LifecycleRule) -> Value {
    let mut v = json!({
        "ID": r.id(),
        "Status": r.status().as_str(),
        "Filter": { "Prefix": r.filter().and_then(|f| f.prefix()).or(r.prefix()) },
        "AbortIncompleteMultipartUpload": {
            "DaysAfterInitiation": r.abort_incomplete_multipart_upload().and_then(|a| a.days_after_initiation()),
        },
    });
    // Anything else the rule does (expiry, transitions, tags) makes it another rule.
    if r.expiration().is_some()
        || !r.transitions().is_empty()
        || !r.noncurrent_version_transitions().is_empty()
        || r.noncurrent_version_expiration().is_some()
        || r.filter()
            .is_some_and(|f| f.tag().is_some() || f.and().is_some())
    {
        v["AlsoExpiresTransitionsOrFiltersByTag"] = json!(true);
    }
    v
}

fn lifecycle_sdk() -> Result<s3t::LifecycleRule, String> {
    s3t::LifecycleRule::builder()
        .id(model::LIFECYCLE_RULE_ID)
        .status(s3t::ExpirationStatus::Enabled)
        .filter(s3t::LifecycleRuleFilter::builder().prefix("").build())
        .abort_incomplete_multipart_upload(
            s3t::AbortIncompleteMultipartUpload::builder()
                .days_after_initiation(model::ABORT_INCOMPLETE_AFTER_DAYS)
                .build(),
        )
        .build()
        .map_err(|e| format!("the lifecycle rule is incomplete: {e}"))
}

/// IAM answers policy documents URL-encoded (RFC 3986); moto answers them as given.
fn policy_document(text: &str) -> Result<Value, String> {
    let decoded;
    let text = if text.trim_start().starts_with('{') {
        text
    } else {
        decoded = percent_encoding::percent_decode_str(text)
            .decode_utf8()
            .map_err(|e| format!("a policy document IAM returned is not UTF-8: {e}"))?;
        &decoded
    };
    serde_json::from_str(text)
        .map_err(|e| format!("a policy document IAM returned is not JSON: {e}"))
}

async fn read_role(c: &Clients, want: &Role) -> Result<Option<Value>, String> {
    let role = match c.iam.get_role().role_name(&want.name).send().await {
        Ok(out) => out.role,
        Err(e) if code(&e) == Some("NoSuchEntity") => return Ok(None),
        Err(e) => return Err(failed(format!("cannot read the IAM role {}", want.name), e)),
    };
    let Some(role) = role else { return Ok(None) };
    let trust = match role.assume_role_policy_document() {
        Some(t) => policy_document(t)?,
        None => Value::Null,
    };
    let mut policies = serde_json::Map::new();
    match c
        .iam
        .get_role_policy()
        .role_name(&want.name)
        .policy_name(&want.policy_name)
        .send()
        .await
    {
        Ok(out) => {
            policies.insert(
                want.policy_name.clone(),
                policy_document(out.policy_document())?,
            );
        }
        Err(e) if code(&e) == Some("NoSuchEntity") => {}
        Err(e) => {
            return Err(failed(
                format!(
                    "cannot read the policy {} of the IAM role {}",
                    want.policy_name, want.name
                ),
                e,
            ));
        }
    }
    Ok(Some(json!({
        "RoleName": role.role_name(),
        "Description": role.description().unwrap_or_default(),
        "MaxSessionDuration": role.max_session_duration().unwrap_or(3600),
        "AssumeRolePolicyDocument": trust,
        "Policies": policies,
    })))
}

async fn find_pool(c: &Clients) -> Result<Option<(String, Value)>, String> {
    let mut found = Vec::new();
    let mut token = None;
    loop {
        let out = c
            .cognito
            .list_identity_pools()
            .max_results(60)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| failed("cannot list the Cognito identity pools", e))?;
        for p in out.identity_pools() {
            if p.identity_pool_name() == Some(model::GUEST_POOL_NAME) {
                found.extend(p.identity_pool_id().map(String::from));
            }
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    let id = match found.as_slice() {
        [] => return Ok(None),
        [id] => id.clone(),
        many => {
            return Err(format!(
                "{} Cognito identity pools are named `{}` ({}): setup cannot tell which is the \
                 site's; delete the others (aws cognito-identity delete-identity-pool \
                 --identity-pool-id ID)",
                many.len(),
                model::GUEST_POOL_NAME,
                many.join(", ")
            ));
        }
    };
    let pool = c
        .cognito
        .describe_identity_pool()
        .identity_pool_id(&id)
        .send()
        .await
        .map_err(|e| failed(format!("cannot read the Cognito identity pool {id}"), e))?;
    let roles = c
        .cognito
        .get_identity_pool_roles()
        .identity_pool_id(&id)
        .send()
        .await
        .map_err(|e| {
            failed(
                format!("cannot read the roles of the Cognito identity pool {id}"),
                e,
            )
        })?;
    Ok(Some((
        id,
        json!({
            "IdentityPoolName": pool.identity_pool_name(),
            "AllowUnauthenticatedIdentities": pool.allow_unauthenticated_identities(),
            "Roles": roles.roles().cloned().unwrap_or_default(),
        }),
    )))
}

fn role_arn(account: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:role/{name}")
}

/// The pool's document as it should be.
fn pool_document(s: &Settings) -> Value {
    json!({
        "IdentityPoolName": model::GUEST_POOL_NAME,
        "AllowUnauthenticatedIdentities": true,
        "Roles": { "unauthenticated": role_arn(&s.account, &model::guest_role("", &s.bucket).name) },
    })
}

/// Reads what exists and makes the plan.
pub async fn plan(c: &Clients, s: &Settings) -> Result<(Plan, Current), String> {
    let mut plan = Plan::default();
    let mut current = Current::default();
    let b = &s.bucket;

    let exists = match c.s3.head_bucket().bucket(b).send().await {
        Ok(_) => true,
        Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => false,
        Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 403) => {
            return Err(format!(
                "the bucket {b} exists but these credentials may not use it: bucket names are \
                 global, so it may be another account's; choose another --bucket, or use the \
                 credentials of its owner"
            ));
        }
        Err(e) => {
            return Err(failed(
                format!("cannot tell whether the bucket {b} exists"),
                e,
            ));
        }
    };
    if exists {
        let loc =
            c.s3.get_bucket_location()
                .bucket(b)
                .send()
                .await
                .map_err(|e| failed(format!("cannot read the region of the bucket {b}"), e))?;
        let region = match loc.location_constraint().map(|l| l.as_str()) {
            None | Some("") => "us-east-1",
            Some("EU") => "eu-west-1",
            Some(r) => r,
        };
        if region != s.region {
            return Err(format!(
                "the bucket {b} is in {region}, not {}: give --region {region} (a bucket \
                 cannot move)",
                s.region
            ));
        }
    }
    plan.items.push(Item {
        kind: Kind::Bucket,
        name: b.clone(),
        current: exists.then(|| json!({ "Bucket": b, "Region": s.region })),
        desired: json!({ "Bucket": b, "Region": s.region }),
    });

    // CORS: setup's rule, the others kept.
    let mut ours = None;
    if exists {
        match c.s3.get_bucket_cors().bucket(b).send().await {
            Ok(out) => {
                for r in out.cors_rules() {
                    if r.id() == Some(model::CORS_RULE_ID) {
                        ours = Some(cors_json(r));
                    } else {
                        current.other_cors.push(r.clone());
                    }
                }
            }
            Err(e) if code(&e) == Some("NoSuchCORSConfiguration") => {}
            Err(e) => return Err(failed(format!("cannot read the CORS rules of {b}"), e)),
        }
    }
    plan.items.push(Item {
        kind: Kind::Cors,
        name: b.clone(),
        current: ours,
        desired: model::cors_rule(&s.app_origins),
    });
    if !current.other_cors.is_empty() {
        plan.notes.push(format!(
            "the bucket {b} has {} CORS rule(s) of its own: kept as they are",
            current.other_cors.len()
        ));
    }

    let mut ours = None;
    if exists {
        match c
            .s3
            .get_bucket_lifecycle_configuration()
            .bucket(b)
            .send()
            .await
        {
            Ok(out) => {
                for r in out.rules() {
                    if r.id() == Some(model::LIFECYCLE_RULE_ID) {
                        ours = Some(lifecycle_json(r));
                    } else {
                        current.other_lifecycle.push(r.clone());
                    }
                }
            }
            Err(e) if code(&e) == Some("NoSuchLifecycleConfiguration") => {}
            Err(e) => return Err(failed(format!("cannot read the lifecycle rules of {b}"), e)),
        }
    }
    plan.items.push(Item {
        kind: Kind::Lifecycle,
        name: b.clone(),
        current: ours,
        desired: model::lifecycle_rule(),
    });

    if s.public_read {
        let mut pab = None;
        if exists {
            match c.s3.get_public_access_block().bucket(b).send().await {
                Ok(out) => {
                    let p = out.public_access_block_configuration();
                    let f = |x: Option<bool>| x.unwrap_or(false);
                    pab = Some(json!({
                        "BlockPublicAcls": f(p.and_then(|p| p.block_public_acls())),
                        "IgnorePublicAcls": f(p.and_then(|p| p.ignore_public_acls())),
                        "BlockPublicPolicy": f(p.and_then(|p| p.block_public_policy())),
                        "RestrictPublicBuckets": f(p.and_then(|p| p.restrict_public_buckets())),
                    }));
                }
                Err(e) if code(&e) == Some("NoSuchPublicAccessBlockConfiguration") => {}
                Err(e) => {
                    return Err(failed(
                        format!("cannot read the Block Public Access of {b}"),
                        e,
                    ));
                }
            }
        }
        plan.items.push(Item {
            kind: Kind::PublicAccessBlock,
            name: b.clone(),
            current: pab,
            desired: model::public_access_block(true),
        });
        let mut ours = None;
        if exists {
            match c.s3.get_bucket_policy().bucket(b).send().await {
                Ok(out) => {
                    let policy: Value = serde_json::from_str(out.policy().unwrap_or("{}"))
                        .map_err(|e| format!("the policy of the bucket {b} is not JSON: {e}"))?;
                    ours = policy["Statement"].as_array().and_then(|a| {
                        a.iter()
                            .find(|st| st["Sid"] == model::PUBLIC_READ_SID)
                            .cloned()
                    });
                    current.policy = Some(policy);
                }
                Err(e) if code(&e) == Some("NoSuchBucketPolicy") => {}
                Err(e) => return Err(failed(format!("cannot read the policy of {b}"), e)),
            }
        }
        plan.items.push(Item {
            kind: Kind::BucketPolicy,
            name: b.clone(),
            current: ours,
            desired: model::public_read_statement(b),
        });
        plan.notes.push(format!(
            "--public-read: anyone may GET the objects of {b} (by a bucket policy; uploads need \
             no `public-read` ACL, which buckets with ACLs disabled refuse with \
             AccessControlListNotSupported)"
        ));
    }

    for p in &s.providers {
        if let Provider::Oidc { client_id, .. } = p {
            let arn = oidc_provider_arn(&s.account, p.iam_name());
            let url = format!("https://{}", p.iam_name());
            let now = match c
                .iam
                .get_open_id_connect_provider()
                .open_id_connect_provider_arn(&arn)
                .send()
                .await
            {
                Ok(out) => {
                    let mut ids = out.client_id_list().to_vec();
                    ids.sort();
                    Some(json!({ "Url": url, "ClientIDList": ids }))
                }
                Err(e) if code(&e) == Some("NoSuchEntity") => None,
                Err(e) => {
                    return Err(failed(
                        format!("cannot read the IAM OpenID Connect provider {arn}"),
                        e,
                    ));
                }
            };
            let mut ids: Vec<String> = now
                .as_ref()
                .and_then(|n| n["ClientIDList"].as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            if !ids.contains(client_id) {
                ids.push(client_id.clone());
                ids.sort();
            }
            plan.items.push(Item {
                kind: Kind::OidcProvider,
                name: url.clone(),
                current: now,
                desired: json!({ "Url": url, "ClientIDList": ids }),
            });
        }
    }
    if s.providers
        .iter()
        .any(|p| !matches!(p, Provider::Oidc { .. }))
    {
        plan.notes.push(
            "Google, Login with Amazon and Facebook are built into STS: their roles need no IAM \
             identity provider"
                .into(),
        );
    }

    for p in &s.providers {
        let role = model::uploader_role(p, &s.account, b);
        plan.items.push(Item {
            kind: Kind::Role,
            name: role.name.clone(),
            current: read_role(c, &role).await?,
            desired: role.document(),
        });
    }

    if s.cognito_guest {
        let found = find_pool(c).await?;
        let pool_id = found.as_ref().map(|(id, _)| id.clone());
        let role = model::guest_role(pool_id.as_deref().unwrap_or(model::NEW_POOL_ID), b);
        plan.items.push(Item {
            kind: Kind::Role,
            name: role.name.clone(),
            current: read_role(c, &role).await?,
            desired: role.document(),
        });
        // The pool's other roles (an authenticated one) stay: SetIdentityPoolRoles
        // replaces them all.
        let mut desired = pool_document(s);
        if let Some(Value::Object(roles)) = found.as_ref().map(|(_, v)| v["Roles"].clone()) {
            let mut all = roles;
            all.insert(
                "unauthenticated".into(),
                desired["Roles"]["unauthenticated"].clone(),
            );
            desired["Roles"] = Value::Object(all);
        }
        plan.items.push(Item {
            kind: Kind::IdentityPool,
            name: model::GUEST_POOL_NAME.into(),
            current: found.map(|(_, v)| v),
            desired,
        });
        current.pool_id = pool_id;
    }
    Ok((plan, current))
}

async fn put_role(c: &Clients, role: &Role, exists: bool) -> Result<(), String> {
    let trust = role.trust.to_string();
    if exists {
        c.iam
            .update_assume_role_policy()
            .role_name(&role.name)
            .policy_document(&trust)
            .send()
            .await
            .map_err(|e| {
                failed(
                    format!("cannot change the trust policy of {}", role.name),
                    e,
                )
            })?;
        c.iam
            .update_role()
            .role_name(&role.name)
            .description(&role.description)
            .max_session_duration(role.max_session_duration)
            .send()
            .await
            .map_err(|e| failed(format!("cannot change the IAM role {}", role.name), e))?;
    } else {
        c.iam
            .create_role()
            .role_name(&role.name)
            .description(&role.description)
            .max_session_duration(role.max_session_duration)
            .assume_role_policy_document(&trust)
            .send()
            .await
            .map_err(|e| failed(format!("cannot make the IAM role {}", role.name), e))?;
    }
    c.iam
        .put_role_policy()
        .role_name(&role.name)
        .policy_name(&role.policy_name)
        .policy_document(role.policy.to_string())
        .send()
        .await
        .map_err(|e| {
            failed(
                format!(
                    "cannot put the policy {} of the IAM role {}",
                    role.policy_name, role.name
                ),
                e,
            )
        })?;
    Ok(())
}

/// Applies every item that is not as it should be, in the plan's order; says each on
/// `say` as it is done. Returns the guest pool's id, if there is one.
pub async fn apply(
    c: &Clients,
    s: &Settings,
    plan: &Plan,
    current: &Current,
    say: &mut dyn FnMut(String),
) -> Result<Option<String>, String> {
    let b = &s.bucket;
    let mut pool_id = current.pool_id.clone();
    let pending = |kind: Kind| {
        plan.items
            .iter()
            .filter(move |i| i.kind == kind && i.action() != crate::plan::Action::Keep)
    };
    for item in pending(Kind::Bucket) {
        let mut req = c.s3.create_bucket().bucket(b);
        if s.region != "us-east-1" {
            req = req.create_bucket_configuration(
                s3t::CreateBucketConfiguration::builder()
                    .location_constraint(s3t::BucketLocationConstraint::from(s.region.as_str()))
                    .build(),
            );
        }
        req.send().await.map_err(|e| match code(&e) {
            Some("BucketAlreadyExists") => format!(
                "the bucket name {b} is taken by another account (bucket names are global): \
                 choose another --bucket"
            ),
            _ => failed(format!("cannot make the bucket {b}"), e),
        })?;
        say(format!("made the S3 bucket {} in {}", item.name, s.region));
    }
    for item in pending(Kind::Cors) {
        let mut rules = current.other_cors.clone();
        rules.push(cors_sdk(&item.desired)?);
        c.s3.put_bucket_cors()
            .bucket(b)
            .cors_configuration(
                s3t::CorsConfiguration::builder()
                    .set_cors_rules(Some(rules))
                    .build()
                    .map_err(|e| format!("the CORS configuration is incomplete: {e}"))?,
            )
            .send()
            .await
            .map_err(|e| failed(format!("cannot put the CORS rules of {b}"), e))?;
        say(format!(
            "put the CORS rule `{}` on {b}",
            model::CORS_RULE_ID
        ));
    }
    for _ in pending(Kind::Lifecycle) {
        let mut rules = current.other_lifecycle.clone();
        rules.push(lifecycle_sdk()?);
        c.s3.put_bucket_lifecycle_configuration()
            .bucket(b)
            .lifecycle_configuration(
                s3t::BucketLifecycleConfiguration::builder()
                    .set_rules(Some(rules))
                    .build()
                    .map_err(|e| format!("the lifecycle configuration is incomplete: {e}"))?,
            )
            .send()
            .await
            .map_err(|e| failed(format!("cannot put the lifecycle rules of {b}"), e))?;
        say(format!(
            "put the lifecycle rule `{}` on {b}",
            model::LIFECYCLE_RULE_ID
        ));
    }
    for item in pending(Kind::PublicAccessBlock) {
        let f = |k: &str| item.desired[k].as_bool();
        c.s3.put_public_access_block()
            .bucket(b)
            .public_access_block_configuration(
                s3t::PublicAccessBlockConfiguration::builder()
                    .set_block_public_acls(f("BlockPublicAcls"))
                    .set_ignore_public_acls(f("IgnorePublicAcls"))
                    .set_block_public_policy(f("BlockPublicPolicy"))
                    .set_restrict_public_buckets(f("RestrictPublicBuckets"))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| failed(format!("cannot change the Block Public Access of {b}"), e))?;
        say(format!(
            "let the policy of {b} make objects public (Block Public Access)"
        ));
    }
    for item in pending(Kind::BucketPolicy) {
        let mut policy = current
            .policy
            .clone()
            .unwrap_or_else(|| json!({ "Version": "2012-10-17", "Statement": [] }));
        let mut statements: Vec<Value> = match &policy["Statement"] {
            Value::Array(a) => a.clone(),
            Value::Null => vec![],
            one => vec![one.clone()],
        };
        statements.retain(|st| st["Sid"] != model::PUBLIC_READ_SID);
        statements.push(item.desired.clone());
        policy["Statement"] = Value::Array(statements);
        c.s3.put_bucket_policy()
            .bucket(b)
            .policy(policy.to_string())
            .send()
            .await
            .map_err(|e| failed(format!("cannot put the policy of {b}"), e))?;
        say(format!(
            "put the statement `{}` in the policy of {b}",
            model::PUBLIC_READ_SID
        ));
    }
    for item in pending(Kind::OidcProvider) {
        let want: Vec<String> = item.desired["ClientIDList"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        match &item.current {
            None => {
                c.iam
                    .create_open_id_connect_provider()
                    .url(&item.name)
                    .set_client_id_list(Some(want))
                    .send()
                    .await
                    .map_err(|e| {
                        failed(
                            format!("cannot make the IAM OpenID Connect provider {}", item.name),
                            e,
                        )
                    })?;
                say(format!(
                    "made the IAM OpenID Connect provider {}",
                    item.name
                ));
            }
            Some(now) => {
                let host = item.name.strip_prefix("https://").unwrap_or(&item.name);
                let arn = oidc_provider_arn(&s.account, host);
                for id in want {
                    if now["ClientIDList"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|x| x == &id))
                    {
                        continue;
                    }
                    c.iam
                        .add_client_id_to_open_id_connect_provider()
                        .open_id_connect_provider_arn(&arn)
                        .client_id(&id)
                        .send()
                        .await
                        .map_err(|e| failed(format!("cannot add the client {id} to {arn}"), e))?;
                    say(format!(
                        "added the client {id} to the IAM OpenID Connect provider {}",
                        item.name
                    ));
                }
            }
        }
    }
    let guest_name = model::guest_role("", b).name;
    for item in pending(Kind::Role) {
        if item.name == guest_name {
            continue;
        }
        let Some(p) = s
            .providers
            .iter()
            .find(|p| p.role_name(model::ROLE_BASE) == item.name)
        else {
            continue;
        };
        put_role(
            c,
            &model::uploader_role(p, &s.account, b),
            item.current.is_some(),
        )
        .await?;
        say(format!(
            "{} the IAM role {}",
            if item.current.is_some() {
                "changed"
            } else {
                "made"
            },
            item.name
        ));
    }
    if s.cognito_guest {
        let pool = plan.items.iter().find(|i| i.kind == Kind::IdentityPool);
        if pool_id.is_none() {
            let out = c
                .cognito
                .create_identity_pool()
                .identity_pool_name(model::GUEST_POOL_NAME)
                .allow_unauthenticated_identities(true)
                .send()
                .await
                .map_err(|e| {
                    failed(
                        format!(
                            "cannot make the Cognito identity pool `{}`",
                            model::GUEST_POOL_NAME
                        ),
                        e,
                    )
                })?;
            say(format!(
                "made the Cognito identity pool `{}` ({})",
                model::GUEST_POOL_NAME,
                out.identity_pool_id()
            ));
            pool_id = Some(out.identity_pool_id().to_string());
        }
        let id = pool_id.clone().unwrap_or_default();
        let role = model::guest_role(&id, b);
        let role_item = plan
            .items
            .iter()
            .find(|i| i.kind == Kind::Role && i.name == role.name);
        // A new pool's id is in the trust policy only now.
        if role_item.is_some_and(|i| i.current.as_ref() != Some(&role.document())) {
            put_role(c, &role, role_item.is_some_and(|i| i.current.is_some())).await?;
            say(format!(
                "put the IAM role {} (trusting the pool {id})",
                role.name
            ));
        }
        if let Some(pool) = pool.filter(|p| p.action() != crate::plan::Action::Keep) {
            if pool
                .current
                .as_ref()
                .is_some_and(|c| c["AllowUnauthenticatedIdentities"] != true)
            {
                c.cognito
                    .update_identity_pool()
                    .identity_pool_id(&id)
                    .identity_pool_name(model::GUEST_POOL_NAME)
                    .allow_unauthenticated_identities(true)
                    .send()
                    .await
                    .map_err(|e| {
                        failed(
                            format!("cannot let guests into the Cognito identity pool {id}"),
                            e,
                        )
                    })?;
            }
            let roles = pool.desired["Roles"].as_object().map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            });
            c.cognito
                .set_identity_pool_roles()
                .identity_pool_id(&id)
                .set_roles(roles)
                .send()
                .await
                .map_err(|e| {
                    failed(
                        format!("cannot give the Cognito identity pool {id} its guest role"),
                        e,
                    )
                })?;
            say(format!(
                "gave the Cognito identity pool {id} the guest role {}",
                role.name
            ));
        }
    }
    Ok(pool_id)
}

/// A role's ARN in the account.
pub fn arn_of_role(account: &str, name: &str) -> String {
    role_arn(account, name)
}
