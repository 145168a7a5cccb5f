//! The constants Perl sees, in one table: each row is a Perl package, how the
//! package exports the constant (its export tag), the constant's Perl name and its
//! value. `lib/Net/ZooKeeper.pm` and `lib/Net/ZooKeeper/Cluster.pm` install them at
//! load time (through `nzk_constant` in [`crate::ffi::constants`]), so the Perl side
//! holds no constant values of its own.
//!
//! No number is written here: every value is the Rust constant where that fact is
//! defined (error codes and their names in [`error::CODES`], event and state codes in
//! [`watch`], permissions and predefined ACLs in [`acl`], node flags and the session
//! timeout limit in [`options`], log levels in [`log`], APR statuses and the default
//! receive timeout in [`registry`]).

use zookeeper_client::Acls;

use crate::{acl, error, log, options, registry, watch};

pub const NET_ZOOKEEPER: &str = "Net::ZooKeeper";
pub const CLUSTER: &str = "Net::ZooKeeper::Cluster";

/// How the package exports a constant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Export {
    /// In this export tag (and so in `@EXPORT_OK`; for `Net::ZooKeeper` also in
    /// `:all`).
    Tag(&'static str),
    /// In this export tag, one added since the original (ZooKeeper 3.5 and later):
    /// not in `:all`, and without the original's argument quirks, so that the
    /// original's tags stay exactly as they were.
    Added(&'static str),
    /// In `@EXPORT_OK` only.
    Name,
    /// Not exported: callers use its full name. `Net::ZooKeeper`'s constants of this
    /// kind were added after the original and keep none of its argument quirks.
    No,
}

#[derive(Clone, Copy, Debug)]
pub enum Value {
    Int(i64),
    /// A predefined ACL: Perl gets a fresh array of `{ perms, scheme, id }` hashes
    /// on every call.
    Acl(fn() -> Acls<'static>),
}

#[derive(Clone, Copy, Debug)]
pub struct Constant {
    pub package: &'static str,
    pub export: Export,
    pub name: &'static str,
    pub value: Value,
}

const fn int(package: &'static str, export: Export, name: &'static str, value: i32) -> Constant {
    Constant { package, export, name, value: Value::Int(value as i64) }
}

const fn acl(name: &'static str, list: fn() -> Acls<'static>) -> Constant {
    Constant { package: NET_ZOOKEEPER, export: ACLS, name, value: Value::Acl(list) }
}

/// A result code of [`error`], under the name it has there.
macro_rules! code {
    ($export:expr, $name:ident) => {
        int(NET_ZOOKEEPER, $export, stringify!($name), error::$name)
    };
}

// Net::ZooKeeper's tags: the original's.
const ERRORS: Export = Export::Tag("errors");
const NODE_FLAGS: Export = Export::Tag("node_flags");
const ACL_PERMS: Export = Export::Tag("acl_perms");
const ACLS: Export = Export::Tag("acls");
const EVENTS: Export = Export::Tag("events");
const STATES: Export = Export::Tag("states");
const LOG_LEVELS: Export = Export::Tag("log_levels");
// Net::ZooKeeper's tags added since the original (ZooKeeper 3.5 and later).
const ERRORS_EXT: Export = Export::Added("errors_ext");
const STATES_EXT: Export = Export::Added("states_ext");
const CREATE_MODES: Export = Export::Added("create_modes");
const WATCH_MODES: Export = Export::Added("watch_modes");
const WATCH_TYPES: Export = Export::Added("watch_types");
// Net::ZooKeeper::Cluster's.
const STATUS: Export = Export::Tag("status");

/// Every constant, each tag's in the order the tag lists them. The ACLs are in the
/// order the original matched an ACL constant's argument against their names.
pub const CONSTANTS: &[Constant] = &[
    code!(ERRORS, ZOK),
    code!(ERRORS, ZSYSTEMERROR),
    code!(ERRORS, ZRUNTIMEINCONSISTENCY),
    code!(ERRORS, ZDATAINCONSISTENCY),
    code!(ERRORS, ZCONNECTIONLOSS),
    code!(ERRORS, ZMARSHALLINGERROR),
    code!(ERRORS, ZUNIMPLEMENTED),
    code!(ERRORS, ZOPERATIONTIMEOUT),
    code!(ERRORS, ZBADARGUMENTS),
    code!(ERRORS, ZINVALIDSTATE),
    code!(ERRORS, ZAPIERROR),
    code!(ERRORS, ZNONODE),
    code!(ERRORS, ZNOAUTH),
    code!(ERRORS, ZBADVERSION),
    code!(ERRORS, ZNOCHILDRENFOREPHEMERALS),
    code!(ERRORS, ZNODEEXISTS),
    code!(ERRORS, ZNOTEMPTY),
    code!(ERRORS, ZSESSIONEXPIRED),
    code!(ERRORS, ZINVALIDCALLBACK),
    code!(ERRORS, ZINVALIDACL),
    code!(ERRORS, ZAUTHFAILED),
    code!(ERRORS, ZCLOSING),
    code!(ERRORS, ZNOTHING),
    // In no tag, so that the original's tags stay as they were.
    code!(Export::No, ZSSLCONNECTIONERROR),
    int(NET_ZOOKEEPER, NODE_FLAGS, "ZOO_EPHEMERAL", options::FLAG_EPHEMERAL),
    int(NET_ZOOKEEPER, NODE_FLAGS, "ZOO_SEQUENCE", options::FLAG_SEQUENCE),
    int(NET_ZOOKEEPER, ACL_PERMS, "ZOO_PERM_READ", acl::PERM_READ),
    int(NET_ZOOKEEPER, ACL_PERMS, "ZOO_PERM_WRITE", acl::PERM_WRITE),
    int(NET_ZOOKEEPER, ACL_PERMS, "ZOO_PERM_CREATE", acl::PERM_CREATE),
    int(NET_ZOOKEEPER, ACL_PERMS, "ZOO_PERM_DELETE", acl::PERM_DELETE),
    int(NET_ZOOKEEPER, ACL_PERMS, "ZOO_PERM_ADMIN", acl::PERM_ADMIN),
    int(NET_ZOOKEEPER, ACL_PERMS, "ZOO_PERM_ALL", acl::PERM_ALL),
    acl("ZOO_OPEN_ACL_UNSAFE", acl::OPEN_ACL_UNSAFE),
    acl("ZOO_READ_ACL_UNSAFE", acl::READ_ACL_UNSAFE),
    acl("ZOO_CREATOR_ALL_ACL", acl::CREATOR_ALL_ACL),
    int(NET_ZOOKEEPER, EVENTS, "ZOO_CREATED_EVENT", watch::CREATED_EVENT),
    int(NET_ZOOKEEPER, EVENTS, "ZOO_DELETED_EVENT", watch::DELETED_EVENT),
    int(NET_ZOOKEEPER, EVENTS, "ZOO_CHANGED_EVENT", watch::CHANGED_EVENT),
    int(NET_ZOOKEEPER, EVENTS, "ZOO_CHILD_EVENT", watch::CHILD_EVENT),
    int(NET_ZOOKEEPER, EVENTS, "ZOO_SESSION_EVENT", watch::SESSION_EVENT),
    int(NET_ZOOKEEPER, EVENTS, "ZOO_NOTWATCHING_EVENT", watch::NOTWATCHING_EVENT),
    int(NET_ZOOKEEPER, STATES, "ZOO_EXPIRED_SESSION_STATE", watch::EXPIRED_SESSION_STATE),
    int(NET_ZOOKEEPER, STATES, "ZOO_AUTH_FAILED_STATE", watch::AUTH_FAILED_STATE),
    int(NET_ZOOKEEPER, STATES, "ZOO_CONNECTING_STATE", watch::CONNECTING_STATE),
    int(NET_ZOOKEEPER, STATES, "ZOO_ASSOCIATING_STATE", watch::ASSOCIATING_STATE),
    int(NET_ZOOKEEPER, STATES, "ZOO_CONNECTED_STATE", watch::CONNECTED_STATE),
    int(NET_ZOOKEEPER, LOG_LEVELS, "ZOO_LOG_LEVEL_OFF", log::OFF),
    int(NET_ZOOKEEPER, LOG_LEVELS, "ZOO_LOG_LEVEL_ERROR", log::ERROR),
    int(NET_ZOOKEEPER, LOG_LEVELS, "ZOO_LOG_LEVEL_WARN", log::WARN),
    int(NET_ZOOKEEPER, LOG_LEVELS, "ZOO_LOG_LEVEL_INFO", log::INFO),
    int(NET_ZOOKEEPER, LOG_LEVELS, "ZOO_LOG_LEVEL_DEBUG", log::DEBUG),
    // The server's codes the original had no names for.
    code!(ERRORS_EXT, ZNEWCONFIGNOQUORUM),
    code!(ERRORS_EXT, ZRECONFIGINPROGRESS),
    code!(ERRORS_EXT, ZSESSIONMOVED),
    code!(ERRORS_EXT, ZNOTREADONLY),
    code!(ERRORS_EXT, ZEPHEMERALONLOCALSESSION),
    code!(ERRORS_EXT, ZNOWATCHER),
    code!(ERRORS_EXT, ZRECONFIGDISABLED),
    code!(ERRORS_EXT, ZSESSIONCLOSEDREQUIRESASLAUTH),
    code!(ERRORS_EXT, ZQUOTAEXCEEDED),
    code!(ERRORS_EXT, ZTHROTTLEDOP),
    int(NET_ZOOKEEPER, STATES_EXT, "ZOO_READONLY_STATE", watch::READONLY_STATE),
    int(NET_ZOOKEEPER, STATES_EXT, "ZOO_NOTCONNECTED_STATE", watch::NOTCONNECTED_STATE),
    // ZOO_EPHEMERAL (1), a mode too, is in :node_flags.
    int(NET_ZOOKEEPER, CREATE_MODES, "ZOO_PERSISTENT", options::MODE_PERSISTENT),
    int(NET_ZOOKEEPER, CREATE_MODES, "ZOO_PERSISTENT_SEQUENTIAL", options::MODE_PERSISTENT_SEQUENTIAL),
    int(NET_ZOOKEEPER, CREATE_MODES, "ZOO_EPHEMERAL_SEQUENTIAL", options::MODE_EPHEMERAL_SEQUENTIAL),
    int(NET_ZOOKEEPER, CREATE_MODES, "ZOO_CONTAINER", options::MODE_CONTAINER),
    int(NET_ZOOKEEPER, CREATE_MODES, "ZOO_PERSISTENT_WITH_TTL", options::MODE_PERSISTENT_WITH_TTL),
    int(
        NET_ZOOKEEPER,
        CREATE_MODES,
        "ZOO_PERSISTENT_SEQUENTIAL_WITH_TTL",
        options::MODE_PERSISTENT_SEQUENTIAL_WITH_TTL,
    ),
    int(NET_ZOOKEEPER, WATCH_MODES, "ZOO_WATCH_PERSISTENT", watch::WATCH_PERSISTENT),
    int(NET_ZOOKEEPER, WATCH_MODES, "ZOO_WATCH_PERSISTENT_RECURSIVE", watch::WATCH_PERSISTENT_RECURSIVE),
    int(NET_ZOOKEEPER, WATCH_TYPES, "ZWATCHTYPE_CHILD", watch::WATCHTYPE_CHILD),
    int(NET_ZOOKEEPER, WATCH_TYPES, "ZWATCHTYPE_DATA", watch::WATCHTYPE_DATA),
    int(NET_ZOOKEEPER, WATCH_TYPES, "ZWATCHTYPE_ANY", watch::WATCHTYPE_ANY),
    // APR's statuses, as mod_zookeeper returns them.
    int(CLUSTER, STATUS, "SUCCESS", registry::SUCCESS),
    int(CLUSTER, STATUS, "EBUSY", registry::EBUSY),
    int(CLUSTER, STATUS, "ECONNABORTED", registry::ECONNABORTED),
    int(CLUSTER, STATUS, "EINVAL", registry::EINVAL),
    int(CLUSTER, STATUS, "ENOLOCK", registry::ENOLOCK),
    int(CLUSTER, STATUS, "NOTFOUND", registry::NOTFOUND),
    int(CLUSTER, STATUS, "EEXIST", registry::EEXIST),
    int(CLUSTER, Export::Name, "DEFAULT_RECV_TIMEOUT", registry::DEFAULT_RECV_TIMEOUT_MS),
    // The largest receive timeout `define` accepts (for Apache2::ZooKeeper's check).
    int(CLUSTER, Export::No, "MAX_RECV_TIMEOUT", options::MAX_SESSION_TIMEOUT_MS),
];

#[cfg(test)]
mod tests {
    use zookeeper_client::{EventType, Permission, SessionState};

    use super::*;
    use crate::settings;

    fn row(package: &str, name: &str) -> Constant {
        let mut rows = CONSTANTS.iter().filter(|c| c.package == package && c.name == name);
        let found = *rows.next().unwrap_or_else(|| panic!("no {package}::{name}"));
        assert!(rows.next().is_none(), "{package}::{name} twice");
        found
    }

    fn int_of(package: &str, name: &str) -> i32 {
        match row(package, name).value {
            Value::Int(value) => i32::try_from(value).expect("an i32"),
            Value::Acl(_) => panic!("{package}::{name} is an ACL"),
        }
    }

    fn nzk(name: &str) -> i32 {
        int_of(NET_ZOOKEEPER, name)
    }

    #[test]
    fn names_are_unique_per_package_and_packages_known() {
        for (i, c) in CONSTANTS.iter().enumerate() {
            assert!([NET_ZOOKEEPER, CLUSTER].contains(&c.package), "{}: unknown package", c.name);
            assert!(
                CONSTANTS[i + 1..].iter().all(|d| d.package != c.package || d.name != c.name),
                "{}::{} twice",
                c.package,
                c.name
            );
            if let Export::Tag(tag) | Export::Added(tag) = c.export {
                assert!(!tag.is_empty() && tag != "all" && tag != "functions", "{}: tag {tag:?}", c.name);
            }
        }
    }

    #[test]
    fn error_rows_are_the_codes_of_the_error_table() {
        let is_code = |c: &&Constant| {
            c.package == NET_ZOOKEEPER
                && c.name.starts_with('Z')
                && !c.name.starts_with("ZOO_")
                && !c.name.starts_with("ZWATCHTYPE_")
        };
        for c in CONSTANTS.iter().filter(is_code) {
            let code = error::CODES.iter().find(|e| e.name == c.name).unwrap_or_else(|| panic!("{}", c.name));
            assert_eq!(nzk(c.name), code.code, "{}", c.name);
            assert_ne!(error::zerror(code.code.into()), error::UNKNOWN_ERROR, "{} has a text", c.name);
        }
    }

    #[test]
    fn every_value_is_its_source() {
        // What the client reports, through the functions that turn it into codes.
        assert_eq!(nzk("ZOO_CREATED_EVENT"), watch::node_event_code(EventType::NodeCreated));
        assert_eq!(nzk("ZOO_DELETED_EVENT"), watch::node_event_code(EventType::NodeDeleted));
        assert_eq!(nzk("ZOO_CHANGED_EVENT"), watch::node_event_code(EventType::NodeDataChanged));
        assert_eq!(nzk("ZOO_CHILD_EVENT"), watch::node_event_code(EventType::NodeChildrenChanged));
        assert_eq!(nzk("ZOO_SESSION_EVENT"), watch::node_event_code(EventType::Session));
        assert_eq!(nzk("ZOO_NOTWATCHING_EVENT"), watch::NOTWATCHING_EVENT);
        assert_eq!(Some(nzk("ZOO_CONNECTING_STATE")), Some(watch::state_code(SessionState::Disconnected)));
        assert_eq!(Some(nzk("ZOO_CONNECTED_STATE")), Some(watch::state_code(SessionState::SyncConnected)));
        assert_eq!(Some(nzk("ZOO_EXPIRED_SESSION_STATE")), Some(watch::state_code(SessionState::Expired)));
        assert_eq!(Some(nzk("ZOO_AUTH_FAILED_STATE")), Some(watch::state_code(SessionState::AuthFailed)));
        assert_eq!(nzk("ZOO_ASSOCIATING_STATE"), watch::ASSOCIATING_STATE);
        // The client's permission values.
        for (name, permission) in [
            ("ZOO_PERM_READ", Permission::READ),
            ("ZOO_PERM_WRITE", Permission::WRITE),
            ("ZOO_PERM_CREATE", Permission::CREATE),
            ("ZOO_PERM_DELETE", Permission::DELETE),
            ("ZOO_PERM_ADMIN", Permission::ADMIN),
            ("ZOO_PERM_ALL", Permission::ALL),
        ] {
            assert_eq!(acl::permission(nzk(name)), permission, "{name}");
            assert_eq!(acl::bits(permission), nzk(name), "{name}");
        }
        for (name, list) in [
            ("ZOO_OPEN_ACL_UNSAFE", Acls::anyone_all()),
            ("ZOO_READ_ACL_UNSAFE", Acls::anyone_read()),
            ("ZOO_CREATOR_ALL_ACL", Acls::creator_all()),
        ] {
            let Value::Acl(got) = row(NET_ZOOKEEPER, name).value else { panic!("{name} is not an ACL") };
            assert_eq!(got(), list, "{name}");
        }
        // What the core accepts and reports.
        assert_eq!(nzk("ZOO_EPHEMERAL") | nzk("ZOO_SEQUENCE"), options::CREATE_FLAGS);
        assert!(settings::set_log_level(nzk("ZOO_LOG_LEVEL_OFF") - 1).is_err());
        assert!(settings::set_log_level(nzk("ZOO_LOG_LEVEL_DEBUG") + 1).is_err());
        let status = |name| int_of(CLUSTER, name);
        let max = status("MAX_RECV_TIMEOUT");
        assert_eq!(registry::define("constants-test", "127.0.0.1:2181", max + 1), status("EINVAL"));
        assert_eq!(registry::define("constants-test", "127.0.0.1:2181", max), status("SUCCESS"));
        assert_eq!(registry::define("constants-test", "127.0.0.1:2182", max), status("EEXIST"));
        assert_eq!(registry::acquire("constants-test-none", false).err(), Some(status("NOTFOUND")));
    }
}
