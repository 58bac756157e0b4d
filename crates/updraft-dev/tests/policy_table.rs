//! A policy-evaluation table: action × resource × condition × variable → allow or deny,
//! each row checked against what the IAM documentation says:
//! - evaluation logic: an explicit Deny wins over any Allow; no Allow is an implicit deny
//!   (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html>);
//! - `Action`/`Resource` wildcards `*` (any run of characters, `/` included) and `?`
//!   (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html>);
//! - policy variables, also provider-qualified for web identity
//!   (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html>,
//!   <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif>);
//! - `StringEquals`, `StringLike`, `StringNotLike`, `Null`
//!   (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html>);
//!   `StringNotLike` on a missing key matches (a negated operator), `Null: true` means the
//!   key is absent.

use updraft_dev::policy::{DEFAULT_ROLE_ARN, Identity, ROLE_JSON, Role, evaluate, s3_action};

fn identity(sub: &str, iss: &str) -> Identity {
    Identity {
        sub: sub.to_owned(),
        iss: iss.to_owned(),
        aud: "updraft-dev".to_owned(),
        role_arn: DEFAULT_ROLE_ARN.to_owned(),
        session_name: "s".to_owned(),
    }
}

fn role() -> Role {
    Role::load(ROLE_JSON, &["http://127.0.0.1:4182".to_owned()], "uploads")
        .expect("the role file loads")
}

#[test]
fn r5_the_default_role_row_by_row() {
    let r = role();
    let alice = identity("alice", "http://127.0.0.1:4182");
    // (operation, bucket, key, s3:prefix, allowed)
    let rows: &[(&str, &str, &str, Option<&str>, bool)] = &[
        ("PutObject", "uploads", "alice/a.txt", None, true),
        (
            "CreateMultipartUpload",
            "uploads",
            "alice/big.bin",
            None,
            true,
        ),
        ("UploadPart", "uploads", "alice/big.bin", None, true),
        (
            "CompleteMultipartUpload",
            "uploads",
            "alice/big.bin",
            None,
            true,
        ),
        (
            "AbortMultipartUpload",
            "uploads",
            "alice/big.bin",
            None,
            true,
        ),
        ("ListParts", "uploads", "alice/big.bin", None, true),
        ("GetObject", "uploads", "alice/deep/er/x", None, true),
        ("HeadObject", "uploads", "alice/x", None, true),
        ("DeleteObject", "uploads", "alice/x", None, true),
        ("PutObjectAcl", "uploads", "alice/x", None, true),
        ("GetObjectAcl", "uploads", "alice/x", None, false),
        ("PutObject", "uploads", "bob/a.txt", None, false),
        ("PutObject", "uploads", "alice", None, false),
        ("PutObject", "uploads", "alicex/a", None, false),
        ("PutObject", "uploads", "ALICE/a", None, false),
        ("PutObject", "other", "alice/a", None, false),
        ("GetObject", "uploads", "bob/alice/a", None, false),
        (
            "AbortMultipartUpload",
            "uploads",
            "bob/big.bin",
            None,
            false,
        ),
        ("ListObjectsV2", "uploads", "", Some("alice/"), true),
        ("ListObjectsV2", "uploads", "", Some("alice/photos/"), true),
        ("ListObjectsV2", "uploads", "", Some("bob/"), false),
        ("ListObjectsV2", "uploads", "", Some(""), false),
        ("ListObjectsV2", "uploads", "", None, false),
        ("ListObjectsV2", "uploads", "", Some("ali"), false),
        ("ListObjects", "uploads", "", Some("alice/"), true),
        ("ListMultipartUploads", "uploads", "", Some("alice/"), false),
        ("DeleteBucket", "uploads", "", None, false),
        ("PutBucketCors", "uploads", "", None, false),
        ("ListBuckets", "", "", None, false),
        ("CreateBucket", "alice", "", None, false),
    ];
    assert!(rows.len() >= 20);
    for (op, bucket, key, prefix, want) in rows {
        let (action, resource) = s3_action(op, bucket, key);
        let extra: Vec<(&str, &str)> = prefix.iter().map(|p| ("s3:prefix", *p)).collect();
        assert_eq!(
            r.allows(&alice, &action, &resource, &extra),
            *want,
            "{op} {bucket}/{key} prefix {prefix:?}"
        );
    }
}

#[test]
fn r5_identity_values_are_literal_not_wildcards() {
    let r = role();
    // A sub of "*" must not reach everyone's folder (AWS matches substituted values
    // literally; here such identities are refused outright).
    for sub in ["*", "a*", "?", "${sub}", "al?ce"] {
        let id = identity(sub, "http://127.0.0.1:4182");
        let (a, res) = s3_action("GetObject", "uploads", "alice/x");
        assert!(!r.allows(&id, &a, &res, &[]), "{sub}");
        let (a, res) = s3_action("GetObject", "uploads", &format!("{sub}/x"));
        assert!(!r.allows(&id, &a, &res, &[]), "{sub}");
    }
}

type Row<'a> = (
    &'a serde_json::Value,
    &'a Identity,
    &'a str,
    &'a str,
    Option<&'a str>,
    bool,
    &'a str,
);

#[test]
fn r5_evaluation_logic_operators_and_qualified_variables() {
    let google = identity("1234", "https://accounts.google.com");
    let cognito = identity("us-east-1:abcd", "https://cognito-identity.amazonaws.com");
    let amazon = identity("amzn1.account.X", "https://www.amazon.com");
    let p = |json: &str| -> serde_json::Value { serde_json::from_str(json).unwrap() };
    let deny_wins = p(r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::uploads/*"},
        {"Effect":"Deny","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::uploads/keep/*"}]}"#);
    let qualified = p(r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":["s3:PutObject","s3:GetObject"],"Resource":[
          "arn:aws:s3:::uploads/${accounts.google.com:sub}/*",
          "arn:aws:s3:::uploads/guest/${cognito-identity.amazonaws.com:sub}/*",
          "arn:aws:s3:::uploads/amazon/${www.amazon.com:user_id}/*"]}]}"#);
    let conditions = p(r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::uploads",
         "Condition":{"StringEquals":{"s3:prefix":"public/"}}},
        {"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::uploads",
         "Condition":{"Null":{"s3:prefix":"true"}}},
        {"Effect":"Deny","Action":"s3:ListBucket","Resource":"arn:aws:s3:::uploads",
         "Condition":{"StringNotLike":{"s3:prefix":["public/*","${accounts.google.com:sub}/*"]}}}]}"#);
    let null_only = p(r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::uploads",
         "Condition":{"Null":{"s3:prefix":"true"}}}]}"#);
    let question = p(r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"s3:Get?bject","Resource":"arn:aws:s3:::uploads/a?c"}]}"#);
    // (policy, identity, action, resource, s3:prefix, allowed, why)
    let rows: Vec<Row<'_>> = vec![
        (
            &deny_wins,
            &google,
            "s3:PutObject",
            "arn:aws:s3:::uploads/keep/x",
            None,
            true,
            "s3:* allows",
        ),
        (
            &deny_wins,
            &google,
            "s3:DeleteObject",
            "arn:aws:s3:::uploads/keep/x",
            None,
            false,
            "explicit deny wins",
        ),
        (
            &deny_wins,
            &google,
            "s3:DeleteObject",
            "arn:aws:s3:::uploads/other/x",
            None,
            true,
            "deny elsewhere does not apply",
        ),
        (
            &deny_wins,
            &google,
            "s3:PutObject",
            "arn:aws:s3:::other/x",
            None,
            false,
            "implicit deny",
        ),
        (
            &deny_wins,
            &google,
            "s3:putobject",
            "arn:aws:s3:::uploads/x",
            None,
            true,
            "actions are case-insensitive",
        ),
        (
            &deny_wins,
            &google,
            "s3:PutObject",
            "arn:aws:s3:::UPLOADS/x",
            None,
            false,
            "resources are case-sensitive",
        ),
        (
            &qualified,
            &google,
            "s3:PutObject",
            "arn:aws:s3:::uploads/1234/f",
            None,
            true,
            "${accounts.google.com:sub}",
        ),
        (
            &qualified,
            &google,
            "s3:PutObject",
            "arn:aws:s3:::uploads/5678/f",
            None,
            false,
            "another sub",
        ),
        (
            &qualified,
            &cognito,
            "s3:PutObject",
            "arn:aws:s3:::uploads/guest/us-east-1:abcd/f",
            None,
            true,
            "${cognito-identity.amazonaws.com:sub}",
        ),
        (
            &qualified,
            &cognito,
            "s3:PutObject",
            "arn:aws:s3:::uploads/us-east-1:abcd/f",
            None,
            false,
            "google variable absent for cognito",
        ),
        (
            &qualified,
            &amazon,
            "s3:GetObject",
            "arn:aws:s3:::uploads/amazon/amzn1.account.X/f",
            None,
            true,
            "${www.amazon.com:user_id}",
        ),
        (
            &qualified,
            &amazon,
            "s3:DeleteObject",
            "arn:aws:s3:::uploads/amazon/amzn1.account.X/f",
            None,
            false,
            "action not listed",
        ),
        (
            &conditions,
            &google,
            "s3:ListBucket",
            "arn:aws:s3:::uploads",
            Some("public/"),
            true,
            "StringEquals",
        ),
        (
            &conditions,
            &google,
            "s3:ListBucket",
            "arn:aws:s3:::uploads",
            Some("public/x/"),
            false,
            "StringEquals is exact; no allow",
        ),
        (
            &conditions,
            &google,
            "s3:ListBucket",
            "arn:aws:s3:::uploads",
            None,
            false,
            "StringNotLike on an absent key is true: the deny applies",
        ),
        (
            &null_only,
            &google,
            "s3:ListBucket",
            "arn:aws:s3:::uploads",
            None,
            true,
            "Null true: the key is absent",
        ),
        (
            &null_only,
            &google,
            "s3:ListBucket",
            "arn:aws:s3:::uploads",
            Some("x/"),
            false,
            "Null true: the key is present",
        ),
        (
            &conditions,
            &google,
            "s3:ListBucket",
            "arn:aws:s3:::uploads",
            Some("secret/"),
            false,
            "StringNotLike deny",
        ),
        (
            &conditions,
            &google,
            "s3:ListBucket",
            "arn:aws:s3:::uploads",
            Some("1234/"),
            false,
            "StringNotLike spares it, but nothing allows",
        ),
        (
            &question,
            &google,
            "s3:GetObject",
            "arn:aws:s3:::uploads/abc",
            None,
            true,
            "? matches one character",
        ),
        (
            &question,
            &google,
            "s3:GetObject",
            "arn:aws:s3:::uploads/abbc",
            None,
            false,
            "? matches exactly one",
        ),
        (
            &question,
            &google,
            "s3:GetObject",
            "arn:aws:s3:::uploads/ac",
            None,
            false,
            "? is not optional",
        ),
    ];
    assert!(rows.len() >= 20);
    for (policy, id, action, resource, prefix, want, why) in rows {
        let extra: Vec<(&str, &str)> = prefix.iter().map(|p| ("s3:prefix", *p)).collect();
        assert_eq!(
            evaluate(policy, id, action, resource, &extra),
            want,
            "{why}: {action} {resource} {prefix:?}"
        );
    }
}

#[test]
fn r5_the_role_file_is_iam_json() {
    let doc: serde_json::Value = serde_json::from_str(ROLE_JSON).unwrap();
    assert_eq!(doc["AssumeRolePolicyDocument"]["Version"], "2012-10-17");
    assert_eq!(doc["PolicyDocument"]["Version"], "2012-10-17");
    assert!(doc["MaxSessionDuration"].as_u64().unwrap() <= 43200);
    let r = role();
    assert_eq!(r.arn, DEFAULT_ROLE_ARN);
    assert_eq!(
        r.audiences("http://127.0.0.1:4182"),
        Some(&["updraft-dev".to_owned()][..])
    );
    assert_eq!(r.audiences("https://accounts.google.com"), None);
}
