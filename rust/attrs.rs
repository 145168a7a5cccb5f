//! The attributes of the API's objects, one table per class: each key, its order (the
//! tied hashes' key order), how to read it and whether and how it may be written.
//! Fetch, store, `exists` and key iteration all read these tables.

use std::borrow::Cow;
use std::ffi::CStr;
use std::sync::atomic::Ordering::Relaxed;

use crate::caller::Caller;
use crate::message;
use crate::options;
use crate::registry::Lease;
use crate::stat::Stat;
use crate::watch::Watch;

/// The object classes of the API: the three tied-hash classes of the original and
/// the shared cluster connection.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NzkClass {
    Handle = 0,
    Stat = 1,
    Watch = 2,
    Lease = 3,
}

/// The base class name, used in messages even for subclasses.
pub fn class_name(class: NzkClass) -> &'static CStr {
    match class {
        NzkClass::Handle => c"Net::ZooKeeper",
        NzkClass::Stat => c"Net::ZooKeeper::Stat",
        NzkClass::Watch => c"Net::ZooKeeper::Watch",
        NzkClass::Lease => c"Net::ZooKeeper::Cluster::Connection",
    }
}

/// An attribute's value as Perl sees it.
pub enum Value<'a> {
    Undef,
    Int(i64),
    Uint(u64),
    Bytes(Cow<'a, [u8]>),
}

/// How a key may be stored to, which also tells the XS layer how to convert the value.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NzkAccess {
    ReadOnly = 0,
    Int = 1,
    Uint = 2,
}

/// A stored value, converted by the XS layer as the key's [`NzkAccess`] says.
#[derive(Clone, Copy, Debug)]
pub enum Stored {
    Int(i64),
    Uint(u64),
}

pub enum Setter<T> {
    ReadOnly,
    /// Takes the value as a C int (truncated, as the original did).
    Int(fn(&T, i32) -> Result<(), String>),
    /// Takes the value as 32 unsigned bits (truncated, as the original did).
    Uint(fn(&T, u32)),
}

pub struct Attr<T> {
    pub name: &'static str,
    pub get: for<'a> fn(&'a T) -> Value<'a>,
    pub set: Setter<T>,
}

impl<T> Attr<T> {
    pub fn access(&self) -> NzkAccess {
        match self.set {
            Setter::ReadOnly => NzkAccess::ReadOnly,
            Setter::Int(_) => NzkAccess::Int,
            Setter::Uint(_) => NzkAccess::Uint,
        }
    }

    /// Stores `value`. A read-only key is left alone (the XS layer warns before it
    /// gets here).
    ///
    /// # Errors
    /// The croak message for a value the key's setter refuses (a negative
    /// `data_read_len`, say).
    #[allow(
        clippy::cast_possible_truncation,
        reason = "truncated to a C int (Int) or to 32 unsigned bits (Uint), as the original binding did"
    )]
    pub fn store(&self, object: &T, value: Stored) -> Result<(), String> {
        match (&self.set, value) {
            (Setter::Int(set), Stored::Int(v)) => set(object, v as i32),
            (Setter::Uint(set), Stored::Uint(v)) => {
                set(object, v as u32);
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

const fn read_only<T>(name: &'static str, get: for<'a> fn(&'a T) -> Value<'a>) -> Attr<T> {
    Attr { name, get, set: Setter::ReadOnly }
}

fn bytes(value: &[u8]) -> Value<'_> {
    Value::Bytes(Cow::Borrowed(value))
}

pub const HANDLE: &[Attr<Caller>] = &[
    Attr {
        name: "data_read_len",
        get: |h| Value::Int(h.data_read_len.load(Relaxed).into()),
        set: Setter::Int(|h, v| options::data_read_len(v).map(|v| h.data_read_len.store(v, Relaxed))),
    },
    Attr {
        name: "path_read_len",
        get: |h| Value::Int(h.path_read_len.load(Relaxed).into()),
        set: Setter::Int(|h, v| options::path_read_len(v, 0).map(|v| h.path_read_len.store(v, Relaxed))),
    },
    Attr {
        name: "watch_timeout",
        get: |h| Value::Uint(h.watch_timeout.load(Relaxed).into()),
        set: Setter::Uint(|h, v| h.watch_timeout.store(v, Relaxed)),
    },
    read_only("hosts", |h| bytes(h.hosts())),
    read_only("session_timeout", |h| Value::Int(h.session_timeout_ms().into())),
    read_only("session_id", |h| Value::Bytes(Cow::Owned(h.session_id()))),
    read_only("pending_watches", |h| Value::Uint(h.pending_watches() as u64)),
];

/// 64-bit fields are decimal strings of the value rounded to a double, as the
/// original printed them (values above 2^53 lose their low bits).
#[allow(
    clippy::cast_precision_loss,
    reason = "the original printed 64-bit fields as doubles, rounding values above 2^53"
)]
fn wide<'a>(value: i64) -> Value<'a> {
    Value::Bytes(Cow::Owned(format!("{:.0}", value as f64).into_bytes()))
}

pub const STAT: &[Attr<Stat>] = &[
    read_only("czxid", |s| wide(s.czxid)),
    read_only("mzxid", |s| wide(s.mzxid)),
    read_only("ctime", |s| wide(s.ctime)),
    read_only("mtime", |s| wide(s.mtime)),
    read_only("version", |s| Value::Int(s.version.into())),
    read_only("children_version", |s| Value::Int(s.cversion.into())),
    read_only("acl_version", |s| Value::Int(s.aversion.into())),
    read_only("ephemeral_owner", |s| wide(s.ephemeral_owner)),
    read_only("data_len", |s| Value::Int(s.data_length.into())),
    read_only("num_children", |s| Value::Int(s.num_children.into())),
    read_only("children_zxid", |s| wide(s.pzxid)),
];

pub const WATCH: &[Attr<Watch>] = &[
    Attr { name: "timeout", get: |w| Value::Uint(w.timeout().into()), set: Setter::Uint(Watch::set_timeout) },
    read_only("event", |w| Value::Int(w.event().into())),
    read_only("state", |w| Value::Int(w.state().into())),
];

pub const LEASE: &[Attr<Lease>] = &[
    read_only("name", |l| bytes(l.cluster.name.as_bytes())),
    read_only("hosts", |l| bytes(l.cluster.hosts.as_bytes())),
    read_only("recv_timeout", |l| Value::Int(l.cluster.recv_timeout.into())),
    read_only("generation", |l| Value::Uint(l.generation)),
    read_only("released", |l| Value::Int(l.is_released().into())),
];

/// Evaluates `$body` with `$table` bound to the class's table (and `$object`, if
/// given, to `$ptr` cast to the class's type): one place that pairs classes with
/// their tables and types.
#[macro_export]
macro_rules! with_table {
    ($class:expr, $table:ident => $body:expr) => {
        $crate::with_table!($class, $table, _object = std::ptr::null::<std::ffi::c_void>() => $body)
    };
    ($class:expr, $table:ident, $object:ident = $ptr:expr => $body:expr) => {{
        use $crate::attrs::{NzkClass, HANDLE, LEASE, STAT, WATCH};
        match $class {
            NzkClass::Handle => {
                let ($table, $object) = (HANDLE, $ptr.cast::<$crate::caller::Caller>());
                $body
            }
            NzkClass::Stat => {
                let ($table, $object) = (STAT, $ptr.cast::<$crate::stat::Stat>());
                $body
            }
            NzkClass::Watch => {
                let ($table, $object) = (WATCH, $ptr.cast::<$crate::watch::Watch>());
                $body
            }
            NzkClass::Lease => {
                let ($table, $object) = (LEASE, $ptr.cast::<$crate::registry::Lease>());
                $body
            }
        }
    }};
}

/// The key at `index` in the class's key order.
pub fn key(class: NzkClass, index: usize) -> Option<&'static str> {
    with_table!(class, table => table.get(index).map(|a| a.name))
}

/// Index of `key` (matched case-insensitively) in the class's key order, and how it
/// may be stored.
pub fn find(class: NzkClass, key: &[u8]) -> Option<(usize, NzkAccess)> {
    with_table!(class, table => {
        let index = table.iter().position(|a| a.name.as_bytes().eq_ignore_ascii_case(key))?;
        Some((index, table[index].access()))
    })
}

/// The text for a key that cannot be fetched or stored.
pub fn element_message(class: NzkClass, key: &[u8]) -> Vec<u8> {
    message::element(find(class, key).is_some(), key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_match_case_insensitively() {
        assert_eq!(find(NzkClass::Handle, b"DATA_READ_LEN"), Some((0, NzkAccess::Int)));
        assert_eq!(find(NzkClass::Stat, b"Children_Zxid"), Some((10, NzkAccess::ReadOnly)));
        assert_eq!(find(NzkClass::Watch, b"bar"), None);
        assert_eq!(find(NzkClass::Handle, b"hosts"), Some((3, NzkAccess::ReadOnly)));
        assert_eq!(find(NzkClass::Watch, b"timeout"), Some((0, NzkAccess::Uint)));
        assert_eq!(key(NzkClass::Lease, 4), Some("released"));
        assert_eq!(key(NzkClass::Lease, 5), None);
        assert_eq!(key(NzkClass::Stat, 10), Some("children_zxid"));
    }

    #[test]
    fn wide_fields_round_like_the_original() {
        let text = |v: Value| match v {
            Value::Bytes(b) => String::from_utf8(b.into_owned()).unwrap(),
            _ => panic!("64-bit fields are strings"),
        };
        let stat = Stat { ephemeral_owner: 72_057_639_123_877_941, ..Stat::default() };
        assert_eq!(text((STAT[7].get)(&stat)), "72057639123877936");
        assert_eq!(text((STAT[0].get)(&Stat::default())), "0");
    }
}
