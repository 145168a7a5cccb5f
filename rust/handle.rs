//! Handles: one ZooKeeper session each, connected in the background.
//!
//! `new()` returns at once, as the original's did; the connection is made by a task
//! on the shared runtime, and the first call waits for it. A call that finds the last
//! attempt failed starts a new one, so a server that comes up later is found, and a
//! server that refuses connections fails calls at once with ZCONNECTIONLOSS.
//!
//! Every wait is bounded by the session timeout. A handle records the process that
//! made it: after `fork()` the child can neither use it nor close its session.

use std::future::Future;
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;
use zookeeper_client::{Acl, Client, CreateMode, CreateOptions, OneshotWatcher, SessionId, SessionInfo, SessionState};

use crate::error::{self, ZINVALIDSTATE, ZOPERATIONTIMEOUT};
use crate::log::{DEBUG, INFO};
use crate::options::{Options, FLAG_EPHEMERAL, FLAG_SEQUENCE, SESSION_ID_LEN};
use crate::secure::{Prepared, Secure};
use crate::stat::Stat;
use crate::watch::{self, Record, Watch, Watches};
use crate::{runtime, settings, validate, zlog};

/// Default of the `data_read_len` and `path_read_len` attributes.
pub const DEFAULT_READ_LEN: i32 = 1023;

/// The shortest bound on a wait, whatever the session timeout.
const MIN_BOUND: Duration = Duration::from_secs(1);

/// How long a close waits for the server to confirm it. The original's close waited
/// for its I/O thread, which a silent server holds for about this long.
pub const CLOSE_BOUND: Duration = Duration::from_millis(1500);

type Connecting = JoinHandle<Result<Client, zookeeper_client::Error>>;

enum Conn {
    /// A connect task is running.
    Connecting(Connecting),
    Ready(Arc<Client>),
    /// The last attempt failed; the next call tries again.
    Failed,
    /// The session expired or failed to authenticate: calls fail with ZINVALIDSTATE.
    Dead,
    Closed,
}

pub struct Handle {
    pid: u32,
    hosts: Vec<u8>,
    connect_string: String,
    requested_timeout: i32,
    requested_session: Option<[u8; SESSION_ID_LEN]>,
    read_only: bool,
    secure: Prepared,
    conn: Mutex<Conn>,
    /// Id and password of the session once made; kept after it expires.
    session: Mutex<Vec<u8>>,
    /// The server's session timeout once connected (0 before): the bound of calls.
    negotiated_timeout: AtomicI32,
    pub(crate) watches: Arc<Watches>,
    /// The persistent watches made through the handle (see [`crate::persistent`]).
    pub(crate) persistent: crate::persistent::Registry,
    pub data_read_len: AtomicI32,
    pub path_read_len: AtomicI32,
    pub watch_timeout: AtomicU32,
}

/// Result of a call: a value, or the ZooKeeper code it failed with: `ZBADARGUMENTS`
/// for a path the C client would refuse (the server is not asked), `ZINVALIDSTATE`
/// once the session is over, `ZCONNECTIONLOSS` when no server could be reached or
/// the connection broke, `ZOPERATIONTIMEOUT` when the session timeout passed, else
/// the code of the server's answer.
pub type CallResult<T> = Result<T, i32>;

impl Handle {
    /// A handle for `hosts`, connecting in the background.
    ///
    /// # Errors
    /// The errno to report with `undef` for a bad host list (see [`validate::hosts`])
    /// or an unreadable password, CA, certificate or key file (see
    /// [`Secure::prepare`]).
    pub fn new(hosts: &[u8], opts: &Options) -> Result<Handle, i32> {
        let connect_string = validate::hosts(hosts)?;
        let secure = match opts.secure.as_ref() {
            Some(secure) => secure.prepare()?,
            None => Secure::default().prepare()?,
        };
        let handle = Handle {
            pid: runtime::pid(),
            hosts: hosts.to_vec(),
            connect_string,
            requested_timeout: opts.session_timeout,
            requested_session: opts.session_id,
            read_only: opts.read_only,
            secure,
            conn: Mutex::new(Conn::Failed),
            session: Mutex::default(),
            negotiated_timeout: AtomicI32::new(0),
            watches: Arc::default(),
            persistent: crate::persistent::Registry::default(),
            data_read_len: AtomicI32::new(DEFAULT_READ_LEN),
            path_read_len: AtomicI32::new(DEFAULT_READ_LEN),
            watch_timeout: AtomicU32::new(watch::DEFAULT_TIMEOUT_MS),
        };
        // Once per handle, as zookeeper_init logs them (connects are retried).
        crate::log::client_environment();
        zlog!(
            INFO,
            "zookeeper_init",
            "Initiating client connection, host={} sessionTimeout={}",
            handle.connect_string,
            handle.requested_timeout
        );
        *handle.lock() = Conn::Connecting(handle.spawn_connect());
        Ok(handle)
    }

    /// Whether this handle was made by another process (inherited through fork).
    pub fn is_inherited(&self) -> bool {
        self.pid != runtime::pid()
    }

    /// Whether the session is over for good (expired, failed to authenticate, closed).
    pub fn is_dead(&self) -> bool {
        let mut conn = self.lock();
        self.settle(&mut conn);
        match &*conn {
            Conn::Ready(client) => client.state().is_terminated(),
            Conn::Dead | Conn::Closed => true,
            _ => false,
        }
    }

    /// Gives the connection up for a new one: armed watches hear that the session is
    /// gone (they would otherwise wait for nothing), then it is closed.
    pub fn abandon(&self) {
        if !self.is_inherited() {
            self.watches.session_event(watch::EXPIRED_SESSION_STATE);
            self.persistent.end_all(Some(watch::EXPIRED_SESSION_STATE));
        }
        self.close();
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    fn lock(&self) -> MutexGuard<'_, Conn> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn spawn_connect(&self) -> Connecting {
        let mut connector = Client::connector();
        #[allow(clippy::cast_sign_loss, reason = "not negative: the option and `registry::define` check the range")]
        connector.session_timeout(Duration::from_millis(self.requested_timeout as u64));
        connector.fail_eagerly();
        connector.readonly(self.read_only);
        if settings::deterministic_conn_order() {
            connector.deterministic_order();
        }
        if let Some(bytes) = self.requested_session {
            let id = i64::from_ne_bytes(bytes[..8].try_into().expect("8 bytes"));
            connector.session(SessionInfo::from_parts(SessionId(id), bytes[8..].to_vec()));
        }
        self.secure.apply(&mut connector);
        let tls = self.secure.is_tls();
        let hosts = self.connect_string.clone();
        runtime::get().spawn(async move {
            if tls {
                connector.secure_connect(&hosts).await
            } else {
                connector.connect(&hosts).await
            }
        })
    }

    /// The bound on one call: the session timeout (negotiated once known).
    pub(crate) fn bound(&self) -> Duration {
        let ms = u64::try_from(self.known_timeout_ms()).unwrap_or(0);
        Duration::from_millis(ms).max(MIN_BOUND)
    }

    /// Takes the result of a finished connect task without waiting.
    fn settle(&self, conn: &mut Conn) {
        if let Conn::Connecting(task) = conn {
            if task.is_finished() {
                let outcome = runtime::get().block_on(task);
                *conn = self.connected(outcome).unwrap_or_else(|(state, _)| state);
            }
        }
    }

    /// The state after a connect attempt; a new session starts reporting its state
    /// changes to the armed watches.
    fn connected(
        &self,
        outcome: Result<Result<Client, zookeeper_client::Error>, tokio::task::JoinError>,
    ) -> Result<Conn, (Conn, i32)> {
        match outcome {
            Ok(Ok(client)) => {
                let mut session = client.session().id().0.to_ne_bytes().to_vec();
                session.extend_from_slice(client.session().password());
                *self.session.lock().unwrap_or_else(PoisonError::into_inner) = session;
                let negotiated = i32::try_from(client.session_timeout().as_millis()).unwrap_or(i32::MAX);
                self.negotiated_timeout.store(negotiated, Ordering::Relaxed);
                let mut states = client.state_watcher();
                let watches = self.watches.clone();
                runtime::get().spawn(async move {
                    loop {
                        let state = states.changed().await;
                        if let Some(code) = watch::state_code(state) {
                            watches.session_event(code);
                        }
                        if state.is_terminated() {
                            break;
                        }
                    }
                });
                Ok(Conn::Ready(Arc::new(client)))
            }
            Ok(Err(err)) if error::is_terminal(&err) => Err((Conn::Dead, error::code_of(&err))),
            Ok(Err(err)) => Err((Conn::Failed, error::code_of(&err))),
            Err(_) => Err((Conn::Failed, error::ZSYSTEMERROR)),
        }
    }

    /// The connected client, waiting for (or retrying) the connection until `deadline`.
    pub(crate) fn client(&self, deadline: Instant) -> CallResult<Arc<Client>> {
        let mut conn = self.lock();
        let mut retried = false;
        loop {
            match &mut *conn {
                Conn::Ready(client) if client.state().is_terminated() => *conn = Conn::Dead,
                Conn::Ready(client) => return Ok(client.clone()),
                Conn::Dead | Conn::Closed => return Err(ZINVALIDSTATE),
                Conn::Failed if retried => return Err(error::ZCONNECTIONLOSS),
                Conn::Failed => {
                    retried = true;
                    *conn = Conn::Connecting(self.spawn_connect());
                }
                Conn::Connecting(task) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    let outcome = runtime::block_on_bounded(left, task).ok_or(ZOPERATIONTIMEOUT)?;
                    match self.connected(outcome) {
                        Ok(ready) => *conn = ready,
                        Err((state, code)) => {
                            *conn = state;
                            return Err(code);
                        }
                    }
                }
            }
        }
    }

    /// Runs one request within the bound. A request the bound cuts short is never
    /// sent later: the client drops requests whose caller stopped waiting.
    pub(crate) fn call<T, F, Fut>(&self, request: F) -> CallResult<T>
    where
        F: FnOnce(Arc<Client>) -> Fut,
        Fut: Future<Output = Result<T, zookeeper_client::Error>>,
    {
        let deadline = Instant::now() + self.bound();
        self.client(deadline).and_then(|client| {
            let left = deadline.saturating_duration_since(Instant::now());
            match runtime::block_on_bounded(left, request(client)) {
                None => Err(ZOPERATIONTIMEOUT),
                Some(Ok(value)) => Ok(value),
                Some(Err(err)) => Err(error::code_of(&err)),
            }
        })
    }

    pub fn hosts(&self) -> &[u8] {
        &self.hosts
    }

    fn ready_client(&self) -> Option<Arc<Client>> {
        let mut conn = self.lock();
        if self.is_inherited() {
            return None;
        }
        self.settle(&mut conn);
        match &*conn {
            Conn::Ready(client) => Some(client.clone()),
            _ => None,
        }
    }

    /// The negotiated session timeout once connected, else the requested one.
    pub fn session_timeout_ms(&self) -> i32 {
        self.ready_client();
        self.known_timeout_ms()
    }

    /// Like `session_timeout_ms`, without looking at a connect in progress.
    fn known_timeout_ms(&self) -> i32 {
        match self.negotiated_timeout.load(Ordering::Relaxed) {
            0 => self.requested_timeout,
            negotiated => negotiated,
        }
    }

    /// Session id and password (24 bytes), or empty before a session exists. An
    /// expired session still reports its id, as the original did.
    pub fn session_id(&self) -> Vec<u8> {
        self.ready_client();
        let known = self.session.lock().unwrap_or_else(PoisonError::into_inner).clone();
        if !known.is_empty() {
            return known;
        }
        match self.requested_session {
            Some(bytes) if bytes.iter().any(|&b| b != 0) => bytes.to_vec(),
            _ => Vec::new(),
        }
    }

    /// Closes the session. With a live connection it waits, at most [`CLOSE_BOUND`],
    /// for the server to confirm, so that the ephemeral nodes are gone when this
    /// returns. Without one it returns at once: the client still delivers the close
    /// if a server answers while the process lives (within a session timeout). In a
    /// process that inherited the handle it only forgets the connection: the session
    /// belongs to the parent.
    pub fn close(&self) {
        let conn = std::mem::replace(&mut *self.lock(), Conn::Closed);
        self.watches.detach_all();
        if self.is_inherited() {
            std::mem::forget(conn);
            return;
        }
        self.persistent.end_all(None);
        let session = match &conn {
            Conn::Ready(client) => client.session_id().0,
            _ => 0,
        };
        zlog!(INFO, "zookeeper_close", "Closing zookeeper sessionId={:#x} to [{}]", session, self.connect_string);
        let client = match conn {
            Conn::Ready(client) => client,
            Conn::Connecting(task) if task.is_finished() => match runtime::get().block_on(task) {
                Ok(Ok(client)) => Arc::new(client),
                _ => return,
            },
            Conn::Connecting(task) => {
                task.abort();
                return;
            }
            _ => return,
        };
        let mut states = client.state_watcher();
        let connected = matches!(client.state(), SessionState::SyncConnected | SessionState::ConnectedReadOnly);
        drop(client);
        if !connected {
            return;
        }
        runtime::block_on_bounded(CLOSE_BOUND, async move {
            while !states.peek_state().is_terminated() {
                states.changed().await;
            }
        });
    }

    /// Creates a node; returns the path made (with its sequence number, if any),
    /// truncated to the path read length.
    ///
    /// # Errors
    /// The ZooKeeper code the call failed with (see [`CallResult`]).
    pub fn create(&self, path: &[u8], data: &[u8], opts: &Options) -> CallResult<Vec<u8>> {
        let (options, sequence) = create_options(opts)?;
        let path = Self::checked_path("zoo_create", path, sequence)?;
        let target = path.as_str();
        let created = self.call(|client| async move { client.create(target, data, &options).await })?;
        if let Some(stat) = opts.stat() {
            *stat = Stat::from(&created.0);
        }
        // Under a chroot a sequential "/" gives the chroot's path plus the number, which
        // the C client returns with the chroot cut off: the bare number.
        let chroot = self.connect_string.split_once('/').is_some_and(|(_, root)| !root.is_empty());
        let mut created_path = if sequence && chroot && path == "/" { Vec::new() } else { path.clone().into_bytes() };
        if sequence {
            created_path.extend_from_slice(created.1.to_string().as_bytes());
        }
        created_path.truncate(read_len(opts.path_read_len, &self.path_read_len));
        Ok(created_path)
    }

    /// Deletes a node.
    ///
    /// # Errors
    /// The ZooKeeper code the call failed with (see [`CallResult`]).
    pub fn delete(&self, path: &[u8], opts: &Options) -> CallResult<()> {
        let path = Self::checked_path("zoo_delete", path, false)?;
        let version = (opts.version >= 0).then_some(opts.version);
        self.call(|client| async move { client.delete(&path, version).await })
    }

    /// `pending_watches`: records of this handle that have not fired.
    pub fn pending_watches(&self) -> usize {
        self.watches.pending_count()
    }

    /// Assigns a watch to the call about to be made, whatever its outcome.
    fn assign(&self, watch: Option<&mut Watch>) -> Option<Arc<Record>> {
        let record = watch?.reassign();
        self.watches.add_pending(record.clone());
        Some(record)
    }

    /// The server accepted the watch on `path` (`kind`: `WATCHTYPE_DATA` or
    /// `WATCHTYPE_CHILD`): its notifications now reach the record, and
    /// `remove_watches` can remove it.
    fn arm(&self, record: Arc<Record>, watcher: OneshotWatcher, path: &str, kind: i32) {
        let removal = record.arm(path.to_owned(), kind);
        self.watches.register(&record);
        runtime::get().spawn(watch::serve(record, watcher, removal));
    }

    /// Whether the node exists; fills `stat` if it does.
    ///
    /// # Errors
    /// The ZooKeeper code the call failed with (see [`CallResult`]); `ZNONODE` when
    /// the node does not exist.
    pub fn exists(&self, path: &[u8], stat: Option<&mut Stat>, watch: Option<&mut Watch>) -> CallResult<()> {
        let record = self.assign(watch);
        let path = Self::checked_path("zoo_exists", path, false)?;
        let found = match record {
            None => self.call(|client| async move { client.check_stat(&path).await })?,
            Some(record) => {
                let target = path.as_str();
                let (found, watcher) = self.call(|client| async move { client.check_and_watch_stat(target).await })?;
                self.arm(record, watcher, target, watch::WATCHTYPE_DATA);
                found
            }
        };
        match found {
            Some(found) => {
                if let Some(stat) = stat {
                    *stat = Stat::from(&found);
                }
                Ok(())
            }
            None => Err(error::ZNONODE),
        }
    }

    /// A node's data (truncated to the data read length; `None` for null data).
    ///
    /// # Errors
    /// The ZooKeeper code the call failed with (see [`CallResult`]).
    pub fn get(
        &self,
        path: &[u8],
        opts: &Options,
        stat: Option<&mut Stat>,
        watch: Option<&mut Watch>,
    ) -> CallResult<Option<Vec<u8>>> {
        let record = self.assign(watch);
        let path = Self::checked_path("zoo_get", path, false)?;
        let (mut data, found) = match record {
            None => self.call(|client| async move { client.get_nullable_data(&path).await })?,
            Some(record) => {
                let target = path.as_str();
                let (data, found, watcher) =
                    self.call(|client| async move { client.get_and_watch_nullable_data(target).await })?;
                self.arm(record, watcher, target, watch::WATCHTYPE_DATA);
                (data, found)
            }
        };
        if let Some(stat) = stat {
            *stat = Stat::from(&found);
        }
        if let Some(data) = &mut data {
            data.truncate(read_len(opts.data_read_len, &self.data_read_len));
        }
        Ok(data)
    }

    /// Reads many nodes at once: every request is sent before any reply is awaited,
    /// so the whole batch costs about one round trip. Each entry is the node's data
    /// (truncated to `data_read_len`; `None` for null data) or the code its read failed
    /// with.
    ///
    /// # Panics
    /// Never: one reply is collected per valid path.
    pub fn get_many(&self, paths: &[&[u8]]) -> Vec<CallResult<Option<Vec<u8>>>> {
        let checked: Vec<CallResult<String>> =
            paths.iter().map(|path| Self::checked_path("zoo_get_many", path, false)).collect();
        let valid: Vec<&str> = checked.iter().filter_map(|p| p.as_deref().ok()).collect();
        let limit = usize::try_from(self.data_read_len.load(Ordering::Relaxed)).unwrap_or(0);
        let replies = self.call(|client| async move {
            let pending: Vec<_> = valid.iter().map(|path| client.get_nullable_data(path)).collect();
            let mut replies = Vec::with_capacity(pending.len());
            for reply in pending {
                replies.push(reply.await.map(|(mut data, _)| {
                    if let Some(data) = &mut data {
                        data.truncate(limit);
                    }
                    data
                }));
            }
            Ok(replies)
        });
        let mut replies = match replies {
            Ok(replies) => replies.into_iter(),
            Err(code) => return checked.iter().map(|_| Err(code)).collect(),
        };
        checked
            .into_iter()
            .map(|path| match path {
                Err(code) => Err(code),
                Ok(_) => replies.next().expect("one reply per valid path").map_err(|err| error::code_of(&err)),
            })
            .collect()
    }

    /// Writes a node's data.
    ///
    /// # Errors
    /// The ZooKeeper code the call failed with (see [`CallResult`]).
    pub fn set(&self, path: &[u8], data: &[u8], opts: &Options, stat: Option<&mut Stat>) -> CallResult<()> {
        let path = Self::checked_path("zoo_set", path, false)?;
        let version = (opts.version >= 0).then_some(opts.version);
        let found = self.call(|client| async move { client.set_data(&path, data, version).await })?;
        if let Some(stat) = stat {
            *stat = Stat::from(&found);
        }
        Ok(())
    }

    /// The names of a node's children.
    ///
    /// # Errors
    /// The ZooKeeper code the call failed with (see [`CallResult`]).
    pub fn get_children(&self, path: &[u8], watch: Option<&mut Watch>) -> CallResult<Vec<String>> {
        let record = self.assign(watch);
        let path = Self::checked_path("zoo_get_children", path, false)?;
        match record {
            None => self.call(|client| async move { client.list_children(&path).await }),
            Some(record) => {
                let target = path.as_str();
                let (children, watcher) =
                    self.call(|client| async move { client.list_and_watch_children(target).await })?;
                self.arm(record, watcher, target, watch::WATCHTYPE_CHILD);
                Ok(children)
            }
        }
    }

    /// A node's ACL.
    ///
    /// # Errors
    /// The ZooKeeper code the call failed with (see [`CallResult`]).
    pub fn get_acl(&self, path: &[u8], stat: Option<&mut Stat>) -> CallResult<Vec<Acl>> {
        let path = Self::checked_path("zoo_get_acl", path, false)?;
        let (acl, found) = self.call(|client| async move { client.get_acl(&path).await })?;
        if let Some(stat) = stat {
            *stat = Stat::from(&found);
        }
        Ok(acl)
    }

    // Calls of ZooKeeper 3.5 and later.

    /// Waits until the server this handle is connected to has caught up with the
    /// leader (for `path`), so that a read after it sees every write committed
    /// before it.
    ///
    /// # Errors
    /// The ZooKeeper code the call failed with (see [`CallResult`]).
    pub fn sync(&self, path: &[u8]) -> CallResult<()> {
        let path = Self::checked_path("zoo_async", path, false)?;
        self.call(|client| async move { client.sync(&path).await })
    }

    /// The paths of this session's ephemeral nodes under `prefix` (ZooKeeper 3.6+).
    ///
    /// # Errors
    /// The ZooKeeper code the call failed with (see [`CallResult`]).
    pub fn get_ephemerals(&self, prefix: &[u8]) -> CallResult<Vec<String>> {
        let prefix = Self::checked_path("zoo_get_ephemerals", prefix, false)?;
        self.call(|client| async move { client.list_ephemerals(&prefix).await })
    }

    /// The number of nodes below `path`, at any depth (ZooKeeper 3.6+).
    ///
    /// # Errors
    /// The ZooKeeper code the call failed with (see [`CallResult`]).
    pub fn get_all_children_number(&self, path: &[u8]) -> CallResult<u64> {
        let path = Self::checked_path("zoo_get_all_children_number", path, false)?;
        let count = self.call(|client| async move { client.count_descendants_number(&path).await })?;
        Ok(u64::try_from(count).unwrap_or(u64::MAX))
    }

    /// The identities the server knows this session by, as (scheme, id) (ZooKeeper
    /// 3.7+).
    ///
    /// # Errors
    /// The ZooKeeper code the call failed with (see [`CallResult`]).
    pub fn whoami(&self) -> CallResult<Vec<(String, String)>> {
        zlog!(DEBUG, "zoo_whoami", "Sending whoami request");
        let users = self.call(|client| async move { client.list_auth_users().await })?;
        Ok(users.iter().map(|u| (u.scheme().to_owned(), u.user().to_owned())).collect())
    }

    /// The ensemble's configuration (the data of `/zookeeper/config`, ZooKeeper
    /// 3.5+); fills `stat` and arms `watch` as `get` does.
    ///
    /// # Errors
    /// The ZooKeeper code the call failed with (see [`CallResult`]).
    pub fn get_config(&self, stat: Option<&mut Stat>, watch: Option<&mut Watch>) -> CallResult<Vec<u8>> {
        let record = self.assign(watch);
        zlog!(DEBUG, "zoo_getconfig", "Sending request for path [/zookeeper/config]");
        let (data, found) = match record {
            None => self.call(|client| async move { client.get_config().await })?,
            Some(record) => {
                let (data, found, watcher) = self.call(|client| async move { client.get_and_watch_config().await })?;
                self.arm(record, watcher, "/zookeeper/config", watch::WATCHTYPE_DATA);
                (data, found)
            }
        };
        if let Some(stat) = stat {
            *stat = Stat::from(&found);
        }
        Ok(data)
    }

    /// The session's state, as the C client's `zoo_state()` numbers it: connecting
    /// (also between servers), connected, read-only, or, once the session is over,
    /// expired or failed authentication.
    pub fn state(&self) -> i32 {
        let mut conn = self.lock();
        if !self.is_inherited() {
            self.settle(&mut conn);
        }
        match &*conn {
            Conn::Ready(client) => watch::state_code(client.state()).unwrap_or(watch::EXPIRED_SESSION_STATE),
            Conn::Dead | Conn::Closed => watch::EXPIRED_SESSION_STATE,
            Conn::Connecting(_) | Conn::Failed => watch::CONNECTING_STATE,
        }
    }

    /// Replaces a node's ACL with the options' ACL.
    ///
    /// # Errors
    /// The ZooKeeper code the call failed with (see [`CallResult`]).
    pub fn set_acl(&self, path: &[u8], opts: &Options) -> CallResult<()> {
        let path = Self::checked_path("zoo_set_acl", path, false)?;
        let (acl, version) = (opts.acl(), (opts.version >= 0).then_some(opts.version));
        self.call(|client| async move { client.set_acl(&path, acl, version).await }).map(|_| ())
    }

    /// Adds authentication credentials to the session.
    ///
    /// # Errors
    /// The ZooKeeper code the call failed with (see [`CallResult`]); `ZAUTHFAILED`
    /// when the server refuses the credentials (the session is then over).
    pub fn add_auth(&self, scheme: &[u8], cert: &[u8]) -> CallResult<()> {
        let scheme = String::from_utf8_lossy(validate::c_string(scheme)).into_owned();
        zlog!(DEBUG, "zoo_add_auth", "Sending auth info request for scheme [{}]", scheme);
        let result = self.call(|client| async move { client.auth(scheme, cert.to_vec()).await });
        if result == Err(error::ZAUTHFAILED) {
            // The server closes the session after a failed authentication.
            *self.lock() = Conn::Dead;
        }
        result
    }

    /// The path as a string if the C client would accept it; else ZBADARGUMENTS, as
    /// the server is never asked.
    pub(crate) fn checked_path(function: &str, path: &[u8], sequence: bool) -> CallResult<String> {
        let path = validate::c_string(path);
        if !validate::path(path, sequence) {
            return Err(error::ZBADARGUMENTS);
        }
        // The server decodes path bytes as UTF-8 with replacement characters; doing the
        // same here sends what it would have seen (and it rejects such paths on writes).
        let text = String::from_utf8_lossy(path).into_owned();
        zlog!(DEBUG, function, "Sending request for path [{}]", text);
        Ok(text)
    }
}

/// A read length option (`path_read_len`, `data_read_len`; -1 when not given, then
/// the handle's attribute of the same name) as a byte count.
pub(crate) fn read_len(option: i32, attribute: &AtomicI32) -> usize {
    let limit = if option >= 0 { option } else { attribute.load(Ordering::Relaxed) };
    usize::try_from(limit).unwrap_or(0)
}

/// The client's options for a node made with create's options (`flags` or `mode`,
/// `ttl`, `acl`), and whether its name gets a sequence number.
///
/// # Errors
/// ZBADARGUMENTS for a TTL without a TTL mode or the reverse (see `create_mode`).
pub(crate) fn create_options(opts: &Options) -> CallResult<(CreateOptions<'_>, bool)> {
    let (mode, ttl) = create_mode(opts.flags, opts.ttl)?;
    let sequence = matches!(mode, CreateMode::PersistentSequential | CreateMode::EphemeralSequential);
    let options = mode.with_acls(zookeeper_client::Acls::new(opts.acl()));
    let options = match ttl {
        Some(ttl) => options.with_ttl(ttl),
        None => options,
    };
    Ok((options, sequence))
}

/// The client's create mode for create's `flags`/`mode` (0 to 6, checked when the
/// option was read) and `ttl`: a TTL mode needs a TTL and no other mode takes one
/// (ZBADARGUMENTS, as the C client says).
fn create_mode(mode: i32, ttl: Option<i64>) -> CallResult<(CreateMode, Option<Duration>)> {
    use crate::options::{MODE_CONTAINER, MODE_PERSISTENT_SEQUENTIAL_WITH_TTL, MODE_PERSISTENT_WITH_TTL};
    let ttl = ttl.map(|ms| Duration::from_millis(u64::try_from(ms).unwrap_or(0)));
    let with_ttl = matches!(mode, MODE_PERSISTENT_WITH_TTL | MODE_PERSISTENT_SEQUENTIAL_WITH_TTL);
    if with_ttl != ttl.is_some() {
        return Err(error::ZBADARGUMENTS);
    }
    let mode = match mode {
        MODE_CONTAINER => CreateMode::Container,
        MODE_PERSISTENT_WITH_TTL => CreateMode::Persistent,
        MODE_PERSISTENT_SEQUENTIAL_WITH_TTL => CreateMode::PersistentSequential,
        flags => match (flags & FLAG_EPHEMERAL != 0, flags & FLAG_SEQUENCE != 0) {
            (false, false) => CreateMode::Persistent,
            (false, true) => CreateMode::PersistentSequential,
            (true, false) => CreateMode::Ephemeral,
            (true, true) => CreateMode::EphemeralSequential,
        },
    };
    Ok((mode, ttl))
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.close();
    }
}
