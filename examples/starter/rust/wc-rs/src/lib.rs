//! wc-rs: the Rust twin of the starter's legacy `wc_count` (legacy/wordcount.c).
//!
//! The safe function [`count`] is the component; [`wc_rs_count`] is its C entry point,
//! with the same contract as the legacy function so one seam can call either. Its body
//! runs inside graft-ffi's panic boundary: a panic comes back to C as `GRAFT_EPANIC`.

use core::ffi::{c_char, c_int};

use graft_ffi::{borrow, boundary, out};

/// Keeps graft-ffi's own exports (`graft_ffi_fault_arm_panic`, the log bridge, ...) in
/// this staticlib, the one Rust archive the starter's executables link.
pub use graft_ffi;

/// Mirror of `wc_counts` in legacy/wordcount.h (same fields, same order).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WcCounts {
    pub lines: u64,
    pub words: u64,
    pub bytes: u64,
    pub longest: u64,
}

/// What the legacy function calls white space: exactly C's `isspace` in the C locale.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Counts lines (`\n` bytes), words (runs of non-space bytes), bytes, and the longest
/// word of `text`.
pub fn count(text: &[u8]) -> WcCounts {
    let mut c = WcCounts {
        bytes: text.len() as u64,
        ..WcCounts::default()
    };
    c.lines = text.iter().filter(|&&b| b == b'\n').count() as u64;
    for word in text.split(|&b| is_space(b)).filter(|w| !w.is_empty()) {
        c.words += 1;
        c.longest = c.longest.max(word.len() as u64);
    }
    c
}

/// Counts `text[0..len]` into `*out`, as `wc_count` does. Returns `GRAFT_OK`, or
/// `GRAFT_ENULL` when `out` is NULL or `text` is NULL with a length.
///
/// # Safety
/// `text` must be NULL (with `len` 0) or point to `len` readable bytes; `out` must be
/// NULL or valid for writing one `wc_counts`.
#[no_mangle]
pub unsafe extern "C" fn wc_rs_count(text: *const c_char, len: usize, out: *mut WcCounts) -> c_int {
    boundary::status(|| {
        // SAFETY: the caller passes `len` readable bytes at `text`, or NULL with 0.
        let text = unsafe { borrow::bytes(text.cast(), len) }?;
        let counts = count(text);
        // SAFETY: `out` is NULL (rejected) or valid for one write, per the contract.
        unsafe { out::write(out, counts) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_like_wc() {
        let c = count(b"hello  world\nfoo\tbar baz\n\n");
        assert_eq!((c.lines, c.words, c.bytes, c.longest), (3, 5, 26, 5));
        assert_eq!(count(b""), WcCounts::default());
        assert_eq!(count(b"   ").words, 0);
        assert_eq!(count(b"\x0bx\x0c").words, 1);
    }

    #[test]
    fn c_entry_point_checks_pointers() {
        let mut out = WcCounts::default();
        // SAFETY: a valid buffer and out-parameter.
        let rc = unsafe { wc_rs_count(b"a b".as_ptr().cast(), 3, &mut out) };
        assert_eq!((rc, out.words), (0, 2));
        // SAFETY: NULL text with a length and NULL out are rejected, nothing is read.
        unsafe {
            assert_eq!(wc_rs_count(core::ptr::null(), 1, &mut out), 2);
            assert_eq!(
                wc_rs_count(b"a".as_ptr().cast(), 1, core::ptr::null_mut()),
                2
            );
        }
    }

    #[test]
    fn layout_matches_the_c_struct() {
        assert_eq!(core::mem::size_of::<WcCounts>(), 32);
        assert_eq!(core::mem::align_of::<WcCounts>(), 8);
    }
}
