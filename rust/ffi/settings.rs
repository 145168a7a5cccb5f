//! Process-wide settings and the texts of result codes.

use std::ffi::c_char;

use super::{ok_or_message, Text};
use crate::{error, ffi_boundary, settings};

/// Sets the log level; returns the croak message for a bad level.
#[no_mangle]
#[allow(clippy::cast_possible_truncation, reason = "the XS layer passes a C int already ((int) SvIV, as the original)")]
pub extern "C" fn nzk_set_log_level(level: i64) -> *const c_char {
    ffi_boundary! { ok_or_message(settings::set_log_level(level as i32)) }
}

/// The C client's text for a result code ("unknown error" for any other number): a
/// static NUL-terminated string.
#[no_mangle]
pub extern "C" fn nzk_zerror(code: i64) -> Text {
    ffi_boundary! { Text(error::zerror(code).as_ptr()) }
}

/// Whether later handles try their hosts in the given order (true) or shuffled.
/// Returns `NZK_RESULT_OK`.
#[no_mangle]
pub extern "C" fn nzk_set_deterministic_conn_order(flag: bool) -> i32 {
    ffi_boundary! {
        settings::set_deterministic_conn_order(flag);
        0
    }
}
