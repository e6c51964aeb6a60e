//! Property tests of graft-ffi's conversions, called the way C calls them (raw pointers
//! and lengths through the exported functions and helpers).

use core::ffi::c_char;

use graft_ffi::{borrow, boundary, buffer, out, Buffer, Error, HandleMap, Status};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Every i32 either maps to the status with that number or is rejected; never
    /// anything else.
    #[test]
    fn status_numbers_round_trip_or_are_rejected(raw in any::<i32>()) {
        match Status::from_raw(raw) {
            Some(s) => {
                prop_assert!((0..=graft_ffi::status::STATUS_MAX).contains(&raw));
                prop_assert_eq!(s.as_raw(), raw);
                prop_assert!(borrow::status(raw).is_ok());
            }
            None => {
                prop_assert!(!(0..=graft_ffi::status::STATUS_MAX).contains(&raw));
                prop_assert_eq!(borrow::status(raw).unwrap_err().status(), Status::InvalidArgument);
                // SAFETY: the exported functions return static strings or NULL.
                unsafe {
                    prop_assert!(graft_ffi::status::graft_ffi_status_name(raw).is_null());
                    let s = core::ffi::CStr::from_ptr(graft_ffi::status::graft_ffi_strerror(raw));
                    prop_assert_eq!(s.to_str().unwrap(), "unknown status");
                }
            }
        }
    }

    /// Borrowed bytes are exactly the caller's bytes.
    #[test]
    fn borrowed_bytes_are_the_input(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        // SAFETY: data is a live Vec of data.len() bytes.
        let b = unsafe { borrow::bytes(data.as_ptr(), data.len()) }.unwrap();
        prop_assert_eq!(b, &data[..]);
    }

    /// UTF-8 validation agrees with std, and a failure names the first bad byte.
    #[test]
    fn utf8_validation_matches_std(data in proptest::collection::vec(any::<u8>(), 0..64)) {
        // SAFETY: data is live for data.len() bytes.
        let r = unsafe { borrow::str_utf8(data.as_ptr().cast::<c_char>(), data.len()) };
        match core::str::from_utf8(&data) {
            Ok(s) => prop_assert_eq!(r.unwrap(), s),
            Err(e) => {
                let err = r.unwrap_err();
                prop_assert_eq!(err.status(), Status::InvalidUtf8);
                let expected = format!("invalid UTF-8 at byte {} of {}", e.valid_up_to(), data.len());
                prop_assert_eq!(err.message(), expected.as_str());
            }
        }
    }

    /// Valid strings survive the borrow unchanged, NUL-terminated or with a length.
    #[test]
    fn strings_round_trip(s in "[^\u{0}]{0,40}") {
        let mut c = s.clone().into_bytes();
        c.push(0);
        // SAFETY: c is NUL-terminated and live.
        prop_assert_eq!(unsafe { borrow::c_str(c.as_ptr().cast()) }.unwrap(), s.as_str());
        // SAFETY: s is live for s.len() bytes.
        prop_assert_eq!(unsafe { borrow::str_utf8(s.as_ptr().cast(), s.len()) }.unwrap(), s.as_str());
    }

    /// Caller buffers: the whole value or nothing, and the needed length always.
    #[test]
    fn caller_buffer_exact(data in proptest::collection::vec(any::<u8>(), 0..128), cap in 0usize..160) {
        let mut buf = vec![0xEEu8; cap];
        let mut needed = usize::MAX;
        // SAFETY: buf holds cap writable bytes; needed is a live usize.
        let r = unsafe { out::write_bytes(if cap == 0 { core::ptr::null_mut() } else { buf.as_mut_ptr() }, cap, &data, &mut needed) };
        prop_assert_eq!(needed, data.len());
        if data.len() <= cap {
            prop_assert!(r.is_ok());
            prop_assert_eq!(&buf[..data.len()], &data[..]);
            prop_assert!(buf[data.len()..].iter().all(|&b| b == 0xEE));
        } else {
            prop_assert_eq!(r.unwrap_err().status(), Status::BufferTooSmall);
            prop_assert!(buf.iter().all(|&b| b == 0xEE));
        }
    }

    /// snprintf-style copies: full length returned, a NUL-terminated valid UTF-8 prefix
    /// of at most cap - 1 bytes written, as long as possible.
    #[test]
    fn truncated_strings_are_utf8_prefixes(s in "\\PC{0,30}", cap in 0usize..64) {
        let mut buf = vec![0x7Fu8 as c_char; cap.max(1)];
        // SAFETY: buf holds at least cap writable bytes.
        let n = unsafe { out::write_str_truncated(buf.as_mut_ptr(), cap, &s) };
        prop_assert_eq!(n, s.len());
        if cap > 0 {
            let bytes: Vec<u8> = buf.iter().map(|&c| c as u8).collect();
            let end = bytes.iter().position(|&b| b == 0).unwrap();
            prop_assert!(end < cap);
            let written = core::str::from_utf8(&bytes[..end]).unwrap();
            prop_assert!(s.starts_with(written));
            if s.len() < cap {
                prop_assert_eq!(written, s.as_str());
            } else {
                // Not one more character would have fitted.
                let next = s[end..].chars().next().map_or(0, char::len_utf8);
                prop_assert!(end + next > cap - 1);
            }
        }
    }

    /// Owned buffers hand over exactly the bytes and come back whole.
    #[test]
    fn owned_buffers_round_trip(data in proptest::collection::vec(any::<u8>(), 0..256)) {
        let b = Buffer::from_vec(data.clone());
        prop_assert_eq!(b.len, data.len());
        prop_assert_eq!(b.data.is_null(), data.is_empty());
        // SAFETY: b comes from from_vec and is not freed.
        prop_assert_eq!(unsafe { b.as_slice() }, &data[..]);
        let mut c = Buffer::from_vec(data.clone());
        // SAFETY: c is a graft buffer.
        unsafe { buffer::graft_ffi_buffer_free(&mut c) };
        prop_assert!(c.data.is_null() && c.len == 0);
        // SAFETY: b comes from from_vec and is not freed.
        prop_assert_eq!(unsafe { b.into_vec() }, data);
    }

    /// Errors cross with their status and message, whatever the message holds.
    #[test]
    fn errors_cross_with_status_and_message(raw in 1i32..=16, msg in "\\PC{0,40}") {
        let status = Status::from_raw(raw).unwrap();
        let msg2 = msg.clone();
        let got = boundary::status(move || Err(Error::new(status, msg2)));
        prop_assert_eq!(got, raw);
        prop_assert_eq!(graft_ffi::error::last_error_status(), status);
        let expected = if msg.is_empty() { status.message().to_string() } else { msg.clone() };
        graft_ffi::error::with_last_error_message(|m| assert_eq!(m, expected));
        // And through the C reader, with a buffer of exactly the right size.
        let mut buf = vec![0 as c_char; expected.len() + 1];
        // SAFETY: buf holds buf.len() writable bytes.
        let n = unsafe { graft_ffi::error::graft_ffi_last_error_message(buf.as_mut_ptr(), buf.len()) };
        prop_assert_eq!(n as usize, expected.len());
        // SAFETY: the reader NUL-terminated buf.
        let read = unsafe { core::ffi::CStr::from_ptr(buf.as_ptr()) };
        prop_assert_eq!(read.to_str().unwrap(), expected.as_str());
    }

    /// A handle map behaves like a model map under any sequence of operations, and a
    /// removed handle is never valid again.
    #[test]
    fn handle_map_matches_a_model(ops in proptest::collection::vec((0u8..3, any::<u16>()), 1..200)) {
        let map = HandleMap::new();
        let mut live: Vec<(u64, u16)> = Vec::new();
        let mut dead: Vec<u64> = Vec::new();
        for (op, v) in ops {
            match op {
                0 => live.push((map.insert(v).unwrap(), v)),
                1 if !live.is_empty() => {
                    let (h, val) = live.swap_remove(v as usize % live.len());
                    prop_assert_eq!(map.remove(h).unwrap(), val);
                    dead.push(h);
                }
                _ => {
                    for &(h, val) in &live {
                        prop_assert_eq!(map.get(h, |x| *x).unwrap(), val);
                    }
                }
            }
            for &h in &dead {
                prop_assert_eq!(map.get(h, |x| *x).unwrap_err().status(), Status::InvalidHandle);
            }
            prop_assert_eq!(map.len(), live.len());
        }
    }
}
