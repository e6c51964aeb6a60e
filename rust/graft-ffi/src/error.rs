//! Errors that cross the boundary: a [`Status`] plus a message, and the per-thread
//! "last error" that C reads after a failed call.
//!
//! Rules (docs/FFI.md, "Errors and panics"):
//! - Every boundary call that fails (an `Err` from the body, or a caught panic) records
//!   its status and message as the calling thread's last error.
//! - Successful calls leave the last error untouched, like `errno`; C clears it
//!   explicitly with `graft_ffi_clear_last_error` when it needs to tell a failure from a
//!   legitimate default value.
//! - Reading the last error never changes it.

use core::ffi::{c_char, c_int};
use std::borrow::Cow;
use std::cell::RefCell;

use crate::boundary;
use crate::out;
use crate::status::Status;

/// A failure on its way to C: a status and a human-readable message.
///
/// The message is kept as the thread's last error when the error crosses the boundary;
/// an empty message stands for the status's fixed description.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    status: Status,
    message: Cow<'static, str>,
}

impl Error {
    /// An error with a status and a message (static or owned).
    ///
    /// [`Status::Ok`] is not an error: it is turned into [`Status::Internal`] so that a
    /// failure can never look like a success to C.
    pub fn new(status: Status, message: impl Into<Cow<'static, str>>) -> Error {
        let (status, message) = if status == Status::Ok {
            (
                Status::Internal,
                Cow::Borrowed("an error was built with GRAFT_OK"),
            )
        } else {
            (status, message.into())
        };
        Error { status, message }
    }

    /// An error carrying only its status; the message is the status description.
    pub fn from_status(status: Status) -> Error {
        Error::new(status, "")
    }

    /// `GRAFT_ENULL` naming the argument that was NULL.
    pub fn null(argument: &str) -> Error {
        Error::new(
            Status::NullPointer,
            format!("argument `{argument}` is NULL"),
        )
    }

    /// `GRAFT_EINVAL` with a message.
    pub fn invalid(message: impl Into<Cow<'static, str>>) -> Error {
        Error::new(Status::InvalidArgument, message)
    }

    /// `GRAFT_EINTERNAL` with a message.
    pub fn internal(message: impl Into<Cow<'static, str>>) -> Error {
        Error::new(Status::Internal, message)
    }

    /// The status C will see.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The message C will read with `graft_ffi_last_error_message`.
    pub fn message(&self) -> &str {
        if self.message.is_empty() {
            self.status.message()
        } else {
            &self.message
        }
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}: {}", self.status.name(), self.message())
    }
}

impl std::error::Error for Error {}

impl From<Status> for Error {
    fn from(status: Status) -> Error {
        Error::from_status(status)
    }
}

impl From<core::str::Utf8Error> for Error {
    fn from(e: core::str::Utf8Error) -> Error {
        Error::new(Status::InvalidUtf8, format!("invalid UTF-8: {e}"))
    }
}

impl From<std::io::Error> for Error {
    /// `GRAFT_EIO`, with the OS error number in the message when there is one.
    fn from(e: std::io::Error) -> Error {
        let message = match e.raw_os_error() {
            Some(errno) => format!("I/O error (errno {errno}): {e}"),
            None => format!("I/O error: {e}"),
        };
        Error::new(Status::Io, message)
    }
}

struct LastError {
    status: Status,
    // NUL-free, so C sees it whole; reused between failures to avoid reallocating.
    message: String,
}

thread_local! {
    static LAST_ERROR: RefCell<LastError> = const {
        RefCell::new(LastError { status: Status::Ok, message: String::new() })
    };
}

/// Records `status`/`message` as this thread's last error. Interior NULs are replaced
/// by U+FFFD so C's NUL-terminated view shows the whole message.
pub fn set_last_error(status: Status, message: &str) {
    let _ = LAST_ERROR.try_with(|cell| {
        if let Ok(mut last) = cell.try_borrow_mut() {
            last.status = status;
            last.message.clear();
            if message.contains('\0') {
                last.message.push_str(&message.replace('\0', "\u{FFFD}"));
            } else {
                last.message.push_str(message);
            }
        }
    });
}

/// Records an [`Error`] as this thread's last error.
pub fn record(error: &Error) {
    set_last_error(error.status(), error.message());
}

/// Forgets this thread's last error (status back to `GRAFT_OK`, empty message).
pub fn clear_last_error() {
    let _ = LAST_ERROR.try_with(|cell| {
        if let Ok(mut last) = cell.try_borrow_mut() {
            last.status = Status::Ok;
            last.message.clear();
        }
    });
}

/// This thread's last error status (`Status::Ok` when none is recorded).
pub fn last_error_status() -> Status {
    LAST_ERROR
        .try_with(|cell| cell.try_borrow().map(|l| l.status).unwrap_or(Status::Ok))
        .unwrap_or(Status::Ok)
}

/// Runs `f` with this thread's last error message ("" when none is recorded).
pub fn with_last_error_message<R>(f: impl FnOnce(&str) -> R) -> R {
    let mut f = Some(f);
    let r = LAST_ERROR.try_with(|cell| match cell.try_borrow() {
        Ok(last) => (f.take().expect("called once"))(&last.message),
        Err(_) => (f.take().expect("called once"))(""),
    });
    match r {
        Ok(r) => r,
        Err(_) => (f.take().expect("called once"))(""),
    }
}

/// Copies the calling thread's last error message into `buf`, snprintf-style.
///
/// Returns the length of the whole message in bytes, excluding the terminating NUL
/// (0 when no error is recorded). When `cap > 0` writes at most `cap - 1` bytes plus a
/// NUL; a truncated copy is cut at a UTF-8 character boundary, so it is always valid
/// UTF-8. The message is truncated exactly when the return value is `>= cap`.
/// `buf` may be NULL only when `cap` is 0 (to ask for the length); NULL with
/// `cap > 0` returns `-GRAFT_ENULL`. Lengths beyond `INT_MAX` are reported as
/// `INT_MAX`.
///
/// The last error is set by every failing graft-ffi boundary call on this thread
/// (non-OK status, NULL or default return) and is left unchanged by successful calls and
/// by this function. Thread-safe: each thread has its own last error.
///
/// # Safety
/// `buf` must be NULL or point to `cap` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn graft_ffi_last_error_message(buf: *mut c_char, cap: usize) -> c_int {
    boundary::internal_value(-Status::Internal.as_raw(), || {
        if buf.is_null() && cap > 0 {
            return Ok(-Status::NullPointer.as_raw());
        }
        let needed = with_last_error_message(|message| {
            // SAFETY: buf is non-NULL with cap writable bytes, or cap is 0 (the caller's
            // contract above); write_str_truncated writes nothing when cap is 0.
            unsafe { out::write_str_truncated(buf, cap, message) }
        });
        Ok(c_int::try_from(needed).unwrap_or(c_int::MAX))
    })
}

/// The status of the calling thread's last failed graft-ffi call, or `GRAFT_OK` when none
/// has failed since the thread started or since `graft_ffi_clear_last_error`.
/// Thread-safe; does not change the last error.
#[no_mangle]
pub extern "C" fn graft_ffi_last_error_status() -> c_int {
    boundary::internal_value(Status::Internal.as_raw(), || {
        Ok(last_error_status().as_raw())
    })
}

/// Clears the calling thread's last error (status `GRAFT_OK`, empty message). Call it
/// before a function whose failure value is also a valid result. Thread-safe.
#[no_mangle]
pub extern "C" fn graft_ffi_clear_last_error() {
    boundary::internal_unit(|| {
        clear_last_error();
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_carry_errno() {
        let e = Error::from(std::io::Error::from_raw_os_error(2));
        assert_eq!(e.status(), Status::Io);
        assert!(
            e.message().starts_with("I/O error (errno 2): "),
            "{}",
            e.message()
        );
        let e = Error::from(std::io::Error::other("custom"));
        assert_eq!(e.message(), "I/O error: custom");
    }

    #[test]
    fn nul_in_messages_is_replaced() {
        set_last_error(Status::Parse, "a\0b");
        with_last_error_message(|m| assert_eq!(m, "a\u{FFFD}b"));
        clear_last_error();
        assert_eq!(last_error_status(), Status::Ok);
        with_last_error_message(|m| assert_eq!(m, ""));
    }
}
