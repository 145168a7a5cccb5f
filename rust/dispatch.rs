//! The callbacks of one handle object: asynchronous calls (`callback => CODE`) and
//! code-ref watches (`watch => CODE`).
//!
//! Runtime threads never run Perl code. They record what is due here: the result of
//! a call, or an event of a code-ref watch. The interpreter thread runs the callbacks
//! when the program dispatches them (`$zkh->dispatch`), in order: calls complete in
//! the order they were made, a watch event takes its place when it arrives. A pipe
//! (`$zkh->fd`) is readable while a callback is due, for event loops to watch.
//!
//! One queue per handle object, not per process: a handle object belongs to one
//! interpreter thread (`CLONE_SKIP`), so each thread dispatches only its own
//! callbacks, and an event loop watches exactly the handles it serves.

use std::collections::{HashMap, VecDeque};
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use zookeeper_client::Acl;

use crate::callback::{self, Callback, ThreadBound};
use crate::error::ZCLOSING;
use crate::handle::CallResult;
use crate::multi::Reply;
use crate::persistent::{Event, PersistentWatch};
use crate::shared::Shared;
use crate::stat::Stat;
use crate::watch::NzkWaitStep;

/// What a call gives its callback after the result code.
pub enum Values {
    None,
    /// Created path, or data (`None`: null data).
    Bytes(Option<Vec<u8>>),
    Names(crate::names::Names),
    Acl(Vec<Acl>),
    Identities(Vec<(String, String)>),
    Count(u64),
    /// `multi`: each operation's name and reply.
    Ops(Vec<(&'static str, Reply)>),
    /// `add_watch`: the new watch (taken by the XS layer's object).
    Persistent(Box<PersistentWatch>),
}

/// The result of an asynchronous call.
pub struct Outcome {
    pub code: i32,
    pub values: Values,
    /// For the call's `stat` option, filled just before its callback runs.
    pub stat: Option<Stat>,
}

impl Outcome {
    pub fn code(code: i32) -> Outcome {
        Outcome { code, values: Values::None, stat: None }
    }

    /// ZOK and what `values` makes of the reply, or the failure's code.
    pub fn of<T>(result: CallResult<T>, values: impl FnOnce(T) -> (Values, Option<Stat>)) -> Outcome {
        match result {
            Ok(reply) => {
                let (values, stat) = values(reply);
                Outcome { code: crate::error::ZOK, values, stat }
            }
            Err(code) => Outcome::code(code),
        }
    }
}

enum Target {
    Call {
        callback: Callback,
        call: &'static str,
        path: String,
        stat: Option<ThreadBound<Shared<Stat>>>,
    },
    Event {
        watcher: u64,
        event: Event,
        last: bool,
    },
    /// A code-ref watch that will not fire (its call failed, or its watch is over
    /// without a last event): its callback is released here.
    Forget {
        watcher: u64,
    },
}

struct Slot {
    target: Target,
    /// A call's result, once it came.
    outcome: Option<Outcome>,
}

impl Slot {
    fn is_ready(&self) -> bool {
        !matches!(self.target, Target::Call { .. }) || self.outcome.is_some()
    }
}

struct Watcher {
    callback: Callback,
}

/// The read and write ends of the wake-up pipe.
struct Pipe {
    read: RawFd,
    write: RawFd,
}

impl Pipe {
    fn new() -> std::io::Result<Pipe> {
        let mut fds = [0; 2];
        // SAFETY: plain descriptor calls on descriptors made here.
        unsafe {
            if libc::pipe(fds.as_mut_ptr()) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            for fd in fds {
                // Non-blocking both ways (a full pipe needs no more bytes); not
                // inherited by programs the process runs.
                libc::fcntl(fd, libc::F_SETFL, libc::fcntl(fd, libc::F_GETFL) | libc::O_NONBLOCK);
                libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
            }
        }
        Ok(Pipe { read: fds[0], write: fds[1] })
    }

    fn signal(&self) {
        // SAFETY: writes one byte from a live buffer; a full pipe is readable anyway.
        unsafe { libc::write(self.write, [1u8].as_ptr().cast(), 1) };
    }

    fn drain(&self) {
        let mut buf = [0u8; 64];
        // SAFETY: reads into a live buffer until the non-blocking pipe is empty.
        while unsafe { libc::read(self.read, buf.as_mut_ptr().cast(), buf.len()) } > 0 {}
    }
}

impl Drop for Pipe {
    fn drop(&mut self) {
        // SAFETY: the descriptors are ours and closed once.
        unsafe {
            libc::close(self.read);
            libc::close(self.write);
        }
    }
}

#[derive(Default)]
struct State {
    /// Sequence number of `slots[0]`.
    base: u64,
    slots: VecDeque<Slot>,
    watchers: HashMap<u64, Watcher>,
    next_watcher: u64,
    pipe: Option<Pipe>,
    /// The pipe holds a byte.
    signalled: bool,
}

impl State {
    /// Whether a callback is due: the first slot that is not a `Forget`.
    fn due(&self) -> bool {
        self.slots.iter().find(|slot| !matches!(slot.target, Target::Forget { .. })).is_some_and(Slot::is_ready)
    }

    fn push(&mut self, target: Target, outcome: Option<Outcome>) -> u64 {
        self.slots.push_back(Slot { target, outcome });
        self.base + self.slots.len() as u64 - 1
    }
}

/// A handle object's callbacks.
#[derive(Default)]
pub struct Dispatch {
    state: Mutex<State>,
    due: Condvar,
}

impl Dispatch {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes the pipe readable and wakes a blocking dispatch when a callback is due.
    fn wake(&self, state: &mut State) {
        if state.due() {
            if !state.signalled {
                state.signalled = true;
                if let Some(pipe) = &state.pipe {
                    pipe.signal();
                }
            }
            self.due.notify_all();
        }
    }

    /// A call is made: its callback runs with its outcome, after those of the calls
    /// made before it.
    pub fn submit(
        self: &Arc<Self>,
        callback: Callback,
        call: &'static str,
        path: String,
        stat: Option<Shared<Stat>>,
    ) -> Completion {
        let stat = stat.map(ThreadBound::new);
        let seq = self.lock().push(Target::Call { callback, call, path, stat }, None);
        Completion { dispatch: self.clone(), seq, done: false }
    }

    /// The result of the call `seq` came (from any thread).
    fn complete(&self, seq: u64, outcome: Outcome) {
        let mut state = self.lock();
        let Some(index) = seq.checked_sub(state.base) else { return };
        // Already due when the handle object went meanwhile (it gave the callback
        // ZCLOSING), or gone since.
        if let Some(slot) = usize::try_from(index).ok().and_then(|index| state.slots.get_mut(index)) {
            if slot.outcome.is_none() {
                slot.outcome = Some(outcome);
                self.wake(&mut state);
            }
        }
    }

    /// A code-ref watch: its events will be queued through the hook, its callback
    /// called for each until the last.
    pub fn hook(self: &Arc<Self>, callback: Callback) -> Hook {
        let token = callback::token(&callback) as usize;
        let mut state = self.lock();
        let watcher = state.next_watcher;
        state.next_watcher += 1;
        state.watchers.insert(watcher, Watcher { callback });
        Hook { dispatch: self.clone(), watcher, token, ended: AtomicBool::new(false) }
    }

    fn event(&self, watcher: u64, event: Event, last: bool) {
        let mut state = self.lock();
        state.push(Target::Event { watcher, event, last }, None);
        self.wake(&mut state);
    }

    fn forget(&self, watcher: u64) {
        self.lock().push(Target::Forget { watcher }, None);
    }

    /// The next callback due, if any (interpreter thread). With none due the pipe is
    /// emptied.
    ///
    /// # Panics
    /// Never: a ready slot is at the front when one is taken.
    pub fn next(&self) -> Option<Ready> {
        // Released after the lock: freeing a code ref can run Perl code (DESTROY of
        // what it holds), which may use this handle.
        let mut released = Vec::new();
        let mut state = self.lock();
        while state.slots.front().is_some_and(Slot::is_ready) {
            let slot = state.slots.pop_front().expect("a front slot");
            state.base += 1;
            match slot.target {
                Target::Call { callback, call, path, stat } => {
                    let outcome = slot.outcome.expect("ready");
                    if let (Some(target), Some(value)) = (stat.as_ref().and_then(ThreadBound::get), &outcome.stat) {
                        *target.get() = *value;
                    }
                    return Some(Ready { held: Held::Owned(callback), what: What::Call { call, path, outcome } });
                }
                Target::Event { watcher, event, last } => {
                    let held = match state.watchers.get(&watcher) {
                        None => continue,
                        // Still needed for the watch's later events.
                        Some(known) if !last => Held::Borrowed(callback::token(&known.callback)),
                        Some(_) => Held::Owned(state.watchers.remove(&watcher).expect("present").callback),
                    };
                    return Some(Ready { held, what: What::Event(event) });
                }
                Target::Forget { watcher } => released.extend(state.watchers.remove(&watcher)),
            }
        }
        if !state.due() && state.signalled {
            state.signalled = false;
            if let Some(pipe) = &state.pipe {
                pipe.drain();
            }
        }
        None
    }

    /// The read end of the wake-up pipe, made on first use.
    ///
    /// # Errors
    /// The pipe could not be made (no descriptors left).
    pub fn fd(&self) -> std::io::Result<RawFd> {
        let mut state = self.lock();
        if state.pipe.is_none() {
            let pipe = Pipe::new()?;
            if state.signalled {
                pipe.signal();
            }
            state.pipe = Some(pipe);
        }
        Ok(state.pipe.as_ref().map_or(-1, |pipe| pipe.read))
    }

    /// Calls whose callback has not run, and watch events due.
    pub fn pending(&self) -> usize {
        self.lock().slots.iter().filter(|slot| !matches!(slot.target, Target::Forget { .. })).count()
    }

    /// Waits until a callback is due or `deadline` passes, for at most `slice`.
    fn wait_due(&self, deadline: Instant, slice: Duration) -> bool {
        let until = deadline.min(Instant::now() + slice);
        crate::runtime::kick();
        let mut state = self.lock();
        while !state.due() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = self.due.wait_timeout(state, left).unwrap_or_else(PoisonError::into_inner).0;
        }
        true
    }

    /// The handle object goes: calls in flight get `bound` to complete, then
    /// ZCLOSING; code-ref watches hear nothing more. Their callbacks are due then.
    /// (A cluster connection's session outlives the object: a later object on it
    /// starts afresh.)
    pub fn close(&self, bound: Duration) {
        let deadline = Instant::now() + bound;
        crate::runtime::kick();
        let mut state = self.lock();
        while state.slots.iter().any(|slot| !slot.is_ready()) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            state = self.due.wait_timeout(state, left).unwrap_or_else(PoisonError::into_inner).0;
        }
        for slot in &mut state.slots {
            if !slot.is_ready() {
                slot.outcome = Some(Outcome::code(ZCLOSING));
            }
        }
        let watchers = std::mem::take(&mut state.watchers);
        drop(state);
        drop(watchers);
    }
}

/// Where the result of one asynchronous call goes. Dropped without a result (its
/// task was cut off), the call completes with ZCLOSING.
pub struct Completion {
    dispatch: Arc<Dispatch>,
    seq: u64,
    done: bool,
}

impl Completion {
    pub fn complete(mut self, outcome: Outcome) {
        self.done = true;
        self.dispatch.complete(self.seq, outcome);
    }
}

impl Drop for Completion {
    fn drop(&mut self) {
        if !self.done {
            self.dispatch.complete(self.seq, Outcome::code(ZCLOSING));
        }
    }
}

/// How a code-ref watch queues its events. Dropped before its last event, the
/// watch is forgotten (its callback released by the next dispatch).
pub struct Hook {
    dispatch: Arc<Dispatch>,
    watcher: u64,
    /// The code ref's identity, for `remove_watches(..., watch => CODE)`.
    token: usize,
    ended: AtomicBool,
}

impl std::fmt::Debug for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hook").field("watcher", &self.watcher).finish_non_exhaustive()
    }
}

impl Hook {
    /// Whether this watch calls the code ref whose token is `token`.
    pub fn calls(&self, token: usize) -> bool {
        self.token == token
    }

    /// Queues an event; after the `last`, no more.
    pub fn event(&self, event: Event, last: bool) {
        if !self.ended.swap(last, Ordering::AcqRel) {
            self.dispatch.event(self.watcher, event, last);
        }
    }
}

impl Drop for Hook {
    fn drop(&mut self) {
        if !self.ended.load(Ordering::Acquire) {
            self.dispatch.forget(self.watcher);
        }
    }
}

enum Held {
    Owned(Callback),
    /// A watch's callback, still held by its watcher for later events.
    Borrowed(*mut std::ffi::c_void),
}

/// What a due callback is given.
pub enum What {
    Call { call: &'static str, path: String, outcome: Outcome },
    Event(Event),
}

/// A callback due, for the interpreter thread to run.
pub struct Ready {
    held: Held,
    pub what: What,
}

impl Ready {
    /// The code ref (the XS layer's token).
    pub fn token(&self) -> *mut std::ffi::c_void {
        match &self.held {
            Held::Owned(callback) => callback::token(callback),
            Held::Borrowed(token) => *token,
        }
    }

    /// What `warn` says when the callback died with `error`.
    pub fn died(&self, error: &str) -> String {
        match &self.what {
            What::Call { call, path, .. } if path.is_empty() => crate::message::callback_died(call, None, error),
            What::Call { call, path, .. } => crate::message::callback_died(call, Some(path), error),
            What::Event(event) => crate::message::callback_died("watch", event.path.as_deref(), error),
        }
    }
}

/// A blocking dispatch's wait for a callback to be due (`dispatch(timeout => ms)`),
/// stepped in slices so that Perl handles signals in between.
pub struct DispatchWaiter {
    dispatch: Arc<Dispatch>,
    deadline: Instant,
}

impl DispatchWaiter {
    pub fn new(dispatch: Arc<Dispatch>, timeout_ms: u32) -> DispatchWaiter {
        DispatchWaiter { dispatch, deadline: Instant::now() + Duration::from_millis(timeout_ms.into()) }
    }

    pub fn step(&self) -> NzkWaitStep {
        if self.dispatch.wait_due(self.deadline, crate::watch::WAIT_SLICE) {
            NzkWaitStep::Fired
        } else if Instant::now() >= self.deadline {
            NzkWaitStep::TimedOut
        } else {
            NzkWaitStep::Pending
        }
    }
}
