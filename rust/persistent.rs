//! Persistent watches (`add_watch`, ZooKeeper 3.6 and later) and the removal of
//! watches (`remove_watches`, `remove_all_watches`, ZooKeeper 3.5 and later).
//!
//! A `Net::ZooKeeper::PersistentWatch` ([`PersistentWatch`]) receives every event of
//! its server watch, in order, in a bounded [`Queue`]. The client's watcher gets them
//! through a channel that the session task fills as it reads the connection, in order
//! with the replies. A task on the shared runtime moves them into the queue as they
//! come, so none is lost while Perl is busy; and every look at the queue from Perl
//! (`wait`, `pending`, `dropped`) first moves what the channel holds itself, so it
//! sees every event the server sent before the reply of a call that returned
//! earlier. Past the bound new events are dropped and counted, except the last event
//! of a watch (the session expired, or the watch was removed), which is always
//! queued.

use std::collections::VecDeque;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio::task::JoinHandle;
use zookeeper_client::{AddWatchMode, Client, EventType, PersistentWatcher, WatchedEvent};

use crate::callback;
use crate::caller::Caller;
use crate::calls::Request;
use crate::dispatch::{Hook, Values};
use crate::error::{self, IntoCode, ZINVALIDSTATE, ZNOWATCHER};
use crate::handle::{CallResult, Handle};
use crate::options::{NzkMethod, Options};
use crate::runtime;
use crate::watch::{self, Held, NzkWaitStep, Record, Which, WAIT_SLICE};

/// One event as `wait` returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub event: i32,
    pub state: i32,
    /// The node's path; `None` for a session event.
    pub path: Option<String>,
}

impl Event {
    /// The event for Perl, and whether it is the watch's last. (After the handle's
    /// own close nothing reaches Perl: its queues end first.)
    fn of(event: &WatchedEvent) -> (Option<Event>, bool) {
        match event.event_type {
            EventType::Session => {
                let state = watch::state_code(event.session_state);
                (Some(Event { event: watch::SESSION_EVENT, state, path: None }), event.session_state.is_terminated())
            }
            node => {
                let path = Some(event.path.clone());
                (Some(Event { event: watch::node_event_code(node), state: watch::CONNECTED_STATE, path }), false)
            }
        }
    }
}

struct State {
    events: VecDeque<Event>,
    bound: usize,
    dropped: u64,
    /// The client's watcher, while the watch lives here.
    watcher: Option<PersistentWatcher>,
    /// No event is queued any more.
    ended: bool,
    /// A code-ref watch: events go to its handle object's callbacks instead.
    hook: Option<Hook>,
}

impl State {
    fn push(&mut self, event: Event) {
        if self.ended {
            return;
        }
        if let Some(hook) = &self.hook {
            hook.event(event, false);
        } else if self.events.len() < self.bound {
            self.events.push_back(event);
        } else {
            self.dropped += 1;
        }
    }

    /// Queues the watch's last event (whatever the bound), if any, and ends it.
    fn push_last(&mut self, event: Option<Event>) {
        if self.ended {
            return;
        }
        match (self.hook.take(), event) {
            (Some(hook), Some(event)) => hook.event(event, true),
            // Dropped without a last event: the callback is released.
            (Some(_), None) => {}
            (None, event) => self.events.extend(event),
        }
        self.ended = true;
    }
}

/// Wakes the task that feeds a queue: the waker every poll of the client's channel
/// leaves with it, from the task and from Perl alike, so that the task hears of
/// every new event.
struct Wakeup(Notify);

impl Wake for Wakeup {
    fn wake(self: Arc<Self>) {
        self.0.notify_one();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.notify_one();
    }
}

/// The events of one persistent watch.
pub struct Queue {
    /// The path watched, as sent to the server.
    path: String,
    state: Mutex<State>,
    ready: Condvar,
    wakeup: Arc<Wakeup>,
    waker: Waker,
}

impl Queue {
    fn new(path: String, watcher: Option<PersistentWatcher>, bound: usize, hook: Option<Hook>) -> Arc<Queue> {
        let wakeup = Arc::new(Wakeup(Notify::new()));
        let state = State { events: VecDeque::new(), bound, dropped: 0, watcher, ended: false, hook };
        Arc::new(Queue {
            path,
            state: Mutex::new(state),
            ready: Condvar::new(),
            waker: Waker::from(wakeup.clone()),
            wakeup,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Moves what the client's channel holds into the queue; false once the watch is
    /// not fed here any more.
    fn pump(&self, state: &mut State) -> bool {
        let mut cx = Context::from_waker(&self.waker);
        let mut moved = false;
        while let Some(watcher) = state.watcher.as_mut() {
            let polled = catch_unwind(AssertUnwindSafe(|| pin!(watcher.changed()).poll(&mut cx)));
            let (event, last) = match polled {
                Ok(Poll::Pending) => break,
                Ok(Poll::Ready(event)) => Event::of(&event),
                // The client's channel closed without a last session event (it
                // panics then): nothing more comes.
                Err(_) => (None, true),
            };
            moved = true;
            if last {
                state.watcher = None;
                state.push_last(event);
            } else if let Some(event) = event {
                state.push(event);
            }
        }
        if moved {
            self.ready.notify_all();
        }
        state.watcher.is_some() && !state.ended
    }

    /// The queue, with what the client's channel held moved into it.
    fn look(&self) -> MutexGuard<'_, State> {
        let mut state = self.lock();
        self.pump(&mut state);
        state
    }

    /// Events queued and events dropped.
    pub fn counts(&self) -> (usize, u64) {
        let state = self.look();
        (state.events.len(), state.dropped)
    }

    /// Takes the client's watcher to remove it; None if the watch ended here already.
    fn take_watcher(&self) -> Option<PersistentWatcher> {
        let mut state = self.look();
        let watcher = if state.ended { None } else { state.watcher.take() };
        drop(state);
        self.wakeup.0.notify_one();
        watcher
    }

    /// The watch was removed (or its removal tried: the client forgets the watcher
    /// anyway): its last event.
    fn removed(&self, state: i32) {
        let event = Event { event: watch::NOTWATCHING_EVENT, state, path: Some(self.path.clone()) };
        self.lock().push_last(Some(event));
        self.ready.notify_all();
    }

    /// Ends the watch here: `DESTROY` (the client's watcher dropped, which removes it
    /// without waiting for the server), the handle's close, or an abandoned session
    /// (`final_state`: its last session event).
    pub fn end(&self, final_state: Option<i32>) {
        let mut state = self.look();
        let watcher = state.watcher.take();
        state.push_last(final_state.map(|state| Event { event: watch::SESSION_EVENT, state, path: None }));
        drop(state);
        drop(watcher);
        self.ready.notify_all();
        self.wakeup.0.notify_one();
    }
}

/// The task that feeds a queue while the watch lives here.
async fn feed(queue: Arc<Queue>) {
    while queue.pump(&mut queue.lock()) {
        queue.wakeup.0.notified().await;
    }
}

/// A handle's persistent watches, for `remove_all_watches` and its close.
#[derive(Default)]
pub struct Registry(Mutex<Vec<Weak<Queue>>>);

impl Registry {
    fn lock(&self) -> MutexGuard<'_, Vec<Weak<Queue>>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn add(&self, queue: &Arc<Queue>) {
        let mut queues = self.lock();
        queues.retain(|q| q.strong_count() > 0);
        queues.push(Arc::downgrade(queue));
    }

    fn on_path(&self, path: &str) -> Vec<Arc<Queue>> {
        self.lock().iter().filter_map(Weak::upgrade).filter(|q| q.path == path).collect()
    }

    /// The handle closes (`final_state` None) or gives its session up: every watch
    /// ends.
    pub fn end_all(&self, final_state: Option<i32>) {
        let queues: Vec<Arc<Queue>> = self.lock().drain(..).filter_map(|q| q.upgrade()).collect();
        for queue in queues {
            queue.end(final_state);
        }
    }
}

/// A `Net::ZooKeeper::PersistentWatch`.
pub struct PersistentWatch {
    queue: Arc<Queue>,
    /// The handle object it was made through (for `remove` and its `get_error`); the
    /// watch does not keep it alive.
    caller: Weak<Caller>,
    mode: i32,
    /// `wait`'s default timeout (ms).
    timeout: u32,
    pid: u32,
}

impl PersistentWatch {
    /// `$zkh->add_watch($path, mode => ..., queue => ..., timeout => ...)`.
    ///
    /// # Errors
    /// The ZooKeeper code the call failed with (recorded for the handle's `get_error`).
    /// Whether this object was made by another process (inherited through fork).
    pub fn is_inherited(&self) -> bool {
        self.pid != runtime::pid()
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    pub fn path(&self) -> &str {
        &self.queue.path
    }

    pub fn mode(&self) -> i32 {
        self.mode
    }

    /// Events queued and events dropped.
    pub fn counts(&self) -> (usize, u64) {
        self.queue.counts()
    }

    /// A wait for `$pw->wait(timeout => ...)`: the option's timeout, else the watch's.
    pub fn waiter(&self, opts: &Options) -> EventWaiter {
        let timeout = Duration::from_millis(opts.timeout_or(self.timeout).into());
        EventWaiter { queue: self.queue.clone(), deadline: Instant::now() + timeout, event: None }
    }

    /// `$pw->remove`: removes the watch from the server.
    ///
    /// # Errors
    /// The ZooKeeper code (recorded for the handle's `get_error`): `ZNOWATCHER` once
    /// the watch was removed or ended; `ZINVALIDSTATE` when the handle is gone.
    pub fn remove(&self) -> CallResult<()> {
        match self.caller.upgrade() {
            Some(caller) => caller.call(|handle| handle.remove_persistent(&self.queue)),
            None => Err(ZINVALIDSTATE),
        }
    }
}

impl Drop for PersistentWatch {
    fn drop(&mut self) {
        if self.is_inherited() {
            // The queue and its watcher belong to the parent's runtime, whose threads
            // do not exist here: leave them alone.
            std::mem::forget(Arc::clone(&self.queue));
        } else {
            self.queue.end(None);
        }
    }
}

/// A wait in progress: `PersistentWatch::wait` steps it in slices so that Perl can
/// run its signal handlers in between. It holds the queue, so the object may go away.
pub struct EventWaiter {
    queue: Arc<Queue>,
    deadline: Instant,
    event: Option<Event>,
}

impl EventWaiter {
    /// Waits (at most [`WAIT_SLICE`]) for the next event: `Fired` with it taken from
    /// the queue (see [`EventWaiter::event`]), `TimedOut` when the deadline passed or
    /// the watch ended with its queue empty, else `Pending`.
    pub fn step(&mut self) -> NzkWaitStep {
        crate::runtime::kick();
        let mut state = self.queue.look();
        let until = self.deadline.min(Instant::now() + WAIT_SLICE);
        loop {
            if let Some(event) = state.events.pop_front() {
                self.event = Some(event);
                return NzkWaitStep::Fired;
            }
            if state.ended {
                return NzkWaitStep::TimedOut;
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            state = self.queue.ready.wait_timeout(state, left).unwrap_or_else(PoisonError::into_inner).0;
        }
        if Instant::now() >= self.deadline {
            NzkWaitStep::TimedOut
        } else {
            NzkWaitStep::Pending
        }
    }

    /// The event the last `Fired` step took.
    pub fn event(&self) -> Option<&Event> {
        self.event.as_ref()
    }
}

/// `add_watch`'s request: a persistent watch on a path, fed to a new queue (or to
/// a code ref through `hook`) once the server accepted it.
pub struct AddWatchRequest {
    handle: Arc<Handle>,
    caller: Weak<Caller>,
    path: String,
    mode: AddWatchMode,
    watch_mode: i32,
    bound: usize,
    timeout: u32,
    hook: Option<Hook>,
}

impl Request for AddWatchRequest {
    type Reply = PersistentWatch;
    const CALL: &'static str = "add_watch";

    async fn send(self, client: Arc<Client>) -> CallResult<PersistentWatch> {
        let watcher = client.watch(&self.path, self.mode).await.map_err(IntoCode::code)?;
        let queue = Queue::new(self.path, Some(watcher), self.bound, self.hook);
        // Registers the waker with the client's channel before anything else looks.
        queue.pump(&mut queue.lock());
        self.handle.persistent.add(&queue);
        runtime::get().spawn(feed(queue.clone()));
        Ok(PersistentWatch {
            queue,
            caller: self.caller,
            mode: self.watch_mode,
            timeout: self.timeout,
            pid: runtime::pid(),
        })
    }

    fn values(reply: PersistentWatch) -> Values {
        Values::Persistent(Box::new(reply))
    }
}

/// `remove_watches` and `remove_all_watches`: the watches of this handle on a path
/// are found once the session is there, then removed.
pub struct RemoveRequest {
    handle: Arc<Handle>,
    path: String,
    kind: i32,
    which: Which,
    /// `remove_all_watches` of any kind: the persistent watches on the path too.
    persistent: bool,
}

impl Request for RemoveRequest {
    type Reply = ();
    const CALL: &'static str = "remove_watches";

    fn name(&self) -> &'static str {
        if matches!(self.which, Which::All) {
            "remove_all_watches"
        } else {
            Self::CALL
        }
    }

    async fn send(self, _client: Arc<Client>) -> CallResult<()> {
        let oneshots = self.handle.watches.take_watchers(&self.path, self.kind, &self.which);
        let queues = if self.persistent { self.handle.persistent.on_path(&self.path) } else { Vec::new() };
        remove_each(oneshots, queues).await
    }

    fn values((): ()) -> Values {
        Values::None
    }
}

impl PersistentWatch {
    /// `$zkh->add_watch($path, mode => ..., queue => ..., timeout => ..., watch =>
    /// CODE)`.
    ///
    /// # Errors
    /// ZBADARGUMENTS for a path the C client would refuse.
    pub fn request(
        caller: &Arc<Caller>,
        handle: &Arc<Handle>,
        path: &[u8],
        opts: &Options,
    ) -> CallResult<AddWatchRequest> {
        let hook = opts.take_watch_callback().map(|callback| caller.dispatch().hook(callback));
        let path = Handle::checked_path("zoo_add_watch", path, false)?;
        let mode = if opts.watch_mode == watch::WATCH_PERSISTENT_RECURSIVE {
            AddWatchMode::PersistentRecursive
        } else {
            AddWatchMode::Persistent
        };
        Ok(AddWatchRequest {
            handle: handle.clone(),
            caller: Arc::downgrade(caller),
            path,
            mode,
            watch_mode: opts.watch_mode,
            bound: opts.queue,
            timeout: opts.timeout_or(caller.watch_timeout.load(Ordering::Relaxed)),
            hook,
        })
    }
}

impl Handle {
    /// Removes a persistent watch made through this handle.
    ///
    /// # Errors
    /// As [`Handle::remove_request`].
    pub fn remove_persistent(&self, queue: &Arc<Queue>) -> CallResult<()> {
        self.call(|_client| remove_each(Vec::new(), vec![queue.clone()]))
    }

    /// `remove_watches($path, watch => $w)`: the watch `$w` armed on `path` through
    /// this handle (its current assignment), which then records
    /// [`watch::NOTWATCHING_EVENT`]; with a code ref, the code-ref watches on `path`
    /// that call it, which are then called with it. `remove_all_watches($path, type
    /// => ...)`: every watch of this handle on `path` of that kind (one-shot data
    /// watches for `WATCHTYPE_DATA`, child watches for `WATCHTYPE_CHILD`, both and
    /// the persistent watches for `WATCHTYPE_ANY`).
    ///
    /// # Errors
    /// ZBADARGUMENTS for a path the C client would refuse, or `remove_watches` without
    /// a watch. The call fails with `ZNOWATCHER` when no such watch is armed there
    /// through this handle (the server is not asked), or when the server had none;
    /// else with the first removal's failure.
    pub fn remove_request(self: &Arc<Self>, path: &[u8], opts: &Options) -> CallResult<RemoveRequest> {
        let all = opts.method == NzkMethod::RemoveAllWatches;
        let path = Self::checked_path(if all { "zoo_remove_all_watches" } else { "zoo_remove_watches" }, path, false)?;
        let (kind, which) = if all {
            (opts.watch_type, Which::All)
        } else {
            let callback = opts.take_watch_callback();
            let which = match (callback, opts.watch()) {
                (Some(callback), _) => Which::Calling(callback::token(&callback) as usize),
                (None, Some(watch)) => Which::Record(watch.record()),
                (None, None) => return Err(error::ZBADARGUMENTS),
            };
            (watch::WATCHTYPE_ANY, which)
        };
        let persistent = all && kind == watch::WATCHTYPE_ANY;
        Ok(RemoveRequest { handle: self.clone(), path, kind, which, persistent })
    }
}

/// Removes persistent watches, then one-shot ones, each the client's way: it
/// forgets the watcher, and asks the server only for the last watcher of the
/// handle on a path (for every kind once the path has no other). The persistent
/// ones go first, so that a node's last request is a one-shot watch's. Cut short
/// (by the call's bound), what is left is still removed.
async fn remove_each(oneshots: Vec<(Arc<Record>, Held)>, queues: Vec<Arc<Queue>>) -> CallResult<()> {
    let watchers: Vec<(Arc<Queue>, PersistentWatcher)> =
        queues.into_iter().filter_map(|queue| queue.take_watcher().map(|watcher| (queue, watcher))).collect();
    if oneshots.is_empty() && watchers.is_empty() {
        return Err(ZNOWATCHER);
    }
    let mut unfinished = Unfinished { queues: watchers.iter().map(|(queue, _)| queue.clone()).collect(), oneshots };
    let mut results = Vec::new();
    for (queue, watcher) in watchers {
        let result = watcher.remove().await.map_err(|err| error::code_of(&err));
        queue.removed(watch::removed_state(result));
        unfinished.queues.retain(|left| !Arc::ptr_eq(left, &queue));
        results.push(result);
    }
    for removal in unfinished.start() {
        results.push(removal.await.unwrap_or(Err(ZNOWATCHER)));
    }
    results.into_iter().find(Result::is_err).unwrap_or(Ok(()))
}

/// The removals not done yet.
struct Unfinished {
    queues: Vec<Arc<Queue>>,
    oneshots: Vec<(Arc<Record>, Held)>,
}

impl Unfinished {
    /// Starts removing the one-shot watches, each in a task of its own, so that a
    /// removal the call stops waiting for still ends with its event recorded.
    fn start(&mut self) -> Vec<JoinHandle<Result<(), i32>>> {
        std::mem::take(&mut self.oneshots)
            .into_iter()
            .map(|(record, held)| runtime::get().spawn(record.remove(held)))
            .collect()
    }
}

impl Drop for Unfinished {
    fn drop(&mut self) {
        // Cut short: the persistent watchers were dropped, which removes them, and
        // the one-shot watches' tasks remove theirs meanwhile.
        for queue in &self.queues {
            queue.removed(watch::CONNECTING_STATE);
        }
        drop(self.start());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(n: i32) -> Event {
        Event { event: watch::CHANGED_EVENT, state: watch::CONNECTED_STATE, path: Some(format!("/n{n}")) }
    }

    fn waiter(queue: &Arc<Queue>, ms: u64) -> EventWaiter {
        EventWaiter { queue: queue.clone(), deadline: Instant::now() + Duration::from_millis(ms), event: None }
    }

    #[test]
    fn past_the_bound_new_events_are_dropped_and_counted() {
        let queue = Queue::new("/n".into(), None, 5, None);
        for n in 0..12 {
            queue.lock().push(node(n));
        }
        assert_eq!(queue.counts(), (5, 7));
        let mut w = waiter(&queue, 0);
        for n in 0..5 {
            assert_eq!(w.step(), NzkWaitStep::Fired);
            assert_eq!(w.event(), Some(&node(n)), "the first events are kept, in order");
        }
        assert_eq!(w.step(), NzkWaitStep::TimedOut);
        queue.lock().push(node(12));
        assert_eq!(queue.counts(), (1, 7), "room again once drained; the count stays");
    }

    #[test]
    fn the_last_event_is_queued_whatever_the_bound_and_ends_the_watch() {
        let queue = Queue::new("/n".into(), None, 1, None);
        queue.lock().push(node(0));
        queue.end(Some(watch::EXPIRED_SESSION_STATE));
        queue.lock().push(node(1));
        queue.removed(watch::CONNECTED_STATE);
        assert_eq!(queue.counts(), (2, 0), "nothing after the last event, not even a drop");
        let mut w = waiter(&queue, 60_000);
        assert_eq!(w.step(), NzkWaitStep::Fired);
        assert_eq!(w.step(), NzkWaitStep::Fired);
        let expired = Event { event: watch::SESSION_EVENT, state: watch::EXPIRED_SESSION_STATE, path: None };
        assert_eq!(w.event(), Some(&expired));
        let start = Instant::now();
        assert_eq!(w.step(), NzkWaitStep::TimedOut, "an ended watch returns at once");
        assert!(start.elapsed() < WAIT_SLICE);
    }

    #[test]
    fn a_removed_watch_ends_with_notwatching() {
        let queue = Queue::new("/n".into(), None, 10, None);
        queue.removed(watch::CONNECTED_STATE);
        let mut w = waiter(&queue, 0);
        assert_eq!(w.step(), NzkWaitStep::Fired);
        let removed = Event { event: watch::NOTWATCHING_EVENT, state: watch::CONNECTED_STATE, path: Some("/n".into()) };
        assert_eq!(w.event(), Some(&removed));
        assert!(queue.take_watcher().is_none());
    }

    #[test]
    fn a_wait_steps_in_slices_until_its_deadline() {
        let queue = Queue::new("/n".into(), None, 10, None);
        let mut w = waiter(&queue, 60_000);
        let start = Instant::now();
        assert_eq!(w.step(), NzkWaitStep::Pending, "a step waits one slice");
        assert!(start.elapsed() >= WAIT_SLICE);
        w.deadline = Instant::now();
        assert_eq!(w.step(), NzkWaitStep::TimedOut);
    }
}
