//! Inputs from C, borrowed for the duration of one call: bytes and strings.
//!
//! - pointer + length: NULL with length 0 is the empty slice; NULL with a length is
//!   `GRAFT_ENULL`; a length above `isize::MAX` (no real object is that large, e.g.
//!   a negative number cast to `size_t`) is `GRAFT_EINVAL`;
//! - strings are validated as UTF-8 (`GRAFT_EUTF8`, the message gives the byte offset);
//! - NUL-terminated strings: NULL is `GRAFT_ENULL`.
//!
//! The returned references must not outlive the call: the lifetime `'a` is chosen by the
//! caller of these functions, so keep it local to the exported function's body.

use core::ffi::{c_char, CStr};

use crate::error::Error;
use crate::status::Status;

/// Borrows `len` bytes at `ptr`.
///
/// `#[inline]` with the error paths out of line: this sits on components' hot paths
/// (a parse, a hash), and a non-generic function of another crate is not inlined
/// without it (or LTO).
///
/// # Safety
/// Unless `ptr` is NULL, `ptr[0..len]` must be readable, initialised and not written by
/// anyone else for `'a`.
#[inline]
pub unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> Result<&'a [u8], Error> {
    if ptr.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(null_with_length(len))
        };
    }
    if len > isize::MAX as usize {
        return Err(too_long(len));
    }
    // SAFETY: ptr is non-NULL, len <= isize::MAX, and the caller guarantees the range is
    // readable and unchanged for 'a.
    Ok(unsafe { core::slice::from_raw_parts(ptr, len) })
}

#[cold]
#[inline(never)]
fn null_with_length(len: usize) -> Error {
    Error::new(
        Status::NullPointer,
        format!("data is NULL but its length is {len}"),
    )
}

#[cold]
#[inline(never)]
fn too_long(len: usize) -> Error {
    Error::invalid(format!("length {len} exceeds the largest possible object"))
}

/// Borrows `len` bytes at `ptr` as UTF-8 text (no NUL needed; interior NULs allowed).
///
/// # Safety
/// As for [`bytes`].
pub unsafe fn str_utf8<'a>(ptr: *const c_char, len: usize) -> Result<&'a str, Error> {
    // SAFETY: forwarded contract.
    let b = unsafe { bytes(ptr.cast(), len) }?;
    utf8(b)
}

/// Borrows a NUL-terminated string as UTF-8 text (without the NUL).
///
/// # Safety
/// Unless `ptr` is NULL, it must point to a NUL-terminated string readable for `'a`.
pub unsafe fn c_str<'a>(ptr: *const c_char) -> Result<&'a str, Error> {
    if ptr.is_null() {
        return Err(Error::new(Status::NullPointer, "string is NULL"));
    }
    // SAFETY: non-NULL and NUL-terminated by the caller's contract.
    let s = unsafe { CStr::from_ptr(ptr) };
    utf8(s.to_bytes())
}

/// Validates UTF-8 with a message C can act on.
pub fn utf8(b: &[u8]) -> Result<&str, Error> {
    core::str::from_utf8(b).map_err(|e| {
        Error::new(
            Status::InvalidUtf8,
            format!("invalid UTF-8 at byte {} of {}", e.valid_up_to(), b.len()),
        )
    })
}

/// Reads a status number received from C: unknown numbers are `GRAFT_EINVAL`, never
/// transmuted into [`Status`].
pub fn status(raw: i32) -> Result<Status, Error> {
    Status::from_raw(raw).ok_or_else(|| Error::invalid(format!("unknown status number {raw}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_and_empty() {
        // SAFETY: NULL is handled without dereferencing.
        unsafe {
            assert_eq!(bytes(core::ptr::null(), 0).unwrap(), b"");
            assert_eq!(
                bytes(core::ptr::null(), 1).unwrap_err().status(),
                Status::NullPointer
            );
            assert_eq!(
                c_str(core::ptr::null()).unwrap_err().status(),
                Status::NullPointer
            );
            let x = 0u8;
            assert_eq!(
                bytes(&x, usize::MAX).unwrap_err().status(),
                Status::InvalidArgument
            );
        }
    }

    #[test]
    fn utf8_errors_name_the_offset() {
        let e = utf8(b"ab\xffc").unwrap_err();
        assert_eq!(e.status(), Status::InvalidUtf8);
        assert_eq!(e.message(), "invalid UTF-8 at byte 2 of 4");
        assert_eq!(status(16).unwrap(), Status::Injected);
        assert_eq!(status(17).unwrap_err().status(), Status::InvalidArgument);
    }
}
