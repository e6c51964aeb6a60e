//! Opaque objects: a `Box<T>` or `Arc<T>` handed to C as a pointer to an incomplete
//! type, and taken back with NULL checks.
//!
//! - `Box`: [`into_raw`] on creation, [`borrow`] / [`borrow_mut`] in calls,
//!   [`take`] in the free function (NULL is a no-op). C owns the pointer in between and
//!   must free it exactly once; use the [`crate::handle`] map instead when C cannot be
//!   trusted with that (stale and double frees are then detected).
//! - `Arc`: [`arc_into_raw`], [`borrow`] for calls, [`arc_clone`] when Rust keeps a
//!   reference, [`arc_release`] for C's release function (NULL is a no-op).

use std::sync::Arc;

use crate::error::Error;

/// Leaks a box to C as an opaque pointer (never NULL).
pub fn into_raw<T>(value: Box<T>) -> *mut T {
    Box::into_raw(value)
}

/// Borrows the object behind an opaque pointer for one call.
///
/// # Safety
/// `ptr` must be NULL (`GRAFT_ENULL`) or come from [`into_raw`]/[`arc_into_raw`] for this
/// `T`, not yet freed, and not mutably borrowed elsewhere during `'a`.
pub unsafe fn borrow<'a, T>(ptr: *const T) -> Result<&'a T, Error> {
    // SAFETY: non-NULL pointers are live objects of type T per contract.
    unsafe { ptr.as_ref() }.ok_or_else(|| Error::null("object"))
}

/// Borrows the object behind an opaque pointer mutably for one call.
///
/// # Safety
/// As for [`borrow`], and no other reference to the object may exist during `'a` (C must
/// not call into the same object from two threads at once).
pub unsafe fn borrow_mut<'a, T>(ptr: *mut T) -> Result<&'a mut T, Error> {
    // SAFETY: non-NULL pointers are live, exclusively accessed objects per contract.
    unsafe { ptr.as_mut() }.ok_or_else(|| Error::null("object"))
}

/// Takes ownership back from C (for its free function); NULL gives `None`.
///
/// # Safety
/// `ptr` must be NULL or come from [`into_raw`] for this `T`, and not be used by C again.
pub unsafe fn take<T>(ptr: *mut T) -> Option<Box<T>> {
    if ptr.is_null() {
        None
    } else {
        // SAFETY: from Box::into_raw, ownership handed back exactly once per contract.
        Some(unsafe { Box::from_raw(ptr) })
    }
}

/// Hands one strong reference to C as an opaque pointer (never NULL).
pub fn arc_into_raw<T>(value: Arc<T>) -> *const T {
    Arc::into_raw(value)
}

/// A new strong reference to the object behind a pointer from [`arc_into_raw`]; C's
/// reference is untouched.
///
/// # Safety
/// `ptr` must be NULL (`GRAFT_ENULL`) or hold a strong reference from [`arc_into_raw`].
pub unsafe fn arc_clone<T>(ptr: *const T) -> Result<Arc<T>, Error> {
    if ptr.is_null() {
        return Err(Error::null("object"));
    }
    // SAFETY: C holds a strong reference from Arc::into_raw, so the count is >= 1 and the
    // increment keeps it alive for the new Arc.
    unsafe {
        Arc::increment_strong_count(ptr);
        Ok(Arc::from_raw(ptr))
    }
}

/// Releases C's strong reference (the object is dropped with the last one); NULL is a
/// no-op.
///
/// # Safety
/// `ptr` must be NULL or hold a strong reference from [`arc_into_raw`] (or
/// [`arc_clone`] + [`arc_into_raw`]) that C does not use again.
pub unsafe fn arc_release<T>(ptr: *const T) {
    if !ptr.is_null() {
        // SAFETY: gives back exactly the reference C held.
        drop(unsafe { Arc::from_raw(ptr) });
    }
}
