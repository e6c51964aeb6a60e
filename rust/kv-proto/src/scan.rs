//! Byte scanning for the parser: finding the end of a command line is the one loop
//! that touches every byte, so it is done 16 bytes at a time (SSE2 is part of the
//! x86_64 baseline, no run-time detection needed) or 8 at a time elsewhere (SWAR).

/// Index of the first `needle` in `hay`, like C's memchr.
#[inline]
pub fn find_byte(hay: &[u8], needle: u8) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    {
        find_sse2(hay, needle)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        find_swar(hay, needle)
    }
}

#[cfg(target_arch = "x86_64")]
#[inline]
fn find_sse2(hay: &[u8], needle: u8) -> Option<usize> {
    use core::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
    };
    let len = hay.len();
    if len < 16 {
        return hay.iter().position(|&b| b == needle);
    }
    let ptr = hay.as_ptr();
    // SAFETY: SSE2 is always available on x86_64; _mm_set1_epi8 has no preconditions.
    let pat = unsafe { _mm_set1_epi8(needle as i8) };
    let mut i = 0usize;
    while i + 16 <= len {
        // SAFETY: i + 16 <= len, so the 16 bytes at ptr + i are inside `hay`;
        // _mm_loadu_si128 accepts unaligned addresses.
        let mask = unsafe {
            let v = _mm_loadu_si128(ptr.add(i).cast::<__m128i>());
            _mm_movemask_epi8(_mm_cmpeq_epi8(v, pat))
        };
        if mask != 0 {
            return Some(i + mask.trailing_zeros() as usize);
        }
        i += 16;
    }
    if i < len {
        // The last 16 bytes, overlapping what was already scanned (len >= 16).
        let start = len - 16;
        // SAFETY: start + 16 == len, inside `hay`.
        let mask = unsafe {
            let v = _mm_loadu_si128(ptr.add(start).cast::<__m128i>());
            _mm_movemask_epi8(_mm_cmpeq_epi8(v, pat))
        };
        // Drop the hits in bytes already known not to match.
        let mask = (mask as u32) >> (i - start) << (i - start);
        if mask != 0 {
            return Some(start + mask.trailing_zeros() as usize);
        }
    }
    None
}

/// Word-at-a-time search: a byte of `x ^ pattern` is zero where the needle is.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline]
fn find_swar(hay: &[u8], needle: u8) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let pat = LO.wrapping_mul(u64::from(needle));
    let mut chunks = hay.chunks_exact(8);
    let mut base = 0usize;
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let x = u64::from_le_bytes(w) ^ pat;
        let found = x.wrapping_sub(LO) & !x & HI;
        if found != 0 {
            return Some(base + (found.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == needle)
        .map(|p| base + p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(h: &[u8], n: u8) -> Option<usize> {
        h.iter().position(|&b| b == n)
    }

    #[test]
    fn agrees_with_naive_on_every_length_and_position() {
        for len in 0..70usize {
            for pos in 0..=len {
                let mut h = vec![b'a'; len];
                if pos < len {
                    h[pos] = b'\n';
                }
                assert_eq!(
                    find_byte(&h, b'\n'),
                    naive(&h, b'\n'),
                    "len {len} pos {pos}"
                );
                assert_eq!(
                    find_swar(&h, b'\n'),
                    naive(&h, b'\n'),
                    "len {len} pos {pos}"
                );
                // A second hit after the first must not win.
                if pos + 1 < len {
                    h[len - 1] = b'\n';
                    assert_eq!(find_byte(&h, b'\n'), Some(pos));
                }
            }
        }
    }

    #[test]
    fn high_bytes_are_not_false_hits() {
        let h: Vec<u8> = (0u8..=255).filter(|&b| b != b'\n').collect();
        assert_eq!(find_byte(&h, b'\n'), None);
        assert_eq!(find_swar(&h, b'\n'), None);
        assert_eq!(find_byte(&h, 0x80), naive(&h, 0x80));
        assert_eq!(find_swar(&h, 0x8a), naive(&h, 0x8a));
    }
}
