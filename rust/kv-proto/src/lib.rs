//! kv-proto: kvd's request parser in Rust, the twin of `server/kv_proto.c`.
//!
//! Bytes in, request description out, exactly as the C parser describes them (the
//! contract is `server/kv_proto.h`): same fields, same errors, same offsets. The parser
//! borrows the caller's buffer and reports keys, values and arguments as offsets and
//! lengths into it (zero-copy); it allocates nothing, keeps no state and never reads
//! outside the slice it is given.

#![forbid(unsafe_op_in_unsafe_fn)]

mod parse;
pub mod scan;

pub use parse::{next_key, parse};

/// `kv_parse_limits`: what the parser enforces; the server passes its settings.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// Largest value accepted (bytes).
    pub item_size_max: u32,
    /// Longest command line before the connection is closed.
    pub max_line: u32,
}

/// `kv_request`: the description of one request; every field is written on every parse
/// and unused fields are zero, so two descriptions compare with `==` (or C's memcmp).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Request {
    /// `kv_parse_status` (see [`status`]).
    pub status: u8,
    /// `kv_cmd` (see [`cmd`]).
    pub cmd: u8,
    /// `kv_parse_error` (see [`error`]), when status is `ERROR` or `CLOSE`.
    pub error: u8,
    /// 1 when the request ended with "noreply".
    pub noreply: u8,
    /// Bytes of the buffer this request (line, data, CRLF) takes.
    pub consumed: u32,
    /// After an error: further bytes to discard (a rejected value).
    pub swallow: u32,
    /// Keys in the key list.
    pub nkeys: u32,
    /// Key list: from the first key's first byte ...
    pub key_off: u32,
    /// ... to the last key's last byte; keys separated by spaces.
    pub key_len: u32,
    /// Value of a storage command (without its CRLF).
    pub data_off: u32,
    pub data_len: u32,
    /// Free argument: stats sub-command, verbosity level text.
    pub arg_off: u32,
    pub arg_len: u32,
    /// Client flags of a storage command.
    pub flags: u32,
    /// Always 0: the 4 bytes before `exptime` are a field, not padding, so memcmp
    /// compares only written bytes.
    pub reserved: u32,
    /// As sent (relative or absolute, negative allowed).
    pub exptime: i64,
    /// Cas unique of a "cas" command.
    pub cas: u64,
    /// incr/decr amount; flush_all delay.
    pub delta: u64,
}

/// `kv_parse_status` values.
pub mod status {
    pub const OK: u8 = 0;
    pub const NEED_MORE: u8 = 1;
    pub const ERROR: u8 = 2;
    pub const CLOSE: u8 = 3;
}

/// `kv_cmd` values.
pub mod cmd {
    pub const NONE: u8 = 0;
    pub const GET: u8 = 1;
    pub const GETS: u8 = 2;
    pub const GAT: u8 = 3;
    pub const GATS: u8 = 4;
    pub const SET: u8 = 5;
    pub const ADD: u8 = 6;
    pub const REPLACE: u8 = 7;
    pub const APPEND: u8 = 8;
    pub const PREPEND: u8 = 9;
    pub const CAS: u8 = 10;
    pub const DELETE: u8 = 11;
    pub const INCR: u8 = 12;
    pub const DECR: u8 = 13;
    pub const TOUCH: u8 = 14;
    pub const FLUSH_ALL: u8 = 15;
    pub const STATS: u8 = 16;
    pub const VERSION: u8 = 17;
    pub const VERBOSITY: u8 = 18;
    pub const QUIT: u8 = 19;
}

/// `kv_parse_error` values.
pub mod error {
    pub const NONE: u8 = 0;
    pub const UNKNOWN_COMMAND: u8 = 1;
    pub const BAD_FORMAT: u8 = 2;
    pub const BAD_CHUNK: u8 = 3;
    pub const TOO_LARGE: u8 = 4;
    pub const INVALID_DELTA: u8 = 5;
    pub const INVALID_EXPTIME: u8 = 6;
    pub const LINE_TOO_LONG: u8 = 7;
    pub const DELETE_USAGE: u8 = 8;
    pub const HTTP: u8 = 9;
}

#[cfg(test)]
mod layout_tests {
    use super::*;
    use core::mem::{align_of, offset_of, size_of};

    /// The C struct has no padding: 4 bytes, 11 u32 (the last one `reserved`), then
    /// three 8-byte fields.
    #[test]
    fn request_layout_matches_kv_proto_h() {
        assert_eq!(size_of::<Request>(), 72);
        assert_eq!(align_of::<Request>(), 8);
        assert_eq!(offset_of!(Request, consumed), 4);
        assert_eq!(offset_of!(Request, flags), 40);
        assert_eq!(offset_of!(Request, reserved), 44);
        assert_eq!(offset_of!(Request, exptime), 48);
        assert_eq!(offset_of!(Request, cas), 56);
        assert_eq!(offset_of!(Request, delta), 64);
        assert_eq!(size_of::<Limits>(), 8);
    }
}
