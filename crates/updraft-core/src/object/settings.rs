//! Canned ACLs, storage classes and server-side encryption, as S3 spells them.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use md5::{Digest, Md5};

use crate::base64::base64_encode;
use crate::{Error, Secret};

/// An enum of fixed S3 spellings with `as_str`, `FromStr` (the S3 spelling, any case,
/// `-` and `_` alike), `Display` and serde (the S3 spelling out, any accepted form in).
macro_rules! s3_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident => $s3:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in S3's documentation order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value as S3 spells it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $s3, )+
                }
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                let norm = |x: &str| x.trim().to_ascii_lowercase().replace('_', "-");
                let wanted = norm(s);
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| norm(v.as_str()) == wanted)
                    .ok_or_else(|| Error::InvalidSetting {
                        what: $what,
                        value: s.to_owned(),
                        valid: concat!($($s3, " "),+).trim_ascii_end(),
                    })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

s3_enum! {
    /// A canned ACL (`x-amz-acl`). Buckets created since April 2023 disable ACLs
    /// (Object Ownership "bucket owner enforced") and accept only `private` /
    /// `bucket-owner-full-control`, or none.
    CannedAcl, "canned ACL" {
        Private => "private",
        PublicRead => "public-read",
        PublicReadWrite => "public-read-write",
        AuthenticatedRead => "authenticated-read",
        AwsExecRead => "aws-exec-read",
        BucketOwnerRead => "bucket-owner-read",
        BucketOwnerFullControl => "bucket-owner-full-control",
    }
}

s3_enum! {
    /// An S3 storage class (`x-amz-storage-class`).
    StorageClass, "storage class" {
        Standard => "STANDARD",
        ReducedRedundancy => "REDUCED_REDUNDANCY",
        StandardIa => "STANDARD_IA",
        OnezoneIa => "ONEZONE_IA",
        IntelligentTiering => "INTELLIGENT_TIERING",
        Glacier => "GLACIER",
        DeepArchive => "DEEP_ARCHIVE",
        GlacierIr => "GLACIER_IR",
        ExpressOnezone => "EXPRESS_ONEZONE",
    }
}

/// Server-side encryption of the stored object.
///
/// serde form: `{"type": "AES256"}` or `{"type": "aws:kms", "key_id": "...",
/// "context": {"k": "v"}}`. An SSE-C key is a secret and never serialises:
/// serialising [`ServerSideEncryption::CustomerKey`] is an error, and it cannot be
/// deserialised (give it to the uploader at run time instead).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type")]
pub enum ServerSideEncryption {
    /// SSE-S3: keys S3 manages (`AES256`).
    #[serde(rename = "AES256")]
    S3,
    /// SSE-KMS (`aws:kms`), with the bucket's default KMS key when `key_id` is `None`.
    #[serde(rename = "aws:kms")]
    Kms {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key_id: Option<String>,
        /// The encryption context, sent as base64 of its JSON.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        context: BTreeMap<String, String>,
    },
    /// SSE-C: a 256-bit key the uploader supplies with every request of the upload.
    #[serde(skip)]
    CustomerKey(SseCustomerKey),
}

/// The valid spellings of [`ServerSideEncryption`] for messages.
const SSE_VALID: &str = "AES256, aws:kms (SSE-C needs a key, see SseCustomerKey)";

impl ServerSideEncryption {
    /// The value of `x-amz-server-side-encryption` (`AES256` or `aws:kms`); SSE-C has
    /// none and sends `x-amz-server-side-encryption-customer-algorithm` instead.
    pub fn as_str(&self) -> Option<&'static str> {
        match self {
            ServerSideEncryption::S3 => Some("AES256"),
            ServerSideEncryption::Kms { .. } => Some("aws:kms"),
            ServerSideEncryption::CustomerKey(_) => None,
        }
    }

    /// The request headers for `PutObject`, `CreateMultipartUpload` and POST uploads.
    pub fn headers(&self) -> Vec<(String, String)> {
        let h = |n: &str, v: String| (n.to_owned(), v);
        match self {
            ServerSideEncryption::S3 => vec![h("x-amz-server-side-encryption", "AES256".into())],
            ServerSideEncryption::Kms { key_id, context } => {
                let mut out = vec![h("x-amz-server-side-encryption", "aws:kms".into())];
                if let Some(id) = key_id {
                    out.push(h("x-amz-server-side-encryption-aws-kms-key-id", id.clone()));
                }
                if !context.is_empty() {
                    let json = crate::json::Value::Object(
                        context
                            .iter()
                            .map(|(k, v)| (k.clone(), v.as_str().into()))
                            .collect(),
                    )
                    .to_json();
                    out.push(h(
                        "x-amz-server-side-encryption-context",
                        base64_encode(json.as_bytes()),
                    ));
                }
                out
            }
            ServerSideEncryption::CustomerKey(key) => key.headers(),
        }
    }
}

impl FromStr for ServerSideEncryption {
    type Err = Error;
    /// `AES256` or `aws:kms` (bucket default key); SSE-C cannot come from a string.
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.trim() {
            x if x.eq_ignore_ascii_case("AES256") => Ok(ServerSideEncryption::S3),
            x if x.eq_ignore_ascii_case("aws:kms") => Ok(ServerSideEncryption::Kms {
                key_id: None,
                context: BTreeMap::new(),
            }),
            _ => Err(Error::InvalidSetting {
                what: "server-side encryption",
                value: s.to_owned(),
                valid: SSE_VALID,
            }),
        }
    }
}

/// An SSE-C key: 32 bytes, kept base64-encoded in a [`Secret`], with its MD5.
///
/// MD5 comes from the RustCrypto `md-5` crate, which shares `digest` with the `sha2`
/// the signer uses already. In a `wasm32` probe (opt-level `z`, LTO) it added 7.0 KB
/// raw / 3.0 KB gzip next to `sha2`, the same as on its own: the cost is MD5's code.
#[derive(Clone, PartialEq, Eq)]
pub struct SseCustomerKey {
    key_base64: Secret,
    key_md5: String,
}

impl SseCustomerKey {
    /// The key from its 32 raw bytes.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] when `key` is not 32 bytes long (the message gives the
    /// length, never the key).
    pub fn new(key: &[u8]) -> Result<Self, Error> {
        if key.len() != 32 {
            return Err(Error::InvalidSetting {
                what: "SSE-C key length",
                value: crate::cat!("{} bytes", key.len()),
                valid: "32 bytes (AES-256)",
            });
        }
        Ok(SseCustomerKey {
            key_base64: Secret::new(base64_encode(key)),
            key_md5: base64_encode(&Md5::digest(key)),
        })
    }

    /// base64 of the key's MD5, which S3 echoes in responses.
    pub fn key_md5(&self) -> &str {
        &self.key_md5
    }

    /// The three `x-amz-server-side-encryption-customer-*` headers. They must be sent
    /// with `PutObject`, `CreateMultipartUpload` **and every `UploadPart`**. The key
    /// header holds the secret: never log these values.
    pub fn headers(&self) -> Vec<(String, String)> {
        vec![
            (
                "x-amz-server-side-encryption-customer-algorithm".into(),
                "AES256".into(),
            ),
            (
                "x-amz-server-side-encryption-customer-key".into(),
                self.key_base64.expose().to_owned(),
            ),
            (
                "x-amz-server-side-encryption-customer-key-md5".into(),
                self.key_md5.clone(),
            ),
        ]
    }
}

impl fmt::Debug for SseCustomerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseCustomerKey")
            .field("key", &"***")
            .field("key_md5", &self.key_md5)
            .finish()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn acl_parse_and_spell() {
        for acl in CannedAcl::ALL {
            assert_eq!(acl.as_str().parse::<CannedAcl>().unwrap(), *acl);
        }
        assert_eq!(
            "Public_Read".parse::<CannedAcl>().unwrap(),
            CannedAcl::PublicRead
        );
        let e = "public".parse::<CannedAcl>().unwrap_err().to_string();
        assert!(e.contains("\"public\" is not a valid canned ACL"), "{e}");
        assert!(e.contains("private public-read public-read-write"), "{e}");
        assert_eq!(
            serde_json::to_string(&CannedAcl::BucketOwnerFullControl).unwrap(),
            "\"bucket-owner-full-control\""
        );
    }

    #[test]
    fn storage_class_parse_and_spell() {
        for c in StorageClass::ALL {
            assert_eq!(c.as_str().parse::<StorageClass>().unwrap(), *c);
        }
        assert_eq!(
            "standard-ia".parse::<StorageClass>().unwrap(),
            StorageClass::StandardIa
        );
        assert_eq!(
            serde_json::from_str::<StorageClass>("\"glacier-ir\"").unwrap(),
            StorageClass::GlacierIr
        );
        assert_eq!(
            serde_json::to_string(&StorageClass::GlacierIr).unwrap(),
            "\"GLACIER_IR\""
        );
        let e = "COLD".parse::<StorageClass>().unwrap_err().to_string();
        assert!(
            e.contains("STANDARD_IA") && e.contains("EXPRESS_ONEZONE"),
            "{e}"
        );
    }

    #[test]
    fn sse_headers() {
        assert_eq!(
            ServerSideEncryption::S3.headers(),
            vec![(
                "x-amz-server-side-encryption".to_owned(),
                "AES256".to_owned()
            )]
        );
        let kms = ServerSideEncryption::Kms {
            key_id: Some("arn:aws:kms:us-east-1:111122223333:key/abc".into()),
            context: BTreeMap::from([("project".to_owned(), "x".to_owned())]),
        };
        let h = kms.headers();
        assert_eq!(h[0].1, "aws:kms");
        assert_eq!(h[1].0, "x-amz-server-side-encryption-aws-kms-key-id");
        assert_eq!(h[2].1, base64_encode(br#"{"project":"x"}"#));
        assert_eq!(
            "AWS:KMS".parse::<ServerSideEncryption>().unwrap().as_str(),
            Some("aws:kms")
        );
        assert!(
            "SSE-C"
                .parse::<ServerSideEncryption>()
                .unwrap_err()
                .to_string()
                .contains("AES256, aws:kms")
        );
        let json = serde_json::to_string(&kms).unwrap();
        assert_eq!(
            json,
            r#"{"type":"aws:kms","key_id":"arn:aws:kms:us-east-1:111122223333:key/abc","context":{"project":"x"}}"#
        );
        assert_eq!(
            serde_json::from_str::<ServerSideEncryption>(&json).unwrap(),
            kms
        );
        assert_eq!(
            serde_json::from_str::<ServerSideEncryption>(r#"{"type":"AES256"}"#).unwrap(),
            ServerSideEncryption::S3
        );
    }

    #[test]
    fn sse_c_key_is_secret() {
        let key = [0x61u8; 32]; // "aaaa…"
        let k = SseCustomerKey::new(&key).unwrap();
        let h = k.headers();
        assert_eq!(h[1].1, base64_encode(&key));
        assert_eq!(h[2].1, base64_encode(&Md5::digest(key)));
        assert_eq!(k.key_md5(), h[2].1);
        let dbg = format!("{:?}", ServerSideEncryption::CustomerKey(k.clone()));
        assert!(!dbg.contains(&h[1].1), "{dbg}");
        assert!(serde_json::to_string(&ServerSideEncryption::CustomerKey(k)).is_err());
        let e = SseCustomerKey::new(&[1, 2, 3]).unwrap_err().to_string();
        assert!(e.contains("3 bytes") && e.contains("32 bytes"), "{e}");
    }

    #[test]
    fn md5_known_value() {
        // RFC 1321 test suite.
        assert_eq!(
            base64_encode(&Md5::digest(b"abc")),
            base64_encode(&[
                0x90, 0x01, 0x50, 0x98, 0x3c, 0xd2, 0x4f, 0xb0, 0xd6, 0x96, 0x3f, 0x7d, 0x28, 0xe1,
                0x7f, 0x72
            ])
        );
    }
}
