//! Watches, with the original's records model.
//!
//! A `Net::ZooKeeper::Watch` object ([`Watch`]) always refers to one [`Record`]. Each
//! time the object is passed to `exists`, `get` or `get_children`, it gets a new
//! record, which goes into that handle's pending list ([`Watches`]). A record fires
//! on its first notification; later session notifications still update its event and
//! state. `pending_watches` counts the records of a handle that have not fired.
//!
//! Notifications are recorded by tasks on the shared runtime, so attribute reads
//! show them whether or not anybody waits. The task of an armed record also takes
//! `remove_watches` requests: it then removes the client's watcher and records
//! [`NOTWATCHING_EVENT`].

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;
use zookeeper_client::{EventType, OneshotWatcher, SessionState, WatchedEvent};

use crate::dispatch::Hook;
use crate::error;
use crate::options::Options;
use crate::persistent::Event;

/// Default `timeout` of a new watch, from the handle's `watch_timeout` attribute.
pub const DEFAULT_TIMEOUT_MS: u32 = 60_000;

// Event codes of a watch (ZOO_*_EVENT), as the C client numbers them.
pub const CREATED_EVENT: i32 = 1;
pub const DELETED_EVENT: i32 = 2;
pub const CHANGED_EVENT: i32 = 3;
pub const CHILD_EVENT: i32 = 4;
pub const SESSION_EVENT: i32 = -1;
/// The watch was removed (the C client's `ZOO_NOTWATCHING_EVENT`): what a watch removed
/// by `remove_watches` or `remove_all_watches` records, and the last event of a
/// persistent watch removed.
pub const NOTWATCHING_EVENT: i32 = -2;

// Session states (ZOO_*_STATE), as the C client numbers them.
pub const CONNECTING_STATE: i32 = 1;
/// Connected, not yet in a session (the C client's `ZOO_ASSOCIATING_STATE`): never
/// reported here, the code is for Perl's constants.
pub const ASSOCIATING_STATE: i32 = 2;
pub const CONNECTED_STATE: i32 = 3;
pub const EXPIRED_SESSION_STATE: i32 = -112;
pub const AUTH_FAILED_STATE: i32 = -113;
/// Connected to a server that serves reads only, cut off from its quorum (a handle
/// made with `read_only => 1`; ZooKeeper 3.4 and later).
pub const READONLY_STATE: i32 = 5;
/// The C client's state of a handle that never connected: never reported here, the
/// code is for Perl's constants.
pub const NOTCONNECTED_STATE: i32 = 999;

// Modes of `add_watch` (the server's AddWatchMode, ZooKeeper 3.6 and later).
pub const WATCH_PERSISTENT: i32 = 0;
pub const WATCH_PERSISTENT_RECURSIVE: i32 = 1;

// Kinds of watch `remove_watches` removes (the C client's ZooWatcherType).
pub const WATCHTYPE_CHILD: i32 = 1;
pub const WATCHTYPE_DATA: i32 = 2;
pub const WATCHTYPE_ANY: i32 = 3;

#[derive(Debug, Default)]
struct Notice {
    event: i32,
    state: i32,
    fired: bool,
    /// A server watch stands behind the record: session events reach it until its
    /// node event arrives.
    registered: bool,
    /// Its handle was closed: nothing reaches it any more.
    detached: bool,
    /// Where the server watch stands, once armed: the path and kind (for
    /// `remove_watches`), and the way to ask its task to remove it.
    armed: Option<Armed>,
    /// A code-ref watch's way to its handle object's callbacks.
    hook: Option<Hook>,
    /// The thread waiting for it, which drives the runtime meanwhile.
    waiter: Option<Waker>,
}

/// A request to remove a one-shot watch: the task answers on it with the result.
pub type Removal = oneshot::Sender<Result<(), i32>>;

#[derive(Debug)]
struct Armed {
    path: String,
    /// [`WATCHTYPE_DATA`] (`exists`, `get`) or [`WATCHTYPE_CHILD`] (`get_children`).
    kind: i32,
    /// Taken by the first removal request.
    remover: Option<oneshot::Sender<Removal>>,
}

/// One assignment of a watch to a call.
#[derive(Debug, Default)]
pub struct Record {
    notice: Mutex<Notice>,
}

impl Record {
    fn lock(&self) -> MutexGuard<'_, Notice> {
        self.notice.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn is_fired(&self) -> bool {
        self.lock().fired
    }

    fn is_registered(&self) -> bool {
        let notice = self.lock();
        notice.registered && !notice.detached
    }

    /// A record for a code-ref watch: each notification also goes to the callbacks
    /// through `hook`, until the node event or the end of the session.
    pub fn hooked(hook: Hook) -> Record {
        Record { notice: Mutex::new(Notice { hook: Some(hook), ..Notice::default() }) }
    }

    fn notify(&self, event: i32, state: i32, node_event: bool) {
        let mut notice = self.lock();
        if notice.detached {
            return;
        }
        notice.event = event;
        notice.state = state;
        notice.fired = true;
        if node_event {
            notice.registered = false;
        }
        if let Some(hook) = &notice.hook {
            let last = node_event || matches!(state, EXPIRED_SESSION_STATE | AUTH_FAILED_STATE);
            let path = notice.armed.as_ref().map(|armed| armed.path.clone());
            hook.event(Event { event, state, path }, last);
            if last {
                notice.hook = None;
            }
        }
        if let Some(waiter) = notice.waiter.take() {
            waiter.wake();
        }
    }

    /// The call that was to arm this record failed: a code-ref watch is over (it
    /// leaves the pending list, and its callback is released); a watch object's
    /// record stays pending, as in the original.
    pub fn abandon(&self) {
        let mut notice = self.lock();
        if notice.hook.take().is_some() {
            notice.fired = true;
        }
    }

    /// Delivers a notification from the client: a node event, or the end of the session.
    pub fn deliver(&self, event: &WatchedEvent) {
        match event.event_type {
            EventType::Session => {
                self.notify(SESSION_EVENT, state_code(event.session_state), false);
            }
            node => self.notify(node_event_code(node), CONNECTED_STATE, true),
        }
    }

    /// Notes where the record's server watch stands (`kind`: [`WATCHTYPE_DATA`] or
    /// [`WATCHTYPE_CHILD`]); its task takes removal requests from the receiver.
    pub fn arm(&self, path: String, kind: i32) -> oneshot::Receiver<Removal> {
        let (remover, removal) = oneshot::channel();
        self.lock().armed = Some(Armed { path, kind, remover: Some(remover) });
        removal
    }

    /// The removal request of the record's server watch, if it is armed on `path` with a
    /// kind `kind` covers ([`WATCHTYPE_ANY`] covers both) and is one of `which`;
    /// taken, so it is asked once.
    fn take_remover(self: &Arc<Self>, path: &str, kind: i32, which: &Which) -> Option<oneshot::Sender<Removal>> {
        let mut notice = self.lock();
        if !notice.registered || notice.detached {
            return None;
        }
        let chosen = match which {
            Which::All => true,
            Which::Record(record) => Arc::ptr_eq(record, self),
            Which::Calling(token) => notice.hook.as_ref().is_some_and(|hook| hook.calls(*token)),
        };
        if !chosen {
            return None;
        }
        let armed = notice.armed.as_mut().filter(|armed| armed.path == path && kind & armed.kind != 0)?;
        armed.remover.take()
    }

    /// Waits until the record has fired or `deadline` passes, for at most `slice`.
    ///
    /// The waiting thread drives the runtime itself, so the event is read and recorded
    /// here, with no hand-off to another thread.
    fn wait_until(&self, deadline: Instant, slice: Duration) -> bool {
        let until = deadline.min(Instant::now() + slice);
        let left = until.saturating_duration_since(Instant::now());
        if self.is_fired() {
            return true;
        }
        if left.is_zero() {
            return false;
        }
        crate::runtime::block_on_bounded(
            left,
            std::future::poll_fn(|cx| {
                let mut notice = self.lock();
                if notice.fired {
                    return Poll::Ready(());
                }
                notice.waiter = Some(cx.waker().clone());
                Poll::Pending
            }),
        )
        .is_some()
    }
}

/// The task of an armed record: it records the watcher's notification, or removes the
/// watcher when asked to (see [`Watches::take_removers`]), records
/// [`NOTWATCHING_EVENT`] (the client forgets its watcher whatever the server answers)
/// and answers with the result.
pub async fn serve(record: Arc<Record>, mut watcher: OneshotWatcher, removal: oneshot::Receiver<Removal>) {
    let reply = {
        let changed = watcher.changed_mut();
        tokio::pin!(changed);
        tokio::select! {
            // An event that has arrived wins over a removal asked meanwhile.
            biased;
            event = &mut changed => {
                record.deliver(&event);
                return;
            }
            Ok(reply) = removal => reply,
        }
    };
    // Boxed: the removal's future is large and rare; inline it would size every
    // armed watch's task (512 bytes a watch before, bench/README.md "Watches").
    let result = Box::pin(watcher.remove()).await.map_err(|err| error::code_of(&err));
    record.notify(NOTWATCHING_EVENT, removed_state(result), true);
    // The caller may have stopped waiting (its bound passed).
    let _ = reply.send(result);
}

/// The state a [`NOTWATCHING_EVENT`] reports after a removal with this result: the
/// server answered (whatever it said), else what the failure tells of the session.
pub fn removed_state(result: Result<(), i32>) -> i32 {
    match result {
        Err(error::ZCONNECTIONLOSS | error::ZOPERATIONTIMEOUT) => CONNECTING_STATE,
        Err(error::ZSESSIONEXPIRED) => EXPIRED_SESSION_STATE,
        Err(error::ZAUTHFAILED) => AUTH_FAILED_STATE,
        _ => CONNECTED_STATE,
    }
}

/// The event code of a client event.
pub fn node_event_code(event: EventType) -> i32 {
    match event {
        EventType::NodeCreated => CREATED_EVENT,
        EventType::NodeDeleted => DELETED_EVENT,
        EventType::NodeDataChanged => CHANGED_EVENT,
        EventType::NodeChildrenChanged => CHILD_EVENT,
        EventType::Session => SESSION_EVENT,
    }
}

/// The state a session event reports. `Closed` is the client giving the session up
/// for good after a failure it cannot recover from (a reconnect refused after the
/// session was taken over and closed elsewhere, say): the session is gone, as
/// after an expiry. (The handle's own close detaches its watches first, so they
/// hear nothing of it.)
pub fn state_code(state: SessionState) -> i32 {
    match state {
        SessionState::Disconnected => CONNECTING_STATE,
        SessionState::SyncConnected => CONNECTED_STATE,
        SessionState::ConnectedReadOnly => READONLY_STATE,
        SessionState::Expired | SessionState::Closed => EXPIRED_SESSION_STATE,
        SessionState::AuthFailed => AUTH_FAILED_STATE,
    }
}

/// A `Net::ZooKeeper::Watch`: its timeout and its current record.
#[derive(Debug)]
pub struct Watch {
    /// Atomic only so that the attribute table can set it through `&Watch`.
    timeout: AtomicU32,
    record: Arc<Record>,
}

impl Watch {
    pub fn new(timeout: u32) -> Watch {
        Watch { timeout: AtomicU32::new(timeout), record: Arc::default() }
    }

    /// A watch made by `$zkh->watch(timeout => ...)`: the option's timeout, else the
    /// handle's `watch_timeout`.
    pub fn with_options(watch_timeout: u32, opts: &Options) -> Watch {
        Watch::new(opts.timeout_or(watch_timeout))
    }

    /// How long `wait` waits by default (ms).
    pub fn timeout(&self) -> u32 {
        self.timeout.load(Ordering::Relaxed)
    }

    pub fn set_timeout(&self, timeout: u32) {
        self.timeout.store(timeout, Ordering::Relaxed);
    }

    pub fn event(&self) -> i32 {
        self.record.lock().event
    }

    pub fn state(&self) -> i32 {
        self.record.lock().state
    }

    /// Starts a new assignment: a fresh record replaces the old one, which stays
    /// wherever it is pending.
    pub fn reassign(&mut self) -> Arc<Record> {
        self.record = Arc::default();
        self.record.clone()
    }

    pub fn record(&self) -> Arc<Record> {
        self.record.clone()
    }
}

/// A wait in progress: `Watch::wait` polls it in slices so that Perl can run its
/// signal handlers in between. It holds the record, so the watch object may go away.
pub struct Waiter {
    record: Arc<Record>,
    deadline: Instant,
}

/// Longest single sleep of a wait, so that a signal is handled within it.
pub const WAIT_SLICE: Duration = Duration::from_millis(50);

/// Progress of a [`Waiter`].
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NzkWaitStep {
    Fired,
    TimedOut,
    Pending,
    /// The core failed (a panic); the XS layer croaks.
    Panic,
}

impl Waiter {
    /// A wait for `$w->wait(timeout => ...)`: the option's timeout, else the watch's.
    pub fn with_options(watch: &Watch, opts: &Options) -> Waiter {
        Waiter::new(watch, opts.timeout_or(watch.timeout()))
    }

    pub fn new(watch: &Watch, timeout_ms: u32) -> Waiter {
        Waiter { record: watch.record(), deadline: Instant::now() + Duration::from_millis(timeout_ms.into()) }
    }

    /// Waits for the watch's current record from now on, keeping the deadline.
    pub fn follow(&mut self, watch: &Watch) {
        if !Arc::ptr_eq(&self.record, &watch.record) {
            self.record = watch.record();
        }
    }

    pub fn step(&self) -> NzkWaitStep {
        if self.record.wait_until(self.deadline, WAIT_SLICE) {
            NzkWaitStep::Fired
        } else if Instant::now() >= self.deadline {
            NzkWaitStep::TimedOut
        } else {
            NzkWaitStep::Pending
        }
    }
}

/// The armed watches a removal is for.
pub enum Which {
    All,
    /// One assignment of a watch object.
    Record(Arc<Record>),
    /// The code-ref watches that call this code ref (its token, as identity only).
    Calling(usize),
}

/// A handle's records: those pending (for `pending_watches`) and those registered
/// with the server (for session events).
#[derive(Debug, Default)]
pub struct Watches {
    pending: Mutex<Vec<Arc<Record>>>,
    registered: Mutex<Vec<Arc<Record>>>,
}

fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Watches {
    /// Adds a new assignment to the pending list, purging fired records first.
    pub fn add_pending(&self, record: Arc<Record>) {
        let mut pending = locked(&self.pending);
        pending.retain(|r| !r.is_fired());
        pending.push(record);
    }

    /// The number of records that have not fired (purging the fired ones).
    pub fn pending_count(&self) -> usize {
        let mut pending = locked(&self.pending);
        pending.retain(|r| !r.is_fired());
        pending.len()
    }

    /// Marks a record as armed on the server.
    pub fn register(&self, record: &Arc<Record>) {
        record.lock().registered = true;
        let mut registered = locked(&self.registered);
        registered.retain(|r| r.is_registered());
        registered.push(record.clone());
    }

    /// Sends a session event to every armed record.
    pub fn session_event(&self, state: i32) {
        let mut registered = locked(&self.registered);
        registered.retain(|r| r.is_registered());
        for record in registered.iter() {
            record.notify(SESSION_EVENT, state, false);
        }
    }

    /// The removal requests of the records armed on `path` with a kind `kind` covers
    /// ([`WATCHTYPE_ANY`] covers both) that are `which`, taken so that each is
    /// asked once.
    pub fn take_removers(&self, path: &str, kind: i32, which: &Which) -> Vec<oneshot::Sender<Removal>> {
        let mut registered = locked(&self.registered);
        registered.retain(|r| r.is_registered());
        registered.iter().filter_map(|r| r.take_remover(path, kind, which)).collect()
    }

    /// The handle is closing: its records keep their values but hear nothing more.
    pub fn detach_all(&self) {
        for list in [&self.pending, &self.registered] {
            for record in locked(list).drain(..) {
                let mut notice = record.lock();
                notice.detached = true;
                notice.hook = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_counts_follow_the_records_model() {
        let watches = Watches::default();
        let mut watch = Watch::new(100);
        let first = watch.reassign();
        watches.add_pending(first.clone());
        watches.add_pending(watch.reassign());
        assert_eq!(watches.pending_count(), 2, "a reused watch leaves its old record pending");
        first.notify(3, 3, true);
        assert_eq!(watches.pending_count(), 1, "fired records are purged");
        assert_eq!(watch.event(), 0, "the old record's event is not the watch's");
    }

    #[test]
    fn session_events_reach_registered_records_until_their_node_event() {
        let watches = Watches::default();
        let mut watch = Watch::new(0);
        let record = watch.reassign();
        watches.register(&record);
        watches.session_event(CONNECTING_STATE);
        assert_eq!((watch.event(), watch.state()), (SESSION_EVENT, CONNECTING_STATE));
        watches.session_event(CONNECTED_STATE);
        assert_eq!(watch.state(), CONNECTED_STATE, "later session events still update");
        record.notify(3, 3, true);
        watches.session_event(CONNECTING_STATE);
        assert_eq!((watch.event(), watch.state()), (3, 3), "no session events after the node event");
    }

    #[test]
    fn detached_records_keep_their_values() {
        let watches = Watches::default();
        let mut watch = Watch::new(0);
        let record = watch.reassign();
        watches.add_pending(record.clone());
        watches.register(&record);
        watches.detach_all();
        watches.session_event(CONNECTING_STATE);
        record.notify(3, 3, true);
        assert_eq!(watch.event(), 0);
        assert_eq!(Waiter::new(&watch, 0).step(), NzkWaitStep::TimedOut);
    }

    #[test]
    fn removal_requests_follow_path_kind_and_assignment() {
        let watches = Watches::default();
        let (mut data, mut child) = (Watch::new(0), Watch::new(0));
        let (d, c) = (data.reassign(), child.reassign());
        let _removals = (d.arm("/n".into(), WATCHTYPE_DATA), c.arm("/n".into(), WATCHTYPE_CHILD));
        assert!(watches.take_removers("/n", WATCHTYPE_ANY, &Which::All).is_empty(), "not registered yet");
        watches.register(&d);
        watches.register(&c);
        assert!(watches.take_removers("/m", WATCHTYPE_ANY, &Which::All).is_empty(), "another path");
        assert_eq!(watches.take_removers("/n", WATCHTYPE_ANY, &Which::Record(data.record())).len(), 1, "only that one");
        assert!(watches.take_removers("/n", WATCHTYPE_DATA, &Which::All).is_empty(), "asked once");
        assert_eq!(watches.take_removers("/n", WATCHTYPE_CHILD, &Which::All).len(), 1);
        let mut fired = Watch::new(0);
        let f = fired.reassign();
        let _removal = f.arm("/n".into(), WATCHTYPE_DATA);
        watches.register(&f);
        f.notify(CHANGED_EVENT, CONNECTED_STATE, true);
        assert!(watches.take_removers("/n", WATCHTYPE_ANY, &Which::All).is_empty(), "a fired watch is not armed");
    }

    #[test]
    fn a_waiter_follows_the_watch_to_its_new_record() {
        let mut watch = Watch::new(0);
        let old = watch.reassign();
        let mut waiter = Waiter::new(&watch, 60_000);
        let new = watch.reassign();
        old.notify(3, 3, true);
        assert_eq!(waiter.step(), NzkWaitStep::Fired, "before following, the old record counts");
        waiter.follow(&watch);
        waiter.deadline = Instant::now();
        assert_eq!(waiter.step(), NzkWaitStep::TimedOut, "the new record has not fired");
        new.notify(2, 3, true);
        assert_eq!(waiter.step(), NzkWaitStep::Fired);
        assert_eq!(watch.event(), 2);
    }
}
