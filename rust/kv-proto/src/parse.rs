//! The parser proper. It follows server/kv_proto.c decision for decision, quirks of
//! memcached 1.6.18 included (see the comment at the top of kv_proto.c): any change to
//! one side is a change to the other, and the parity tests and the differential fuzzer
//! hold them together.

use crate::scan::find_byte;
use crate::{cmd, error, status, Limits, Request};

/// Longest key memcached accepts (KEY_MAX_LENGTH).
const KEY_MAX: u32 = 250;
/// memcached's tokenizer array: 23 tokens plus the terminal one.
const MAX_TOKENS: usize = 24;
/// Bytes memcached adds to key and value when sizing an item (header, CAS, the key's
/// NUL, the value's CRLF), plus 4 when the client flags are non-zero.
const ITEM_OVERHEAD: u64 = 59;
const ITEM_FLAGS_OVERHEAD: u64 = 4;
/// The parser looks at no more than this many bytes (keeps every offset in 31 bits).
const MAX_BUF: usize = 1 << 30;

/// A token: offset and length within the buffer.
#[derive(Clone, Copy, Default)]
struct Tok {
    off: u32,
    len: u32,
}

/// One command line split on ' ' (no allocation: a fixed array).
struct Line<'a> {
    buf: &'a [u8],
    /// Effective end of the line (after the CR strip and the NUL cut).
    end: u32,
    /// memcached's count: tokens seen + 1 terminal.
    ntokens: usize,
    tok: [Tok; MAX_TOKENS],
}

impl<'a> Line<'a> {
    /// Splits buf[0..end) on ' ' as memcached's tokenize_command does with 24 slots:
    /// at most 23 tokens, then the terminal one.
    #[inline]
    fn tokenize(buf: &'a [u8], end: u32) -> Line<'a> {
        let mut l = Line {
            buf,
            end,
            ntokens: 0,
            tok: [Tok::default(); MAX_TOKENS],
        };
        let line = &buf[..end as usize];
        let mut i = 0usize;
        let mut n = 0usize;
        let e = line.len();
        while i < e {
            while i < e && line[i] == b' ' {
                i += 1;
            }
            if i >= e {
                break;
            }
            let s = i;
            while i < e && line[i] != b' ' {
                i += 1;
            }
            l.tok[n] = Tok {
                off: s as u32,
                len: (i - s) as u32,
            };
            n += 1;
            if n == MAX_TOKENS - 1 {
                break;
            }
        }
        l.ntokens = n + 1;
        l
    }

    #[inline]
    fn bytes(&self, i: usize) -> &'a [u8] {
        let t = self.tok[i];
        &self.buf[t.off as usize..(t.off + t.len) as usize]
    }

    #[inline]
    fn is(&self, i: usize, word: &[u8]) -> bool {
        self.bytes(i) == word
    }

    /// memcached's set_noreply_maybe: the last token seen is exactly "noreply".
    #[inline]
    fn noreply(&self) -> u8 {
        u8::from(self.ntokens >= 2 && self.is(self.ntokens - 2, b"noreply"))
    }

    fn u64(&self, i: usize) -> Option<u64> {
        safe_u64(self.bytes(i))
    }

    fn u32(&self, i: usize) -> Option<u32> {
        safe_u64(self.bytes(i)).map(|v| v as u32)
    }

    fn i32(&self, i: usize) -> Option<i32> {
        safe_i32(self.bytes(i))
    }
}

/// C's isspace in the "C" locale.
#[inline]
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Leading whitespace and an optional sign: (index of the first digit, negative).
#[inline]
fn sign_prefix(s: &[u8]) -> (usize, bool) {
    let mut i = 0;
    while i < s.len() && is_space(s[i]) {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    (i, neg)
}

/// strtoull with memcached's safe_strtoull rules: digits required, no overflow, the byte
/// after the digits ends the token or is whitespace, and a result negative as a signed
/// number is refused when the token holds a '-'.
fn safe_u64(s: &[u8]) -> Option<u64> {
    let (mut i, neg) = sign_prefix(s);
    let digits = i;
    let mut v: u64 = 0;
    let mut overflow = false;
    while i < s.len() && s[i].is_ascii_digit() {
        let d = u64::from(s[i] - b'0');
        if v > (u64::MAX - d) / 10 {
            overflow = true;
        } else {
            v = v * 10 + d;
        }
        i += 1;
    }
    if i == digits || overflow {
        return None;
    }
    if i < s.len() && !is_space(s[i]) {
        return None;
    }
    if neg {
        v = v.wrapping_neg();
    }
    if (v as i64) < 0 && s.contains(&b'-') {
        return None;
    }
    Some(v)
}

/// strtol (64-bit long, out of range refused) truncated to 32 bits, as memcached's
/// safe_strtol does on LP64.
fn safe_i32(s: &[u8]) -> Option<i32> {
    let (mut i, neg) = sign_prefix(s);
    let digits = i;
    let limit: u64 = if neg {
        i64::MAX as u64 + 1
    } else {
        i64::MAX as u64
    };
    let mut mag: u64 = 0;
    let mut overflow = false;
    while i < s.len() && s[i].is_ascii_digit() {
        let d = u64::from(s[i] - b'0');
        if mag > (limit - d) / 10 {
            overflow = true;
        } else {
            mag = mag * 10 + d;
        }
        i += 1;
    }
    if i == digits || overflow {
        return None;
    }
    if i < s.len() && !is_space(s[i]) {
        return None;
    }
    let v = if neg { mag.wrapping_neg() } else { mag };
    Some(v as u32 as i32)
}

#[inline]
fn set_key(out: &mut Request, l: &Line<'_>, i: usize) {
    out.nkeys = 1;
    out.key_off = l.tok[i].off;
    out.key_len = l.tok[i].len;
}

#[inline]
fn fail(out: &mut Request, c: u8, err: u8) {
    out.status = status::ERROR;
    out.cmd = c;
    out.error = err;
}

/// Key list of a get-family command: every token from position `from` of the capped
/// token list to the end of the line (memcached re-tokenizes past the 23rd token).
fn parse_keys(l: &Line<'_>, from: usize, out: &mut Request) {
    let seen = l.ntokens - 1;
    if from < seen && seen < MAX_TOKENS - 1 {
        // The tokenizer saw the whole line: the keys are tokens from..seen, no rescan
        // (the same result as kv_proto.c's rescan of the same bytes).
        let toks = &l.tok[from..seen];
        if toks.iter().any(|t| t.len > KEY_MAX) {
            fail(out, out.cmd, error::BAD_FORMAT);
            out.exptime = 0;
            return;
        }
        let last = toks[toks.len() - 1];
        out.nkeys = toks.len() as u32;
        out.key_off = toks[0].off;
        out.key_len = last.off + last.len - toks[0].off;
        return;
    }
    let line = &l.buf[..l.end as usize];
    let mut i = if from < seen {
        l.tok[from].off as usize
    } else if seen == MAX_TOKENS - 1 {
        let t = l.tok[MAX_TOKENS - 2];
        (t.off + t.len) as usize
    } else {
        return;
    };
    let (mut first, mut last_end, mut n) = (0usize, 0usize, 0u32);
    while i < line.len() {
        while i < line.len() && line[i] == b' ' {
            i += 1;
        }
        if i >= line.len() {
            break;
        }
        let s = i;
        while i < line.len() && line[i] != b' ' {
            i += 1;
        }
        if i - s > KEY_MAX as usize {
            fail(out, out.cmd, error::BAD_FORMAT);
            out.exptime = 0;
            return;
        }
        if n == 0 {
            first = s;
        }
        last_end = i;
        n += 1;
    }
    out.nkeys = n;
    if n > 0 {
        out.key_off = first as u32;
        out.key_len = (last_end - first) as u32;
    }
}

fn parse_get(l: &Line<'_>, c: u8, touch: bool, out: &mut Request) {
    out.cmd = c;
    let mut from = 1;
    if touch {
        match l.i32(1) {
            Some(e) => out.exptime = i64::from(e),
            None => return fail(out, c, error::INVALID_EXPTIME),
        }
        from = 2;
    }
    parse_keys(l, from, out);
}

fn parse_update(
    l: &Line<'_>,
    c: u8,
    with_cas: bool,
    len: usize,
    limits: &Limits,
    out: &mut Request,
) {
    out.noreply = l.noreply();
    if l.tok[1].len > KEY_MAX {
        return fail(out, c, error::BAD_FORMAT);
    }
    let (flags, exptime, vlen) = match (l.u32(2), l.i32(3), l.i32(4)) {
        (Some(f), Some(e), Some(v)) => (f, e, v),
        _ => return fail(out, c, error::BAD_FORMAT),
    };
    let mut cas = 0;
    if with_cas {
        match l.u64(5) {
            Some(v) => cas = v,
            None => return fail(out, c, error::BAD_FORMAT),
        }
    }
    if !(0..=i32::MAX - 2).contains(&vlen) {
        return fail(out, c, error::BAD_FORMAT);
    }
    let vlen = vlen as u32;
    let item = ITEM_OVERHEAD
        + u64::from(l.tok[1].len)
        + u64::from(vlen)
        + if flags != 0 { ITEM_FLAGS_OVERHEAD } else { 0 };
    let total = u64::from(out.consumed) + u64::from(vlen) + 2;
    if item > u64::from(limits.item_size_max) || total > MAX_BUF as u64 {
        // Refused; the value's bytes (and its CRLF) are swallowed as they arrive.
        fail(out, c, error::TOO_LARGE);
        set_key(out, l, 1);
        out.swallow = vlen + 2;
        return;
    }
    if (len as u64) < total {
        // Line complete, value not yet: report how many bytes the request needs.
        *out = Request {
            status: status::NEED_MORE,
            consumed: total as u32,
            ..Request::default()
        };
        return;
    }
    let data = out.consumed as usize;
    set_key(out, l, 1);
    let v = vlen as usize;
    if l.buf[data + v] != b'\r' || l.buf[data + v + 1] != b'\n' {
        fail(out, c, error::BAD_CHUNK);
        out.consumed = total as u32;
        return;
    }
    out.status = status::OK;
    out.cmd = c;
    out.flags = flags;
    out.exptime = i64::from(exptime);
    out.cas = cas;
    out.data_off = out.consumed;
    out.data_len = vlen;
    out.consumed = total as u32;
}

fn parse_delete(l: &Line<'_>, out: &mut Request) {
    out.cmd = cmd::DELETE;
    if l.ntokens > 3 {
        let hold_is_zero = l.is(2, b"0");
        let noreply = l.noreply();
        out.noreply = noreply;
        let valid = (l.ntokens == 4 && (hold_is_zero || noreply != 0))
            || (l.ntokens == 5 && hold_is_zero && noreply != 0);
        if !valid {
            return fail(out, cmd::DELETE, error::DELETE_USAGE);
        }
    }
    if l.tok[1].len > KEY_MAX {
        return fail(out, cmd::DELETE, error::BAD_FORMAT);
    }
    set_key(out, l, 1);
}

fn parse_arith(l: &Line<'_>, c: u8, out: &mut Request) {
    out.cmd = c;
    out.noreply = l.noreply();
    if l.tok[1].len > KEY_MAX {
        return fail(out, c, error::BAD_FORMAT);
    }
    match l.u64(2) {
        Some(d) => {
            set_key(out, l, 1);
            out.delta = d;
        }
        None => fail(out, c, error::INVALID_DELTA),
    }
}

fn parse_touch(l: &Line<'_>, out: &mut Request) {
    out.cmd = cmd::TOUCH;
    out.noreply = l.noreply();
    if l.tok[1].len > KEY_MAX {
        return fail(out, cmd::TOUCH, error::BAD_FORMAT);
    }
    match l.i32(2) {
        Some(e) => {
            set_key(out, l, 1);
            out.exptime = i64::from(e);
        }
        None => fail(out, cmd::TOUCH, error::INVALID_EXPTIME),
    }
}

fn parse_flush(l: &Line<'_>, out: &mut Request) {
    out.cmd = cmd::FLUSH_ALL;
    out.noreply = l.noreply();
    let mut delay = 0i32;
    if l.ntokens != if out.noreply != 0 { 3 } else { 2 } {
        match l.i32(1) {
            Some(d) => delay = d,
            None => return fail(out, cmd::FLUSH_ALL, error::INVALID_EXPTIME),
        }
    }
    // memcached treats a delay <= 0 as "now".
    out.delta = if delay > 0 { delay as u64 } else { 0 };
}

fn parse_verbosity(l: &Line<'_>, out: &mut Request) {
    out.cmd = cmd::VERBOSITY;
    out.noreply = l.noreply();
    match l.u32(1) {
        Some(level) => {
            out.arg_off = l.tok[1].off;
            out.arg_len = l.tok[1].len;
            out.delta = u64::from(level);
        }
        None => fail(out, cmd::VERBOSITY, error::BAD_FORMAT),
    }
}

fn parse_stats(l: &Line<'_>, out: &mut Request) {
    out.cmd = cmd::STATS;
    if l.ntokens > 2 {
        // From the first argument to the end of the line's last token.
        let s = l.tok[1].off;
        let mut e = l.end;
        while e > s && l.buf[e as usize - 1] == b' ' {
            e -= 1;
        }
        out.arg_off = s;
        out.arg_len = e - s;
    }
}

// ---------------------------------------------------------------- meta commands

/// Longest O (opaque) token, and the token count (with the terminal one) from which a
/// meta line is refused (memcached's MFLAG_MAX_OPAQUE_LENGTH, MFLAG_MAX_OPT_LENGTH).
const META_OPAQUE_MAX: u32 = 32;
const META_MAX_TOKENS: usize = 20;

/// memcached's decoding alphabet: the value of a byte, or None for bytes it skips.
#[inline]
fn b64_value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        b'=' => Some(0),
        _ => None,
    }
}

/// `kv_base64_decode` without an output: the decoded length, or 0 when `src` does not
/// decode (as memcached's base64_decode: skipped bytes, '=' padding, bad padding).
pub fn base64_decoded_len(src: &[u8]) -> usize {
    let count = src.iter().filter(|&&c| b64_value(c).is_some()).count();
    if count == 0 || count % 4 != 0 {
        return 0;
    }
    let mut k = 0;
    let mut out = 0;
    let mut pad = 0;
    for &c in src {
        if b64_value(c).is_none() {
            continue;
        }
        if c == b'=' {
            pad += 1;
        }
        k += 1;
        if k < 4 {
            continue;
        }
        k = 0;
        out += 3;
        if pad > 0 {
            if pad > 2 {
                return 0;
            }
            out -= pad;
            break;
        }
    }
    out
}

/// Sets the meta request's arg to the tokens from `from` to the last one.
fn meta_arg(l: &Line<'_>, from: usize, out: &mut Request) {
    if from < l.ntokens - 1 {
        let last = l.tok[l.ntokens - 2];
        out.arg_off = l.tok[from].off;
        out.arg_len = last.off + last.len - l.tok[from].off;
    }
}

/// memcached's _meta_flag_preparse over tokens[from..] (kv_proto.c kv__meta_flags).
fn meta_flags(l: &Line<'_>, from: usize, out: &mut Request, nkey: &mut u32) -> u8 {
    let mut seen = [false; 127];
    let mut noted = error::NONE;
    let mut has_error = false;
    for i in from..l.ntokens - 1 {
        let t = l.bytes(i);
        let o = t[0];
        if o >= 127 || seen[o as usize] {
            return error::META_DUP_FLAG;
        }
        seen[o as usize] = true;
        let rest = &t[1..];
        match o {
            b'b' => {
                *nkey = base64_decoded_len(l.bytes(1)) as u32;
                if *nkey == 0 {
                    noted = error::META_KEY_DECODE;
                    has_error = true;
                }
            }
            b'N' | b'R' | b'T' => match safe_i32(rest) {
                None => {
                    noted = error::META_BAD_TOKEN;
                    has_error = true;
                }
                Some(v) => {
                    if o == b'T' {
                        out.exptime = i64::from(v);
                    }
                }
            },
            b'q' => out.noreply = 1,
            b'F' => match safe_u64(rest) {
                Some(v) => out.flags = v as u32,
                None => {
                    out.flags = 0;
                    has_error = true;
                }
            },
            b'C' => match safe_u64(rest) {
                Some(v) => out.cas = v,
                None => {
                    out.cas = 0;
                    noted = error::META_BAD_TOKEN;
                    has_error = true;
                }
            },
            b'M' => {
                if t.len() != 2 {
                    noted = error::META_M_LENGTH;
                    has_error = true;
                }
            }
            b'J' => {
                if safe_u64(rest).is_none() {
                    noted = error::META_INITIAL;
                    has_error = true;
                }
            }
            b'D' => match safe_u64(rest) {
                Some(v) => out.delta = v,
                None => {
                    out.delta = 0;
                    noted = error::META_DELTA;
                    has_error = true;
                }
            },
            b'O' | b'P' | b'L' | b'k' | b's' | b't' | b'c' | b'f' | b'v' | b'h' | b'l' | b'u'
            | b'I' => {}
            _ => return error::META_INVALID_FLAG,
        }
    }
    if !has_error {
        error::NONE
    } else if noted != error::NONE {
        noted
    } else {
        error::BAD_FORMAT
    }
}

/// The M token's character among tokens[from..], or 0.
fn meta_mode(l: &Line<'_>, from: usize) -> u8 {
    for i in from..l.ntokens - 1 {
        let t = l.bytes(i);
        if t[0] == b'M' {
            return if t.len() == 2 { t[1] } else { 0 };
        }
    }
    0
}

fn meta_opaque_ok(l: &Line<'_>, from: usize) -> bool {
    (from..l.ntokens - 1).all(|i| !(l.bytes(i)[0] == b'O' && l.tok[i].len > META_OPAQUE_MAX))
}

/// The failure of a meta request: the error alone (meta errors are always sent).
fn meta_fail(out: &mut Request, c: u8, err: u8) {
    *out = Request {
        consumed: out.consumed,
        ..Request::default()
    };
    fail(out, c, err);
}

fn parse_meta(l: &Line<'_>, c: u8, len: usize, limits: &Limits, out: &mut Request) {
    let nt = l.ntokens;
    out.cmd = c;
    if c == cmd::MN {
        return;
    }
    if c == cmd::ME {
        if nt < 3 || l.tok[1].len > KEY_MAX {
            return meta_fail(out, c, error::BAD_FORMAT);
        }
        if nt >= 4 && l.is(2, b"b") && base64_decoded_len(l.bytes(1)) == 0 {
            return meta_fail(out, c, error::BAD_FORMAT);
        }
        set_key(out, l, 1);
        meta_arg(l, 2, out);
        return;
    }
    if nt < 3 {
        return unknown(out);
    }
    if l.tok[1].len > KEY_MAX || (c == cmd::MS && nt == 3) {
        return meta_fail(out, c, error::BAD_FORMAT);
    }
    if nt > META_MAX_TOKENS {
        let e = if c == cmd::MG {
            error::META_MG_TOO_LONG
        } else {
            error::META_TOO_LONG
        };
        return meta_fail(out, c, e);
    }
    let mut vlen: i32 = 0;
    let mut from = 2;
    if c == cmd::MS {
        match l.i32(2) {
            Some(v) if (0..=i32::MAX - 2).contains(&v) => vlen = v,
            _ => return meta_fail(out, c, error::BAD_FORMAT),
        }
        from = 3;
    }
    if c == cmd::MA {
        out.delta = 1;
    }
    let mut nkey = l.tok[1].len;
    let mut err = meta_flags(l, from, out, &mut nkey);
    if err != error::NONE && (c == cmd::MD || c == cmd::MA) {
        err = error::META_FLAG;
    }
    if err == error::NONE && c == cmd::MS {
        let m = meta_mode(l, from);
        if m != 0 && !matches!(m, b'E' | b'A' | b'P' | b'R' | b'S') {
            err = error::META_MS_MODE;
        } else if !meta_opaque_ok(l, 2) {
            err = error::META_OPAQUE;
        }
    }
    if err == error::NONE && c == cmd::MA {
        let m = meta_mode(l, from);
        if m != 0 && !matches!(m, b'I' | b'+' | b'D' | b'-') {
            err = error::META_MA_MODE;
        }
    }
    if err == error::NONE && c != cmd::MS && !meta_opaque_ok(l, from) {
        err = error::META_OPAQUE;
        if c != cmd::MD {
            // mg and ma: memcached finds the opaque too long only while it writes the
            // reply, after the lookup or the arithmetic: the request stays described.
            fail(out, c, err);
            out.noreply = 0;
            set_key(out, l, 1);
            meta_arg(l, from, out);
            return;
        }
    }
    if err != error::NONE {
        meta_fail(out, c, err);
        if c == cmd::MS {
            out.swallow = vlen as u32 + 2; // memcached swallows the value
        }
        return;
    }
    set_key(out, l, 1);
    meta_arg(l, from, out);
    if c != cmd::MS {
        return;
    }
    let vlen = vlen as u32;
    let item = ITEM_OVERHEAD
        + u64::from(nkey)
        + u64::from(vlen)
        + if out.flags != 0 {
            ITEM_FLAGS_OVERHEAD
        } else {
            0
        };
    let total = u64::from(out.consumed) + u64::from(vlen) + 2;
    if item > u64::from(limits.item_size_max) || total > MAX_BUF as u64 {
        // Refused (memcached also unlinks the key); the value is swallowed.
        out.status = status::ERROR;
        out.error = error::TOO_LARGE;
        out.noreply = 0;
        out.swallow = vlen + 2;
        return;
    }
    if (len as u64) < total {
        *out = Request {
            status: status::NEED_MORE,
            consumed: total as u32,
            ..Request::default()
        };
        return;
    }
    let data = out.consumed as usize;
    let v = vlen as usize;
    if l.buf[data + v] != b'\r' || l.buf[data + v + 1] != b'\n' {
        let (ko, kl) = (out.key_off, out.key_len);
        meta_fail(out, c, error::BAD_CHUNK);
        out.nkeys = 1;
        out.key_off = ko;
        out.key_len = kl;
        out.consumed = total as u32;
        return;
    }
    out.data_off = out.consumed;
    out.data_len = vlen;
    out.consumed = total as u32;
}

/// Commands memcached knows that kvd does not implement: "ERROR" without the HTTP check
/// memcached applies only to names it does not know.
fn known_unsupported(word: &[u8]) -> bool {
    matches!(
        word,
        b"lru_crawler" | b"watch" | b"lru" | b"extstore" | b"refresh_certs"
    )
}

fn unknown(out: &mut Request) {
    fail(out, cmd::NONE, error::UNKNOWN_COMMAND);
}

fn dispatch(l: &Line<'_>, len: usize, limits: &Limits, out: &mut Request) {
    let nt = l.ntokens;
    if nt < 2 || l.tok[0].len < 2 {
        return unknown(out);
    }
    let word = l.bytes(0);
    let update = |out: &mut Request, c: u8, with_cas: bool, lo: usize| {
        if nt == lo || nt == lo + 1 {
            parse_update(l, c, with_cas, len, limits, out);
        } else {
            unknown(out);
        }
    };
    let arith = |out: &mut Request, c: u8| {
        if nt == 4 || nt == 5 {
            parse_arith(l, c, out);
        } else {
            unknown(out);
        }
    };
    match word[0] {
        b'm' if word.len() == 2 => match word[1] {
            b'g' => parse_meta(l, cmd::MG, len, limits, out),
            b's' => parse_meta(l, cmd::MS, len, limits, out),
            b'd' => parse_meta(l, cmd::MD, len, limits, out),
            b'a' => parse_meta(l, cmd::MA, len, limits, out),
            b'n' => parse_meta(l, cmd::MN, len, limits, out),
            b'e' => parse_meta(l, cmd::ME, len, limits, out),
            _ => unknown(out),
        },
        b'g' => {
            if nt < 3 {
                return unknown(out);
            }
            match word {
                b"get" => parse_get(l, cmd::GET, false, out),
                b"gets" => parse_get(l, cmd::GETS, false, out),
                b"gat" => parse_get(l, cmd::GAT, true, out),
                b"gats" => parse_get(l, cmd::GATS, true, out),
                _ => unknown(out),
            }
        }
        b's' => match word {
            b"set" => update(out, cmd::SET, false, 6),
            b"stats" => parse_stats(l, out),
            _ => unknown(out),
        },
        b'a' => match word {
            b"add" => update(out, cmd::ADD, false, 6),
            b"append" => update(out, cmd::APPEND, false, 6),
            _ => unknown(out),
        },
        b'c' => match word {
            b"cas" => update(out, cmd::CAS, true, 7),
            _ => unknown(out),
        },
        b'i' => match word {
            b"incr" => arith(out, cmd::INCR),
            _ => unknown(out),
        },
        b'd' => match word {
            b"delete" if (3..=5).contains(&nt) => parse_delete(l, out),
            b"decr" => arith(out, cmd::DECR),
            _ => unknown(out),
        },
        b't' => match word {
            b"touch" if nt == 4 || nt == 5 => parse_touch(l, out),
            _ => unknown(out),
        },
        _ => match word {
            b"replace" => update(out, cmd::REPLACE, false, 6),
            b"prepend" => update(out, cmd::PREPEND, false, 6),
            // memcached's ancient alias of get
            b"bget" if nt >= 3 => parse_get(l, cmd::GET, false, out),
            b"bget" => unknown(out),
            b"flush_all" if nt <= 4 => parse_flush(l, out),
            b"flush_all" => unknown(out),
            b"version" => out.cmd = cmd::VERSION,
            b"quit" => out.cmd = cmd::QUIT,
            b"verbosity" if nt == 3 || nt == 4 => parse_verbosity(l, out),
            b"verbosity" => unknown(out),
            w if known_unsupported(w) => unknown(out),
            _ => {
                if l.bytes(nt - 2).starts_with(b"HTTP/") {
                    out.status = status::CLOSE;
                    out.error = error::HTTP;
                    out.consumed = 0;
                } else {
                    unknown(out);
                }
            }
        },
    }
}

/// Whether an over-long line without '\n' may still grow: only a multi-get may be that
/// long (memcached: 100 leading spaces at most).
fn is_multiget_prefix(buf: &[u8]) -> bool {
    let sp = buf.iter().take_while(|&&b| b == b' ').count();
    let rest = &buf[sp..];
    sp <= 100 && (rest.starts_with(b"get ") || rest.starts_with(b"gets "))
}

/// Parses the request at the start of `buf` into `out` (every field written).
#[inline]
pub fn parse(buf: &[u8], limits: &Limits, out: &mut Request) {
    *out = Request::default();
    let buf = &buf[..buf.len().min(MAX_BUF)];
    let len = buf.len();
    let nlpos = match find_byte(buf, b'\n') {
        Some(p) => p,
        None => {
            out.status = status::NEED_MORE;
            if len > limits.max_line as usize && !is_multiget_prefix(buf) {
                out.status = status::CLOSE;
                out.error = error::LINE_TOO_LONG;
            }
            return;
        }
    };
    let mut end = nlpos;
    if nlpos > 1 && buf[nlpos - 1] == b'\r' {
        end = nlpos - 1;
    }
    if let Some(nul) = find_byte(&buf[..end], 0) {
        end = nul;
    }
    let l = Line::tokenize(buf, end as u32);
    out.status = status::OK;
    out.consumed = nlpos as u32 + 1;
    dispatch(&l, len, limits, out);
    if out.status == status::ERROR
        && out.error != error::TOO_LARGE
        && out.error != error::BAD_CHUNK
        && out.error != error::META_OPAQUE
    {
        // Only the error kinds that need the key keep it.
        out.nkeys = 0;
        out.key_off = 0;
        out.key_len = 0;
        out.exptime = 0;
    }
}

/// Iterates the keys of a parsed request over the same buffer, as
/// kv_request_next_key does: `pos` starts at 0; returns the next key's offset and
/// length, or None at the end (or if the description does not fit `buf`).
pub fn next_key(buf: &[u8], req: &Request, pos: &mut u32) -> Option<(u32, u32)> {
    if req.nkeys == 0 {
        return None;
    }
    let start = req.key_off as usize;
    let keys = buf.get(start..start.checked_add(req.key_len as usize)?)?;
    let mut i = *pos as usize;
    while i < keys.len() && keys[i] == b' ' {
        i += 1;
    }
    if i >= keys.len() {
        *pos = i as u32;
        return None;
    }
    let s = i;
    while i < keys.len() && keys[i] != b' ' {
        i += 1;
    }
    *pos = i as u32;
    Some(((start + s) as u32, (i - s) as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIM: Limits = Limits {
        item_size_max: 1024 * 1024,
        max_line: 2048,
    };

    fn p(s: &[u8]) -> Request {
        let mut r = Request::default();
        parse(s, &LIM, &mut r);
        r
    }

    #[test]
    fn get_with_keys() {
        let r = p(b"get foo  bar\r\n");
        assert_eq!((r.status, r.cmd, r.nkeys), (status::OK, cmd::GET, 2));
        assert_eq!((r.key_off, r.key_len, r.consumed), (4, 8, 14));
        let buf = b"get foo  bar\r\n";
        let mut pos = 0;
        assert_eq!(next_key(buf, &r, &mut pos), Some((4, 3)));
        assert_eq!(next_key(buf, &r, &mut pos), Some((9, 3)));
        assert_eq!(next_key(buf, &r, &mut pos), None);
    }

    #[test]
    fn set_needs_data_then_parses() {
        let r = p(b"set k 1 2 3\r\nab");
        assert_eq!((r.status, r.consumed), (status::NEED_MORE, 18));
        let r = p(b"set k 1 2 3 noreply\r\nabc\r\n");
        assert_eq!(
            (r.status, r.cmd, r.noreply, r.flags, r.exptime),
            (0, cmd::SET, 1, 1, 2)
        );
        assert_eq!((r.data_off, r.data_len, r.consumed), (21, 3, 26));
        let r = p(b"set k 0 0 3\r\nabcd\r\n");
        assert_eq!(
            (r.status, r.error, r.consumed),
            (status::ERROR, error::BAD_CHUNK, 18)
        );
    }

    #[test]
    fn numbers_follow_strtol_rules() {
        assert_eq!(safe_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(safe_u64(b"18446744073709551616"), None);
        assert_eq!(safe_u64(b"-1"), None);
        assert_eq!(safe_u64(b"-0"), Some(0));
        assert_eq!(safe_u64(b"\t+7\tx"), Some(7));
        assert_eq!(safe_u64(b"7x"), None);
        assert_eq!(safe_i32(b"4294967295"), Some(-1));
        assert_eq!(safe_i32(b"-9223372036854775808"), Some(0));
        assert_eq!(safe_i32(b"9223372036854775808"), None);
    }

    #[test]
    fn errors_and_closes() {
        assert_eq!(p(b"bogus\r\n").error, error::UNKNOWN_COMMAND);
        let r = p(b"GET / HTTP/1.1\r\n");
        assert_eq!(
            (r.status, r.error, r.consumed),
            (status::CLOSE, error::HTTP, 0)
        );
        let long = vec![b'x'; 3000];
        assert_eq!(p(&long).error, error::LINE_TOO_LONG);
        let mut mg = b"get ".to_vec();
        mg.extend_from_slice(&long);
        assert_eq!(p(&mg).status, status::NEED_MORE);
        assert_eq!(p(b"delete k 5\r\n").error, error::DELETE_USAGE);
        assert_eq!(p(b"incr k x\r\n").error, error::INVALID_DELTA);
    }

    #[test]
    fn meta_commands() {
        let r = p(b"mg foo v T30 q O1\r\n");
        assert_eq!(
            (r.status, r.cmd, r.noreply, r.exptime),
            (status::OK, cmd::MG, 1, 30)
        );
        assert_eq!((r.key_off, r.key_len, r.arg_off, r.arg_len), (3, 3, 7, 10));
        let r = p(b"ms Zm9v 3 b F7 MA\r\nabc\r\n");
        assert_eq!(
            (r.status, r.cmd, r.flags, r.data_len),
            (status::OK, cmd::MS, 7, 3)
        );
        assert_eq!(p(b"ma foo\r\n").delta, 1);
        assert_eq!(p(b"mn\r\n").cmd, cmd::MN);
        assert_eq!(p(b"mg foo v v\r\n").error, error::META_DUP_FLAG);
        assert_eq!(p(b"mg foo E1\r\n").error, error::META_INVALID_FLAG);
        assert_eq!(p(b"mg foo Dx Jx\r\n").error, error::META_INITIAL);
        assert_eq!(p(b"mg foo Fx\r\n").error, error::BAD_FORMAT);
        assert_eq!(p(b"md foo Fx\r\n").error, error::META_FLAG);
        assert_eq!(p(b"ma foo MX\r\n").error, error::META_MA_MODE);
        let r = p(b"ms foo 2 MX\r\nhi\r\n");
        assert_eq!((r.error, r.swallow), (error::META_MS_MODE, 4));
        assert_eq!(p(b"me\r\n").error, error::BAD_FORMAT);
        assert_eq!(p(b"mg\r\n").error, error::UNKNOWN_COMMAND);
    }

    #[test]
    fn base64_lengths_follow_memcached() {
        assert_eq!(base64_decoded_len(b"Zm9v"), 3);
        assert_eq!(base64_decoded_len(b"Zg=="), 1);
        assert_eq!(base64_decoded_len(b"Zm9v!!"), 3);
        assert_eq!(base64_decoded_len(b"Zm9"), 0);
        assert_eq!(base64_decoded_len(b"Z==="), 0);
        assert_eq!(base64_decoded_len(b""), 0);
    }

    fn within(off: u32, len: u32, n: usize) -> bool {
        off as usize + len as usize <= n
    }

    proptest::proptest! {
        /// Whatever the bytes: no panic, and every range the description reports lies in
        /// the bytes the request consumed (OK, ERROR) or the buffer.
        #[test]
        fn descriptions_stay_inside_the_buffer(
            words in proptest::collection::vec(
                proptest::sample::select(vec![
                    &b"get "[..], b"set ", b"cas ", b"delete ", b"incr ", b"stats ", b"k ",
                    b"0 ", b"3 ", b"-1 ", b"noreply", b"\r\n", b"\n", b"abc", b" ", b"\0",
                    b"99999999999999999999 ", b"HTTP/1.1",
                ]),
                0..24,
            ),
            max_line in 0u32..80,
            item_size_max in 0u32..200,
        ) {
            let buf: Vec<u8> = words.concat();
            let lim = Limits { item_size_max, max_line };
            let mut r = Request::default();
            parse(&buf, &lim, &mut r);
            proptest::prop_assert!(r.status <= status::CLOSE);
            proptest::prop_assert_eq!(r.reserved, 0);
            if r.status == status::OK || r.status == status::ERROR {
                let n = r.consumed as usize;
                proptest::prop_assert!(n >= 1 && n <= buf.len());
                proptest::prop_assert!(within(r.key_off, r.key_len, n));
                proptest::prop_assert!(within(r.data_off, r.data_len, n));
                proptest::prop_assert!(within(r.arg_off, r.arg_len, n));
                let mut pos = 0;
                let mut keys = 0;
                while let Some((off, len)) = next_key(&buf, &r, &mut pos) {
                    proptest::prop_assert!(len > 0 && len <= KEY_MAX);
                    proptest::prop_assert!(within(off, len, n));
                    keys += 1;
                }
                proptest::prop_assert_eq!(keys, r.nkeys);
            }
        }
    }
}
