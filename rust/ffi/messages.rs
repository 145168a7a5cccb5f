//! Fixed texts the XS layer croaks or warns with, and class names.

use super::{bytes, Text};
use crate::attrs::{self, NzkClass};
use crate::{ffi_boundary, message};

/// Fixed messages the XS layer croaks or warns with.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub enum NzkMessage {
    Panic,
    InvalidHandle,
    InvalidArgCount,
    InvalidAclArray,
    AclArrNotArray,
    NotClusterConnection,
    TieNotSupported,
    UntieNotSupported,
    DeleteNotSupported,
    ClearNotSupported,
    NotPersistentWatch,
}

/// The text of a fixed message; `class` names the base class where the text has one.
#[no_mangle]
pub extern "C" fn nzk_message(which: NzkMessage, class: NzkClass) -> Text {
    ffi_boundary! {
        Text(match which {
            NzkMessage::Panic => message::PANIC.as_ptr(),
            NzkMessage::InvalidHandle => message::set(message::INVALID_HANDLE),
            NzkMessage::InvalidArgCount => message::set(message::INVALID_ARG_COUNT),
            NzkMessage::InvalidAclArray => message::set(message::INVALID_ACL_ARRAY),
            NzkMessage::AclArrNotArray => message::set(message::ACL_ARR_NOT_ARRAY),
            NzkMessage::NotClusterConnection => message::set(message::NOT_CLUSTER_CONNECTION),
            NzkMessage::TieNotSupported => message::set(message::unsupported("tying hashes", class)),
            NzkMessage::UntieNotSupported => message::set(message::unsupported("untying hashes", class)),
            NzkMessage::DeleteNotSupported => {
                message::set(message::unsupported("deleting elements from hashes", class))
            }
            NzkMessage::ClearNotSupported => message::set(message::unsupported("clearing hashes", class)),
            NzkMessage::NotPersistentWatch => message::set(message::NOT_PERSISTENT_WATCH),
        })
    }
}

/// `<var> is not a hash reference of type <class>`.
///
/// # Safety
/// `var` points to `var_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn nzk_message_not_object(var: *const u8, var_len: usize, class: NzkClass) -> Text {
    ffi_boundary! { Text(message::set(message::not_object(bytes(var, var_len), class))) }
}

/// `invalid element: <key>` for a key the class does not have, `read-only element:
/// <key>` for one it has.
///
/// # Safety
/// `key` points to `key_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn nzk_message_element(class: NzkClass, key: *const u8, key_len: usize) -> Text {
    ffi_boundary! { Text(message::set(attrs::element_message(class, bytes(key, key_len)))) }
}

/// The class's Perl package (its base class), as a static NUL-terminated string.
#[no_mangle]
pub extern "C" fn nzk_class_name(class: NzkClass) -> Text {
    ffi_boundary! { Text(attrs::class_name(class).as_ptr()) }
}
