//! The parser proper. It follows server/kv_proto.c decision for decision: any change to
//! one side is a change to the other, and the parity tests and the differential fuzzer
//! hold them together.

use crate::scan::find_byte;
use crate::{cmd, error, status, Limits, Request};

/// Longest key memcached accepts.
const KEY_MAX: usize = 250;
/// Tokens looked at on one command line (memcached's MAX_TOKENS less the terminator):
/// no command has more fixed arguments; key lists are walked separately.
const MAX_TOKENS: usize = 8;

/// A token: offset and length within the buffer.
#[derive(Clone, Copy, Default)]
struct Tok {
    off: u32,
    len: u32,
}

/// The tokens of one command line (no allocation: a fixed array).
struct Line<'a> {
    buf: &'a [u8],
    toks: [Tok; MAX_TOKENS],
    /// Tokens stored (at most MAX_TOKENS).
    n: usize,
    /// Tokens on the line (may exceed MAX_TOKENS).
    total: usize,
}

impl<'a> Line<'a> {
    fn split(buf: &'a [u8], end: usize) -> Line<'a> {
        let mut line = Line {
            buf,
            toks: [Tok::default(); MAX_TOKENS],
            n: 0,
            total: 0,
        };
        let mut i = 0usize;
        while i < end {
            if buf[i] == b' ' {
                i += 1;
                continue;
            }
            let start = i;
            while i < end && buf[i] != b' ' {
                i += 1;
            }
            if line.n < MAX_TOKENS {
                line.toks[line.n] = Tok {
                    off: start as u32,
                    len: (i - start) as u32,
                };
                line.n += 1;
            }
            line.total += 1;
        }
        line
    }

    #[inline]
    fn bytes(&self, t: usize) -> &'a [u8] {
        let tok = self.toks[t];
        &self.buf[tok.off as usize..(tok.off + tok.len) as usize]
    }
}

fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(v)
}

fn parse_u32(s: &[u8]) -> Option<u32> {
    parse_u64(s).and_then(|v| u32::try_from(v).ok())
}

fn parse_i64(s: &[u8]) -> Option<i64> {
    match s.split_first() {
        Some((b'-', rest)) => {
            let v = parse_u64(rest)?;
            if v <= i64::MAX as u64 + 1 {
                Some((v as i64).wrapping_neg())
            } else {
                None
            }
        }
        _ => parse_u64(s).and_then(|v| i64::try_from(v).ok()),
    }
}

/// Parses the request at the start of `buf` into `out` (every field written).
pub fn parse(buf: &[u8], limits: &Limits, out: &mut Request) {
    *out = Request::default();
    let window = buf.len().min(limits.max_line as usize);
    let nl = match find_byte(&buf[..window], b'\n') {
        Some(nl) => nl,
        None => {
            if buf.len() >= limits.max_line as usize {
                out.status = status::CLOSE;
                out.error = error::LINE_TOO_LONG;
            } else {
                out.status = status::NEED_MORE;
            }
            return;
        }
    };
    let end = if nl > 0 && buf[nl - 1] == b'\r' {
        nl - 1
    } else {
        nl
    };
    let consumed = (nl + 1) as u32;
    let line = Line::split(buf, end);
    out.consumed = consumed;
    if line.total == 0 {
        error_reply(out, error::UNKNOWN_COMMAND);
        return;
    }
    match line.bytes(0) {
        b"get" => keys(&line, out, cmd::GET, 1),
        b"gets" => keys(&line, out, cmd::GETS, 1),
        b"gat" => gat(&line, out, cmd::GAT),
        b"gats" => gat(&line, out, cmd::GATS),
        b"set" => storage(buf, &line, limits, out, cmd::SET),
        b"add" => storage(buf, &line, limits, out, cmd::ADD),
        b"replace" => storage(buf, &line, limits, out, cmd::REPLACE),
        b"append" => storage(buf, &line, limits, out, cmd::APPEND),
        b"prepend" => storage(buf, &line, limits, out, cmd::PREPEND),
        b"cas" => storage(buf, &line, limits, out, cmd::CAS),
        b"delete" => delete(&line, out),
        b"incr" => arith(&line, out, cmd::INCR),
        b"decr" => arith(&line, out, cmd::DECR),
        b"touch" => touch(&line, out),
        b"flush_all" => flush_all(&line, out),
        b"stats" => stats(&line, out),
        b"version" => simple(&line, out, cmd::VERSION),
        b"verbosity" => verbosity(&line, out),
        b"quit" => simple(&line, out, cmd::QUIT),
        _ => error_reply(out, error::UNKNOWN_COMMAND),
    }
}

fn error_reply(out: &mut Request, err: u8) {
    out.status = status::ERROR;
    out.error = err;
}

/// Whether the last token is "noreply".
fn has_noreply(line: &Line<'_>) -> bool {
    line.total <= MAX_TOKENS && line.n > 1 && line.bytes(line.n - 1) == b"noreply"
}

/// Key list from token `first` to the end of the line.
fn keys(line: &Line<'_>, out: &mut Request, c: u8, first: usize) {
    out.cmd = c;
    if line.total <= first {
        error_reply(out, error::UNKNOWN_COMMAND);
        return;
    }
    // Walk the whole line: key lists may be longer than the token array.
    let start = line.toks[first].off as usize;
    let mut i = start;
    let end_line = {
        let mut e = out.consumed as usize - 1;
        if e > 0 && line.buf[e - 1] == b'\r' {
            e -= 1;
        }
        e
    };
    let mut nkeys = 0u32;
    let mut last_end = start;
    while i < end_line {
        if line.buf[i] == b' ' {
            i += 1;
            continue;
        }
        let s = i;
        while i < end_line && line.buf[i] != b' ' {
            i += 1;
        }
        if i - s > KEY_MAX {
            error_reply(out, error::BAD_FORMAT);
            return;
        }
        nkeys += 1;
        last_end = i;
    }
    out.status = status::OK;
    out.nkeys = nkeys;
    out.key_off = start as u32;
    out.key_len = (last_end - start) as u32;
}

fn gat(line: &Line<'_>, out: &mut Request, c: u8) {
    out.cmd = c;
    if line.total < 3 {
        error_reply(out, error::UNKNOWN_COMMAND);
        return;
    }
    match parse_i64(line.bytes(1)) {
        Some(t) => out.exptime = t,
        None => {
            error_reply(out, error::INVALID_EXPTIME);
            return;
        }
    }
    keys(line, out, c, 2);
}

fn storage(buf: &[u8], line: &Line<'_>, limits: &Limits, out: &mut Request, c: u8) {
    out.cmd = c;
    let base = if c == cmd::CAS { 6 } else { 5 };
    if line.total != base && line.total != base + 1 {
        error_reply(out, error::UNKNOWN_COMMAND);
        return;
    }
    let noreply = line.total == base + 1 && line.bytes(base) == b"noreply";
    let key = line.bytes(1);
    if key.len() > KEY_MAX {
        error_reply(out, error::BAD_FORMAT);
        return;
    }
    let (flags, exptime, vlen) = match (
        parse_u32(line.bytes(2)),
        parse_i64(line.bytes(3)),
        parse_i64(line.bytes(4)),
    ) {
        (Some(f), Some(e), Some(v)) => (f, e, v),
        _ => {
            error_reply(out, error::BAD_FORMAT);
            return;
        }
    };
    if !(0..=i64::from(i32::MAX) - 2).contains(&vlen) {
        error_reply(out, error::BAD_FORMAT);
        return;
    }
    let cas = if c == cmd::CAS {
        match parse_u64(line.bytes(5)) {
            Some(v) => v,
            None => {
                error_reply(out, error::BAD_FORMAT);
                return;
            }
        }
    } else {
        0
    };
    out.noreply = u8::from(noreply);
    out.flags = flags;
    out.exptime = exptime;
    out.cas = cas;
    out.nkeys = 1;
    out.key_off = line.toks[1].off;
    out.key_len = line.toks[1].len;
    let vlen = vlen as u32;
    if vlen > limits.item_size_max {
        error_reply(out, error::TOO_LARGE);
        out.swallow = vlen + 2;
        return;
    }
    let data_off = out.consumed as usize;
    let need = data_off + vlen as usize + 2;
    if buf.len() < need {
        *out = Request {
            status: status::NEED_MORE,
            ..Request::default()
        };
        return;
    }
    if &buf[need - 2..need] != b"\r\n" {
        error_reply(out, error::BAD_CHUNK);
        return;
    }
    out.status = status::OK;
    out.data_off = data_off as u32;
    out.data_len = vlen;
    out.consumed = need as u32;
}

fn delete(line: &Line<'_>, out: &mut Request) {
    out.cmd = cmd::DELETE;
    if line.total < 2 || line.total > 4 {
        error_reply(out, error::UNKNOWN_COMMAND);
        return;
    }
    let noreply = has_noreply(line);
    let args = line.total - 2 - usize::from(noreply);
    if args > 1 || (args == 1 && line.bytes(2) != b"0") {
        error_reply(out, error::DELETE_USAGE);
        return;
    }
    if line.toks[1].len as usize > KEY_MAX {
        error_reply(out, error::BAD_FORMAT);
        return;
    }
    out.status = status::OK;
    out.noreply = u8::from(noreply);
    out.nkeys = 1;
    out.key_off = line.toks[1].off;
    out.key_len = line.toks[1].len;
}

fn arith(line: &Line<'_>, out: &mut Request, c: u8) {
    out.cmd = c;
    if line.total != 3 && line.total != 4 {
        error_reply(out, error::UNKNOWN_COMMAND);
        return;
    }
    let noreply = has_noreply(line);
    if line.toks[1].len as usize > KEY_MAX {
        error_reply(out, error::BAD_FORMAT);
        return;
    }
    match parse_u64(line.bytes(2)) {
        Some(d) => out.delta = d,
        None => {
            error_reply(out, error::INVALID_DELTA);
            return;
        }
    }
    out.status = status::OK;
    out.noreply = u8::from(noreply);
    out.nkeys = 1;
    out.key_off = line.toks[1].off;
    out.key_len = line.toks[1].len;
}

fn touch(line: &Line<'_>, out: &mut Request) {
    out.cmd = cmd::TOUCH;
    if line.total != 3 && line.total != 4 {
        error_reply(out, error::UNKNOWN_COMMAND);
        return;
    }
    let noreply = has_noreply(line);
    if line.toks[1].len as usize > KEY_MAX {
        error_reply(out, error::BAD_FORMAT);
        return;
    }
    match parse_i64(line.bytes(2)) {
        Some(t) => out.exptime = t,
        None => {
            error_reply(out, error::INVALID_EXPTIME);
            return;
        }
    }
    out.status = status::OK;
    out.noreply = u8::from(noreply);
    out.nkeys = 1;
    out.key_off = line.toks[1].off;
    out.key_len = line.toks[1].len;
}

fn flush_all(line: &Line<'_>, out: &mut Request) {
    out.cmd = cmd::FLUSH_ALL;
    if line.total > 3 {
        error_reply(out, error::UNKNOWN_COMMAND);
        return;
    }
    let noreply = has_noreply(line);
    let args = line.total - 1 - usize::from(noreply);
    if args == 1 {
        match parse_u64(line.bytes(1)) {
            Some(d) => out.delta = d,
            None => {
                error_reply(out, error::BAD_FORMAT);
                return;
            }
        }
    }
    out.status = status::OK;
    out.noreply = u8::from(noreply);
}

fn stats(line: &Line<'_>, out: &mut Request) {
    out.cmd = cmd::STATS;
    out.status = status::OK;
    if line.total > 1 {
        let first = line.toks[1].off;
        let mut e = out.consumed as usize - 1;
        if e > 0 && line.buf[e - 1] == b'\r' {
            e -= 1;
        }
        while e > first as usize && line.buf[e - 1] == b' ' {
            e -= 1;
        }
        out.arg_off = first;
        out.arg_len = e as u32 - first;
    }
}

fn simple(line: &Line<'_>, out: &mut Request, c: u8) {
    out.cmd = c;
    out.status = status::OK;
    let _ = line;
}

fn verbosity(line: &Line<'_>, out: &mut Request) {
    out.cmd = cmd::VERBOSITY;
    if line.total != 2 && line.total != 3 {
        error_reply(out, error::UNKNOWN_COMMAND);
        return;
    }
    out.status = status::OK;
    out.noreply = u8::from(has_noreply(line));
    out.arg_off = line.toks[1].off;
    out.arg_len = line.toks[1].len;
}

/// Iterates the keys of a parsed request over the same buffer (see kv_request_next_key):
/// `pos` starts at 0; returns the next key's offset and length, or None at the end.
pub fn next_key(buf: &[u8], req: &Request, pos: &mut u32) -> Option<(u32, u32)> {
    let start = req.key_off as usize;
    let end = start.checked_add(req.key_len as usize)?.min(buf.len());
    let mut i = start.checked_add(*pos as usize)?;
    while i < end && buf[i] == b' ' {
        i += 1;
    }
    if i >= end || req.nkeys == 0 {
        return None;
    }
    let s = i;
    while i < end && buf[i] != b' ' {
        i += 1;
    }
    *pos = (i - start) as u32;
    Some((s as u32, (i - s) as u32))
}
