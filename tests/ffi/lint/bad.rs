// Fixtures for tools/lint.d/ffi-boundary.sh: every definition here breaks a rule.
use core::ffi::c_int;

#[no_mangle]
pub extern "C" fn no_boundary(a: i32) -> i32 {
    a + 1
}

#[no_mangle]
pub unsafe extern "C" fn work_before_boundary(a: c_int) -> c_int {
    let b = a * 2;
    graft_ffi::boundary::status(|| Ok(()))
}

#[no_mangle]
pub extern "C" fn work_after_boundary() -> c_int {
    let s = boundary::status(|| Ok(()));
    s
}

#[no_mangle]
pub extern "C" fn not_the_boundary() -> c_int {
    other::status(|| Ok(()))
}

#[no_mangle]
pub extern fn implicit_c_abi() {}

#[no_mangle]
pub extern "C-unwind" fn unwinds() {}

// ffi-boundary: exempt only the testkit may use this
#[no_mangle]
pub extern "C" fn exempt_outside_testkit() {}
