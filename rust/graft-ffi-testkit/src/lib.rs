//! Umbrella staticlib linked into graft's C test executables: it re-exports graft-ffi
//! (so its `extern "C"` functions are in the archive) and adds test-only exports that
//! exercise every convention of graft-ffi from C (tests/ffi) and measure its cost
//! (bench/ffi). Nothing here ships.

use core::ffi::{c_char, c_int, c_void};
use std::sync::{Arc, OnceLock};

pub use graft_ffi;
use graft_ffi::{borrow, boundary, buffer, opaque, out, Buffer, Error, Handle, HandleMap, Status};

/// Adds two numbers in Rust: the smoke test's proof that C reaches Rust code.
#[no_mangle]
pub extern "C" fn graft_testkit_add(a: i32, b: i32) -> i32 {
    boundary::value(0, || Ok(a.wrapping_add(b)))
}

/// Fails with `status` (a number from C, checked: unknown numbers give `GRAFT_EINVAL`)
/// and `message` (NULL: the status description) as the last error. `GRAFT_OK` succeeds.
///
/// # Safety
/// `message` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn graft_testkit_fail(status: c_int, message: *const c_char) -> c_int {
    boundary::status(|| {
        let status = borrow::status(status)?;
        if status.is_ok() {
            return Ok(());
        }
        if message.is_null() {
            return Err(Error::from_status(status));
        }
        // SAFETY: NUL-terminated per contract.
        let message = unsafe { borrow::c_str(message) }?;
        Err(Error::new(status, message.to_owned()))
    })
}

/// Panics with `message` (NULL: a fixed message) inside the status boundary.
///
/// # Safety
/// `message` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn graft_testkit_panic(message: *const c_char) -> c_int {
    boundary::status(|| {
        if message.is_null() {
            panic!("deliberate panic from graft_testkit_panic");
        }
        // SAFETY: NUL-terminated per contract.
        let text = unsafe { core::ffi::CStr::from_ptr(message) }.to_string_lossy();
        panic!("{text}");
    })
}

/// Panics inside the pointer boundary (returns NULL).
#[no_mangle]
pub extern "C" fn graft_testkit_panic_pointer() -> *mut c_void {
    boundary::pointer(|| -> Result<*mut c_void, Error> { panic!("deliberate panic (pointer)") })
}

/// Panics inside the bool boundary (returns false).
#[no_mangle]
pub extern "C" fn graft_testkit_panic_bool() -> bool {
    boundary::boolean(|| -> Result<bool, Error> { panic!("deliberate panic (bool)") })
}

/// Panics inside the value boundary with default -1 (returns -1).
#[no_mangle]
pub extern "C" fn graft_testkit_panic_value() -> i64 {
    boundary::value(-1, || -> Result<i64, Error> {
        panic!("deliberate panic (value)")
    })
}

/// Panics inside the unit boundary (returns nothing; the last error tells).
#[no_mangle]
pub extern "C" fn graft_testkit_panic_unit() {
    boundary::unit(|| -> Result<(), Error> { panic!("deliberate panic (unit)") })
}

/// Returns `x` through the value boundary (default 0), doing nothing else: what a
/// component export costs when it is not failing.
#[no_mangle]
pub extern "C" fn graft_testkit_identity(x: i64) -> i64 {
    boundary::value(0, || Ok(x))
}

/// Counts the characters of `len` UTF-8 bytes at `s` into `*out_chars`.
///
/// # Safety
/// `s` is NULL or readable for `len` bytes; `out_chars` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn graft_testkit_utf8_chars(
    s: *const c_char,
    len: usize,
    out_chars: *mut usize,
) -> c_int {
    boundary::status(|| {
        // SAFETY: forwarded contract.
        let s = unsafe { borrow::str_utf8(s, len) }?;
        // SAFETY: forwarded contract.
        unsafe { out::write(out_chars, s.chars().count()) }
    })
}

/// Counts the characters of the NUL-terminated UTF-8 string `s` into `*out_chars`.
///
/// # Safety
/// `s` is NULL or NUL-terminated; `out_chars` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn graft_testkit_cstr_chars(
    s: *const c_char,
    out_chars: *mut usize,
) -> c_int {
    boundary::status(|| {
        // SAFETY: forwarded contract.
        let s = unsafe { borrow::c_str(s) }?;
        // SAFETY: forwarded contract.
        unsafe { out::write(out_chars, s.chars().count()) }
    })
}

/// Sums `len` bytes at `data` into `*out_sum`.
///
/// # Safety
/// `data` is NULL or readable for `len` bytes; `out_sum` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn graft_testkit_sum_bytes(
    data: *const u8,
    len: usize,
    out_sum: *mut u64,
) -> c_int {
    boundary::status(|| {
        // SAFETY: forwarded contract.
        let data = unsafe { borrow::bytes(data, len) }?;
        let sum = data.iter().map(|&b| u64::from(b)).sum();
        // SAFETY: forwarded contract.
        unsafe { out::write(out_sum, sum) }
    })
}

/// Writes `data` reversed into the caller's buffer `out[0..cap]` (whole or nothing);
/// `*needed` receives `len` even when the buffer is too small (`GRAFT_ETOOSMALL`).
///
/// # Safety
/// `data` NULL or readable for `len`; `out` NULL or writable for `cap`; `needed` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn graft_testkit_reverse(
    data: *const u8,
    len: usize,
    out: *mut u8,
    cap: usize,
    needed: *mut usize,
) -> c_int {
    boundary::status(|| {
        // SAFETY: forwarded contract.
        let data = unsafe { borrow::bytes(data, len) }?;
        let reversed: Vec<u8> = data.iter().rev().copied().collect();
        // SAFETY: forwarded contract.
        unsafe { out::write_bytes(out, cap, &reversed, needed) }
    })
}

/// Largest buffer graft_testkit_repeat makes, so a huge request fails cleanly.
pub const GRAFT_TESTKIT_REPEAT_MAX: usize = 1 << 26;

/// Returns a Rust-owned buffer of `n` copies of `byte` (free with
/// `graft_ffi_buffer_free`); `n` above 64 MiB is `GRAFT_EINVAL`.
///
/// # Safety
/// `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn graft_testkit_repeat(byte: u8, n: usize, out: *mut Buffer) -> c_int {
    boundary::status(|| {
        if n > GRAFT_TESTKIT_REPEAT_MAX {
            return Err(Error::invalid(format!(
                "{n} bytes is more than the 64 MiB limit"
            )));
        }
        // SAFETY: forwarded contract.
        unsafe { buffer::write_out(out, vec![byte; n]) }
    })
}

/// Copies `len` bytes at `data` into a new Rust-owned buffer (a round trip from C).
///
/// # Safety
/// `data` NULL or readable for `len`; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn graft_testkit_copy(
    data: *const u8,
    len: usize,
    out: *mut Buffer,
) -> c_int {
    boundary::status(|| {
        // SAFETY: forwarded contract.
        let data = unsafe { borrow::bytes(data, len) }?;
        // SAFETY: forwarded contract.
        unsafe { buffer::write_out(out, data.to_vec()) }
    })
}

fn counters() -> &'static HandleMap<i64> {
    static MAP: OnceLock<HandleMap<i64>> = OnceLock::new();
    MAP.get_or_init(HandleMap::new)
}

/// Creates a counter starting at `start`; its handle goes to `*out`.
///
/// # Safety
/// `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn graft_testkit_counter_new(start: i64, out: *mut Handle) -> c_int {
    boundary::status(|| {
        if out.is_null() {
            return Err(Error::null("out"));
        }
        let h = counters().insert(start)?;
        // SAFETY: checked non-NULL above; writable per contract.
        unsafe { out::write(out, h) }
    })
}

/// Adds `delta` (wrapping) to a counter; the new value goes to `*out_value` (may be
/// NULL). A stale, freed or unknown handle is `GRAFT_EHANDLE`.
///
/// # Safety
/// `out_value` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn graft_testkit_counter_add(
    h: Handle,
    delta: i64,
    out_value: *mut i64,
) -> c_int {
    boundary::status(|| {
        let v = counters().get_mut(h, |c| {
            *c = c.wrapping_add(delta);
            *c
        })?;
        if !out_value.is_null() {
            // SAFETY: non-NULL and writable per contract.
            unsafe { out::write(out_value, v) }?;
        }
        Ok(())
    })
}

/// Reads a counter (shared lookup) into `*out_value`.
///
/// # Safety
/// `out_value` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn graft_testkit_counter_get(h: Handle, out_value: *mut i64) -> c_int {
    boundary::status(|| {
        let v = counters().get(h, |c| *c)?;
        // SAFETY: forwarded contract.
        unsafe { out::write(out_value, v) }
    })
}

/// Frees a counter; freeing it again (or any stale handle) is `GRAFT_EHANDLE`.
#[no_mangle]
pub extern "C" fn graft_testkit_counter_free(h: Handle) -> c_int {
    boundary::status(|| counters().remove(h).map(drop))
}

/// Number of live counters.
#[no_mangle]
pub extern "C" fn graft_testkit_counter_live() -> usize {
    boundary::value(0, || Ok(counters().len()))
}

/// An opaque boxed object for tests of the Box helpers.
pub struct TestBox {
    value: i64,
    // Owned heap memory, so a leaked box shows up in LSan and valgrind.
    label: String,
}

/// Creates a boxed object holding `value`; NULL only on failure.
#[no_mangle]
pub extern "C" fn graft_testkit_box_new(value: i64) -> *mut TestBox {
    boundary::pointer(|| {
        Ok(opaque::into_raw(Box::new(TestBox {
            value,
            label: format!("box {value}"),
        })))
    })
}

/// Reads a boxed object's value; NULL is `GRAFT_ENULL`.
///
/// # Safety
/// `b` NULL or a live box; `out_value` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn graft_testkit_box_get(b: *const TestBox, out_value: *mut i64) -> c_int {
    boundary::status(|| {
        // SAFETY: forwarded contract.
        let b = unsafe { opaque::borrow(b) }?;
        debug_assert!(b.label.starts_with("box "));
        // SAFETY: forwarded contract.
        unsafe { out::write(out_value, b.value) }
    })
}

/// Frees a boxed object; NULL is a no-op.
///
/// # Safety
/// `b` NULL or a live box not used again.
#[no_mangle]
pub unsafe extern "C" fn graft_testkit_box_free(b: *mut TestBox) {
    boundary::unit(|| {
        // SAFETY: forwarded contract.
        drop(unsafe { opaque::take(b) });
        Ok(())
    })
}

/// A reference-counted opaque object for tests of the Arc helpers.
pub struct TestShared {
    value: Vec<u8>,
}

/// Creates a shared object holding a copy of `data[0..len]`; NULL on failure.
///
/// # Safety
/// `data` NULL or readable for `len`.
#[no_mangle]
pub unsafe extern "C" fn graft_testkit_shared_new(
    data: *const u8,
    len: usize,
) -> *const TestShared {
    boundary::pointer_const(|| {
        // SAFETY: forwarded contract.
        let data = unsafe { borrow::bytes(data, len) }?;
        Ok(opaque::arc_into_raw(Arc::new(TestShared {
            value: data.to_vec(),
        })))
    })
}

/// Takes another strong reference (release it separately); NULL on NULL input.
///
/// # Safety
/// `s` NULL or a live shared object.
#[no_mangle]
pub unsafe extern "C" fn graft_testkit_shared_retain(s: *const TestShared) -> *const TestShared {
    boundary::pointer_const(|| {
        // SAFETY: forwarded contract.
        let arc = unsafe { opaque::arc_clone(s) }?;
        Ok(opaque::arc_into_raw(arc))
    })
}

/// Length of the shared object's bytes, or `(size_t)-1` on NULL.
///
/// # Safety
/// `s` NULL or a live shared object.
#[no_mangle]
pub unsafe extern "C" fn graft_testkit_shared_len(s: *const TestShared) -> usize {
    boundary::value(usize::MAX, || {
        // SAFETY: forwarded contract.
        Ok(unsafe { opaque::borrow(s) }?.value.len())
    })
}

/// Releases one strong reference; NULL is a no-op.
///
/// # Safety
/// `s` NULL or a reference the caller holds and does not use again.
#[no_mangle]
pub unsafe extern "C" fn graft_testkit_shared_release(s: *const TestShared) {
    boundary::unit(|| {
        // SAFETY: forwarded contract.
        unsafe { opaque::arc_release(s) };
        Ok(())
    })
}

/// Logs `message` at `level` under `target` through graft-ffi's log bridge
/// (`GRAFT_EINVAL` for a level outside 0..4).
///
/// # Safety
/// `target` and `message` NULL (`GRAFT_ENULL`) or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn graft_testkit_log(
    level: c_int,
    target: *const c_char,
    message: *const c_char,
) -> c_int {
    boundary::status(|| {
        let level = graft_ffi::log::LogLevel::from_raw(level)
            .ok_or_else(|| Error::invalid(format!("log level {level} is not in 0..4")))?;
        // SAFETY: forwarded contract.
        let target = unsafe { borrow::c_str(target) }?;
        // SAFETY: forwarded contract.
        let message = unsafe { borrow::c_str(message) }?;
        graft_ffi::log::write(level, target, format_args!("{message}"));
        Ok(())
    })
}

/// The status `graft_ffi::Status` gives for a number, or -1 when unknown: lets C check
/// that Rust's numbering matches base.h.
#[no_mangle]
pub extern "C" fn graft_testkit_status_roundtrip(raw: c_int) -> c_int {
    boundary::value(-1, || Ok(Status::from_raw(raw).map_or(-1, Status::as_raw)))
}

/// Benchmark baseline: `x + 1` with no boundary at all, the cost of a bare C→Rust call.
// ffi-boundary: exempt the benchmark's no-boundary baseline; it cannot fail or panic.
#[no_mangle]
pub extern "C" fn graft_testkit_bench_raw(x: u64) -> u64 {
    x.wrapping_add(1)
}

/// Benchmark: `x + 1` through the value boundary.
#[no_mangle]
pub extern "C" fn graft_testkit_bench_boundary(x: u64) -> u64 {
    boundary::value(0, || Ok(x.wrapping_add(1)))
}

/// Benchmark: borrowed bytes in, out-parameter written, status returned; the usual shape
/// of a component export. Writes the first byte plus `len` to `*out`.
///
/// # Safety
/// `data` NULL or readable for `len`; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn graft_testkit_bench_status(
    data: *const u8,
    len: usize,
    out: *mut u64,
) -> c_int {
    boundary::status(|| {
        // SAFETY: forwarded contract.
        let data = unsafe { borrow::bytes(data, len) }?;
        let first = data.first().copied().unwrap_or(0);
        // SAFETY: forwarded contract.
        unsafe { out::write(out, u64::from(first) + len as u64) }
    })
}

/// Replaces the process's panic hook with a silent one, for tests that panic thousands
/// of times on purpose (the boundary still catches and reports every panic).
#[no_mangle]
pub extern "C" fn graft_testkit_quiet_panics() {
    boundary::unit(|| {
        std::panic::set_hook(Box::new(|_| {}));
        Ok(())
    })
}
