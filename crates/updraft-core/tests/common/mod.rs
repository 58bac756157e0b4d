//! Loading the response bodies under `tests/data` by name.

use updraft_core::http::Response;

/// The bytes of `tests/data/{name}`.
#[allow(clippy::unwrap_used, dead_code)]
pub(crate) fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A response with `status` and the body in `tests/data/{name}`.
#[allow(dead_code)]
pub(crate) fn response(status: u16, name: &str) -> Response {
    Response {
        status,
        headers: Vec::new(),
        body: data(name),
    }
}

/// Every data file, for the no-panic properties.
#[allow(clippy::unwrap_used, dead_code)]
pub(crate) fn all_bodies() -> Vec<Vec<u8>> {
    let dir = format!("{}/tests/data", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect()
}
