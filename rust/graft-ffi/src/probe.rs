//! USDT probes of the boundary: `ffi__enter`, `ffi__return` and `ffi__panic` in the same
//! `graft` provider as libgraft's (src/probes.h, docs/FFI.md "Probes").
//!
//! | probe | arguments |
//! |---|---|
//! | `ffi__enter` | fn (char *, not NUL-terminated), fn_len (u64) |
//! | `ffi__return` | fn, fn_len, status (i64, `GRAFT_*`) |
//! | `ffi__panic` | fn, fn_len, status (i64, always `GRAFT_EPANIC`) |
//!
//! `fn` is the Rust path of the function whose body the boundary runs (the closure's
//! type name without `::{{closure}}`), e.g. `kv_proto::ffi::kv_rs_parse`; read it in
//! bpftrace with `str(arg0, arg1)`.
//!
//! Debian packages no `probe` or `usdt` crate, so the probes are written here: each is an
//! inline-assembly `nop` plus the `.note.stapsdt` ELF note that `<sys/sdt.h>` would
//! emit (same layout: address, base, semaphore, provider, name, argument string), and a
//! `.stapsdt.base` section shared with the C probes. Inline assembly rather than a C shim:
//! a shim would be a call per probe, and the crate would need a C compiler and a header
//! that is not always installed. The semaphore (one for the three, in `.probes`) is
//! incremented by the kernel while a tracer is attached; until then the boundary reads
//! one 16-bit word and skips the probes and their arguments. On targets other than
//! x86_64 the probes are absent and [`enabled`] is always false.

#[cfg(target_arch = "x86_64")]
mod imp {
    use core::sync::atomic::{AtomicU16, Ordering};

    /// The provider's semaphore for the Rust probes (written by the kernel).
    #[link_section = ".probes"]
    #[used]
    pub(super) static SEMAPHORE: AtomicU16 = AtomicU16::new(0);

    #[inline(always)]
    pub(super) fn enabled() -> bool {
        SEMAPHORE.load(Ordering::Relaxed) != 0
    }

    /// One probe site: the `nop` and its note. `$args` are the asm operands named in
    /// `$fmt` (AT&T syntax, so `{0}` prints as `%rdi`); pointers are passed as integers,
    /// since the asm never dereferences them (the tracer reads them from outside).
    macro_rules! site {
        ($name:literal, $fmt:literal, $($args:tt)*) => {
            // SAFETY: a `nop` (no memory, stack or flags touched) plus data emitted into
            // non-code sections; the operands are only named in the note.
            unsafe {
                core::arch::asm!(
                    "990: nop",
                    ".pushsection .note.stapsdt,\"?\",\"note\"",
                    ".balign 4",
                    ".4byte 992f-991f, 994f-993f, 3",
                    "991: .asciz \"stapsdt\"",
                    "992: .balign 4",
                    "993: .8byte 990b",
                    ".8byte _.stapsdt.base",
                    ".8byte {sema}",
                    ".asciz \"graft\"",
                    concat!(".asciz \"", $name, "\""),
                    concat!(".asciz \"", $fmt, "\""),
                    "994: .balign 4",
                    ".popsection",
                    ".ifndef _.stapsdt.base",
                    ".pushsection .stapsdt.base,\"aG\",\"progbits\",.stapsdt.base,comdat",
                    ".weak _.stapsdt.base",
                    ".hidden _.stapsdt.base",
                    "_.stapsdt.base: .space 1",
                    ".size _.stapsdt.base, 1",
                    ".popsection",
                    ".endif",
                    $($args)*
                    sema = sym SEMAPHORE,
                    options(att_syntax, nostack, nomem, preserves_flags)
                )
            }
        };
    }

    #[inline(always)]
    pub(super) fn enter(name: &str) {
        site!("ffi__enter", "8@{0} 8@{1}", in(reg) name.as_ptr() as usize, in(reg) name.len(),);
    }

    #[inline(always)]
    pub(super) fn ret(name: &str, status: i64) {
        site!("ffi__return", "8@{0} 8@{1} -8@{2}",
              in(reg) name.as_ptr() as usize, in(reg) name.len(), in(reg) status,);
    }

    #[inline(always)]
    pub(super) fn panic(name: &str, status: i64) {
        site!("ffi__panic", "8@{0} 8@{1} -8@{2}",
              in(reg) name.as_ptr() as usize, in(reg) name.len(), in(reg) status,);
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod imp {
    #[inline(always)]
    pub(super) fn enabled() -> bool {
        false
    }
    #[inline(always)]
    pub(super) fn enter(_: &str) {}
    #[inline(always)]
    pub(super) fn ret(_: &str, _: i64) {}
    #[inline(always)]
    pub(super) fn panic(_: &str, _: i64) {}
}

/// True while a tracer has one of the boundary's probes attached.
#[inline(always)]
pub fn enabled() -> bool {
    imp::enabled()
}

/// The name the probes give the function whose body is `F` (a closure inside it).
pub(crate) fn fn_name<F>() -> &'static str {
    let full = core::any::type_name::<F>();
    let mut name = full;
    while let Some(outer) = name.strip_suffix("::{{closure}}") {
        name = outer;
    }
    name
}

#[inline(always)]
pub(crate) fn enter(name: &str) {
    imp::enter(name);
}

#[inline(always)]
pub(crate) fn ret(name: &str, status: i64) {
    imp::ret(name, status);
}

#[inline(always)]
pub(crate) fn panic(name: &str, status: i64) {
    imp::panic(name, status);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_drop_the_closure_suffix() {
        let f = || 1;
        let n = {
            fn of<F>(_: &F) -> &'static str {
                fn_name::<F>()
            }
            of(&f)
        };
        assert!(n.ends_with("names_drop_the_closure_suffix"), "{n}");
    }

    #[test]
    fn disabled_without_a_tracer() {
        assert!(!enabled());
        // The probes are `nop`s: firing them untraced changes nothing.
        enter("x");
        ret("x", 0);
        panic("x", 9);
    }
}
