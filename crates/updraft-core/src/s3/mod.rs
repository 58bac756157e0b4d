//! The S3 operations an uploader needs, as unsigned [`crate::http::Request`]s and
//! parsers of the answers.
//!
//! # In scope
//! - [`Endpoint`]: AWS or any S3-compatible server, path- or virtual-hosted-style.
//! - Single uploads ([`PutObject`], [`PostObject`] form uploads), multipart uploads
//!   ([`CreateMultipartUpload`], [`UploadPart`], [`CompleteMultipartUpload`],
//!   [`AbortMultipartUpload`], [`ListParts`], [`ListMultipartUploads`]), and
//!   [`ListObjectsV2`], [`HeadObject`], [`DeleteObject`].
//! - Error answers, as [`S3Error`] with an [`S3ErrorKind`], including the 200 OK with an
//!   `<Error>` body that CompleteMultipartUpload may send.
//!
//! # Out of scope
//! Signing (`crate::sigv4` signs the requests built here, and adds `host` and
//! `x-amz-date`), sending, retrying, and validating ACLs, storage classes and metadata
//! (`crate::object`).
//!
//! Each operation is a plain struct: `request(&endpoint)` builds the request and
//! `parse(&response)` reads the answer to it, so errors name the bucket and key.

pub mod cors;
mod endpoint;
mod error;
mod ops;
mod post;

pub use endpoint::{Addressing, Endpoint, Origin, Scheme};
pub use error::{S3Error, S3ErrorKind};
pub use ops::{
    AbortMultipartUpload, Checksums, CompleteMultipartUpload, CompleteMultipartUploadOutput,
    CompletedPart, CreateMultipartUpload, CreateMultipartUploadOutput, DeleteObject, HeadObject,
    HeadObjectOutput, ListMultipartUploads, ListMultipartUploadsOutput, ListObjectsV2,
    ListObjectsV2Output, ListParts, ListPartsOutput, MultipartUpload, Object, Part, PutObject,
    PutObjectOutput, PutOptions, UploadPart, UploadPartOutput,
};
pub use post::{MultipartBody, PostObject, PostObjectOutput};
