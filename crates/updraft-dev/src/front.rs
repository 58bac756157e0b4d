//! The HTTP front of the S3 origin: bucket CORS (which s3s does not do) and the
//! `--verbose` request log, wrapped around s3s's service.
//!
//! ```text
//! request ─▶ Front ─┬─ OPTIONS ─▶ preflight against the bucket's CORS rules (200 / 403)
//!                   └─ other ───▶ s3s::S3Service ─▶ answer + CORS headers of the rule
//!                                                    matching Origin and method
//! ```

use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use s3s::service::S3Service;
use s3s::{Body, HttpError};

use crate::cors;
use crate::store::{CorsRule, Store, random_id};

/// The S3 origin's service.
#[derive(Clone, Debug)]
pub(crate) struct Front {
    pub(crate) s3: S3Service,
    pub(crate) store: Store,
    pub(crate) sts: crate::sts::Sts,
    pub(crate) verbose: bool,
    /// `--faults`: what this origin injects on purpose ([`crate::faults`]).
    pub(crate) faults: Option<std::sync::Arc<crate::faults::Faults>>,
}

/// Whether a request carries a session token where `expired-token` can see it: the
/// `x-amz-security-token` header or a presigned URL's query.
fn has_session_token(req: &Request<Incoming>) -> bool {
    req.headers().contains_key("x-amz-security-token")
        || req
            .uri()
            .query()
            .is_some_and(|q| q.contains("X-Amz-Security-Token="))
}

/// A bucket or key for the log: control characters escaped, so one request stays one
/// line.
fn clean(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let esc: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            esc
        })
        .collect()
}

/// Reads a request's body to its end (or its first error), discarding it.
async fn drain(body: &mut Incoming) {
    use http_body_util::BodyExt as _;
    while let Some(frame) = body.frame().await {
        if frame.is_err() {
            break;
        }
    }
}

/// The error that makes hyper close a connection without answering.
fn drop_connection(fault: crate::faults::Fault) -> HttpError {
    HttpError::new(Box::new(std::io::Error::other(format!(
        "fault {}: connection closed without an answer",
        fault.name()
    ))))
}

/// Bucket and key of a path-style request, percent-decoded (for rules and the log).
pub(crate) fn bucket_and_key(path: &str) -> (String, String) {
    let path = path.strip_prefix('/').unwrap_or(path);
    let (b, k) = path.split_once('/').unwrap_or((path, ""));
    (decoded(b), decoded(k))
}

fn decoded(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// The bucket of a virtual-hosted-style request, `BUCKET.localhost[:PORT]`: the one host
/// name every browser and most resolvers send to loopback (RFC 6761), so clients that
/// only address buckets by host name (Fine Uploader S3) reach the stack too.
pub(crate) fn virtual_bucket(host: &str) -> Option<&str> {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    name.strip_suffix(".localhost").filter(|b| !b.is_empty())
}

/// [`bucket_and_key`] of a request to `host`, virtual-hosted style or path style.
pub(crate) fn bucket_and_key_at(host: Option<&str>, path: &str) -> (String, String) {
    match host.and_then(virtual_bucket) {
        Some(b) => (
            b.to_owned(),
            decoded(path.strip_prefix('/').unwrap_or(path)),
        ),
        None => bucket_and_key(path),
    }
}

/// s3s's view of the same: `BUCKET.localhost[:PORT]` names the bucket, any other host
/// is the endpoint of path-style requests.
#[derive(Debug)]
pub(crate) struct DevHost;

impl s3s::host::S3Host for DevHost {
    fn parse_host_header<'a>(&'a self, host: &'a str) -> s3s::S3Result<s3s::host::VirtualHost<'a>> {
        Ok(match virtual_bucket(host) {
            Some(b) => s3s::host::VirtualHost::new(&host[b.len() + 1..]).with_bucket(b),
            None => s3s::host::VirtualHost::new(host),
        })
    }
}

fn content_length(h: &HeaderMap) -> u64 {
    h.get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn error_response(status: StatusCode, code: &str, message: &str, extra: &str) -> Response<Body> {
    let request_id = random_id().unwrap_or_default();
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{}</Message>{extra}<RequestId>{request_id}</RequestId><HostId>updraft-dev</HostId></Error>",
        xml_escape(message)
    );
    let mut r = Response::new(Body::from(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/xml"),
    );
    r
}

/// The largest frame of a POST form handed to s3s (see [`Front::post_form`]).
const FORM_FRAME: usize = 32 * 1024;

/// The fields of a `multipart/form-data` body that come before its `file` part.
pub(crate) fn form_fields(prefix: &[u8], boundary: &str) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(prefix);
    let delim = format!("--{boundary}");
    let mut out = Vec::new();
    for part in text.split(delim.as_str()).skip(1) {
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            break;
        };
        let Some(name) = head
            .split("name=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
        else {
            continue;
        };
        if name == "file" {
            break;
        }
        out.push((name.to_owned(), value.trim_end_matches("\r\n").to_owned()));
    }
    out
}

impl Front {
    /// A POST-form upload: reads the fields before the file and, when the form is signed
    /// with a temporary key, checks its session token and key ([`crate::sts::Sts::check_post`]).
    /// `Ok` is the request for s3s with its body intact; `Err` the error answer.
    async fn post_form(
        &self,
        req: Request<Incoming>,
        bucket: &str,
    ) -> Result<Request<Body>, Response<Body>> {
        use http_body_util::BodyExt as _;
        const MAX_PREFIX: usize = 1 << 20;
        const FILE: &[u8] = b"name=\"file\"";
        let boundary = req
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split("boundary=").nth(1))
            .map(|b| {
                b.split(';')
                    .next()
                    .unwrap_or(b)
                    .trim()
                    .trim_matches('"')
                    .to_owned()
            })
            .unwrap_or_default();
        let (mut parts, mut body) = req.into_parts();
        let mut prefix: Vec<u8> = Vec::new();
        let mut ended = false;
        while prefix.len() < MAX_PREFIX && !prefix.windows(FILE.len()).any(|w| w == FILE) {
            match body.frame().await {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        prefix.extend_from_slice(&data);
                    }
                }
                Some(Err(_)) => {
                    return Err(error_response(
                        StatusCode::BAD_REQUEST,
                        "IncompleteBody",
                        "You did not provide the number of bytes specified by the Content-Length HTTP header.",
                        "",
                    ));
                }
                None => {
                    ended = true;
                    break;
                }
            }
        }
        let fields = form_fields(&prefix, &boundary);
        let field = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let akid = field("x-amz-credential")
            .and_then(|c| c.split('/').next())
            .unwrap_or("");
        if akid.starts_with("ASIA") {
            match self.sts.check_post(
                akid,
                field("x-amz-security-token"),
                bucket,
                field("key").unwrap_or(""),
            ) {
                Ok(()) => {
                    parts
                        .extensions
                        .insert(crate::sts::PostChecked(akid.to_owned()));
                }
                Err((status, code, message)) => {
                    return Err(error_response(status, code, message, ""));
                }
            }
        }
        // S3 reads a form's canned ACL from the field `acl`; s3s only from `x-amz-acl`
        // (which S3's policy check would then refuse): hand it to the backend aside.
        if let Some(acl) = field("acl") {
            parts.extensions.insert(crate::s3::PostAcl(acl.to_owned()));
        }
        use futures_util::StreamExt as _;
        let head = futures_util::stream::once(async move {
            Ok::<_, hyper::Error>(http_body::Frame::data(Bytes::from(prefix)))
        });
        let frames = if ended {
            head.boxed()
        } else {
            head.chain(http_body_util::BodyStream::new(body)).boxed()
        };
        // s3s 0.14's form parser fails ("failed to read file stream") when a frame ends
        // in what could start the closing boundary and the next frame is larger than its
        // 64 KiB boundary buffer: hand it frames of at most 32 KiB.
        let small = frames.flat_map(|frame| {
            let pieces: Vec<Result<http_body::Frame<Bytes>, hyper::Error>> = match frame {
                Ok(f) => match f.into_data() {
                    Ok(mut data) => {
                        let mut out = Vec::new();
                        while data.len() > FORM_FRAME {
                            out.push(Ok(http_body::Frame::data(data.split_to(FORM_FRAME))));
                        }
                        out.push(Ok(http_body::Frame::data(data)));
                        out
                    }
                    Err(other) => vec![Ok(other)],
                },
                Err(e) => vec![Err(e)],
            };
            futures_util::stream::iter(pieces)
        });
        let body = Body::http_body_unsync(http_body_util::StreamBody::new(small));
        Ok(Request::from_parts(parts, body))
    }

    async fn rules(&self, bucket: &str) -> Option<Vec<CorsRule>> {
        if bucket.is_empty() {
            return None;
        }
        let store = self.store.clone();
        let b = bucket.to_owned();
        tokio::task::spawn_blocking(move || store.bucket(&b).ok().and_then(|m| m.cors))
            .await
            .ok()
            .flatten()
    }

    async fn preflight(&self, req: &Request<Incoming>, bucket: &str, key: &str) -> Response<Body> {
        let h = req.headers();
        let origin = h.get(http::header::ORIGIN).and_then(|v| v.to_str().ok());
        let method = h
            .get(http::header::ACCESS_CONTROL_REQUEST_METHOD)
            .and_then(|v| v.to_str().ok());
        let (Some(origin), Some(method)) = (origin, method) else {
            return error_response(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "Insufficient information. Origin request header needed.",
                "",
            );
        };
        let requested = cors::requested_headers(h);
        let resource = if key.is_empty() { "BUCKET" } else { "OBJECT" };
        let extra = format!(
            "<Method>{}</Method><ResourceType>{resource}</ResourceType>",
            xml_escape(method)
        );
        let Some(rules) = self.rules(bucket).await else {
            return error_response(
                StatusCode::FORBIDDEN,
                "AccessForbidden",
                "CORSResponse: CORS is not enabled for this bucket.",
                &extra,
            );
        };
        match cors::preflight(&rules, origin, method, &requested) {
            Some(rule) => {
                let mut r = Response::new(Body::empty());
                cors::apply(r.headers_mut(), rule, origin, Some(&requested));
                r
            }
            None => error_response(
                StatusCode::FORBIDDEN,
                "AccessForbidden",
                "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
                &extra,
            ),
        }
    }

    async fn handle(self, req: Request<Incoming>) -> Result<Response<Body>, HttpError> {
        let start = Instant::now();
        let request_id = random_id().unwrap_or_default();
        let resource = req.uri().path().to_owned();
        let method = req.method().clone();
        let host = req
            .headers()
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned);
        let (bucket, key) = bucket_and_key_at(host.as_deref(), req.uri().path());
        let bytes_in = content_length(req.headers());
        // `/` of the endpoint itself (not of a virtual-hosted bucket) is STS's and Cognito's.
        let resp = if method == Method::OPTIONS && resource == "/" && bucket.is_empty() {
            self.sts.preflight(&req)
        } else if crate::cognito::is_cognito(&req) {
            self.sts.cognito(req).await
        } else if crate::sts::Sts::is_sts(&req) {
            self.sts.handle(req).await
        } else if method == Method::OPTIONS {
            self.preflight(&req, &bucket, &key).await
        } else {
            let origin = req
                .headers()
                .get(http::header::ORIGIN)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let is_form = method == Method::POST
                && !bucket.is_empty()
                && key.is_empty()
                && req
                    .headers()
                    .get(http::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.starts_with("multipart/form-data"));
            use crate::faults::Fault;
            let fault = self
                .faults
                .as_ref()
                .and_then(|f| f.draw(has_session_token(&req)));
            if let Some(fault) = fault
                && self.verbose
            {
                // The query's names only (`?uploads`, `?partNumber&uploadId`): its values
                // may be a presigned URL's signature.
                let names: Vec<&str> = req
                    .uri()
                    .query()
                    .unwrap_or("")
                    .split('&')
                    .filter_map(|kv| kv.split('=').next())
                    .filter(|n| !n.is_empty() && !n.starts_with("X-Amz-"))
                    .collect();
                let query = if names.is_empty() {
                    String::new()
                } else {
                    format!("?{}", clean(&names.join("&")))
                };
                eprintln!(
                    "fault {}: {method} {}/{}{query}",
                    fault.name(),
                    clean(&bucket),
                    clean(&key)
                );
            }
            let answer = fault.and_then(Fault::error);
            let mut resp = if let Some((status, code, message)) = answer {
                // Read first: a browser still sending when the answer comes may see the
                // connection reset instead of the status.
                let mut body = req.into_body();
                drain(&mut body).await;
                error_response(status, code, message, "")
            } else if fault == Some(Fault::Stall) {
                tokio::time::sleep(crate::faults::STALL).await;
                return Err(drop_connection(Fault::Stall));
            } else if fault == Some(Fault::Reset) {
                // Part-way through the body: about half of it, at least one frame.
                use http_body_util::BodyExt as _;
                let mut body = req.into_body();
                let mut read = 0u64;
                while let Some(Ok(frame)) = body.frame().await {
                    read += frame.data_ref().map_or(0, |d| d.len() as u64);
                    if read.saturating_mul(2) >= bytes_in {
                        break;
                    }
                }
                return Err(drop_connection(Fault::Reset));
            } else if is_form {
                match self.post_form(req, &bucket).await {
                    Ok(req) => self.s3.call(req).await?,
                    Err(resp) => resp,
                }
            } else {
                hyper::service::Service::call(&self.s3, req).await?
            };
            if fault == Some(Fault::LoseAnswer) {
                // Carried out; its answer never arrives.
                drop(resp);
                return Err(drop_connection(Fault::LoseAnswer));
            }
            if let Some(origin) = origin
                && let Some(rules) = self.rules(&bucket).await
                && let Some(rule) = cors::actual(&rules, &origin, &method)
            {
                cors::apply(resp.headers_mut(), rule, &origin, None);
            }
            resp
        };
        let mut resp = complete_error(resp, &resource, &request_id).await;
        if let Ok(v) = http::HeaderValue::from_str(&request_id) {
            resp.headers_mut().insert("x-amz-request-id", v);
        }
        if self.verbose {
            // Never the query: presigned URLs carry their signature there.
            eprintln!(
                "{method} {}/{} {} in={bytes_in} out={} {}ms",
                clean(&bucket),
                clean(&key),
                resp.status().as_u16(),
                http_body::Body::size_hint(resp.body()).exact().unwrap_or(0),
                start.elapsed().as_millis()
            );
        }
        Ok(resp)
    }
}

/// Adds what AWS puts in every error body and s3s leaves out: `Resource`, `RequestId`,
/// `HostId`, and `ServerTime` for `RequestTimeTooSkewed`.
async fn complete_error(resp: Response<Body>, resource: &str, request_id: &str) -> Response<Body> {
    use http_body_util::BodyExt as _;
    let is_xml = resp
        .headers()
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/xml"));
    if resp.status().as_u16() < 400 || !is_xml {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let Ok(collected) = http_body_util::Limited::new(body, 64 * 1024)
        .collect()
        .await
    else {
        parts.status = StatusCode::INTERNAL_SERVER_ERROR;
        return Response::from_parts(parts, Body::empty());
    };
    let mut text = String::from_utf8_lossy(&collected.to_bytes()).into_owned();
    // s3s answers a failed POST policy condition with 400 InvalidPolicyDocument; S3 with
    // 403 AccessDenied "Invalid according to Policy: Policy Condition failed: ...".
    if text.contains("<Code>InvalidPolicyDocument</Code><Message>Policy condition") {
        text = text
            .replace(
                "<Code>InvalidPolicyDocument</Code>",
                "<Code>AccessDenied</Code>",
            )
            .replace(
                "<Message>Policy condition",
                "<Message>Invalid according to Policy: Policy condition",
            );
        parts.status = StatusCode::FORBIDDEN;
        // s3s's message quotes the expected and given values; for the session token
        // field those are secrets, so that message names the field only.
        if let (Some(start), Some(end)) = (text.find("<Message>"), text.find("</Message>"))
            && start < end
            && text[start..end].contains("x-amz-security-token")
        {
            text.replace_range(
                start..end + "</Message>".len(),
                "<Message>Invalid according to Policy: Policy Condition failed: [\"eq\", \"$x-amz-security-token\", ...]</Message>",
            );
        }
    }
    let mut extra = String::new();
    if !text.contains("<Resource>") {
        extra.push_str(&format!("<Resource>{}</Resource>", xml_escape(resource)));
    }
    if !text.contains("<RequestId>") {
        extra.push_str(&format!(
            "<RequestId>{request_id}</RequestId><HostId>updraft-dev</HostId>"
        ));
    }
    if text.contains("<Code>RequestTimeTooSkewed</Code>") && !text.contains("<ServerTime>") {
        let now = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        extra.push_str(&format!("<ServerTime>{now}</ServerTime><MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds>"));
    }
    let text = match text.rfind("</Error>") {
        Some(pos) => format!("{}{extra}{}", &text[..pos], &text[pos..]),
        None => text,
    };
    parts.headers.remove(http::header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(Bytes::from(text)))
}

impl hyper::service::Service<Request<Incoming>> for Front {
    type Response = Response<Body>;
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, HttpError>> + Send>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        Box::pin(self.clone().handle(req))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_hosts_name_their_bucket_and_others_are_path_style() {
        assert_eq!(virtual_bucket("uploads.localhost:4181"), Some("uploads"));
        assert_eq!(virtual_bucket("my.bucket.localhost"), Some("my.bucket"));
        assert_eq!(virtual_bucket("localhost:4181"), None);
        assert_eq!(virtual_bucket("127.0.0.1:4181"), None);
        assert_eq!(virtual_bucket(".localhost"), None);
        assert_eq!(
            bucket_and_key_at(Some("uploads.localhost:1"), "/a/b%20c"),
            ("uploads".into(), "a/b c".into())
        );
        assert_eq!(
            bucket_and_key_at(Some("127.0.0.1:1"), "/uploads/a"),
            ("uploads".into(), "a".into())
        );
    }
}
