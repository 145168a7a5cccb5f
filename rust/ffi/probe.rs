//! A panic on purpose, for `t/04_panic.t`: it shows that each kind of export result
//! turns a panic into the croak "internal error in the `Net::ZooKeeper` core" and that
//! the process goes on working. Reached only through the undocumented
//! `Net::ZooKeeper::_panic_probe`.

use std::ffi::{c_char, c_void};

use super::Text;
use crate::ffi_boundary;
use crate::options::NzkOption;

fn panic_now() -> ! {
    panic!("Net::ZooKeeper panic probe")
}

/// Panics inside the boundary of a result code.
#[no_mangle]
pub extern "C" fn nzk_probe_code() -> i32 {
    ffi_boundary! { panic_now() }
}

/// Panics inside the boundary of a croak message.
#[no_mangle]
pub extern "C" fn nzk_probe_message() -> *const c_char {
    ffi_boundary! { panic_now() }
}

/// Panics inside the boundary of a text.
#[no_mangle]
pub extern "C" fn nzk_probe_text() -> Text {
    ffi_boundary! { panic_now() }
}

/// Panics inside the boundary of a new object.
#[no_mangle]
pub extern "C" fn nzk_probe_object() -> *mut c_void {
    ffi_boundary! { panic_now() }
}

/// Panics inside the boundary of an option lookup.
#[no_mangle]
pub extern "C" fn nzk_probe_option() -> NzkOption {
    ffi_boundary! { panic_now() }
}
