//! Byte searches sixteen bytes at a time with SSE2, which every x86-64 processor has.

use std::arch::x86_64::{__m128i, _mm_loadu_si128};

/// The first byte of `b` that `marks` picks, testing sixteen bytes at a time: `marks` gets them
/// in a vector and returns one bit per byte, the lowest for the first (as `_mm_movemask_epi8`
/// gives them; higher bits are ignored). `Err(at)`: none in the first `at` bytes, after which
/// fewer than sixteen remain, for the caller to test another way.
#[inline(always)]
pub(crate) fn first_marked(b: &[u8], marks: impl Fn(__m128i) -> i32) -> Result<usize, usize> {
    let mut at = 0;
    while let Some(chunk) = b.get(at..at + 16) {
        // SAFETY: `chunk` is 16 readable bytes, the width of an unaligned SSE2 load; SSE2 is
        // part of the x86-64 baseline.
        let v = unsafe { _mm_loadu_si128(chunk.as_ptr().cast()) };
        let hits = marks(v) & 0xffff;
        if hits != 0 {
            return Ok(at + hits.trailing_zeros() as usize);
        }
        at += 16;
    }
    Err(at)
}
