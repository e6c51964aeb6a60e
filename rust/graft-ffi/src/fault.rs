//! Fault injection of real panics: `graft_ffi_fault_arm_panic` arms the calling thread
//! so that its next panic-boundary entry unwinds before the body runs. libgraft's fault
//! injection reaches it through `graft_runtime_options.arm_panic`.
//!
//! Unarmed, the check in every boundary entry is one thread-local load.

use std::cell::Cell;

use crate::boundary;

/// Payload of an injected panic. Raised with `resume_unwind`, so the process's panic
/// hook stays quiet (an injected fault is expected, not a bug).
pub(crate) struct InjectedPanic;

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
}

/// Arms a panic for the calling thread's next boundary entry (idempotent).
pub fn arm_panic() {
    ARMED.with(|a| a.set(true));
}

/// Disarms; returns whether a panic was armed.
pub fn disarm_panic() -> bool {
    ARMED.with(|a| a.replace(false))
}

/// Called inside `catch_unwind` by every public boundary variant.
#[inline(always)]
pub(crate) fn fire_if_armed() {
    if ARMED.with(|a| a.get()) {
        fire();
    }
}

#[cold]
#[inline(never)]
fn fire() {
    ARMED.with(|a| a.set(false));
    std::panic::resume_unwind(Box::new(InjectedPanic));
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
}
