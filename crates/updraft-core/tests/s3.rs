//! S3 request builders and parsers against the documented answers in `tests/data`.
#![allow(clippy::unwrap_used)]

mod common;

use common::response;
use updraft_core::http::{Body, Method, Response};
use updraft_core::s3::*;
use updraft_core::{Error, Timestamp};

fn local() -> Endpoint {
    Endpoint::custom("http://127.0.0.1:9000", "us-east-1", Addressing::Auto).unwrap()
}

fn s3_error(r: Result<impl std::fmt::Debug, Error>) -> S3Error {
    match r {
        Err(Error::S3(e)) => *e,
        other => panic!("expected an S3 error, got {other:?}"),
    }
}

fn list_parts() -> ListParts {
    ListParts {
        bucket: "example-bucket".into(),
        key: "example-object".into(),
        upload_id: "XXBsb2FkIElEIGZvciBlbHZpbmcncyVcdS1tb3ZpZS5tMnRzEEEwbG9hZA".into(),
        ..ListParts::default()
    }
}

#[test]
fn list_parts_pages_through_the_documented_answer() {
    let op = ListParts {
        part_number_marker: Some(1),
        ..list_parts()
    };
    let req = op.request(&Endpoint::aws("us-east-1"));
    assert_eq!(req.method, Method::Get);
    assert_eq!(req.host, "example-bucket.s3.us-east-1.amazonaws.com");
    assert_eq!(
        req.url(),
        "https://example-bucket.s3.us-east-1.amazonaws.com/example-object?uploadId=XXBsb2FkIElEIGZvciBlbHZpbmcncyVcdS1tb3ZpZS5tMnRzEEEwbG9hZA&max-parts=1000&part-number-marker=1"
    );
    let page = op.parse(&response(200, "s3-list-parts.xml")).unwrap();
    assert!(page.is_truncated);
    assert_eq!(page.next_part_number_marker, Some(3));
    assert_eq!(page.parts.len(), 2);
    assert_eq!(page.parts[0].part_number, 2);
    assert_eq!(page.parts[0].etag, "\"7778aef83f66abc1fa1e8477f296d394\"");
    assert_eq!(page.parts[0].size, 10_485_760);
    assert_eq!(
        page.parts[0].last_modified,
        Some(Timestamp::parse_rfc3339("2010-11-10T20:48:34Z", "t").unwrap())
    );

    let next = op.next_page(&page).unwrap();
    assert_eq!(next.part_number_marker, Some(3));
    let last = next
        .parse(&response(200, "s3-list-parts-last-page-nons.xml"))
        .unwrap();
    assert_eq!(
        last.parts[0].etag, "\"0c78aef83f66abc1fa1e8477f296d394\"",
        "&quot; is unescaped"
    );
    assert_eq!(last.parts[0].checksums.crc32c.as_deref(), Some("yZRlqg=="));
    assert_eq!(last.checksum_algorithm.as_deref(), Some("CRC32C"));
    assert_eq!(next.next_page(&last), None);

    let spaces = list_parts()
        .parse(&response(200, "s3-list-parts-spaces.xml"))
        .unwrap();
    assert_eq!(
        spaces
            .parts
            .iter()
            .map(|p| p.part_number)
            .collect::<Vec<_>>(),
        [1, 2]
    );
}

#[test]
fn create_upload_and_part() {
    let ep = local();
    let op = CreateMultipartUpload {
        bucket: "example-bucket".into(),
        key: "example-object".into(),
        options: PutOptions {
            content_type: Some("video/mp2t".into()),
            acl: Some("private".into()),
            metadata: vec![("Origin".into(), "web".into())],
            checksum_algorithm: Some("CRC64NVME".into()),
            checksum_type: Some("FULL_OBJECT".into()),
            ..PutOptions::default()
        },
    };
    let req = op.request(&ep);
    assert_eq!(
        (req.method, req.host.as_str(), req.path.as_str()),
        (
            Method::Post,
            "127.0.0.1:9000",
            "/example-bucket/example-object"
        )
    );
    assert_eq!(
        req.url(),
        "http://127.0.0.1:9000/example-bucket/example-object?uploads"
    );
    assert_eq!(req.header("content-type"), Some("video/mp2t"));
    assert_eq!(req.header("x-amz-acl"), Some("private"));
    assert_eq!(req.header("x-amz-meta-origin"), Some("web"));
    assert_eq!(req.header("x-amz-checksum-algorithm"), Some("CRC64NVME"));
    assert_eq!(req.header("x-amz-checksum-type"), Some("FULL_OBJECT"));
    let out = op
        .parse(&response(200, "s3-create-multipart-upload.xml"))
        .unwrap();
    assert_eq!(
        out.upload_id,
        "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA"
    );

    let part = UploadPart {
        bucket: "b".into(),
        key: "k".into(),
        upload_id: out.upload_id.clone(),
        part_number: 7,
        len: 5 << 20,
        checksums: Checksums {
            crc32c: Some("yZRlqg==".into()),
            crc64nvme: None,
        },
        ..UploadPart::default()
    };
    let req = part.request(&ep);
    assert_eq!(req.query[0], ("partNumber".into(), "7".into()));
    assert_eq!(req.body, Body::External { len: 5 << 20 });
    assert_eq!(req.header("x-amz-checksum-crc32c"), Some("yZRlqg=="));
    let ok = Response {
        status: 200,
        headers: vec![
            ("ETag".into(), "\"abc\"".into()),
            ("x-amz-checksum-crc32c".into(), "yZRlqg==".into()),
        ],
        body: vec![],
    };
    let written = part.parse(&ok).unwrap();
    assert_eq!(written.etag, "\"abc\"");
    assert_eq!(written.checksums.crc32c.as_deref(), Some("yZRlqg=="));
    let no_etag = Response {
        status: 200,
        ..Response::default()
    };
    assert!(matches!(
        part.parse(&no_etag),
        Err(Error::InvalidResponse { .. })
    ));
}

fn complete() -> CompleteMultipartUpload {
    CompleteMultipartUpload {
        bucket: "Example-Bucket".into(),
        key: "Example-Object".into(),
        upload_id: "up".into(),
        parts: vec![
            CompletedPart {
                part_number: 1,
                etag: "\"a\"".into(),
                checksums: Checksums {
                    crc32c: Some("AAAAAA==".into()),
                    crc64nvme: None,
                },
            },
            CompletedPart {
                part_number: 2,
                etag: "\"b&c\"".into(),
                checksums: Checksums::default(),
            },
        ],
        full_object_crc64nvme: Some("AAAAAAAAAAA=".into()),
    }
}

#[test]
fn complete_multipart_upload() {
    let op = complete();
    let req = op.request(&local());
    assert_eq!(req.header("x-amz-checksum-type"), Some("FULL_OBJECT"));
    assert_eq!(req.header("x-amz-checksum-crc64nvme"), Some("AAAAAAAAAAA="));
    let Body::Bytes(body) = &req.body else {
        panic!("{:?}", req.body)
    };
    let body = String::from_utf8(body.clone()).unwrap();
    assert!(body.contains("<Part><PartNumber>1</PartNumber><ETag>&quot;a&quot;</ETag><ChecksumCRC32C>AAAAAA==</ChecksumCRC32C></Part>"), "{body}");
    assert!(body.contains("<ETag>&quot;b&amp;c&quot;</ETag>"), "{body}");

    let out = op
        .parse(&response(200, "s3-complete-multipart-upload.xml"))
        .unwrap();
    assert_eq!(out.etag, "\"3858f62230ac3c915f300c664312c11f-9\"");
    assert_eq!(
        out.location.as_deref(),
        Some("http://Example-Bucket.s3.region.amazonaws.com/Example-Object")
    );

    let out = op
        .parse(&response(
            200,
            "s3-complete-multipart-upload-checksum-nons.xml",
        ))
        .unwrap();
    assert_eq!(out.key, "sub/a&b <1>.txt");
    assert_eq!(out.checksum_type.as_deref(), Some("FULL_OBJECT"));
    assert_eq!(out.checksums.crc64nvme.as_deref(), Some("AAAAAAAAAAA="));
}

#[test]
fn complete_multipart_upload_200_with_error_is_a_failure() {
    let e =
        s3_error(complete().parse(&response(200, "s3-complete-multipart-upload-200-error.xml")));
    assert_eq!(
        (e.status, e.code.as_str(), e.kind),
        (200, "InternalError", S3ErrorKind::ServerError)
    );
    assert!(e.kind.is_retryable());
    assert_eq!(
        e.request_id.as_deref(),
        Some("656c76696e6727732072657175657374")
    );
    let msg = e.to_string();
    assert!(
        msg.contains("CompleteMultipartUpload of s3://Example-Bucket/Example-Object"),
        "{msg}"
    );
    assert!(msg.contains("retry"), "{msg}");
}

#[test]
fn error_bodies() {
    let op = HeadObject {
        bucket: "mybucket".into(),
        key: "myfoto.jpg".into(),
    };
    let e = s3_error(
        DeleteObject {
            bucket: op.bucket.clone(),
            key: op.key.clone(),
        }
        .parse(&response(404, "s3-error-no-such-key.xml")),
    );
    assert_eq!(
        (e.kind, e.resource.as_deref()),
        (S3ErrorKind::NotFound, Some("/mybucket/myfoto.jpg"))
    );

    let e = s3_error(op.parse(&response(404, "s3-error-no-such-bucket.xml")));
    assert_eq!(e.kind, S3ErrorKind::NoSuchBucket);
    assert!(e.host_id.is_some());

    let e = s3_error(list_parts().parse(&response(404, "s3-error-no-such-upload.xml")));
    assert_eq!(e.kind, S3ErrorKind::NoSuchUpload);
    assert!(e.to_string().contains("start the upload again"));

    let e = s3_error(op.parse(&response(403, "s3-error-request-time-too-skewed.xml")));
    assert_eq!(e.kind, S3ErrorKind::ClockSkew);
    assert_eq!(e.max_allowed_skew_ms, Some(900_000));
    assert_eq!(e.clock_skew_secs(), Some(-3600));
}

#[test]
fn r18_a_page_where_s3_should_answer_says_to_check_the_endpoint() {
    let op = HeadObject {
        bucket: "b".into(),
        key: "k".into(),
    };
    let page = |status: u16, body: &[u8]| Response {
        status,
        headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
        body: body.to_vec(),
    };
    for status in [400, 403, 404, 405] {
        for body in [
            &b"<!doctype html><title>My app</title><p>Not found"[..],
            b"Not Found",
        ] {
            let e = s3_error(op.parse(&page(status, body)));
            assert_eq!(e.kind, S3ErrorKind::NotS3, "{status}");
            assert!(!e.kind.is_retryable());
            let text = e.to_string();
            assert!(
                text.contains("the endpoint does not answer as S3 does; check the endpoint URL"),
                "{text}"
            );
        }
    }
    // A proxy's 502/503 page in front of S3 stays a server error, retried.
    for status in [502, 503] {
        let e = s3_error(op.parse(&page(status, b"<html>Bad gateway</html>")));
        assert!(e.kind.is_retryable(), "{status}: {:?}", e.kind);
    }
}

#[test]
fn empty_error_bodies_map_from_the_status() {
    let op = HeadObject {
        bucket: "b".into(),
        key: "k".into(),
    };
    for (status, code, kind) in [
        (404, "NotFound", S3ErrorKind::NotFound),
        (403, "Forbidden", S3ErrorKind::AccessDenied),
        (412, "PreconditionFailed", S3ErrorKind::PreconditionFailed),
        (503, "ServiceUnavailable", S3ErrorKind::SlowDown),
        (301, "PermanentRedirect", S3ErrorKind::WrongRegion),
    ] {
        let r = Response {
            status,
            headers: vec![("x-amz-request-id".into(), "RID".into())],
            body: vec![],
        };
        let e = s3_error(op.parse(&r));
        assert_eq!(
            (e.code.as_str(), e.kind, e.request_id.as_deref()),
            (code, kind, Some("RID"))
        );
    }
}

#[test]
fn listings() {
    let op = ListObjectsV2 {
        bucket: "bucket".into(),
        prefix: Some("a b/".into()),
        max_keys: Some(2),
        ..ListObjectsV2::default()
    };
    let req = op.request(&local());
    assert_eq!(
        req.url(),
        "http://127.0.0.1:9000/bucket?list-type=2&prefix=a%20b%2F&max-keys=2"
    );
    let out = op.parse(&response(200, "s3-list-objects-v2.xml")).unwrap();
    assert_eq!(out.key_count, Some(2));
    assert!(out.is_truncated);
    assert_eq!(
        out.next_continuation_token.as_deref(),
        Some("1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")
    );
    assert_eq!(out.contents[1].key, "Tom & Jerry/a+b c%20.txt");
    assert_eq!(
        out.contents[1].etag.as_deref(),
        Some("\"becf17f89c30367a9a44495d62ed521a-1\"")
    );
    let out = op
        .parse(&response(200, "s3-list-objects-v2-prefixes-nons.xml"))
        .unwrap();
    assert_eq!(
        out.common_prefixes,
        ["photos/2006/February/", "photos/2006/January/"]
    );

    let op = ListMultipartUploads {
        bucket: "bucket".into(),
        prefix: Some("u/".into()),
        key_marker: Some("k".into()),
        upload_id_marker: Some("i".into()),
        max_uploads: None,
    };
    assert_eq!(
        op.request(&local()).url(),
        "http://127.0.0.1:9000/bucket?uploads&prefix=u%2F&key-marker=k&upload-id-marker=i"
    );
    let out = op
        .parse(&response(200, "s3-list-multipart-uploads.xml"))
        .unwrap();
    assert_eq!(out.uploads.len(), 3);
    assert_eq!(out.uploads[1].key, "my-movie.m2ts");
    assert_eq!(
        out.next_upload_id_marker.as_deref(),
        Some("YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ")
    );
}

#[test]
fn put_head_delete_abort() {
    let ep = Endpoint::aws("eu-central-1");
    let put = PutObject {
        bucket: "photos".into(),
        key: "2024/a+b.jpg".into(),
        len: 3,
        content_md5: Some("md5==".into()),
        options: PutOptions {
            checksum_algorithm: Some("CRC32C".into()),
            storage_class: Some("STANDARD_IA".into()),
            server_side_encryption: Some("aws:kms".into()),
            ..PutOptions::default()
        },
        ..PutObject::default()
    };
    let req = put.request(&ep);
    assert_eq!(req.path, "/2024/a%2Bb.jpg");
    assert_eq!(req.header("content-md5"), Some("md5=="));
    assert_eq!(req.header("x-amz-sdk-checksum-algorithm"), Some("CRC32C"));
    assert_eq!(req.header("x-amz-checksum-algorithm"), None);
    assert_eq!(req.header("x-amz-storage-class"), Some("STANDARD_IA"));
    assert_eq!(req.header("x-amz-server-side-encryption"), Some("aws:kms"));

    let head = HeadObject {
        bucket: "photos".into(),
        key: "k".into(),
    };
    assert_eq!(head.request(&ep).method, Method::Head);
    let r = Response {
        status: 200,
        headers: vec![
            ("Content-Length".into(), "3".into()),
            ("ETag".into(), "\"e\"".into()),
            (
                "Last-Modified".into(),
                "Sun, 30 Aug 2015 12:36:00 GMT".into(),
            ),
            ("X-Amz-Meta-Origin".into(), "web".into()),
        ],
        body: vec![],
    };
    let out = head.parse(&r).unwrap();
    assert_eq!(
        (out.content_length, out.etag.as_deref()),
        (Some(3), Some("\"e\""))
    );
    assert_eq!(out.metadata, [("origin".to_owned(), "web".to_owned())]);
    assert!(out.last_modified.is_some());

    let ok = Response {
        status: 204,
        ..Response::default()
    };
    assert_eq!(
        DeleteObject {
            bucket: "b".into(),
            key: "k".into()
        }
        .parse(&ok),
        Ok(())
    );
    let abort = AbortMultipartUpload {
        bucket: "b".into(),
        key: "k".into(),
        upload_id: "u".into(),
    };
    assert_eq!(abort.request(&ep).method, Method::Delete);
    assert_eq!(abort.parse(&ok), Ok(()));
    assert_eq!(
        s3_error(abort.parse(&response(404, "s3-error-no-such-upload.xml"))).kind,
        S3ErrorKind::NoSuchUpload
    );
}

#[test]
fn post_object_form() {
    let post = PostObject {
        bucket: "uploads".into(),
        key: "sub/${filename}".into(),
        policy: "eyJ9".into(),
        signature: "abcd".into(),
        credential: "AKID/20240101/us-east-1/s3/aws4_request".into(),
        date: "20240101T000000Z".into(),
        security_token: Some(updraft_core::Secret::new("tok")),
        content_type: Some("image/png".into()),
        success_action_status: Some("201".into()),
        metadata: vec![("Origin".into(), "web".into())],
        ..PostObject::default()
    };
    let fields = post.fields();
    assert_eq!(fields[0].0, "key");
    assert_eq!(fields.last().unwrap().0, "x-amz-signature");
    assert!(
        fields
            .iter()
            .any(|(n, v)| n == "x-amz-security-token" && v == "tok")
    );
    assert!(fields.iter().all(|(n, _)| n != "file"));
    assert!(
        !format!("{post:?}").contains("tok\""),
        "Debug hides the session token"
    );

    let body = post.multipart("XyZ", "a \"b\".png", "image/png");
    let prefix = String::from_utf8(body.prefix.clone()).unwrap();
    assert!(prefix.starts_with(
        "--XyZ\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nsub/${filename}\r\n"
    ));
    assert!(prefix.ends_with("--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a %22b%22.png\"\r\nContent-Type: image/png\r\n\r\n"));
    assert_eq!(body.suffix, b"\r\n--XyZ--\r\n");
    let req = post.request(&local(), "XyZ", &body, 10);
    assert_eq!(req.path, "/uploads");
    assert_eq!(
        req.header("content-type"),
        Some("multipart/form-data; boundary=XyZ")
    );
    assert_eq!(
        req.body.len(),
        body.prefix.len() as u64 + 10 + body.suffix.len() as u64
    );

    let created = Response { status: 201, headers: vec![], body: b"<PostResponse><Location>http://x/uploads/k</Location><Bucket>uploads</Bucket><Key>k</Key><ETag>\"e\"</ETag></PostResponse>".to_vec() };
    assert_eq!(post.parse(&created).unwrap().etag.as_deref(), Some("\"e\""));
    assert_eq!(
        s3_error(post.parse(&Response {
            status: 403,
            ..Response::default()
        }))
        .kind,
        S3ErrorKind::AccessDenied
    );
}

#[test]
fn entities_from_a_dtd_and_deep_nesting_are_refused() {
    let op = list_parts();
    let dtd = b"<!DOCTYPE x [<!ENTITY a \"aaaa\">]><ListPartsResult><Part><PartNumber>1</PartNumber><ETag>&a;</ETag></Part></ListPartsResult>";
    assert!(matches!(
        op.parse(&Response {
            status: 200,
            headers: vec![],
            body: dtd.to_vec()
        }),
        Err(Error::InvalidResponse { .. })
    ));
    let deep = format!("{}{}", "<a>".repeat(10_000), "</a>".repeat(10_000));
    assert!(matches!(
        op.parse(&Response {
            status: 200,
            headers: vec![],
            body: deep.into_bytes()
        }),
        Err(Error::InvalidResponse { .. })
    ));
}

/// moto names the root element `ListPartsResponse`; the AWS SDKs ignore the root's name,
/// and so do we (found by the native driver's tests against moto, issue 6).
#[test]
fn list_parts_accepts_motos_root_name_r6() {
    let body = "<ListPartsResponse><Bucket>b</Bucket><Key>k</Key><UploadId>u</UploadId>\
                <IsTruncated>false</IsTruncated><Part><PartNumber>1</PartNumber>\
                <ETag>\"e\"</ETag><Size>5</Size></Part></ListPartsResponse>";
    let r = Response {
        status: 200,
        headers: vec![],
        body: body.as_bytes().to_vec(),
    };
    let page = list_parts().parse(&r).unwrap();
    assert_eq!(page.parts.len(), 1);
    let other = Response {
        body: b"<Something><Part/></Something>".to_vec(),
        ..r
    };
    assert!(list_parts().parse(&other).is_err());
}
