//! The engine's checksums: what each request carries, the whole object's value folded
//! from its parts', and the comparison with what S3 echoed.

use crate::Error;
use crate::checksum::{
    ChecksumAlgorithm, crc32c_base64, crc32c_composite, crc64nvme_base64, crc64nvme_combine,
};
use crate::s3::Checksums;

use super::EngineConfig;
use super::state::{Multipart, Upload};

/// The whole-object CRC64NVME of `upload`, folded from its parts' values (when the
/// algorithm is CRC64NVME and every part's value is known).
pub(super) fn full_crc(config: &EngineConfig, u: &Upload, upload: &Multipart) -> Option<String> {
    if config.checksum != Some(ChecksumAlgorithm::Crc64Nvme) {
        return None;
    }
    let plan = u.part_plan()?;
    let mut crc = 0u64;
    for (i, p) in upload.parts.iter().enumerate() {
        let (a, b) = plan.range(i as u32 + 1)?;
        let part = p.as_ref()?.crc?;
        crc = if i == 0 {
            part
        } else {
            crc64nvme_combine(crc, part, b - a)
        };
    }
    Some(crc64nvme_base64(crc))
}

/// The composite CRC32C S3 reports for `upload` (when the algorithm is CRC32C and
/// every part's value is known).
pub(super) fn composite_crc32c(config: &EngineConfig, upload: &Multipart) -> Option<String> {
    if config.checksum != Some(ChecksumAlgorithm::Crc32c) {
        return None;
    }
    // Loops, not `collect::<Option<…>>`, whose adapters are code of their own (wasm size).
    let mut crcs = Vec::new();
    for p in &upload.parts {
        crcs.push(p.as_ref()?.crc? as u32);
    }
    Some(crc32c_composite(&crcs))
}

pub(super) fn checksum_base64(algorithm: Option<ChecksumAlgorithm>, crc: u64) -> String {
    match algorithm {
        Some(ChecksumAlgorithm::Crc32c) => crc32c_base64(crc as u32),
        _ => crc64nvme_base64(crc),
    }
}

/// The checksum headers of a body whose CRC is `crc`.
pub(super) fn part_checksums(algorithm: Option<ChecksumAlgorithm>, crc: Option<u64>) -> Checksums {
    let mut c = Checksums::default();
    match (algorithm, crc) {
        (Some(ChecksumAlgorithm::Crc32c), Some(v)) => c.crc32c = Some(crc32c_base64(v as u32)),
        (Some(ChecksumAlgorithm::Crc64Nvme), Some(v)) => c.crc64nvme = Some(crc64nvme_base64(v)),
        _ => {}
    }
    c
}

/// Compares the checksum S3 echoed (when CORS lets us see it) with ours.
pub(super) fn verify_checksum(
    key: &str,
    algorithm: Option<ChecksumAlgorithm>,
    expected: Option<&str>,
    returned: &Checksums,
) -> Result<(), Error> {
    let got = match algorithm {
        Some(ChecksumAlgorithm::Crc32c) => returned.crc32c.as_deref(),
        Some(ChecksumAlgorithm::Crc64Nvme) => returned.crc64nvme.as_deref(),
        None => None,
    };
    match (expected, got) {
        (Some(want), Some(got)) if want != got => Err(Error::ChecksumMismatch {
            key: key.to_owned(),
            algorithm: algorithm.map_or("", ChecksumAlgorithm::as_str),
            expected: want.to_owned(),
            actual: got.to_owned(),
        }),
        _ => Ok(()),
    }
}
