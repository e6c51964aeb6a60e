// Fixtures for tools/lint.d/ffi-boundary.sh: every definition here follows the rules.
use core::ffi::{c_char, c_int};

type Callback = Option<unsafe extern "C" fn(x: c_int) -> c_int>;

extern "C" {
    fn strlen(s: *const c_char) -> usize;
}

/// Braces in strings and chars do not confuse the parser: "}" '{'
#[no_mangle]
pub unsafe extern "C" fn good_status(cb: Callback) -> c_int {
    graft_ffi::boundary::status(|| {
        let _brace = "}{";
        let _c = '}';
        let _l: &'static str = "x";
        Ok(())
    })
}

#[no_mangle]
pub extern "C" fn good_value() -> u64 {
    boundary::value::<u64, _>(0, || Ok(1));
}

#[no_mangle]
pub extern "C" fn good_pointer() -> *mut u8 {
    boundary::pointer(|| Ok(core::ptr::null_mut()))
}
