//! Rust core of `Net::ZooKeeper`.
//!
//! Everything with state lives here: handles and their sessions, stat snapshots, watch
//! objects and persistent watches, ACL lists, the per-process runtime and the global
//! settings. The XS layer (`xs/ZooKeeper.xs`) only converts Perl values and calls the C
//! ABI in [`ffi`]; the constants Perl installs at load time come from [`constants`].

pub mod acl;
pub mod attrs;
pub mod callback;
pub mod caller;
pub mod calls;
pub mod constants;
pub mod dispatch;
pub mod error;
pub mod ffi;
pub mod handle;
pub mod log;
pub mod message;
pub mod multi;
pub mod names;
pub mod options;
pub mod persistent;
pub mod registry;
pub mod runtime;
pub mod secure;
pub mod settings;
pub mod shared;
pub mod stat;
pub mod validate;
pub mod watch;
