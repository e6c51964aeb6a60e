//! Rust twin of Redis 7.0's glob matcher `stringmatchlen()` (src/util.c), the function
//! behind KEYS, SCAN MATCH, PSUBSCRIBE, ACL key and channel patterns, COMMAND LIST
//! FILTERBY PATTERN and FUNCTION LIST LIBRARYNAME.
//!
//! Same answers as the C for every pattern and string, with one exception by design:
//! the C reads the byte after the pattern's end in four places (so its answer depends
//! on memory it was not given); this twin reads only `pattern[..len]`, and answers as
//! the C does when that byte is a NUL (which it is for every caller in Redis: patterns
//! are sds strings). See docs/REDIS.md, "The latent bug shadow found".
//!
//! Semantics kept from the C, one by one:
//! - `*` any run (also empty), `?` one byte, `\x` the byte x, `[...]` a set with `^`
//!   negation, `\x` escapes and ranges `a-z`, reversed ranges `z-a` meaning the same;
//! - an unterminated `[` set ends at the end of the pattern (`[ab` is `[ab]`);
//! - `nocase` folds through glibc's C-locale `tolower` (ASCII A-Z; in ranges, signed
//!   bytes -128..-2 become 128..254), but an escaped byte inside a set compares exactly;
//! - range bounds and the string byte compare as *signed* chars (x86 `char`), so
//!   `[a-\xff]` is the reversed range `\xff..a`;
//! - `*` does not match an empty string when it is the whole pattern (`"*"` vs `""`
//!   is 0: the C's loop never runs);
//! - the `skipLongerMatches` short-cut (CVE-2022-36021) and the nesting limit of 1000,
//!   past which the answer is "no match".

use core::ffi::{c_char, c_int};
use graft_ffi::{borrow, boundary, out, Error};

pub use graft_ffi; // keeps graft-ffi's C exports (panic arming, last error) in this staticlib

/// The C's `nesting > 1000` guard against abusive patterns.
const MAX_NESTING: u32 = 1000;

/// glibc's `tolower` in the C locale on a value that was a (signed) `char`: A-Z fold
/// to a-z, and -128..-2 become 128..254 (glibc's table answers for negative chars as
/// for the unsigned byte; -1 is EOF and stays). The differential test found this one:
/// a first twin that left negative values alone disagreed on `[\xe9-B]` with nocase.
#[inline(always)]
fn lower(c: i32) -> i32 {
    match c {
        65..=90 => c + 32,
        -128..=-2 => c + 256,
        _ => c,
    }
}

/// A byte as the C sees it through `char` on x86: signed.
#[inline(always)]
fn sc(b: u8) -> i32 {
    b as i8 as i32
}

#[inline(always)]
fn eq(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

/// Does `string` match the glob `pattern`? `nocase` as the C's argument.
pub fn string_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    // The literal prefix first, in one tight loop: most patterns of KEYS and SCAN MATCH
    // start with one (`key:1*`), and most keys fail inside it. The bytes it consumes
    // are the ones match_impl's plain-byte arm would have consumed one by one, with the
    // same answer: a differing byte is "no match", and a string that ends inside the
    // prefix leaves the rest to the trailing-stars rule.
    let mut i = 0;
    while let (Some(&pc), Some(&c)) = (pattern.get(i), string.get(i)) {
        if matches!(pc, b'*' | b'?' | b'[' | b'\\') {
            break;
        }
        if !eq(pc, c, nocase) {
            return false;
        }
        i += 1;
    }
    let (p, s) = (&pattern[i..], &string[i..]);
    if s.is_empty() && i > 0 {
        // The string ended on a matched byte: only trailing stars may remain.
        return p.iter().all(|&b| b == b'*');
    }
    let mut skip_longer = false;
    match_impl(p, s, nocase, &mut skip_longer, 0)
}

/// The bytes a set accepts, as a 256-bit table, for the scan after a `*`.
struct ByteSet([u64; 4]);

impl ByteSet {
    #[inline(always)]
    fn add(&mut self, b: u8) {
        self.0[usize::from(b >> 6)] |= 1 << (b & 63);
    }

    #[inline(always)]
    fn has(&self, b: u8) -> bool {
        self.0[usize::from(b >> 6)] >> (b & 63) & 1 != 0
    }

    /// The table of the set `p` (the pattern just after its `[`), parsed exactly as
    /// [`set`] parses it, so that `has(c)` is `set(p, c, nocase).0` for every byte `c`
    /// (the test `byte_set_is_set` checks all 256 on many sets); also returns the
    /// pattern after the set.
    fn of(mut p: &[u8], nocase: bool) -> (ByteSet, &[u8]) {
        let mut t = ByteSet([0; 4]);
        let not = p.first() == Some(&b'^');
        if not {
            p = &p[1..];
        }
        loop {
            match p {
                [b'\\', x, ..] => {
                    t.add(*x);
                    p = &p[2..];
                }
                [b']', ..] => {
                    p = &p[1..];
                    break;
                }
                [] => break,
                [a, b'-', b, ..] => {
                    let (mut start, mut end) = (sc(*a), sc(*b));
                    if start > end {
                        core::mem::swap(&mut start, &mut end);
                    }
                    if nocase {
                        // Folding makes the accepted bytes irregular (and nocase ranges
                        // are rare): ask the fold for each byte.
                        let (start, end) = (lower(start), lower(end));
                        for c in 0..=u8::MAX {
                            let ch = lower(sc(c));
                            if ch >= start && ch <= end {
                                t.add(c);
                            }
                        }
                    } else {
                        for v in start..=end {
                            // v is a signed char value: its byte.
                            t.add(v as i8 as u8);
                        }
                    }
                    p = &p[3..];
                }
                [x, ..] => {
                    t.add(*x);
                    if nocase {
                        t.add(x.to_ascii_lowercase());
                        t.add(x.to_ascii_uppercase());
                    }
                    p = &p[1..];
                }
            }
        }
        if not {
            for w in &mut t.0 {
                *w = !*w;
            }
        }
        (t, p)
    }
}

/// Does byte `c` belong to the set `p` (the pattern just after its `[`)? Also returns
/// the pattern after the set.
#[inline(always)]
fn set(mut p: &[u8], c: u8, nocase: bool) -> (bool, &[u8]) {
    let not = p.first() == Some(&b'^');
    if not {
        p = &p[1..];
    }
    let mut matched = false;
    loop {
        match p {
            [b'\\', x, ..] => {
                // Escaped byte: exact comparison even with nocase.
                matched |= *x == c;
                p = &p[2..];
            }
            [b']', ..] => {
                p = &p[1..];
                break;
            }
            // Unterminated set: it ends with the pattern.
            [] => break,
            [a, b'-', b, ..] => {
                let (mut start, mut end, mut ch) = (sc(*a), sc(*b), sc(c));
                if start > end {
                    core::mem::swap(&mut start, &mut end);
                }
                if nocase {
                    start = lower(start);
                    end = lower(end);
                    ch = lower(ch);
                }
                matched |= ch >= start && ch <= end;
                p = &p[3..];
            }
            [x, ..] => {
                matched |= eq(*x, c, nocase);
                p = &p[1..];
            }
        }
    }
    (matched != not, p)
}

fn match_impl(
    mut p: &[u8],
    mut s: &[u8],
    nocase: bool,
    skip_longer: &mut bool,
    nesting: u32,
) -> bool {
    if nesting > MAX_NESTING {
        return false;
    }
    // Each arm consumes its token from `p` (the C's common `pattern++` at the end of
    // the loop is folded into the arms) and one byte from `s` when it matched one.
    while let (Some(&pc), Some(&c)) = (p.first(), s.first()) {
        match pc {
            b'*' => {
                // Collapse runs of '*'. (The C tests pattern[1] even when only one
                // byte is left: the first of its reads past the end.)
                while p.len() > 1 && p[1] == b'*' {
                    p = &p[1..];
                }
                if p.len() == 1 {
                    return true;
                }
                let rest = &p[1..];
                // A try at a position whose byte cannot start the rest fails at once
                // and sets nothing, so the twin skips those positions with a tight scan
                // instead of recursing into each (the C recurses everywhere; the answers,
                // `skipLongerMatches` and the nesting limit are the same):
                // - rest starts with a plain byte: scan for it (about half the work of
                //   the C on KEYS "key:*99*", docs/REDIS.md, "Numbers");
                // - rest starts with a set: build its 256-bit table once, scan for the
                //   bytes it accepts, and go on after the set (the set consumed one
                //   byte) without parsing it again at each position.
                if rest[0] == b'[' && nesting < MAX_NESTING {
                    return star_set(&rest[1..], s, nocase, skip_longer, nesting);
                }
                let lit = match rest[0] {
                    b'?' | b'[' | b'\\' => None,
                    b => Some(b),
                };
                while !s.is_empty() {
                    if let Some(b) = lit {
                        match s.iter().position(|&x| eq(x, b, nocase)) {
                            Some(i) => s = &s[i..],
                            None => break,
                        }
                    }
                    if match_impl(rest, s, nocase, skip_longer, nesting + 1) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    s = &s[1..];
                }
                // The rest matched nowhere in the string: a longer match for an
                // earlier '*' cannot help either.
                *skip_longer = true;
                return false;
            }
            b'?' => {
                p = &p[1..];
                s = &s[1..];
            }
            b'[' => {
                let (matched, rest) = set(&p[1..], c, nocase);
                if !matched {
                    return false;
                }
                p = rest;
                s = &s[1..];
            }
            _ => {
                // '\x' is x; a '\' that ends the pattern is itself.
                let x = if pc == b'\\' && p.len() >= 2 {
                    p = &p[1..];
                    p[0]
                } else {
                    pc
                };
                if !eq(x, c, nocase) {
                    return false;
                }
                p = &p[1..];
                s = &s[1..];
            }
        }
        if s.is_empty() {
            // Trailing stars match the empty rest. (The C tests *pattern before the
            // length here: the read past the end that shadow mode caught.)
            while p.first() == Some(&b'*') {
                p = &p[1..];
            }
            break;
        }
    }
    p.is_empty() && s.is_empty()
}

/// The rest of [`match_impl`]'s `*` arm when the rest of the pattern starts with a set
/// (`p` is the pattern just after its `[`): scans `s` for the bytes the set accepts
/// and tries the pattern after the set at each. Out of line, so that the recursion of
/// the common patterns keeps a small frame.
#[inline(never)]
fn star_set(p: &[u8], mut s: &[u8], nocase: bool, skip_longer: &mut bool, nesting: u32) -> bool {
    let (table, after) = ByteSet::of(p, nocase);
    while let Some(i) = s.iter().position(|&x| table.has(x)) {
        let tail = &s[i + 1..];
        // (What the recursion does once the set consumed the last byte: only trailing
        // stars may remain.)
        let m = if tail.is_empty() {
            after.iter().all(|&b| b == b'*')
        } else {
            match_impl(after, tail, nocase, skip_longer, nesting + 1)
        };
        if m {
            return true;
        }
        if *skip_longer {
            return false;
        }
        s = tail;
    }
    *skip_longer = true;
    false
}

/// The C contract of `stringmatchlen()`, with an error channel: writes 1 (match) or 0
/// to `*out` and returns `GRAFT_OK`; a negative length or a NULL with a length is
/// `GRAFT_EINVAL`/`GRAFT_ENULL` and `*out` is untouched.
///
/// # Safety
/// `p` (the pattern) points to `plen` readable bytes (or is NULL with 0), likewise `s`
/// (the string) and `slen`; `out` is NULL or valid for one write.
#[no_mangle]
pub unsafe extern "C" fn redis_rs_stringmatchlen(
    p: *const c_char,
    plen: c_int,
    s: *const c_char,
    slen: c_int,
    nocase: c_int,
    out: *mut c_int,
) -> c_int {
    boundary::status(move || {
        let plen = usize::try_from(plen).map_err(|_| Error::invalid("negative pattern length"))?;
        let slen = usize::try_from(slen).map_err(|_| Error::invalid("negative string length"))?;
        // SAFETY: the caller passes `plen` readable bytes at `p` (or NULL, 0).
        let p = unsafe { borrow::bytes(p.cast(), plen) }?;
        // SAFETY: likewise `slen` bytes at `s`.
        let s = unsafe { borrow::bytes(s.cast(), slen) }?;
        let m = string_match(p, s, nocase != 0);
        // SAFETY: `out` is NULL (rejected with GRAFT_ENULL) or valid for one write.
        unsafe { out::write(out, c_int::from(m)) }
    })
}

#[cfg(test)]
mod tests {
    use super::string_match as m;

    #[test]
    fn basics() {
        assert!(m(b"a*b", b"axxb", false));
        assert!(m(b"a?c", b"abc", false));
        assert!(!m(b"a?c", b"ac", false));
        assert!(m(b"h[ae]llo", b"hello", false));
        assert!(!m(b"h[^e]llo", b"hello", false));
        assert!(m(b"h[a-b]llo", b"hbllo", false));
        assert!(m(b"\\*", b"*", false));
        assert!(!m(b"\\*", b"a", false));
    }

    #[test]
    fn c_quirks() {
        assert!(
            !m(b"*", b"", false),
            "the C's loop never runs for an empty string"
        );
        assert!(m(b"", b"", false));
        assert!(m(b"[z-a]", b"m", false), "reversed range");
        assert!(
            m(b"[ab", b"b", false),
            "unterminated set ends with the pattern"
        );
        assert!(!m(b"[", b"x", false));
        assert!(m(b"[^", b"x", false), "empty negated set matches any byte");
        assert!(m(b"A", b"a", true));
        assert!(m(b"[A-C]", b"b", true));
        assert!(
            !m(b"[\\A]", b"a", true),
            "escape in a set is exact even with nocase"
        );
        assert!(m(b"ab\\", b"ab\\", false), "trailing backslash is literal");
        assert!(
            m(b"a**", b"a", false),
            "trailing stars match the empty rest"
        );
        // Signed chars: 0xff is -1, so [a-\xff] is the range -1..'a'.
        assert!(m(b"[a-\xff]", b"0", false));
        assert!(!m(b"[a-\xff]", b"z", false));
        assert!(
            !m(&[0xc9], &[0xe9], true),
            "no folding beyond ASCII in the C locale"
        );
        // nocase ranges: glibc's tolower(-23) is 233, so [\xe9-B] becomes 233..98: empty.
        assert!(
            m(b"[\xe9-B]", b"0", false),
            "-23..66 holds '0' case-sensitively"
        );
        assert!(
            !m(b"[\xe9-B]", b"b", true),
            "but with nocase the range is 233..98"
        );
        assert!(!m(b"[\xe9-Bz\\", b"9", true), "difftest's first find");
    }

    #[test]
    fn pattern_end_is_the_end() {
        // The C's read past the end: `E` vs `E` with a '*' after the pattern in memory
        // is 0 there; a slice has no byte after its end.
        let buf = b"E*";
        assert!(m(&buf[..1], b"E", false));
        let star = b"**";
        assert!(m(&star[..1], b"x", false));
    }

    #[test]
    fn byte_set_is_set() {
        // The table the scan after a `*` uses answers as `set` for every byte, on random
        // sets over the bytes that mean something in one (xorshift, fixed seed).
        let alphabet = b"^-\\]aAzZ09\xe9\xff\x00*";
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 7) as usize;
            let p: Vec<u8> = (0..len)
                .map(|k| alphabet[((x >> (8 + 5 * k)) % alphabet.len() as u64) as usize])
                .collect();
            for nocase in [false, true] {
                let (t, after) = super::ByteSet::of(&p, nocase);
                for c in 0..=u8::MAX {
                    let (want, rest) = super::set(&p, c, nocase);
                    assert_eq!(t.has(c), want, "set {p:?} byte {c} nocase {nocase}");
                    assert_eq!(after, rest, "set {p:?}");
                }
            }
        }
    }

    #[test]
    fn star_then_set_and_literal_prefix() {
        // The scan after `*[...]` and the literal-prefix loop, on the cases their
        // short-cuts must not change.
        assert!(!m(b"*[13579]?[02468]", b"key:123", false));
        assert!(m(b"*[13579]?[02468]", b"key:1922", false));
        assert!(m(b"*[ab]", b"xxb", false));
        assert!(
            m(b"*[ab]*", b"xa", false),
            "the set took the last byte; stars remain"
        );
        assert!(!m(b"*[ab]c", b"xa", false));
        assert!(m(b"*[^ab]", b"aac", false));
        assert!(m(b"*[A-C]x", b"zbx", true));
        assert!(!m(b"key:1*", b"key:2", false));
        assert!(m(b"key:1*", b"key:1", false));
        assert!(m(b"key:1**", b"key:1", false));
        assert!(!m(b"key:1*x", b"key:1", false));
        assert!(!m(b"key:", b"key:1", false));
        assert!(!m(b"key:12", b"key:1", false));
        assert!(m(b"KEY:*", b"key:9", true));
        assert!(m(b"k\\ey", b"key", false));
    }

    #[test]
    fn nesting_limit_and_skip() {
        let p: Vec<u8> = b"a"
            .iter()
            .chain([b'*', b'a'].iter().cycle().take(2 * 1200))
            .copied()
            .collect();
        let s = vec![b'a'; 1300];
        // 1200 stars nest past the limit: the C answers 0.
        assert!(!m(&p, &s, false));
        // The short-cut keeps a pathological pattern fast.
        let p = b"a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
        let s = vec![b'a'; 5000];
        assert!(!m(p, &s, false));
    }
}
