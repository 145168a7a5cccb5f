//! The tied-hash view of handles, stats and watches: keys, their order, and which
//! may be written.

/// The three object classes of the API.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NzkClass {
    Handle = 0,
    Stat = 1,
    Watch = 2,
}

pub const HANDLE_KEYS: [&str; 7] =
    ["data_read_len", "path_read_len", "watch_timeout", "hosts", "session_timeout", "session_id", "pending_watches"];
pub const STAT_KEYS: [&str; 11] = [
    "czxid",
    "mzxid",
    "ctime",
    "mtime",
    "version",
    "children_version",
    "acl_version",
    "ephemeral_owner",
    "data_len",
    "num_children",
    "children_zxid",
];
pub const WATCH_KEYS: [&str; 3] = ["timeout", "event", "state"];

/// How a key may be stored to, which also tells the XS layer how to convert the value.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NzkAccess {
    ReadOnly = 0,
    Int = 1,
    Uint = 2,
}

pub fn keys(class: NzkClass) -> &'static [&'static str] {
    match class {
        NzkClass::Handle => &HANDLE_KEYS,
        NzkClass::Stat => &STAT_KEYS,
        NzkClass::Watch => &WATCH_KEYS,
    }
}

/// The base class name, used in messages even for subclasses.
pub fn class_name(class: NzkClass) -> &'static str {
    match class {
        NzkClass::Handle => "Net::ZooKeeper",
        NzkClass::Stat => "Net::ZooKeeper::Stat",
        NzkClass::Watch => "Net::ZooKeeper::Watch",
    }
}

/// Index of `key` (matched case-insensitively) in the class's key order.
pub fn index(class: NzkClass, key: &[u8]) -> Option<usize> {
    keys(class).iter().position(|k| k.as_bytes().eq_ignore_ascii_case(key))
}

pub fn access(class: NzkClass, index: usize) -> NzkAccess {
    match (class, index) {
        (NzkClass::Handle, 0 | 1) => NzkAccess::Int,
        (NzkClass::Handle, 2) | (NzkClass::Watch, 0) => NzkAccess::Uint,
        _ => NzkAccess::ReadOnly,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_match_case_insensitively() {
        assert_eq!(index(NzkClass::Handle, b"DATA_READ_LEN"), Some(0));
        assert_eq!(index(NzkClass::Stat, b"Children_Zxid"), Some(10));
        assert_eq!(index(NzkClass::Watch, b"bar"), None);
        assert_eq!(access(NzkClass::Handle, 3), NzkAccess::ReadOnly);
        assert_eq!(access(NzkClass::Watch, 0), NzkAccess::Uint);
    }
}
