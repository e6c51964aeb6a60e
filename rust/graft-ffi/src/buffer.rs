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
        #[cfg(feature = "validate")]
        owners::issued(data, len);
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
        // Validation build: the buffer must be one graft-ffi issued and has not taken
        // back (catches a struct copied and freed twice, or a pointer C made up).
        #[cfg(feature = "validate")]
        owners::returned(self.data, self.len);
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
        // SAFETY: produced by from_vec per contract (checked in a validation build).
        #[allow(unused_mut)]
        let mut bytes = unsafe { owned.into_vec() };
        // Validation build: poisoned before the bytes go back to the allocator.
        #[cfg(feature = "validate")]
        bytes.fill(owners::POISON);
        drop(bytes);
        Ok(())
    })
}

/// The buffers graft-ffi has handed to C and not yet taken back (validation build only).
#[cfg(feature = "validate")]
pub(crate) mod owners {
    use std::collections::HashMap;
    use std::sync::{Mutex, PoisonError};

    /// The byte a freed buffer is filled with (the same as libgraft's released outputs).
    pub(crate) const POISON: u8 = 0xDB;

    static LIVE: Mutex<Option<HashMap<usize, usize>>> = Mutex::new(None);

    pub(crate) fn issued(data: *mut u8, len: usize) {
        let mut live = LIVE.lock().unwrap_or_else(PoisonError::into_inner);
        live.get_or_insert_with(HashMap::new)
            .insert(data as usize, len);
    }

    /// Panics unless `(data, len)` is a live buffer graft-ffi issued; forgets it.
    pub(crate) fn returned(data: *mut u8, len: usize) {
        let mut live = LIVE.lock().unwrap_or_else(PoisonError::into_inner);
        match live
            .get_or_insert_with(HashMap::new)
            .remove(&(data as usize))
        {
            Some(issued) if issued == len => {}
            Some(issued) => panic!(
                "graft validate: buffer {data:p} freed with length {len}, issued with {issued}"
            ),
            None => panic!(
                "graft validate: buffer {data:p} is not owned by graft-ffi (freed twice, \
                 or never issued by it)"
            ),
        }
    }
}

#[cfg(all(test, feature = "validate"))]
mod validate_tests {
    use super::*;

    /// Planted mistake: C copies a buffer struct and frees both copies. The normal build
    /// frees the bytes twice (undefined behaviour, not run here); the validation build
    /// refuses the second free at the boundary.
    #[test]
    fn validate_double_free_of_a_copied_buffer_is_refused() {
        crate::error::clear_last_error();
        let mut a = Buffer::from_vec(b"abc".to_vec());
        let mut b = Buffer {
            data: a.data,
            len: a.len,
        };
        // SAFETY: a live buffer from from_vec.
        unsafe { graft_ffi_buffer_free(&mut a) };
        assert_eq!(crate::error::last_error_status(), crate::Status::Ok);
        // SAFETY: the planted mistake; the validation build catches it before freeing.
        unsafe { graft_ffi_buffer_free(&mut b) };
        assert_eq!(crate::error::last_error_status(), crate::Status::Panic);
        crate::error::with_last_error_message(|m| {
            assert!(
                m.contains("graft validate: buffer") && m.contains("not owned"),
                "{m}"
            )
        });
    }

    /// Planted mistake: freeing a pointer graft-ffi never issued (e.g. C's own malloc).
    #[test]
    fn validate_foreign_pointer_is_refused() {
        crate::error::clear_last_error();
        let mut foreign = [0u8; 8];
        let mut b = Buffer {
            data: foreign.as_mut_ptr(),
            len: 8,
        };
        // SAFETY: the planted mistake; refused before any deallocation.
        unsafe { graft_ffi_buffer_free(&mut b) };
        assert_eq!(crate::error::last_error_status(), crate::Status::Panic);
    }
}
