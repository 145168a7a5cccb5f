//! The node calls of a handle. Each returns its result code (also recorded for the
//! handle's `get_error`) and hands values to a sink the XS layer passes.

use std::ffi::c_void;
use std::ptr;

use super::{bytes, code_of, NzkBytes, NzkBytesSink};
use crate::acl;
use crate::caller::Caller;
use crate::ffi_boundary;
use crate::handle::Handle;
use crate::options::Options;

/// Receives one ACL entry of `get_acl`.
pub type NzkAclSink =
    extern "C" fn(ctx: *mut c_void, perms: i32, scheme: *const u8, scheme_len: usize, id: *const u8, id_len: usize);

/// Receives one result of `nzk_get_many`: the code, and the data when it is ZOK
/// (a null `data` for a node whose data is null).
pub type NzkResultSink = extern "C" fn(ctx: *mut c_void, code: i32, data: *const u8, len: usize);

/// Hands each name of a successful listing to `sink`; returns the result code.
fn names_to_sink(names: &Result<Vec<String>, i32>, ctx: *mut c_void, sink: NzkBytesSink) -> i32 {
    if let Ok(names) = names {
        for name in names {
            sink(ctx, name.as_ptr(), name.len());
        }
    }
    code_of(names)
}

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
        let created = (*handle).call(|h| h.create(bytes(path, path_len), bytes(data, data_len), &*opts));
        if let Ok(created) = &created {
            sink(ctx, created.as_ptr(), created.len());
        }
        code_of(&created)
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
    ffi_boundary! { code_of(&(*handle).call(|h| h.delete(bytes(path, path_len), &*opts))) }
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
        let opts = &*opts;
        code_of(&(*handle).call(|h| h.exists(bytes(path, path_len), opts.stat(), opts.watch())))
    }
}

/// Reads a node's data (truncated to the data read length) into `sink`; null data
/// (as opposed to empty) gives ZOK without a `sink` call.
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
    sink: NzkBytesSink,
) -> i32 {
    ffi_boundary! {
        let opts = &*opts;
        let data = (*handle).call(|h| h.get(bytes(path, path_len), opts, opts.stat(), opts.watch()));
        if let Ok(Some(data)) = &data {
            sink(ctx, data.as_ptr(), data.len());
        }
        code_of(&data)
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
        let opts = &*opts;
        code_of(&(*handle).call(|h| h.set(bytes(path, path_len), bytes(data, data_len), opts, opts.stat())))
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
        names_to_sink(&(*handle).call(|h| h.get_children(bytes(path, path_len), (*opts).watch())), ctx, sink)
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
        let entries = (*handle).call(|h| h.get_acl(bytes(path, path_len), (*opts).stat()));
        if let Ok(entries) = &entries {
            for entry in entries {
                let (scheme, id) = (entry.scheme(), entry.id());
                sink(ctx, acl::bits(entry.permission()), scheme.as_ptr(), scheme.len(), id.as_ptr(), id.len());
            }
        }
        code_of(&entries)
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
    ffi_boundary! { code_of(&(*handle).call(|h| h.set_acl(bytes(path, path_len), &*opts))) }
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

/// Receives one identity of `whoami`.
pub type NzkIdentitySink =
    extern "C" fn(ctx: *mut c_void, scheme: *const u8, scheme_len: usize, id: *const u8, id_len: usize);

/// Brings the connected server up to date with the leader.
///
/// # Safety
/// Pointers are live and lengths right.
#[no_mangle]
pub unsafe extern "C" fn nzk_sync(handle: *const Caller, path: *const u8, path_len: usize) -> i32 {
    ffi_boundary! { code_of(&(*handle).call(|h| h.sync(bytes(path, path_len)))) }
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
    ctx: *mut c_void,
    sink: NzkBytesSink,
) -> i32 {
    ffi_boundary! {
        names_to_sink(&(*handle).call(|h| h.get_ephemerals(bytes(prefix, prefix_len))), ctx, sink)
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
    count_out: *mut u64,
) -> i32 {
    ffi_boundary! {
        let count = (*handle).call(|h| h.get_all_children_number(bytes(path, path_len)));
        if let Ok(count) = count {
            *count_out = count;
        }
        code_of(&count)
    }
}

/// The session's identities, one `sink` call each.
///
/// # Safety
/// `handle` is live.
#[no_mangle]
pub unsafe extern "C" fn nzk_whoami(handle: *const Caller, ctx: *mut c_void, sink: NzkIdentitySink) -> i32 {
    ffi_boundary! {
        let users = (*handle).call(Handle::whoami);
        if let Ok(users) = &users {
            for (scheme, id) in users {
                sink(ctx, scheme.as_ptr(), scheme.len(), id.as_ptr(), id.len());
            }
        }
        code_of(&users)
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
        let data = (*handle).call(|h| h.get_config(opts.stat(), opts.watch()));
        if let Ok(data) = &data {
            sink(ctx, data.as_ptr(), data.len());
        }
        code_of(&data)
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
