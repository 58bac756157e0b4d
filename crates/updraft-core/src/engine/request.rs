//! Building a file's next request from its state, and what the engine keeps of a
//! request in flight: the S3 operation it was built from, so its answer is read by what
//! was sent.

use crate::checksum::ChecksumAlgorithm;
use crate::http::Request;
use crate::s3::{
    AbortMultipartUpload, CompleteMultipartUpload, CompletedPart, CreateMultipartUpload,
    HeadObject, ListMultipartUploads, ListParts, PostObject, PutObject, UploadPart,
};
use crate::sigv4::{PostPolicy, Signer, SigningParams};
use crate::{Credentials, Timestamp};

use super::EngineConfig;
use super::FileId;
use super::checksums::{checksum_base64, full_crc, part_checksums};
use super::state::{State, Upload};

/// The S3 operation a request was built from.
#[derive(Clone, Debug)]
pub(super) enum Sent {
    Put(PutObject),
    Post(PostObject),
    Create(CreateMultipartUpload),
    Part(UploadPart),
    List(ListParts),
    Complete(CompleteMultipartUpload),
    Head(HeadObject),
    Abort(AbortMultipartUpload),
    /// ListMultipartUploads for this key, to find uploads a lost answer left behind.
    ListUploads(ListMultipartUploads),
    /// Abort the last of the orphans being cleaned up.
    AbortOrphan(AbortMultipartUpload),
}

impl Sent {
    /// The byte range of the file the request's body carries.
    pub(super) fn body(&self, u: &Upload) -> Option<(u64, u64)> {
        match self {
            Sent::Put(_) | Sent::Post(_) => Some((0, u.spec.size)),
            Sent::Part(p) => u.part_plan()?.range(p.part_number),
            _ => None,
        }
    }
}

/// A request handed to the driver and not yet answered.
#[derive(Clone, Debug)]
pub(super) struct InFlight {
    pub(super) file: FileId,
    pub(super) sent: Sent,
    /// Bytes of the body, and how many have gone out.
    pub(super) len: u64,
    pub(super) moved: u64,
    /// When a byte last moved (or the request was handed out), and how long it may stall.
    pub(super) active_at: u64,
    /// `None`: never abandoned (`stall_timeout_ms` 0).
    pub(super) stall_limit_ms: Option<u64>,
    pub(super) signed_at: Timestamp,
    /// The clock offset the request was signed with.
    pub(super) offset_secs: i64,
    /// Where it went: 0 the endpoint, `i` [`EngineConfig::form_urls`]`[i - 1]`.
    pub(super) lane: usize,
}

/// Which task of a state a request is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Slot {
    /// The state's one task.
    One,
    /// `tasks[i]` of `SendingParts`.
    Part(usize),
}

/// The operation for the task in `slot` of `u`'s state; `None` when the state sends
/// nothing there.
pub(super) fn build(config: &EngineConfig, u: &Upload, slot: Slot) -> Option<Sent> {
    let bucket = config.bucket.clone();
    let key = u.spec.key.clone();
    let algorithm = config.checksum;
    let sent = match (&u.state, slot) {
        (State::ExpectPut { task }, Slot::One) if is_post(config, u) => Sent::Post(PostObject {
            bucket,
            key,
            ..PostObject::default()
        }),
        (State::ExpectPut { task }, Slot::One) => Sent::Put(PutObject {
            bucket,
            key,
            len: u.spec.size,
            options: u.spec.options.clone(),
            content_md5: None,
            checksums: part_checksums(algorithm, task.crc),
        }),
        (State::ExpectCreated { .. }, Slot::One) => {
            let mut options = u.spec.options.clone();
            if let Some(a) = algorithm {
                options.checksum_algorithm = Some(a.as_str().to_owned());
                options.checksum_type = Some(
                    match a {
                        ChecksumAlgorithm::Crc64Nvme => "FULL_OBJECT",
                        ChecksumAlgorithm::Crc32c => "COMPOSITE",
                    }
                    .to_owned(),
                );
            }
            Sent::Create(CreateMultipartUpload {
                bucket,
                key,
                options,
            })
        }
        (State::SendingParts { upload, tasks, .. }, Slot::Part(i)) => {
            let part = tasks.get(i)?;
            Sent::Part(UploadPart {
                bucket,
                key,
                upload_id: upload.upload_id.clone(),
                part_number: part.number,
                len: u.part_len(part.number),
                content_md5: None,
                checksums: part_checksums(algorithm, part.task.crc),
            })
        }
        (State::ExpectListed { upload, marker, .. }, Slot::One) => Sent::List(ListParts {
            bucket,
            key,
            upload_id: upload.upload_id.clone(),
            max_parts: None,
            part_number_marker: *marker,
        }),
        (State::ExpectCompleted { upload, .. }, Slot::One) => {
            Sent::Complete(complete_request(config, u, upload)?)
        }
        (State::ExpectHead { .. }, Slot::One) => Sent::Head(HeadObject { bucket, key }),
        (State::Aborting { upload_id, .. }, Slot::One) => Sent::Abort(AbortMultipartUpload {
            bucket,
            key,
            upload_id: upload_id.clone(),
        }),
        (
            State::CleaningUp {
                orphans,
                marker,
                listed,
                ..
            },
            Slot::One,
        ) => match orphans.last() {
            Some(upload_id) if *listed => Sent::AbortOrphan(AbortMultipartUpload {
                bucket,
                key,
                upload_id: upload_id.clone(),
            }),
            _ => Sent::ListUploads(ListMultipartUploads {
                bucket,
                prefix: Some(key),
                key_marker: marker.as_ref().map(|m| m.0.clone()),
                upload_id_marker: marker.as_ref().map(|m| m.1.clone()),
                max_uploads: None,
            }),
        },
        _ => return None,
    };
    Some(sent)
}

/// The CompleteMultipartUpload of `upload`, naming every part; `None` while a part is
/// missing.
pub(super) fn complete_request(
    config: &EngineConfig,
    u: &Upload,
    upload: &super::state::Multipart,
) -> Option<CompleteMultipartUpload> {
    let algorithm = config.checksum;
    // A loop, not `collect::<Option<…>>` (its adapters are code of their own: wasm size).
    let mut parts = Vec::new();
    for (i, p) in upload.parts.iter().enumerate() {
        let p = p.as_ref()?;
        parts.push(CompletedPart {
            part_number: i as u32 + 1,
            etag: p.etag.clone(),
            checksums: part_checksums(algorithm, p.crc),
        });
    }
    Some(CompleteMultipartUpload {
        bucket: config.bucket.clone(),
        key: u.spec.key.clone(),
        upload_id: upload.upload_id.clone(),
        parts,
        full_object_crc64nvme: full_crc(config, u, upload),
    })
}

/// How long a request may move no byte: see [`EngineConfig::stall_timeout_ms`].
pub(super) fn stall_limit(stall_ms: u64, post: bool, len: u64) -> Option<u64> {
    match (stall_ms, post, len) {
        (0, _, _) => None,
        (ms, true, len) => Some(ms.saturating_add(len / 16)),
        (ms, false, 0) => Some(ms.saturating_mul(5)),
        (ms, false, _) => Some(ms),
    }
}

/// Whether `u`'s single upload goes as a POST Object form
/// ([`EngineConfig::post_max_size`]).
pub(super) fn is_post(config: &EngineConfig, u: &Upload) -> bool {
    config.post_max_size > 0 && u.spec.size <= config.post_max_size
}

/// The bucket's URL (`lane` 0: the endpoint's; `i`: [`EngineConfig::form_urls`]`[i - 1]`)
/// and the signed fields of a POST Object form for `u`: its key, the
/// object's options and checksum, each pinned by the policy to exactly this value, and
/// the length to exactly the file's.
pub(super) fn post_form(
    config: &EngineConfig,
    u: &Upload,
    crc: Option<u64>,
    creds: &Credentials,
    time: Timestamp,
    signer: &mut Signer,
    lane: usize,
) -> (String, Vec<(String, String)>) {
    let url = match lane.checked_sub(1).and_then(|i| config.form_urls.get(i)) {
        Some(url) => url.clone(),
        None => {
            let (host, path) = config.endpoint.locate(&config.bucket, None);
            crate::cat!(
                "{}://{}{}",
                config.endpoint.origin.scheme.as_str(),
                host,
                path
            )
        }
    };
    let o = &u.spec.options;
    let mut fields = vec![("key".to_owned(), u.spec.key.clone())];
    for (name, value) in [
        ("acl", &o.acl),
        ("Content-Type", &o.content_type),
        ("Content-Disposition", &o.content_disposition),
        ("Cache-Control", &o.cache_control),
        ("x-amz-storage-class", &o.storage_class),
        ("x-amz-server-side-encryption", &o.server_side_encryption),
        (
            "x-amz-server-side-encryption-aws-kms-key-id",
            &o.sse_kms_key_id,
        ),
    ] {
        if let Some(v) = value {
            fields.push((name.to_owned(), v.clone()));
        }
    }
    for (name, value) in &o.metadata {
        fields.push((
            crate::cat!("x-amz-meta-{}", name.to_ascii_lowercase()),
            value.clone(),
        ));
    }
    if let (Some(algorithm), Some(crc)) = (config.checksum, crc) {
        fields.push((
            algorithm.header_name().to_owned(),
            checksum_base64(Some(algorithm), crc),
        ));
    }
    // Valid long enough for a slow link; the form is sent at once.
    let mut policy = PostPolicy::new(time.add_secs(3600))
        .equals("bucket", &config.bucket)
        .content_length_range(u.spec.size, u.spec.size);
    for (name, value) in &fields {
        policy = policy.equals(name, value);
    }
    let params = SigningParams::s3(creds, &config.endpoint.region, time);
    fields.extend(policy.sign(signer, &params).fields);
    (url, fields)
}

/// The unsigned request of `sent`; `None` for a POST form, which the driver builds
/// from [`post_form`]'s fields.
pub(super) fn request(config: &EngineConfig, sent: &Sent) -> Option<Request> {
    let e = &config.endpoint;
    Some(match sent {
        Sent::Put(op) => op.request(e),
        Sent::Post(_) => return None,
        Sent::Create(op) => op.request(e),
        Sent::Part(op) => op.request(e),
        Sent::List(op) => op.request(e),
        Sent::Complete(op) => op.request(e),
        Sent::Head(op) => op.request(e),
        Sent::Abort(op) | Sent::AbortOrphan(op) => op.request(e),
        Sent::ListUploads(op) => op.request(e),
    })
}
