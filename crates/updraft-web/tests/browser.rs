//! The wasm build in a real browser (headless Chromium via wasm-bindgen-test-runner):
//! the code paths only WebAssembly takes — the table-driven CRCs the worker runs, and
//! the engine signing and answering through the JS-facing `Core` — checked where they
//! run. `cargo xtask test` runs them with `--target wasm32-unknown-unknown`.
#![cfg(target_arch = "wasm32")]

use updraft_web::{Core, crc_update};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const NOW: f64 = 1_764_000_000_000.0;

#[wasm_bindgen_test]
fn crc_check_values_of_both_algorithms() {
    // The catalogue check values of both CRCs over "123456789".
    assert_eq!(
        crc_update("CRC64NVME", 0, b"123456789"),
        0xae8b_1486_0a79_9888
    );
    assert_eq!(crc_update("CRC32C", 0, b"123456789"), 0xe306_9283);
}

#[wasm_bindgen_test]
fn crc_folded_in_chunks_equals_crc_of_the_whole() {
    let data: Vec<u8> = (0..100_003u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    for algorithm in ["CRC64NVME", "CRC32C"] {
        let whole = crc_update(algorithm, 0, &data);
        for chunk in [1usize, 7, 4096, 65_536] {
            let folded = data
                .chunks(chunk)
                .fold(0, |s, c| crc_update(algorithm, s, c));
            assert_eq!(folded, whole, "{algorithm} in chunks of {chunk}");
        }
    }
}

fn field<'a>(json: &'a str, name: &str) -> &'a str {
    let start = json
        .find(&format!("\"{name}\":"))
        .map(|i| i + name.len() + 3)
        .unwrap_or(0);
    let rest = &json[start..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim_matches('"')
}

#[wasm_bindgen_test]
fn a_small_file_is_one_signed_put_and_completes() {
    let mut core = Core::new(
        r#"{"bucket":"uploads","region":"eu-west-1","endpoint":"http://127.0.0.1:9000","pathStyle":true,"checksum":"none","postMaxSize":0}"#,
        7.0,
    )
    .expect("valid options");
    core.set_sub(Some("alice".into()));
    core.set_credentials("AKIDEXAMPLE", "secret", None, -1.0, NOW);
    let id = core
        .add("hello.txt", 5.0, 0.0, "text/plain", &[1; 16], NOW, None)
        .expect("accepted");
    let action = core.poll(NOW).expect("a request to send");
    assert_eq!(field(&action, "type"), "send");
    assert_eq!(field(&action, "method"), "PUT");
    assert!(
        field(&action, "url").starts_with("http://127.0.0.1:9000/uploads/alice/"),
        "{action}"
    );
    assert!(
        action.contains("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"),
        "{action}"
    );
    assert!(action.contains("/eu-west-1/s3/aws4_request"), "{action}");
    assert!(
        !action.contains("\"host\""),
        "the browser sets Host itself: {action}"
    );
    assert!(action.contains("\"range\":[0,5]"), "{action}");
    let request = field(&action, "id").parse::<f64>().expect("a request id");
    core.response(
        request,
        200,
        "ETag: \"5d41402abc4b2a76b9719d911017c592\"\r\n",
        "",
        NOW + 10.0,
    );
    let mut events = Vec::new();
    while let Some(e) = core.event() {
        events.push(e);
    }
    let completed = events
        .iter()
        .find(|e| e.contains("\"type\":\"completed\""))
        .unwrap_or_else(|| panic!("no completed event in {events:?}"));
    assert!(completed.contains(&format!("\"file\":{id}")), "{completed}");
    assert!(completed.contains("hello.txt"), "{completed}");
}

#[wasm_bindgen_test]
fn by_default_a_small_file_is_one_signed_post_form() {
    let mut core = Core::new(
        r#"{"bucket":"uploads","endpoint":"http://127.0.0.1:9000","pathStyle":true,"acl":"public-read"}"#,
        7.0,
    )
    .expect("valid options");
    core.set_sub(Some("alice".into()));
    core.set_credentials("ASIAEXAMPLE", "secret", Some("session".into()), -1.0, NOW);
    core.add("hello.txt", 5.0, 0.0, "text/plain", &[1; 16], NOW, None)
        .expect("accepted");
    // CRC64NVME by default: the part's checksum comes first.
    let action = core.poll(NOW).expect("a checksum to compute");
    assert_eq!(field(&action, "type"), "checksum");
    core.checksum(0, 0, crc_update("CRC64NVME", 0, b"hello"));
    let action = core.poll(NOW).expect("a form to send");
    assert_eq!(field(&action, "type"), "post");
    assert!(
        action.contains("\"url\":\"http://127.0.0.1:9000/uploads\""),
        "{action}"
    );
    for signed in [
        "[\"key\",\"alice/",
        "[\"acl\",\"public-read\"]",
        "[\"Content-Type\",\"text/plain\"]",
        "[\"x-amz-checksum-crc64nvme\",",
        "[\"Policy\",",
        "[\"X-Amz-Security-Token\",\"session\"]",
        "[\"X-Amz-Signature\",",
    ] {
        assert!(action.contains(signed), "{signed} in {action}");
    }
    assert!(action.contains("\"range\":[0,5]"), "{action}");
}

#[wasm_bindgen_test]
fn options_that_cannot_work_are_refused() {
    assert!(Core::new("{}", 0.0).is_err(), "no bucket");
    assert!(Core::new(r#"{"bucket":"b","checksum":"MD5"}"#, 0.0).is_err());
    assert!(Core::new(r#"{"bucket":"b","acl":"world-writable"}"#, 0.0).is_err());
    assert!(Core::new(r#"{"bucket":"b","bukcet":"typo"}"#, 0.0).is_err());
    assert!(Core::new(r#"{"bucket":"b","key":"{nope}"}"#, 0.0).is_err());
}
