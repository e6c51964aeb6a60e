//! The status space shared with libgraft: the same numbers, names and messages on both
//! sides (`include/graft/base.h`), and the C functions that describe a status.

use core::ffi::{c_char, c_int};

use crate::boundary;

// The enum `Status`, `STATUS_MAX`, `Status::ALL` and the name/message table, generated
// by build.rs from GRAFT_STATUS_MAP in include/graft/base.h (the one list).
include!(concat!(env!("OUT_DIR"), "/status_gen.rs"));

/// Message for a number no version of this crate defines (mirrors libgraft).
pub const UNKNOWN_STATUS_MESSAGE: &str = "unknown status";

const UNKNOWN_STATUS_C: &str = "unknown status\0";

fn strip_nul(s: &'static str) -> &'static str {
    &s[..s.len() - 1]
}

impl Status {
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

    /// The generated table holds what base.h's map says, for a few codes spelled out
    /// here: the generator cannot silently shift names or messages.
    #[test]
    fn generated_from_base_h() {
        assert_eq!(Status::Ok.name(), "GRAFT_OK");
        assert_eq!(Status::Ok.message(), "success");
        assert_eq!(Status::BufferTooSmall.name(), "GRAFT_ETOOSMALL");
        assert_eq!(
            Status::BufferTooSmall.message(),
            "the caller's buffer is too small; the needed size was reported"
        );
        assert_eq!(
            Status::NotFound.message(),
            "no such item (seam, key, file, ...)"
        );
        assert_eq!(Status::Injected.as_raw(), 16);
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../include/graft/base.h");
        let text = std::fs::read_to_string(path).expect("read include/graft/base.h");
        for s in Status::ALL {
            let suffix = s.name().strip_prefix("GRAFT_").unwrap();
            assert!(
                text.contains(&format!("XX({suffix}, {}, {s:?}, ", s.as_raw())),
                "{s:?}"
            );
            assert!(text.contains(&format!("\"{}\")", s.message())), "{s:?}");
        }
        assert!(text.contains(&format!("#define GRAFT_STATUS_MAX {STATUS_MAX}\n")));
    }
}
