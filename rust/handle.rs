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
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio::task::JoinHandle;
use zookeeper_client::{Client, SessionId, SessionInfo, SessionState};

use crate::error::{self, ZINVALIDSTATE, ZOPERATIONTIMEOUT};
use crate::log::INFO;
use crate::options::{Options, SESSION_ID_LEN};
use crate::secure::{Prepared, Secure};
use crate::watch::{self, Watches};
use crate::{runtime, settings, validate, zlog};

/// Default of the `data_read_len` and `path_read_len` attributes.
pub const DEFAULT_READ_LEN: i32 = 1023;

/// The shortest bound on a wait, whatever the session timeout.
const MIN_BOUND: Duration = Duration::from_secs(1);

/// How long a close waits for the server to confirm it. The original's close waited
/// for its I/O thread, which a silent server holds for about this long.
pub const CLOSE_BOUND: Duration = Duration::from_millis(1500);

/// An asynchronous call waiting for the connection: it sends its request once the
/// attempt ends (or fails with the attempt's code).
pub(crate) type Deferred = Box<dyn FnOnce(CallResult<Arc<Client>>) + Send>;

/// The outcome of a connect attempt, for whoever waits for it.
#[derive(Default)]
struct Attempt {
    outcome: Mutex<Option<Result<Client, zookeeper_client::Error>>>,
    done: AtomicBool,
    ended: Notify,
}

impl Attempt {
    /// Waits until the attempt has ended.
    async fn ended(&self) {
        loop {
            let ended = self.ended.notified();
            tokio::pin!(ended);
            ended.as_mut().enable();
            if self.done.load(Ordering::Acquire) {
                return;
            }
            ended.await;
        }
    }
}

/// Marks the attempt ended however its task ends (also by a panic or an abort).
struct AttemptEnd(Arc<Attempt>);

impl Drop for AttemptEnd {
    fn drop(&mut self) {
        self.0.done.store(true, Ordering::Release);
        self.0.ended.notify_waiters();
    }
}

enum Conn {
    /// A connect task is running; asynchronous calls made meanwhile wait in order.
    Connecting {
        task: JoinHandle<()>,
        attempt: Arc<Attempt>,
        deferred: Vec<Deferred>,
    },
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
        *handle.lock() = handle.spawn_connect(Vec::new());
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

    fn spawn_connect(&self, deferred: Vec<Deferred>) -> Conn {
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
        let attempt = Arc::new(Attempt::default());
        let end = AttemptEnd(attempt.clone());
        let task = runtime::get().spawn(async move {
            let outcome = if tls { connector.secure_connect(&hosts).await } else { connector.connect(&hosts).await };
            *end.0.outcome.lock().unwrap_or_else(PoisonError::into_inner) = Some(outcome);
            drop(end);
        });
        Conn::Connecting { task, attempt, deferred }
    }

    /// The bound on one call: the session timeout (negotiated once known).
    pub(crate) fn bound(&self) -> Duration {
        let ms = u64::try_from(self.known_timeout_ms()).unwrap_or(0);
        Duration::from_millis(ms).max(MIN_BOUND)
    }

    /// Takes the result of a finished connect attempt without waiting; the calls
    /// that waited for it then send their requests (or fail), in the order they were
    /// made. Returns the attempt's failure code, if it just failed.
    fn settle(&self, conn: &mut Conn) -> Option<i32> {
        let Conn::Connecting { attempt, .. } = conn else { return None };
        if !attempt.done.load(Ordering::Acquire) {
            return None;
        }
        let outcome = attempt.outcome.lock().unwrap_or_else(PoisonError::into_inner).take();
        let (state, failure) = match self.connected(outcome) {
            Ok(ready) => (ready, None),
            Err((state, code)) => (state, Some(code)),
        };
        let Conn::Connecting { deferred, .. } = std::mem::replace(conn, state) else { unreachable!() };
        let client = match (&*conn, failure) {
            (Conn::Ready(client), _) => Ok(client.clone()),
            (_, code) => Err(code.unwrap_or(error::ZCONNECTIONLOSS)),
        };
        for call in deferred {
            call(client.clone());
        }
        failure
    }

    /// The state after a connect attempt (`None`: its task ended without one); a new
    /// session starts reporting its state changes to the armed watches.
    fn connected(&self, outcome: Option<Result<Client, zookeeper_client::Error>>) -> Result<Conn, (Conn, i32)> {
        match outcome {
            Some(Ok(client)) => {
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
                        watches.session_event(watch::state_code(state));
                        if state.is_terminated() {
                            break;
                        }
                    }
                });
                Ok(Conn::Ready(Arc::new(client)))
            }
            Some(Err(err)) if error::is_terminal(&err) => Err((Conn::Dead, error::code_of(&err))),
            Some(Err(err)) => Err((Conn::Failed, error::code_of(&err))),
            None => Err((Conn::Failed, error::ZSYSTEMERROR)),
        }
    }

    /// The client ended the session (expired, authentication failed, or given up):
    /// calls fail with ZINVALIDSTATE from now on, and the armed watches hear of it
    /// (again: the session's own report of the end can be missed when the session
    /// was taken over and closed by another client, seen in 1 of 4 such outages).
    fn session_over(&self, conn: &mut Conn) {
        if let Conn::Ready(client) = &*conn {
            self.announce_end(client);
            *conn = Conn::Dead;
        }
    }

    /// Tells the armed watches that the client's session ended, with its final state.
    fn announce_end(&self, client: &Client) {
        let state = watch::state_code(client.state());
        self.watches.session_event(state);
        self.persistent.end_all(Some(state));
    }

    /// The connected client, waiting for (or retrying) the connection until `deadline`.
    pub(crate) fn client(&self, deadline: Instant) -> CallResult<Arc<Client>> {
        let mut retried = false;
        let mut waited = false;
        loop {
            let attempt = {
                let mut conn = self.lock();
                let failure = self.settle(&mut conn);
                match &mut *conn {
                    Conn::Ready(client) if client.state().is_terminated() => {
                        self.session_over(&mut conn);
                        continue;
                    }
                    Conn::Ready(client) => return Ok(client.clone()),
                    // The attempt this call waited for failed: its code.
                    _ if waited && failure.is_some() => return Err(failure.unwrap_or(error::ZCONNECTIONLOSS)),
                    Conn::Dead | Conn::Closed => return Err(ZINVALIDSTATE),
                    Conn::Failed if retried || waited => return Err(error::ZCONNECTIONLOSS),
                    Conn::Failed => {
                        retried = true;
                        *conn = self.spawn_connect(Vec::new());
                        continue;
                    }
                    Conn::Connecting { attempt, .. } => attempt.clone(),
                }
            };
            runtime::block_on_until(deadline, attempt.ended()).ok_or(ZOPERATIONTIMEOUT)?;
            waited = true;
        }
    }

    /// Sends an asynchronous call's request in call order: at once when connected,
    /// else once the connection is made (`send` gets the attempt's failure code if
    /// it fails, or ZOPERATIONTIMEOUT after the bound).
    pub(crate) fn submit(self: &Arc<Self>, send: Deferred) {
        let mut conn = self.lock();
        self.settle(&mut conn);
        if matches!(&*conn, Conn::Ready(client) if client.state().is_terminated()) {
            self.session_over(&mut conn);
        }
        match &mut *conn {
            Conn::Ready(client) => {
                let client = client.clone();
                // Under the lock, so that no later call's request goes first.
                send(Ok(client));
            }
            Conn::Dead | Conn::Closed => send(Err(ZINVALIDSTATE)),
            Conn::Failed => {
                *conn = self.spawn_connect(vec![send]);
                self.await_attempt(&conn);
            }
            Conn::Connecting { deferred, .. } => {
                deferred.push(send);
                if deferred.len() == 1 {
                    self.await_attempt(&conn);
                }
            }
        }
    }

    /// Settles the attempt in progress when it ends, for the calls waiting for it;
    /// after the bound they fail with ZOPERATIONTIMEOUT.
    fn await_attempt(self: &Arc<Self>, conn: &Conn) {
        let Conn::Connecting { attempt, .. } = conn else { return };
        let (handle, attempt, bound) = (self.clone(), attempt.clone(), self.bound());
        runtime::get().spawn(async move {
            let ended = tokio::time::timeout(bound, attempt.ended()).await.is_ok();
            let mut conn = handle.lock();
            handle.settle(&mut conn);
            if let Conn::Connecting { deferred, .. } = &mut *conn {
                if !ended {
                    for call in deferred.drain(..) {
                        call(Err(ZOPERATIONTIMEOUT));
                    }
                }
            }
        });
    }

    /// Runs one request within the bound, in the calling thread. A request the
    /// bound cuts short is never sent later: the client drops requests whose caller
    /// stopped waiting.
    pub(crate) fn call<T, E, F, Fut>(&self, request: F) -> CallResult<T>
    where
        E: error::IntoCode,
        F: FnOnce(Arc<Client>) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let deadline = Instant::now() + self.bound();
        self.client(deadline).and_then(|client| match runtime::block_on_until(deadline, request(client)) {
            None => Err(ZOPERATIONTIMEOUT),
            Some(result) => result.map_err(error::IntoCode::code),
        })
    }

    /// Makes one request asynchronously: it is sent in call order (see
    /// [`Handle::submit`]) and `done` gets its result, within the bound, on
    /// whichever thread it comes.
    pub(crate) fn call_async<T, E, F, Fut>(
        self: &Arc<Self>,
        request: F,
        done: impl FnOnce(CallResult<T>) + Send + 'static,
    ) where
        T: Send + 'static,
        E: error::IntoCode,
        F: FnOnce(Arc<Client>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        let deadline = tokio::time::Instant::now() + self.bound();
        self.submit(Box::new(move |client| match client {
            Err(code) => done(Err(code)),
            Ok(client) => {
                let mut future = Box::pin(request(client));
                // The first poll, here, writes the request: calls made one after
                // another go out in that order.
                let polled = {
                    let _context = runtime::get().enter();
                    future.as_mut().poll(&mut Context::from_waker(Waker::noop()))
                };
                match polled {
                    Poll::Ready(result) => done(result.map_err(error::IntoCode::code)),
                    Poll::Pending => {
                        runtime::get().spawn(async move {
                            done(match tokio::time::timeout_at(deadline, future).await {
                                Ok(result) => result.map_err(error::IntoCode::code),
                                Err(_) => Err(ZOPERATIONTIMEOUT),
                            });
                        });
                    }
                }
            }
        }));
        // The reply comes on the runtime: it must be driven now, not after the grace.
        runtime::kick();
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
            Conn::Connecting { task, attempt, deferred } => {
                task.abort();
                let outcome = attempt.outcome.lock().unwrap_or_else(PoisonError::into_inner).take();
                for call in deferred {
                    call(Err(ZINVALIDSTATE));
                }
                match outcome {
                    Some(Ok(client)) => Arc::new(client),
                    _ => return,
                }
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

    /// `pending_watches`: records of this handle that have not fired.
    pub fn pending_watches(&self) -> usize {
        self.watches.pending_count()
    }

    pub(crate) fn connect_string(&self) -> &str {
        &self.connect_string
    }

    /// The session is over (the server closed it after a failed authentication).
    pub(crate) fn mark_dead(&self) {
        *self.lock() = Conn::Dead;
    }

    /// The session's state, as the C client's `zoo_state()` numbers it: connecting
    /// (also between servers), connected, read-only, or, once the session is over,
    /// expired or failed authentication.
    pub fn state(&self) -> i32 {
        let mut conn = self.lock();
        if !self.is_inherited() {
            self.settle(&mut conn);
            if let Conn::Ready(client) = &*conn {
                // As session_over, keeping the client for its final state.
                if client.state().is_terminated() {
                    self.announce_end(client);
                }
            }
        }
        match &*conn {
            Conn::Ready(client) => watch::state_code(client.state()),
            Conn::Dead | Conn::Closed => watch::EXPIRED_SESSION_STATE,
            Conn::Connecting { .. } | Conn::Failed => watch::CONNECTING_STATE,
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.close();
    }
}
