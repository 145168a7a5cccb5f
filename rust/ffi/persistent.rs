//! Persistent watches (boxed: the Perl object is their one owner), their waits
//! (boxed), and the removal of watches. Calls record their result for the handle's
//! `get_error`.

use std::ffi::{c_char, c_void};
use std::ptr;
use std::sync::Arc;

use super::{bytes, code_of, NzkBytesSink, SUBMITTED};
use crate::caller::{Caller, Made};
use crate::options::Options;
use crate::persistent::{EventWaiter, PersistentWatch};
use crate::watch::NzkWaitStep;
use crate::{ffi_boundary, message};

/// An event of a persistent watch. `path` is NULL for a session event; else it points
/// to `path_len` bytes, valid until the waiter's next step or its free.
#[repr(C)]
pub struct NzkEvent {
    pub event: i32,
    pub state: i32,
    pub path: *const u8,
    pub path_len: usize,
}

/// Sets a persistent watch (ZooKeeper 3.6 and later) on `path`, in `*out`:
/// `NZK_RESULT_OK`, or the ZooKeeper code the call failed with (`*out` NULL). Free
/// the watch with `nzk_persistent_free`.
///
/// # Safety
/// `handle` is live (from `nzk_handle_new` or `nzk_lease_handle`); `path` points to
/// `path_len` bytes; `opts` is live; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn nzk_add_watch(
    handle: *const Caller,
    path: *const u8,
    path_len: usize,
    opts: *const Options,
    out: *mut *mut PersistentWatch,
) -> i32 {
    *out = ptr::null_mut();
    ffi_boundary! {
        // A reference of our own, so that the watch can keep a weak one.
        Arc::increment_strong_count(handle);
        let caller = Arc::from_raw(handle);
        let (path, opts) = (bytes(path, path_len), &*opts);
        match caller.make(opts, path, |h, _| PersistentWatch::request(&caller, h, path, opts)) {
            Made::Submitted => SUBMITTED,
            Made::Done(made) => {
                let code = code_of(&made);
                if let Ok(watch) = made {
                    *out = Box::into_raw(Box::new(watch));
                }
                code
            }
        }
    }
}

/// Frees a persistent watch, which removes it without waiting for the server (in a
/// process that inherited it through fork, leaves it alone); NULL is allowed.
///
/// # Safety
/// `watch` is NULL or from `nzk_add_watch`, and is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn nzk_persistent_free(watch: *mut PersistentWatch) {
    super::free_box(watch);
}

/// The message for a persistent watch that cannot be used: NULL if it can.
///
/// # Safety
/// `watch` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nzk_persistent_begin(watch: *const PersistentWatch) -> *const c_char {
    ffi_boundary! {
        match watch.as_ref() {
            None => message::set(message::INVALID_HANDLE),
            Some(w) if w.is_inherited() => message::set(message::inherited_persistent_watch(w.pid())),
            Some(_) => ptr::null(),
        }
    }
}

/// The number of events queued in `*pending` and of events dropped in `*dropped`;
/// returns `NZK_RESULT_OK`.
///
/// # Safety
/// `watch` is live; `pending` and `dropped` are writable.
#[no_mangle]
pub unsafe extern "C" fn nzk_persistent_counts(
    watch: *const PersistentWatch,
    pending: *mut u64,
    dropped: *mut u64,
) -> i32 {
    ffi_boundary! {
        let (queued, lost) = (*watch).counts();
        *pending = queued as u64;
        *dropped = lost;
        0
    }
}

/// The path watched, to `sink`; returns `NZK_RESULT_OK`.
///
/// # Safety
/// `watch` is live.
#[no_mangle]
pub unsafe extern "C" fn nzk_persistent_path(
    watch: *const PersistentWatch,
    ctx: *mut c_void,
    sink: NzkBytesSink,
) -> i32 {
    ffi_boundary! {
        let path = (*watch).path();
        sink(ctx, path.as_ptr(), path.len());
        0
    }
}

/// The watch's mode (`ZOO_WATCH_PERSISTENT` or `ZOO_WATCH_PERSISTENT_RECURSIVE`).
///
/// # Safety
/// `watch` is live.
#[no_mangle]
pub unsafe extern "C" fn nzk_persistent_mode(watch: *const PersistentWatch) -> i32 {
    ffi_boundary! { (*watch).mode() }
}

/// Removes the watch from the server; its queue then ends with a
/// `ZOO_NOTWATCHING_EVENT`.
///
/// # Safety
/// `watch` is live.
#[no_mangle]
pub unsafe extern "C" fn nzk_persistent_remove(watch: *const PersistentWatch) -> i32 {
    ffi_boundary! { code_of(&(*watch).remove()) }
}

/// Starts waiting for the watch's next event, for the `timeout` option or the
/// watch's own timeout. Step it with `nzk_event_waiter_step`; free it with
/// `nzk_event_waiter_free`. The waiter does not depend on the watch object staying
/// alive.
///
/// # Safety
/// `watch` and `opts` are live.
#[no_mangle]
pub unsafe extern "C" fn nzk_event_waiter_new(watch: *const PersistentWatch, opts: *const Options) -> *mut EventWaiter {
    ffi_boundary! { Box::into_raw(Box::new((*watch).waiter(&*opts))) }
}

/// Waits a short while (at most `WAIT_SLICE`): an event was taken from the queue
/// (`Fired`, the event in `*out`), the timeout passed or the watch ended
/// (`TimedOut`), or neither yet (the caller handles signals and steps again).
///
/// # Safety
/// `waiter` is live; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn nzk_event_waiter_step(waiter: *mut EventWaiter, out: *mut NzkEvent) -> NzkWaitStep {
    ffi_boundary! {
        let step = (*waiter).step();
        if let (NzkWaitStep::Fired, Some(event)) = (step, (*waiter).event()) {
            let (path, path_len) = event.path.as_ref().map_or((ptr::null(), 0), |p| (p.as_ptr(), p.len()));
            *out = NzkEvent { event: event.event, state: event.state, path, path_len };
        }
        step
    }
}

/// Frees a waiter; NULL is allowed.
///
/// # Safety
/// `waiter` is NULL or from `nzk_event_waiter_new`, and is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn nzk_event_waiter_free(waiter: *mut EventWaiter) {
    super::free_box(waiter);
}

/// Removes watches of this handle on `path` (ZooKeeper 3.5 and later): for
/// `remove_watches` the options' `watch` (which then shows `ZOO_NOTWATCHING_EVENT`),
/// for `remove_all_watches` every watch of the options' `type`.
///
/// # Safety
/// Pointers are live and lengths right.
#[no_mangle]
pub unsafe extern "C" fn nzk_remove_watches(
    handle: *const Caller,
    path: *const u8,
    path_len: usize,
    opts: *const Options,
) -> i32 {
    ffi_boundary! {
        let (opts, path) = (&*opts, bytes(path, path_len));
        match (*handle).make(opts, path, |h, _| h.remove_request(path, opts)) {
            Made::Submitted => SUBMITTED,
            Made::Done(removed) => code_of(&removed),
        }
    }
}
