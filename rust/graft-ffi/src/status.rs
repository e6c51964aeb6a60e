//! The status space shared with libgraft: the same numbers, names and messages on both
//! sides (`include/graft/base.h`), and the C functions that describe a status.

use core::ffi::{c_char, c_int};

use crate::boundary;

/// Outcome of a call across the boundary. Mirrors `graft_status` in `graft/base.h`.
///
/// Values received from C are integers: convert with [`Status::from_raw`], which
/// rejects unknown numbers, never by transmuting.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    Ok = 0,
    InvalidArgument = 1,
    NullPointer = 2,
    BufferTooSmall = 3,
    InvalidUtf8 = 4,
    Parse = 5,
    NotFound = 6,
    Unsupported = 7,
    Internal = 8,
    Panic = 9,
    NoMemory = 10,
    InvalidHandle = 11,
    Exists = 12,
    State = 13,
    Io = 14,
    Config = 15,
    Injected = 16,
}

/// Highest status number this version knows (`GRAFT_STATUS_MAX` in `graft/base.h`).
pub const STATUS_MAX: i32 = 16;

/// Message for a number no version of this crate defines (mirrors libgraft).
pub const UNKNOWN_STATUS_MESSAGE: &str = "unknown status";

// (enumerator name, comment text in base.h), NUL-terminated for C, in numeric order.
// The texts are the contract with libgraft's graft_strerror/graft_status_name; the unit
// test below and tests/ffi compare them against base.h and libgraft.
const TABLE: [(&str, &str); 17] = [
    ("GRAFT_OK\0", "success\0"),
    (
        "GRAFT_EINVAL\0",
        "an argument is out of its documented range\0",
    ),
    ("GRAFT_ENULL\0", "a required pointer was NULL\0"),
    (
        "GRAFT_ETOOSMALL\0",
        "the caller's buffer is too small; the needed size was reported\0",
    ),
    ("GRAFT_EUTF8\0", "a string was not valid UTF-8\0"),
    ("GRAFT_EPARSE\0", "input could not be parsed\0"),
    ("GRAFT_ENOTFOUND\0", "no such item (seam, key, file, ...)\0"),
    (
        "GRAFT_EUNSUPPORTED\0",
        "valid request this build or object cannot do\0",
    ),
    ("GRAFT_EINTERNAL\0", "a bug: an invariant did not hold\0"),
    (
        "GRAFT_EPANIC\0",
        "Rust code panicked; the panic was caught at the boundary\0",
    ),
    ("GRAFT_ENOMEM\0", "an allocation failed\0"),
    (
        "GRAFT_EHANDLE\0",
        "a handle was stale, freed twice, or never issued\0",
    ),
    (
        "GRAFT_EEXIST\0",
        "the item already exists (e.g. seam registered twice)\0",
    ),
    (
        "GRAFT_ESTATE\0",
        "the object is not in a state that allows this call\0",
    ),
    (
        "GRAFT_EIO\0",
        "an I/O operation failed (see the message for errno)\0",
    ),
    (
        "GRAFT_ECONFIG\0",
        "configuration rejected (the message names the line)\0",
    ),
    (
        "GRAFT_EINJECTED\0",
        "a failure injected on purpose by fault injection\0",
    ),
];

const UNKNOWN_STATUS_C: &str = "unknown status\0";

fn strip_nul(s: &'static str) -> &'static str {
    &s[..s.len() - 1]
}

impl Status {
    /// Every status, in numeric order.
    pub const ALL: [Status; 17] = [
        Status::Ok,
        Status::InvalidArgument,
        Status::NullPointer,
        Status::BufferTooSmall,
        Status::InvalidUtf8,
        Status::Parse,
        Status::NotFound,
        Status::Unsupported,
        Status::Internal,
        Status::Panic,
        Status::NoMemory,
        Status::InvalidHandle,
        Status::Exists,
        Status::State,
        Status::Io,
        Status::Config,
        Status::Injected,
    ];

    /// The status for a number received from C, or `None` for an unknown number.
    pub fn from_raw(raw: i32) -> Option<Status> {
        usize::try_from(raw)
            .ok()
            .and_then(|i| Self::ALL.get(i).copied())
    }

    /// The number C sees.
    pub fn as_raw(self) -> i32 {
        self as i32
    }

    /// The enumerator name in `graft/base.h`, e.g. `"GRAFT_EINVAL"`.
    pub fn name(self) -> &'static str {
        strip_nul(TABLE[self as usize].0)
    }

    /// The fixed description of the status (the comment of its enumerator in
    /// `graft/base.h`), e.g. `"an argument is out of its documented range"`.
    pub fn message(self) -> &'static str {
        strip_nul(TABLE[self as usize].1)
    }

    /// True for [`Status::Ok`].
    pub fn is_ok(self) -> bool {
        self == Status::Ok
    }
}

impl core::fmt::Display for Status {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// The fixed description of a status number: the comment text of its enumerator in
/// `graft/base.h` (`GRAFT_OK` gives "success"), or "unknown status" for a number this
/// version does not define. Identical to libgraft's `graft_strerror`.
///
/// Never NULL; the string is static. Thread-safe.
#[no_mangle]
pub extern "C" fn graft_ffi_strerror(status: c_int) -> *const c_char {
    boundary::internal_pointer_const(|| {
        let text = match Status::from_raw(status) {
            Some(s) => TABLE[s as usize].1,
            None => UNKNOWN_STATUS_C,
        };
        Ok(text.as_ptr().cast())
    })
}

/// The enumerator name of a status number (`"GRAFT_EINVAL"`), or NULL for a number
/// this version does not define. Identical to libgraft's `graft_status_name`.
///
/// The string is static. Thread-safe.
#[no_mangle]
pub extern "C" fn graft_ffi_status_name(status: c_int) -> *const c_char {
    boundary::internal_pointer_const(|| {
        Ok(match Status::from_raw(status) {
            Some(s) => TABLE[s as usize].0.as_ptr().cast(),
            None => core::ptr::null(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip() {
        for (i, s) in Status::ALL.iter().enumerate() {
            assert_eq!(s.as_raw(), i as i32);
            assert_eq!(Status::from_raw(i as i32), Some(*s));
        }
        assert_eq!(Status::ALL.len() as i32, STATUS_MAX + 1);
        assert_eq!(Status::from_raw(-1), None);
        assert_eq!(Status::from_raw(STATUS_MAX + 1), None);
        assert_eq!(Status::from_raw(i32::MIN), None);
        assert_eq!(Status::from_raw(i32::MAX), None);
    }

    /// The names and messages are exactly the enumerators and comments of base.h.
    #[test]
    fn table_matches_base_h() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../include/graft/base.h");
        let text = std::fs::read_to_string(path).expect("read include/graft/base.h");
        let mut seen = 0;
        for line in text.lines() {
            let line = line.trim();
            let Some(rest) = line.strip_prefix("GRAFT_") else {
                continue;
            };
            let Some((lhs, comment)) = rest.split_once("/*") else {
                continue;
            };
            let Some((name, number)) = lhs.split_once('=') else {
                continue;
            };
            let number: i32 = number.trim().trim_end_matches(',').trim().parse().unwrap();
            let name = format!("GRAFT_{}", name.trim());
            let comment = comment.trim().trim_end_matches("*/").trim();
            if name.starts_with("GRAFT_LOG_") {
                continue;
            }
            let s = Status::from_raw(number).expect("base.h number known to Rust");
            assert_eq!(s.name(), name);
            assert_eq!(s.message(), comment);
            seen += 1;
        }
        assert_eq!(seen, Status::ALL.len());
        assert!(text.contains(&format!("#define GRAFT_STATUS_MAX {STATUS_MAX}\n")));
    }
}
