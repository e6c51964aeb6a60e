//! Outputs to C: out-parameters written only on success, and copies into buffers the
//! caller provides, with the needed length always reported.
//!
//! Two shapes of caller buffer:
//! - [`write_bytes`] (exact): the whole value or nothing. Too small a buffer is
//!   `GRAFT_ETOOSMALL` and `*needed` tells the size to retry with.
//! - [`write_str_truncated`] (snprintf-style, for messages): writes what fits plus a NUL
//!   and returns the full length; truncation is visible as `returned >= cap`.

use crate::error::Error;
use crate::status::Status;

/// Writes `value` to the out-parameter `out`.
///
/// # Safety
/// `out` must be NULL (rejected with `GRAFT_ENULL`) or valid for a write of `T`.
pub unsafe fn write<T>(out: *mut T, value: T) -> Result<(), Error> {
    if out.is_null() {
        return Err(Error::null("out"));
    }
    // SAFETY: non-NULL, and the caller guarantees it is valid for writes; `write` does
    // not read or drop the old contents, which may be uninitialised C memory.
    unsafe { out.write(value) };
    Ok(())
}

/// Copies `data` into the caller's buffer `buf[0..cap]` when it fits whole.
///
/// `needed` (may be NULL) receives `data.len()` in every case, success or
/// `GRAFT_ETOOSMALL`, so the caller can size a retry; it is the one out-parameter that is
/// also written on failure, as `GRAFT_ETOOSMALL` promises. `buf` may be NULL only with
/// `cap` 0 (a size query). Nothing is written into `buf` unless all of `data` fits.
///
/// # Safety
/// `buf` must be NULL or valid for `cap` byte writes; `needed` NULL or valid for a write.
pub unsafe fn write_bytes(
    buf: *mut u8,
    cap: usize,
    data: &[u8],
    needed: *mut usize,
) -> Result<(), Error> {
    if buf.is_null() && cap > 0 {
        return Err(Error::null("buf"));
    }
    if !needed.is_null() {
        // SAFETY: non-NULL and, by the caller's contract, valid for writes.
        unsafe { needed.write(data.len()) };
    }
    if data.len() > cap {
        return Err(Error::new(
            Status::BufferTooSmall,
            format!("{} bytes needed, buffer holds {cap}", data.len()),
        ));
    }
    if !data.is_empty() {
        // SAFETY: buf is non-NULL here (cap >= len > 0) and valid for cap >= len bytes;
        // `data` is a Rust slice, which cannot overlap memory C handed us for writing.
        unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), buf, data.len()) };
    }
    Ok(())
}

/// Copies `s` into `buf[0..cap]` as a NUL-terminated string, snprintf-style: when
/// `cap > 0`, writes at most `cap - 1` bytes, cut back to a UTF-8 character boundary, and
/// a NUL. Returns `s.len()`. Writes nothing when `cap` is 0 (then `buf` may be NULL).
///
/// # Safety
/// When `cap > 0`, `buf` must be non-NULL and valid for `cap` byte writes.
pub unsafe fn write_str_truncated(buf: *mut core::ffi::c_char, cap: usize, s: &str) -> usize {
    if cap == 0 || buf.is_null() {
        return s.len();
    }
    let mut n = s.len().min(cap - 1);
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    // SAFETY: n + 1 <= cap bytes are writable at buf (caller's contract); the source is
    // a Rust string, disjoint from the caller's buffer.
    unsafe {
        core::ptr::copy_nonoverlapping(s.as_ptr(), buf.cast::<u8>(), n);
        buf.add(n).write(0);
    }
    s.len()
}
