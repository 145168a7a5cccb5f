//! Watches, with the original's records model.
//!
//! A `Net::ZooKeeper::Watch` object ([`Watch`]) always refers to one [`Record`]. Each
//! time the object is passed to `exists`, `get` or `get_children`, it gets a new
//! record, which goes into that handle's pending list ([`Watches`]). A record fires
//! on its first notification; later session notifications still update its event and
//! state. `pending_watches` counts the records of a handle that have not fired.
//!
//! An armed record is its server watch's sink: the client's session task (on the
//! runtime thread while Perl is busy) hands it the notification, which it records,
//! wakes a thread waiting for it, and passes to a code-ref watch's callbacks. There
//! is no channel, task or polled entry per watch: each would cost 100 to 500 bytes
//! a watch (bench/README.md, "Watches"). The record also keeps the client's watcher,
//! to remove the watch: `remove_watches` takes it out of its record, removes it and
//! records [`NOTWATCHING_EVENT`].

use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use zookeeper_client::{EventType, OneshotSink, OneshotWatcher, SessionState};

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
    /// The event and state codes (small: see `kind`).
    event: i16,
    state: i16,
    /// The watch object's `timeout` (ms), kept here to spare the object a word.
    timeout: u32,
    fired: bool,
    /// A server watch stands behind the record: session events reach it until its
    /// node event arrives.
    registered: bool,
    /// Its handle was closed: nothing reaches it any more.
    detached: bool,
    /// The kind of the server watch, once armed ([`WATCHTYPE_DATA`] for `exists`
    /// and `get`, [`WATCHTYPE_CHILD`] for `get_children`), for `remove_watches`.
    /// (The fields are small so that the record takes 112 bytes of heap, not 128.)
    kind: u8,
    /// The process that armed it (see [`Held`]).
    pid: u32,
    /// The client's watcher of the armed server watch (which also knows its path),
    /// until its event arrives or a removal takes it: dropping it, or removing it,
    /// takes the watch off the client.
    watcher: Option<ManuallyDrop<OneshotWatcher>>,
    /// A code-ref watch's callbacks, or the thread waiting for a watch object's
    /// record; boxed, as most records have neither.
    aside: Option<Box<Aside>>,
}

/// What only some records have (one field for both, one word less per record).
#[derive(Debug)]
enum Aside {
    Hook(Hooked),
    /// The thread waiting for the record (it drives the runtime meanwhile).
    Waiter(Waker),
}

impl Notice {
    /// The watcher, with the process that armed it.
    fn take_held(&mut self) -> Option<Held> {
        Some(Held { watcher: self.watcher.take()?, pid: self.pid })
    }

    fn hooked(&self) -> Option<&Hooked> {
        match self.aside.as_deref() {
            Some(Aside::Hook(hooked)) => Some(hooked),
            _ => None,
        }
    }

    /// The code-ref watch's callbacks, taken (to be dropped once the lock is released).
    fn take_hook(&mut self) -> Option<Box<Aside>> {
        self.aside.take_if(|aside| matches!(**aside, Aside::Hook(_)))
    }

    /// Wakes the waiting thread, if any.
    fn wake(&mut self) {
        if let Some(Aside::Waiter(waker)) =
            self.aside.take_if(|aside| matches!(**aside, Aside::Waiter(_))).map(|aside| *aside)
        {
            waker.wake();
        }
    }

    /// Notes the waiting thread (the box is kept across polls).
    fn wait_with(&mut self, waker: &Waker) {
        match self.aside.as_deref_mut() {
            Some(Aside::Waiter(known)) => known.clone_from(waker),
            // No wait is for a code-ref watch's record (they are in no watch object).
            Some(Aside::Hook(_)) => {}
            None => self.aside = Some(Box::new(Aside::Waiter(waker.clone()))),
        }
    }
}

impl Drop for Notice {
    fn drop(&mut self) {
        drop(self.take_held());
    }
}

/// A code-ref watch's callbacks, and the path its server watch stands on (each call
/// of the callback names it).
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
    /// Lets go of a watcher whose event the record got: the client has forgotten it.
    fn delivered(mut self) {
        if self.pid == crate::runtime::pid() {
            // SAFETY: taken once; `self` is forgotten, so it is not dropped again.
            unsafe { ManuallyDrop::take(&mut self.watcher) }.delivered();
        }
        std::mem::forget(self);
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
///
/// It is the sink of its server watch: the client's session task delivers the
/// notification to it directly ([`OneshotSink`]), with no channel or task per
/// watch (bench/README.md, "Watches").
#[derive(Debug, Default)]
pub struct Record {
    notice: Mutex<Notice>,
}

impl OneshotSink for Record {
    fn deliver(&self, event_type: EventType, session_state: SessionState) {
        let spent = self.lock().take_held();
        if let Some(spent) = spent {
            spent.delivered();
        }
        match event_type {
            EventType::Session => self.notify(SESSION_EVENT, state_code(session_state), false),
            node => self.notify(node_event_code(node), CONNECTED_STATE, true),
        }
    }
}

impl Record {
    fn lock(&self) -> MutexGuard<'_, Notice> {
        self.notice.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn is_fired(&self) -> bool {
        self.lock().fired
    }

    /// Still pending, or registered with the server.
    fn is_current(&self) -> bool {
        let notice = self.lock();
        !notice.detached && (!notice.fired || notice.registered)
    }

    fn is_registered(&self) -> bool {
        let notice = self.lock();
        notice.registered && !notice.detached
    }

    /// A record for a code-ref watch: each notification also goes to the callbacks
    /// through `hook`, until the node event or the end of the session.
    pub fn hooked(hook: Hook) -> Record {
        let hooked = Hooked { hook, path: None };
        let record = Record::default();
        record.lock().aside = Some(Box::new(Aside::Hook(hooked)));
        record
    }

    fn notify(&self, event: i32, state: i32, node_event: bool) {
        let mut notice = self.lock();
        if notice.detached {
            return;
        }
        // The codes are all small (the C client's), so they fit.
        notice.event = i16::try_from(event).unwrap_or(i16::MIN);
        notice.state = i16::try_from(state).unwrap_or(i16::MIN);
        notice.fired = true;
        if node_event {
            notice.registered = false;
        }
        if let Some(hooked) = notice.hooked() {
            let last = node_event || matches!(state, EXPIRED_SESSION_STATE | AUTH_FAILED_STATE);
            hooked.hook.event(Event { event, state, path: hooked.path.clone() }, last);
            if last {
                notice.take_hook();
            }
        }
        notice.wake();
    }

    /// Its handle closed: it keeps its values but hears nothing more.
    fn detach(&self) {
        let mut notice = self.lock();
        notice.detached = true;
        notice.wake();
        let hook = notice.take_hook();
        let held = notice.take_held();
        drop(notice);
        drop((hook, held));
    }

    /// The call that was to arm this record failed: a code-ref watch is over (it
    /// leaves the pending list, and its callback is released); a watch object's
    /// record stays pending, as in the original.
    pub fn abandon(&self) {
        let mut notice = self.lock();
        if notice.take_hook().is_some() {
            notice.fired = true;
        }
    }

    /// The record as the sink of the watch a call on `path` is about to set (a
    /// code-ref watch's callback names the path).
    pub fn sink(self: &Arc<Self>, path: &str) -> Arc<dyn OneshotSink> {
        if let Some(Aside::Hook(hooked)) = self.lock().aside.as_deref_mut() {
            hooked.path = Some(path.to_owned());
        }
        self.clone()
    }

    /// Notes where the record's server watch stands (`kind`: [`WATCHTYPE_DATA`] or
    /// [`WATCHTYPE_CHILD`]), and keeps the client's watcher; not if its
    /// notification came first (the reply and the event raced: nothing stands), or
    /// its handle closed.
    pub fn arm(&self, kind: i32, watcher: OneshotWatcher) {
        let mut notice = self.lock();
        if notice.fired || notice.detached {
            drop(notice);
            drop(watcher);
            return;
        }
        notice.registered = true;
        notice.kind = u8::try_from(kind).unwrap_or(0);
        notice.pid = crate::runtime::pid();
        notice.watcher = Some(ManuallyDrop::new(watcher));
    }

    /// The watcher of the record's server watch, if it is armed on `path` with a kind
    /// `kind` covers ([`WATCHTYPE_ANY`] covers both) and is one of `which`; taken, so
    /// it is removed once.
    fn take_watcher(self: &Arc<Self>, path: &str, kind: i32, which: &Which) -> Option<Held> {
        let mut notice = self.lock();
        if !self.covered(&notice, path, kind, which) {
            return None;
        }
        notice.take_held()
    }

    /// Whether the record is armed on `path` with a kind `kind` covers, still holds
    /// its watcher, and is one of `which`.
    fn covered(self: &Arc<Self>, notice: &Notice, path: &str, kind: i32, which: &Which) -> bool {
        self.chosen(notice, which)
            && notice.registered
            && !notice.detached
            && kind & i32::from(notice.kind) != 0
            && notice.watcher.as_ref().is_some_and(|watcher| watcher.path() == path)
    }

    fn chosen(self: &Arc<Self>, notice: &Notice, which: &Which) -> bool {
        match which {
            Which::All => true,
            Which::Record(record) => Arc::ptr_eq(record, self),
            Which::Calling(token) => notice.hooked().is_some_and(|hooked| hooked.hook.calls(*token)),
        }
    }

    /// Removes a watcher taken by [`Record::take_watcher`] and records
    /// [`NOTWATCHING_EVENT`] (the client forgets its watcher whatever the server
    /// answers). A node event that came while the removal was on its way wins: it
    /// stays recorded, and the removal reports ZNOWATCHER, as for a watch that had
    /// fired before.
    ///
    /// # Errors
    /// The server's answer (ZNOWATCHER, ...) or the connection's failure.
    pub async fn remove(self: Arc<Self>, held: Held) -> Result<(), i32> {
        let result = held.remove().await;
        let overtaken = {
            let notice = self.lock();
            !notice.registered && !notice.detached
        };
        if overtaken {
            return Err(error::ZNOWATCHER);
        }
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
                if notice.fired {
                    return Poll::Ready(());
                }
                notice.wait_with(cx.waker());
                Poll::Pending
            }),
        )
        .is_some()
    }
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

/// A `Net::ZooKeeper::Watch`: its current record, which also keeps its timeout (a
/// watch object is one pointer, 16 bytes less on the heap).
#[derive(Debug)]
pub struct Watch {
    record: Arc<Record>,
}

impl Watch {
    pub fn new(timeout: u32) -> Watch {
        let watch = Watch { record: Arc::default() };
        watch.set_timeout(timeout);
        watch
    }

    /// A watch made by `$zkh->watch(timeout => ...)`: the option's timeout, else the
    /// handle's `watch_timeout`.
    pub fn with_options(watch_timeout: u32, opts: &Options) -> Watch {
        Watch::new(opts.timeout_or(watch_timeout))
    }

    /// How long `wait` waits by default (ms).
    pub fn timeout(&self) -> u32 {
        self.record.lock().timeout
    }

    pub fn set_timeout(&self, timeout: u32) {
        self.record.lock().timeout = timeout;
    }

    pub fn event(&self) -> i32 {
        self.record.lock().event.into()
    }

    pub fn state(&self) -> i32 {
        self.record.lock().state.into()
    }

    /// Starts a new assignment: a fresh record, with the watch's timeout, replaces
    /// the old one, which stays wherever it is pending.
    pub fn reassign(&mut self) -> Arc<Record> {
        let timeout = self.timeout();
        self.record = Arc::default();
        self.set_timeout(timeout);
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

/// A handle's records, in one list: those pending (not fired, for
/// `pending_watches`), and those registered with the server (for session events
/// and removals), which a session event may have fired.
#[derive(Debug, Default)]
pub struct Watches {
    list: Mutex<List>,
    /// The handle closed: a record added from now on is detached at once.
    closed: AtomicBool,
}

/// The records, and when adding one next purges the list.
#[derive(Debug, Default)]
struct List {
    records: Vec<Arc<Record>>,
    purge_at: usize,
}

/// The fewest records a purge on adding waits for.
const MIN_PURGE_AT: usize = 64;

impl List {
    /// Drops the records neither pending nor registered. The next purge on adding
    /// waits until the list has doubled: purging at every addition made arming N
    /// watches cost N² record looks.
    fn purge(&mut self) {
        self.records.retain(|r| r.is_current());
        self.purge_at = (2 * self.records.len()).max(MIN_PURGE_AT);
    }
}

fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Watches {
    /// The records, without those neither pending nor registered.
    fn current(&self) -> MutexGuard<'_, List> {
        let mut list = locked(&self.list);
        list.purge();
        list
    }

    /// Adds a new assignment: it is pending from now on, and registered once armed.
    pub fn add_pending(&self, record: &Arc<Record>) {
        {
            let mut list = locked(&self.list);
            if list.records.len() >= list.purge_at {
                list.purge();
            }
            list.records.push(record.clone());
        }
        // Added while the handle closed (after `detach_all` took the list): it
        // hears nothing, as the others.
        if self.closed.load(Ordering::SeqCst) {
            record.detach();
        }
    }

    /// The number of records that have not fired.
    pub fn pending_count(&self) -> usize {
        self.current().records.iter().filter(|r| !r.is_fired()).count()
    }

    /// Sends a session event to every armed record.
    pub fn session_event(&self, state: i32) {
        for record in self.current().records.iter().filter(|r| r.is_registered()) {
            record.notify(SESSION_EVENT, state, false);
        }
    }

    /// The watchers of the records armed on `path` with a kind `kind` covers
    /// ([`WATCHTYPE_ANY`] covers both) that are `which`, taken so that each is
    /// removed once.
    pub fn take_watchers(&self, path: &str, kind: i32, which: &Which) -> Vec<(Arc<Record>, Held)> {
        self.current().records.iter().filter_map(|r| Some((r.clone(), r.take_watcher(path, kind, which)?))).collect()
    }

    /// The handle is closing: its records keep their values but hear nothing more.
    pub fn detach_all(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let records = std::mem::take(&mut locked(&self.list).records);
        for record in records {
            record.detach();
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
        watches.add_pending(&first);
        watches.add_pending(&watch.reassign());
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
        watches.add_pending(&record);
        arm_bare(&record, WATCHTYPE_DATA);
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
        watches.add_pending(&record);
        arm_bare(&record, WATCHTYPE_DATA);
        watches.detach_all();
        watches.session_event(CONNECTING_STATE);
        record.notify(3, 3, true);
        assert_eq!(watch.event(), 0);
        assert_eq!(Waiter::new(&watch, 0).step(), NzkWaitStep::TimedOut);
    }

    /// Armed as the server would arm it, without a client watcher (whose path a
    /// removal also matches: `t/43_persistent_watch.t` runs that on a server).
    fn arm_bare(record: &Arc<Record>, kind: i32) {
        let mut notice = record.lock();
        notice.registered = true;
        notice.kind = u8::try_from(kind).unwrap_or(0);
    }

    /// The heap a watch object takes (bench/watches.pl measures it): glibc gives an
    /// `Arc` of an 88-byte record a 112-byte chunk, and of the 8-byte watch 32.
    #[test]
    fn records_and_watches_stay_small() {
        assert!(std::mem::size_of::<Record>() <= 88, "Record is {} bytes", std::mem::size_of::<Record>());
        assert_eq!(std::mem::size_of::<Watch>(), 8);
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
