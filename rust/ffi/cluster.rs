//! Shared cluster connections (`Net::ZooKeeper::Cluster`): results are APR statuses.

use std::borrow::Cow;
use std::ptr;
use std::sync::Arc;

use super::bytes;
use crate::caller::Caller;
use crate::registry::{self, Lease};
use crate::{ffi_boundary, validate};

unsafe fn text<'a>(data: *const u8, len: usize) -> Cow<'a, str> {
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
    ffi_boundary! {
        let timeout = i32::try_from(recv_timeout).unwrap_or(-1);
        registry::define(&text(name, name_len), &text(hosts, hosts_len), timeout)
    }
}

/// Checks a host list as `new()` would: 0 if valid, else the errno `new()` reports.
///
/// # Safety
/// `hosts` points to `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn nzk_hosts_check(hosts: *const u8, len: usize) -> i32 {
    ffi_boundary! { validate::check_hosts(bytes(hosts, len)).err().unwrap_or(0) }
}

/// 1 if a cluster of that name is defined in this process, else 0.
///
/// # Safety
/// `name` points to `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn nzk_cluster_lookup(name: *const u8, len: usize) -> i32 {
    ffi_boundary! { registry::lookup(&text(name, len)).into() }
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
    ffi_boundary! {
        match registry::acquire(&text(name, len), wait) {
            Ok(lease) => {
                *out = Box::into_raw(Box::new(lease));
                registry::SUCCESS
            }
            Err(status) => status,
        }
    }
}

/// Gives a lease's share back; EINVAL if already given back.
///
/// # Safety
/// `lease` is live.
#[no_mangle]
pub unsafe extern "C" fn nzk_lease_release(lease: *mut Lease) -> i32 {
    ffi_boundary! { (*lease).release() }
}

/// Reports a failed ZooKeeper call on the lease's connection; ECONNABORTED when the
/// connection is lost or invalid (it is then replaced once every holder released).
///
/// # Safety
/// `lease` is live.
#[no_mangle]
pub unsafe extern "C" fn nzk_lease_error(lease: *const Lease, ret: i32) -> i32 {
    ffi_boundary! { (*lease).error(ret) }
}

/// Frees a lease, giving its share back if that was not done. NULL is allowed.
///
/// # Safety
/// `lease` is NULL or from `nzk_cluster_acquire`, and is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn nzk_lease_free(lease: *mut Lease) {
    super::free_box(lease);
}

/// A new reference to the lease's handle, for a `Net::ZooKeeper` object; free it with
/// `nzk_handle_free` (which then does not close the shared session). All objects of
/// one lease share its last call's result.
///
/// # Safety
/// `lease` is live.
#[no_mangle]
pub unsafe extern "C" fn nzk_lease_handle(lease: *const Lease) -> *mut Caller {
    ffi_boundary! { Arc::into_raw(Arc::clone(&(*lease).caller)).cast_mut() }
}
