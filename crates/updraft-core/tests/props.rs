//! Properties: no parser panics on any input, and builders round-trip.
#![allow(clippy::unwrap_used)]

mod common;

use proptest::prelude::*;
use updraft_core::Secret;
use updraft_core::cognito::{GetCredentialsForIdentity, GetId};
use updraft_core::http::Response;
use updraft_core::s3::*;
use updraft_core::sts::AssumeRoleWithWebIdentity;

/// Runs every parser on `body` with `status`; only a panic can fail this.
fn parse_all(status: u16, body: &[u8]) {
    let r = Response {
        status,
        headers: vec![("etag".into(), "\"e\"".into())],
        body: body.to_vec(),
    };
    let _ = ListParts::default().parse(&r);
    let _ = ListMultipartUploads::default().parse(&r);
    let _ = ListObjectsV2::default().parse(&r);
    let _ = CreateMultipartUpload::default().parse(&r);
    let _ = CompleteMultipartUpload::default()
        .parse(&r)
        .map_err(|e| e.to_string());
    let _ = UploadPart::default().parse(&r);
    let _ = HeadObject::default().parse(&r).map_err(|e| e.to_string());
    let _ = PostObject::default().parse(&r);
    let sts = AssumeRoleWithWebIdentity {
        role_arn: "arn".into(),
        role_session_name: "s".into(),
        web_identity_token: Secret::new("t"),
        provider_id: None,
        duration_seconds: None,
        policy: None,
    };
    let _ = sts.parse(&r).map_err(|e| e.to_string());
    let _ = GetId::default().parse(&r);
    let _ = GetCredentialsForIdentity::default()
        .parse(&r)
        .map_err(|e| e.to_string());
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let snippets = prop::sample::select(vec![
        b"<".to_vec(),
        b">".to_vec(),
        b"&".to_vec(),
        b"&amp;".to_vec(),
        b"&#0;".to_vec(),
        b"&#x110000;".to_vec(),
        b"<![CDATA[".to_vec(),
        b"</Part>".to_vec(),
        b"<Part>".to_vec(),
        b"-1".to_vec(),
        b"99999999999999999999999".to_vec(),
        b"\xff\xfe".to_vec(),
        b"<!--".to_vec(),
        b"<Error>".to_vec(),
        b"\"".to_vec(),
        b"1e999".to_vec(),
        b"NaN".to_vec(),
    ]);
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (
            any::<usize>(),
            prop_oneof![snippets, prop::collection::vec(any::<u8>(), 0..8)]
        )
            .prop_map(|(i, s)| Mutation::Insert(i, s)),
        (any::<usize>(), 0..64usize).prop_map(|(i, n)| Mutation::Delete(i, n)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(body: &mut Vec<u8>, m: &Mutation) {
    let at = |i: usize, len: usize| if len == 0 { 0 } else { i % (len + 1) };
    match m {
        Mutation::Flip(i, b) if !body.is_empty() => {
            let i = i % body.len();
            body[i] ^= b;
        }
        Mutation::Flip(..) => {}
        Mutation::Insert(i, s) => {
            let i = at(*i, body.len());
            body.splice(i..i, s.iter().copied());
        }
        Mutation::Delete(i, n) => {
            let i = at(*i, body.len());
            let end = (i + n).min(body.len());
            body.drain(i..end);
        }
        Mutation::Truncate(i) => body.truncate(at(*i, body.len())),
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Text XML can carry unchanged: printable ASCII, some non-ASCII, no CR.
fn xml_text() -> impl Strategy<Value = String> {
    "[ -~äü€😀\t]{0,24}"
}

fn part() -> impl Strategy<Value = Part> {
    (
        1..=10_000u32,
        xml_text(),
        any::<u64>(),
        proptest::option::of(0..4_102_444_800i64),
        proptest::option::of("[A-Za-z0-9+/=]{8}"),
        proptest::option::of("[A-Za-z0-9+/=]{12}"),
    )
        .prop_map(|(part_number, etag, size, t, crc32c, crc64nvme)| Part {
            part_number,
            etag,
            size,
            last_modified: t.map(updraft_core::Timestamp::from_unix),
            checksums: Checksums { crc32c, crc64nvme },
        })
}

fn list_parts_xml(parts: &[Part], truncated: bool, next: Option<u32>, ns: bool) -> String {
    let mut x = String::from(if ns {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListPartsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    } else {
        "<ListPartsResult>"
    });
    x.push_str(&format!(
        "<Bucket>b</Bucket><Key>k</Key><UploadId>u</UploadId><IsTruncated>{truncated}</IsTruncated>"
    ));
    if let Some(n) = next {
        x.push_str(&format!("<NextPartNumberMarker>{n}</NextPartNumberMarker>"));
    }
    for p in parts {
        x.push_str(&format!("\n  <Part><PartNumber>{}</PartNumber><ETag>{}</ETag><Size>{}</Size><Unknown><Nested/></Unknown>", p.part_number, xml_escape(&p.etag), p.size));
        if let Some(t) = p.last_modified {
            x.push_str(&format!(
                "<LastModified>{}</LastModified>",
                t.iso8601_millis()
            ));
        }
        if let Some(c) = &p.checksums.crc32c {
            x.push_str(&format!("<ChecksumCRC32C>{c}</ChecksumCRC32C>"));
        }
        if let Some(c) = &p.checksums.crc64nvme {
            x.push_str(&format!("<ChecksumCRC64NVME>{c}</ChecksumCRC64NVME>"));
        }
        x.push_str("</Part>");
    }
    x.push_str("</ListPartsResult>");
    x
}

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(status in prop::sample::select(vec![200u16, 201, 204, 400, 403, 404, 500]), body in prop::collection::vec(any::<u8>(), 0..512)) {
        parse_all(status, &body);
    }

    #[test]
    fn mutated_real_bodies_never_panic(pick in any::<prop::sample::Index>(), status in prop::sample::select(vec![200u16, 400, 404]), muts in prop::collection::vec(mutation(), 1..6)) {
        let bodies = common::all_bodies();
        let mut body = pick.get(&bodies).clone();
        for m in &muts {
            apply(&mut body, m);
        }
        parse_all(status, &body);
    }

    #[test]
    fn list_parts_round_trips(parts in prop::collection::vec(part(), 0..20), truncated in any::<bool>(), next in proptest::option::of(1..=10_000u32), ns in any::<bool>()) {
        let body = list_parts_xml(&parts, truncated, next, ns);
        let out = ListParts::default().parse(&Response { status: 200, headers: vec![], body: body.into_bytes() }).unwrap();
        prop_assert_eq!(out.parts, parts);
        prop_assert_eq!(out.is_truncated, truncated);
        prop_assert_eq!(out.next_part_number_marker, next);
    }

    #[test]
    fn keys_encode_into_paths_that_decode_back(key in "([a-zA-Z0-9 +%#?&=;:@$,'!*()~._/\\\\-]|\\.\\.|//|\\./|[äü€😀\u{7f}\u{1}])*", virtual_hosted in any::<bool>()) {
        let mut ep = Endpoint::aws("us-east-1");
        ep.addressing = if virtual_hosted { Addressing::VirtualHosted } else { Addressing::Path };
        let (_, path) = ep.locate("bucket", Some(&key));
        let encoded = if virtual_hosted { path.strip_prefix('/') } else { path.strip_prefix("/bucket/") }.unwrap();
        prop_assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.~/%".contains(&b)), "{}", encoded);
        prop_assert_eq!(percent_decode(encoded), key.as_bytes());
    }
}
