//! `--emit cloudformation`: the resources `setup aws` makes, as a CloudFormation template
//! (JSON, which CloudFormation reads as it reads YAML), for teams that keep infrastructure
//! as code. The same documents as the plan's ([`crate::model`]); what only exists once the
//! stack does — the account, an OIDC provider's ARN, the pool's id — comes from `Ref` and
//! `Fn::GetAtt`, and the role ARNs and pool id are the stack's outputs, the values of the
//! page's `config.json`.
//!
//! Resource types: <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-template-resource-type-ref.html>.

use serde_json::{Map, Value, json};

use crate::model::{self, Settings};
use crate::provider::Provider;

/// A logical id from a role name (letters and digits only).
fn logical(prefix: &str, name: &str) -> String {
    let mut id = String::from(prefix);
    let mut upper = true;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            id.push(if upper { c.to_ascii_uppercase() } else { c });
            upper = false;
        } else {
            upper = true;
        }
    }
    id
}

/// S3's CORS rule in CloudFormation's spelling (`Id`, `ExposedHeaders`, `MaxAge`).
fn cors(rule: &Value) -> Value {
    json!({
        "Id": rule["ID"],
        "AllowedOrigins": rule["AllowedOrigins"],
        "AllowedMethods": rule["AllowedMethods"],
        "AllowedHeaders": rule["AllowedHeaders"],
        "ExposedHeaders": rule["ExposeHeaders"],
        "MaxAge": rule["MaxAgeSeconds"],
    })
}

fn role(r: &model::Role, trust: Value) -> Value {
    json!({
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": r.name,
            "Description": r.description,
            "MaxSessionDuration": r.max_session_duration,
            "AssumeRolePolicyDocument": trust,
            "Policies": [{ "PolicyName": r.policy_name, "PolicyDocument": r.policy }],
        },
    })
}

/// The template. `settings.account` is not used: the stack's account is `AWS::AccountId`.
pub fn template(s: &Settings) -> Value {
    let mut resources = Map::new();
    let mut outputs = Map::new();
    let mut bucket = json!({
        "Type": "AWS::S3::Bucket",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "BucketName": s.bucket,
            "CorsConfiguration": { "CorsRules": [cors(&model::cors_rule(&s.app_origins))] },
            "LifecycleConfiguration": { "Rules": [{
                "Id": model::LIFECYCLE_RULE_ID,
                "Status": "Enabled",
                "Prefix": "",
                "AbortIncompleteMultipartUpload": {
                    "DaysAfterInitiation": model::ABORT_INCOMPLETE_AFTER_DAYS,
                },
            }] },
        },
    });
    if s.public_read {
        bucket["Properties"]["PublicAccessBlockConfiguration"] = model::public_access_block(true);
        resources.insert(
            "UploadsBucketPublicRead".into(),
            json!({
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {
                    "Bucket": { "Ref": "UploadsBucket" },
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [model::public_read_statement(&s.bucket)],
                    },
                },
            }),
        );
    }
    resources.insert("UploadsBucket".into(), bucket);

    for p in &s.providers {
        let r = model::uploader_role(p, "${AWS::AccountId}", &s.bucket);
        let id = logical("Role", &r.name);
        let mut trust = r.trust.clone();
        if let Provider::Oidc { .. } = p {
            let oidc = logical("OidcProvider", p.iam_name());
            resources.insert(
                oidc.clone(),
                json!({
                    "Type": "AWS::IAM::OIDCProvider",
                    "Properties": {
                        "Url": format!("https://{}", p.iam_name()),
                        "ClientIdList": [p.app_id()],
                    },
                }),
            );
            if let Some(st) = trust["Statement"].get_mut(0) {
                st["Principal"]["Federated"] = json!({ "Ref": oidc });
            }
        }
        resources.insert(id.clone(), role(&r, trust));
        outputs.insert(
            logical("", &format!("{} role arn", p.kind())),
            json!({
                "Description": format!("config.json: the role of {}", p.iam_name()),
                "Value": { "Fn::GetAtt": [id, "Arn"] },
            }),
        );
    }

    if s.cognito_guest {
        resources.insert(
            "GuestPool".into(),
            json!({
                "Type": "AWS::Cognito::IdentityPool",
                "Properties": {
                    "IdentityPoolName": model::GUEST_POOL_NAME,
                    "AllowUnauthenticatedIdentities": true,
                },
            }),
        );
        let r = model::guest_role(model::NEW_POOL_ID, &s.bucket);
        let trust = replace_pool_id(&r.trust);
        resources.insert("RoleUpdraftGuest".into(), role(&r, trust));
        resources.insert(
            "GuestPoolRoles".into(),
            json!({
                "Type": "AWS::Cognito::IdentityPoolRoleAttachment",
                "Properties": {
                    "IdentityPoolId": { "Ref": "GuestPool" },
                    "Roles": { "unauthenticated": { "Fn::GetAtt": ["RoleUpdraftGuest", "Arn"] } },
                },
            }),
        );
        outputs.insert(
            "IdentityPoolId".into(),
            json!({
                "Description": "config.json: identityPoolId",
                "Value": { "Ref": "GuestPool" },
            }),
        );
    }

    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!(
            "updraft: the uploads bucket {} (CORS for {}), {} sign-in role(s){}. Made by `updraft setup aws --emit cloudformation`.",
            s.bucket,
            s.app_origins.join(", "),
            s.providers.len(),
            if s.cognito_guest { " and a Cognito guest pool" } else { "" },
        ),
        "Resources": resources,
        "Outputs": outputs,
    })
}

/// `{identity_pool_id}` in the guest trust becomes the pool's `Ref`.
fn replace_pool_id(v: &Value) -> Value {
    match v {
        Value::String(s) if s == model::NEW_POOL_ID => json!({ "Ref": "GuestPool" }),
        Value::Array(a) => Value::Array(a.iter().map(replace_pool_id).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), replace_pool_id(x)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_refers_to_what_only_the_stack_knows() {
        let s = Settings {
            bucket: "b".into(),
            region: "eu-west-1".into(),
            account: String::new(),
            app_origins: vec!["https://app.example.com".into()],
            providers: vec![
                Provider::parse("google:g").unwrap(),
                Provider::parse("oidc:https://id.example.com,web").unwrap(),
            ],
            cognito_guest: true,
            public_read: true,
        };
        let t = template(&s);
        let r = &t["Resources"];
        assert_eq!(r["UploadsBucket"]["Type"], "AWS::S3::Bucket");
        let oidc_role = &r["RoleUpdraftUploaderOidcIdExampleCom"]["Properties"];
        assert_eq!(
            oidc_role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Federated"],
            json!({ "Ref": "OidcProviderIdExampleCom" })
        );
        let guest = &r["RoleUpdraftGuest"]["Properties"]["AssumeRolePolicyDocument"];
        assert_eq!(
            guest["Statement"][0]["Condition"]["StringEquals"]["cognito-identity.amazonaws.com:aud"],
            json!({ "Ref": "GuestPool" })
        );
        assert!(
            !t.to_string().contains("${AWS::AccountId}"),
            "no Fn::Sub is used"
        );
        assert_eq!(
            t["Outputs"]["IdentityPoolId"]["Value"],
            json!({ "Ref": "GuestPool" })
        );
        assert!(
            t["Outputs"]["GoogleRoleArn"].is_object(),
            "{}",
            t["Outputs"]
        );
    }
}
