//! Messages for Perl's `croak` and `warn`, all written in one place.
//!
//! A message is kept in a thread-local buffer and handed to C as a NUL-terminated
//! string, valid until the next message of the same thread.

use std::cell::RefCell;
use std::ffi::{c_char, CString};

thread_local! {
    static LAST: RefCell<CString> = RefCell::new(CString::default());
}

/// Stores `text` as this thread's message and returns it for C.
pub fn set(text: impl Into<Vec<u8>>) -> *const c_char {
    let mut bytes: Vec<u8> = text.into();
    bytes.retain(|&b| b != 0);
    let text = CString::new(bytes).expect("NULs were removed");
    LAST.with(|last| {
        *last.borrow_mut() = text;
        last.borrow().as_ptr()
    })
}

/// `<what> <key>` with the key exactly as the caller wrote it.
pub fn with_key(what: &str, key: &[u8]) -> *const c_char {
    let mut text = what.as_bytes().to_vec();
    text.extend_from_slice(key);
    set(text)
}

pub const INVALID_HANDLE: &str = "invalid handle";
pub const INVALID_ARG_COUNT: &str = "invalid number of arguments";
pub const INVALID_STAT: &str = "invalid stat handle";
pub const INVALID_WATCH: &str = "invalid watch handle";
pub const INVALID_SESSION_ID: &str = "invalid session ID";
pub const SASL_NOT_HASH: &str = "sasl_options requires a hash reference";
pub const INVALID_ACL_ARRAY: &str = "invalid ACL array reference";
pub const INVALID_ACL_ENTRY: &str = "invalid ACL entry hash reference";
pub const NO_ACL_PERMS: &str = "no ACL entry perms element";
pub const INVALID_ACL_PERMS: &str = "invalid ACL entry perms";
pub const NO_ACL_SCHEME: &str = "no ACL entry scheme element";
pub const NO_ACL_ID: &str = "no ACL entry id element";
