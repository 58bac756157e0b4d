//! What a bucket's CORS rule must admit for the browser package: one list, used by
//! `updraft dev`'s default rule and by `updraft doctor`'s fixes.
//! See <https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html>.

/// The methods the package sends: uploads (PUT, POST), and the page's own files (GET, HEAD,
/// DELETE).
pub const ALLOWED_METHODS: &[&str] = &["PUT", "POST", "GET", "HEAD", "DELETE"];

/// The request headers the package sends, lower case (some S3-compatible stores match
/// them case-sensitively, and browsers send them lower case).
pub const ALLOWED_HEADERS: &[&str] = &[
    "authorization",
    "content-type",
    "content-md5",
    "x-amz-acl",
    "x-amz-checksum-algorithm",
    "x-amz-checksum-crc32c",
    "x-amz-checksum-crc64nvme",
    "x-amz-checksum-type",
    "x-amz-content-sha256",
    "x-amz-date",
    "x-amz-meta-*",
    "x-amz-sdk-checksum-algorithm",
    "x-amz-security-token",
    "x-amz-server-side-encryption",
    "x-amz-storage-class",
    "cache-control",
    "content-disposition",
];

/// The answer headers the page reads: `ETag` (each part's, to complete a multipart upload),
/// the checksums, the version, and `Date` (to correct a skewed clock).
pub const EXPOSE_HEADERS: &[&str] = &[
    "ETag",
    "x-amz-checksum-crc32c",
    "x-amz-checksum-crc64nvme",
    "x-amz-version-id",
    "Date",
];

/// How long a browser may keep a preflight's answer, in seconds (`MaxAgeSeconds`): one
/// preflight per key and method for the better part of an hour.
pub const MAX_AGE_SECONDS: u32 = 3000;
