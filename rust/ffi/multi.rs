//! `multi()` and `multi_read()`. The XS layer makes the call's batch with
//! `nzk_multi_new` and schedules `nzk_multi_free`, its one free path, before it
//! converts anything. For each operation it asks `nzk_multi_op` what the name means,
//! reads the options with the options builder of that operation's method, and hands
//! path, data and options over with `nzk_multi_add`; `nzk_multi_run` then sends the
//! batch and gives each operation's result to a sink.

use std::ffi::{c_char, c_void};
use std::ptr;

use super::SUBMITTED;
use super::{bytes, NzkBytes};
use crate::caller::{Caller, Made};
use crate::calls::Request;
use crate::ffi_boundary;
use crate::message;
use crate::multi::{Batch, Multi, NzkMultiKind, Op, Reply};
use crate::options::{NzkMethod, Options};
use crate::shared::Shared;
use crate::stat::Stat;

/// What an operation's name means: the method of its options, and how many fixed
/// arguments (path, data) follow the name.
#[repr(C)]
pub struct NzkOpSpec {
    pub method: NzkMethod,
    pub args: usize,
}

/// The value a successful operation gives besides its stat.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NzkOpValue {
    None,
    /// create's `path`, in `bytes`.
    Path,
    /// get's `data`, in `bytes`.
    Data,
    /// `get_children`'s `children`, in `children`.
    Children,
}

/// The result of one operation, valid during the sink call.
#[repr(C)]
pub struct NzkOpResult {
    /// The operation's name (`type`).
    pub op: NzkBytes,
    /// ZOK, or the code the operation failed with (`error`); the fields below are
    /// set for ZOK only.
    pub code: i32,
    pub value: NzkOpValue,
    pub bytes: NzkBytes,
    pub children: *const NzkBytes,
    pub count: usize,
    /// set's and get's new stat object, NULL for the others: the sink owns it from
    /// then on and frees it with `nzk_stat_free` (through the Perl object it makes).
    pub stat: *mut Stat,
}

/// Receives the result of each operation, in order.
pub type NzkOpSink = extern "C" fn(ctx: *mut c_void, result: *const NzkOpResult);

/// A new, empty batch for `multi()` or `multi_read()`. Free it with `nzk_multi_free`.
#[no_mangle]
pub extern "C" fn nzk_multi_new(kind: NzkMultiKind) -> *mut Multi {
    ffi_boundary! { Box::into_raw(Box::new(Multi::new(kind))) }
}

/// Frees a batch and all its operations hold; NULL is allowed.
///
/// # Safety
/// `multi` is NULL or from `nzk_multi_new`, and is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn nzk_multi_free(multi: *mut Multi) {
    super::free_box(multi);
}

/// What the operation named `name` is to the batch, in `*spec`; the croak message if
/// the element is not an operation (`is_op` false: not an array reference with a
/// name) or the batch's call does not take this one, else NULL.
///
/// # Safety
/// `multi` is live; `name` points to `len` bytes; `spec` is writable.
#[no_mangle]
pub unsafe extern "C" fn nzk_multi_op(
    multi: *const Multi,
    is_op: bool,
    name: *const u8,
    len: usize,
    spec: *mut NzkOpSpec,
) -> *const c_char {
    ffi_boundary! {
        if !is_op {
            return message::set(message::INVALID_OPERATION);
        }
        match (*multi).operation(bytes(name, len)) {
            Ok((method, args)) => {
                *spec = NzkOpSpec { method, args };
                ptr::null()
            }
            Err(text) => message::set(text),
        }
    }
}

/// Adds an operation of the options' method: path and data are copied, and the
/// options' values taken (they are left with their defaults, still to be freed by
/// `nzk_options_free`). Returns the croak message for options of another call's
/// operation, else NULL.
///
/// # Safety
/// `multi` and `opts` are live; `path` and `data` point to their lengths in bytes.
#[no_mangle]
pub unsafe extern "C" fn nzk_multi_add(
    multi: *mut Multi,
    opts: *mut Options,
    path: *const u8,
    path_len: usize,
    data: *const u8,
    data_len: usize,
) -> *const c_char {
    ffi_boundary! {
        let opts = std::mem::replace(&mut *opts, Options::new((*opts).method));
        super::ok_or_message((*multi).push(bytes(path, path_len), bytes(data, data_len), opts))
    }
}

/// Sends the batch; `sink` gets one result per operation, in order. Returns the call's
/// result (also recorded for `get_error`): ZOK, or the code of the first failure (in
/// a transaction, the failing operation's); with the options' callback,
/// `NZK_RESULT_SUBMITTED` (the operations move into the call).
///
/// # Safety
/// `handle`, `multi` and `opts` are live.
#[no_mangle]
pub unsafe extern "C" fn nzk_multi_run(
    handle: *const Caller,
    multi: *mut Multi,
    opts: *const Options,
    ctx: *mut c_void,
    sink: NzkOpSink,
) -> i32 {
    ffi_boundary! {
        let batch = (*multi).take();
        let names: Vec<&'static str> = batch.ops().iter().map(Op::name).collect();
        let made = (*handle).make(&*opts, &[], |h, _| Ok(batch.into_request(h.clone())));
        let (code, replies) = match made {
            Made::Submitted => return SUBMITTED,
            Made::Done(Ok(replies)) => (Batch::code(&replies), replies),
            Made::Done(Err(code)) => (code, names.into_iter().map(|name| (name, Reply::Failed(code))).collect()),
        };
        for (name, reply) in &replies {
            with_op_result(name, reply, |result| sink(ctx, result));
        }
        code
    }
}

/// An operation's result as C sees it, for `f`.
pub(crate) fn with_op_result(name: &str, reply: &Reply, f: impl FnOnce(*const NzkOpResult)) {
    let mut result = NzkOpResult {
        op: NzkBytes { data: name.as_ptr(), len: name.len() },
        code: reply.code(),
        value: NzkOpValue::None,
        bytes: NzkBytes { data: ptr::null(), len: 0 },
        children: ptr::null(),
        count: 0,
        stat: ptr::null_mut(),
    };
    let children: Vec<NzkBytes>;
    match reply {
        Reply::Created(path) => (result.value, result.bytes) = (NzkOpValue::Path, as_bytes(path)),
        Reply::Data(data, stat) => {
            let data = data.as_deref().map_or(NzkBytes { data: ptr::null(), len: 0 }, as_bytes);
            (result.value, result.bytes) = (NzkOpValue::Data, data);
            result.stat = Shared::into_raw(*stat);
        }
        Reply::Set(stat) => result.stat = Shared::into_raw(*stat),
        Reply::Children(names) => {
            children = names.iter().map(|name| as_bytes(name.as_bytes())).collect();
            (result.value, result.children, result.count) = (NzkOpValue::Children, children.as_ptr(), children.len());
        }
        Reply::Deleted | Reply::Checked | Reply::Failed(_) => {}
    }
    f(&raw const result);
}

fn as_bytes(data: &[u8]) -> NzkBytes {
    NzkBytes { data: data.as_ptr(), len: data.len() }
}
