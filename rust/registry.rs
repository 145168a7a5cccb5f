//! Shared cluster connections: `mod_zookeeper`'s registry, for Perl.
//!
//! A process keeps one handle per named cluster, made on first use (so in an httpd
//! child, never in the parent before fork) and shared by every interpreter and thread
//! of the process. Callers take a [`Lease`] (a shared lock) to use it. When a caller
//! reports a connection failure the connection is marked failed; new callers then
//! wait (or get EBUSY) until every holder has released, and the next one makes a new
//! connection. Statuses are APR's values, as `mod_zookeeper` returns them.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use crate::caller::Caller;
use crate::error::{ZCONNECTIONLOSS, ZINVALIDSTATE, ZSESSIONEXPIRED};
use crate::handle::Handle;
use crate::options::{NzkMethod, Options, MAX_SESSION_TIMEOUT_MS};
use crate::{runtime, validate};

// APR's values (APR::Const in mod_perl), so that handlers compare them directly.
pub const SUCCESS: i32 = 0;
/// `APR_EBUSY` (`APR_OS_START_STATUS + 25`).
pub const EBUSY: i32 = 70025;
pub const ECONNABORTED: i32 = libc::ECONNABORTED;
pub const EINVAL: i32 = libc::EINVAL;
pub const EEXIST: i32 = libc::EEXIST;
/// `APR_ENOLOCK` (`APR_OS_START_ERROR + 9`).
pub const ENOLOCK: i32 = 20009;
/// `APR_NOTFOUND` (`APR_OS_START_STATUS + 15`): no cluster of that name.
pub const NOTFOUND: i32 = 70015;

/// `mod_zookeeper`'s default receive (session) timeout.
pub const DEFAULT_RECV_TIMEOUT_MS: i32 = 4000;

#[derive(Default)]
struct State {
    /// The process these holders belong to: a child forked while the parent held
    /// leases starts with none of its own.
    pid: u32,
    holders: usize,
    failed: bool,
    handle: Option<Arc<Handle>>,
    /// Counts the connections made, so holders can tell a new session (whose
    /// ephemeral nodes are gone) from the one they used before.
    generation: u64,
}

pub struct Cluster {
    pub name: String,
    pub hosts: String,
    pub recv_timeout: i32,
    state: Mutex<State>,
    changed: Condvar,
}

fn registry() -> MutexGuard<'static, HashMap<String, Arc<Cluster>>> {
    static REGISTRY: OnceLock<Mutex<HashMap<String, Arc<Cluster>>>> = OnceLock::new();
    REGISTRY.get_or_init(Default::default).lock().unwrap_or_else(PoisonError::into_inner)
}

/// Defines a cluster. Defining the same name again with the same settings is
/// allowed (each process may define lazily); other settings give EEXIST.
pub fn define(name: &str, hosts: &str, recv_timeout: i32) -> i32 {
    if name.is_empty()
        || !(1..=MAX_SESSION_TIMEOUT_MS).contains(&recv_timeout)
        || validate::check_hosts(hosts.as_bytes()).is_err()
    {
        return EINVAL;
    }
    let mut clusters = registry();
    if let Some(known) = clusters.get(name) {
        return if known.hosts == hosts && known.recv_timeout == recv_timeout { SUCCESS } else { EEXIST };
    }
    let cluster = Cluster {
        name: name.to_owned(),
        hosts: hosts.to_owned(),
        recv_timeout,
        state: Mutex::default(),
        changed: Condvar::new(),
    };
    clusters.insert(name.to_owned(), Arc::new(cluster));
    SUCCESS
}

pub fn lookup(name: &str) -> bool {
    registry().contains_key(name)
}

/// A holder's share of a cluster connection; released on drop.
pub struct Lease {
    pid: u32,
    pub cluster: Arc<Cluster>,
    /// What every `handle()` object of this lease holds: the lease's own result of
    /// the last call, whichever of its objects made it (another thread's lease on the
    /// same connection has its own).
    pub caller: Arc<Caller>,
    pub generation: u64,
    released: bool,
}

impl Cluster {
    fn lock(&self) -> MutexGuard<'_, State> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let pid = runtime::pid();
        if state.pid != pid {
            // Inherited through fork: the parent's holders and connection are not ours.
            state.pid = pid;
            state.holders = 0;
        }
        state
    }

    fn bound(&self) -> Duration {
        #[allow(clippy::cast_sign_loss, reason = "not negative: `define` accepts 1..=MAX_SESSION_TIMEOUT_MS only")]
        Duration::from_millis(2 * self.recv_timeout as u64).max(Duration::from_secs(1))
    }

    /// Makes a new connection in place of a failed (or inherited) one. Only called
    /// with no holders.
    fn reconnect(&self, state: &mut State) -> i32 {
        if let Some(old) = state.handle.take() {
            old.abandon();
        }
        let mut opts = Options::new(NzkMethod::New);
        opts.session_timeout = self.recv_timeout;
        match Handle::new(self.hosts.as_bytes(), &opts) {
            Ok(handle) => {
                state.handle = Some(Arc::new(handle));
                state.failed = false;
                state.generation += 1;
                SUCCESS
            }
            Err(_) => ECONNABORTED,
        }
    }
}

/// Takes a share of the named cluster's connection, making it if needed. With
/// `wait`, blocks (bounded) while a failed connection still has holders; without,
/// returns EBUSY at once in that case.
///
/// # Errors
/// An APR status: NOTFOUND for a name not defined, EBUSY while a failed connection
/// still has holders (at once without `wait`, else once the bound of twice the
/// receive timeout passed), ECONNABORTED when the new connection cannot be made.
///
/// # Panics
/// Never: the loop leaves only with a usable connection in the state.
pub fn acquire(name: &str, wait: bool) -> Result<Lease, i32> {
    let cluster = registry().get(name).cloned().ok_or(NOTFOUND)?;
    let deadline = Instant::now() + cluster.bound();
    let mut state = cluster.lock();
    loop {
        let usable = state.handle.as_ref().is_some_and(|h| !h.is_inherited() && !h.is_dead());
        if !usable {
            state.failed = true;
        }
        if !state.failed {
            break;
        }
        if state.holders == 0 {
            let status = cluster.reconnect(&mut state);
            if status != SUCCESS {
                return Err(status);
            }
            break;
        }
        if !wait {
            return Err(EBUSY);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(EBUSY);
        }
        state = cluster.changed.wait_timeout(state, left).unwrap_or_else(PoisonError::into_inner).0;
    }
    state.holders += 1;
    let handle = state.handle.clone().expect("a usable connection");
    let generation = state.generation;
    drop(state);
    let caller = Arc::new(Caller::new(handle));
    Ok(Lease { pid: runtime::pid(), cluster, caller, generation, released: false })
}

impl Lease {
    /// Gives the share back; EINVAL if it was already given back.
    pub fn release(&mut self) -> i32 {
        if self.released {
            return EINVAL;
        }
        self.released = true;
        let mut state = self.cluster.lock();
        if self.pid == state.pid {
            state.holders -= 1;
        }
        drop(state);
        self.cluster.changed.notify_all();
        SUCCESS
    }

    /// A ZooKeeper call on the connection failed with `ret`. Connection-level
    /// failures mark the connection failed and give ECONNABORTED.
    pub fn error(&self, ret: i32) -> i32 {
        if !matches!(ret, ZCONNECTIONLOSS | ZINVALIDSTATE | ZSESSIONEXPIRED) {
            return SUCCESS;
        }
        let mut state = self.cluster.lock();
        if state.generation == self.generation {
            state.failed = true;
        }
        ECONNABORTED
    }

    pub fn is_released(&self) -> bool {
        self.released
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if !self.released {
            self.release();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_are_checked_and_idempotent() {
        assert_eq!(define("t1", "127.0.0.1:2181", 4000), SUCCESS);
        assert_eq!(define("t1", "127.0.0.1:2181", 4000), SUCCESS);
        assert_eq!(define("t1", "127.0.0.1:2182", 4000), EEXIST);
        assert_eq!(define("t2", "127.0.0.1:2181", 0), EINVAL);
        assert_eq!(define("t3", "localhost", 4000), EINVAL);
        assert!(lookup("t1"));
        assert!(!lookup("t4"));
        assert_eq!(acquire("t4", true).err(), Some(NOTFOUND));
    }

    #[test]
    fn a_failed_connection_is_replaced_once_every_holder_released() {
        assert_eq!(define("r1", "127.0.0.1:1", 4000), SUCCESS);
        let mut first = acquire("r1", true).expect("first lease");
        let second = acquire("r1", false).expect("shared lease");
        assert_eq!(first.generation, second.generation);
        assert_eq!(first.error(ZCONNECTIONLOSS), ECONNABORTED);
        assert_eq!(acquire("r1", false).err(), Some(EBUSY), "busy while a reconnect is pending");
        first.release();
        assert_eq!(first.release(), EINVAL);
        drop(second);
        let third = acquire("r1", false).expect("new connection");
        assert_eq!(third.generation, first.generation + 1);
    }
}
