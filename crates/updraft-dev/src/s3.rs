//! The [`s3s::S3`] implementation over [`Store`]: what each supported operation does.
//!
//! s3s parses the request, verifies its signature (header, presigned or POST policy)
//! and serialises the answer; this module only decides the answer. Operations not listed
//! answer `501 NotImplemented` (s3s's default).
//!
//! | operation | notes |
//! |---|---|
//! | [CreateBucket], [HeadBucket], [ListBuckets], [DeleteBucket], [GetBucketLocation] | every bucket belongs to the admin keys |
//! | [PutObject], [PostObject] | Content-MD5 and `x-amz-checksum-*` (header or aws-chunked trailer) verified; CRC64NVME kept when none is sent; `x-amz-acl`; `If-None-Match: *`, `If-Match` |
//! | [GetObject], [HeadObject] | ranges, `x-amz-checksum-mode`, `response-*` overrides, conditional headers; anonymous callers read `public-read` objects only |
//! | [PutObjectAcl], [GetObjectAcl] | canned ACLs only (`x-amz-acl`); grants are NotImplemented |
//! | [CopyObject] | `x-amz-metadata-directive`, `x-amz-copy-source-if-*`; the copy is a single-part object |
//! | [DeleteObject], [DeleteObjects] | |
//! | [ListObjectsV2], [ListObjects] | prefix, delimiter, continuation token / marker, start-after, `encoding-type=url` |
//! | [CreateMultipartUpload], [UploadPart], [ListParts], [CompleteMultipartUpload], [AbortMultipartUpload], [ListMultipartUploads] | ETag `md5-of-md5s-N`; COMPOSITE and FULL_OBJECT checksums; parts of at least 5 MiB but the last |
//! | [PutBucketCors], [GetBucketCors], [DeleteBucketCors] | evaluated by [`crate::cors`] |
//!
//! [CreateBucket]: https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html
//! [HeadBucket]: https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html
//! [ListBuckets]: https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html
//! [DeleteBucket]: https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucket.html
//! [GetBucketLocation]: https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLocation.html
//! [PutObject]: https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html
//! [PostObject]: https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html
//! [GetObject]: https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
//! [HeadObject]: https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html
//! [PutObjectAcl]: https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectAcl.html
//! [GetObjectAcl]: https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAcl.html
//! [CopyObject]: https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html
//! [DeleteObject]: https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html
//! [DeleteObjects]: https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html
//! [ListObjectsV2]: https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
//! [ListObjects]: https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjects.html
//! [CreateMultipartUpload]: https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html
//! [UploadPart]: https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPart.html
//! [ListParts]: https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListParts.html
//! [CompleteMultipartUpload]: https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html
//! [AbortMultipartUpload]: https://docs.aws.amazon.com/AmazonS3/latest/API/API_AbortMultipartUpload.html
//! [ListMultipartUploads]: https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListMultipartUploads.html
//! [PutBucketCors]: https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketCors.html
//! [GetBucketCors]: https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketCors.html
//! [DeleteBucketCors]: https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketCors.html

use std::collections::BTreeMap;
use std::io::SeekFrom;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use futures_util::StreamExt as _;
use s3s::checksum::ChecksumHasher;
use s3s::crypto::{Checksum as _, Crc32, Crc32c, Crc64Nvme, Md5, Sha1, Sha256};
use s3s::dto::{self, ETag, StreamingBlob, Timestamp};
use s3s::{S3, S3Error, S3ErrorCode, S3Request, S3Response, S3Result, s3_error};
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _, AsyncWriteExt as _};

use crate::store::{
    BucketMeta, Checksums, CorsRule, ObjectMeta, ObjectProps, PartMeta, Precondition, Segment,
    Store, StoreError, UploadMeta, hex, now_ms,
};

/// S3's smallest part, except for the last one.
const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
/// S3's largest single PUT and largest part.
const MAX_PUT_SIZE: i64 = 5 * 1024 * 1024 * 1024;
/// The canonical user id every object belongs to (the admin keys').
const OWNER_ID: &str = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a";
/// S3's most keys in one DeleteObjects.
const MAX_DELETE_KEYS: usize = 1000;

fn check_put_size(content_length: Option<i64>) -> S3Result<()> {
    if content_length.is_some_and(|n| n > MAX_PUT_SIZE) {
        return Err(s3_error!(
            EntityTooLarge,
            "Your proposed upload exceeds the maximum allowed object size."
        ));
    }
    Ok(())
}

/// The canned ACL of a POST form's `acl` field (S3's name), which s3s does not read:
/// the front service finds it among the form's fields.
#[derive(Clone, Debug)]
pub(crate) struct PostAcl(pub(crate) String);

/// The backend `updraft dev` serves.
#[derive(Clone, Debug)]
pub(crate) struct Backend {
    store: Store,
}

impl Backend {
    pub(crate) fn new(store: Store) -> Backend {
        Backend { store }
    }
}

fn internal(e: impl std::fmt::Display) -> S3Error {
    S3Error::with_message(S3ErrorCode::InternalError, e.to_string())
}

impl From<StoreError> for S3Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NoSuchBucket => {
                s3_error!(NoSuchBucket, "The specified bucket does not exist")
            }
            StoreError::NoSuchKey => s3_error!(NoSuchKey, "The specified key does not exist."),
            StoreError::NoSuchUpload => s3_error!(
                NoSuchUpload,
                "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
            ),
            StoreError::BucketAlreadyOwnedByYou => s3_error!(
                BucketAlreadyOwnedByYou,
                "Your previous request to create the named bucket succeeded and you already own it."
            ),
            StoreError::PreconditionFailed => s3_error!(
                PreconditionFailed,
                "At least one of the pre-conditions you specified did not hold"
            ),
            StoreError::BucketNotEmpty => {
                s3_error!(
                    BucketNotEmpty,
                    "The bucket you tried to delete is not empty"
                )
            }
            StoreError::Internal(m) => internal(m),
        }
    }
}

/// Runs blocking store work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> S3Result<T> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(S3Error::from),
        Err(e) => Err(internal(e)),
    }
}

fn timestamp(ms: u64) -> Timestamp {
    Timestamp::from(UNIX_EPOCH + Duration::from_millis(ms))
}

fn etag(s: &str) -> ETag {
    ETag::Strong(s.to_owned())
}

/// A checksum algorithm of S3: the `x-amz-checksum-algorithm` (or
/// `x-amz-sdk-checksum-algorithm`) of a request, an `x-amz-checksum-*` header or trailer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ChecksumAlgorithm {
    Crc32,
    Crc32c,
    Crc64Nvme,
    Sha1,
    Sha256,
}

impl ChecksumAlgorithm {
    /// All of them, in the order checksums are verified and listed.
    const ALL: [ChecksumAlgorithm; 5] = [
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32c,
        ChecksumAlgorithm::Crc64Nvme,
        ChecksumAlgorithm::Sha1,
        ChecksumAlgorithm::Sha256,
    ];

    /// The algorithm S3 names `name`, in any ASCII case (`CRC32`, `crc32`); `None` for
    /// a name outside S3's five, which each caller treats as it always has.
    fn parse(name: &str) -> Option<ChecksumAlgorithm> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(name))
    }

    /// S3's name: `CRC32`, `CRC32C`, `CRC64NVME`, `SHA1`, `SHA256`.
    fn as_str(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "CRC32",
            ChecksumAlgorithm::Crc32c => "CRC32C",
            ChecksumAlgorithm::Crc64Nvme => "CRC64NVME",
            ChecksumAlgorithm::Sha1 => "SHA1",
            ChecksumAlgorithm::Sha256 => "SHA256",
        }
    }

    /// The header (or trailer) that carries this checksum.
    fn header(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "x-amz-checksum-crc32",
            ChecksumAlgorithm::Crc32c => "x-amz-checksum-crc32c",
            ChecksumAlgorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
            ChecksumAlgorithm::Sha1 => "x-amz-checksum-sha1",
            ChecksumAlgorithm::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// Whether a multipart upload's checksum type `ty` may use this algorithm:
    /// FULL_OBJECT only the CRCs, COMPOSITE all but CRC64NVME.
    fn allows_type(self, ty: &str) -> bool {
        match ty {
            "FULL_OBJECT" => self.crc().is_some(),
            "COMPOSITE" => self != ChecksumAlgorithm::Crc64Nvme,
            _ => true,
        }
    }

    /// The checksum type of a multipart upload that names none: FULL_OBJECT for
    /// CRC64NVME (its only type), COMPOSITE for the others.
    fn default_type(self) -> &'static str {
        if self == ChecksumAlgorithm::Crc64Nvme {
            "FULL_OBJECT"
        } else {
            "COMPOSITE"
        }
    }

    /// The CRC, for the algorithms a full-object checksum is combined from its parts'.
    fn crc(self) -> Option<crc_fast::CrcAlgorithm> {
        match self {
            ChecksumAlgorithm::Crc32 => Some(crc_fast::CrcAlgorithm::Crc32IsoHdlc),
            ChecksumAlgorithm::Crc32c => Some(crc_fast::CrcAlgorithm::Crc32Iscsi),
            ChecksumAlgorithm::Crc64Nvme => Some(crc_fast::CrcAlgorithm::Crc64Nvme),
            ChecksumAlgorithm::Sha1 | ChecksumAlgorithm::Sha256 => None,
        }
    }

    /// This algorithm's checksum in `c`.
    fn of(self, c: &Checksums) -> Option<&String> {
        match self {
            ChecksumAlgorithm::Crc32 => c.crc32.as_ref(),
            ChecksumAlgorithm::Crc32c => c.crc32c.as_ref(),
            ChecksumAlgorithm::Crc64Nvme => c.crc64nvme.as_ref(),
            ChecksumAlgorithm::Sha1 => c.sha1.as_ref(),
            ChecksumAlgorithm::Sha256 => c.sha256.as_ref(),
        }
    }

    /// Where `c` keeps this algorithm's checksum.
    fn slot(self, c: &mut Checksums) -> &mut Option<String> {
        match self {
            ChecksumAlgorithm::Crc32 => &mut c.crc32,
            ChecksumAlgorithm::Crc32c => &mut c.crc32c,
            ChecksumAlgorithm::Crc64Nvme => &mut c.crc64nvme,
            ChecksumAlgorithm::Sha1 => &mut c.sha1,
            ChecksumAlgorithm::Sha256 => &mut c.sha256,
        }
    }

    /// Makes `h` compute this checksum too.
    fn start(self, h: &mut ChecksumHasher) {
        match self {
            ChecksumAlgorithm::Crc32 => h.crc32 = Some(Crc32::new()),
            ChecksumAlgorithm::Crc32c => h.crc32c = Some(Crc32c::new()),
            ChecksumAlgorithm::Crc64Nvme => h.crc64nvme = Some(Crc64Nvme::new()),
            ChecksumAlgorithm::Sha1 => h.sha1 = Some(Sha1::new()),
            ChecksumAlgorithm::Sha256 => h.sha256 = Some(Sha256::new()),
        }
    }

    /// The raw checksum of `data`.
    fn checksum(self, data: &[u8]) -> Vec<u8> {
        match self {
            ChecksumAlgorithm::Crc32 => Crc32::checksum(data).to_vec(),
            ChecksumAlgorithm::Crc32c => Crc32c::checksum(data).to_vec(),
            ChecksumAlgorithm::Crc64Nvme => Crc64Nvme::checksum(data).as_ref().to_vec(),
            ChecksumAlgorithm::Sha1 => Sha1::checksum(data).as_ref().to_vec(),
            ChecksumAlgorithm::Sha256 => Sha256::checksum(data).as_ref().to_vec(),
        }
    }
}

/// A hasher of the algorithms `wanted` picks; of CRC64NVME when it picks none and
/// `default_crc64` (S3 stores a CRC64NVME for every object uploaded without a checksum).
fn hasher(wanted: impl Fn(ChecksumAlgorithm) -> bool, default_crc64: bool) -> ChecksumHasher {
    let mut h = ChecksumHasher::default();
    let mut none = true;
    for a in ChecksumAlgorithm::ALL.into_iter().filter(|a| wanted(*a)) {
        a.start(&mut h);
        none = false;
    }
    if none && default_crc64 {
        ChecksumAlgorithm::Crc64Nvme.start(&mut h);
    }
    h
}

/// The checksums a request sends in headers (or announces for its trailer).
#[derive(Default)]
struct Expected {
    content_md5: Option<String>,
    sums: Checksums,
    /// Algorithm of a checksum that arrives in the aws-chunked trailer.
    trailer: Option<ChecksumAlgorithm>,
    algorithm: Option<ChecksumAlgorithm>,
    /// A CRC computed besides the ones returned: the part's share of a full-object
    /// checksum, combined at CompleteMultipartUpload without reading the data again.
    full_crc: Option<crc_fast::CrcAlgorithm>,
}

impl Expected {
    fn hasher(&self, default_crc64: bool) -> ChecksumHasher {
        hasher(
            |a| a.of(&self.sums).is_some() || self.algorithm == Some(a) || self.trailer == Some(a),
            default_crc64,
        )
    }
}

/// The algorithm of the first checksum `x-amz-trailer` announces (`None` for one S3 does
/// not know).
fn trailer_algorithm(headers: &http::HeaderMap) -> Option<ChecksumAlgorithm> {
    let v = headers.get("x-amz-trailer")?.to_str().ok()?;
    let name = v.split(',').map(str::trim).find_map(|h| {
        h.to_ascii_lowercase()
            .strip_prefix("x-amz-checksum-")
            .map(str::to_owned)
    })?;
    ChecksumAlgorithm::parse(&name)
}

/// A body received into `tmp/`, not yet published.
struct Received {
    id: String,
    tmp: std::path::PathBuf,
    size: u64,
    md5: [u8; 16],
    sums: Checksums,
    full_crc: Option<u64>,
}

fn to_checksums(c: dto::Checksum) -> Checksums {
    Checksums {
        crc32: c.checksum_crc32,
        crc32c: c.checksum_crc32c,
        crc64nvme: c.checksum_crc64nvme,
        sha1: c.checksum_sha1,
        sha256: c.checksum_sha256,
    }
}

/// What a broken request body means to S3. s3s's aws-chunked decoder reports a bad chunk
/// signature through the body stream with a type it does not export, hence its text.
fn body_error(e: s3s::StdError) -> S3Error {
    if e.to_string().contains("SignatureMismatch") {
        return s3_error!(
            SignatureDoesNotMatch,
            "The request signature we calculated does not match the signature you provided. Check your key and signing method."
        );
    }
    S3Error::with_message(
        S3ErrorCode::IncompleteBody,
        format!(
            "You did not provide the number of bytes specified by the Content-Length HTTP header: {e}"
        ),
    )
}

/// Whether the `alg` checksum the client sent (if any) is the one computed (if any).
fn check_sum(alg: ChecksumAlgorithm, sent: &Checksums, got: &Checksums) -> S3Result<()> {
    if let (Some(s), Some(g)) = (alg.of(sent), alg.of(got))
        && s != g
    {
        if B64.decode(s).is_err() {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                format!("Value for {} header is invalid.", alg.header()),
            ));
        }
        return Err(S3Error::with_message(
            S3ErrorCode::BadDigest,
            format!(
                "The {} you specified did not match the calculated checksum.",
                alg.as_str()
            ),
        ));
    }
    Ok(())
}

impl Backend {
    /// Streams `body` into a temporary file, fsyncs it and checks what the client sent.
    /// Nothing is left behind on error.
    async fn receive(
        &self,
        body: Option<StreamingBlob>,
        expected: &Expected,
        trailers: Option<&s3s::TrailingHeaders>,
        content_length: Option<i64>,
        default_crc64: bool,
    ) -> S3Result<Received> {
        let (id, tmp) = self.store.tmp_path().map_err(S3Error::from)?;
        let r = self
            .receive_into(
                &tmp,
                body,
                expected,
                trailers,
                content_length,
                default_crc64,
            )
            .await;
        match r {
            Ok((size, md5, sums, full_crc)) => Ok(Received {
                id,
                tmp,
                size,
                md5,
                sums,
                full_crc,
            }),
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                Err(e)
            }
        }
    }

    async fn receive_into(
        &self,
        tmp: &Path,
        body: Option<StreamingBlob>,
        expected: &Expected,
        trailers: Option<&s3s::TrailingHeaders>,
        content_length: Option<i64>,
        default_crc64: bool,
    ) -> S3Result<(u64, [u8; 16], Checksums, Option<u64>)> {
        let mut file = tokio::fs::File::create(tmp).await.map_err(internal)?;
        let mut md5 = Md5::new();
        let mut hasher = expected.hasher(default_crc64);
        let mut full_crc = expected.full_crc.map(crc_fast::Digest::new);
        let mut size = 0u64;
        if let Some(mut body) = body {
            while let Some(chunk) = body.next().await {
                let chunk: Bytes = chunk.map_err(body_error)?;
                md5.update(&chunk);
                hasher.update(&chunk);
                if let Some(d) = &mut full_crc {
                    d.update(&chunk);
                }
                size += chunk.len() as u64;
                file.write_all(&chunk).await.map_err(internal)?;
            }
        }
        file.flush().await.map_err(internal)?;
        file.sync_all().await.map_err(internal)?;
        drop(file);
        if let Some(n) = content_length
            && u64::try_from(n).is_ok_and(|n| n != size)
        {
            return Err(s3_error!(
                IncompleteBody,
                "You did not provide the number of bytes specified by the Content-Length HTTP header."
            ));
        }
        let md5 = md5.finalize();
        if let Some(sent) = &expected.content_md5 {
            match B64.decode(sent) {
                Ok(d) if d.len() == 16 => {
                    if d != md5 {
                        return Err(s3_error!(
                            BadDigest,
                            "The Content-MD5 you specified did not match what we received."
                        ));
                    }
                }
                _ => {
                    return Err(s3_error!(
                        InvalidDigest,
                        "The Content-MD5 you specified is not valid."
                    ));
                }
            }
        }
        let got = to_checksums(hasher.finalize());
        let mut sent = expected.sums.clone();
        if let (Some(alg), Some(t)) = (expected.trailer, trailers)
            && let Some(map) = t.take()
        {
            let v = map
                .get(alg.header())
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let slot = alg.slot(&mut sent);
            *slot = slot.take().or(v);
        }
        for alg in ChecksumAlgorithm::ALL {
            check_sum(alg, &sent, &got)?;
        }
        Ok((size, md5, got, full_crc.map(|d| d.finalize())))
    }

    /// Publishes a received body and commits it as `bucket/key`.
    async fn commit_object(
        &self,
        bucket: &str,
        key: &str,
        r: Received,
        props: ObjectProps,
        pre: Option<Precondition>,
    ) -> S3Result<ObjectMeta> {
        let checksum_type = (r.sums != Checksums::default()).then(|| "FULL_OBJECT".to_owned());
        let meta = ObjectMeta {
            file: r.id.clone(),
            segments: Vec::new(),
            size: r.size,
            etag: hex(&r.md5),
            last_modified_ms: now_ms(),
            props,
            checksums: r.sums,
            checksum_type,
            parts_count: None,
        };
        let store = self.store.clone();
        let (b, k, m) = (bucket.to_owned(), key.to_owned(), meta.clone());
        let res = blocking(move || {
            store.publish(&r.tmp, &r.id)?;
            store.put_object(&b, &k, &m, pre.as_ref())
        })
        .await;
        if let Err(e) = res {
            let _ = tokio::fs::remove_file(self.store.object_path(&meta.file)).await;
            return Err(e);
        }
        Ok(meta)
    }

    async fn check_bucket(&self, bucket: &str) -> S3Result<BucketMeta> {
        let store = self.store.clone();
        let b = bucket.to_owned();
        blocking(move || store.bucket(&b)).await
    }

    async fn object(&self, bucket: &str, key: &str) -> S3Result<ObjectMeta> {
        let store = self.store.clone();
        let (b, k) = (bucket.to_owned(), key.to_owned());
        blocking(move || store.object(&b, &k)).await
    }
}

fn props(
    acl: Option<&dto::ObjectCannedACL>,
    content_type: Option<String>,
    cache_control: Option<String>,
    content_disposition: Option<String>,
    content_encoding: Option<String>,
    content_language: Option<String>,
    metadata: Option<dto::Metadata>,
) -> ObjectProps {
    ObjectProps {
        content_type,
        cache_control,
        content_disposition,
        content_encoding,
        content_language,
        metadata: metadata
            .map(|m| m.into_iter().collect::<BTreeMap<_, _>>())
            .unwrap_or_default(),
        acl: acl.map_or_else(|| "private".to_owned(), |a| a.as_str().to_owned()),
    }
}

/// Refuses a canned ACL or storage class S3 does not know, as S3 does, before anything is
/// read or stored.
fn check_settings(
    acl: Option<&dto::ObjectCannedACL>,
    class: Option<&dto::StorageClass>,
) -> S3Result<()> {
    const ACLS: &[&str] = &[
        "private",
        "public-read",
        "public-read-write",
        "authenticated-read",
        "aws-exec-read",
        "bucket-owner-read",
        "bucket-owner-full-control",
    ];
    const CLASSES: &[&str] = &[
        "STANDARD",
        "REDUCED_REDUNDANCY",
        "STANDARD_IA",
        "ONEZONE_IA",
        "INTELLIGENT_TIERING",
        "GLACIER",
        "DEEP_ARCHIVE",
        "OUTPOSTS",
        "GLACIER_IR",
        "SNOW",
        "EXPRESS_ONEZONE",
    ];
    if let Some(a) = acl
        && !ACLS.contains(&a.as_str())
    {
        return Err(s3_error!(
            InvalidArgument,
            "The canned ACL {:?} is not valid; use one of: {}",
            a.as_str(),
            ACLS.join(", ")
        ));
    }
    if let Some(c) = class
        && !CLASSES.contains(&c.as_str())
    {
        return Err(s3_error!(
            InvalidStorageClass,
            "The storage class you specified is not valid"
        ));
    }
    Ok(())
}

/// `If-Match` / `If-None-Match` on a write: S3 supports `If-None-Match: *` (create only)
/// and `If-Match: "etag"` (replace only that version).
fn write_precondition(
    if_match: Option<&dto::ETagCondition>,
    if_none_match: Option<&dto::ETagCondition>,
) -> S3Result<Option<Precondition>> {
    match (if_match, if_none_match) {
        (Some(_), Some(_)) => Err(s3_error!(
            NotImplemented,
            "If-Match and If-None-Match together are not supported"
        )),
        (None, Some(c)) if c.is_any() => Ok(Some(Precondition::Absent)),
        (None, Some(_)) => Err(s3_error!(
            NotImplemented,
            "If-None-Match on a write supports only *"
        )),
        (Some(c), None) => Ok(Some(Precondition::Matches(
            c.as_etag().map(|e| e.value().to_owned()),
        ))),
        (None, None) => Ok(None),
    }
}

fn condition_matches(c: &dto::ETagCondition, etag: &str) -> bool {
    c.is_any() || c.as_etag().is_some_and(|e| e.value() == etag)
}

/// GET/HEAD preconditions in the order S3 (RFC 9110 §13.2.2) evaluates them.
fn read_conditions(
    meta: &ObjectMeta,
    if_match: Option<&dto::ETagCondition>,
    if_none_match: Option<&dto::ETagCondition>,
    if_modified_since: Option<&Timestamp>,
    if_unmodified_since: Option<&Timestamp>,
) -> S3Result<()> {
    let modified = i64::try_from(meta.last_modified_ms / 1000).unwrap_or(i64::MAX);
    let secs = |t: &Timestamp| time::OffsetDateTime::from(t.clone()).unix_timestamp();
    let failed = || {
        s3_error!(
            PreconditionFailed,
            "At least one of the pre-conditions you specified did not hold"
        )
    };
    match if_match {
        Some(c) if !condition_matches(c, &meta.etag) => return Err(failed()),
        None if if_unmodified_since.is_some_and(|t| modified > secs(t)) => return Err(failed()),
        _ => {}
    }
    match if_none_match {
        Some(c) if condition_matches(c, &meta.etag) => Err(s3_error!(NotModified)),
        None if if_modified_since.is_some_and(|t| modified <= secs(t)) => {
            Err(s3_error!(NotModified))
        }
        _ => Ok(()),
    }
}

impl Backend {
    /// The object, if the caller may read it: anonymous callers only `public-read` ones,
    /// and (as on S3 without a public ListBucket) AccessDenied rather than NoSuchKey.
    async fn readable_object<T>(
        &self,
        req: &S3Request<T>,
        bucket: &str,
        key: &str,
    ) -> S3Result<ObjectMeta> {
        let res = self.object(bucket, key).await;
        if req.credentials.is_some() {
            return res;
        }
        match res {
            Ok(meta) if meta.props.acl == "public-read" => Ok(meta),
            _ => Err(s3_error!(AccessDenied, "Access Denied")),
        }
    }
}

fn checksum_mode_enabled(mode: Option<&dto::ChecksumMode>) -> bool {
    mode.is_some_and(|m| m.as_str().eq_ignore_ascii_case("ENABLED"))
}

/// S3's `encoding-type=url`: everything but unreserved characters and `/` percent-encoded.
const URL_ENCODE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

fn encoder(encoding_type: Option<&dto::EncodingType>) -> impl Fn(String) -> String + use<> {
    let url = encoding_type.is_some_and(|e| e.as_str() == "url");
    move |s: String| {
        if url {
            percent_encoding::utf8_percent_encode(&s, URL_ENCODE).to_string()
        } else {
            s
        }
    }
}

fn max_keys(n: Option<i32>) -> usize {
    n.map_or(1000, |n| usize::try_from(n.clamp(0, 1000)).unwrap_or(1000))
}

/// The rules of a PutBucketCors body, refused as S3 refuses them (a method S3 does not
/// know, an origin with more than one `*`).
pub(crate) fn cors_rules(config: dto::CORSConfiguration) -> S3Result<Vec<CorsRule>> {
    let rules: Vec<CorsRule> = config
        .cors_rules
        .into_iter()
        .map(|r| CorsRule {
            id: r.id,
            allowed_origins: r.allowed_origins,
            allowed_methods: r.allowed_methods,
            allowed_headers: r.allowed_headers.unwrap_or_default(),
            expose_headers: r.expose_headers.unwrap_or_default(),
            max_age_seconds: r.max_age_seconds,
        })
        .collect();
    for r in &rules {
        for m in &r.allowed_methods {
            if !["GET", "PUT", "POST", "DELETE", "HEAD"].contains(&m.as_str()) {
                return Err(S3Error::with_message(
                    S3ErrorCode::InvalidRequest,
                    format!(
                        "Found unsupported HTTP method in CORS config. Unsupported method is {m}"
                    ),
                ));
            }
        }
        for o in &r.allowed_origins {
            if o.matches('*').count() > 1 {
                return Err(S3Error::with_message(
                    S3ErrorCode::InvalidRequest,
                    format!("AllowedOrigin \"{o}\" can not have more than one wildcard."),
                ));
            }
        }
    }
    Ok(rules)
}

fn cors_to_dto(rules: &[CorsRule]) -> Vec<dto::CORSRule> {
    rules
        .iter()
        .map(|r| dto::CORSRule {
            id: r.id.clone(),
            allowed_origins: r.allowed_origins.clone(),
            allowed_methods: r.allowed_methods.clone(),
            allowed_headers: (!r.allowed_headers.is_empty()).then(|| r.allowed_headers.clone()),
            expose_headers: (!r.expose_headers.is_empty()).then(|| r.expose_headers.clone()),
            max_age_seconds: r.max_age_seconds,
        })
        .collect()
}

#[async_trait::async_trait]
impl S3 for Backend {
    // ---- buckets ----

    async fn create_bucket(
        &self,
        req: S3Request<dto::CreateBucketInput>,
    ) -> S3Result<S3Response<dto::CreateBucketOutput>> {
        let store = self.store.clone();
        let name = req.input.bucket.clone();
        blocking(move || {
            store.create_bucket(
                &name,
                &BucketMeta {
                    created_ms: now_ms(),
                    cors: None,
                    managed_cors: false,
                },
            )
        })
        .await?;
        Ok(S3Response::new(dto::CreateBucketOutput {
            location: Some(format!("/{}", req.input.bucket)),
        }))
    }

    async fn head_bucket(
        &self,
        req: S3Request<dto::HeadBucketInput>,
    ) -> S3Result<S3Response<dto::HeadBucketOutput>> {
        self.check_bucket(&req.input.bucket).await?;
        Ok(S3Response::new(dto::HeadBucketOutput::default()))
    }

    async fn get_bucket_location(
        &self,
        req: S3Request<dto::GetBucketLocationInput>,
    ) -> S3Result<S3Response<dto::GetBucketLocationOutput>> {
        self.check_bucket(&req.input.bucket).await?;
        // us-east-1 answers an empty LocationConstraint.
        Ok(S3Response::new(dto::GetBucketLocationOutput::default()))
    }

    async fn list_buckets(
        &self,
        _req: S3Request<dto::ListBucketsInput>,
    ) -> S3Result<S3Response<dto::ListBucketsOutput>> {
        let store = self.store.clone();
        let buckets = blocking(move || store.buckets()).await?;
        Ok(S3Response::new(dto::ListBucketsOutput {
            buckets: Some(
                buckets
                    .into_iter()
                    .map(|(name, m)| dto::Bucket {
                        name: Some(name),
                        creation_date: Some(timestamp(m.created_ms)),
                        bucket_region: None,
                    })
                    .collect(),
            ),
            ..Default::default()
        }))
    }

    async fn delete_bucket(
        &self,
        req: S3Request<dto::DeleteBucketInput>,
    ) -> S3Result<S3Response<dto::DeleteBucketOutput>> {
        let store = self.store.clone();
        let name = req.input.bucket;
        blocking(move || store.delete_bucket(&name)).await?;
        Ok(S3Response::new(dto::DeleteBucketOutput::default()))
    }

    async fn put_bucket_cors(
        &self,
        req: S3Request<dto::PutBucketCorsInput>,
    ) -> S3Result<S3Response<dto::PutBucketCorsOutput>> {
        let rules = cors_rules(req.input.cors_configuration)?;
        let store = self.store.clone();
        let name = req.input.bucket;
        blocking(move || {
            store.update_bucket(&name, |m| {
                m.cors = Some(rules);
                m.managed_cors = false;
            })
        })
        .await?;
        Ok(S3Response::new(dto::PutBucketCorsOutput::default()))
    }

    async fn get_bucket_cors(
        &self,
        req: S3Request<dto::GetBucketCorsInput>,
    ) -> S3Result<S3Response<dto::GetBucketCorsOutput>> {
        let meta = self.check_bucket(&req.input.bucket).await?;
        match meta.cors {
            Some(rules) => Ok(S3Response::new(dto::GetBucketCorsOutput {
                cors_rules: Some(cors_to_dto(&rules)),
            })),
            None => Err(s3_error!(
                NoSuchCORSConfiguration,
                "The CORS configuration does not exist"
            )),
        }
    }

    async fn delete_bucket_cors(
        &self,
        req: S3Request<dto::DeleteBucketCorsInput>,
    ) -> S3Result<S3Response<dto::DeleteBucketCorsOutput>> {
        let store = self.store.clone();
        let name = req.input.bucket;
        blocking(move || {
            store.update_bucket(&name, |m| {
                m.cors = None;
                m.managed_cors = false;
            })
        })
        .await?;
        Ok(S3Response::new(dto::DeleteBucketCorsOutput::default()))
    }

    // ---- objects ----

    async fn put_object(
        &self,
        req: S3Request<dto::PutObjectInput>,
    ) -> S3Result<S3Response<dto::PutObjectOutput>> {
        let trailer = trailer_algorithm(&req.headers);
        let i = req.input;
        check_settings(i.acl.as_ref(), i.storage_class.as_ref())?;
        self.check_bucket(&i.bucket).await?;
        let pre = write_precondition(i.if_match.as_ref(), i.if_none_match.as_ref())?;
        check_put_size(i.content_length)?;
        let expected = Expected {
            content_md5: i.content_md5,
            sums: Checksums {
                crc32: i.checksum_crc32,
                crc32c: i.checksum_crc32c,
                crc64nvme: i.checksum_crc64nvme,
                sha1: i.checksum_sha1,
                sha256: i.checksum_sha256,
            },
            trailer,
            algorithm: i
                .checksum_algorithm
                .and_then(|a| ChecksumAlgorithm::parse(a.as_str())),
            full_crc: None,
        };
        let r = self
            .receive(
                i.body,
                &expected,
                req.trailing_headers.as_ref(),
                i.content_length,
                true,
            )
            .await?;
        let p = props(
            i.acl.as_ref(),
            i.content_type,
            i.cache_control,
            i.content_disposition,
            i.content_encoding,
            i.content_language,
            i.metadata,
        );
        let meta = self.commit_object(&i.bucket, &i.key, r, p, pre).await?;
        let c = meta.checksums;
        Ok(S3Response::new(dto::PutObjectOutput {
            e_tag: Some(etag(&meta.etag)),
            checksum_crc32: c.crc32,
            checksum_crc32c: c.crc32c,
            checksum_crc64nvme: c.crc64nvme,
            checksum_sha1: c.sha1,
            checksum_sha256: c.sha256,
            checksum_type: meta.checksum_type.map(dto::ChecksumType::from),
            ..Default::default()
        }))
    }

    async fn post_object(
        &self,
        req: S3Request<dto::PostObjectInput>,
    ) -> S3Result<S3Response<dto::PostObjectOutput>> {
        let mut i = req.input;
        if i.acl.is_none()
            && let Some(PostAcl(acl)) = req.extensions.get::<PostAcl>()
        {
            i.acl = Some(dto::ObjectCannedACL::from(acl.clone()));
        }
        check_settings(i.acl.as_ref(), i.storage_class.as_ref())?;
        self.check_bucket(&i.bucket).await?;
        let pre = write_precondition(i.if_match.as_ref(), i.if_none_match.as_ref())?;
        let expected = Expected {
            content_md5: i.content_md5,
            sums: Checksums {
                crc32: i.checksum_crc32,
                crc32c: i.checksum_crc32c,
                crc64nvme: i.checksum_crc64nvme,
                sha1: i.checksum_sha1,
                sha256: i.checksum_sha256,
            },
            trailer: None,
            algorithm: i
                .checksum_algorithm
                .and_then(|a| ChecksumAlgorithm::parse(a.as_str())),
            full_crc: None,
        };
        let r = self.receive(i.body, &expected, None, None, true).await?;
        let p = props(
            i.acl.as_ref(),
            i.content_type,
            i.cache_control,
            i.content_disposition,
            i.content_encoding,
            i.content_language,
            i.metadata,
        );
        let meta = self.commit_object(&i.bucket, &i.key, r, p, pre).await?;
        let c = meta.checksums;
        let mut resp = S3Response::new(dto::PostObjectOutput {
            e_tag: Some(etag(&meta.etag)),
            checksum_crc32: c.crc32,
            checksum_crc32c: c.crc32c,
            checksum_crc64nvme: c.crc64nvme,
            checksum_sha1: c.sha1,
            checksum_sha256: c.sha256,
            ..Default::default()
        });
        if let Some(status) = i.success_action_status
            && let Ok(s) = http::StatusCode::from_u16(u16::try_from(status).unwrap_or(204))
            && [200, 201, 204].contains(&s.as_u16())
        {
            resp.status = Some(s);
        }
        // S3 answers a form with the object's ETag and Location headers; s3s sends
        // neither on its 204.
        if let Some(e) = resp.output.e_tag.as_ref()
            && let Ok(v) = http::HeaderValue::from_str(&format!("\"{}\"", e.value()))
        {
            resp.headers.insert(http::header::ETAG, v);
        }
        let location = format!(
            "/{}/{}",
            i.bucket,
            percent_encoding::utf8_percent_encode(&i.key, URL_ENCODE)
        );
        if let Ok(v) = http::HeaderValue::from_str(&location) {
            resp.headers.insert(http::header::LOCATION, v);
        }
        Ok(resp)
    }

    async fn get_object(
        &self,
        req: S3Request<dto::GetObjectInput>,
    ) -> S3Result<S3Response<dto::GetObjectOutput>> {
        let meta = self
            .readable_object(&req, &req.input.bucket, &req.input.key)
            .await?;
        let i = req.input;
        read_conditions(
            &meta,
            i.if_match.as_ref(),
            i.if_none_match.as_ref(),
            i.if_modified_since.as_ref(),
            i.if_unmodified_since.as_ref(),
        )?;
        let (start, len, content_range) = match &i.range {
            None => (0, meta.size, None),
            Some(r) => {
                let range = r.check(meta.size).map_err(|_| {
                    s3_error!(InvalidRange, "The requested range is not satisfiable")
                })?;
                let len = range.end - range.start;
                let cr = format!(
                    "bytes {}-{}/{}",
                    range.start,
                    range.end.saturating_sub(1),
                    meta.size
                );
                (range.start, len, Some(cr))
            }
        };
        let stream = self.read_range(&meta, start, len);
        let whole = content_range.is_none();
        let sums = if whole && checksum_mode_enabled(i.checksum_mode.as_ref()) {
            meta.checksums.clone()
        } else {
            Checksums::default()
        };
        let p = meta.props;
        Ok(S3Response::new(dto::GetObjectOutput {
            body: Some(StreamingBlob::wrap(stream)),
            content_length: i64::try_from(len).ok(),
            content_range,
            accept_ranges: Some("bytes".to_owned()),
            last_modified: Some(timestamp(meta.last_modified_ms)),
            e_tag: Some(etag(&meta.etag)),
            content_type: i.response_content_type.or(p.content_type),
            cache_control: i.response_cache_control.or(p.cache_control),
            content_disposition: i.response_content_disposition.or(p.content_disposition),
            content_encoding: i.response_content_encoding.or(p.content_encoding),
            content_language: i.response_content_language.or(p.content_language),
            metadata: (!p.metadata.is_empty()).then(|| p.metadata.into_iter().collect()),
            checksum_crc32: sums.crc32,
            checksum_crc32c: sums.crc32c,
            checksum_crc64nvme: sums.crc64nvme,
            checksum_sha1: sums.sha1,
            checksum_sha256: sums.sha256,
            checksum_type: if whole && checksum_mode_enabled(i.checksum_mode.as_ref()) {
                meta.checksum_type.map(dto::ChecksumType::from)
            } else {
                None
            },
            parts_count: meta.parts_count.and_then(|n| i32::try_from(n).ok()),
            ..Default::default()
        }))
    }

    async fn head_object(
        &self,
        req: S3Request<dto::HeadObjectInput>,
    ) -> S3Result<S3Response<dto::HeadObjectOutput>> {
        let meta = self
            .readable_object(&req, &req.input.bucket, &req.input.key)
            .await?;
        let i = req.input;
        read_conditions(
            &meta,
            i.if_match.as_ref(),
            i.if_none_match.as_ref(),
            i.if_modified_since.as_ref(),
            i.if_unmodified_since.as_ref(),
        )?;
        let (len, content_range) = match &i.range {
            None => (meta.size, None),
            Some(r) => {
                let range = r.check(meta.size).map_err(|_| {
                    s3_error!(InvalidRange, "The requested range is not satisfiable")
                })?;
                let cr = format!(
                    "bytes {}-{}/{}",
                    range.start,
                    range.end.saturating_sub(1),
                    meta.size
                );
                (range.end - range.start, Some(cr))
            }
        };
        let enabled = checksum_mode_enabled(i.checksum_mode.as_ref());
        let sums = if enabled {
            meta.checksums.clone()
        } else {
            Checksums::default()
        };
        let p = meta.props;
        Ok(S3Response::new(dto::HeadObjectOutput {
            content_length: i64::try_from(len).ok(),
            content_range,
            accept_ranges: Some("bytes".to_owned()),
            last_modified: Some(timestamp(meta.last_modified_ms)),
            e_tag: Some(etag(&meta.etag)),
            content_type: p.content_type,
            cache_control: p.cache_control,
            content_disposition: p.content_disposition,
            content_encoding: p.content_encoding,
            content_language: p.content_language,
            metadata: (!p.metadata.is_empty()).then(|| p.metadata.into_iter().collect()),
            checksum_crc32: sums.crc32,
            checksum_crc32c: sums.crc32c,
            checksum_crc64nvme: sums.crc64nvme,
            checksum_sha1: sums.sha1,
            checksum_sha256: sums.sha256,
            checksum_type: if enabled {
                meta.checksum_type.map(dto::ChecksumType::from)
            } else {
                None
            },
            parts_count: meta.parts_count.and_then(|n| i32::try_from(n).ok()),
            ..Default::default()
        }))
    }

    async fn copy_object(
        &self,
        req: S3Request<dto::CopyObjectInput>,
    ) -> S3Result<S3Response<dto::CopyObjectOutput>> {
        let i = req.input;
        check_settings(i.acl.as_ref(), i.storage_class.as_ref())?;
        let dto::CopySource::Bucket {
            bucket: src_bucket,
            key: src_key,
            version_id,
        } = &i.copy_source
        else {
            return Err(s3_error!(
                NotImplemented,
                "Access point copy sources are not supported"
            ));
        };
        if version_id.is_some() {
            return Err(s3_error!(NotImplemented, "Versioning is not supported"));
        }
        let src = self.object(src_bucket, src_key).await?;
        read_conditions(
            &src,
            i.copy_source_if_match.as_ref(),
            i.copy_source_if_none_match.as_ref(),
            i.copy_source_if_modified_since.as_ref(),
            i.copy_source_if_unmodified_since.as_ref(),
        )
        .map_err(|e| {
            // On CopyObject a failed source condition is 412 whichever header it was.
            if *e.code() == S3ErrorCode::NotModified {
                s3_error!(
                    PreconditionFailed,
                    "At least one of the pre-conditions you specified did not hold"
                )
            } else {
                e
            }
        })?;
        let replace = i
            .metadata_directive
            .as_ref()
            .is_some_and(|d| d.as_str() == dto::MetadataDirective::REPLACE);
        if **src_bucket == *i.bucket && **src_key == *i.key && !replace {
            return Err(s3_error!(
                InvalidRequest,
                "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes."
            ));
        }
        self.check_bucket(&i.bucket).await?;
        let props = if replace {
            props(
                i.acl.as_ref(),
                i.content_type,
                i.cache_control,
                i.content_disposition,
                i.content_encoding,
                i.content_language,
                i.metadata,
            )
        } else {
            ObjectProps {
                acl: i
                    .acl
                    .as_ref()
                    .map_or_else(|| "private".to_owned(), |a| a.as_str().to_owned()),
                ..src.props.clone()
            }
        };
        // The copy is a new single-part object: its ETag is the MD5 of the bytes, its
        // checksums full-object ones in the source's algorithms (CRC64NVME by default).
        let asked = i
            .checksum_algorithm
            .as_ref()
            .and_then(|a| ChecksumAlgorithm::parse(a.as_str()));
        let mut hasher = hasher(|a| a.of(&src.checksums).is_some() || asked == Some(a), true);
        let mut md5 = Md5::new();
        let (id, tmp) = self.store.tmp_path().map_err(S3Error::from)?;
        let copied = self.copy_hashing(&src, &tmp, &mut md5, &mut hasher).await;
        let size = match copied {
            Ok(size) => size,
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                return Err(e);
            }
        };
        let r = Received {
            id,
            tmp,
            size,
            md5: md5.finalize(),
            sums: to_checksums(hasher.finalize()),
            full_crc: None,
        };
        let meta = self
            .commit_object(&i.bucket, &i.key, r, props, None)
            .await?;
        let c = meta.checksums;
        Ok(S3Response::new(dto::CopyObjectOutput {
            copy_object_result: Some(dto::CopyObjectResult {
                e_tag: Some(etag(&meta.etag)),
                last_modified: Some(timestamp(meta.last_modified_ms)),
                checksum_crc32: c.crc32,
                checksum_crc32c: c.crc32c,
                checksum_crc64nvme: c.crc64nvme,
                checksum_sha1: c.sha1,
                checksum_sha256: c.sha256,
                checksum_type: meta.checksum_type.map(dto::ChecksumType::from),
            }),
            ..Default::default()
        }))
    }

    async fn put_object_acl(
        &self,
        req: S3Request<dto::PutObjectAclInput>,
    ) -> S3Result<S3Response<dto::PutObjectAclOutput>> {
        let i = req.input;
        let grants = i.access_control_policy.is_some()
            || i.grant_full_control.is_some()
            || i.grant_read.is_some()
            || i.grant_read_acp.is_some()
            || i.grant_write.is_some()
            || i.grant_write_acp.is_some();
        check_settings(i.acl.as_ref(), None)?;
        let Some(acl) = i.acl.filter(|_| !grants) else {
            return Err(s3_error!(
                NotImplemented,
                "Only canned ACLs (x-amz-acl) are supported by updraft dev"
            ));
        };
        let store = self.store.clone();
        let acl = acl.as_str().to_owned();
        blocking(move || store.update_object(&i.bucket, &i.key, |m| m.props.acl = acl)).await?;
        Ok(S3Response::new(dto::PutObjectAclOutput::default()))
    }

    async fn get_object_acl(
        &self,
        req: S3Request<dto::GetObjectAclInput>,
    ) -> S3Result<S3Response<dto::GetObjectAclOutput>> {
        let meta = self.object(&req.input.bucket, &req.input.key).await?;
        let owner = dto::Owner {
            display_name: Some("updraft-dev".to_owned()),
            id: Some(OWNER_ID.to_owned()),
        };
        let mut grants = vec![dto::Grant {
            grantee: Some(dto::Grantee {
                display_name: owner.display_name.clone(),
                email_address: None,
                id: owner.id.clone(),
                type_: dto::Type::from_static(dto::Type::CANONICAL_USER),
                uri: None,
            }),
            permission: Some(dto::Permission::from_static(dto::Permission::FULL_CONTROL)),
        }];
        if meta.props.acl == "public-read" {
            grants.push(dto::Grant {
                grantee: Some(dto::Grantee {
                    display_name: None,
                    email_address: None,
                    id: None,
                    type_: dto::Type::from_static(dto::Type::GROUP),
                    uri: Some("http://acs.amazonaws.com/groups/global/AllUsers".to_owned()),
                }),
                permission: Some(dto::Permission::from_static(dto::Permission::READ)),
            });
        }
        Ok(S3Response::new(dto::GetObjectAclOutput {
            grants: Some(grants),
            owner: Some(owner),
            ..Default::default()
        }))
    }

    async fn delete_object(
        &self,
        req: S3Request<dto::DeleteObjectInput>,
    ) -> S3Result<S3Response<dto::DeleteObjectOutput>> {
        let store = self.store.clone();
        let (b, k) = (req.input.bucket, req.input.key);
        blocking(move || store.delete_object(&b, &k)).await?;
        Ok(S3Response::new(dto::DeleteObjectOutput::default()))
    }

    async fn delete_objects(
        &self,
        req: S3Request<dto::DeleteObjectsInput>,
    ) -> S3Result<S3Response<dto::DeleteObjectsOutput>> {
        let i = req.input;
        self.check_bucket(&i.bucket).await?;
        if i.delete.objects.len() > MAX_DELETE_KEYS {
            return Err(s3_error!(
                MalformedXML,
                "The XML you provided was not well-formed or did not validate against our published schema"
            ));
        }
        let quiet = i.delete.quiet.unwrap_or(false);
        let mut deleted = Vec::new();
        let mut errors = Vec::new();
        let key_check = req.extensions.get::<crate::sts::KeyCheck>().cloned();
        for o in i.delete.objects {
            if let Some(c) = &key_check
                && !c.may_delete(&i.bucket, &o.key)
            {
                errors.push(dto::Error {
                    code: Some("AccessDenied".to_owned()),
                    key: Some(o.key),
                    message: Some("Access Denied".to_owned()),
                    version_id: None,
                });
                continue;
            }
            let store = self.store.clone();
            let (b, k) = (i.bucket.clone(), o.key.clone());
            match blocking(move || store.delete_object(&b, &k)).await {
                Ok(_) => {
                    if !quiet {
                        deleted.push(dto::DeletedObject {
                            key: Some(o.key),
                            ..Default::default()
                        });
                    }
                }
                Err(e) => errors.push(dto::Error {
                    code: Some(e.code().as_str().to_owned()),
                    key: Some(o.key),
                    message: e.message().map(str::to_owned),
                    version_id: None,
                }),
            }
        }
        Ok(S3Response::new(dto::DeleteObjectsOutput {
            deleted: Some(deleted),
            errors: (!errors.is_empty()).then_some(errors),
            ..Default::default()
        }))
    }

    async fn list_objects(
        &self,
        req: S3Request<dto::ListObjectsInput>,
    ) -> S3Result<S3Response<dto::ListObjectsOutput>> {
        let marker = req.input.marker.clone();
        let v2 = req.map_input(|i| dto::ListObjectsV2Input {
            bucket: i.bucket,
            delimiter: i.delimiter,
            encoding_type: i.encoding_type,
            max_keys: i.max_keys,
            prefix: i.prefix,
            start_after: i.marker,
            ..Default::default()
        });
        let out = self.list_objects_v2(v2).await?;
        Ok(out.map_output(|o| {
            let next_marker = if o.is_truncated == Some(true) && o.delimiter.is_some() {
                // A token this store just made: it decodes.
                o.next_continuation_token
                    .as_deref()
                    .and_then(|t| decode_token(t).ok())
            } else {
                None
            };
            dto::ListObjectsOutput {
                name: o.name,
                prefix: o.prefix,
                delimiter: o.delimiter,
                encoding_type: o.encoding_type,
                max_keys: o.max_keys,
                is_truncated: o.is_truncated,
                contents: o.contents,
                common_prefixes: o.common_prefixes,
                marker,
                next_marker,
                ..Default::default()
            }
        }))
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<dto::ListObjectsV2Input>,
    ) -> S3Result<S3Response<dto::ListObjectsV2Output>> {
        let i = req.input;
        let prefix = i.prefix.clone().unwrap_or_default();
        let delimiter = i.delimiter.clone().filter(|d| !d.is_empty());
        let max = max_keys(i.max_keys);
        let after = match &i.continuation_token {
            Some(t) => Some(decode_token(t)?),
            None => i.start_after.clone(),
        };
        let store = self.store.clone();
        let (bucket, p, d, a) = (i.bucket.clone(), prefix.clone(), delimiter.clone(), after);
        let (contents, prefixes, truncated, last) = blocking(move || {
            let mut contents: Vec<(String, ObjectMeta)> = Vec::new();
            let mut prefixes: Vec<String> = Vec::new();
            let mut truncated = false;
            let mut last: Option<String> = None;
            if max == 0 {
                // S3 answers max-keys=0 with an empty, untruncated page.
                store.bucket(&bucket)?;
                return Ok((contents, prefixes, truncated, last));
            }
            store.scan_objects(&bucket, &p, a.as_deref(), |key, meta| {
                // Keys under a common prefix already returned (or passed by the token).
                if let (Some(d), Some(l)) = (&d, &last)
                    && l.ends_with(d.as_str())
                    && key.starts_with(l.as_str())
                {
                    return true;
                }
                if let (Some(d), Some(a)) = (&d, &a)
                    && a.ends_with(d.as_str())
                    && key.starts_with(a.as_str())
                {
                    return true;
                }
                let item = match &d {
                    Some(d) => match key[p.len()..].find(d.as_str()) {
                        Some(pos) => Err(key[..p.len() + pos + d.len()].to_owned()),
                        None => Ok(key.to_owned()),
                    },
                    None => Ok(key.to_owned()),
                };
                if contents.len() + prefixes.len() >= max {
                    truncated = true;
                    return false;
                }
                match item {
                    Ok(k) => {
                        last = Some(k.clone());
                        contents.push((k, meta));
                    }
                    Err(cp) => {
                        last = Some(cp.clone());
                        prefixes.push(cp);
                    }
                }
                true
            })?;
            Ok((contents, prefixes, truncated, last))
        })
        .await?;
        let enc = encoder(i.encoding_type.as_ref());
        let key_count = i32::try_from(contents.len() + prefixes.len()).unwrap_or(i32::MAX);
        Ok(S3Response::new(dto::ListObjectsV2Output {
            name: Some(i.bucket),
            prefix: Some(enc(prefix)),
            delimiter: delimiter.map(&enc),
            max_keys: Some(i32::try_from(max).unwrap_or(1000)),
            key_count: Some(key_count),
            continuation_token: i.continuation_token,
            start_after: i.start_after.map(&enc),
            encoding_type: i.encoding_type,
            is_truncated: Some(truncated),
            next_continuation_token: if truncated {
                last.map(|l| encode_token(&l))
            } else {
                None
            },
            contents: Some(
                contents
                    .into_iter()
                    .map(|(k, m)| dto::Object {
                        key: Some(enc(k)),
                        size: i64::try_from(m.size).ok(),
                        e_tag: Some(etag(&m.etag)),
                        last_modified: Some(timestamp(m.last_modified_ms)),
                        storage_class: Some(dto::ObjectStorageClass::from_static(
                            dto::ObjectStorageClass::STANDARD,
                        )),
                        checksum_algorithm: checksum_algorithms(&m.checksums),
                        checksum_type: m.checksum_type.map(dto::ChecksumType::from),
                        ..Default::default()
                    })
                    .collect(),
            ),
            common_prefixes: (!prefixes.is_empty()).then(|| {
                prefixes
                    .into_iter()
                    .map(|p| dto::CommonPrefix {
                        prefix: Some(enc(p)),
                    })
                    .collect()
            }),
            ..Default::default()
        }))
    }

    // ---- multipart ----

    async fn create_multipart_upload(
        &self,
        req: S3Request<dto::CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<dto::CreateMultipartUploadOutput>> {
        let i = req.input;
        check_settings(i.acl.as_ref(), i.storage_class.as_ref())?;
        // The upload keeps the name it was given (upper-cased), known to S3 or not.
        let algorithm = i
            .checksum_algorithm
            .as_ref()
            .map(|a| a.as_str().to_ascii_uppercase());
        let known = algorithm.as_deref().and_then(ChecksumAlgorithm::parse);
        let checksum_type = match (&algorithm, &i.checksum_type) {
            (_, Some(t)) => Some(t.as_str().to_owned()),
            (Some(_), None) => Some(
                known
                    .map_or("COMPOSITE", ChecksumAlgorithm::default_type)
                    .to_owned(),
            ),
            (None, None) => None,
        };
        if let (Some(a), Some(t)) = (&algorithm, &checksum_type) {
            // A name outside S3's five is refused only for FULL_OBJECT.
            let allowed = known.map_or(t != "FULL_OBJECT", |k| k.allows_type(t));
            if !allowed {
                return Err(S3Error::with_message(
                    S3ErrorCode::InvalidRequest,
                    format!(
                        "The {t} checksum type cannot be used with the {a} checksum algorithm."
                    ),
                ));
            }
        }
        let meta = UploadMeta {
            bucket: i.bucket.clone(),
            key: i.key.clone(),
            initiated_ms: now_ms(),
            props: props(
                i.acl.as_ref(),
                i.content_type,
                i.cache_control,
                i.content_disposition,
                i.content_encoding,
                i.content_language,
                i.metadata,
            ),
            checksum_algorithm: algorithm.clone(),
            checksum_type: checksum_type.clone(),
        };
        let store = self.store.clone();
        let id = blocking(move || store.create_upload(&meta)).await?;
        Ok(S3Response::new(dto::CreateMultipartUploadOutput {
            bucket: Some(i.bucket),
            key: Some(i.key),
            upload_id: Some(id),
            checksum_algorithm: algorithm.map(dto::ChecksumAlgorithm::from),
            checksum_type: checksum_type.map(dto::ChecksumType::from),
            ..Default::default()
        }))
    }

    async fn upload_part(
        &self,
        req: S3Request<dto::UploadPartInput>,
    ) -> S3Result<S3Response<dto::UploadPartOutput>> {
        let trailer = trailer_algorithm(&req.headers);
        let i = req.input;
        if !(1..=10_000).contains(&i.part_number) {
            return Err(s3_error!(
                InvalidArgument,
                "Part number must be an integer between 1 and 10000, inclusive"
            ));
        }
        check_put_size(i.content_length)?;
        let store = self.store.clone();
        let (b, k, u) = (i.bucket.clone(), i.key.clone(), i.upload_id.clone());
        let upload = blocking(move || store.upload(&b, &k, &u)).await?;
        let full_crc = full_crc_algorithm(&upload).and_then(ChecksumAlgorithm::crc);
        let expected = Expected {
            content_md5: i.content_md5,
            sums: Checksums {
                crc32: i.checksum_crc32,
                crc32c: i.checksum_crc32c,
                crc64nvme: i.checksum_crc64nvme,
                sha1: i.checksum_sha1,
                sha256: i.checksum_sha256,
            },
            trailer,
            // The part's own algorithm, else the upload's.
            algorithm: i
                .checksum_algorithm
                .as_ref()
                .map(dto::ChecksumAlgorithm::as_str)
                .or(upload.checksum_algorithm.as_deref())
                .and_then(ChecksumAlgorithm::parse),
            full_crc,
        };
        let r = self
            .receive(
                i.body,
                &expected,
                req.trailing_headers.as_ref(),
                i.content_length,
                false,
            )
            .await?;
        let part = PartMeta {
            file: r.id.clone(),
            size: r.size,
            etag: hex(&r.md5),
            last_modified_ms: now_ms(),
            checksums: r.sums,
            full_crc: r.full_crc,
        };
        let number = u32::try_from(i.part_number).unwrap_or(1);
        let store = self.store.clone();
        let (u, p) = (i.upload_id, part.clone());
        let res = blocking(move || {
            store.publish(&r.tmp, &r.id)?;
            store.put_part(&u, number, &p)
        })
        .await;
        if let Err(e) = res {
            self.store.remove_file(&part.file);
            return Err(e);
        }
        let c = part.checksums;
        Ok(S3Response::new(dto::UploadPartOutput {
            e_tag: Some(etag(&part.etag)),
            checksum_crc32: c.crc32,
            checksum_crc32c: c.crc32c,
            checksum_crc64nvme: c.crc64nvme,
            checksum_sha1: c.sha1,
            checksum_sha256: c.sha256,
            ..Default::default()
        }))
    }

    async fn list_parts(
        &self,
        req: S3Request<dto::ListPartsInput>,
    ) -> S3Result<S3Response<dto::ListPartsOutput>> {
        let i = req.input;
        let store = self.store.clone();
        let (b, k, u) = (i.bucket.clone(), i.key.clone(), i.upload_id.clone());
        let after = u32::try_from(i.part_number_marker.unwrap_or(0).max(0)).unwrap_or(0);
        let (upload, mut parts) =
            blocking(move || Ok((store.upload(&b, &k, &u)?, store.parts(&u, after)?))).await?;
        let max = max_keys(i.max_parts);
        let truncated = parts.len() > max;
        parts.truncate(max);
        let next = parts.last().map(|(n, _)| *n);
        Ok(S3Response::new(dto::ListPartsOutput {
            bucket: Some(i.bucket),
            key: Some(i.key),
            upload_id: Some(i.upload_id),
            max_parts: Some(i32::try_from(max).unwrap_or(1000)),
            part_number_marker: i.part_number_marker,
            next_part_number_marker: if truncated {
                next.and_then(|n| i32::try_from(n).ok())
            } else {
                None
            },
            is_truncated: Some(truncated),
            checksum_algorithm: upload.checksum_algorithm.map(dto::ChecksumAlgorithm::from),
            checksum_type: upload.checksum_type.map(dto::ChecksumType::from),
            storage_class: Some(dto::StorageClass::from_static(dto::StorageClass::STANDARD)),
            parts: Some(
                parts
                    .into_iter()
                    .map(|(n, p)| dto::Part {
                        part_number: i32::try_from(n).ok(),
                        size: i64::try_from(p.size).ok(),
                        e_tag: Some(etag(&p.etag)),
                        last_modified: Some(timestamp(p.last_modified_ms)),
                        checksum_crc32: p.checksums.crc32,
                        checksum_crc32c: p.checksums.crc32c,
                        checksum_crc64nvme: p.checksums.crc64nvme,
                        checksum_sha1: p.checksums.sha1,
                        checksum_sha256: p.checksums.sha256,
                    })
                    .collect(),
            ),
            ..Default::default()
        }))
    }

    async fn list_multipart_uploads(
        &self,
        req: S3Request<dto::ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<dto::ListMultipartUploadsOutput>> {
        let i = req.input;
        let store = self.store.clone();
        let b = i.bucket.clone();
        let all = blocking(move || store.uploads(&b)).await?;
        let prefix = i.prefix.clone().unwrap_or_default();
        let delimiter = i.delimiter.clone().filter(|d| !d.is_empty());
        let max = max_keys(i.max_uploads);
        let mut uploads = Vec::new();
        let mut prefixes: Vec<String> = Vec::new();
        let mut truncated = false;
        let mut next: Option<(String, String)> = None;
        for (id, u) in all {
            if !u.key.starts_with(&prefix) {
                continue;
            }
            if let Some(km) = &i.key_marker {
                let past = match &i.upload_id_marker {
                    Some(um) => (u.key.as_str(), id.as_str()) > (km.as_str(), um.as_str()),
                    None => u.key.as_str() > km.as_str(),
                };
                if !past {
                    continue;
                }
            }
            let cp = delimiter.as_ref().and_then(|d| {
                u.key[prefix.len()..]
                    .find(d.as_str())
                    .map(|pos| u.key[..prefix.len() + pos + d.len()].to_owned())
            });
            if let Some(cp) = &cp
                && prefixes.last() == Some(cp)
            {
                continue;
            }
            if uploads.len() + prefixes.len() >= max {
                truncated = true;
                break;
            }
            next = Some((u.key.clone(), id.clone()));
            match cp {
                Some(cp) => prefixes.push(cp),
                None => uploads.push((id, u)),
            }
        }
        let enc = encoder(i.encoding_type.as_ref());
        Ok(S3Response::new(dto::ListMultipartUploadsOutput {
            bucket: Some(i.bucket),
            prefix: Some(enc(prefix)),
            delimiter: delimiter.map(&enc),
            key_marker: i.key_marker.map(&enc),
            upload_id_marker: i.upload_id_marker,
            max_uploads: Some(i32::try_from(max).unwrap_or(1000)),
            is_truncated: Some(truncated),
            next_key_marker: if truncated {
                next.as_ref().map(|n| enc(n.0.clone()))
            } else {
                None
            },
            next_upload_id_marker: if truncated { next.map(|n| n.1) } else { None },
            encoding_type: i.encoding_type,
            uploads: Some(
                uploads
                    .into_iter()
                    .map(|(id, u)| dto::MultipartUpload {
                        key: Some(enc(u.key)),
                        upload_id: Some(id),
                        initiated: Some(timestamp(u.initiated_ms)),
                        storage_class: Some(dto::StorageClass::from_static(
                            dto::StorageClass::STANDARD,
                        )),
                        checksum_algorithm: u.checksum_algorithm.map(dto::ChecksumAlgorithm::from),
                        checksum_type: u.checksum_type.map(dto::ChecksumType::from),
                        ..Default::default()
                    })
                    .collect(),
            ),
            common_prefixes: (!prefixes.is_empty()).then(|| {
                prefixes
                    .into_iter()
                    .map(|p| dto::CommonPrefix {
                        prefix: Some(enc(p)),
                    })
                    .collect()
            }),
            ..Default::default()
        }))
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<dto::AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<dto::AbortMultipartUploadOutput>> {
        let i = req.input;
        let store = self.store.clone();
        blocking(move || {
            store.upload(&i.bucket, &i.key, &i.upload_id)?;
            store.finish_upload(&i.upload_id, None, None)
        })
        .await?;
        Ok(S3Response::with_status(
            dto::AbortMultipartUploadOutput::default(),
            http::StatusCode::NO_CONTENT,
        ))
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<dto::CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<dto::CompleteMultipartUploadOutput>> {
        let i = req.input;
        let pre = write_precondition(i.if_match.as_ref(), i.if_none_match.as_ref())?;
        let store = self.store.clone();
        let (b, k, u) = (i.bucket.clone(), i.key.clone(), i.upload_id.clone());
        let (upload, stored) =
            blocking(move || Ok((store.upload(&b, &k, &u)?, store.parts(&u, 0)?))).await?;
        let requested = i.multipart_upload.and_then(|m| m.parts).unwrap_or_default();
        if requested.is_empty() {
            return Err(s3_error!(
                MalformedXML,
                "The XML you provided was not well-formed or did not validate against our published schema"
            ));
        }
        let stored: BTreeMap<u32, PartMeta> = stored.into_iter().collect();
        let mut chosen: Vec<PartMeta> = Vec::with_capacity(requested.len());
        let mut prev = 0u32;
        for (idx, p) in requested.iter().enumerate() {
            let n = p
                .part_number
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(0);
            if n <= prev {
                return Err(s3_error!(
                    InvalidPartOrder,
                    "The list of parts was not in ascending order. Parts must be ordered by part number."
                ));
            }
            prev = n;
            let invalid = || {
                s3_error!(
                    InvalidPart,
                    "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."
                )
            };
            let part = stored.get(&n).ok_or_else(invalid)?;
            if let Some(e) = &p.e_tag
                && e.value() != part.etag
            {
                return Err(invalid());
            }
            if idx + 1 < requested.len() && part.size < MIN_PART_SIZE {
                return Err(s3_error!(
                    EntityTooSmall,
                    "Your proposed upload is smaller than the minimum allowed object size."
                ));
            }
            chosen.push(part.clone());
        }

        // The object is the parts' files in order: completing moves no bytes. A
        // full-object CRC is combined from the parts' CRCs (computed as they arrived);
        // parts stored without one are read once to hash them.
        let segments: Vec<Segment> = chosen
            .iter()
            .map(|p| Segment {
                file: p.file.clone(),
                size: p.size,
            })
            .collect();
        let size: u64 = chosen.iter().map(|p| p.size).sum();
        let full = full_crc_algorithm(&upload);
        let combined = full.and_then(|alg| {
            let crc_alg = alg.crc()?;
            let mut acc: Option<u64> = None;
            for p in &chosen {
                let crc = p.full_crc?;
                acc = Some(match acc {
                    None => crc,
                    Some(a) => crc_fast::checksum_combine(crc_alg, a, crc, p.size),
                });
            }
            Some((alg, acc?))
        });
        let expected = Expected {
            algorithm: if combined.is_some() { None } else { full },
            ..Default::default()
        };
        let mut hasher = expected.hasher(false);
        if combined.is_none() && full.is_some() {
            self.hash_segments(&segments, &mut hasher).await?;
        }
        let etag_value = multipart_etag(&chosen, &i.upload_id)?;
        let checksums = if let Some((alg, crc)) = combined {
            // CRC32 and CRC32C are 4 bytes, CRC64NVME 8.
            let bytes = if alg == ChecksumAlgorithm::Crc64Nvme {
                crc.to_be_bytes().to_vec()
            } else {
                u32::try_from(crc)
                    .unwrap_or_default()
                    .to_be_bytes()
                    .to_vec()
            };
            let mut c = Checksums::default();
            *alg.slot(&mut c) = Some(B64.encode(bytes));
            c
        } else if full.is_some() {
            to_checksums(hasher.finalize())
        } else {
            composite(upload.checksum_algorithm.as_deref(), &chosen)
        };
        // A full-object checksum the client computed must match ours.
        let sent = Checksums {
            crc32: i.checksum_crc32,
            crc32c: i.checksum_crc32c,
            crc64nvme: i.checksum_crc64nvme,
            sha1: i.checksum_sha1,
            sha256: i.checksum_sha256,
        };
        if full.is_some() {
            for alg in ChecksumAlgorithm::ALL
                .into_iter()
                .filter(|a| a.crc().is_some())
            {
                check_sum(alg, &sent, &checksums)?;
            }
        }
        let checksum_type = (checksums != Checksums::default()).then(|| {
            if full.is_some() {
                "FULL_OBJECT"
            } else {
                "COMPOSITE"
            }
            .to_owned()
        });
        let meta = ObjectMeta {
            file: String::new(),
            segments,
            size,
            etag: etag_value.clone(),
            last_modified_ms: now_ms(),
            props: upload.props,
            checksums: checksums.clone(),
            checksum_type: checksum_type.clone(),
            parts_count: u32::try_from(chosen.len()).ok(),
        };
        let store = self.store.clone();
        let (b, k, u) = (i.bucket.clone(), i.key.clone(), i.upload_id.clone());
        blocking(move || store.finish_upload(&u, Some((&b, &k, &meta)), pre.as_ref())).await?;
        Ok(S3Response::new(dto::CompleteMultipartUploadOutput {
            bucket: Some(i.bucket.clone()),
            key: Some(i.key.clone()),
            location: Some(format!("/{}/{}", i.bucket, i.key)),
            e_tag: Some(etag(&etag_value)),
            checksum_crc32: checksums.crc32,
            checksum_crc32c: checksums.crc32c,
            checksum_crc64nvme: checksums.crc64nvme,
            checksum_sha1: checksums.sha1,
            checksum_sha256: checksums.sha256,
            checksum_type: checksum_type.map(dto::ChecksumType::from),
            ..Default::default()
        }))
    }
}

/// The CRC of an upload whose checksum is FULL_OBJECT (CRC64NVME when none was asked
/// for, as S3 does).
fn full_crc_algorithm(upload: &UploadMeta) -> Option<ChecksumAlgorithm> {
    match upload.checksum_type.as_deref() {
        Some("FULL_OBJECT") => upload
            .checksum_algorithm
            .as_deref()
            .and_then(ChecksumAlgorithm::parse)
            .filter(|a| a.crc().is_some()),
        None => Some(ChecksumAlgorithm::Crc64Nvme),
        _ => None,
    }
}

impl Backend {
    /// The bytes `start..start + len` of an object, streamed from its files.
    fn read_range(
        &self,
        meta: &ObjectMeta,
        start: u64,
        len: u64,
    ) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send + Sync + 'static + use<>
    {
        use futures_util::TryStreamExt as _;
        // (path, offset in the file, bytes from it) for each file the range touches.
        let mut pieces = Vec::new();
        let (mut pos, end) = (0u64, start + len);
        for seg in meta.segments() {
            let (seg_start, seg_end) = (pos, pos + seg.size);
            pos = seg_end;
            let (from, to) = (start.max(seg_start), end.min(seg_end));
            if from < to {
                pieces.push((
                    self.store.object_path(&seg.file),
                    from - seg_start,
                    to - from,
                ));
            }
        }
        futures_util::stream::iter(pieces)
            .then(|(path, offset, n)| async move {
                let mut f = tokio::fs::File::open(path).await?;
                f.seek(SeekFrom::Start(offset)).await?;
                Ok::<_, std::io::Error>(tokio_util::io::ReaderStream::with_capacity(
                    f.take(n),
                    256 * 1024,
                ))
            })
            .try_flatten()
    }

    /// Feeds an object's bytes to `hasher`.
    async fn hash_segments(
        &self,
        segments: &[Segment],
        hasher: &mut ChecksumHasher,
    ) -> S3Result<()> {
        let mut buf = vec![0u8; 1024 * 1024];
        for seg in segments {
            let mut f = tokio::fs::File::open(self.store.object_path(&seg.file))
                .await
                .map_err(internal)?;
            loop {
                let n = f.read(&mut buf).await.map_err(internal)?;
                if n == 0 {
                    break;
                }
                hasher.update(buf.get(..n).unwrap_or_default());
            }
        }
        Ok(())
    }

    /// Copies an object's bytes into `tmp`, hashing them, fsynced; returns the size.
    async fn copy_hashing(
        &self,
        meta: &ObjectMeta,
        tmp: &Path,
        md5: &mut Md5,
        hasher: &mut ChecksumHasher,
    ) -> S3Result<u64> {
        let mut out = tokio::fs::File::create(tmp).await.map_err(internal)?;
        let mut src = std::pin::pin!(self.read_range(meta, 0, meta.size));
        let mut size = 0u64;
        while let Some(chunk) = src.next().await {
            let chunk = chunk.map_err(internal)?;
            md5.update(&chunk);
            hasher.update(&chunk);
            out.write_all(&chunk).await.map_err(internal)?;
            size += chunk.len() as u64;
        }
        out.flush().await.map_err(internal)?;
        out.sync_all().await.map_err(internal)?;
        Ok(size)
    }
}

/// S3's COMPOSITE checksum: the checksum of the parts' raw checksums, then `-N`.
fn composite(algorithm: Option<&str>, parts: &[PartMeta]) -> Checksums {
    let mut c = Checksums::default();
    let Some(alg) = algorithm
        .and_then(ChecksumAlgorithm::parse)
        .filter(|a| a.allows_type("COMPOSITE"))
    else {
        return c;
    };
    let raw = || -> Option<Vec<u8>> {
        let mut all = Vec::new();
        for p in parts {
            all.extend(B64.decode(alg.of(&p.checksums)?).ok()?);
        }
        Some(all)
    };
    *alg.slot(&mut c) = raw().map(|r| format!("{}-{}", B64.encode(alg.checksum(&r)), parts.len()));
    c
}

fn checksum_algorithms(c: &Checksums) -> Option<Vec<dto::ChecksumAlgorithm>> {
    let v: Vec<_> = ChecksumAlgorithm::ALL
        .into_iter()
        .filter(|a| a.of(c).is_some())
        .map(|a| dto::ChecksumAlgorithm::from_static(a.as_str()))
        .collect();
    (!v.is_empty()).then_some(v)
}

/// S3's ETag of a multipart object: the MD5 of its parts' binary MD5s, then `-` and the
/// number of parts.
fn multipart_etag(parts: &[PartMeta], upload_id: &str) -> S3Result<String> {
    let mut md5s = Md5::new();
    for p in parts {
        // Each part's ETag is the hex MD5 this store wrote: anything else is damage to the
        // metadata, said as such rather than hashed as zeros (issue 15).
        let mut raw = [0u8; 16];
        hex::decode_to_slice(&p.etag, &mut raw).map_err(|_| {
            internal(format!(
                "a stored part ETag of upload {upload_id} is not a hex MD5 ({:?}): the store's \
                 metadata is damaged; abort the upload and send it again",
                p.etag
            ))
        })?;
        md5s.update(&raw);
    }
    Ok(format!("{}-{}", hex(&md5s.finalize()), parts.len()))
}

/// Continuation tokens are opaque to clients: the hex of the last key or prefix returned.
fn encode_token(last: &str) -> String {
    hex(last.as_bytes())
}

/// The key a continuation token of [`encode_token`] continues after; a token this store
/// did not make is refused as S3 refuses it (`InvalidArgument`), rather than restarting
/// the listing (issue 15).
fn decode_token(t: &str) -> S3Result<String> {
    hex::decode(t)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| {
            s3_error!(
                InvalidArgument,
                "The continuation token provided is incorrect"
            )
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn part(etag: &str) -> PartMeta {
        PartMeta {
            file: "f".into(),
            size: 1,
            etag: etag.into(),
            last_modified_ms: 0,
            checksums: Checksums::default(),
            full_crc: None,
        }
    }

    #[test]
    fn r15_checksum_algorithms_are_s3s_five_in_any_case() {
        use ChecksumAlgorithm as A;
        let names = [
            dto::ChecksumAlgorithm::CRC32,
            dto::ChecksumAlgorithm::CRC32C,
            dto::ChecksumAlgorithm::CRC64NVME,
            dto::ChecksumAlgorithm::SHA1,
            dto::ChecksumAlgorithm::SHA256,
        ];
        for (a, name) in A::ALL.into_iter().zip(names) {
            assert_eq!(a.as_str(), name);
            assert_eq!(A::parse(name), Some(a));
            assert_eq!(A::parse(&name.to_ascii_lowercase()), Some(a));
            let header = format!("x-amz-checksum-{}", name.to_ascii_lowercase());
            assert_eq!(a.header(), header);
        }
        assert_eq!(A::parse("Crc64Nvme"), Some(A::Crc64Nvme));
        for unknown in ["MD5", "CRC64", "", " crc32"] {
            assert_eq!(A::parse(unknown), None, "{unknown:?}");
        }
        // FULL_OBJECT takes the CRCs, COMPOSITE all but CRC64NVME, which defaults to
        // FULL_OBJECT; other types are not checked here.
        let allowing =
            |t: &str| -> Vec<A> { A::ALL.into_iter().filter(|a| a.allows_type(t)).collect() };
        assert_eq!(allowing("FULL_OBJECT"), [A::Crc32, A::Crc32c, A::Crc64Nvme]);
        assert_eq!(
            allowing("COMPOSITE"),
            [A::Crc32, A::Crc32c, A::Sha1, A::Sha256]
        );
        assert_eq!(allowing("OTHER"), A::ALL);
        for a in A::ALL {
            let want = if a == A::Crc64Nvme {
                "FULL_OBJECT"
            } else {
                "COMPOSITE"
            };
            assert_eq!(a.default_type(), want);
        }
    }

    #[test]
    fn r15_composite_checksum_of_the_parts_checksums() {
        let with = |crc32: &[u8]| PartMeta {
            checksums: Checksums {
                crc32: Some(B64.encode(crc32)),
                ..Checksums::default()
            },
            ..part("0cc175b9c0f1b6a831c399e269772661")
        };
        let parts = [with(&[1, 2, 3, 4]), with(&[5, 6, 7, 8])];
        let want = format!(
            "{}-2",
            B64.encode(Crc32::checksum(&[1, 2, 3, 4, 5, 6, 7, 8]))
        );
        assert_eq!(composite(Some("CRC32"), &parts).crc32, Some(want));
        // CRC64NVME has no composite form; no algorithm or an unknown one gives none.
        for alg in [Some("CRC64NVME"), Some("MD5"), None] {
            assert_eq!(composite(alg, &parts), Checksums::default(), "{alg:?}");
        }
    }

    #[test]
    fn r15_a_damaged_part_etag_is_an_error_not_zeros() {
        // S3's documented form: MD5 of the binary part MD5s, "-", the count.
        let good = [
            part("0cc175b9c0f1b6a831c399e269772661"),
            part("92eb5ffee6ae2fec3ad71c777531578f"),
        ];
        let etag = multipart_etag(&good, "u1").unwrap();
        assert!(etag.ends_with("-2") && etag.len() == 34, "{etag}");
        for bad in ["not-hex", "0cc175b9", ""] {
            let err = multipart_etag(&[part(bad)], "u1").unwrap_err();
            let text = err.message().unwrap_or_default().to_owned();
            assert_eq!(*err.code(), S3ErrorCode::InternalError, "{bad}");
            assert!(
                text.contains("u1") && text.contains("damaged"),
                "{bad}: {text}"
            );
        }
    }
}
