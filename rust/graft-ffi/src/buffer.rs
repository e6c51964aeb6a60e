//! Rust-owned bytes handed to C: [`Buffer`] (`graft_ffi_buffer` in C).
//!
//! C reads `data[0..len]` and gives the buffer back with `graft_ffi_buffer_free`, never
//! with `free()`: the memory belongs to Rust's allocator. An empty buffer is
//! `{NULL, 0}`. Freeing resets the struct to `{NULL, 0}`, so freeing the same struct
//! twice is harmless; freeing NULL is a no-op.

use crate::boundary;
use crate::error::Error;

/// Bytes owned by Rust, lent to C until `graft_ffi_buffer_free`. C must not change
/// `data` or `len`, and must not free `data` itself.
#[repr(C)]
#[derive(Debug)]
pub struct Buffer {
    /// The bytes; NULL when `len` is 0.
    pub data: *mut u8,
    /// Number of bytes at `data`.
    pub len: usize,
}

impl Buffer {
    /// The empty buffer `{NULL, 0}`.
    pub const fn empty() -> Buffer {
        Buffer {
            data: core::ptr::null_mut(),
            len: 0,
        }
    }

    /// Hands `bytes` over; the allocation is shrunk to fit so that it can be freed from
    /// `(data, len)` alone.
    pub fn from_vec(bytes: Vec<u8>) -> Buffer {
        if bytes.is_empty() {
            return Buffer::empty();
        }
        let boxed: Box<[u8]> = bytes.into_boxed_slice();
        let len = boxed.len();
        let data = Box::into_raw(boxed).cast::<u8>();
        Buffer { data, len }
    }

    /// Takes the bytes back (the inverse of [`Buffer::from_vec`]).
    ///
    /// # Safety
    /// `self` must come from [`Buffer::from_vec`] (or be empty) and not have been freed.
    pub unsafe fn into_vec(self) -> Vec<u8> {
        if self.data.is_null() {
            return Vec::new();
        }
        let slice = core::ptr::slice_from_raw_parts_mut(self.data, self.len);
        // SAFETY: (data, len) is exactly the Box<[u8]> leaked by from_vec, per contract.
        unsafe { Box::from_raw(slice) }.into_vec()
    }

    /// The bytes, for Rust code that received a buffer back.
    ///
    /// # Safety
    /// As for [`Buffer::into_vec`].
    pub unsafe fn as_slice(&self) -> &[u8] {
        if self.data.is_null() {
            &[]
        } else {
            // SAFETY: from_vec's allocation of len initialised bytes, still alive.
            unsafe { core::slice::from_raw_parts(self.data, self.len) }
        }
    }
}

/// Writes `bytes` as a new [`Buffer`] to the out-parameter `out`.
///
/// # Safety
/// `out` must be NULL (`GRAFT_ENULL`, nothing allocated is leaked) or valid for writes.
pub unsafe fn write_out(out: *mut Buffer, bytes: Vec<u8>) -> Result<(), Error> {
    if out.is_null() {
        return Err(Error::null("out"));
    }
    // SAFETY: non-NULL and valid for writes by the caller's contract; `write` does not
    // drop the old (possibly uninitialised) contents.
    unsafe { out.write(Buffer::from_vec(bytes)) };
    Ok(())
}

/// Frees a buffer returned by a graft function and resets it to `{NULL, 0}`.
/// `buf` NULL, or a buffer already `{NULL, 0}`, is a no-op. Thread-safe for distinct
/// buffers.
///
/// # Safety
/// `*buf` must be a buffer produced by graft (or `{NULL, 0}`), not changed by C.
#[no_mangle]
pub unsafe extern "C" fn graft_ffi_buffer_free(buf: *mut Buffer) {
    // A free must free: it does not consume a panic armed for fault injection.
    boundary::internal_unit(|| {
        if buf.is_null() {
            return Ok(());
        }
        // SAFETY: non-NULL and points to a graft buffer (contract); replacing it with the
        // empty buffer means a second free of the same struct finds {NULL, 0}.
        let owned = unsafe { core::ptr::replace(buf, Buffer::empty()) };
        if owned.data.is_null() && owned.len != 0 {
            return Err(Error::invalid("buffer has NULL data but a length"));
        }
        // SAFETY: produced by from_vec per contract.
        drop(unsafe { owned.into_vec() });
        Ok(())
    })
}
