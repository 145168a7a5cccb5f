//! The node calls of a handle. Each returns its result code (also recorded for the
//! handle's `get_error`) and hands values to a sink the XS layer passes.

use std::ffi::c_void;
use std::ptr;

use super::{bytes, code_of, hand_over, NzkBytes, NzkBytesSink, NzkOwnedBytesSink, SUBMITTED};
use crate::acl;
use crate::caller::{Caller, Made};
use crate::ffi_boundary;
use crate::handle::Handle;
use crate::names::Names;
use crate::options::Options;

/// A call's result code: ZOK or its failure, or `NZK_RESULT_SUBMITTED` when it was
/// made with a callback (and `reply` is not called).
fn reply_code<T>(made: Made<T>, reply: impl FnOnce(T)) -> i32 {
    match made {
        Made::Submitted => SUBMITTED,
        Made::Done(result) => {
            let code = code_of(&result);
            if let Ok(value) = result {
                reply(value);
            }
            code
        }
    }
}

/// A listing's result code, its names to `sink`.
fn names_code(made: Made<Names>, ctx: *mut c_void, sink: NzkBytesSink) -> i32 {
    reply_code(made, |names| {
        for name in &names {
            sink(ctx, name.as_ptr(), name.len());
        }
    })
}

/// Receives one ACL entry of `get_acl`.
pub type NzkAclSink =
    extern "C" fn(ctx: *mut c_void, perms: i32, scheme: *const u8, scheme_len: usize, id: *const u8, id_len: usize);

/// Receives one result of `nzk_get_many`: the code, and the data when it is ZOK
/// (a null `data` for a node whose data is null).
pub type NzkResultSink = extern "C" fn(ctx: *mut c_void, code: i32, data: *const u8, len: usize);

/// Creates a node; the created path (truncated to the path read length) goes to
/// `sink`.
///
/// # Safety
/// Pointers are live and lengths right.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn nzk_create(
    handle: *const Caller,
    path: *const u8,
    path_len: usize,
    data: *const u8,
    data_len: usize,
    opts: *const Options,
    ctx: *mut c_void,
    sink: NzkBytesSink,
) -> i32 {
    ffi_boundary! {
        let (path, opts) = (bytes(path, path_len), &*opts);
        let made = (*handle).make(opts, path, |h, _| h.create_request(path, bytes(data, data_len), opts));
        reply_code(made, |(created, _)| sink(ctx, created.as_ptr(), created.len()))
    }
}

/// Deletes a node.
///
/// # Safety
/// Pointers are live and lengths right.
#[no_mangle]
pub unsafe extern "C" fn nzk_delete(
    handle: *const Caller,
    path: *const u8,
    path_len: usize,
    opts: *const Options,
) -> i32 {
    ffi_boundary! {
        let (path, opts) = (bytes(path, path_len), &*opts);
        reply_code((*handle).make(opts, path, |_, _| Handle::delete_request(path, opts)), |()| ())
    }
}

/// Tests whether a node exists (ZOK) or not (ZNONODE); fills the stat option.
///
/// # Safety
/// Pointers are live and lengths right.
#[no_mangle]
pub unsafe extern "C" fn nzk_exists(
    handle: *const Caller,
    path: *const u8,
    path_len: usize,
    opts: *const Options,
) -> i32 {
    ffi_boundary! {
        let (path, opts) = (bytes(path, path_len), &*opts);
        reply_code((*handle).make(opts, path, |_, arming| Handle::exists_request(path, arming)), |_| ())
    }
}

/// Reads a node's data (truncated to the data read length) and hands its buffer
/// over to `sink` (see [`NzkOwnedBytesSink`]); null data (as opposed to empty) gives
/// ZOK without a `sink` call.
///
/// # Safety
/// Pointers are live and lengths right.
#[no_mangle]
pub unsafe extern "C" fn nzk_get(
    handle: *const Caller,
    path: *const u8,
    path_len: usize,
    opts: *const Options,
    ctx: *mut c_void,
    sink: NzkOwnedBytesSink,
) -> i32 {
    ffi_boundary! {
        let (path, opts) = (bytes(path, path_len), &*opts);
        let made = (*handle).make(opts, path, |h, arming| h.get_request(path, opts, arming));
        reply_code(made, |(data, _)| {
            if let Some(data) = data {
                hand_over(data, ctx, sink);
            }
        })
    }
}

/// Reads `count` nodes, sending every request before awaiting any reply; `sink`
/// gets one result per path, in order. Returns the first failure's code, or ZOK.
///
/// # Safety
/// `paths` points to `count` live byte strings.
#[no_mangle]
pub unsafe extern "C" fn nzk_get_many(
    handle: *const Caller,
    paths: *const NzkBytes,
    count: usize,
    ctx: *mut c_void,
    sink: NzkResultSink,
) -> i32 {
    ffi_boundary! {
        let paths = if paths.is_null() { &[] } else { std::slice::from_raw_parts(paths, count) };
        let paths: Vec<&[u8]> = paths.iter().map(|p| bytes(p.data, p.len)).collect();
        let results = (*handle).get_many(&paths);
        for result in &results {
            match result {
                Ok(Some(data)) => sink(ctx, 0, data.as_ptr(), data.len()),
                Ok(None) => sink(ctx, 0, ptr::null(), 0),
                Err(code) => sink(ctx, *code, ptr::null(), 0),
            }
        }
        // The first failure is the call's result.
        let first = results.iter().find_map(|r| r.as_ref().err().copied()).unwrap_or(0);
        (*handle).record(first);
        first
    }
}

/// Writes a node's data; fills the stat option.
///
/// # Safety
/// Pointers are live and lengths right.
#[no_mangle]
pub unsafe extern "C" fn nzk_set(
    handle: *const Caller,
    path: *const u8,
    path_len: usize,
    data: *const u8,
    data_len: usize,
    opts: *const Options,
) -> i32 {
    ffi_boundary! {
        let (path, opts) = (bytes(path, path_len), &*opts);
        let made = (*handle).make(opts, path, |_, _| Handle::set_request(path, bytes(data, data_len), opts));
        reply_code(made, |_| ())
    }
}

/// Lists a node's children, one `sink` call each.
///
/// # Safety
/// Pointers are live and lengths right.
#[no_mangle]
pub unsafe extern "C" fn nzk_get_children(
    handle: *const Caller,
    path: *const u8,
    path_len: usize,
    opts: *const Options,
    ctx: *mut c_void,
    sink: NzkBytesSink,
) -> i32 {
    ffi_boundary! {
        let (path, opts) = (bytes(path, path_len), &*opts);
        names_code((*handle).make(opts, path, |_, arming| Handle::children_request(path, arming)), ctx, sink)
    }
}

/// Reads a node's ACL, one `sink` call per entry; fills the stat option.
///
/// # Safety
/// Pointers are live and lengths right.
#[no_mangle]
pub unsafe extern "C" fn nzk_get_acl(
    handle: *const Caller,
    path: *const u8,
    path_len: usize,
    opts: *const Options,
    ctx: *mut c_void,
    sink: NzkAclSink,
) -> i32 {
    ffi_boundary! {
        let (path, opts) = (bytes(path, path_len), &*opts);
        reply_code((*handle).make(opts, path, |_, _| Handle::get_acl_request(path)), |(entries, _)| {
            acl_to_sink(&entries, ctx, sink);
        })
    }
}

/// Replaces a node's ACL with the options' ACL.
///
/// # Safety
/// Pointers are live and lengths right.
#[no_mangle]
pub unsafe extern "C" fn nzk_set_acl(
    handle: *const Caller,
    path: *const u8,
    path_len: usize,
    opts: *const Options,
) -> i32 {
    ffi_boundary! {
        let (path, opts) = (bytes(path, path_len), &*opts);
        reply_code((*handle).make(opts, path, |_, _| Handle::set_acl_request(path, opts)), |()| ())
    }
}

/// Adds authentication credentials to the session.
///
/// # Safety
/// Pointers are live and lengths right.
#[no_mangle]
pub unsafe extern "C" fn nzk_add_auth(
    handle: *const Caller,
    scheme: *const u8,
    scheme_len: usize,
    cert: *const u8,
    cert_len: usize,
) -> i32 {
    ffi_boundary! { code_of(&(*handle).call(|h| h.add_auth(bytes(scheme, scheme_len), bytes(cert, cert_len)))) }
}

// Calls of ZooKeeper 3.5 and later.

/// Hands each ACL entry to `sink`.
pub(crate) fn acl_to_sink(entries: &[zookeeper_client::Acl], ctx: *mut c_void, sink: NzkAclSink) {
    for entry in entries {
        let (scheme, id) = (entry.scheme(), entry.id());
        sink(ctx, acl::bits(entry.permission()), scheme.as_ptr(), scheme.len(), id.as_ptr(), id.len());
    }
}

/// Hands each identity to `sink`.
pub(crate) fn identities_to_sink(users: &[(String, String)], ctx: *mut c_void, sink: NzkIdentitySink) {
    for (scheme, id) in users {
        sink(ctx, scheme.as_ptr(), scheme.len(), id.as_ptr(), id.len());
    }
}

/// Receives one identity of `whoami`.
pub type NzkIdentitySink =
    extern "C" fn(ctx: *mut c_void, scheme: *const u8, scheme_len: usize, id: *const u8, id_len: usize);

/// Brings the connected server up to date with the leader.
///
/// # Safety
/// Pointers are live and lengths right.
#[no_mangle]
pub unsafe extern "C" fn nzk_sync(
    handle: *const Caller,
    path: *const u8,
    path_len: usize,
    opts: *const Options,
) -> i32 {
    ffi_boundary! {
        let path = bytes(path, path_len);
        reply_code((*handle).make(&*opts, path, |_, _| Handle::sync_request(path)), |()| ())
    }
}

/// The session's ephemeral nodes under `prefix`, one `sink` call each.
///
/// # Safety
/// Pointers are live and lengths right.
#[no_mangle]
pub unsafe extern "C" fn nzk_get_ephemerals(
    handle: *const Caller,
    prefix: *const u8,
    prefix_len: usize,
    opts: *const Options,
    ctx: *mut c_void,
    sink: NzkBytesSink,
) -> i32 {
    ffi_boundary! {
        let prefix = bytes(prefix, prefix_len);
        names_code((*handle).make(&*opts, prefix, |_, _| Handle::ephemerals_request(prefix)), ctx, sink)
    }
}

/// The number of nodes below `path` into `*count_out`.
///
/// # Safety
/// Pointers are live and lengths right; `count_out` is writable.
#[no_mangle]
pub unsafe extern "C" fn nzk_get_all_children_number(
    handle: *const Caller,
    path: *const u8,
    path_len: usize,
    opts: *const Options,
    count_out: *mut u64,
) -> i32 {
    ffi_boundary! {
        let path = bytes(path, path_len);
        reply_code((*handle).make(&*opts, path, |_, _| Handle::count_request(path)), |count| *count_out = count)
    }
}

/// The session's identities, one `sink` call each.
///
/// # Safety
/// `handle` is live.
#[no_mangle]
pub unsafe extern "C" fn nzk_whoami(
    handle: *const Caller,
    opts: *const Options,
    ctx: *mut c_void,
    sink: NzkIdentitySink,
) -> i32 {
    ffi_boundary! {
        reply_code((*handle).make(&*opts, &[], |_, _| Handle::whoami_request()), |users| {
            identities_to_sink(&users, ctx, sink);
        })
    }
}

/// The ensemble's configuration into `sink`; fills the stat option, arms the watch
/// option.
///
/// # Safety
/// Pointers are live.
#[no_mangle]
pub unsafe extern "C" fn nzk_get_config(
    handle: *const Caller,
    opts: *const Options,
    ctx: *mut c_void,
    sink: NzkBytesSink,
) -> i32 {
    ffi_boundary! {
        let opts = &*opts;
        let made = (*handle).make(opts, &[], |_, arming| Handle::config_request(arming));
        reply_code(made, |(data, _)| sink(ctx, data.as_ptr(), data.len()))
    }
}

/// The session's state (`ZOO_*_STATE`).
///
/// # Safety
/// `handle` is live.
#[no_mangle]
pub unsafe extern "C" fn nzk_handle_state(handle: *const Caller) -> i32 {
    ffi_boundary! { (*handle).state() }
}
