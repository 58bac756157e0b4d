//! POST-policy signing, for browser form uploads: a JSON policy naming what the form
//! may upload, base64-encoded and signed with the SigV4 key.
//! See <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html>.

use crate::json::{ObjectWriter, write_str, write_u64};

use super::{ALGORITHM, Signer, SigningParams};
use crate::Timestamp;

/// One condition of a POST policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Condition {
    /// The form field `field` (without `$`) must equal `value`.
    Equals(String, String),
    /// The form field `field` (without `$`) must start with `prefix` (`""`: anything).
    StartsWith(String, String),
    /// The file must be between `min` and `max` bytes, inclusive.
    ContentLengthRange(u64, u64),
}

impl Condition {
    /// Appends the condition as JSON text to `out`.
    fn write(&self, out: &mut String) {
        match self {
            Condition::Equals(f, v) => {
                out.push('{');
                write_str(out, f);
                out.push(':');
                write_str(out, v);
                out.push('}');
            }
            Condition::StartsWith(f, p) => {
                out.push_str("[\"starts-with\",");
                let mut field = String::from("$");
                field.push_str(f);
                write_str(out, &field);
                out.push(',');
                write_str(out, p);
                out.push(']');
            }
            Condition::ContentLengthRange(min, max) => {
                out.push_str("[\"content-length-range\",");
                write_u64(out, *min);
                out.push(',');
                write_u64(out, *max);
                out.push(']');
            }
        }
    }
}

/// A POST policy: until when the form may be used, and what it may carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostPolicy {
    pub expiration: Timestamp,
    pub conditions: Vec<Condition>,
}

/// The signed fields a POST form must carry beside the caller's own (`key`, `acl`,
/// `Content-Type`, ...) and the `file` field, which comes last.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostPolicyForm {
    /// The form fields in order: `Policy`, `X-Amz-Algorithm`, `X-Amz-Credential`,
    /// `X-Amz-Date`, `X-Amz-Security-Token` (temporary credentials only),
    /// `X-Amz-Signature`.
    pub fields: Vec<(String, String)>,
}

impl PostPolicy {
    /// A policy valid until `expiration` with no conditions yet.
    pub fn new(expiration: Timestamp) -> Self {
        PostPolicy {
            expiration,
            conditions: Vec::new(),
        }
    }

    /// Adds an exact-match condition on form field `field`.
    pub fn equals(mut self, field: &str, value: &str) -> Self {
        self.conditions
            .push(Condition::Equals(field.to_owned(), value.to_owned()));
        self
    }

    /// Adds a prefix condition on form field `field`.
    pub fn starts_with(mut self, field: &str, prefix: &str) -> Self {
        self.conditions
            .push(Condition::StartsWith(field.to_owned(), prefix.to_owned()));
        self
    }

    /// Limits the file's size to `min..=max` bytes.
    pub fn content_length_range(mut self, min: u64, max: u64) -> Self {
        self.conditions
            .push(Condition::ContentLengthRange(min, max));
        self
    }

    /// The policy document as JSON, with `conditions` as given; written as text straight
    /// away, not as a tree of values (wasm size, issue 16).
    pub fn to_json(&self) -> String {
        let mut conditions = String::from("[");
        for c in &self.conditions {
            if conditions.len() > 1 {
                conditions.push(',');
            }
            c.write(&mut conditions);
        }
        conditions.push(']');
        ObjectWriter::new()
            .str("expiration", &self.expiration.iso8601_millis())
            .raw("conditions", &conditions)
            .finish()
    }

    /// Signs the policy: adds the conditions on the SigV4 fields (and on the session
    /// token when there is one), encodes the document in base64 and signs that.
    /// Takes the policy (a clone of its conditions is code of its own: wasm size).
    pub fn sign(self, signer: &mut Signer, p: &SigningParams<'_>) -> PostPolicyForm {
        let credential = crate::cat!("{}/{}", p.credentials.access_key_id, p.scope());
        let date = p.time.amz_date();
        let mut policy = self
            .equals("x-amz-algorithm", ALGORITHM)
            .equals("x-amz-credential", &credential)
            .equals("x-amz-date", &date);
        let token = p.credentials.session_token.as_ref().map(|t| t.expose());
        if let Some(t) = token {
            policy = policy.equals("x-amz-security-token", t);
        }
        let encoded = crate::base64::base64_encode(policy.to_json().as_bytes());
        let signature = signer.sign_string(p, &encoded);
        let mut fields = vec![
            ("Policy".to_owned(), encoded),
            ("X-Amz-Algorithm".to_owned(), ALGORITHM.to_owned()),
            ("X-Amz-Credential".to_owned(), credential),
            ("X-Amz-Date".to_owned(), date),
        ];
        if let Some(t) = token {
            fields.push(("X-Amz-Security-Token".to_owned(), t.to_owned()));
        }
        fields.push(("X-Amz-Signature".to_owned(), signature));
        PostPolicyForm { fields }
    }
}
