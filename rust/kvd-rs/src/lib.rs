//! kvd-rs: the one Rust staticlib linked into kvd (and into its parity, fuzz, bench and
//! replay executables). It re-exports the component crates and holds their C exports,
//! every one written out by hand (cbindgen skips macro output) and run through
//! graft-ffi's panic boundary, so a Rust panic becomes `GRAFT_EPANIC`, never an unwind
//! into C. The header is `server/include/kv_rs.h`; `kv_request` and `kv_parse_limits`
//! are defined once, in `server/kv_proto.h`.

use core::ffi::{c_char, c_int, c_void};

pub use graft_ffi;
pub use kv_hash;
pub use kv_proto;
pub use kv_store;

pub mod store;

use graft_ffi::{borrow, boundary, Error};
use kv_proto::{Limits, Request};

/// Parses the request at the start of `buf[0..len)` with the Rust parser, the twin of
/// `kv_parse` (server/kv_proto.c): for the same bytes and limits it writes the same
/// `kv_request`, field for field (keys, values and arguments as offsets into `buf`).
///
/// Returns `GRAFT_OK` with `*out` fully written (a malformed request is `GRAFT_OK` too:
/// `out->status` is `KV_PARSE_ERROR`), `GRAFT_ENULL` when `limits` or `out` is NULL or
/// `buf` is NULL with `len > 0`, `GRAFT_EPANIC` if the parser panicked (a bug; `*out`
/// is then not written). Allocates nothing, takes no lock; thread-safe.
///
/// # Safety
/// `buf[0..len)` readable (or `buf` NULL with `len` 0); `limits` NULL or valid;
/// `out` NULL or valid for writing one `kv_request`.
#[no_mangle]
pub unsafe extern "C" fn kv_rs_parse(
    buf: *const c_char,
    len: usize,
    limits: *const Limits,
    out: *mut Request,
) -> c_int {
    boundary::status(|| {
        // SAFETY: the caller passes len readable bytes at buf (or NULL with 0).
        let bytes = unsafe { borrow::bytes(buf.cast(), len) }?;
        if limits.is_null() {
            return Err(Error::null("limits"));
        }
        if out.is_null() {
            return Err(Error::null("out"));
        }
        // SAFETY: limits is non-NULL and points to a kv_parse_limits (caller contract);
        // it is plain data, read by value.
        let limits = unsafe { limits.read() };
        let mut req = Request::default();
        kv_proto::parse(bytes, &limits, &mut req);
        // SAFETY: out is non-NULL and valid for writing one kv_request (caller
        // contract); write() does not read the old, possibly uninitialised, contents.
        unsafe { out.write(req) };
        Ok(())
    })
}

/// Hashes `key[0..len)` with kvd's hash (rust/kv-hash; the C `kv_hash` it twinned is retired):
/// the same 64-bit value for the same bytes, bit for bit.
///
/// Returns `GRAFT_OK` with `*out` written, `GRAFT_ENULL` when `out` is NULL or `key` is
/// NULL with `len > 0`, `GRAFT_EPANIC` if the hash panicked (a bug). Allocates nothing;
/// thread-safe.
///
/// # Safety
/// `key[0..len)` readable (or `key` NULL with `len` 0); `out` NULL or valid for writing.
#[no_mangle]
pub unsafe extern "C" fn kv_rs_hash(key: *const c_void, len: usize, out: *mut u64) -> c_int {
    boundary::status(|| {
        // SAFETY: the caller passes len readable bytes at key (or NULL with 0).
        let bytes = unsafe { borrow::bytes(key.cast(), len) }?;
        let h = kv_hash::hash(bytes);
        // SAFETY: out is NULL (rejected) or valid for writing a u64 (caller contract).
        unsafe { graft_ffi::out::write(out, h) }
    })
}

/// The hash of the empty key: `kv_rs_hash_key`'s answer when it cannot hash the input.
const EMPTY_KEY_HASH: u64 = 0xefd0_1f60_ba99_2926;

/// kvd's key hash, returned directly: the function kvd's storage engine calls for every
/// key since kv.hash was retired (no seam, no status to check; the C `kv_hash` is gone,
/// tests/golden/kv_hash.vectors pins the values it had).
///
/// `key` may be NULL only with `len` 0. A NULL key with a length (a caller bug) and a
/// panic (impossible: wrapping arithmetic over a slice) both answer the hash of the
/// empty key, so the answer is always a valid hash. Allocates nothing; thread-safe.
///
/// # Safety
/// `key[0..len)` readable (or `key` NULL with `len` 0).
#[no_mangle]
pub unsafe extern "C" fn kv_rs_hash_key(key: *const c_void, len: usize) -> u64 {
    boundary::value(EMPTY_KEY_HASH, || {
        // SAFETY: the caller passes len readable bytes at key (or NULL with 0).
        let bytes = unsafe { borrow::bytes(key.cast(), len) }?;
        Ok(kv_hash::hash(bytes))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use graft_ffi::Status;

    const LIM: Limits = Limits {
        item_size_max: 1024 * 1024,
        max_line: 2048,
    };

    #[test]
    fn parse_export_describes_and_checks_arguments() {
        let buf = b"get foo\r\n";
        let mut out = Request::default();
        // SAFETY: valid buffer, limits and out.
        let rc = unsafe { kv_rs_parse(buf.as_ptr().cast(), buf.len(), &LIM, &mut out) };
        assert_eq!(rc, Status::Ok.as_raw());
        assert_eq!(
            (out.cmd, out.nkeys, out.key_off, out.consumed),
            (1, 1, 4, 9)
        );
        // SAFETY: NULL arguments are what is being tested; nothing is dereferenced.
        unsafe {
            assert_eq!(
                kv_rs_parse(core::ptr::null(), 3, &LIM, &mut out),
                Status::NullPointer.as_raw()
            );
            assert_eq!(
                kv_rs_parse(buf.as_ptr().cast(), 3, core::ptr::null(), &mut out),
                Status::NullPointer.as_raw()
            );
            assert_eq!(
                kv_rs_parse(buf.as_ptr().cast(), 3, &LIM, core::ptr::null_mut()),
                Status::NullPointer.as_raw()
            );
            // NULL with length 0 is the empty input: NEED_MORE.
            assert_eq!(kv_rs_parse(core::ptr::null(), 0, &LIM, &mut out), 0);
        }
        assert_eq!(out.status, kv_proto::status::NEED_MORE);
    }

    #[test]
    fn armed_panic_is_caught_and_out_is_untouched() {
        let buf = b"get foo\r\n";
        let mut out = Request {
            cas: 77,
            ..Request::default()
        };
        graft_ffi::fault::arm_panic();
        // SAFETY: valid buffer, limits and out.
        let rc = unsafe { kv_rs_parse(buf.as_ptr().cast(), buf.len(), &LIM, &mut out) };
        assert_eq!(rc, Status::Panic.as_raw());
        assert_eq!(out.cas, 77);
        let mut h = 5u64;
        graft_ffi::fault::arm_panic();
        // SAFETY: valid key and out.
        let rc = unsafe { kv_rs_hash(b"k".as_ptr().cast(), 1, &mut h) };
        assert_eq!((rc, h), (Status::Panic.as_raw(), 5));
        // SAFETY: valid key and out.
        let rc = unsafe { kv_rs_hash(b"foo".as_ptr().cast(), 3, &mut h) };
        assert_eq!((rc, h), (0, 0xaf85_ea55_6958_1d4c));
    }

    #[test]
    fn hash_key_answers_a_hash_for_every_call() {
        // SAFETY: valid keys; the NULL key with a length is the caller bug being tested.
        unsafe {
            assert_eq!(
                kv_rs_hash_key(b"foo".as_ptr().cast(), 3),
                0xaf85_ea55_6958_1d4c
            );
            assert_eq!(kv_rs_hash_key(core::ptr::null(), 0), 0xefd0_1f60_ba99_2926);
            assert_eq!(kv_rs_hash_key(core::ptr::null(), 3), 0xefd0_1f60_ba99_2926);
            graft_ffi::fault::arm_panic();
            assert_eq!(
                kv_rs_hash_key(b"foo".as_ptr().cast(), 3),
                0xefd0_1f60_ba99_2926
            );
            assert_eq!(
                kv_rs_hash_key(b"foo".as_ptr().cast(), 3),
                0xaf85_ea55_6958_1d4c
            );
        }
    }
}
