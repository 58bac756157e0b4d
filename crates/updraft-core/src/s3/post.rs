//! Browser form uploads: [POST Object](https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html)
//! with a policy already signed by `crate::sigv4`.

use super::endpoint::Endpoint;
use super::error::{S3Error, Target};
use crate::credentials::Secret;
use crate::http::{Body, Method, Request, Response};
use crate::{Error, xml};

/// The form fields of a POST Object upload, signed beforehand.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PostObject {
    pub bucket: String,
    pub key: String,
    /// The base64 policy document.
    pub policy: String,
    /// Hex SigV4 signature of `policy`.
    pub signature: String,
    /// `AKID/20240101/us-east-1/s3/aws4_request`.
    pub credential: String,
    /// `x-amz-date`, `YYYYMMDD'T'HHMMSS'Z'`.
    pub date: String,
    pub security_token: Option<Secret>,
    pub acl: Option<String>,
    pub content_type: Option<String>,
    /// `200`, `201` or `204` (S3's default).
    pub success_action_status: Option<String>,
    /// User metadata; each name becomes `x-amz-meta-{name}`.
    pub metadata: Vec<(String, String)>,
}

/// The bytes around the file in a `multipart/form-data` body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MultipartBody {
    /// Every field, then the `file` part's headers.
    pub prefix: Vec<u8>,
    /// The closing boundary.
    pub suffix: Vec<u8>,
}

/// The upload S3 stored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PostObjectOutput {
    pub etag: Option<String>,
    pub location: Option<String>,
}

impl PostObject {
    /// The form fields in the order they are sent. The `file` field is not among them:
    /// it must come last, after all of these.
    pub fn fields(&self) -> Vec<(String, String)> {
        let mut f: Vec<(String, String)> = vec![("key".into(), self.key.clone())];
        let mut opt = |name: &str, v: Option<&str>| {
            if let Some(v) = v {
                f.push((name.to_owned(), v.to_owned()));
            }
        };
        opt("acl", self.acl.as_deref());
        opt("content-type", self.content_type.as_deref());
        opt(
            "success_action_status",
            self.success_action_status.as_deref(),
        );
        for (name, value) in &self.metadata {
            f.push((
                crate::cat!("x-amz-meta-{}", name.to_ascii_lowercase()),
                value.clone(),
            ));
        }
        f.push(("x-amz-algorithm".into(), "AWS4-HMAC-SHA256".into()));
        f.push(("x-amz-credential".into(), self.credential.clone()));
        f.push(("x-amz-date".into(), self.date.clone()));
        if let Some(token) = &self.security_token {
            f.push(("x-amz-security-token".into(), token.expose().to_owned()));
        }
        f.push(("policy".into(), self.policy.clone()));
        f.push(("x-amz-signature".into(), self.signature.clone()));
        f
    }

    /// The `multipart/form-data` body around a file named `file_name`, separated by
    /// `boundary` (the driver picks it at random; it must not occur in the file).
    pub fn multipart(&self, boundary: &str, file_name: &str, file_type: &str) -> MultipartBody {
        let mut prefix = String::new();
        for (name, value) in self.fields() {
            prefix.push_str(&crate::cat!(
                "--{}\r\nContent-Disposition: form-data; name=\"{}\"\r\n\r\n{}\r\n",
                boundary,
                quote(&name),
                value
            ));
        }
        prefix.push_str(&crate::cat!("--{}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n", boundary, quote(file_name), quote(file_type)));
        MultipartBody {
            prefix: prefix.into_bytes(),
            suffix: crate::cat!("\r\n--{}--\r\n", boundary).into_bytes(),
        }
    }

    /// The unsigned request for a native driver: `POST` to the bucket with a body of
    /// `body.prefix`, the `file_len` bytes of the file, then `body.suffix`.
    pub fn request(
        &self,
        endpoint: &Endpoint,
        boundary: &str,
        body: &MultipartBody,
        file_len: u64,
    ) -> Request {
        let mut req = endpoint.request(Method::Post, &self.bucket, None);
        req.set_header(
            "content-type",
            crate::cat!("multipart/form-data; boundary={}", boundary),
        );
        let len = body.prefix.len() as u64 + file_len + body.suffix.len() as u64;
        req.body = Body::External { len };
        req
    }

    /// Reads the answer: 204, 200, or 201 with a `<PostResponse>`.
    ///
    /// # Errors
    /// [`Error::S3`] for an error answer (a policy condition failed: `AccessDenied`).
    pub fn parse(&self, response: &Response) -> Result<PostObjectOutput, Error> {
        let target = Target {
            operation: "PostObject",
            bucket: &self.bucket,
            key: Some(&self.key),
            upload_id: None,
        };
        if !(200..300).contains(&response.status) {
            return Err(S3Error::from_response(response, target).into());
        }
        let mut out = PostObjectOutput {
            etag: response.header("etag").map(str::to_owned),
            location: response.header("location").map(str::to_owned),
        };
        if response.status == 201 {
            let doc = xml::parse(&response.body, "PostObject response")?;
            out.etag = doc.string("ETag").or(out.etag);
            out.location = doc.string("Location").or(out.location);
        }
        Ok(out)
    }
}

/// Escapes a form-data header parameter as browsers do (WHATWG `multipart/form-data`).
fn quote(s: &str) -> String {
    s.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}
