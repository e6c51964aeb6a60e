//! The panic boundary: every `extern "C"` function of graft routes its whole body
//! through one of these functions, so that
//!
//! - a Rust panic never unwinds into C: it is caught (`catch_unwind`), turned into
//!   `GRAFT_EPANIC`, its message kept as the thread's last error and logged;
//! - an `Err(Error)` from the body becomes the matching status / failure value, its
//!   message kept as the thread's last error (see [`crate::error`]);
//! - a panic armed by `graft_ffi_fault_arm_panic` fires here, before the body runs.
//!
//! Pick the variant by the C return type; the value C sees on failure is fixed:
//!
//! | variant | C return | on `Err` or panic |
//! |---|---|---|
//! | [`status`] | `int` status | the error's status / `GRAFT_EPANIC` |
//! | [`pointer`], [`pointer_const`] | `T *` | `NULL` |
//! | [`boolean`] | `bool` | `false` |
//! | [`value`] | any `T` | the `default` given by the caller |
//! | [`unit`] | `void` | nothing (only the last error tells) |
//!
//! ```
//! use graft_ffi::{boundary, borrow, Error};
//! use core::ffi::c_int;
//!
//! /// Counts the bytes equal to `needle` in `data[0..len]`.
//! #[no_mangle]
//! pub unsafe extern "C" fn example_count(data: *const u8, len: usize, needle: u8,
//!                                        out: *mut usize) -> c_int {
//!     boundary::status(|| {
//!         // SAFETY: the caller passes `len` readable bytes at `data` (or NULL, 0).
//!         let data = unsafe { borrow::bytes(data, len) }?;
//!         let n = data.iter().filter(|&&b| b == needle).count();
//!         // SAFETY: `out` is NULL (rejected) or points to a writable usize.
//!         unsafe { graft_ffi::out::write(out, n) }
//!     })
//! }
//! # let mut n = 0usize;
//! # assert_eq!(unsafe { example_count(b"abca".as_ptr(), 4, b'a', &mut n) }, 0);
//! # assert_eq!(n, 2);
//! ```
//!
//! The closure is run under `AssertUnwindSafe`: state the body touched before a panic
//! may be half-updated, so objects reached by a call that panicked should be treated as
//! broken by C (the handle map and log bridge recover their own locks).

use core::ffi::c_int;
use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{self, Error};
use crate::fault;
use crate::log::{self, Level, RateLimit};
use crate::probe;
use crate::status::Status;

/// Log lines about caught panics per second, process-wide; the panics beyond are counted
/// and reported as `suppressed=N` on the next line that is written.
pub const PANIC_LOG_PER_SECOND: u32 = 10;

static PANIC_LOG: RateLimit = RateLimit::new(PANIC_LOG_PER_SECOND);

/// Caught panics whose log line was suppressed by the rate limit since the last line
/// (what the next line's `suppressed=` will say).
pub fn panic_log_suppressed() -> u64 {
    PANIC_LOG.pending()
}

static PANIC_HOOK_LOG: RateLimit = RateLimit::new(PANIC_LOG_PER_SECOND);
static PANIC_HOOK: std::sync::Once = std::sync::Once::new();

/// Wraps the process's panic hook (Rust's default prints two lines to stderr per panic)
/// so it runs at most [`PANIC_LOG_PER_SECOND`] times a second; the next message that is
/// let through is followed by one line counting the panics whose message was
/// suppressed. Idempotent. For hosts whose candidates may panic on every call.
pub fn rate_limit_panic_hook() {
    PANIC_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if let Some(suppressed) = PANIC_HOOK_LOG.admit() {
                previous(info);
                if suppressed > 0 {
                    eprintln!("graft-ffi: {suppressed} panic messages suppressed (rate limit)");
                }
            }
        }));
    });
}

/// Limits the process's panic hook to `PANIC_LOG_PER_SECOND` messages a second (see the
/// Rust `graft_ffi::boundary::rate_limit_panic_hook`). Call once at start-up, before
/// threads that may panic run. Idempotent.
#[no_mangle]
pub extern "C" fn graft_ffi_rate_limit_panic_hook() {
    crate::boundary::internal_unit(|| {
        rate_limit_panic_hook();
        Ok(())
    })
}

/// Runs `body`; returns `GRAFT_OK`, the status of its `Err`, or `GRAFT_EPANIC`.
#[inline]
pub fn status<F>(body: F) -> c_int
where
    F: FnOnce() -> Result<(), Error>,
{
    match run::<true, _, _>(body) {
        Ok(()) => Status::Ok.as_raw(),
        Err(s) => s.as_raw(),
    }
}

/// Runs `body`; returns its pointer, or NULL on `Err` or panic. A NULL returned by the
/// body itself as `Ok` passes through and does not touch the last error.
#[inline]
pub fn pointer<T, F>(body: F) -> *mut T
where
    F: FnOnce() -> Result<*mut T, Error>,
{
    run::<true, _, _>(body).unwrap_or(core::ptr::null_mut())
}

/// [`pointer`] for functions returning `const T *`.
#[inline]
pub fn pointer_const<T, F>(body: F) -> *const T
where
    F: FnOnce() -> Result<*const T, Error>,
{
    run::<true, _, _>(body).unwrap_or(core::ptr::null())
}

/// Runs `body`; returns its bool, or `false` on `Err` or panic.
#[inline]
pub fn boolean<F>(body: F) -> bool
where
    F: FnOnce() -> Result<bool, Error>,
{
    run::<true, _, _>(body).unwrap_or(false)
}

/// Runs `body`; returns its value, or `default` on `Err` or panic. When `default` is also
/// a valid result, C tells them apart with `graft_ffi_clear_last_error` before the call
/// and `graft_ffi_last_error_status` after it.
#[inline]
pub fn value<T, F>(default: T, body: F) -> T
where
    F: FnOnce() -> Result<T, Error>,
{
    run::<true, _, _>(body).unwrap_or(default)
}

/// Runs `body` for a function returning `void`; a failure is visible only as the last
/// error.
#[inline]
pub fn unit<F>(body: F)
where
    F: FnOnce() -> Result<(), Error>,
{
    let _ = run::<true, _, _>(body);
}

/// [`value`] without the fault-injection check, for graft-ffi's own machinery (arming,
/// reading the last error) which must not consume an armed panic meant for a component.
#[inline]
pub(crate) fn internal_value<T, F>(default: T, body: F) -> T
where
    F: FnOnce() -> Result<T, Error>,
{
    run::<false, _, _>(body).unwrap_or(default)
}

/// [`pointer_const`] without the fault-injection check (see [`internal_value`]), for
/// functions that promise never to return NULL.
#[inline]
pub(crate) fn internal_pointer_const<T, F>(body: F) -> *const T
where
    F: FnOnce() -> Result<*const T, Error>,
{
    run::<false, _, _>(body).unwrap_or(core::ptr::null())
}

/// [`unit`] without the fault-injection check (see [`internal_value`]).
#[inline]
pub(crate) fn internal_unit<F>(body: F)
where
    F: FnOnce() -> Result<(), Error>,
{
    let _ = run::<false, _, _>(body);
}

#[inline(always)]
fn run<const FAULTS: bool, T, F>(body: F) -> Result<T, Status>
where
    F: FnOnce() -> Result<T, Error>,
{
    // One load while no tracer is attached (crate::probe), and the probes out of line.
    // One catch_unwind for traced and untraced entries, so the body's captures are laid
    // out once (a separate traced copy of this function made every entry of
    // examples/redis's twin store its six arguments twice), and everything but an
    // untraced success leaves through one cold function, so the common path keeps
    // its registers and returns at once.
    if probe::enabled() {
        trace_enter::<F>();
    }
    match catch_unwind(AssertUnwindSafe(|| {
        if FAULTS {
            fault::fire_if_armed();
        }
        body()
    })) {
        // Read again rather than kept live across the body (a register less on every
        // entry); a tracer attaching during the call sees a return without an enter,
        // as it would for any call already under way.
        Ok(Ok(v)) if !probe::enabled() => Ok(v),
        other => finish::<F, T>(other),
    }
}

/// The exit of [`run`] for an `Err`, a panic, or any return while a tracer is attached:
/// records the error or the panic, fires `ffi__panic` and `ffi__return`.
#[cold]
#[inline(never)]
fn finish<F, T>(r: Result<Result<T, Error>, Box<dyn Any + Send>>) -> Result<T, Status> {
    let out = match r {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(failed(e)),
        Err(payload) => {
            if probe::enabled() {
                trace_panic::<F>();
            }
            Err(panicked(payload))
        }
    };
    if probe::enabled() {
        trace_return::<F>(match &out {
            Ok(_) => Status::Ok,
            Err(s) => *s,
        });
    }
    out
}

/// The `ffi__enter` probe for the function whose body is `F`.
#[cold]
#[inline(never)]
fn trace_enter<F>() {
    probe::enter(probe::fn_name::<F>());
}

/// The `ffi__return` probe, with the status C sees.
#[cold]
#[inline(never)]
fn trace_return<F>(status: Status) {
    probe::ret(probe::fn_name::<F>(), i64::from(status.as_raw()));
}

/// The `ffi__panic` probe (always `GRAFT_EPANIC`).
#[cold]
#[inline(never)]
fn trace_panic<F>() {
    probe::panic(probe::fn_name::<F>(), i64::from(Status::Panic.as_raw()));
}

#[cold]
#[inline(never)]
fn failed(e: Error) -> Status {
    let status = e.status();
    // Recording allocates at most; it cannot unwind into C because a panic here is
    // caught and reduced to the status alone.
    let _ = catch_unwind(AssertUnwindSafe(|| error::record(&e)));
    status
}

#[cold]
#[inline(never)]
fn panicked(payload: Box<dyn Any + Send>) -> Status {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        let message = panic_message(&*payload);
        error::set_last_error(Status::Panic, &message);
        // Rate limited: a candidate that panics on every call (breaker off, or
        // candidate-only) would otherwise write one line per call.
        if log::enabled(Level::Error) {
            if let Some(suppressed) = PANIC_LOG.admit() {
                log::write(
                    Level::Error,
                    "graft_ffi",
                    format_args!("caught at the FFI boundary: {message} suppressed={suppressed}"),
                );
            }
        }
    }));
    // A payload whose destructor panics must not unwind into C either.
    if let Err(second) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(second);
    }
    Status::Panic
}

/// The message kept for a caught panic: "panic: <payload>".
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if payload.is::<fault::InjectedPanic>() {
        "panic: injected by graft_ffi_fault_arm_panic".to_string()
    } else if let Some(s) = payload.downcast_ref::<&'static str>() {
        format!("panic: {s}")
    } else if let Some(s) = payload.downcast_ref::<String>() {
        format!("panic: {s}")
    } else {
        "panic: (payload is not a string)".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{clear_last_error, last_error_status, with_last_error_message};

    #[test]
    fn ok_passes_through() {
        clear_last_error();
        assert_eq!(status(|| Ok(())), 0);
        assert_eq!(value(7, || Ok(3)), 3);
        assert!(boolean(|| Ok(true)));
        let mut x = 5;
        assert_eq!(pointer(|| Ok(&mut x as *mut i32)), &mut x as *mut i32);
        assert_eq!(last_error_status(), Status::Ok);
    }

    #[test]
    fn errors_become_status_and_message() {
        clear_last_error();
        assert_eq!(status(|| Err(Error::invalid("too big"))), 1);
        assert_eq!(last_error_status(), Status::InvalidArgument);
        with_last_error_message(|m| assert_eq!(m, "too big"));
        assert_eq!(value(-1, || Err(Status::Parse.into())), -1);
        with_last_error_message(|m| assert_eq!(m, "input could not be parsed"));
        assert!(pointer::<u8, _>(|| Err(Error::null("p"))).is_null());
        assert!(!boolean(|| Err(Error::from_status(Status::NotFound))));
        assert_eq!(last_error_status(), Status::NotFound);
        // success leaves the last error alone
        assert_eq!(status(|| Ok(())), 0);
        assert_eq!(last_error_status(), Status::NotFound);
    }

    #[test]
    fn panics_are_caught() {
        assert_eq!(status(|| panic!("boom {}", 42)), Status::Panic.as_raw());
        with_last_error_message(|m| assert_eq!(m, "panic: boom 42"));
        assert!(pointer_const::<u8, _>(|| panic!("static")).is_null());
        with_last_error_message(|m| assert_eq!(m, "panic: static"));
        assert_eq!(
            value(9u8, || std::panic::panic_any(17u32)),
            9,
            "default on panic"
        );
        with_last_error_message(|m| assert_eq!(m, "panic: (payload is not a string)"));
    }

    #[test]
    fn ok_status_is_never_an_error() {
        let e = Error::new(Status::Ok, "x");
        assert_eq!(e.status(), Status::Internal);
    }
}
