//! One type per S3 operation: `request` builds it unsigned, `parse` reads the answer.

use serde::{Deserialize, Serialize};

use super::endpoint::Endpoint;
use super::error::{S3Error, Target};
use crate::http::{Body, Method, Request, Response};
use crate::text::{Piece, Quoted};
use crate::timestamp::Timestamp;
use crate::{Error, cat, xml};

/// Header options for a new object, shared by [`PutObject`] and [`CreateMultipartUpload`].
///
/// Plain strings on purpose: `crate::object` validates ACLs, storage classes and
/// metadata before they get here. Every field is optional and empty by default.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PutOptions {
    pub content_type: Option<String>,
    pub content_disposition: Option<String>,
    pub cache_control: Option<String>,
    /// `x-amz-acl`, e.g. `private`.
    pub acl: Option<String>,
    /// `x-amz-storage-class`, e.g. `STANDARD_IA`.
    pub storage_class: Option<String>,
    /// User metadata; each name becomes `x-amz-meta-{name}` (lowercased). Values must
    /// already be header-safe.
    pub metadata: Vec<(String, String)>,
    /// `x-amz-server-side-encryption`: `AES256` or `aws:kms`.
    pub server_side_encryption: Option<String>,
    /// `x-amz-server-side-encryption-aws-kms-key-id`.
    pub sse_kms_key_id: Option<String>,
    /// `CRC32C` or `CRC64NVME`: `x-amz-checksum-algorithm` on CreateMultipartUpload,
    /// `x-amz-sdk-checksum-algorithm` on PutObject.
    pub checksum_algorithm: Option<String>,
    /// `x-amz-checksum-type` on CreateMultipartUpload: `FULL_OBJECT` or `COMPOSITE`.
    pub checksum_type: Option<String>,
}

impl PutOptions {
    fn apply(&self, req: &mut Request, checksum_header: &str) {
        let mut set = |name: &str, value: &Option<String>| {
            if let Some(v) = value {
                req.headers.push((name.to_owned(), v.clone()));
            }
        };
        set("content-type", &self.content_type);
        set("content-disposition", &self.content_disposition);
        set("cache-control", &self.cache_control);
        set("x-amz-acl", &self.acl);
        set("x-amz-storage-class", &self.storage_class);
        set("x-amz-server-side-encryption", &self.server_side_encryption);
        set(
            "x-amz-server-side-encryption-aws-kms-key-id",
            &self.sse_kms_key_id,
        );
        set(checksum_header, &self.checksum_algorithm);
        if checksum_header == "x-amz-checksum-algorithm" {
            set("x-amz-checksum-type", &self.checksum_type);
        }
        for (name, value) in &self.metadata {
            req.headers.push((
                cat!("x-amz-meta-{}", name.to_ascii_lowercase()),
                value.clone(),
            ));
        }
    }
}

/// Base64 checksums of a body, a part or a whole object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct Checksums {
    pub crc32c: Option<String>,
    pub crc64nvme: Option<String>,
}

impl Checksums {
    fn to_headers(&self, req: &mut Request) {
        for (name, value) in [
            ("x-amz-checksum-crc32c", &self.crc32c),
            ("x-amz-checksum-crc64nvme", &self.crc64nvme),
        ] {
            if let Some(v) = value {
                req.headers.push((name.to_owned(), v.clone()));
            }
        }
    }

    fn from_headers(r: &Response) -> Self {
        Checksums {
            crc32c: r.header("x-amz-checksum-crc32c").map(str::to_owned),
            crc64nvme: r.header("x-amz-checksum-crc64nvme").map(str::to_owned),
        }
    }

    fn from_xml(e: &xml::Element) -> Self {
        Checksums {
            crc32c: e.string("ChecksumCRC32C"),
            crc64nvme: e.string("ChecksumCRC64NVME"),
        }
    }
}

/// Fails with the S3 error when `response` is not a 2xx.
fn check(response: &Response, target: Target<'_>) -> Result<(), Error> {
    if (200..300).contains(&response.status) {
        Ok(())
    } else {
        Err(S3Error::from_response(response, target).into())
    }
}

/// The XML body of a 2xx answer whose root must be `root`; an `<Error>` root (a
/// 200 OK that failed midway) is the S3 error it holds.
fn xml_body(
    response: &Response,
    target: Target<'_>,
    root: &str,
    what: &'static str,
) -> Result<xml::Element, Error> {
    check(response, target)?;
    let doc = xml::parse(&response.body, what)?;
    if doc.name == "Error" {
        return Err(S3Error::from_xml(&doc, response, target).into());
    }
    // moto answers ListParts with <ListPartsResponse>: accept the documented name or the
    // same stem with `Response`, as the AWS SDKs (which ignore the root name) do.
    let stem = root.strip_suffix("Result").unwrap_or(root);
    if doc.name != root && doc.name.strip_suffix("Response") != Some(stem) {
        return Err(Error::InvalidResponse {
            what,
            detail: cat!("the root element is <{}>, not <{}>", doc.name, root),
        });
    }
    Ok(doc)
}

fn etag(response: &Response, what: &'static str) -> Result<String, Error> {
    response
        .header("etag")
        .map(str::to_owned)
        .ok_or(Error::InvalidResponse {
            what,
            detail: "no ETag header; the bucket's CORS configuration must expose ETag".into(),
        })
}

fn time(e: &xml::Element, name: &str, what: &'static str) -> Result<Option<Timestamp>, Error> {
    e.text(name)
        .map(|t| Timestamp::parse_rfc3339(t, what))
        .transpose()
}

fn push_opt(query: &mut Vec<(String, String)>, name: &str, value: Option<impl Piece>) {
    if let Some(v) = value {
        query.push((name.to_owned(), cat!("{}", v)));
    }
}

/// What S3 says about a stored object or part after a PUT.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PutObjectOutput {
    pub etag: String,
    pub checksums: Checksums,
    pub version_id: Option<String>,
}

/// [`UploadPart`]'s answer has the same shape as [`PutObject`]'s.
pub type UploadPartOutput = PutObjectOutput;

impl PutObjectOutput {
    fn read(response: &Response, what: &'static str) -> Result<Self, Error> {
        Ok(PutObjectOutput {
            etag: etag(response, what)?,
            checksums: Checksums::from_headers(response),
            version_id: response.header("x-amz-version-id").map(str::to_owned),
        })
    }
}

/// [PutObject](https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html):
/// one request with the whole file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PutObject {
    pub bucket: String,
    pub key: String,
    /// Bytes of the file; the driver supplies them.
    pub len: u64,
    pub options: PutOptions,
    /// Base64 MD5 of the body, `content-md5`.
    pub content_md5: Option<String>,
    pub checksums: Checksums,
}

impl PutObject {
    fn target(&self) -> Target<'_> {
        Target {
            operation: "PutObject",
            bucket: &self.bucket,
            key: Some(&self.key),
            upload_id: None,
        }
    }

    /// The unsigned request.
    pub fn request(&self, endpoint: &Endpoint) -> Request {
        let mut req = endpoint.request(Method::Put, &self.bucket, Some(&self.key));
        self.options.apply(&mut req, "x-amz-sdk-checksum-algorithm");
        if let Some(md5) = &self.content_md5 {
            req.set_header("content-md5", md5.clone());
        }
        self.checksums.to_headers(&mut req);
        req.body = Body::External { len: self.len };
        req
    }

    /// Reads the answer.
    ///
    /// # Errors
    /// [`Error::S3`] for an error answer, [`Error::InvalidResponse`] without an `ETag`.
    pub fn parse(&self, response: &Response) -> Result<PutObjectOutput, Error> {
        check(response, self.target())?;
        PutObjectOutput::read(response, "PutObject response")
    }
}

/// [CreateMultipartUpload](https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CreateMultipartUpload {
    pub bucket: String,
    pub key: String,
    pub options: PutOptions,
}

/// The new multipart upload.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CreateMultipartUploadOutput {
    pub bucket: String,
    pub key: String,
    pub upload_id: String,
}

impl CreateMultipartUpload {
    /// The unsigned request: `POST /key?uploads`.
    pub fn request(&self, endpoint: &Endpoint) -> Request {
        let mut req = endpoint.request(Method::Post, &self.bucket, Some(&self.key));
        req.query.push(("uploads".into(), String::new()));
        self.options.apply(&mut req, "x-amz-checksum-algorithm");
        req
    }

    /// Reads the `<InitiateMultipartUploadResult>`.
    ///
    /// # Errors
    /// [`Error::S3`] for an error answer, [`Error::InvalidResponse`] without an `UploadId`.
    pub fn parse(&self, response: &Response) -> Result<CreateMultipartUploadOutput, Error> {
        const WHAT: &str = "CreateMultipartUpload response";
        let target = Target {
            operation: "CreateMultipartUpload",
            bucket: &self.bucket,
            key: Some(&self.key),
            upload_id: None,
        };
        let doc = xml_body(response, target, "InitiateMultipartUploadResult", WHAT)?;
        Ok(CreateMultipartUploadOutput {
            bucket: doc.string("Bucket").unwrap_or_else(|| self.bucket.clone()),
            key: doc.string("Key").unwrap_or_else(|| self.key.clone()),
            upload_id: doc.required("UploadId", WHAT)?,
        })
    }
}

/// [UploadPart](https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPart.html).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UploadPart {
    pub bucket: String,
    pub key: String,
    pub upload_id: String,
    /// 1 to 10,000.
    pub part_number: u32,
    /// Bytes of the part; the driver supplies them.
    pub len: u64,
    pub content_md5: Option<String>,
    pub checksums: Checksums,
}

impl UploadPart {
    /// The unsigned request: `PUT /key?partNumber=N&uploadId=ID`.
    pub fn request(&self, endpoint: &Endpoint) -> Request {
        let mut req = endpoint.request(Method::Put, &self.bucket, Some(&self.key));
        req.query
            .push(("partNumber".into(), cat!("{}", self.part_number)));
        req.query.push(("uploadId".into(), self.upload_id.clone()));
        if let Some(md5) = &self.content_md5 {
            req.set_header("content-md5", md5.clone());
        }
        self.checksums.to_headers(&mut req);
        req.body = Body::External { len: self.len };
        req
    }

    /// Reads the answer: the part's `ETag` and checksums.
    ///
    /// # Errors
    /// [`Error::S3`] for an error answer, [`Error::InvalidResponse`] without an `ETag`.
    pub fn parse(&self, response: &Response) -> Result<UploadPartOutput, Error> {
        let target = Target {
            operation: "UploadPart",
            bucket: &self.bucket,
            key: Some(&self.key),
            upload_id: Some(&self.upload_id),
        };
        check(response, target)?;
        PutObjectOutput::read(response, "UploadPart response")
    }
}

/// A part as CompleteMultipartUpload names it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CompletedPart {
    pub part_number: u32,
    /// As UploadPart returned it, quotes included.
    pub etag: String,
    #[serde(default)]
    pub checksums: Checksums,
}

/// [CompleteMultipartUpload](https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html).
///
/// S3 may answer 200 OK and still fail; [`CompleteMultipartUpload::parse`] reads the
/// body and returns that failure as [`Error::S3`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompleteMultipartUpload {
    pub bucket: String,
    pub key: String,
    pub upload_id: String,
    /// In ascending part-number order.
    pub parts: Vec<CompletedPart>,
    /// The whole object's CRC64NVME; sent with `x-amz-checksum-type: FULL_OBJECT`.
    pub full_object_crc64nvme: Option<String>,
}

/// The assembled object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompleteMultipartUploadOutput {
    pub location: Option<String>,
    pub bucket: String,
    pub key: String,
    pub etag: String,
    pub checksums: Checksums,
    /// `FULL_OBJECT` or `COMPOSITE`.
    pub checksum_type: Option<String>,
    pub version_id: Option<String>,
}

impl CompleteMultipartUpload {
    fn target(&self) -> Target<'_> {
        Target {
            operation: "CompleteMultipartUpload",
            bucket: &self.bucket,
            key: Some(&self.key),
            upload_id: Some(&self.upload_id),
        }
    }

    /// The XML body listing the parts.
    pub fn body(&self) -> String {
        let mut xml = String::from(
            "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">",
        );
        for p in &self.parts {
            xml.push_str(&cat!(
                "<Part><PartNumber>{}</PartNumber><ETag>{}</ETag>",
                p.part_number,
                xml::escape(&p.etag)
            ));
            if let Some(c) = &p.checksums.crc32c {
                xml.push_str(&cat!("<ChecksumCRC32C>{}</ChecksumCRC32C>", xml::escape(c)));
            }
            if let Some(c) = &p.checksums.crc64nvme {
                xml.push_str(&cat!(
                    "<ChecksumCRC64NVME>{}</ChecksumCRC64NVME>",
                    xml::escape(c)
                ));
            }
            xml.push_str("</Part>");
        }
        xml.push_str("</CompleteMultipartUpload>");
        xml
    }

    /// The unsigned request: `POST /key?uploadId=ID` with the part list.
    pub fn request(&self, endpoint: &Endpoint) -> Request {
        let mut req = endpoint.request(Method::Post, &self.bucket, Some(&self.key));
        req.query.push(("uploadId".into(), self.upload_id.clone()));
        req.set_header("content-type", "application/xml");
        if let Some(crc) = &self.full_object_crc64nvme {
            req.set_header("x-amz-checksum-type", "FULL_OBJECT");
            req.set_header("x-amz-checksum-crc64nvme", crc.clone());
        }
        req.body = Body::Bytes(self.body().into_bytes());
        req
    }

    /// Reads the `<CompleteMultipartUploadResult>`.
    ///
    /// # Errors
    /// [`Error::S3`] for an error answer, including a 200 OK whose body is `<Error>`;
    /// [`Error::InvalidResponse`] for a body that is neither.
    pub fn parse(&self, response: &Response) -> Result<CompleteMultipartUploadOutput, Error> {
        const WHAT: &str = "CompleteMultipartUpload response";
        let doc = xml_body(
            response,
            self.target(),
            "CompleteMultipartUploadResult",
            WHAT,
        )?;
        Ok(CompleteMultipartUploadOutput {
            location: doc.string("Location"),
            bucket: doc.string("Bucket").unwrap_or_else(|| self.bucket.clone()),
            key: doc.string("Key").unwrap_or_else(|| self.key.clone()),
            etag: doc.required("ETag", WHAT)?,
            checksums: Checksums::from_xml(&doc),
            checksum_type: doc.string("ChecksumType"),
            version_id: response.header("x-amz-version-id").map(str::to_owned),
        })
    }
}

/// [AbortMultipartUpload](https://docs.aws.amazon.com/AmazonS3/latest/API/API_AbortMultipartUpload.html).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AbortMultipartUpload {
    pub bucket: String,
    pub key: String,
    pub upload_id: String,
}

impl AbortMultipartUpload {
    /// The unsigned request: `DELETE /key?uploadId=ID`.
    pub fn request(&self, endpoint: &Endpoint) -> Request {
        let mut req = endpoint.request(Method::Delete, &self.bucket, Some(&self.key));
        req.query.push(("uploadId".into(), self.upload_id.clone()));
        req
    }

    /// Checks the answer (204 No Content).
    ///
    /// # Errors
    /// [`Error::S3`] for an error answer; `NoSuchUpload` means it is already gone.
    pub fn parse(&self, response: &Response) -> Result<(), Error> {
        check(
            response,
            Target {
                operation: "AbortMultipartUpload",
                bucket: &self.bucket,
                key: Some(&self.key),
                upload_id: Some(&self.upload_id),
            },
        )
    }
}

/// [ListParts](https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListParts.html):
/// one page of the parts S3 holds for an upload; see [`ListParts::next_page`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListParts {
    pub bucket: String,
    pub key: String,
    pub upload_id: String,
    /// Default (`None`) 1000, the most S3 returns.
    pub max_parts: Option<u32>,
    /// List parts after this number.
    pub part_number_marker: Option<u32>,
}

/// A stored part.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Part {
    pub part_number: u32,
    pub etag: String,
    pub size: u64,
    pub last_modified: Option<Timestamp>,
    pub checksums: Checksums,
}

/// One page of parts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListPartsOutput {
    pub parts: Vec<Part>,
    pub is_truncated: bool,
    pub next_part_number_marker: Option<u32>,
    pub checksum_algorithm: Option<String>,
    pub checksum_type: Option<String>,
}

impl ListParts {
    /// The unsigned request: `GET /key?uploadId=ID&max-parts=N[&part-number-marker=M]`.
    pub fn request(&self, endpoint: &Endpoint) -> Request {
        let mut req = endpoint.request(Method::Get, &self.bucket, Some(&self.key));
        req.query.push(("uploadId".into(), self.upload_id.clone()));
        req.query.push((
            "max-parts".into(),
            cat!("{}", self.max_parts.unwrap_or(1000)),
        ));
        push_opt(
            &mut req.query,
            "part-number-marker",
            self.part_number_marker,
        );
        req
    }

    /// Reads the `<ListPartsResult>`.
    ///
    /// # Errors
    /// [`Error::S3`] for an error answer (`NoSuchUpload`…), [`Error::InvalidResponse`]
    /// for a part without a number or ETag.
    pub fn parse(&self, response: &Response) -> Result<ListPartsOutput, Error> {
        const WHAT: &str = "ListParts response";
        let target = Target {
            operation: "ListParts",
            bucket: &self.bucket,
            key: Some(&self.key),
            upload_id: Some(&self.upload_id),
        };
        let doc = xml_body(response, target, "ListPartsResult", WHAT)?;
        // A loop, not `collect::<Result<…>>`, whose adapters are code of their own (wasm size).
        let mut parts = Vec::new();
        for p in doc.all("Part") {
            parts.push(Part {
                part_number: p.num("PartNumber", WHAT)?.ok_or(Error::InvalidResponse {
                    what: WHAT,
                    detail: "a <Part> has no <PartNumber>".into(),
                })?,
                etag: p.required("ETag", WHAT)?,
                size: p.num("Size", WHAT)?.unwrap_or(0),
                last_modified: time(p, "LastModified", WHAT)?,
                checksums: Checksums::from_xml(p),
            });
        }
        Ok(ListPartsOutput {
            parts,
            is_truncated: doc.flag("IsTruncated"),
            next_part_number_marker: doc.num("NextPartNumberMarker", WHAT)?,
            checksum_algorithm: doc.string("ChecksumAlgorithm"),
            checksum_type: doc.string("ChecksumType"),
        })
    }

    /// The request for the page after `page`, or `None` when `page` was the last.
    pub fn next_page(&self, page: &ListPartsOutput) -> Option<ListParts> {
        let marker = page
            .next_part_number_marker
            .or(page.parts.last().map(|p| p.part_number))?;
        (page.is_truncated && Some(marker) != self.part_number_marker).then(|| ListParts {
            part_number_marker: Some(marker),
            ..self.clone()
        })
    }
}

/// [ListMultipartUploads](https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListMultipartUploads.html):
/// unfinished uploads in a bucket, to resume or clean up.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListMultipartUploads {
    pub bucket: String,
    pub prefix: Option<String>,
    pub key_marker: Option<String>,
    pub upload_id_marker: Option<String>,
    pub max_uploads: Option<u32>,
}

/// An unfinished multipart upload.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MultipartUpload {
    pub key: String,
    pub upload_id: String,
    pub initiated: Option<Timestamp>,
    pub storage_class: Option<String>,
}

/// One page of uploads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListMultipartUploadsOutput {
    pub uploads: Vec<MultipartUpload>,
    pub common_prefixes: Vec<String>,
    pub is_truncated: bool,
    pub next_key_marker: Option<String>,
    pub next_upload_id_marker: Option<String>,
}

impl ListMultipartUploads {
    /// The unsigned request: `GET /?uploads&prefix=…`.
    pub fn request(&self, endpoint: &Endpoint) -> Request {
        let mut req = endpoint.request(Method::Get, &self.bucket, None);
        req.query.push(("uploads".into(), String::new()));
        push_opt(&mut req.query, "prefix", self.prefix.as_ref());
        push_opt(&mut req.query, "key-marker", self.key_marker.as_ref());
        push_opt(
            &mut req.query,
            "upload-id-marker",
            self.upload_id_marker.as_ref(),
        );
        push_opt(&mut req.query, "max-uploads", self.max_uploads);
        req
    }

    /// Reads the `<ListMultipartUploadsResult>`.
    ///
    /// # Errors
    /// [`Error::S3`] for an error answer, [`Error::InvalidResponse`] for an upload
    /// without key or id.
    pub fn parse(&self, response: &Response) -> Result<ListMultipartUploadsOutput, Error> {
        const WHAT: &str = "ListMultipartUploads response";
        let target = Target {
            operation: "ListMultipartUploads",
            bucket: &self.bucket,
            key: None,
            upload_id: None,
        };
        let doc = xml_body(response, target, "ListMultipartUploadsResult", WHAT)?;
        let mut uploads = Vec::new();
        for u in doc.all("Upload") {
            uploads.push(MultipartUpload {
                key: u.required("Key", WHAT)?,
                upload_id: u.required("UploadId", WHAT)?,
                initiated: time(u, "Initiated", WHAT)?,
                storage_class: u.string("StorageClass"),
            });
        }
        Ok(ListMultipartUploadsOutput {
            uploads,
            common_prefixes: prefixes(&doc),
            is_truncated: doc.flag("IsTruncated"),
            next_key_marker: doc.string("NextKeyMarker").filter(|s| !s.is_empty()),
            next_upload_id_marker: doc.string("NextUploadIdMarker").filter(|s| !s.is_empty()),
        })
    }
}

fn prefixes(doc: &xml::Element) -> Vec<String> {
    let mut out = Vec::new();
    for c in doc.all("CommonPrefixes") {
        out.extend(c.string("Prefix"));
    }
    out
}

/// [ListObjectsV2](https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListObjectsV2 {
    pub bucket: String,
    pub prefix: Option<String>,
    pub delimiter: Option<String>,
    pub continuation_token: Option<String>,
    pub max_keys: Option<u32>,
}

/// A stored object as a listing shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Object {
    pub key: String,
    pub size: u64,
    pub etag: Option<String>,
    pub last_modified: Option<Timestamp>,
    pub storage_class: Option<String>,
}

/// One page of objects.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListObjectsV2Output {
    pub contents: Vec<Object>,
    pub common_prefixes: Vec<String>,
    pub is_truncated: bool,
    pub next_continuation_token: Option<String>,
    pub key_count: Option<u64>,
}

impl ListObjectsV2 {
    /// The unsigned request: `GET /?list-type=2&…`.
    pub fn request(&self, endpoint: &Endpoint) -> Request {
        let mut req = endpoint.request(Method::Get, &self.bucket, None);
        req.query.push(("list-type".into(), "2".into()));
        push_opt(&mut req.query, "prefix", self.prefix.as_ref());
        push_opt(&mut req.query, "delimiter", self.delimiter.as_ref());
        push_opt(
            &mut req.query,
            "continuation-token",
            self.continuation_token.as_ref(),
        );
        push_opt(&mut req.query, "max-keys", self.max_keys);
        req
    }

    /// Only the error check of [`parse`](Self::parse): for a driver that reads the
    /// listing itself (the browser package, with the browser's own XML parser).
    ///
    /// # Errors
    /// [`Error::S3`] for an error answer.
    pub fn check(&self, response: &Response) -> Result<(), Error> {
        check(
            response,
            Target {
                operation: "ListObjectsV2",
                bucket: &self.bucket,
                key: None,
                upload_id: None,
            },
        )
    }

    /// Reads the `<ListBucketResult>`.
    ///
    /// # Errors
    /// [`Error::S3`] for an error answer, [`Error::InvalidResponse`] for an entry
    /// without a key or with a bad size or time.
    pub fn parse(&self, response: &Response) -> Result<ListObjectsV2Output, Error> {
        const WHAT: &str = "ListObjectsV2 response";
        let target = Target {
            operation: "ListObjectsV2",
            bucket: &self.bucket,
            key: None,
            upload_id: None,
        };
        let doc = xml_body(response, target, "ListBucketResult", WHAT)?;
        let mut contents = Vec::new();
        for o in doc.all("Contents") {
            contents.push(Object {
                key: o.required("Key", WHAT)?,
                size: o.num("Size", WHAT)?.unwrap_or(0),
                etag: o.string("ETag"),
                last_modified: time(o, "LastModified", WHAT)?,
                storage_class: o.string("StorageClass"),
            });
        }
        Ok(ListObjectsV2Output {
            contents,
            common_prefixes: prefixes(&doc),
            is_truncated: doc.flag("IsTruncated"),
            next_continuation_token: doc.string("NextContinuationToken"),
            key_count: doc.num("KeyCount", WHAT)?,
        })
    }
}

/// [HeadObject](https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeadObject {
    pub bucket: String,
    pub key: String,
}

/// An object's headers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeadObjectOutput {
    pub content_length: Option<u64>,
    pub content_type: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<Timestamp>,
    pub version_id: Option<String>,
    pub storage_class: Option<String>,
    pub checksums: Checksums,
    /// `x-amz-meta-*` headers, names without the prefix.
    pub metadata: Vec<(String, String)>,
}

impl HeadObject {
    /// The unsigned request.
    pub fn request(&self, endpoint: &Endpoint) -> Request {
        endpoint.request(Method::Head, &self.bucket, Some(&self.key))
    }

    /// Reads the headers. A 404 is [`Error::S3`] with kind `NotFound`.
    ///
    /// # Errors
    /// [`Error::S3`] for an error status (HEAD answers carry no body, so the status
    /// alone decides), [`Error::InvalidResponse`] for a bad length or date.
    pub fn parse(&self, response: &Response) -> Result<HeadObjectOutput, Error> {
        const WHAT: &str = "HeadObject response";
        check(
            response,
            Target {
                operation: "HeadObject",
                bucket: &self.bucket,
                key: Some(&self.key),
                upload_id: None,
            },
        )?;
        let header = |n| response.header(n).map(str::to_owned);
        let content_length = match response.header("content-length") {
            Some(v) => Some(v.trim().parse().map_err(|_| Error::InvalidResponse {
                what: WHAT,
                detail: cat!("content-length {}", Quoted(v)),
            })?),
            None => None,
        };
        Ok(HeadObjectOutput {
            content_length,
            content_type: header("content-type"),
            etag: header("etag"),
            last_modified: response
                .header("last-modified")
                .map(Timestamp::parse_http_date)
                .transpose()?,
            version_id: header("x-amz-version-id"),
            storage_class: header("x-amz-storage-class"),
            checksums: Checksums::from_headers(response),
            metadata: response
                .headers
                .iter()
                .filter_map(|(n, v)| {
                    let name = n
                        .get(..11)
                        .filter(|p| p.eq_ignore_ascii_case("x-amz-meta-"))
                        .and(n.get(11..))?;
                    Some((name.to_ascii_lowercase(), v.clone()))
                })
                .collect(),
        })
    }
}

/// [DeleteObject](https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeleteObject {
    pub bucket: String,
    pub key: String,
}

impl DeleteObject {
    /// The unsigned request.
    pub fn request(&self, endpoint: &Endpoint) -> Request {
        endpoint.request(Method::Delete, &self.bucket, Some(&self.key))
    }

    /// Checks the answer (204; S3 also answers 204 for a key that did not exist).
    ///
    /// # Errors
    /// [`Error::S3`] for an error answer.
    pub fn parse(&self, response: &Response) -> Result<(), Error> {
        check(
            response,
            Target {
                operation: "DeleteObject",
                bucket: &self.bucket,
                key: Some(&self.key),
                upload_id: None,
            },
        )
    }
}
