//! graft-ffi: the rules every crossing between C and Rust follows.
//!
//! The status space is shared with libgraft (`include/graft/base.h`).

pub mod status;

pub use status::Status;

/// The crate version as a static NUL-terminated string, e.g. "0.1.0".
///
/// Never NULL; the string lives for the whole program.
#[no_mangle]
pub extern "C" fn graft_ffi_version() -> *const core::ffi::c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}
