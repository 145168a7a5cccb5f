//! Option lists of the API (`name => value` pairs after the fixed arguments): which
//! names each method knows, and the checks on their values, in one place.

use std::cell::Cell;

use crate::acl::AclList;
use crate::callback::Callback;
use crate::message;
use crate::secure::{SaslSettings, Secure};
use crate::shared::Shared;
use crate::stat::Stat;
use crate::watch::{Watch, WATCHTYPE_ANY, WATCHTYPE_CHILD, WATCH_PERSISTENT, WATCH_PERSISTENT_RECURSIVE};

/// `add_watch`'s default bound of queued events.
pub const DEFAULT_QUEUE: usize = 10_000;

/// Methods that take options.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NzkMethod {
    New,
    Create,
    Delete,
    Exists,
    GetChildren,
    Get,
    Set,
    GetAcl,
    SetAcl,
    Watch,
    Wait,
    GetConfig,
    // The operations of multi() and multi_read() (see crate::multi).
    MultiCreate,
    MultiDelete,
    MultiSet,
    MultiCheck,
    MultiGet,
    MultiGetChildren,
    AddWatch,
    /// `Net::ZooKeeper::PersistentWatch::wait`.
    PersistentWait,
    RemoveWatches,
    RemoveAllWatches,
    Sync,
    GetEphemerals,
    GetAllChildrenNumber,
    Whoami,
    /// The options after `multi()`'s and `multi_read()`'s operations.
    Multi,
    /// `dispatch`.
    Dispatch,
}

/// An option name as a method understands it. The XS layer converts the value by
/// this: integers, unsigned integers, objects, an ACL array, bytes or a hash.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NzkOption {
    /// Unknown to this method: silently ignored, as the original did.
    Ignored,
    /// The core failed (a panic); the XS layer croaks.
    Panic,
    SessionTimeout,
    SessionId,
    SaslOptions,
    Flags,
    Acl,
    PathReadLen,
    DataReadLen,
    Version,
    Stat,
    Watch,
    Timeout,
    TlsCaFile,
    TlsCertFile,
    TlsKeyFile,
    TlsVerifyHostname,
    Mode,
    Ttl,
    ReadOnly,
    /// `add_watch`'s `mode`.
    WatchMode,
    /// `add_watch`'s `queue`.
    Queue,
    /// `remove_all_watches`'s `type`.
    WatchType,
    /// A code ref: the call is made asynchronously.
    Callback,
}

/// The options of one call, with their defaults until set. Opaque to C: Rust owns
/// everything in it (ACL list, security settings, the session id copied, references
/// to stat and watch objects) and frees it on every path with the options.
pub struct Options {
    pub method: NzkMethod,
    pub session_timeout: i32,
    pub flags: i32,
    /// -1: the handle's `path_read_len` attribute.
    pub path_read_len: i32,
    /// -1: the handle's `data_read_len` attribute.
    pub data_read_len: i32,
    /// -1: any version.
    pub version: i32,
    /// create's `ttl` (ms), for the TTL modes.
    pub ttl: Option<i64>,
    /// `add_watch`'s mode (`ZOO_WATCH_PERSISTENT` or `ZOO_WATCH_PERSISTENT_RECURSIVE`).
    pub watch_mode: i32,
    /// `add_watch`'s bound of queued events.
    pub queue: usize,
    /// `remove_all_watches`'s kind of watch (`ZWATCHTYPE_*`).
    pub watch_type: i32,
    pub timeout: Option<u32>,
    pub stat: Option<Shared<Stat>>,
    pub watch: Option<Shared<Watch>>,
    pub acl: Option<AclList>,
    pub session_id: Option<[u8; SESSION_ID_LEN]>,
    /// SASL and TLS settings of `new()`.
    pub secure: Option<Secure>,
    /// `new()`'s `read_only`: a server cut off from its quorum may serve the session.
    pub read_only: bool,
    /// `callback`: the call is made asynchronously (taken by the call).
    callback: Cell<Option<Callback>>,
    /// `watch` given a code ref (taken by the call).
    watch_callback: Cell<Option<Callback>>,
}

pub const DEFAULT_SESSION_TIMEOUT_MS: i32 = 10_000;
pub const MAX_SESSION_TIMEOUT_MS: i32 = 0x3FFF_FFFF;
pub const SESSION_ID_LEN: usize = 24;

/// create's options, `stat` last.
const CREATE_OPTIONS: &[(&str, NzkOption)] = &[
    ("path_read_len", NzkOption::PathReadLen),
    ("flags", NzkOption::Flags),
    ("acl", NzkOption::Acl),
    ("mode", NzkOption::Mode),
    ("ttl", NzkOption::Ttl),
    ("stat", NzkOption::Stat),
];

/// What `name` means to `method`.
pub fn option(method: NzkMethod, name: &[u8]) -> NzkOption {
    use NzkMethod as M;
    use NzkOption as O;
    let known: &[(&str, NzkOption)] = match method {
        M::New => &[
            ("session_timeout", O::SessionTimeout),
            ("session_id", O::SessionId),
            ("sasl_options", O::SaslOptions),
            ("tls_ca_file", O::TlsCaFile),
            ("tls_cert_file", O::TlsCertFile),
            ("tls_key_file", O::TlsKeyFile),
            ("tls_verify_hostname", O::TlsVerifyHostname),
            ("read_only", O::ReadOnly),
        ],
        M::Create => CREATE_OPTIONS,
        // All but stat: a transaction gives no stat for a create.
        M::MultiCreate => &CREATE_OPTIONS[..CREATE_OPTIONS.len() - 1],
        M::Delete | M::SetAcl | M::MultiDelete | M::MultiSet | M::MultiCheck => &[("version", O::Version)],
        M::Exists | M::GetConfig => &[("stat", O::Stat), ("watch", O::Watch)],
        M::GetChildren | M::RemoveWatches => &[("watch", O::Watch)],
        M::Get => &[("data_read_len", O::DataReadLen), ("stat", O::Stat), ("watch", O::Watch)],
        M::Set => &[("version", O::Version), ("stat", O::Stat)],
        M::GetAcl => &[("stat", O::Stat)],
        M::Watch | M::Wait | M::PersistentWait | M::Dispatch => &[("timeout", O::Timeout)],
        M::MultiGet => &[("data_read_len", O::DataReadLen)],
        M::AddWatch => &[("mode", O::WatchMode), ("queue", O::Queue), ("timeout", O::Timeout), ("watch", O::Watch)],
        M::RemoveAllWatches => &[("type", O::WatchType)],
        M::MultiGetChildren | M::Sync | M::GetEphemerals | M::GetAllChildrenNumber | M::Whoami | M::Multi => &[],
    };
    let found = known.iter().find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name)).map(|(_, o)| *o);
    let asynchronous = crate::calls::ASYNC_CALLS.iter().any(|&(_, m)| m == method);
    match found {
        Some(option) => option,
        None if asynchronous && b"callback".eq_ignore_ascii_case(name) => O::Callback,
        None => O::Ignored,
    }
}

// Node flags of create (ZOO_EPHEMERAL, ZOO_SEQUENCE), as the C client numbers them.
pub const FLAG_EPHEMERAL: i32 = 1;
pub const FLAG_SEQUENCE: i32 = 2;

/// The C client's create modes (`mode` option of create, ZooKeeper 3.5 and later):
/// the original's flag combinations, then containers and TTL nodes.
pub const MODE_PERSISTENT: i32 = 0;
pub const MODE_PERSISTENT_SEQUENTIAL: i32 = FLAG_SEQUENCE;
pub const MODE_EPHEMERAL_SEQUENTIAL: i32 = FLAG_EPHEMERAL | FLAG_SEQUENCE;
pub const MODE_CONTAINER: i32 = 4;
pub const MODE_PERSISTENT_WITH_TTL: i32 = 5;
pub const MODE_PERSISTENT_SEQUENTIAL_WITH_TTL: i32 = 6;

/// The largest TTL the server takes (ms): 40 bits of the ephemeral owner field.
pub const MAX_TTL_MS: i64 = 0xFF_FFFF_FFFF;
/// `ZOO_EPHEMERAL | ZOO_SEQUENCE`.
pub const CREATE_FLAGS: i32 = FLAG_EPHEMERAL | FLAG_SEQUENCE;

/// A handle's `data_read_len`, as the option and the attribute check it.
///
/// # Errors
/// The croak message (`invalid data read length: N`) for a negative value.
pub fn data_read_len(value: i32) -> Result<i32, String> {
    if value >= 0 {
        Ok(value)
    } else {
        Err(message::invalid("data read length", value))
    }
}

/// A path read length of at least `min` (2 for create's option, 0 for the attribute,
/// as in the original).
///
/// # Errors
/// The croak message (`invalid path read length: N`) for a value below `min`.
pub fn path_read_len(value: i32, min: i32) -> Result<i32, String> {
    if value >= min {
        Ok(value)
    } else {
        Err(message::invalid("path read length", value))
    }
}

impl Options {
    /// The defaults of `method`'s options.
    pub fn new(method: NzkMethod) -> Options {
        Options {
            method,
            session_timeout: DEFAULT_SESSION_TIMEOUT_MS,
            flags: 0,
            path_read_len: -1,
            data_read_len: -1,
            version: -1,
            ttl: None,
            watch_mode: WATCH_PERSISTENT,
            queue: DEFAULT_QUEUE,
            watch_type: WATCHTYPE_ANY,
            timeout: None,
            stat: None,
            watch: None,
            acl: None,
            session_id: None,
            secure: None,
            read_only: false,
            callback: Cell::new(None),
            watch_callback: Cell::new(None),
        }
    }

    pub fn set_callback(&mut self, callback: Callback) {
        self.callback.set(Some(callback));
    }

    /// The `callback` option, taken: the call that takes it is asynchronous.
    pub fn take_callback(&self) -> Option<Callback> {
        self.callback.take()
    }

    /// Sets `watch` to a code ref (replacing a watch object given earlier).
    pub fn set_watch_callback(&mut self, callback: Callback) {
        self.watch = None;
        self.watch_callback.set(Some(callback));
    }

    /// Whether the method arms a one-shot watch with its `watch` option (others
    /// take it as a persistent watch's code ref, or as what to remove).
    pub fn arms_watch(&self) -> bool {
        matches!(self.method, NzkMethod::Exists | NzkMethod::Get | NzkMethod::GetChildren | NzkMethod::GetConfig)
    }

    fn has_watch_callback(&self) -> bool {
        let callback = self.watch_callback.take();
        let given = callback.is_some();
        self.watch_callback.set(callback);
        given
    }

    /// `watch`'s code ref, taken by the call that arms it.
    pub fn take_watch_callback(&self) -> Option<Callback> {
        self.watch_callback.take()
    }

    /// What option `name` means to this call's method.
    pub fn find(&self, name: &[u8]) -> NzkOption {
        option(self.method, name)
    }

    /// Sets an integer option (already truncated to a C int, as the original did).
    /// Other options are ignored.
    ///
    /// # Errors
    /// The croak message (`invalid <what>: N`) when the value is out of range for
    /// its option; the option is then left as it was.
    pub fn set_int(&mut self, option: NzkOption, value: i32) -> Result<(), String> {
        match option {
            NzkOption::SessionTimeout if (0..=MAX_SESSION_TIMEOUT_MS).contains(&value) => self.session_timeout = value,
            NzkOption::SessionTimeout => return Err(message::invalid("session timeout", value)),
            NzkOption::Flags if value & !CREATE_FLAGS == 0 => self.flags = value,
            NzkOption::Flags => return Err(message::invalid("create flags", value)),
            NzkOption::Mode if (MODE_PERSISTENT..=MODE_PERSISTENT_SEQUENTIAL_WITH_TTL).contains(&value) => {
                self.flags = value;
            }
            NzkOption::Mode => return Err(message::invalid("create mode", value)),
            NzkOption::PathReadLen => self.path_read_len = path_read_len(value, 2)?,
            NzkOption::DataReadLen => self.data_read_len = data_read_len(value)?,
            NzkOption::Version if value >= 0 => self.version = value,
            NzkOption::Version => return Err(message::invalid("version requirement", value)),
            NzkOption::TlsVerifyHostname => self.secure().tls.verify_hostname = value != 0,
            NzkOption::ReadOnly => self.read_only = value != 0,
            NzkOption::WatchMode if (WATCH_PERSISTENT..=WATCH_PERSISTENT_RECURSIVE).contains(&value) => {
                self.watch_mode = value;
            }
            NzkOption::WatchMode => return Err(message::invalid("watch mode", value)),
            NzkOption::Queue => {
                self.queue = usize::try_from(value)
                    .ok()
                    .filter(|&n| n >= 1)
                    .ok_or_else(|| message::invalid("queue length", value))?;
            }
            NzkOption::WatchType if (WATCHTYPE_CHILD..=WATCHTYPE_ANY).contains(&value) => self.watch_type = value,
            NzkOption::WatchType => return Err(message::invalid("watch type", value)),
            _ => {}
        }
        Ok(())
    }

    /// Sets create's `ttl` (ms).
    ///
    /// # Errors
    /// The croak message unless the value is 1 to [`MAX_TTL_MS`].
    pub fn set_ttl(&mut self, value: i64) -> Result<(), String> {
        if !(1..=MAX_TTL_MS).contains(&value) {
            return Err(message::invalid("ttl", value));
        }
        self.ttl = Some(value);
        Ok(())
    }

    pub fn set_timeout(&mut self, value: u32) {
        self.timeout = Some(value);
    }

    /// The `timeout` option, else `default`.
    pub fn timeout_or(&self, default: u32) -> u32 {
        self.timeout.unwrap_or(default)
    }

    /// Sets the `session_id` option from the caller's bytes (copied).
    ///
    /// # Errors
    /// [`message::INVALID_SESSION_ID`] when `id` is not exactly [`SESSION_ID_LEN`]
    /// bytes long; the option is then left as it was.
    pub fn set_session_id(&mut self, id: &[u8]) -> Result<(), &'static str> {
        self.session_id = Some(id.try_into().map_err(|_| message::INVALID_SESSION_ID)?);
        Ok(())
    }

    /// Starts the ACL (create's `acl` option, `set_acl`'s list), replacing one given
    /// earlier in the same call.
    pub fn begin_acl(&mut self) -> &mut AclList {
        self.acl.insert(AclList::default())
    }

    /// The ACL given, or an empty one.
    pub fn acl(&self) -> &[zookeeper_client::Acl] {
        self.acl.as_ref().map_or(&[], |acl| &acl.entries)
    }

    /// The security settings, made on first use.
    pub fn secure(&mut self) -> &mut Secure {
        self.secure.get_or_insert_with(Secure::default)
    }

    /// Sets a string option (a file name).
    pub fn set_text(&mut self, option: NzkOption, value: &[u8]) {
        let value = Some(String::from_utf8_lossy(crate::validate::c_string(value)).into_owned());
        let tls = &mut self.secure().tls;
        match option {
            NzkOption::TlsCaFile => tls.ca_file = value,
            NzkOption::TlsCertFile => tls.cert_file = value,
            NzkOption::TlsKeyFile => tls.key_file = value,
            _ => {}
        }
    }

    /// Starts the `sasl_options` hash (a repeated option replaces the earlier one).
    pub fn begin_sasl(&mut self) -> &mut SaslSettings {
        self.secure().sasl.insert(SaslSettings::default())
    }

    /// Adds one entry to the `sasl_options` hash begun with `begin_sasl`.
    pub fn add_sasl(&mut self, key: &[u8], value: &[u8]) {
        if let Some(sasl) = self.secure().sasl.as_mut() {
            sasl.set(key, value);
        }
    }

    /// The stat object given, for the call.
    pub fn stat(&self) -> Option<&mut Stat> {
        self.stat.as_ref().map(Shared::get)
    }

    /// The watch object given, for the call.
    pub fn watch(&self) -> Option<&mut Watch> {
        self.watch.as_ref().map(Shared::get)
    }

    /// Checks that the options a method requires were given.
    ///
    /// # Errors
    /// The croak message: `remove_watches` without a `watch` says what its value must
    /// be, as a value of the wrong kind does.
    pub fn check(&self) -> Result<(), Vec<u8>> {
        if self.method == NzkMethod::RemoveWatches && self.watch.is_none() && !self.has_watch_callback() {
            return Err(message::not_object(b"watch", crate::attrs::NzkClass::Watch));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_case_insensitive_and_per_method() {
        assert_eq!(option(NzkMethod::Get, b"DATA_READ_LEN"), NzkOption::DataReadLen);
        assert_eq!(option(NzkMethod::GetChildren, b"stat"), NzkOption::Ignored);
        assert_eq!(option(NzkMethod::Create, b"Flags"), NzkOption::Flags);
        assert_eq!(option(NzkMethod::MultiCreate, b"ttl"), NzkOption::Ttl);
        assert_eq!(option(NzkMethod::MultiCreate, b"stat"), NzkOption::Ignored);
        assert_eq!(option(NzkMethod::Create, b"mode"), NzkOption::Mode);
        assert_eq!(option(NzkMethod::AddWatch, b"MODE"), NzkOption::WatchMode);
        assert_eq!(option(NzkMethod::RemoveAllWatches, b"type"), NzkOption::WatchType);
        assert_eq!(option(NzkMethod::RemoveWatches, b"type"), NzkOption::Ignored);
    }

    #[test]
    fn values_are_checked_with_the_original_messages() {
        let mut opts = Options::new(NzkMethod::New);
        assert_eq!(opts.set_int(NzkOption::Version, -1).unwrap_err(), "invalid version requirement: -1");
        assert_eq!(opts.set_int(NzkOption::Flags, 4).unwrap_err(), "invalid create flags: 4");
        assert_eq!(opts.set_int(NzkOption::PathReadLen, 1).unwrap_err(), "invalid path read length: 1");
        assert_eq!(opts.set_int(NzkOption::SessionTimeout, -3).unwrap_err(), "invalid session timeout: -3");
        assert!(opts.set_int(NzkOption::SessionTimeout, MAX_SESSION_TIMEOUT_MS).is_ok());
        assert!(opts.set_int(NzkOption::DataReadLen, 0).is_ok());
        assert_eq!(opts.set_int(NzkOption::Mode, 7).unwrap_err(), "invalid create mode: 7");
        assert!(opts.set_int(NzkOption::Mode, MODE_CONTAINER).is_ok());
        assert_eq!(opts.set_ttl(0).unwrap_err(), "invalid ttl: 0");
        assert!(opts.set_ttl(MAX_TTL_MS).is_ok());
        assert_eq!(opts.set_int(NzkOption::WatchMode, 2).unwrap_err(), "invalid watch mode: 2");
        assert_eq!(opts.set_int(NzkOption::WatchMode, -1).unwrap_err(), "invalid watch mode: -1");
        assert!(opts.set_int(NzkOption::WatchMode, WATCH_PERSISTENT_RECURSIVE).is_ok());
        assert_eq!(opts.set_int(NzkOption::Queue, 0).unwrap_err(), "invalid queue length: 0");
        assert!(opts.set_int(NzkOption::Queue, 1).is_ok());
        assert_eq!(opts.queue, 1);
        assert_eq!(opts.set_int(NzkOption::WatchType, 0).unwrap_err(), "invalid watch type: 0");
        assert_eq!(opts.set_int(NzkOption::WatchType, 4).unwrap_err(), "invalid watch type: 4");
        assert!(opts.set_int(NzkOption::WatchType, WATCHTYPE_CHILD).is_ok());
    }
}
