//! The log bridge: Rust components log through one sink that C chooses.
//!
//! - C registers a `graft_log_fn` with `graft_ffi_set_logger` (for instance libgraft's
//!   `graft_runtime_log_sink` with the runtime as `ctx`); messages at or above its level
//!   reach it, from any thread, one line each, strings valid during the call only.
//! - With no callback registered, logs go nowhere, unless the environment variable
//!   `GRAFT_FFI_LOG` (read once, at the first log call or registration) says `stderr`
//!   (warnings and errors) or a level name (`error`, `warn`, `info`, `debug`, `trace`)
//!   or number (0..4), which sends that level and above to stderr.
//! - Rust code logs with [`write`] or the macros [`log_error!`](crate::log_error)
//!   through [`log_trace!`](crate::log_trace). A disabled level costs one atomic load;
//!   the message is only formatted when it will be delivered.
//!
//! `graft_ffi_set_logger` waits for calls in progress to the previous callback, so once
//! it returns the previous `ctx` may be freed.

use core::ffi::{c_char, c_int, c_void};
use std::cell::RefCell;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::sync::{Once, PoisonError, RwLock};
use std::time::Instant;

use crate::boundary;
use crate::error::Error;

/// Log levels, most severe first; mirrors `graft_log_level` in `graft/base.h`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    Error = 0,
    Warn = 1,
    Info = 2,
    Debug = 3,
    Trace = 4,
}

/// Short alias used inside the crate.
pub(crate) use LogLevel as Level;

impl LogLevel {
    /// The level for a number from C, or `None` when out of range.
    pub fn from_raw(raw: i32) -> Option<LogLevel> {
        Some(match raw {
            0 => LogLevel::Error,
            1 => LogLevel::Warn,
            2 => LogLevel::Info,
            3 => LogLevel::Debug,
            4 => LogLevel::Trace,
            _ => return None,
        })
    }

    /// Lower-case name, as accepted in `GRAFT_FFI_LOG`.
    pub fn name(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}

/// `graft_log_fn` of `graft/base.h`: `void (*)(void *ctx, int level, const char *target,
/// const char *message)`; NULL is `None`.
pub type LogFn = Option<
    unsafe extern "C" fn(
        ctx: *mut c_void,
        level: c_int,
        target: *const c_char,
        message: *const c_char,
    ),
>;

const UNINIT: i32 = -2;
const OFF: i32 = -1;

/// Highest level delivered (`OFF` when none, `UNINIT` before the environment is read).
static MAX_LEVEL: AtomicI32 = AtomicI32::new(UNINIT);
static INIT: Once = Once::new();
static SINK: RwLock<Sink> = RwLock::new(Sink::Nowhere);

enum Sink {
    Nowhere,
    Stderr,
    Callback(
        unsafe extern "C" fn(*mut c_void, c_int, *const c_char, *const c_char),
        Ctx,
    ),
}

/// The host's context pointer. graft never dereferences it; base.h requires the callback
/// to accept calls from any thread, which is what makes sharing it sound.
struct Ctx(*mut c_void);
// SAFETY: only passed back to the C callback, which base.h requires to be thread-safe.
unsafe impl Send for Ctx {}
// SAFETY: as above; graft never reads through the pointer.
unsafe impl Sync for Ctx {}

fn env_default() -> (Sink, i32) {
    let Ok(v) = std::env::var("GRAFT_FFI_LOG") else {
        return (Sink::Nowhere, OFF);
    };
    let v = v.trim().to_ascii_lowercase();
    let level = match v.as_str() {
        "stderr" => Some(LogLevel::Warn),
        _ => (0..=4)
            .filter_map(LogLevel::from_raw)
            .find(|l| l.name() == v)
            .or_else(|| v.parse().ok().and_then(LogLevel::from_raw)),
    };
    match level {
        Some(l) => (Sink::Stderr, l as i32),
        None => (Sink::Nowhere, OFF),
    }
}

fn ensure_init() {
    INIT.call_once(|| {
        let (sink, level) = env_default();
        let mut s = SINK.write().unwrap_or_else(PoisonError::into_inner);
        *s = sink;
        MAX_LEVEL.store(level, Ordering::Release);
    });
}

/// Whether a message at `level` would be delivered anywhere.
#[inline]
pub fn enabled(level: LogLevel) -> bool {
    let mut max = MAX_LEVEL.load(Ordering::Acquire);
    if max == UNINIT {
        ensure_init();
        max = MAX_LEVEL.load(Ordering::Acquire);
    }
    (level as i32) <= max
}

/// Sets the sink from Rust; the same as `graft_ffi_set_logger`.
///
/// # Safety
/// `callback` (when `Some`) must be safe to call from any thread with `ctx` until it is
/// replaced, and must not unwind.
pub unsafe fn set_logger(callback: LogFn, ctx: *mut c_void, level: c_int) -> Result<(), Error> {
    ensure_init();
    let (sink, max) = match callback {
        Some(f) => {
            let level = LogLevel::from_raw(level)
                .ok_or_else(|| Error::invalid(format!("log level {level} is not in 0..4")))?;
            (Sink::Callback(f, Ctx(ctx)), level as i32)
        }
        None => env_default(),
    };
    // Taking the write lock waits for deliveries in progress to the old sink.
    let mut s = SINK.write().unwrap_or_else(PoisonError::into_inner);
    *s = sink;
    MAX_LEVEL.store(max, Ordering::Release);
    Ok(())
}

/// A lock-free "N lines per second" limit, as libgraft's mismatch logs have: [`admit`]
/// says whether a line may be written now and, when it may, how many were refused since
/// the last admitted one (to print as `suppressed=N`).
///
/// [`admit`]: RateLimit::admit
pub struct RateLimit {
    per_second: u32,
    /// (second since the process's first use << 20) | lines admitted in that second.
    window: AtomicU64,
    suppressed: AtomicU64,
}

impl RateLimit {
    /// A limit of `per_second` lines (0: none are admitted).
    pub const fn new(per_second: u32) -> RateLimit {
        RateLimit {
            per_second,
            window: AtomicU64::new(u64::MAX),
            suppressed: AtomicU64::new(0),
        }
    }

    /// `Some(refused since the last admitted line)` when a line may be written now;
    /// `None` (and the refusal counted) when the second's budget is spent.
    pub fn admit(&self) -> Option<u64> {
        static START: OnceLock<Instant> = OnceLock::new();
        let sec = START.get_or_init(Instant::now).elapsed().as_secs() & ((1 << 44) - 1);
        let mut cur = self.window.load(Ordering::Relaxed);
        loop {
            let (csec, cnt) = (cur >> 20, cur & 0xF_FFFF);
            let next = if cur == u64::MAX || csec != sec {
                (sec << 20) | 1
            } else if cnt < u64::from(self.per_second) && cnt < 0xF_FFFF {
                cur + 1
            } else {
                self.suppressed.fetch_add(1, Ordering::Relaxed);
                return None;
            };
            if self.per_second == 0 {
                self.suppressed.fetch_add(1, Ordering::Relaxed);
                return None;
            }
            match self
                .window
                .compare_exchange_weak(cur, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return Some(self.suppressed.swap(0, Ordering::Relaxed)),
                Err(actual) => cur = actual,
            }
        }
    }

    /// Refusals not yet reported by an admitted line.
    pub fn pending(&self) -> u64 {
        self.suppressed.load(Ordering::Relaxed)
    }
}

thread_local! {
    // Reused formatting buffers: target and message, each NUL-terminated.
    static BUFS: RefCell<(String, String)> = const { RefCell::new((String::new(), String::new())) };
}

/// Logs one message. Newlines become spaces and NULs become U+FFFD, so the sink sees
/// exactly one C string line. Formats into a reused per-thread buffer: delivering a
/// message allocates nothing once the buffer has grown to size.
pub fn write(level: LogLevel, target: &str, args: std::fmt::Arguments<'_>) {
    if !enabled(level) {
        return;
    }
    let fill = |bufs: &mut (String, String)| {
        let (t, m) = bufs;
        t.clear();
        m.clear();
        let _ = OneLine(t).write_str(target);
        let _ = OneLine(m).write_fmt(args);
        m.truncate(m.trim_end().len());
        t.push('\0');
        m.push('\0');
        deliver(level, t, m);
    };
    let done = BUFS
        .try_with(|b| match b.try_borrow_mut() {
            Ok(mut b) => {
                fill(&mut b);
                true
            }
            Err(_) => false,
        })
        .unwrap_or(false);
    if !done {
        // Re-entered (a Display impl that logs) or during thread teardown.
        fill(&mut (String::new(), String::new()));
    }
}

/// Appends text as one C-safe line: line breaks become spaces, NULs U+FFFD.
struct OneLine<'a>(&'a mut String);

impl std::fmt::Write for OneLine<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        for c in s.chars() {
            self.0.push(match c {
                '\n' | '\r' => ' ',
                '\0' => '\u{FFFD}',
                c => c,
            });
        }
        Ok(())
    }
}

fn deliver(level: LogLevel, target: &str, message: &str) {
    let sink = SINK.read().unwrap_or_else(PoisonError::into_inner);
    if (level as i32) > MAX_LEVEL.load(Ordering::Acquire) {
        return; // replaced while formatting
    }
    match &*sink {
        Sink::Nowhere => {}
        Sink::Stderr => {
            let line = format!(
                "graft-ffi {} {}: {}\n",
                level.name(),
                target.trim_end_matches('\0'),
                message.trim_end_matches('\0')
            );
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
        }
        Sink::Callback(f, ctx) => {
            // SAFETY: both strings end with the NUL pushed by `write` and live until the
            // call returns; the host registered `f` as safe to call with `ctx` from any
            // thread (graft_ffi_set_logger's contract); the read lock keeps it registered.
            unsafe {
                f(
                    ctx.0,
                    level as c_int,
                    target.as_ptr().cast(),
                    message.as_ptr().cast(),
                )
            };
        }
    }
}

/// Logs at error level: `log_error!("kv_proto", "bad line {}", n)`.
#[macro_export]
macro_rules! log_error {
    ($target:expr, $($arg:tt)+) => {
        $crate::log::write($crate::log::LogLevel::Error, $target, format_args!($($arg)+))
    };
}

/// Logs at warn level (see [`log_error!`]).
#[macro_export]
macro_rules! log_warn {
    ($target:expr, $($arg:tt)+) => {
        $crate::log::write($crate::log::LogLevel::Warn, $target, format_args!($($arg)+))
    };
}

/// Logs at info level (see [`log_error!`]).
#[macro_export]
macro_rules! log_info {
    ($target:expr, $($arg:tt)+) => {
        $crate::log::write($crate::log::LogLevel::Info, $target, format_args!($($arg)+))
    };
}

/// Logs at debug level (see [`log_error!`]).
#[macro_export]
macro_rules! log_debug {
    ($target:expr, $($arg:tt)+) => {
        $crate::log::write($crate::log::LogLevel::Debug, $target, format_args!($($arg)+))
    };
}

/// Logs at trace level (see [`log_error!`]).
#[macro_export]
macro_rules! log_trace {
    ($target:expr, $($arg:tt)+) => {
        $crate::log::write($crate::log::LogLevel::Trace, $target, format_args!($($arg)+))
    };
}

/// Sends Rust-side logs to `fn(ctx, level, target, message)` for messages at or above
/// `level` (a `graft_log_level`, 0..4; otherwise `GRAFT_EINVAL` and nothing changes).
/// `fn` NULL unregisters: logs then go nowhere, or to stderr when `GRAFT_FFI_LOG` says so
/// (`ctx` and `level` are ignored).
///
/// `fn` may be called from any thread, concurrently, and must not call back into graft.
/// When this function returns, no call to the previous callback is still running, so
/// its `ctx` may be freed. Pass libgraft's `graft_runtime_log_sink` with the runtime as
/// `ctx` to merge Rust logs into the runtime's. Thread-safe.
///
/// # Safety
/// `fn` must stay callable with `ctx` until replaced.
#[no_mangle]
pub unsafe extern "C" fn graft_ffi_set_logger(
    callback: LogFn,
    ctx: *mut c_void,
    level: c_int,
) -> c_int {
    boundary::status(|| {
        // SAFETY: forwarded contract of this function.
        unsafe { set_logger(callback, ctx, level) }
    })
}

#[cfg(test)]
mod tests {
    use super::RateLimit;

    #[test]
    fn rate_limit_admits_per_second_and_counts_the_rest() {
        let rl = RateLimit::new(3);
        let admitted: Vec<_> = (0..1000).filter_map(|_| rl.admit()).collect();
        // All 1000 attempts normally fall in one second; a second boundary may admit 3 more.
        assert!(admitted.len() == 3 || admitted.len() == 6, "{admitted:?}");
        assert_eq!(admitted[0], 0);
        assert_eq!(
            rl.pending() + admitted.iter().sum::<u64>() + admitted.len() as u64,
            1000
        );
        let none = RateLimit::new(0);
        assert_eq!(none.admit(), None);
        assert_eq!(none.pending(), 1);
    }
}
