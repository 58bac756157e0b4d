//! Part planning: how an object of a given size is sent — one request, or a multipart
//! upload with parts of one size (the last one shorter) within S3's limits.
//!
//! S3's limits (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html>):
//! parts of 5 MiB to 5 GiB (the last may be smaller), at most 10,000 parts, objects up to
//! 50,000 GiB (48.8 TiB). The configured part size grows when a file would need more than
//! 10,000 parts, so a 1 TiB file still fits.

use serde::{Deserialize, Serialize};

use crate::Error;

const MIB: u64 = 1024 * 1024;
const GIB: u64 = 1024 * MIB;

/// The smallest part S3 accepts (except the last).
pub const MIN_PART_SIZE: u64 = 5 * MIB;
/// The largest part S3 accepts.
pub const MAX_PART_SIZE: u64 = 5 * GIB;
/// The most parts one multipart upload may have.
pub const MAX_PARTS: u64 = 10_000;
/// The largest object S3 stores: 10,000 parts of 5 GiB (48.8 TiB).
pub const MAX_OBJECT_SIZE: u64 = MAX_PARTS * MAX_PART_SIZE;
/// The largest single PUT S3 accepts.
pub const MAX_SINGLE_PUT: u64 = 5 * GIB;

/// How sizes are chosen. Defaults: parts of 8 MiB, multipart from 8 MiB up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PlanConfig {
    /// Preferred part size in bytes; raised to fit 10,000 parts, clamped to 5 MiB–5 GiB.
    pub part_size: u64,
    /// Objects larger than this go multipart; this size and smaller in one request (a
    /// file of exactly one part is one PUT, not three requests).
    pub multipart_threshold: u64,
}

impl Default for PlanConfig {
    fn default() -> Self {
        PlanConfig {
            part_size: 8 * MIB,
            multipart_threshold: 8 * MIB,
        }
    }
}

/// How one object is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Plan {
    /// One request carrying the whole object (`size` may be 0).
    Single { size: u64 },
    /// A multipart upload.
    Multipart(PartPlan),
}

/// The parts of a multipart upload: `count` parts of `part_size` bytes, the last one
/// holding what remains.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartPlan {
    pub size: u64,
    pub part_size: u64,
    pub count: u32,
}

impl PartPlan {
    /// The byte range `start..end` of part `number` (1-based), or `None` past the end.
    pub fn range(&self, number: u32) -> Option<(u64, u64)> {
        if number == 0 || number > self.count {
            return None;
        }
        let start = u64::from(number - 1) * self.part_size;
        Some((start, (start + self.part_size).min(self.size)))
    }
}

impl Plan {
    /// Plans an object of `size` bytes.
    ///
    /// # Errors
    /// [`Error::ObjectTooLarge`] when `size` exceeds [`MAX_OBJECT_SIZE`].
    pub fn new(size: u64, config: &PlanConfig) -> Result<Plan, Error> {
        if size > MAX_OBJECT_SIZE {
            return Err(Error::ObjectTooLarge {
                size,
                max: MAX_OBJECT_SIZE,
            });
        }
        let threshold = config
            .multipart_threshold
            .clamp(MIN_PART_SIZE, MAX_SINGLE_PUT);
        if size <= threshold {
            return Ok(Plan::Single { size });
        }
        // The smallest whole-MiB part size that fits in MAX_PARTS parts.
        let needed = size.div_ceil(MAX_PARTS).div_ceil(MIB) * MIB;
        let part_size = config
            .part_size
            .max(needed)
            .clamp(MIN_PART_SIZE, MAX_PART_SIZE);
        // `size <= MAX_OBJECT_SIZE` and `part_size >= needed` keep the count within
        // MAX_PARTS, so it fits in u32.
        let count = size.div_ceil(part_size) as u32;
        Ok(Plan::Multipart(PartPlan {
            size,
            part_size,
            count,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(size: u64) -> Plan {
        Plan::new(size, &PlanConfig::default()).unwrap()
    }

    #[test]
    fn small_objects_go_in_one_request() {
        assert_eq!(plan(0), Plan::Single { size: 0 });
        assert_eq!(plan(1), Plan::Single { size: 1 });
        assert_eq!(plan(5 * MIB - 1), Plan::Single { size: 5 * MIB - 1 });
        assert_eq!(plan(8 * MIB - 1), Plan::Single { size: 8 * MIB - 1 });
    }

    #[test]
    fn r17_a_file_of_exactly_the_threshold_is_one_put() {
        // Multipart for it was three requests (create, one part, complete) for one's work:
        // the browser bench's 20 × 8 MiB case sent 60 requests to the peers' 20.
        assert_eq!(plan(8 * MIB), Plan::Single { size: 8 * MIB });
        assert!(matches!(plan(8 * MIB + 1), Plan::Multipart(p) if p.count == 2));
    }

    #[test]
    fn threshold_is_clamped_to_s3_limits() {
        let tiny = PlanConfig {
            part_size: 1,
            multipart_threshold: 1,
        };
        // Below 5 MiB multipart is pointless (every part but the last must be 5 MiB).
        assert_eq!(
            Plan::new(5 * MIB - 1, &tiny).unwrap(),
            Plan::Single { size: 5 * MIB - 1 }
        );
        let Plan::Multipart(p) = Plan::new(5 * MIB + 1, &tiny).unwrap() else {
            panic!("multipart expected")
        };
        assert_eq!((p.part_size, p.count), (5 * MIB, 2));
        assert_eq!(p.range(2), Some((5 * MIB, 5 * MIB + 1)));
        assert_eq!(p.range(3), None);
        assert_eq!(p.range(0), None);
    }

    #[test]
    fn part_size_grows_to_fit_ten_thousand_parts() {
        let Plan::Multipart(p) = plan(1024 * GIB) else {
            panic!()
        };
        assert!(p.count as u64 <= MAX_PARTS);
        assert_eq!(p.part_size, 105 * MIB);
        // Exactly at the part-count boundary with the default size, and one byte over.
        let Plan::Multipart(p) = plan(MAX_PARTS * 8 * MIB) else {
            panic!()
        };
        assert_eq!((p.part_size, p.count), (8 * MIB, 10_000));
        let Plan::Multipart(p) = plan(MAX_PARTS * 8 * MIB + 1) else {
            panic!()
        };
        assert_eq!((p.part_size, p.count), (9 * MIB, 8_889));
    }

    #[test]
    fn largest_object_fits_and_one_byte_more_is_refused() {
        let Plan::Multipart(p) = plan(MAX_OBJECT_SIZE) else {
            panic!()
        };
        assert_eq!((p.part_size, p.count), (MAX_PART_SIZE, 10_000));
        assert_eq!(
            p.range(10_000),
            Some((MAX_OBJECT_SIZE - MAX_PART_SIZE, MAX_OBJECT_SIZE))
        );
        let err = Plan::new(MAX_OBJECT_SIZE + 1, &PlanConfig::default()).unwrap_err();
        assert!(err.to_string().contains("48.8 TiB"), "{err}");
    }

    #[test]
    fn ranges_cover_the_object_exactly() {
        for size in [8 * MIB + 1, 16 * MIB, 100 * MIB + 7, 3 * GIB + 5] {
            let Plan::Multipart(p) = plan(size) else {
                panic!()
            };
            let mut next = 0;
            for n in 1..=p.count {
                let (a, b) = p.range(n).unwrap();
                assert_eq!(a, next);
                assert!(b > a);
                if n < p.count {
                    assert!(b - a >= MIN_PART_SIZE);
                }
                next = b;
            }
            assert_eq!(next, size);
        }
    }
}
