//! The tied-hash interface of every class, over the tables in [`crate::attrs`]:
//! a key's index, the key at an index, fetch and store by index.

use std::ffi::{c_char, c_void};
use std::ptr;

use super::{bytes, ok_or_message, NzkValue};
use crate::attrs::{self, NzkAccess, NzkClass, Stored};
use crate::{ffi_boundary, with_table};

/// Index of `key` among the class's keys (case-insensitive), or -1; how it may be
/// stored goes to `*access_out`.
///
/// # Safety
/// `key` points to `len` bytes; `access_out` is writable.
#[no_mangle]
pub unsafe extern "C" fn nzk_attr_index(
    class: NzkClass,
    key: *const u8,
    len: usize,
    access_out: *mut NzkAccess,
) -> i32 {
    ffi_boundary! {
        let found = attrs::find(class, bytes(key, len));
        *access_out = found.map_or(NzkAccess::ReadOnly, |(_, access)| access);
        found.and_then(|(index, _)| i32::try_from(index).ok()).unwrap_or(-1)
    }
}

/// The key at `index` in the class's key order (static, not NUL-terminated) in
/// `*key_out`: its length, or -1 past the last key.
///
/// # Safety
/// `key_out` is writable.
#[no_mangle]
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    reason = "a key is a short static name: its length fits in an i32"
)]
pub unsafe extern "C" fn nzk_attr_key(class: NzkClass, index: i32, key_out: *mut *const u8) -> i32 {
    ffi_boundary! {
        if let Some(key) = usize::try_from(index).ok().and_then(|i| attrs::key(class, i)) {
            *key_out = key.as_ptr();
            key.len() as i32
        } else {
            *key_out = ptr::null();
            -1
        }
    }
}

/// The attribute at `index` (from `nzk_attr_index`) of a live object of the class.
///
/// # Safety
/// `object` is a live object of `class`; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn nzk_attr_fetch(class: NzkClass, object: *const c_void, index: i32, out: *mut NzkValue) -> i32 {
    ffi_boundary! {
        let value = with_table!(class, table, object = object => match usize::try_from(index).ok().and_then(|i| table.get(i)) {
            Some(attr) => NzkValue::from((attr.get)(&*object)),
            None => NzkValue::from(attrs::Value::Undef),
        });
        ptr::write(out, value);
        0
    }
}

/// Stores the writable attribute at `index`, converted as its access says (`int`
/// for Int, `uint` for Uint); returns the croak message for a bad value, or NULL.
///
/// # Safety
/// `object` is a live object of `class`.
#[no_mangle]
pub unsafe extern "C" fn nzk_attr_store(
    class: NzkClass,
    object: *const c_void,
    index: i32,
    int: i64,
    uint: u64,
) -> *const c_char {
    ffi_boundary! {
        with_table!(class, table, object = object => match usize::try_from(index).ok().and_then(|i| table.get(i)) {
            Some(attr) => {
                let value = if attr.access() == NzkAccess::Uint { Stored::Uint(uint) } else { Stored::Int(int) };
                ok_or_message(attr.store(&*object, value))
            }
            None => ptr::null(),
        })
    }
}
