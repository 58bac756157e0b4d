//! CRC32C and CRC64NVME, the checksums S3 verifies on upload: CRC32C per part
//! (`x-amz-checksum-crc32c`), CRC64NVME for the whole object (`FULL_OBJECT`), and
//! [`crc32c_combine`] / [`crc64nvme_combine`] to fold per-part values into the
//! whole-object value without reading the data again.
//!
//! Both are reflected CRCs whose initial value and final XOR are all ones, so
//! `crc(A ‖ B) = crc(A) · x^(8·|B|) ⊕ crc(B)` in GF(2)\[x\] mod P, which is what the
//! combine functions compute (zlib's `crc32_combine` method: square-and-multiply of
//! `x^8` modulo P, O(log |B|) carry-less multiplications).
//!
//! # Which implementation, and why
//! Measured in a scratch probe (each candidate as a `cdylib` exporting one
//! checksum fn over a buffer; `wasm32-unknown-unknown`, opt-level `z`, LTO,
//! `panic = "abort"`, one codegen unit, stripped; sizes are the growth over the same
//! probe without a CRC, 16,526 B raw / 7,070 B `gzip -9`; MB/s over a 64 MiB
//! buffer, best of 3; native on this machine's x86_64 at opt-level 3, wasm in
//! node 20 / V8 at opt-level `z`):
//!
//! | candidate | wasm +raw | wasm +gzip | native CRC32C / CRC64NVME | wasm CRC32C / CRC64NVME |
//! |---|---|---|---|---|
//! | `crc-fast` 1.10 (default features) | +704 KB | +614 KB | 17,700 / 11,800 MB/s | 1,440 / 1,380 MB/s |
//! | `crc32c` 0.6 + `crc64fast-nvme` 1.2 | +43.2 KB | +42.5 KB | 16,100 / 11,700 MB/s | 1,600 / 1,730 MB/s |
//! | slicing-by-8, tables built at start-up (this module until issue 17) | +3.4 KB | +1.3 KB | 1,710 / 1,710 MB/s | 1,000 / 830 MB/s |
//!
//! The whole headless browser API must fit 30 KB gzip, and precomputed CRC tables
//! are near-random data that gzip cannot shrink, so both crates are out of the
//! question in wasm. There the core uses its own slicing-by-16 tables (32 KB of `u64`s
//! for each polynomial, one loop for both), built on first use in a [`OnceLock`] rather than
//! shipped. Issue 17 moved it from slicing-by-8 when the browser bench showed the CRCs
//! holding up uploads on a small machine: in the built package (`cargo xtask web`, V8 in
//! node 20, 8 MiB through `crcUpdate`) CRC64NVME went from 900 to 1,750 MB/s — half of
//! that from the 16 bytes a step, half from writing the loop so that the whole-package
//! build inlines it (`as_chunks`, see `words`) — and the wasm got 8 B smaller.
//!
//! Natively (the CLI) binary size does not matter and the hardware CRC is 7–10×
//! faster, so there the core uses `crc-fast` (one well-kept crate for both
//! polynomials, run-time detection of SSE4.2/PCLMULQDQ/AVX-512 and ARM
//! CRC/PMULL, no dependencies beyond `digest`). The table code is still compiled into
//! the native test build, which checks it against `crc-fast` on random data.
//! Combining uses this module's own GF(2) arithmetic on every target: it is a few
//! dozen lines and one code path to test.
//!
//! [`OnceLock`]: std::sync::OnceLock

use crate::base64::base64_encode;

/// The reflected CRC32C (Castagnoli) polynomial.
const POLY32: u64 = 0x82F6_3B78;
/// The reflected CRC64NVME polynomial.
const POLY64: u64 = 0x9A6C_9329_AC4B_C9B5;

/// The checksum algorithms updraft sends, as S3 names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ChecksumAlgorithm {
    /// CRC32C, per part; S3 combines the parts as `COMPOSITE` (see [`crc32c_composite`]).
    #[serde(rename = "CRC32C")]
    Crc32c,
    /// CRC64NVME, always a `FULL_OBJECT` checksum.
    #[serde(rename = "CRC64NVME")]
    Crc64Nvme,
}

impl ChecksumAlgorithm {
    /// The value of `x-amz-checksum-algorithm` / `x-amz-sdk-checksum-algorithm`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32c => "CRC32C",
            ChecksumAlgorithm::Crc64Nvme => "CRC64NVME",
        }
    }

    /// The header that carries a value of this algorithm.
    pub fn header_name(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32c => "x-amz-checksum-crc32c",
            ChecksumAlgorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
        }
    }
}

/// An incremental CRC32C.
///
/// ```
/// use updraft_core::checksum::Crc32c;
/// let mut h = Crc32c::new();
/// h.update(b"1234");
/// h.update(b"56789");
/// assert_eq!(h.finish(), 0xE306_9283);
/// assert_eq!(h.to_base64(), "4waSgw==");
/// ```
#[derive(Clone)]
pub struct Crc32c {
    #[cfg(not(target_arch = "wasm32"))]
    inner: crc_fast::Digest,
    #[cfg(target_arch = "wasm32")]
    crc: u32,
}

impl Crc32c {
    /// The CRC of no bytes so far.
    pub fn new() -> Self {
        Crc32c {
            #[cfg(not(target_arch = "wasm32"))]
            inner: crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc32Iscsi),
            #[cfg(target_arch = "wasm32")]
            crc: 0,
        }
    }

    /// The CRC32C of `data` in one call.
    pub fn checksum(data: &[u8]) -> u32 {
        let mut h = Crc32c::new();
        h.update(data);
        h.finish()
    }

    /// Adds `data` to the bytes checksummed so far.
    pub fn update(&mut self, data: &[u8]) {
        #[cfg(not(target_arch = "wasm32"))]
        self.inner.update(data);
        #[cfg(target_arch = "wasm32")]
        {
            self.crc = table::crc32c(self.crc, data);
        }
    }

    /// The CRC32C of all bytes given so far.
    pub fn finish(&self) -> u32 {
        #[cfg(not(target_arch = "wasm32"))]
        {
            // CRC32C's value is 32 bits wide; crc-fast returns it in a u64.
            self.inner.finalize() as u32
        }
        #[cfg(target_arch = "wasm32")]
        {
            self.crc
        }
    }

    /// [`Self::finish`] as the `x-amz-checksum-crc32c` header wants it.
    pub fn to_base64(&self) -> String {
        crc32c_base64(self.finish())
    }
}

impl Default for Crc32c {
    fn default() -> Self {
        Crc32c::new()
    }
}

impl std::fmt::Debug for Crc32c {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Crc32c({:#010x})", self.finish())
    }
}

/// An incremental CRC64NVME.
///
/// ```
/// use updraft_core::checksum::Crc64Nvme;
/// let mut h = Crc64Nvme::new();
/// h.update(b"123456789");
/// assert_eq!(h.finish(), 0xAE8B_1486_0A79_9888);
/// assert_eq!(h.to_base64(), "rosUhgp5mIg=");
/// ```
#[derive(Clone)]
pub struct Crc64Nvme {
    #[cfg(not(target_arch = "wasm32"))]
    inner: crc_fast::Digest,
    #[cfg(target_arch = "wasm32")]
    crc: u64,
}

impl Crc64Nvme {
    /// The CRC of no bytes so far.
    pub fn new() -> Self {
        Crc64Nvme {
            #[cfg(not(target_arch = "wasm32"))]
            inner: crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc64Nvme),
            #[cfg(target_arch = "wasm32")]
            crc: 0,
        }
    }

    /// The CRC64NVME of `data` in one call.
    pub fn checksum(data: &[u8]) -> u64 {
        let mut h = Crc64Nvme::new();
        h.update(data);
        h.finish()
    }

    /// Adds `data` to the bytes checksummed so far.
    pub fn update(&mut self, data: &[u8]) {
        #[cfg(not(target_arch = "wasm32"))]
        self.inner.update(data);
        #[cfg(target_arch = "wasm32")]
        {
            self.crc = table::crc64nvme(self.crc, data);
        }
    }

    /// The CRC64NVME of all bytes given so far.
    pub fn finish(&self) -> u64 {
        #[cfg(not(target_arch = "wasm32"))]
        {
            self.inner.finalize()
        }
        #[cfg(target_arch = "wasm32")]
        {
            self.crc
        }
    }

    /// [`Self::finish`] as the `x-amz-checksum-crc64nvme` header wants it.
    pub fn to_base64(&self) -> String {
        crc64nvme_base64(self.finish())
    }
}

impl Default for Crc64Nvme {
    fn default() -> Self {
        Crc64Nvme::new()
    }
}

impl std::fmt::Debug for Crc64Nvme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Crc64Nvme({:#018x})", self.finish())
    }
}

/// A CRC32C value as S3 writes it: base64 of its 4 big-endian bytes.
pub fn crc32c_base64(crc: u32) -> String {
    base64_encode(&crc.to_be_bytes())
}

/// A CRC64NVME value as S3 writes it: base64 of its 8 big-endian bytes.
pub fn crc64nvme_base64(crc: u64) -> String {
    base64_encode(&crc.to_be_bytes())
}

/// The CRC32C of `A ‖ B` from `crc_a = crc32c(A)`, `crc_b = crc32c(B)` and `len_b = |B|`.
pub fn crc32c_combine(crc_a: u32, crc_b: u32, len_b: u64) -> u32 {
    // Every value stays below 2^32: products are reduced mod a 32-bit polynomial.
    combine(u64::from(crc_a), u64::from(crc_b), len_b, POLY32, 1 << 31) as u32
}

/// The CRC64NVME of `A ‖ B` from `crc_a = crc64nvme(A)`, `crc_b = crc64nvme(B)` and
/// `len_b = |B|`. Folding the parts' values in order gives S3's `FULL_OBJECT` value:
///
/// ```
/// use updraft_core::checksum::{crc64nvme_combine, Crc64Nvme};
/// let parts: [&[u8]; 3] = [b"1234", b"", b"56789"];
/// let whole = parts.iter().fold(Crc64Nvme::checksum(b""), |acc, p| {
///     crc64nvme_combine(acc, Crc64Nvme::checksum(p), p.len() as u64)
/// });
/// assert_eq!(whole, Crc64Nvme::checksum(b"123456789"));
/// ```
pub fn crc64nvme_combine(crc_a: u64, crc_b: u64, len_b: u64) -> u64 {
    combine(crc_a, crc_b, len_b, POLY64, 1 << 63)
}

/// S3's `COMPOSITE` checksum of a CRC32C multipart upload:
/// `base64(crc32c(crc_1 ‖ … ‖ crc_N))-N`, each part's CRC as 4 big-endian bytes.
/// This is what `CompleteMultipartUpload` and `HeadObject` return for such an object.
pub fn crc32c_composite(part_crcs: &[u32]) -> String {
    let mut h = Crc32c::new();
    for crc in part_crcs {
        h.update(&crc.to_be_bytes());
    }
    crate::cat!("{}-{}", h.to_base64(), part_crcs.len())
}

/// `a · b mod P` for reflected polynomials of width `w`, where `top = 1 << (w - 1)` is
/// the coefficient of `x^0`.
fn mul_mod_p(a: u64, mut b: u64, poly: u64, top: u64) -> u64 {
    let mut product = 0;
    let mut m = top;
    while m != 0 {
        if a & m != 0 {
            product ^= b;
        }
        m >>= 1;
        b = if b & 1 != 0 { (b >> 1) ^ poly } else { b >> 1 };
    }
    product
}

/// `x^(8·n) mod P` (reflected), by square-and-multiply.
fn x_pow_8n(mut n: u64, poly: u64, top: u64) -> u64 {
    let mut result = top; // x^0
    let mut square = top >> 8; // x^8
    while n != 0 {
        if n & 1 != 0 {
            result = mul_mod_p(square, result, poly, top);
        }
        square = mul_mod_p(square, square, poly, top);
        n >>= 1;
    }
    result
}

fn combine(crc_a: u64, crc_b: u64, len_b: u64, poly: u64, top: u64) -> u64 {
    mul_mod_p(x_pow_8n(len_b, poly, top), crc_a, poly, top) ^ crc_b
}

/// Slicing-by-16 table CRCs, the wasm implementation (see the module docs). Compiled
/// natively only for tests, which check it against `crc-fast`.
///
/// One loop serves both polynomials: both CRCs are reflected, so a CRC32C held in the
/// low half of a `u64` register shifts and looks up exactly as in a `u32` one (its tables'
/// entries and its value never set the high half).
#[cfg(any(test, target_arch = "wasm32"))]
mod table {
    use std::sync::OnceLock;

    use super::{POLY32, POLY64};

    /// Sixteen tables: table `k` advances a byte's CRC past `k` more zero bytes.
    type Tables = [[u64; 256]; 16];

    fn tables(poly: u64) -> Box<Tables> {
        let mut t = Box::new([[0u64; 256]; 16]);
        for (i, slot) in t[0].iter_mut().enumerate() {
            let mut c = i as u64;
            for _ in 0..8 {
                c = if c & 1 != 0 { (c >> 1) ^ poly } else { c >> 1 };
            }
            *slot = c;
        }
        for k in 1..16 {
            for i in 0..256 {
                let prev = t[k - 1][i];
                t[k][i] = (prev >> 8) ^ t[0][(prev & 0xff) as usize];
            }
        }
        t
    }

    /// The 16 bytes of `c` as two little-endian words. Written out, not through
    /// `chunks_exact` and a helper: at opt-level `z` in the whole package the inliner left
    /// both as calls inside the loop (`ChunksExact::next` is shared with other code),
    /// which halved the speed (1.1 against 2.2 GB/s in V8).
    #[inline(always)]
    fn words(c: &[u8; 16]) -> (u64, u64) {
        let [
            a0,
            a1,
            a2,
            a3,
            a4,
            a5,
            a6,
            a7,
            b0,
            b1,
            b2,
            b3,
            b4,
            b5,
            b6,
            b7,
        ] = *c;
        (
            u64::from_le_bytes([a0, a1, a2, a3, a4, a5, a6, a7]),
            u64::from_le_bytes([b0, b1, b2, b3, b4, b5, b6, b7]),
        )
    }

    /// Continues the reflected CRC `crc` (a finished value, 0 for no data) of the tables
    /// `t` over `data`; `ones` is the register's all-ones value (its width).
    fn crc(t: &Tables, ones: u64, crc: u64, data: &[u8]) -> u64 {
        let mut crc = crc ^ ones;
        let (chunks, rest) = data.as_chunks::<16>();
        for c in chunks {
            let (lo, hi) = words(c);
            let a = (lo ^ crc).to_le_bytes();
            let b = hi.to_le_bytes();
            crc = t[15][usize::from(a[0])]
                ^ t[14][usize::from(a[1])]
                ^ t[13][usize::from(a[2])]
                ^ t[12][usize::from(a[3])]
                ^ t[11][usize::from(a[4])]
                ^ t[10][usize::from(a[5])]
                ^ t[9][usize::from(a[6])]
                ^ t[8][usize::from(a[7])]
                ^ t[7][usize::from(b[0])]
                ^ t[6][usize::from(b[1])]
                ^ t[5][usize::from(b[2])]
                ^ t[4][usize::from(b[3])]
                ^ t[3][usize::from(b[4])]
                ^ t[2][usize::from(b[5])]
                ^ t[1][usize::from(b[6])]
                ^ t[0][usize::from(b[7])];
        }
        for &b in rest {
            crc = t[0][usize::from(crc as u8 ^ b)] ^ (crc >> 8);
        }
        crc ^ ones
    }

    /// Continues the CRC32C `crc` (a finished value, 0 for no data) over `data`.
    pub(super) fn crc32c(crc: u32, data: &[u8]) -> u32 {
        static T: OnceLock<Box<Tables>> = OnceLock::new();
        // The value stays in the low 32 bits (see the module docs).
        self::crc(
            T.get_or_init(|| tables(POLY32)),
            0xFFFF_FFFF,
            u64::from(crc),
            data,
        ) as u32
    }

    /// Continues the CRC64NVME `crc` (a finished value, 0 for no data) over `data`.
    pub(super) fn crc64nvme(crc: u64, data: &[u8]) -> u64 {
        static T: OnceLock<Box<Tables>> = OnceLock::new();
        self::crc(T.get_or_init(|| tables(POLY64)), u64::MAX, crc, data)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const CHECK: &[u8] = b"123456789";

    #[test]
    fn check_values() {
        assert_eq!(Crc32c::checksum(CHECK), 0xE306_9283);
        assert_eq!(Crc64Nvme::checksum(CHECK), 0xAE8B_1486_0A79_9888);
        assert_eq!(table::crc32c(0, CHECK), 0xE306_9283);
        assert_eq!(table::crc64nvme(0, CHECK), 0xAE8B_1486_0A79_9888);
        assert_eq!(Crc32c::checksum(b""), 0);
        assert_eq!(Crc64Nvme::checksum(b""), 0);
    }

    #[test]
    fn header_values() {
        // S3 answers an empty object with these values.
        assert_eq!(crc32c_base64(Crc32c::checksum(b"")), "AAAAAA==");
        assert_eq!(crc64nvme_base64(Crc64Nvme::checksum(b"")), "AAAAAAAAAAA=");
        assert_eq!(crc32c_base64(0xE306_9283), "4waSgw==");
        assert_eq!(crc64nvme_base64(0xAE8B_1486_0A79_9888), "rosUhgp5mIg=");
        assert_eq!(
            ChecksumAlgorithm::Crc64Nvme.header_name(),
            "x-amz-checksum-crc64nvme"
        );
        assert_eq!(
            serde_json::to_string(&ChecksumAlgorithm::Crc32c).unwrap(),
            "\"CRC32C\""
        );
    }

    #[test]
    fn composite_of_parts() {
        let a = Crc32c::checksum(b"1234");
        let b = Crc32c::checksum(b"56789");
        let mut concat = a.to_be_bytes().to_vec();
        concat.extend_from_slice(&b.to_be_bytes());
        assert_eq!(
            crc32c_composite(&[a, b]),
            format!("{}-2", crc32c_base64(Crc32c::checksum(&concat)))
        );
        assert_eq!(crc32c_composite(&[]), "AAAAAA==-0");
    }

    #[test]
    fn combine_check_value() {
        let a = Crc32c::checksum(b"1234");
        let b = Crc32c::checksum(b"56789");
        assert_eq!(crc32c_combine(a, b, 5), 0xE306_9283);
        let a = Crc64Nvme::checksum(b"1234");
        let b = Crc64Nvme::checksum(b"56789");
        assert_eq!(crc64nvme_combine(a, b, 5), 0xAE8B_1486_0A79_9888);
        // Combining with nothing changes nothing, and nothing with something gives it.
        assert_eq!(crc64nvme_combine(a, 0, 0), a);
        assert_eq!(crc64nvme_combine(0, b, 5), b);
    }

    #[test]
    fn combine_large_lengths() {
        // 5 GiB of zeros = 5 × 1 GiB of zeros, folded; checks lengths past 2^32.
        let gib = 1u64 << 30;
        let zeros_gib = {
            // crc(0^(2n)) = combine(crc(0^n), crc(0^n), n), from one 1 MiB buffer.
            let mib = vec![0u8; 1 << 20];
            let mut c = Crc64Nvme::checksum(&mib);
            let mut len = 1u64 << 20;
            while len < gib {
                c = crc64nvme_combine(c, c, len);
                len *= 2;
            }
            c
        };
        let mut five = 0;
        for _ in 0..5 {
            five = crc64nvme_combine(five, zeros_gib, gib);
        }
        let direct = {
            let mut c = zeros_gib;
            c = crc64nvme_combine(c, zeros_gib, gib);
            c = crc64nvme_combine(c, c, 2 * gib);
            crc64nvme_combine(c, zeros_gib, gib)
        };
        assert_eq!(five, direct);
    }

    fn data_and_cuts() -> impl Strategy<Value = (Vec<u8>, Vec<usize>)> {
        proptest::collection::vec(any::<u8>(), 0..3000).prop_flat_map(|data| {
            let len = data.len();
            (
                Just(data),
                proptest::collection::vec(0..=len, 0..6).prop_map(|mut cuts| {
                    cuts.sort_unstable();
                    cuts
                }),
            )
        })
    }

    proptest! {
        #[test]
        fn table_matches_crc_fast(data in proptest::collection::vec(any::<u8>(), 0..5000), split in 0usize..5000) {
            let split = split.min(data.len());
            prop_assert_eq!(table::crc32c(0, &data), Crc32c::checksum(&data));
            prop_assert_eq!(table::crc64nvme(0, &data), Crc64Nvme::checksum(&data));
            // Continuing a finished value is the same as hashing in one go.
            let c = table::crc32c(table::crc32c(0, &data[..split]), &data[split..]);
            prop_assert_eq!(c, Crc32c::checksum(&data));
            let c = table::crc64nvme(table::crc64nvme(0, &data[..split]), &data[split..]);
            prop_assert_eq!(c, Crc64Nvme::checksum(&data));
        }

        #[test]
        fn combine_of_parts_is_whole((data, cuts) in data_and_cuts()) {
            // Parts between consecutive cuts, empty parts included (repeated cuts).
            let mut bounds = vec![0];
            bounds.extend(cuts);
            bounds.push(data.len());
            let (mut c32, mut c64) = (Crc32c::checksum(b""), Crc64Nvme::checksum(b""));
            let mut inc32 = Crc32c::new();
            let mut inc64 = Crc64Nvme::new();
            for w in bounds.windows(2) {
                let part = &data[w[0]..w[1]];
                c32 = crc32c_combine(c32, Crc32c::checksum(part), part.len() as u64);
                c64 = crc64nvme_combine(c64, Crc64Nvme::checksum(part), part.len() as u64);
                inc32.update(part);
                inc64.update(part);
            }
            prop_assert_eq!(c32, Crc32c::checksum(&data));
            prop_assert_eq!(c64, Crc64Nvme::checksum(&data));
            prop_assert_eq!(inc32.finish(), c32);
            prop_assert_eq!(inc64.finish(), c64);
        }

        #[test]
        fn combine_matches_crc_fast(a in any::<u32>(), b in any::<u32>(), a64 in any::<u64>(), b64 in any::<u64>(), len in any::<u64>()) {
            prop_assert_eq!(
                u64::from(crc32c_combine(a, b, len)),
                crc_fast::checksum_combine(crc_fast::CrcAlgorithm::Crc32Iscsi, a.into(), b.into(), len)
            );
            prop_assert_eq!(
                crc64nvme_combine(a64, b64, len),
                crc_fast::checksum_combine(crc_fast::CrcAlgorithm::Crc64Nvme, a64, b64, len)
            );
        }
    }
}
