//! Callbacks: asynchronous calls and code-ref watches (see [`crate::dispatch`]). The
//! XS layer registers how tokens are released, and runs the callbacks due, one at a
//! time: `nzk_dispatch_next` gives the next, `nzk_ready_args` its arguments, and
//! `nzk_ready_free` (its one free path) releases it.

use std::ffi::{c_int, c_void};
use std::ptr;

use super::calls::{acl_to_sink, identities_to_sink, NzkAclSink, NzkIdentitySink};
use super::multi::{with_op_result, NzkOpSink};
use super::{bytes, NzkValue, NzkValueKind, Text};
use crate::callback::{self, NzkRelease};
use crate::caller::Caller;
use crate::dispatch::{DispatchWaiter, Ready, Values, What};
use crate::handle::CLOSE_BOUND;
use crate::options::Options;
use crate::persistent::PersistentWatch;
use crate::watch::NzkWaitStep;
use crate::{ffi_boundary, message};

/// Where a callback's arguments go, in order: scalars to `value`, ACL entries,
/// identities and operation results to their sinks.
#[repr(C)]
pub struct NzkArgSinks {
    pub ctx: *mut c_void,
    pub value: extern "C" fn(ctx: *mut c_void, value: *const NzkValue),
    pub acl: NzkAclSink,
    pub identity: NzkIdentitySink,
    pub op_ctx: *mut c_void,
    pub op: NzkOpSink,
    /// `add_watch`'s new watch: the sink owns it (frees it with
    /// `nzk_persistent_free`, through the Perl object it makes).
    pub persistent: extern "C" fn(ctx: *mut c_void, watch: *mut PersistentWatch),
}

impl NzkArgSinks {
    fn push(&self, kind: NzkValueKind, int: i64, uint: u64, data: &[u8]) {
        let value = NzkValue { kind, int, uint, bytes: data.as_ptr(), len: data.len() };
        (self.value)(self.ctx, &raw const value);
    }

    fn int(&self, value: i32) {
        self.push(NzkValueKind::Int, value.into(), 0, &[]);
    }

    fn bytes(&self, data: Option<&[u8]>) {
        match data {
            Some(data) => self.push(NzkValueKind::Bytes, 0, 0, data),
            None => self.push(NzkValueKind::Undef, 0, 0, &[]),
        }
    }
}

/// Registers how the core releases the tokens (code refs) the XS layer hands it.
#[no_mangle]
pub extern "C" fn nzk_callbacks_init(release: NzkRelease) {
    ffi_boundary! { callback::set_release(release) }
}

/// The handle object's wake-up descriptor in `*fd_out`: 0, or the errno when no pipe
/// could be made.
///
/// # Safety
/// `handle` is live; `fd_out` is writable.
#[no_mangle]
pub unsafe extern "C" fn nzk_dispatch_fd(handle: *const Caller, fd_out: *mut c_int) -> i32 {
    ffi_boundary! {
        match (*handle).dispatch().fd() {
            Ok(fd) => {
                *fd_out = fd;
                0
            }
            Err(err) => err.raw_os_error().unwrap_or(libc::EMFILE),
        }
    }
}

/// The next callback due in `*out` (NULL when none is). Free it with
/// `nzk_ready_free` after running it.
///
/// # Safety
/// `handle` is live; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn nzk_dispatch_next(handle: *const Caller, out: *mut *mut Ready) -> i32 {
    *out = ptr::null_mut();
    ffi_boundary! {
        let caller = &*handle;
        // Never in a process that inherited the handle: the queue is the parent's.
        let dispatch = if caller.is_inherited() { None } else { caller.existing_dispatch() };
        if let Some(ready) = dispatch.and_then(|dispatch| dispatch.next()) {
            *out = Box::into_raw(Box::new(ready));
        }
        0
    }
}

/// The code ref of a due callback.
///
/// # Safety
/// `ready` is live.
#[no_mangle]
pub unsafe extern "C" fn nzk_ready_token(ready: *const Ready) -> *mut c_void {
    ffi_boundary! { (*ready).token() }
}

/// Hands a due callback's arguments to `sinks`: a call's result code and its values,
/// or a watch's event, state and path. Called once per callback (a new watch is
/// handed over).
///
/// # Safety
/// `ready` and `sinks` are live.
#[no_mangle]
pub unsafe extern "C" fn nzk_ready_args(ready: *mut Ready, sinks: *const NzkArgSinks) -> i32 {
    ffi_boundary! {
        let sinks = &*sinks;
        match &mut (*ready).what {
            What::Event(event) => {
                sinks.int(event.event);
                sinks.int(event.state);
                sinks.bytes(event.path.as_deref().map(str::as_bytes));
            }
            What::Call { outcome, .. } => {
                sinks.int(outcome.code);
                match &mut outcome.values {
                    Values::None => {}
                    Values::Bytes(data) => sinks.bytes(data.as_deref()),
                    Values::Names(names) => names.iter().for_each(|name| sinks.bytes(Some(name))),
                    Values::Acl(entries) => acl_to_sink(entries, sinks.ctx, sinks.acl),
                    Values::Identities(users) => identities_to_sink(users, sinks.ctx, sinks.identity),
                    Values::Count(count) => sinks.push(NzkValueKind::Uint, 0, *count, &[]),
                    Values::Ops(replies) => {
                        for (name, reply) in replies.iter() {
                            with_op_result(name, reply, |result| (sinks.op)(sinks.op_ctx, result));
                        }
                    }
                    values @ Values::Persistent(_) => {
                        if let Values::Persistent(watch) = std::mem::replace(values, Values::None) {
                            (sinks.persistent)(sinks.ctx, Box::into_raw(watch));
                        }
                    }
                }
            }
        }
        0
    }
}

/// The `warn` message for a callback that died with `error`.
///
/// # Safety
/// `ready` is live; `error` points to `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn nzk_ready_died(ready: *const Ready, error: *const u8, len: usize) -> Text {
    ffi_boundary! { Text(message::set((*ready).died(&String::from_utf8_lossy(bytes(error, len))))) }
}

/// Frees a due callback (after it ran), releasing its code ref unless a persistent
/// watch still holds it; NULL is allowed.
///
/// # Safety
/// `ready` is NULL or from `nzk_dispatch_next`, and is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn nzk_ready_free(ready: *mut Ready) {
    super::free_box(ready);
}

/// A wait for a callback to be due, for `dispatch(timeout => ms)` (no timeout: none).
/// Free it with `nzk_dispatch_waiter_free`.
///
/// # Safety
/// `handle` and `opts` are live.
#[no_mangle]
pub unsafe extern "C" fn nzk_dispatch_waiter_new(handle: *const Caller, opts: *const Options) -> *mut DispatchWaiter {
    ffi_boundary! {
        let dispatch = (*handle).dispatch().clone();
        Box::into_raw(Box::new(DispatchWaiter::new(dispatch, (*opts).timeout_or(0))))
    }
}

/// Waits one slice (at most 50 ms) for a callback to be due.
///
/// # Safety
/// `waiter` is live.
#[no_mangle]
pub unsafe extern "C" fn nzk_dispatch_waiter_step(waiter: *const DispatchWaiter) -> NzkWaitStep {
    ffi_boundary! { (*waiter).step() }
}

/// Frees a dispatch wait; NULL is allowed.
///
/// # Safety
/// `waiter` is NULL or from `nzk_dispatch_waiter_new`, and is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn nzk_dispatch_waiter_free(waiter: *mut DispatchWaiter) {
    super::free_box(waiter);
}

/// Calls whose callback has not run, and watch events due, in `*count_out`.
///
/// # Safety
/// `handle` is live; `count_out` is writable.
#[no_mangle]
pub unsafe extern "C" fn nzk_dispatch_pending(handle: *const Caller, count_out: *mut usize) -> i32 {
    ffi_boundary! {
        *count_out = (*handle).existing_dispatch().map_or(0, |dispatch| dispatch.pending());
        0
    }
}

/// The handle object goes: its calls in flight get a moment to complete, then
/// ZCLOSING; their callbacks are due. Nothing in a process that inherited it.
///
/// # Safety
/// `handle` is live.
#[no_mangle]
pub unsafe extern "C" fn nzk_dispatch_close(handle: *const Caller) -> i32 {
    ffi_boundary! {
        let caller = &*handle;
        if !caller.is_inherited() {
            if let Some(dispatch) = caller.existing_dispatch() {
                dispatch.close(CLOSE_BOUND);
            }
        }
        0
    }
}

/// The names of the calls that take a `callback` option, one `sink` call each.
#[no_mangle]
pub extern "C" fn nzk_async_calls(ctx: *mut c_void, sink: super::NzkBytesSink) -> i32 {
    ffi_boundary! {
        for (name, _) in crate::calls::ASYNC_CALLS {
            sink(ctx, name.as_ptr(), name.len());
        }
        0
    }
}
