//! What an uploaded object is called and carries: its key ([`KeyTemplate`]), content
//! type ([`content_type_for`]), user metadata ([`Metadata`]), canned ACL
//! ([`CannedAcl`]), storage class ([`StorageClass`]) and server-side encryption
//! ([`ServerSideEncryption`]), bundled as [`ObjectProperties`] that turn into the
//! request headers of `PutObject` and `CreateMultipartUpload`.

mod content_type;
pub(crate) mod key;
mod metadata;
mod settings;

pub use content_type::{DEFAULT_CONTENT_TYPE, content_type_for};
pub use key::{KeyContext, KeyTemplate, MAX_KEY_LEN, clean_file_name, uuid_v4};
pub use metadata::{MAX_METADATA_SIZE, Metadata};
pub use settings::{CannedAcl, ServerSideEncryption, SseCustomerKey, StorageClass};

/// Everything but the bytes and the key that an upload sends about its object.
///
/// The default sends nothing: S3 then stores `binary/octet-stream`, the bucket's
/// default ACL, `STANDARD` and the bucket's default encryption. Use
/// [`ObjectProperties::for_file`] to start from the file's content type.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ObjectProperties {
    /// `Content-Type`; `None` sends none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// `x-amz-meta-*`.
    #[serde(skip_serializing_if = "Metadata::is_empty")]
    pub metadata: Metadata,
    /// `x-amz-acl`; `None` leaves the bucket's default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acl: Option<CannedAcl>,
    /// `x-amz-storage-class`; `None` means `STANDARD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<StorageClass>,
    /// `x-amz-server-side-encryption*`; `None` leaves the bucket's default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sse: Option<ServerSideEncryption>,
}

impl ObjectProperties {
    /// Defaults, with the content type guessed from `file_name`'s extension.
    pub fn for_file(file_name: &str) -> Self {
        ObjectProperties {
            content_type: Some(content_type_for(file_name).to_owned()),
            ..ObjectProperties::default()
        }
    }

    /// The request headers of `PutObject` and `CreateMultipartUpload`, lowercase
    /// names, in a fixed order. With SSE-C they include the key: never log them.
    pub fn headers(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(ct) = &self.content_type {
            out.push(("content-type".to_owned(), ct.clone()));
        }
        if let Some(acl) = self.acl {
            out.push(("x-amz-acl".to_owned(), acl.as_str().to_owned()));
        }
        if let Some(class) = self.storage_class {
            out.push(("x-amz-storage-class".to_owned(), class.as_str().to_owned()));
        }
        if let Some(sse) = &self.sse {
            out.extend(sse.headers());
        }
        out.extend(self.metadata.headers());
        out
    }

    /// The headers every `UploadPart` of the upload must repeat: the SSE-C ones, and
    /// nothing otherwise.
    pub fn upload_part_headers(&self) -> Vec<(String, String)> {
        match &self.sse {
            Some(ServerSideEncryption::CustomerKey(key)) => key.headers(),
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn default_sends_nothing() {
        assert!(ObjectProperties::default().headers().is_empty());
        assert_eq!(
            serde_json::to_string(&ObjectProperties::default()).unwrap(),
            "{}"
        );
    }

    #[test]
    fn all_headers() {
        let mut p = ObjectProperties::for_file("report.PDF");
        p.acl = Some(CannedAcl::BucketOwnerFullControl);
        p.storage_class = Some(StorageClass::IntelligentTiering);
        p.sse = Some(ServerSideEncryption::Kms {
            key_id: Some("k1".into()),
            context: BTreeMap::new(),
        });
        p.metadata.insert("owner", "alice").unwrap();
        let h = p.headers();
        let names: Vec<&str> = h.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "content-type",
                "x-amz-acl",
                "x-amz-storage-class",
                "x-amz-server-side-encryption",
                "x-amz-server-side-encryption-aws-kms-key-id",
                "x-amz-meta-owner"
            ]
        );
        assert_eq!(h[0].1, "application/pdf");
        assert!(p.upload_part_headers().is_empty());
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<ObjectProperties>(&json).unwrap(), p);
    }

    #[test]
    fn sse_c_goes_on_every_part() {
        let p = ObjectProperties {
            sse: Some(ServerSideEncryption::CustomerKey(
                SseCustomerKey::new(&[7; 32]).unwrap(),
            )),
            ..ObjectProperties::default()
        };
        assert_eq!(p.upload_part_headers().len(), 3);
        assert_eq!(p.headers(), p.upload_part_headers());
    }

    #[test]
    fn config_form() {
        let p: ObjectProperties = serde_json::from_str(
            r#"{"acl":"private","storage_class":"standard_ia","sse":{"type":"AES256"},
                "metadata":{"Project":"x"}}"#,
        )
        .unwrap();
        assert_eq!(p.storage_class, Some(StorageClass::StandardIa));
        assert_eq!(p.metadata.get("project"), Some("x"));
        let e = serde_json::from_str::<ObjectProperties>(r#"{"acl":"open"}"#).unwrap_err();
        assert!(e.to_string().contains("not a valid canned ACL"), "{e}");
    }
}
