//! The C ABI the XS layer calls. Thin: each function checks pointers, calls into the
//! core and converts the result.
//!
//! Rules, as in rustls-ffi:
//! - every body runs inside [`guard`], so a panic never unwinds into C;
//! - objects are opaque pointers; each constructor names its free function, and free
//!   functions accept NULL;
//! - messages for `croak`/`warn` are NUL-terminated strings owned by the core, valid
//!   until the next message of the same thread (see [`crate::message`]);
//! - strings from Perl are (pointer, length) pairs, never NUL-terminated.

use std::cell::{RefCell, UnsafeCell};
use std::ffi::{c_char, c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::slice;
use std::sync::Arc;

use crate::acl::{self, AclList, Entry};
use crate::attrs::{self, NzkAccess, NzkClass};
use crate::caller::Caller;
use crate::error::{self, ZSYSTEMERROR};
use crate::handle::Handle;
use crate::message;
use crate::options::{self, NzkMethod, NzkOption, NzkOptions, SESSION_ID_LEN};
use crate::registry::{self, Lease};
use crate::settings;
use crate::stat::{Field, Stat};
use crate::watch::{NzkWaitStep, Waiter, Watch};

const PANIC_MESSAGE: &str = "internal error in the Net::ZooKeeper core";

/// Success, for the XS layer's checks of result codes (ZooKeeper's ZOK).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub enum NzkResult {
    Ok = 0,
}

const _: () = assert!(NzkResult::Ok as i32 == crate::error::ZOK);

/// Runs `body`, turning a panic into `fallback`.
fn guard<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// Like [`guard`] for functions that return a message: a panic becomes a message.
fn guard_message(body: impl FnOnce() -> *const c_char) -> *const c_char {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|_| message::set(PANIC_MESSAGE))
}

/// Bytes from C; an empty slice for NULL.
unsafe fn bytes<'a>(data: *const u8, len: usize) -> &'a [u8] {
    if data.is_null() {
        &[]
    } else {
        slice::from_raw_parts(data, len)
    }
}

/// Frees a boxed object handed to C; NULL is allowed. The one free path of every
/// `Box::into_raw` below.
unsafe fn free_box<T>(object: *mut T) {
    if !object.is_null() {
        let object = Box::from_raw(object);
        guard((), move || drop(object));
    }
}

/// Stat and watch objects are reference-counted like handles: the Perl object owns
/// one reference and a call holds another while it uses the object (see
/// `nzk_stat_retain`), so Perl code run during the call (tie, overload, a signal
/// handler) cannot free it under the call. Perl uses each object from one thread
/// only; the cell makes writes through the shared pointer legitimate.
fn new_shared<T>(object: T) -> *mut T {
    UnsafeCell::raw_get(Arc::into_raw(Arc::new(UnsafeCell::new(object))))
}

/// A new reference to a `new_shared` object.
unsafe fn retain_shared<T>(object: *mut T) -> *mut T {
    Arc::increment_strong_count(object as *const UnsafeCell<T>);
    object
}

/// Drops a reference to a `new_shared` object (the last one frees it); NULL is
/// allowed. The one free path of every `new_shared` below.
unsafe fn free_shared<T>(object: *mut T) {
    if !object.is_null() {
        let object = Arc::from_raw(object as *const UnsafeCell<T>);
        guard((), move || drop(object));
    }
}

fn ok_or_message(result: Result<(), String>) -> *const c_char {
    match result {
        Ok(()) => ptr::null(),
        Err(text) => message::set(text),
    }
}

/// Receives one byte string (node data, a path, a child name).
pub type NzkBytesSink = extern "C" fn(ctx: *mut c_void, data: *const u8, len: usize);

/// Receives one ACL entry of `get_acl`.
pub type NzkAclSink =
    extern "C" fn(ctx: *mut c_void, perms: i32, scheme: *const u8, scheme_len: usize, id: *const u8, id_len: usize);

// ---------------------------------------------------------------------------------
// Messages

/// Fixed messages the XS layer croaks or warns with.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub enum NzkMessage {
    InvalidHandle,
    InvalidArgCount,
    InvalidAclArray,
    AclArrNotArray,
    NotClusterConnection,
    TieNotSupported,
    UntieNotSupported,
    DeleteNotSupported,
    ClearNotSupported,
}

/// The text of a fixed message; `class` names the base class where the text has one.
#[no_mangle]
pub extern "C" fn nzk_message(which: NzkMessage, class: NzkClass) -> *const c_char {
    guard_message(|| {
        let name = attrs::class_name(class);
        message::set(match which {
            NzkMessage::InvalidHandle => message::INVALID_HANDLE.to_owned(),
            NzkMessage::InvalidArgCount => message::INVALID_ARG_COUNT.to_owned(),
            NzkMessage::InvalidAclArray => message::INVALID_ACL_ARRAY.to_owned(),
            // xsubpp's wording for an argument that must be an array reference.
            NzkMessage::AclArrNotArray => "Net::ZooKeeper::set_acl: acl_arr is not an ARRAY reference".to_owned(),
            NzkMessage::NotClusterConnection => "zk is not a Net::ZooKeeper::Cluster::Connection".to_owned(),
            NzkMessage::TieNotSupported => format!("tying hashes of class {name} not supported"),
            NzkMessage::UntieNotSupported => format!("untying hashes of class {name} not supported"),
            NzkMessage::DeleteNotSupported => format!("deleting elements from hashes of class {name} not supported"),
            NzkMessage::ClearNotSupported => format!("clearing hashes of class {name} not supported"),
        })
    })
}

/// `<var> is not a hash reference of type <class>`.
///
/// # Safety
/// `var` points to `var_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn nzk_message_not_object(var: *const u8, var_len: usize, class: NzkClass) -> *const c_char {
    guard_message(|| {
        let var = bytes(var, var_len);
        let mut text = var.to_vec();
        text.extend_from_slice(format!(" is not a hash reference of type {}", attrs::class_name(class)).as_bytes());
        message::set(text)
    })
}

/// `invalid element: <key>` (unknown key) or `read-only element: <key>`.
///
/// # Safety
/// `key` points to `key_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn nzk_message_element(read_only: bool, key: *const u8, key_len: usize) -> *const c_char {
    guard_message(|| {
        let key = bytes(key, key_len);
        message::with_key(if read_only { "read-only element: " } else { "invalid element: " }, key)
    })
}

/// The message for a handle that cannot be used: NULL if it can. With `reset_error`
/// it starts a call: the saved error is reset, as the original did before it checked
/// options.
///
/// # Safety
/// `handle` is NULL or a live pointer from `nzk_handle_new`.
#[no_mangle]
pub unsafe extern "C" fn nzk_handle_begin(handle: *const Caller, reset_error: bool) -> *const c_char {
    guard_message(|| match handle.as_ref() {
        None => message::set(message::INVALID_HANDLE),
        Some(h) if h.is_inherited() => {
            message::set(format!("Net::ZooKeeper handle cannot be used after fork: it belongs to process {}", h.pid()))
        }
        Some(h) => {
            if reset_error {
                h.record(0);
            }
            ptr::null()
        }
    })
}

// ---------------------------------------------------------------------------------
// Options

/// Resets `opts` to the defaults. Pair with `nzk_options_clear`.
///
/// # Safety
/// `opts` points to writable memory for an `NzkOptions`.
#[no_mangle]
pub unsafe extern "C" fn nzk_options_init(opts: *mut NzkOptions) {
    if !opts.is_null() {
        ptr::write(opts, NzkOptions::default());
    }
}

/// Frees what the options own (an ACL list).
///
/// # Safety
/// `opts` was initialised by `nzk_options_init`.
#[no_mangle]
pub unsafe extern "C" fn nzk_options_clear(opts: *mut NzkOptions) {
    if let Some(opts) = opts.as_mut() {
        guard((), || opts.clear());
    }
}

/// What option `name` means to `method` (case-insensitive).
///
/// # Safety
/// `name` points to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn nzk_option(method: NzkMethod, name: *const u8, len: usize) -> NzkOption {
    guard(NzkOption::Ignored, || options::option(method, bytes(name, len)))
}

/// Sets an integer option (truncated to a C int); returns the croak message or NULL.
///
/// # Safety
/// `opts` was initialised by `nzk_options_init`.
#[no_mangle]
pub unsafe extern "C" fn nzk_options_set_int(opts: *mut NzkOptions, option: NzkOption, value: i64) -> *const c_char {
    guard_message(|| match opts.as_mut() {
        None => message::set(PANIC_MESSAGE),
        Some(opts) => ok_or_message(opts.set_int(option, value as i32)),
    })
}

/// Sets the `timeout` option (truncated to 32 unsigned bits).
///
/// # Safety
/// `opts` was initialised by `nzk_options_init`.
#[no_mangle]
pub unsafe extern "C" fn nzk_options_set_timeout(opts: *mut NzkOptions, value: u64) {
    if let Some(opts) = opts.as_mut() {
        opts.set_timeout(value as u32);
    }
}

/// Sets the `stat` option. `is_stat` tells whether the value was a Stat hash
/// reference; `stat` is NULL if that object is not live. Returns the croak message.
///
/// # Safety
/// `opts` was initialised by `nzk_options_init`; `stat` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nzk_options_set_stat(opts: *mut NzkOptions, is_stat: bool, stat: *mut Stat) -> *const c_char {
    guard_message(|| {
        if !is_stat {
            return nzk_message_not_object(b"stat".as_ptr(), 4, NzkClass::Stat);
        }
        if stat.is_null() {
            return message::set(message::INVALID_STAT);
        }
        (*opts).stat = stat;
        ptr::null()
    })
}

/// Sets the `watch` option, like `nzk_options_set_stat`.
///
/// # Safety
/// `opts` was initialised by `nzk_options_init`; `watch` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nzk_options_set_watch(
    opts: *mut NzkOptions,
    is_watch: bool,
    watch: *mut Watch,
) -> *const c_char {
    guard_message(|| {
        if !is_watch {
            return nzk_message_not_object(b"watch".as_ptr(), 5, NzkClass::Watch);
        }
        if watch.is_null() {
            return message::set(message::INVALID_WATCH);
        }
        (*opts).watch = watch;
        ptr::null()
    })
}

/// Sets the `session_id` option; the bytes must stay alive during the call.
///
/// # Safety
/// `opts` was initialised by `nzk_options_init`; `id` points to `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn nzk_options_set_session_id(opts: *mut NzkOptions, id: *const u8, len: usize) -> *const c_char {
    guard_message(|| {
        if id.is_null() || len != SESSION_ID_LEN {
            return message::set(message::INVALID_SESSION_ID);
        }
        (*opts).session_id = id;
        (*opts).session_id_len = len;
        ptr::null()
    })
}

/// Sets a string option (a file name) of `new()`.
///
/// # Safety
/// `opts` was initialised by `nzk_options_init`; `value` points to `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn nzk_options_set_text(opts: *mut NzkOptions, option: NzkOption, value: *const u8, len: usize) {
    if let Some(opts) = opts.as_mut() {
        guard((), || opts.set_text(option, bytes(value, len)));
    }
}

/// Starts the `sasl_options` hash; returns the croak message if the value was not a
/// hash reference. Add its entries with `nzk_options_add_sasl`.
///
/// # Safety
/// `opts` was initialised by `nzk_options_init`.
#[no_mangle]
pub unsafe extern "C" fn nzk_options_begin_sasl(opts: *mut NzkOptions, is_hash: bool) -> *const c_char {
    guard_message(|| {
        if !is_hash {
            return message::set(message::SASL_NOT_HASH);
        }
        (*opts).begin_sasl();
        ptr::null()
    })
}

/// Adds one `key => value` of the `sasl_options` hash.
///
/// # Safety
/// `opts` was initialised and `nzk_options_begin_sasl` accepted the hash; `key` and
/// `value` point to their lengths in bytes.
#[no_mangle]
pub unsafe extern "C" fn nzk_options_add_sasl(
    opts: *mut NzkOptions,
    key: *const u8,
    key_len: usize,
    value: *const u8,
    value_len: usize,
) {
    if let Some(opts) = opts.as_mut() {
        guard((), || opts.begin_sasl_entry(bytes(key, key_len), bytes(value, value_len)));
    }
}

/// Gives an ACL list to the options, which then own it (a list set earlier in the
/// same call is freed).
///
/// # Safety
/// `opts` was initialised; `acl` came from `nzk_acl_new` and is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn nzk_options_set_acl(opts: *mut NzkOptions, acl: *mut AclList) {
    if let (Some(opts), false) = (opts.as_mut(), acl.is_null()) {
        opts.set_acl(Box::from_raw(acl));
    }
}

// ---------------------------------------------------------------------------------
// ACL lists

/// A new empty ACL list. Free it with `nzk_acl_free`, or give it to
/// `nzk_options_set_acl`.
#[no_mangle]
pub extern "C" fn nzk_acl_new() -> *mut AclList {
    guard(ptr::null_mut(), || Box::into_raw(Box::default()))
}

/// Frees an ACL list; NULL is allowed.
///
/// # Safety
/// `acl` is NULL or from `nzk_acl_new`, and is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn nzk_acl_free(acl: *mut AclList) {
    free_box(acl);
}

/// Adds one array element to an ACL list. NULL `scheme` or `id` means the key is
/// missing. Returns the croak message for a bad element, else NULL.
///
/// # Safety
/// `acl` is live; `scheme` and `id` are NULL or point to their lengths in bytes.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn nzk_acl_push(
    acl: *mut AclList,
    is_hash: bool,
    has_perms: bool,
    perms: i64,
    scheme: *const u8,
    scheme_len: usize,
    id: *const u8,
    id_len: usize,
) -> *const c_char {
    guard_message(|| {
        let entry = Entry {
            is_hash,
            perms: has_perms.then_some(perms as i32),
            scheme: (!scheme.is_null()).then(|| bytes(scheme, scheme_len)),
            id: (!id.is_null()).then(|| bytes(id, id_len)),
        };
        match (*acl).push(entry) {
            Ok(()) => ptr::null(),
            Err(text) => message::set(text),
        }
    })
}

// ---------------------------------------------------------------------------------
// Handles

/// A new handle, connecting in the background; NULL for a bad host list, with the
/// errno to report in `*errno_out`. Free it with `nzk_handle_free`.
///
/// # Safety
/// `hosts` points to `len` bytes; `opts` was initialised; `errno_out` is writable.
#[no_mangle]
pub unsafe extern "C" fn nzk_handle_new(
    hosts: *const u8,
    len: usize,
    opts: *const NzkOptions,
    errno_out: *mut c_int,
) -> *mut Caller {
    let made = guard(Err(libc::EINVAL), || Handle::new(bytes(hosts, len), &*opts));
    match made {
        // Handles are reference-counted: shared cluster connections hand out more
        // references (see nzk_lease_handle).
        Ok(handle) => Arc::into_raw(Arc::new(Caller::new(Arc::new(handle)))) as *mut Caller,
        Err(errno) => {
            if !errno_out.is_null() {
                *errno_out = errno;
            }
            ptr::null_mut()
        }
    }
}

/// Drops a reference to the handle. The last reference closes its session
/// (waiting, bounded, for the server) and frees it; in a process that inherited the
/// handle through fork, the session is left alone. NULL is allowed.
///
/// # Safety
/// `handle` is NULL or from `nzk_handle_new`, and is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn nzk_handle_free(handle: *mut Caller) {
    if !handle.is_null() {
        let handle = Arc::from_raw(handle);
        guard((), move || drop(handle));
    }
}

/// A new reference to the handle, for the duration of one call: free it with
/// `nzk_handle_free` (which then does not close anything while other references live).
///
/// # Safety
/// `handle` is live (from `nzk_handle_new` or `nzk_lease_handle`).
#[no_mangle]
pub unsafe extern "C" fn nzk_handle_retain(handle: *const Caller) -> *mut Caller {
    Arc::increment_strong_count(handle);
    handle as *mut Caller
}

/// The result code of the handle's last call, and its errno in `*errno_out`.
///
/// # Safety
/// `handle` is live; `errno_out` is writable.
#[no_mangle]
pub unsafe extern "C" fn nzk_handle_get_error(handle: *const Caller, errno_out: *mut c_int) -> i32 {
    let (code, errno) = (*handle).last_error();
    *errno_out = errno;
    code
}

fn code_of<T>(result: Result<T, i32>) -> i32 {
    match result {
        Ok(_) => 0,
        Err(code) => code,
    }
}

/// Creates a node; the created path (truncated to the path read length) goes to
/// `sink`. Returns the result code.
///
/// # Safety
/// Pointers are live and lengths right; `opts` was initialised.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn nzk_create(
    handle: *const Caller,
    path: *const u8,
    path_len: usize,
    data: *const u8,
    data_len: usize,
    opts: *const NzkOptions,
    ctx: *mut c_void,
    sink: NzkBytesSink,
) -> i32 {
    guard(ZSYSTEMERROR, || {
        let created = (*handle).call(|h| h.create(bytes(path, path_len), bytes(data, data_len), &*opts));
        if let Ok(created) = &created {
            sink(ctx, created.as_ptr(), created.len());
        }
        code_of(created)
    })
}

/// Deletes a node. Returns the result code.
///
/// # Safety
/// Pointers are live and lengths right; `opts` was initialised.
#[no_mangle]
pub unsafe extern "C" fn nzk_delete(
    handle: *const Caller,
    path: *const u8,
    path_len: usize,
    opts: *const NzkOptions,
) -> i32 {
    guard(ZSYSTEMERROR, || code_of((*handle).call(|h| h.delete(bytes(path, path_len), &*opts))))
}

/// Tests whether a node exists (ZOK) or not (ZNONODE); fills the stat option.
///
/// # Safety
/// Pointers are live and lengths right; `opts` was initialised.
#[no_mangle]
pub unsafe extern "C" fn nzk_exists(
    handle: *const Caller,
    path: *const u8,
    path_len: usize,
    opts: *const NzkOptions,
) -> i32 {
    guard(ZSYSTEMERROR, || {
        let opts = &*opts;
        code_of((*handle).call(|h| h.exists(bytes(path, path_len), opts.stat.as_mut(), opts.watch.as_mut())))
    })
}

/// Reads a node's data (truncated to the data read length) into `sink`; null data
/// (as opposed to empty) gives ZOK without a `sink` call.
///
/// # Safety
/// Pointers are live and lengths right; `opts` was initialised.
#[no_mangle]
pub unsafe extern "C" fn nzk_get(
    handle: *const Caller,
    path: *const u8,
    path_len: usize,
    opts: *const NzkOptions,
    ctx: *mut c_void,
    sink: NzkBytesSink,
) -> i32 {
    guard(ZSYSTEMERROR, || {
        let opts = &*opts;
        let data = (*handle).call(|h| h.get(bytes(path, path_len), opts, opts.stat.as_mut(), opts.watch.as_mut()));
        if let Ok(Some(data)) = &data {
            sink(ctx, data.as_ptr(), data.len());
        }
        code_of(data)
    })
}

/// A byte string from Perl.
#[repr(C)]
pub struct NzkBytes {
    pub data: *const u8,
    pub len: usize,
}

/// Receives one result of `nzk_get_many`: the code, and the data when it is ZOK
/// (a null `data` for a node whose data is null).
pub type NzkResultSink = extern "C" fn(ctx: *mut c_void, code: i32, data: *const u8, len: usize);

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
    guard(ZSYSTEMERROR, || {
        let paths: Vec<&[u8]> = (0..count).map(|i| bytes((*paths.add(i)).data, (*paths.add(i)).len)).collect();
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
    })
}

/// Writes a node's data; fills the stat option.
///
/// # Safety
/// Pointers are live and lengths right; `opts` was initialised.
#[no_mangle]
pub unsafe extern "C" fn nzk_set(
    handle: *const Caller,
    path: *const u8,
    path_len: usize,
    data: *const u8,
    data_len: usize,
    opts: *const NzkOptions,
) -> i32 {
    guard(ZSYSTEMERROR, || {
        let opts = &*opts;
        code_of((*handle).call(|h| h.set(bytes(path, path_len), bytes(data, data_len), opts, opts.stat.as_mut())))
    })
}

/// Lists a node's children, one `sink` call each.
///
/// # Safety
/// Pointers are live and lengths right; `opts` was initialised.
#[no_mangle]
pub unsafe extern "C" fn nzk_get_children(
    handle: *const Caller,
    path: *const u8,
    path_len: usize,
    opts: *const NzkOptions,
    ctx: *mut c_void,
    sink: NzkBytesSink,
) -> i32 {
    guard(ZSYSTEMERROR, || {
        let children = (*handle).call(|h| h.get_children(bytes(path, path_len), (*opts).watch.as_mut()));
        if let Ok(children) = &children {
            for child in children {
                sink(ctx, child.as_ptr(), child.len());
            }
        }
        code_of(children)
    })
}

/// Reads a node's ACL, one `sink` call per entry; fills the stat option.
///
/// # Safety
/// Pointers are live and lengths right; `opts` was initialised.
#[no_mangle]
pub unsafe extern "C" fn nzk_get_acl(
    handle: *const Caller,
    path: *const u8,
    path_len: usize,
    opts: *const NzkOptions,
    ctx: *mut c_void,
    sink: NzkAclSink,
) -> i32 {
    guard(ZSYSTEMERROR, || {
        let opts = &*opts;
        let entries = (*handle).call(|h| h.get_acl(bytes(path, path_len), opts.stat.as_mut()));
        if let Ok(entries) = &entries {
            for entry in entries {
                let (scheme, id) = (entry.scheme(), entry.id());
                sink(ctx, acl::bits(entry.permission()), scheme.as_ptr(), scheme.len(), id.as_ptr(), id.len());
            }
        }
        code_of(entries)
    })
}

/// Replaces a node's ACL with the options' ACL list.
///
/// # Safety
/// Pointers are live and lengths right; `opts` was initialised.
#[no_mangle]
pub unsafe extern "C" fn nzk_set_acl(
    handle: *const Caller,
    path: *const u8,
    path_len: usize,
    opts: *const NzkOptions,
) -> i32 {
    guard(ZSYSTEMERROR, || {
        let opts = &*opts;
        let empty = AclList::default();
        let acl = opts.acl.as_ref().unwrap_or(&empty);
        code_of((*handle).call(|h| h.set_acl(bytes(path, path_len), acl, opts)))
    })
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
    guard(ZSYSTEMERROR, || code_of((*handle).call(|h| h.add_auth(bytes(scheme, scheme_len), bytes(cert, cert_len)))))
}

// ---------------------------------------------------------------------------------
// Attributes (the tied-hash interface)

/// Kind of an attribute value.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NzkValueKind {
    Undef,
    Int,
    Uint,
    Bytes,
}

/// An attribute value. `bytes` stays valid until the next call on this thread.
#[repr(C)]
#[derive(Debug)]
pub struct NzkValue {
    pub kind: NzkValueKind,
    pub int: i64,
    pub uint: u64,
    pub bytes: *const u8,
    pub len: usize,
}

thread_local! {
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl NzkValue {
    fn int(value: i64) -> Self {
        NzkValue { kind: NzkValueKind::Int, int: value, uint: 0, bytes: ptr::null(), len: 0 }
    }

    fn uint(value: u64) -> Self {
        NzkValue { kind: NzkValueKind::Uint, int: 0, uint: value, bytes: ptr::null(), len: 0 }
    }

    fn bytes(value: &[u8]) -> Self {
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            scratch.clear();
            scratch.extend_from_slice(value);
            NzkValue { kind: NzkValueKind::Bytes, int: 0, uint: 0, bytes: scratch.as_ptr(), len: scratch.len() }
        })
    }

    fn undef() -> Self {
        NzkValue { kind: NzkValueKind::Undef, int: 0, uint: 0, bytes: ptr::null(), len: 0 }
    }
}

/// Index of `key` among the class's keys (case-insensitive), or -1.
///
/// # Safety
/// `key` points to `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn nzk_attr_index(class: NzkClass, key: *const u8, len: usize) -> i32 {
    guard(-1, || attrs::index(class, bytes(key, len)).map_or(-1, |i| i as i32))
}

/// The key at `index` in the class's key order (static, not NUL-terminated), or
/// NULL past the last key.
///
/// # Safety
/// `len_out` is writable.
#[no_mangle]
pub unsafe extern "C" fn nzk_attr_key(class: NzkClass, index: i32, len_out: *mut usize) -> *const u8 {
    match usize::try_from(index).ok().and_then(|i| attrs::keys(class).get(i)) {
        Some(key) => {
            *len_out = key.len();
            key.as_ptr()
        }
        None => ptr::null(),
    }
}

/// How the key at `index` may be stored.
#[no_mangle]
pub extern "C" fn nzk_attr_access(class: NzkClass, index: i32) -> NzkAccess {
    usize::try_from(index).map_or(NzkAccess::ReadOnly, |i| attrs::access(class, i))
}

/// A handle attribute.
///
/// # Safety
/// `handle` is live; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn nzk_handle_fetch(handle: *const Caller, index: i32, out: *mut NzkValue) {
    let value = guard(NzkValue::undef(), || {
        let h = &*handle;
        use std::sync::atomic::Ordering::Relaxed;
        match index {
            0 => NzkValue::int(h.data_read_len.load(Relaxed).into()),
            1 => NzkValue::int(h.path_read_len.load(Relaxed).into()),
            2 => NzkValue::uint(h.watch_timeout.load(Relaxed).into()),
            3 => NzkValue::bytes(h.hosts()),
            4 => NzkValue::int(h.session_timeout_ms().into()),
            5 => NzkValue::bytes(&h.session_id()),
            6 => NzkValue::uint(h.pending_watches() as u64),
            _ => NzkValue::undef(),
        }
    });
    ptr::write(out, value);
}

/// Stores a writable handle attribute; returns the croak message for a bad value.
///
/// # Safety
/// `handle` is live.
#[no_mangle]
pub unsafe extern "C" fn nzk_handle_store(handle: *const Caller, index: i32, int: i64, uint: u64) -> *const c_char {
    guard_message(|| {
        let h = &*handle;
        use std::sync::atomic::Ordering::Relaxed;
        let value = int as i32;
        match index {
            0 if value < 0 => message::set(format!("invalid data read length: {value}")),
            1 if value < 0 => message::set(format!("invalid path read length: {value}")),
            0 => {
                h.data_read_len.store(value, Relaxed);
                ptr::null()
            }
            1 => {
                h.path_read_len.store(value, Relaxed);
                ptr::null()
            }
            2 => {
                h.watch_timeout.store(uint as u32, Relaxed);
                ptr::null()
            }
            _ => ptr::null(),
        }
    })
}

// ---------------------------------------------------------------------------------
// Stats

/// A new stat object, all fields 0. Free it with `nzk_stat_free`.
#[no_mangle]
pub extern "C" fn nzk_stat_new() -> *mut Stat {
    guard(ptr::null_mut(), || new_shared(Stat::default()))
}

/// A new reference to the stat object, for the duration of one call: free it with
/// `nzk_stat_free`.
///
/// # Safety
/// `stat` is live (from `nzk_stat_new`).
#[no_mangle]
pub unsafe extern "C" fn nzk_stat_retain(stat: *mut Stat) -> *mut Stat {
    retain_shared(stat)
}

/// Drops a reference to a stat object (the last one frees it); NULL is allowed.
///
/// # Safety
/// `stat` is NULL or from `nzk_stat_new` or `nzk_stat_retain`, and is not used
/// afterwards.
#[no_mangle]
pub unsafe extern "C" fn nzk_stat_free(stat: *mut Stat) {
    free_shared(stat);
}

/// A stat field by key index.
///
/// # Safety
/// `stat` is live; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn nzk_stat_fetch(stat: *const Stat, index: i32, out: *mut NzkValue) {
    let value = guard(NzkValue::undef(), || match (*stat).field(index.max(0) as usize) {
        Field::Int(v) => NzkValue::int(v.into()),
        Field::Wide(text) => NzkValue::bytes(text.as_bytes()),
    });
    ptr::write(out, value);
}

// ---------------------------------------------------------------------------------
// Watches

/// A new watch object for `handle`, its timeout from the options or the handle's
/// `watch_timeout`. Free it with `nzk_watch_free`.
///
/// # Safety
/// `handle` is live; `opts` was initialised.
#[no_mangle]
pub unsafe extern "C" fn nzk_watch_new(handle: *const Caller, opts: *const NzkOptions) -> *mut Watch {
    guard(ptr::null_mut(), || {
        let opts = &*opts;
        let timeout = if opts.has_timeout {
            opts.timeout
        } else {
            (&*handle).watch_timeout.load(std::sync::atomic::Ordering::Relaxed)
        };
        new_shared(Watch::new(timeout))
    })
}

/// A new reference to the watch object, for the duration of one call: free it with
/// `nzk_watch_free`.
///
/// # Safety
/// `watch` is live (from `nzk_watch_new`).
#[no_mangle]
pub unsafe extern "C" fn nzk_watch_retain(watch: *mut Watch) -> *mut Watch {
    retain_shared(watch)
}

/// Drops a reference to a watch object (the last one frees it); NULL is allowed.
///
/// # Safety
/// `watch` is NULL or from `nzk_watch_new` or `nzk_watch_retain`, and is not used
/// afterwards.
#[no_mangle]
pub unsafe extern "C" fn nzk_watch_free(watch: *mut Watch) {
    free_shared(watch);
}

/// A watch attribute by key index.
///
/// # Safety
/// `watch` is live; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn nzk_watch_fetch(watch: *const Watch, index: i32, out: *mut NzkValue) {
    let w = &*watch;
    let value = match index {
        0 => NzkValue::uint(w.timeout.into()),
        1 => NzkValue::int(w.event().into()),
        2 => NzkValue::int(w.state().into()),
        _ => NzkValue::undef(),
    };
    ptr::write(out, value);
}

/// Stores the watch's `timeout` (the only writable key).
///
/// # Safety
/// `watch` is live.
#[no_mangle]
pub unsafe extern "C" fn nzk_watch_store(watch: *mut Watch, index: i32, value: u64) {
    if index == 0 {
        (*watch).timeout = value as u32;
    }
}

/// Starts waiting for the watch's notification, for the `timeout` option or the
/// watch's own timeout. Step it with `nzk_waiter_step`; free it with
/// `nzk_waiter_free`. The waiter does not depend on the watch object staying alive.
///
/// # Safety
/// `watch` is live; `opts` was initialised.
#[no_mangle]
pub unsafe extern "C" fn nzk_waiter_new(watch: *const Watch, opts: *const NzkOptions) -> *mut Waiter {
    guard(ptr::null_mut(), || {
        let (w, opts) = (&*watch, &*opts);
        Box::into_raw(Box::new(Waiter::new(w, if opts.has_timeout { opts.timeout } else { w.timeout })))
    })
}

/// Waits a short while (at most `WAIT_SLICE`): the notification arrived, the
/// timeout passed, or neither yet (the caller handles signals and steps again).
///
/// # Safety
/// `waiter` is live.
#[no_mangle]
pub unsafe extern "C" fn nzk_waiter_step(waiter: *const Waiter) -> NzkWaitStep {
    guard(NzkWaitStep::TimedOut, || (*waiter).step())
}

/// Makes the waiter wait for the watch's current assignment, if that is not the
/// one it waits for (Perl code run between steps gave the watch to another call,
/// or the caller's variable now names another watch). The deadline stays.
///
/// # Safety
/// `waiter` and `watch` are live.
#[no_mangle]
pub unsafe extern "C" fn nzk_waiter_follow(waiter: *mut Waiter, watch: *const Watch) {
    if let (Some(waiter), Some(watch)) = (waiter.as_mut(), watch.as_ref()) {
        guard((), || waiter.follow(watch));
    }
}

/// Frees a waiter; NULL is allowed.
///
/// # Safety
/// `waiter` is NULL or from `nzk_waiter_new`, and is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn nzk_waiter_free(waiter: *mut Waiter) {
    free_box(waiter);
}

// ---------------------------------------------------------------------------------
// Process-wide settings

/// Sets the log level; returns the croak message for a bad level.
#[no_mangle]
pub extern "C" fn nzk_set_log_level(level: i64) -> *const c_char {
    guard_message(|| ok_or_message(settings::set_log_level(level as i32)))
}

/// The C client's text for a result code ("unknown error" for any other number): a
/// static NUL-terminated string.
#[no_mangle]
pub extern "C" fn nzk_zerror(code: i64) -> *const c_char {
    guard_message(|| error::zerror(code).as_ptr())
}

/// Whether later handles try their hosts in the given order (true) or shuffled.
#[no_mangle]
pub extern "C" fn nzk_set_deterministic_conn_order(flag: bool) {
    settings::set_deterministic_conn_order(flag);
}

// ---------------------------------------------------------------------------------
// Shared cluster connections

unsafe fn text<'a>(data: *const u8, len: usize) -> std::borrow::Cow<'a, str> {
    String::from_utf8_lossy(bytes(data, len))
}

/// Defines a named cluster for this process; returns an APR status (EINVAL for bad
/// settings, EEXIST for a name defined with other settings).
///
/// # Safety
/// `name` and `hosts` point to their lengths in bytes.
#[no_mangle]
pub unsafe extern "C" fn nzk_cluster_define(
    name: *const u8,
    name_len: usize,
    hosts: *const u8,
    hosts_len: usize,
    recv_timeout: i64,
) -> i32 {
    let timeout = i32::try_from(recv_timeout).unwrap_or(-1);
    guard(registry::EINVAL, || registry::define(&text(name, name_len), &text(hosts, hosts_len), timeout))
}

/// Checks a host list as `new()` would: 0 if valid, else the errno `new()` reports.
///
/// # Safety
/// `hosts` points to `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn nzk_hosts_check(hosts: *const u8, len: usize) -> i32 {
    guard(libc::EINVAL, || crate::validate::check_hosts(bytes(hosts, len)).err().unwrap_or(0))
}

/// Whether a cluster of that name is defined in this process.
///
/// # Safety
/// `name` points to `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn nzk_cluster_lookup(name: *const u8, len: usize) -> bool {
    guard(false, || registry::lookup(&text(name, len)))
}

/// Takes a share of a cluster's connection (blocking, bounded, with `wait`; else
/// EBUSY where it would block). On SUCCESS `*out` is a lease to free with
/// `nzk_lease_free`; otherwise it is NULL.
///
/// # Safety
/// `name` points to `len` bytes; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn nzk_cluster_acquire(name: *const u8, len: usize, wait: bool, out: *mut *mut Lease) -> i32 {
    *out = ptr::null_mut();
    match guard(Err(registry::EINVAL), || registry::acquire(&text(name, len), wait)) {
        Ok(lease) => {
            *out = Box::into_raw(Box::new(lease));
            registry::SUCCESS
        }
        Err(status) => status,
    }
}

/// Gives a lease's share back; EINVAL if already given back.
///
/// # Safety
/// `lease` is live.
#[no_mangle]
pub unsafe extern "C" fn nzk_lease_release(lease: *mut Lease) -> i32 {
    guard(registry::EINVAL, || (*lease).release())
}

/// Reports a failed ZooKeeper call on the lease's connection; ECONNABORTED when the
/// connection is lost or invalid (it is then replaced once every holder released).
///
/// # Safety
/// `lease` is live.
#[no_mangle]
pub unsafe extern "C" fn nzk_lease_error(lease: *const Lease, ret: i32) -> i32 {
    guard(registry::EINVAL, || (*lease).error(ret))
}

/// Frees a lease, giving its share back if that was not done. NULL is allowed.
///
/// # Safety
/// `lease` is NULL or from `nzk_cluster_acquire`, and is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn nzk_lease_free(lease: *mut Lease) {
    free_box(lease);
}

/// A new reference to the lease's handle, for a Net::ZooKeeper object; free it with
/// `nzk_handle_free` (which then does not close the shared session). All objects of
/// one lease share its last call's result.
///
/// # Safety
/// `lease` is live.
#[no_mangle]
pub unsafe extern "C" fn nzk_lease_handle(lease: *const Lease) -> *mut Caller {
    Arc::into_raw((*lease).caller.clone()) as *mut Caller
}

/// A lease's attribute: 0 name, 1 hosts, 2 recv_timeout, 3 generation, 4 released.
///
/// # Safety
/// `lease` is live; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn nzk_lease_fetch(lease: *const Lease, index: i32, out: *mut NzkValue) {
    let lease = &*lease;
    let value = match index {
        0 => NzkValue::bytes(lease.cluster.name.as_bytes()),
        1 => NzkValue::bytes(lease.cluster.hosts.as_bytes()),
        2 => NzkValue::int(lease.cluster.recv_timeout.into()),
        3 => NzkValue::uint(lease.generation),
        4 => NzkValue::int(lease.is_released().into()),
        _ => NzkValue::undef(),
    };
    ptr::write(out, value);
}
