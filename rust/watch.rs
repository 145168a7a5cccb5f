//! Watches, with the original's records model.
//!
//! A `Net::ZooKeeper::Watch` object ([`Watch`]) always refers to one [`Record`]. Each
//! time the object is passed to `exists`, `get` or `get_children`, it gets a new
//! record, which goes into that handle's pending list ([`Watches`]). A record fires
//! on its first notification; later session notifications still update its event and
//! state. `pending_watches` counts the records of a handle that have not fired.
//!
//! An armed record holds the client's watcher, which keeps the notification when
//! it arrives (the runtime thread reads it from the socket while Perl is busy). A
//! watch object's record takes it in whenever it is looked at (an attribute read,
//! `wait`, `pending_watches`, a session event), so no task polls it: a task, or an
//! entry in a polled set, would cost 100 to 500 bytes a watch (bench/README.md,
//! "Watches"). A code-ref watch must call its callback unasked: one task per
//! handle, its pump, polls those. `remove_watches` takes the watcher out of its
//! record, removes it and records [`NOTWATCHING_EVENT`].

use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use futures_util::stream::{FuturesUnordered, StreamExt};
use futures_util::task::AtomicWaker;
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
    /// The kind of the server watch, once armed ([`WATCHTYPE_DATA`] for `exists`
    /// and `get`, [`WATCHTYPE_CHILD`] for `get_children`), for `remove_watches`.
    kind: i32,
    /// The client's watcher of the armed server watch (which also knows its path),
    /// until it delivers its event or a removal takes it.
    held: Option<Held>,
    /// A code-ref watch's way to its handle object's callbacks (boxed: most records
    /// have none, and the record's size is paid per watch).
    hook: Option<Box<Hooked>>,
    /// Who to wake when a notification arrives: the thread waiting for a watch
    /// object's record (it drives the runtime meanwhile), or the pump polling a
    /// code-ref watch's.
    waker: Option<Waker>,
}

impl Notice {
    /// The armed watcher's event, if it has arrived, and the spent watcher (to be
    /// dropped once the lock is released). The watcher wakes `waker`, else the
    /// record's waker, when the event arrives later.
    fn arrival(&mut self, waker: Option<&Waker>) -> Option<(WatchedEvent, Held)> {
        let waker = waker.or(self.waker.as_ref()).unwrap_or(Waker::noop());
        let held = self.held.as_mut()?;
        // The wait borrows the watcher, so a fresh one polled once loses nothing.
        let Poll::Ready(event) = pin!(held.watcher.changed_mut()).poll(&mut Context::from_waker(waker)) else {
            return None;
        };
        Some((event, self.held.take()?))
    }
}

/// A code-ref watch's callbacks, and the path its server watch stands on once armed
/// (each call of the callback names it).
#[derive(Debug)]
struct Hooked {
    hook: Hook,
    path: Option<String>,
}

/// A client watcher, and the process that armed it: in a forked child it is never
/// dropped, as its drop would talk to the parent's session through memory the
/// child only has a copy of.
#[derive(Debug)]
pub struct Held {
    watcher: ManuallyDrop<OneshotWatcher>,
    pid: u32,
}

impl Held {
    fn new(watcher: OneshotWatcher) -> Held {
        Held { watcher: ManuallyDrop::new(watcher), pid: crate::runtime::pid() }
    }

    /// Removes the watch from the client, and from the server when no other watch of
    /// the client stands on the path; the client forgets it whatever the server says.
    async fn remove(mut self) -> Result<(), i32> {
        // SAFETY: taken once; `self` is forgotten, so it is not dropped again.
        let watcher = unsafe { ManuallyDrop::take(&mut self.watcher) };
        std::mem::forget(self);
        watcher.remove().await.map_err(|err| error::code_of(&err))
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if self.pid == crate::runtime::pid() {
            // SAFETY: dropped once, here.
            unsafe { ManuallyDrop::drop(&mut self.watcher) };
        }
    }
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

    /// Takes in the notification the armed watcher holds, if one has arrived.
    fn settle(&self) {
        let mut notice = self.lock();
        if let Some((event, spent)) = notice.arrival(None) {
            drop(notice);
            drop(spent);
            self.deliver(&event);
        }
    }

    /// Its notice, with any notification that has arrived taken in.
    fn settled(&self) -> MutexGuard<'_, Notice> {
        self.settle();
        self.lock()
    }

    pub fn is_fired(&self) -> bool {
        self.settled().fired
    }

    fn is_registered(&self) -> bool {
        let notice = self.settled();
        notice.registered && !notice.detached
    }

    fn is_hooked(&self) -> bool {
        self.lock().hook.is_some()
    }

    /// A record for a code-ref watch: each notification also goes to the callbacks
    /// through `hook`, until the node event or the end of the session.
    pub fn hooked(hook: Hook) -> Record {
        let hooked = Hooked { hook, path: None };
        Record { notice: Mutex::new(Notice { hook: Some(Box::new(hooked)), ..Notice::default() }) }
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
        if let Some(hooked) = &notice.hook {
            let last = node_event || matches!(state, EXPIRED_SESSION_STATE | AUTH_FAILED_STATE);
            hooked.hook.event(Event { event, state, path: hooked.path.clone() }, last);
            if last {
                notice.hook = None;
            }
        }
        if let Some(waker) = notice.waker.take() {
            waker.wake();
        }
    }

    /// Its handle closed: it keeps its values but hears nothing more.
    fn detach(&self) {
        let mut notice = self.lock();
        notice.detached = true;
        let hook = notice.hook.take();
        let held = notice.held.take();
        let waker = notice.waker.take();
        drop(notice);
        drop((hook, held));
        if let Some(waker) = waker {
            waker.wake();
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
    /// [`WATCHTYPE_CHILD`]), and keeps the client's watcher.
    fn arm(&self, kind: i32, watcher: OneshotWatcher) {
        let mut notice = self.lock();
        notice.registered = true;
        notice.kind = kind;
        if let Some(hooked) = &mut notice.hook {
            hooked.path = Some(watcher.path().to_owned());
        }
        notice.held = Some(Held::new(watcher));
    }

    /// Polls the armed watcher for the pump: `Ready` once it delivered its event
    /// (recorded here) or is gone (removed, or the handle closed).
    fn poll_watcher(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut notice = self.lock();
        if notice.held.is_none() {
            return Poll::Ready(());
        }
        let Some((event, spent)) = notice.arrival(Some(cx.waker())) else {
            if !notice.waker.as_ref().is_some_and(|waker| waker.will_wake(cx.waker())) {
                notice.waker = Some(cx.waker().clone());
            }
            return Poll::Pending;
        };
        drop(notice);
        drop(spent);
        self.deliver(&event);
        Poll::Ready(())
    }

    /// The watcher of the record's server watch, if it is armed on `path` with a kind
    /// `kind` covers ([`WATCHTYPE_ANY`] covers both) and is one of `which`; taken, so
    /// it is removed once. An event that has arrived wins: it is recorded, and there
    /// is nothing to remove.
    fn take_watcher(self: &Arc<Self>, path: &str, kind: i32, which: &Which) -> Option<Held> {
        let mut notice = self.lock();
        if !self.covered(&notice, path, kind, which) {
            return None;
        }
        if let Some((event, spent)) = notice.arrival(None) {
            drop(notice);
            drop(spent);
            self.deliver(&event);
            return None;
        }
        let held = notice.held.take()?;
        // The pump lets the record go; a waiting thread looks again.
        if let Some(waker) = notice.waker.take() {
            waker.wake();
        }
        Some(held)
    }

    /// Whether the record is armed on `path` with a kind `kind` covers, still holds
    /// its watcher, and is one of `which`.
    fn covered(self: &Arc<Self>, notice: &Notice, path: &str, kind: i32, which: &Which) -> bool {
        self.chosen(notice, which)
            && notice.registered
            && !notice.detached
            && kind & notice.kind != 0
            && notice.held.as_ref().is_some_and(|held| held.watcher.path() == path)
    }

    fn chosen(self: &Arc<Self>, notice: &Notice, which: &Which) -> bool {
        match which {
            Which::All => true,
            Which::Record(record) => Arc::ptr_eq(record, self),
            Which::Calling(token) => notice.hook.as_ref().is_some_and(|hooked| hooked.hook.calls(*token)),
        }
    }

    /// Removes a watcher taken by [`Record::take_watcher`] and records
    /// [`NOTWATCHING_EVENT`] (the client forgets its watcher whatever the server
    /// answers).
    ///
    /// # Errors
    /// The server's answer (ZNOWATCHER, ...) or the connection's failure.
    pub async fn remove(self: Arc<Self>, held: Held) -> Result<(), i32> {
        let result = held.remove().await;
        self.notify(NOTWATCHING_EVENT, removed_state(result), true);
        result
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
        crate::runtime::block_on_until(
            until,
            std::future::poll_fn(|cx| {
                let mut notice = self.lock();
                if !notice.fired {
                    if let Some((event, spent)) = notice.arrival(Some(cx.waker())) {
                        drop(notice);
                        drop(spent);
                        self.deliver(&event);
                        return Poll::Ready(());
                    }
                }
                if notice.fired {
                    return Poll::Ready(());
                }
                notice.waker = Some(cx.waker().clone());
                Poll::Pending
            }),
        )
        .is_some()
    }
}

/// An armed record as its handle's pump polls it.
struct Polled(Arc<Record>);

impl Future for Polled {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.0.poll_watcher(cx)
    }
}

/// What a handle and its pump share: the armed records it polls.
#[derive(Default)]
struct Pumped {
    armed: Mutex<FuturesUnordered<Polled>>,
    /// The pump's task, woken when a record is added or the handle closes.
    waker: AtomicWaker,
    closed: AtomicBool,
}

impl std::fmt::Debug for Pumped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pumped").field("closed", &self.closed).finish_non_exhaustive()
    }
}

/// A handle's pump: it polls the watchers of its armed records until the handle
/// closes. (A lock rather than a channel: adding a record is a push and a wake.)
async fn pump(pumped: Arc<Pumped>) {
    std::future::poll_fn(|cx| {
        pumped.waker.register(cx.waker());
        if pumped.closed.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        let mut armed = locked(&pumped.armed);
        // Until none is ready (or the set is empty, or it yields to the runtime,
        // having woken this task again).
        while let Poll::Ready(Some(())) = armed.poll_next_unpin(cx) {}
        Poll::Pending
    })
    .await;
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
        self.record.settled().event
    }

    pub fn state(&self) -> i32 {
        self.record.settled().state
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
/// with the server (for session events), and its pump.
#[derive(Debug, Default)]
pub struct Watches {
    pending: Mutex<Vec<Arc<Record>>>,
    registered: Mutex<Vec<Arc<Record>>>,
    pump: Mutex<Pump>,
}

/// The way to a handle's pump.
#[derive(Debug, Default)]
enum Pump {
    /// Started with the first armed watch.
    #[default]
    Idle,
    /// What it shares with the handle, and the process that started it.
    Running(ManuallyDrop<Arc<Pumped>>, u32),
    /// The handle closed.
    Closed,
}

impl Drop for Pump {
    fn drop(&mut self) {
        // In a forked child the pump is a copy of the parent's: waking it would wake
        // the parent's runtime, through a lock a parent thread may hold.
        if let Pump::Running(pumped, pid) = self {
            if *pid == crate::runtime::pid() {
                pumped.closed.store(true, Ordering::Release);
                pumped.waker.wake();
                // SAFETY: dropped once, here.
                unsafe { ManuallyDrop::drop(pumped) };
            }
        }
    }
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

    /// The server accepted the record's watch on `path` (`kind`: [`WATCHTYPE_DATA`]
    /// or [`WATCHTYPE_CHILD`]): its notification is recorded (by the pump, for a
    /// code-ref watch), and session events and `remove_watches` reach it.
    pub fn arm(&self, record: &Arc<Record>, watcher: OneshotWatcher, kind: i32) {
        record.arm(kind, watcher);
        {
            let mut registered = locked(&self.registered);
            registered.retain(|r| r.is_registered());
            registered.push(record.clone());
        }
        let mut pump = locked(&self.pump);
        if let Pump::Closed = *pump {
            // Armed while the handle closed: it hears nothing, as the others.
            drop(pump);
            record.detach();
            return;
        }
        if !record.is_hooked() {
            // A watch object's record takes its event in when it is looked at.
            return;
        }
        if let Pump::Idle = *pump {
            let pumped = Arc::new(Pumped::default());
            crate::runtime::get().spawn(self::pump(pumped.clone()));
            *pump = Pump::Running(ManuallyDrop::new(pumped), crate::runtime::pid());
        }
        if let Pump::Running(pumped, _) = &*pump {
            locked(&pumped.armed).push(Polled(record.clone()));
            pumped.waker.wake();
        }
    }

    /// Sends a session event to every armed record.
    pub fn session_event(&self, state: i32) {
        let mut registered = locked(&self.registered);
        registered.retain(|r| r.is_registered());
        for record in registered.iter() {
            record.notify(SESSION_EVENT, state, false);
        }
    }

    /// The watchers of the records armed on `path` with a kind `kind` covers
    /// ([`WATCHTYPE_ANY`] covers both) that are `which`, taken so that each is
    /// removed once.
    pub fn take_watchers(&self, path: &str, kind: i32, which: &Which) -> Vec<(Arc<Record>, Held)> {
        let mut registered = locked(&self.registered);
        registered.retain(|r| r.is_registered());
        registered.iter().filter_map(|r| Some((r.clone(), r.take_watcher(path, kind, which)?))).collect()
    }

    /// The handle is closing: its records keep their values but hear nothing more,
    /// and its pump ends.
    pub fn detach_all(&self) {
        *locked(&self.pump) = Pump::Closed;
        for list in [&self.pending, &self.registered] {
            for record in locked(list).drain(..) {
                record.detach();
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
        arm_bare(&watches, &record, WATCHTYPE_DATA);
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
        arm_bare(&watches, &record, WATCHTYPE_DATA);
        watches.detach_all();
        watches.session_event(CONNECTING_STATE);
        record.notify(3, 3, true);
        assert_eq!(watch.event(), 0);
        assert_eq!(Waiter::new(&watch, 0).step(), NzkWaitStep::TimedOut);
    }

    /// Armed as the server would arm it, without a client watcher (whose path a
    /// removal also matches: `t/43_persistent_watch.t` runs that on a server).
    fn arm_bare(watches: &Watches, record: &Arc<Record>, kind: i32) {
        let mut notice = record.lock();
        notice.registered = true;
        notice.kind = kind;
        drop(notice);
        locked(&watches.registered).push(record.clone());
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
