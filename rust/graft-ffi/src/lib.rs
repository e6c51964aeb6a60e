//! graft-ffi: the rules every crossing between C and Rust follows (docs/FFI.md).
//!
//! - [`status`]: one status space shared with libgraft (`include/graft/base.h`), with
//!   `graft_ffi_strerror` / `graft_ffi_status_name` for C.
//! - [`boundary`]: the panic boundary. Every `extern "C"` function's body is one call to
//!   [`boundary::status`], [`boundary::pointer`], [`boundary::pointer_const`],
//!   [`boundary::boolean`], [`boundary::value`] or [`boundary::unit`] with a closure
//!   returning `Result<_, Error>`; `tools/lint.d/ffi-boundary.sh` enforces it.
//! - [`error`]: [`Error`] (status + message) and the per-thread last error C reads with
//!   `graft_ffi_last_error_message` / `graft_ffi_last_error_status`.
//! - [`borrow`]: bytes and strings borrowed from C; [`out`]: out-parameters and caller
//!   buffers; [`buffer`]: Rust-owned bytes handed to C (`graft_ffi_buffer_free`);
//!   [`opaque`]: `Box`/`Arc` as opaque pointers; [`handle`]: a handle map with
//!   generations, so stale and double-freed handles are `GRAFT_EHANDLE`.
//! - [`log`]: the log bridge (`graft_ffi_set_logger`) and the `log_*!` macros.
//! - [`fault`]: `graft_ffi_fault_arm_panic`, real panics for fault injection.
//! - [`probe`]: USDT probes `graft:ffi__enter/ffi__return/ffi__panic` at the boundary.
//!
//! Exporting a function (see [`boundary`] for a full example):
//!
//! ```
//! use graft_ffi::{boundary, borrow, out, Error};
//! use core::ffi::{c_char, c_int};
//!
//! /// Length of a UTF-8 string in characters.
//! #[no_mangle]
//! pub unsafe extern "C" fn example_chars(s: *const c_char, len: usize,
//!                                        out_chars: *mut usize) -> c_int {
//!     boundary::status(|| {
//!         // SAFETY: the caller passes `len` readable bytes at `s` (or NULL, 0).
//!         let s = unsafe { borrow::str_utf8(s, len) }?;
//!         // SAFETY: `out_chars` is NULL (rejected) or points to a writable size_t.
//!         unsafe { out::write(out_chars, s.chars().count()) }
//!     })
//! }
//! # let mut n = 0;
//! # assert_eq!(unsafe { example_chars("héllo".as_ptr().cast(), 6, &mut n) }, 0);
//! # assert_eq!(n, 5);
//! ```

pub mod borrow;
pub mod boundary;
pub mod buffer;
pub mod error;
pub mod fault;
pub mod handle;
pub mod log;
pub mod opaque;
pub mod out;
pub mod probe;
pub mod status;

pub use buffer::Buffer;
pub use error::Error;
pub use handle::{Handle, HandleMap};
pub use status::Status;

/// The crate version as a static NUL-terminated string, e.g. "0.1.0".
///
/// Never NULL; the string lives for the whole program.
#[no_mangle]
pub extern "C" fn graft_ffi_version() -> *const core::ffi::c_char {
    boundary::internal_pointer_const(|| {
        Ok(concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast())
    })
}
