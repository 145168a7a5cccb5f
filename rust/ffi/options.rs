//! Options of a call (`name => value` pairs), built by the XS layer into an opaque
//! [`Options`] that Rust owns: `nzk_options_new`, then setters, then the call, then
//! `nzk_options_free`, the one free path, which the XS layer schedules before it
//! converts anything (so a die in Perl code run by a conversion frees it too).

use std::ffi::{c_char, c_void};
use std::ptr;

use super::{bytes, ok_or_message};
use crate::acl::Entry;
use crate::attrs::NzkClass;
use crate::ffi_boundary;
use crate::message;
use crate::options::{NzkMethod, NzkOption, Options};
use crate::shared::Shared;
use crate::stat::Stat;
use crate::watch::Watch;

/// New options for `method`, with its defaults. Free them with `nzk_options_free`.
#[no_mangle]
pub extern "C" fn nzk_options_new(method: NzkMethod) -> *mut Options {
    ffi_boundary! { Box::into_raw(Box::new(Options::new(method))) }
}

/// Frees options and all they hold; NULL is allowed.
///
/// # Safety
/// `opts` is NULL or from `nzk_options_new`, and is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn nzk_options_free(opts: *mut Options) {
    super::free_box(opts);
}

/// What option `name` means to the options' method (case-insensitive).
///
/// # Safety
/// `opts` is live; `name` points to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn nzk_option(opts: *const Options, name: *const u8, len: usize) -> NzkOption {
    ffi_boundary! { (*opts).find(bytes(name, len)) }
}

impl super::Fallback for NzkOption {
    fn on_panic() -> Self {
        NzkOption::Panic
    }
}

/// Checks that the options the method requires were given (after the last setter);
/// returns the croak message or NULL.
///
/// # Safety
/// `opts` is live.
#[no_mangle]
pub unsafe extern "C" fn nzk_options_check(opts: *const Options) -> *const c_char {
    ffi_boundary! { ok_or_message((*opts).check()) }
}

/// Sets an integer option (truncated to a C int); returns the croak message or NULL.
///
/// # Safety
/// `opts` is live.
#[no_mangle]
#[allow(clippy::cast_possible_truncation, reason = "truncated to a C int, as the original's (int) SvIV")]
pub unsafe extern "C" fn nzk_options_set_int(opts: *mut Options, option: NzkOption, value: i64) -> *const c_char {
    ffi_boundary! { ok_or_message((*opts).set_int(option, value as i32)) }
}

/// Sets create's `ttl` option (ms, 64 bits); returns the croak message or NULL.
///
/// # Safety
/// `opts` is live.
#[no_mangle]
pub unsafe extern "C" fn nzk_options_set_ttl(opts: *mut Options, value: i64) -> *const c_char {
    ffi_boundary! { ok_or_message((*opts).set_ttl(value)) }
}

/// Sets the `timeout` option (truncated to 32 unsigned bits).
///
/// # Safety
/// `opts` is live.
#[no_mangle]
#[allow(clippy::cast_possible_truncation, reason = "truncated to 32 unsigned bits, as the original binding did")]
pub unsafe extern "C" fn nzk_options_set_timeout(opts: *mut Options, value: u64) -> *const c_char {
    ffi_boundary! {
        (*opts).set_timeout(value as u32);
        ptr::null()
    }
}

/// An object option (`stat`, `watch`): the options hold a reference to the object,
/// or the croak message when the value was not an object of the class (`is_object`
/// false) or the object is not live (`object` NULL).
unsafe fn object_option<T>(
    slot: &mut Option<Shared<T>>,
    name: &[u8],
    class: NzkClass,
    invalid: &str,
    is_object: bool,
    object: *mut T,
) -> *const c_char {
    if !is_object {
        message::set(message::not_object(name, class))
    } else if object.is_null() {
        message::set(invalid)
    } else {
        *slot = Some(Shared::retain(object));
        ptr::null()
    }
}

/// Sets the `stat` option (see `object_option`).
///
/// # Safety
/// `opts` is live; `stat` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nzk_options_set_stat(opts: *mut Options, is_stat: bool, stat: *mut Stat) -> *const c_char {
    ffi_boundary! { object_option(&mut (*opts).stat, b"stat", NzkClass::Stat, message::INVALID_STAT, is_stat, stat) }
}

/// Sets the `watch` option (see `object_option`).
///
/// # Safety
/// `opts` is live; `watch` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn nzk_options_set_watch(opts: *mut Options, is_watch: bool, watch: *mut Watch) -> *const c_char {
    ffi_boundary! {
        (*opts).take_watch_callback();
        if (*opts).method == NzkMethod::AddWatch {
            // A persistent watch reports to its own object or to a code ref.
            return message::set(message::WATCH_NOT_CODE);
        }
        object_option(&mut (*opts).watch, b"watch", NzkClass::Watch, message::INVALID_WATCH, is_watch, watch)
    }
}

/// Sets the `callback` option to a code ref (the XS layer's token, whose reference
/// count the options now own); the croak message for another value (`token` NULL).
///
/// # Safety
/// `opts` is live; `token` is NULL or a token the XS layer made for this thread.
#[no_mangle]
pub unsafe extern "C" fn nzk_options_set_callback(opts: *mut Options, token: *mut c_void) -> *const c_char {
    ffi_boundary! {
        match crate::callback::adopt(token) {
            Some(callback) => {
                (*opts).set_callback(callback);
                std::ptr::null()
            }
            None => message::set(message::CALLBACK_NOT_CODE),
        }
    }
}

/// Sets the `watch` option to a code ref (the XS layer's token, owned by the options
/// from now on).
///
/// # Safety
/// `opts` is live; `token` is a token the XS layer made for this thread.
#[no_mangle]
pub unsafe extern "C" fn nzk_options_set_watch_callback(opts: *mut Options, token: *mut c_void) -> *const c_char {
    ffi_boundary! {
        if let Some(callback) = crate::callback::adopt(token) {
            (*opts).set_watch_callback(callback);
        }
        std::ptr::null()
    }
}

/// Sets the `session_id` option (the bytes are copied).
///
/// # Safety
/// `opts` is live; `id` points to `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn nzk_options_set_session_id(opts: *mut Options, id: *const u8, len: usize) -> *const c_char {
    ffi_boundary! { ok_or_message((*opts).set_session_id(bytes(id, len))) }
}

/// Sets a string option (a file name) of `new()`.
///
/// # Safety
/// `opts` is live; `value` points to `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn nzk_options_set_text(
    opts: *mut Options,
    option: NzkOption,
    value: *const u8,
    len: usize,
) -> *const c_char {
    ffi_boundary! {
        (*opts).set_text(option, bytes(value, len));
        ptr::null()
    }
}

/// Starts the `sasl_options` hash; returns the croak message if the value was not a
/// hash reference. Add its entries with `nzk_options_add_sasl`.
///
/// # Safety
/// `opts` is live.
#[no_mangle]
pub unsafe extern "C" fn nzk_options_begin_sasl(opts: *mut Options, is_hash: bool) -> *const c_char {
    ffi_boundary! {
        if !is_hash {
            return message::set(message::SASL_NOT_HASH);
        }
        (*opts).begin_sasl();
        ptr::null()
    }
}

/// Adds one `key => value` of the `sasl_options` hash.
///
/// # Safety
/// `opts` is live; `key` and `value` point to their lengths in bytes.
#[no_mangle]
pub unsafe extern "C" fn nzk_options_add_sasl(
    opts: *mut Options,
    key: *const u8,
    key_len: usize,
    value: *const u8,
    value_len: usize,
) -> *const c_char {
    ffi_boundary! {
        (*opts).add_sasl(bytes(key, key_len), bytes(value, value_len));
        ptr::null()
    }
}

/// Starts the ACL (create's `acl` option, `set_acl`'s list); returns the croak message
/// if the value was not an array reference. Add its entries with
/// `nzk_options_push_acl`.
///
/// # Safety
/// `opts` is live.
#[no_mangle]
pub unsafe extern "C" fn nzk_options_begin_acl(opts: *mut Options, is_array: bool) -> *const c_char {
    ffi_boundary! {
        if !is_array {
            return message::set(message::INVALID_ACL_ARRAY);
        }
        (*opts).begin_acl();
        ptr::null()
    }
}

/// Adds one array element to the ACL. NULL `scheme` or `id` means the key is
/// missing. Returns the croak message for a bad element, else NULL.
///
/// # Safety
/// `opts` is live; `scheme` and `id` are NULL or point to their lengths in bytes.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
#[allow(clippy::cast_possible_truncation, reason = "perms truncated to a C int, as the original's (int) SvIV")]
pub unsafe extern "C" fn nzk_options_push_acl(
    opts: *mut Options,
    is_hash: bool,
    has_perms: bool,
    perms: i64,
    scheme: *const u8,
    scheme_len: usize,
    id: *const u8,
    id_len: usize,
) -> *const c_char {
    ffi_boundary! {
        let entry = Entry {
            is_hash,
            perms: has_perms.then_some(perms as i32),
            scheme: (!scheme.is_null()).then(|| bytes(scheme, scheme_len)),
            id: (!id.is_null()).then(|| bytes(id, id_len)),
        };
        ok_or_message((*opts).acl.get_or_insert_with(Default::default).push(entry))
    }
}
