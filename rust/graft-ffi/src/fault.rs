//! Fault injection of real panics: `graft_ffi_fault_arm_panic` arms the calling thread
//! so that its next panic-boundary entry unwinds before the body runs. libgraft's fault
//! injection reaches it through `graft_runtime_options.arm_panic`.
//!
//! While no thread is armed, the check in every boundary entry is one relaxed load of a
//! process-wide count of armed threads; only when it is not zero does the entry read its
//! thread's flag (a thread-local access, which in a shared object or a position-independent
//! static library is a call to `__tls_get_addr`).

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::boundary;

/// Payload of an injected panic. Raised with `resume_unwind`, so the process's panic
/// hook stays quiet (an injected fault is expected, not a bug).
pub(crate) struct InjectedPanic;

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
}

/// Threads whose flag is set: incremented by the thread that arms (false to true) and
/// decremented by the thread that fires or disarms (true to false), so it is zero exactly
/// when no flag is set (a thread that exits armed leaves it above zero: every entry then
/// pays the thread-local read, nothing worse). Relaxed is enough: a thread only needs
/// to see its own arming, which program order gives it; other threads' flags are not
/// theirs to fire.
static ARMED_THREADS: AtomicUsize = AtomicUsize::new(0);

/// Arms a panic for the calling thread's next boundary entry (idempotent).
pub fn arm_panic() {
    if !ARMED.with(|a| a.replace(true)) {
        ARMED_THREADS.fetch_add(1, Ordering::Relaxed);
    }
}

/// Disarms; returns whether a panic was armed.
pub fn disarm_panic() -> bool {
    let was = ARMED.with(|a| a.replace(false));
    if was {
        ARMED_THREADS.fetch_sub(1, Ordering::Relaxed);
    }
    was
}

/// Called inside `catch_unwind` by every public boundary variant: one relaxed load while
/// no thread is armed.
#[inline(always)]
pub(crate) fn fire_if_armed() {
    if ARMED_THREADS.load(Ordering::Relaxed) != 0 {
        fire_if_this_thread_armed();
    }
}

#[cold]
#[inline(never)]
fn fire_if_this_thread_armed() {
    if disarm_panic() {
        std::panic::resume_unwind(Box::new(InjectedPanic));
    }
}

/// Arms a real Rust panic for the next graft-ffi panic-boundary entry on the calling
/// thread (graft-ffi's own status, last-error, version, arming and free functions do
/// not count): that call unwinds before its body runs, the boundary catches it and returns
/// its failure value (`GRAFT_EPANIC`, NULL, false or its default), and the last error
/// reads "panic: injected by graft_ffi_fault_arm_panic". One arm fires once; arming
/// twice before a call is the same as once. Other threads are unaffected. Matches
/// `graft_runtime_options.arm_panic`.
#[no_mangle]
pub extern "C" fn graft_ffi_fault_arm_panic() {
    boundary::internal_unit(|| {
        arm_panic();
        Ok(())
    })
}

/// Disarms a panic armed on the calling thread by `graft_ffi_fault_arm_panic` and not
/// yet fired; returns true when one was armed.
#[no_mangle]
pub extern "C" fn graft_ffi_fault_disarm_panic() -> bool {
    boundary::internal_value(false, || Ok(disarm_panic()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{last_error_status, with_last_error_message};
    use crate::status::Status;

    #[test]
    fn armed_panic_fires_once_before_the_body() {
        arm_panic();
        arm_panic();
        let mut ran = false;
        assert_eq!(
            boundary::status(|| {
                ran = true;
                Ok(())
            }),
            Status::Panic.as_raw()
        );
        assert!(!ran);
        assert_eq!(last_error_status(), Status::Panic);
        with_last_error_message(|m| assert!(m.contains("injected"), "{m}"));
        assert_eq!(boundary::status(|| Ok(())), 0);
        assert!(!disarm_panic());
        arm_panic();
        assert!(disarm_panic());
        assert_eq!(boundary::value(1, || Ok(2)), 2);
    }

    #[test]
    fn another_threads_arming_does_not_fire_here() {
        // The process-wide count lets every thread past the thread-local read while it is
        // not zero; the flag read must still be this thread's own.
        let (armed_tx, armed_rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let t = std::thread::spawn(move || {
            arm_panic();
            armed_tx.send(()).unwrap();
            done_rx.recv().unwrap();
            assert!(disarm_panic(), "still armed: no other thread fired it");
        });
        armed_rx.recv().unwrap();
        assert!(ARMED_THREADS.load(Ordering::Relaxed) >= 1);
        assert_eq!(boundary::status(|| Ok(())), 0, "this thread is not armed");
        done_tx.send(()).unwrap();
        t.join().unwrap();
    }
}
