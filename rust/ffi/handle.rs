//! Handles: what a `Net::ZooKeeper` object points to (a [`Caller`]: a share of a
//! session and its own last result).

use std::ffi::{c_char, c_int};
use std::ptr;
use std::sync::Arc;

use super::bytes;
use crate::caller::Caller;
use crate::handle::Handle;
use crate::options::Options;
use crate::{ffi_boundary, message};

/// A new handle, connecting in the background, in `*out`: `NZK_RESULT_OK`, or the
/// errno to report for a bad host list (`*out` NULL). Free it with `nzk_handle_free`.
///
/// # Safety
/// `hosts` points to `len` bytes; `opts` is live; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn nzk_handle_new(
    hosts: *const u8,
    len: usize,
    opts: *const Options,
    out: *mut *mut Caller,
) -> i32 {
    *out = ptr::null_mut();
    ffi_boundary! {
        match Handle::new(bytes(hosts, len), &*opts) {
            // Reference-counted: shared cluster connections hand out more references
            // (see nzk_lease_handle), and each call holds one (nzk_handle_retain).
            Ok(handle) => {
                *out = Arc::into_raw(Arc::new(Caller::new(Arc::new(handle)))).cast_mut();
                0
            }
            Err(errno) => errno,
        }
    }
}

/// Drops a reference to the handle. The last reference closes its session
/// (waiting, bounded, for the server) and frees it; in a process that inherited the
/// handle through fork, the session is left alone. NULL is allowed.
///
/// # Safety
/// `handle` is NULL or from `nzk_handle_new`, `nzk_handle_retain` or
/// `nzk_lease_handle`, and is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn nzk_handle_free(handle: *mut Caller) {
    super::free_arc(handle);
}

/// A new reference to the handle, for the duration of one call: free it with
/// `nzk_handle_free` (which then does not close anything while other references live).
///
/// # Safety
/// `handle` is live.
#[no_mangle]
pub unsafe extern "C" fn nzk_handle_retain(handle: *const Caller) -> *mut Caller {
    ffi_boundary! {
        Arc::increment_strong_count(handle);
        handle.cast_mut()
    }
}

/// The message for a handle that cannot be used: NULL if it can. With `reset_error`
/// it starts a call: the saved error is reset, as the original did before it checked
/// options.
///
/// # Safety
/// `handle` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nzk_handle_begin(handle: *const Caller, reset_error: bool) -> *const c_char {
    ffi_boundary! {
        match handle.as_ref() {
            None => message::set(message::INVALID_HANDLE),
            Some(h) if h.is_inherited() => message::set(message::inherited_handle(h.pid())),
            Some(h) => {
                if reset_error {
                    h.record(0);
                }
                ptr::null()
            }
        }
    }
}

/// The result code of the handle's last call, and its errno in `*errno_out`.
///
/// # Safety
/// `handle` is live; `errno_out` is writable.
#[no_mangle]
pub unsafe extern "C" fn nzk_handle_get_error(handle: *const Caller, errno_out: *mut c_int) -> i32 {
    ffi_boundary! {
        let (code, errno) = (*handle).last_error();
        *errno_out = errno;
        code
    }
}
