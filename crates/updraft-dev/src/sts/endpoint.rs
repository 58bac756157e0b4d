//! The STS endpoint on the S3 origin: [AssumeRoleWithWebIdentity] by GET query or POST
//! form, its XML answer and errors, and CORS for the app origin.
//!
//! [AssumeRoleWithWebIdentity]: https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::BodyExt as _;
use s3s::Body;

use super::session::Issued;
use super::{Sts, StsErr};
use crate::oidc::{field, form};
use crate::policy::{assumed_role_arn, provider_of, role_id};

/// AWS's limit on `WebIdentityToken`.
const MAX_TOKEN_LEN: usize = 20_000;

fn validation(msg: impl Into<String>) -> StsErr {
    StsErr(StatusCode::BAD_REQUEST, "ValidationError", msg.into())
}

/// `s` with `&`, `<` and `>` escaped for XML text.
pub(super) fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

const STS_NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

fn xml_response(status: StatusCode, body: String) -> Response<Body> {
    let mut r = Response::new(Body::from(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml"),
    );
    r
}

impl Sts {
    /// Whether a request to the S3 origin is an STS call: a GET query or POST form
    /// with `Action=...` at the root.
    pub(crate) fn is_sts(req: &Request<hyper::body::Incoming>) -> bool {
        if req.uri().path() != "/" {
            return false;
        }
        match *req.method() {
            http::Method::GET => req
                .uri()
                .query()
                .is_some_and(|q| form(q).iter().any(|(k, _)| k == "Action")),
            http::Method::POST => req
                .headers()
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded")),
            _ => false,
        }
    }

    /// [AssumeRoleWithWebIdentity]: checks the call's parameters (`f`, query and form),
    /// verifies its token, issues temporary keys; `Ok` is the XML answer.
    ///
    /// [AssumeRoleWithWebIdentity]: https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html
    async fn assume(&self, f: &[(String, String)]) -> Result<String, StsErr> {
        if field(f, "Action") != Some("AssumeRoleWithWebIdentity") {
            return Err(StsErr(
                StatusCode::BAD_REQUEST,
                "InvalidAction",
                "Could not find operation for this request.".into(),
            ));
        }
        let need = |k: &str| {
            field(f, k).ok_or_else(|| {
                StsErr(
                    StatusCode::BAD_REQUEST,
                    "MissingParameter",
                    format!("The request must contain the parameter {k}"),
                )
            })
        };
        let role_arn = need("RoleArn")?;
        let session = need("RoleSessionName")?;
        let token = need("WebIdentityToken")?;
        if session.len() < 2
            || session.len() > 64
            || !session
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b))
        {
            return Err(validation(
                "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
            ));
        }
        if token.len() < 4 || token.len() > MAX_TOKEN_LEN {
            return Err(validation(
                "1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: Member must have length less than or equal to 20000",
            ));
        }
        let duration: u32 = match field(f, "DurationSeconds") {
            None => 3600.min(self.role.max_session_seconds),
            Some(d) => d
                .parse()
                .map_err(|_| validation("DurationSeconds is not a number."))?,
        };
        if duration < self.min_duration || duration > 43200 {
            return Err(validation(format!(
                "1 validation error detected: Value '{duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value between {} and 43200",
                self.min_duration
            )));
        }
        if duration > self.role.max_session_seconds {
            return Err(validation(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            ));
        }
        let (sub, iss, aud) = self.verify(token).await?;
        if role_arn != self.role.arn {
            return Err(StsErr(
                StatusCode::FORBIDDEN,
                "AccessDenied",
                "Not authorized to perform sts:AssumeRoleWithWebIdentity".into(),
            ));
        }
        let role = self.role.arn.clone();
        let Issued {
            access_key_id: akid,
            secret,
            session_token,
            expires: exp,
        } = self.issue(&sub, &iss, &aud, &role, session, duration)?;
        let expiration = time::OffsetDateTime::from_unix_timestamp(exp as i64)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default();
        let request_id = crate::store::random_id().unwrap_or_default();
        Ok(format!(
            "<AssumeRoleWithWebIdentityResponse xmlns=\"{STS_NS}\">\n  <AssumeRoleWithWebIdentityResult>\n    <SubjectFromWebIdentityToken>{sub}</SubjectFromWebIdentityToken>\n    <Audience>{aud}</Audience>\n    <AssumedRoleUser>\n      <Arn>{arn}</Arn>\n      <AssumedRoleId>{rid}:{session}</AssumedRoleId>\n    </AssumedRoleUser>\n    <Credentials>\n      <SessionToken>{session_token}</SessionToken>\n      <SecretAccessKey>{secret}</SecretAccessKey>\n      <Expiration>{expiration}</Expiration>\n      <AccessKeyId>{akid}</AccessKeyId>\n    </Credentials>\n    <Provider>{provider}</Provider>\n  </AssumeRoleWithWebIdentityResult>\n  <ResponseMetadata>\n    <RequestId>{request_id}</RequestId>\n  </ResponseMetadata>\n</AssumeRoleWithWebIdentityResponse>\n",
            sub = xml_escape(&sub),
            aud = xml_escape(&aud),
            arn = xml_escape(&assumed_role_arn(&self.role.arn, session)),
            rid = role_id(&self.role.arn),
            secret = secret.as_str(),
            provider = xml_escape(provider_of(&iss)),
        ))
    }

    /// Adds CORS headers to `r` when the request came from the app origin.
    pub(crate) fn cors(&self, origin: Option<&str>, r: &mut Response<Body>) {
        if origin == Some(self.app_origin.as_str())
            && let Ok(v) = HeaderValue::from_str(&self.app_origin)
        {
            let h = r.headers_mut();
            h.insert(http::header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
            h.insert(http::header::VARY, HeaderValue::from_static("Origin"));
            h.insert(
                http::header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static("x-amzn-requestid"),
            );
        }
    }

    /// A CORS preflight for STS at the root of the S3 origin.
    pub(crate) fn preflight(&self, req: &Request<hyper::body::Incoming>) -> Response<Body> {
        let origin = req
            .headers()
            .get(http::header::ORIGIN)
            .and_then(|v| v.to_str().ok());
        let mut r = Response::new(Body::empty());
        if origin == Some(self.app_origin.as_str()) {
            self.cors(origin, &mut r);
            let h = r.headers_mut();
            h.insert(
                http::header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST"),
            );
            if let Some(v) = req
                .headers()
                .get(http::header::ACCESS_CONTROL_REQUEST_HEADERS)
            {
                h.insert(http::header::ACCESS_CONTROL_ALLOW_HEADERS, v.clone());
            }
            h.insert(
                http::header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("3000"),
            );
        } else {
            *r.status_mut() = StatusCode::FORBIDDEN;
        }
        r
    }

    /// Answers an STS call (see [`Sts::is_sts`]).
    pub(crate) async fn handle(&self, req: Request<hyper::body::Incoming>) -> Response<Body> {
        let origin = req
            .headers()
            .get(http::header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut f = form(req.uri().query().unwrap_or(""));
        if req.method() == http::Method::POST {
            // Enough for a token over AWS's limit to be answered as AWS does.
            match http_body_util::Limited::new(req.into_body(), 4 << 20)
                .collect()
                .await
            {
                Ok(b) => f.extend(form(&String::from_utf8_lossy(&b.to_bytes()))),
                Err(_) => {
                    let e = validation("The request body is too large.");
                    return self.error(e, origin.as_deref());
                }
            }
        }
        let mut r = match self.assume(&f).await {
            Ok(xml) => xml_response(StatusCode::OK, xml),
            Err(e) => return self.error(e, origin.as_deref()),
        };
        self.cors(origin.as_deref(), &mut r);
        r
    }

    fn error(&self, StsErr(status, code, msg): StsErr, origin: Option<&str>) -> Response<Body> {
        let request_id = crate::store::random_id().unwrap_or_default();
        let kind = if status.is_server_error() {
            "Receiver"
        } else {
            "Sender"
        };
        let mut r = xml_response(
            status,
            format!(
                "<ErrorResponse xmlns=\"{STS_NS}\">\n  <Error>\n    <Type>{kind}</Type>\n    <Code>{code}</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>{request_id}</RequestId>\n</ErrorResponse>\n",
                xml_escape(&msg)
            ),
        );
        self.cors(origin, &mut r);
        r
    }
}
