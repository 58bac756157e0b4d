//! Every S3 parser, including the `<Error>` body, on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use updraft_core::http::Response;
use updraft_core::s3::*;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the status, so error paths and 2xx paths are both reached.
    let Some((&s, body)) = data.split_first() else {
        return;
    };
    let status = [200, 201, 204, 400, 403, 404, 500, 503][usize::from(s & 7)];
    let r = Response {
        status,
        headers: Vec::new(),
        body: body.to_vec(),
    };
    let _ = ListParts::default().parse(&r);
    let _ = ListMultipartUploads::default().parse(&r);
    let _ = ListObjectsV2::default().parse(&r);
    let _ = CreateMultipartUpload::default().parse(&r);
    let _ = CompleteMultipartUpload::default().parse(&r);
    let _ = UploadPart::default().parse(&r);
    let _ = HeadObject::default().parse(&r);
    let _ = PostObject::default().parse(&r);
    if let Err(e) = AbortMultipartUpload::default().parse(&r) {
        let _ = e.to_string();
    }
});
