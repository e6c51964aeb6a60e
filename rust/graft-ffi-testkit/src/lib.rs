//! Umbrella staticlib linked into graft's C test executables: it re-exports graft-ffi
//! (so its `extern "C"` functions are in the archive) and adds test-only exports.

pub use graft_ffi;

/// Adds two numbers in Rust: the smoke test's proof that C reaches Rust code.
#[no_mangle]
pub extern "C" fn graft_testkit_add(a: i32, b: i32) -> i32 {
    a.wrapping_add(b)
}
