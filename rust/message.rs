//! Every text the core gives Perl to `croak` or `warn` with, written in one place.
//!
//! A message is kept in a thread-local buffer and handed to C as a NUL-terminated
//! string, valid until the next message of the same thread.

use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};

use crate::attrs::{self, NzkClass};

thread_local! {
    static LAST: RefCell<CString> = RefCell::new(CString::default());
}

/// Stores `text` as this thread's message and returns it for C. NUL bytes in `text`
/// are dropped.
///
/// # Panics
/// Not for any `text`: its NUL bytes are removed before the `CString` is made.
pub fn set(text: impl Into<Vec<u8>>) -> *const c_char {
    let mut bytes: Vec<u8> = text.into();
    bytes.retain(|&b| b != 0);
    let text = CString::new(bytes).expect("NULs were removed");
    LAST.with(|last| {
        *last.borrow_mut() = text;
        last.borrow().as_ptr()
    })
}

/// What a panic inside the core reaches Perl as. Static, so that reporting a panic
/// cannot fail in turn.
pub const PANIC: &CStr = c"internal error in the Net::ZooKeeper core";

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
/// xsubpp's wording for an argument that must be an array reference.
pub const ACL_ARR_NOT_ARRAY: &str = "Net::ZooKeeper::set_acl: acl_arr is not an ARRAY reference";
pub const NOT_CLUSTER_CONNECTION: &str = "zk is not a Net::ZooKeeper::Cluster::Connection";
/// An element of `multi()` or `multi_read()` that is not an operation (an array
/// reference that starts with the operation's name).
pub const INVALID_OPERATION: &str = "invalid transaction operation";
pub const NOT_PERSISTENT_WATCH: &str = "pw is not a Net::ZooKeeper::PersistentWatch";
/// The `callback` option's value is not a code ref (xsubpp's wording for one).
pub const CALLBACK_NOT_CODE: &str = "callback is not a CODE reference";
/// `add_watch`'s `watch` option takes a code ref only.
pub const WATCH_NOT_CODE: &str = "watch is not a CODE reference";

/// What `warn` says when a callback died: `Net::ZooKeeper: callback of <call> <path>
/// died: <error>` (`watch` for a code-ref watch).
pub fn callback_died(call: &str, path: Option<&str>, error: &str) -> String {
    match path {
        Some(path) => format!("Net::ZooKeeper: callback of {call} {path} died: {error}"),
        None => format!("Net::ZooKeeper: callback of {call} died: {error}"),
    }
}

/// `invalid <what>: <value>`, the original's message for an out-of-range number.
pub fn invalid(what: &str, value: impl std::fmt::Display) -> String {
    format!("invalid {what}: {value}")
}

/// `invalid transaction operation: <name>`, with the name exactly as the caller wrote it.
pub fn invalid_operation(name: &[u8]) -> Vec<u8> {
    let mut text = format!("{INVALID_OPERATION}: ").into_bytes();
    text.extend_from_slice(name);
    text
}

pub fn inherited_handle(pid: u32) -> String {
    inherited("Net::ZooKeeper handle", pid)
}

pub fn inherited_persistent_watch(pid: u32) -> String {
    inherited("Net::ZooKeeper::PersistentWatch", pid)
}

fn inherited(what: &str, pid: u32) -> String {
    format!("{what} cannot be used after fork: it belongs to process {pid}")
}

/// `<var> is not a hash reference of type <class>`.
pub fn not_object(var: &[u8], class: NzkClass) -> Vec<u8> {
    let mut text = var.to_vec();
    text.extend_from_slice(b" is not a hash reference of type ");
    text.extend_from_slice(attrs::class_name(class).to_bytes());
    text
}

/// `invalid element: <key>` (unknown key) or `read-only element: <key>`, with the key
/// exactly as the caller wrote it.
pub fn element(read_only: bool, key: &[u8]) -> Vec<u8> {
    let mut text = if read_only { b"read-only element: ".to_vec() } else { b"invalid element: ".to_vec() };
    text.extend_from_slice(key);
    text
}

/// The tie operations the classes refuse.
pub fn unsupported(what: &str, class: NzkClass) -> String {
    format!("{what} of class {} not supported", attrs::class_name(class).to_string_lossy())
}
