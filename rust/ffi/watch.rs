//! Watch objects (reference-counted, see [`crate::shared`]) and waits on them.

use crate::caller::Caller;
use crate::ffi_boundary;
use crate::options::Options;
use crate::shared::Shared;
use crate::watch::{NzkWaitStep, Waiter, Watch};

impl super::Fallback for NzkWaitStep {
    fn on_panic() -> Self {
        NzkWaitStep::Panic
    }
}

/// A new watch object, its timeout from the options or the handle's
/// `watch_timeout`. Free it with `nzk_watch_free`.
///
/// # Safety
/// `handle` and `opts` are live.
#[no_mangle]
pub unsafe extern "C" fn nzk_watch_new(handle: *const Caller, opts: *const Options) -> *mut Watch {
    ffi_boundary! {
        let watch_timeout = (&*handle).watch_timeout.load(std::sync::atomic::Ordering::Relaxed);
        Shared::into_raw(Watch::with_options(watch_timeout, &*opts))
    }
}

/// A new reference to the watch object, for the duration of one call: free it with
/// `nzk_watch_free`.
///
/// # Safety
/// `watch` is live.
#[no_mangle]
pub unsafe extern "C" fn nzk_watch_retain(watch: *mut Watch) -> *mut Watch {
    ffi_boundary! { Shared::retain(watch).leak() }
}

/// Drops a reference to a watch object (the last one frees it); NULL is allowed.
///
/// # Safety
/// `watch` is NULL or from `nzk_watch_new` or `nzk_watch_retain`, and is not used
/// afterwards.
#[no_mangle]
pub unsafe extern "C" fn nzk_watch_free(watch: *mut Watch) {
    super::free_shared(watch);
}

/// Starts waiting for the watch's notification, for the `timeout` option or the
/// watch's own timeout. Step it with `nzk_waiter_step`; free it with
/// `nzk_waiter_free`. The waiter does not depend on the watch object staying alive.
///
/// # Safety
/// `watch` and `opts` are live.
#[no_mangle]
pub unsafe extern "C" fn nzk_waiter_new(watch: *const Watch, opts: *const Options) -> *mut Waiter {
    ffi_boundary! {
        Box::into_raw(Box::new(Waiter::with_options(&*watch, &*opts)))
    }
}

/// Waits a short while (at most `WAIT_SLICE`): the notification arrived, the
/// timeout passed, or neither yet (the caller handles signals and steps again).
///
/// # Safety
/// `waiter` is live.
#[no_mangle]
pub unsafe extern "C" fn nzk_waiter_step(waiter: *const Waiter) -> NzkWaitStep {
    ffi_boundary! { (*waiter).step() }
}

/// Makes the waiter wait for the watch's current assignment, if that is not the
/// one it waits for (Perl code run between steps gave the watch to another call,
/// or the caller's variable now names another watch). The deadline stays. Returns
/// `NZK_RESULT_OK`.
///
/// # Safety
/// `waiter` and `watch` are live.
#[no_mangle]
pub unsafe extern "C" fn nzk_waiter_follow(waiter: *mut Waiter, watch: *const Watch) -> i32 {
    ffi_boundary! {
        (*waiter).follow(&*watch);
        0
    }
}

/// Frees a waiter; NULL is allowed.
///
/// # Safety
/// `waiter` is NULL or from `nzk_waiter_new`, and is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn nzk_waiter_free(waiter: *mut Waiter) {
    super::free_box(waiter);
}
