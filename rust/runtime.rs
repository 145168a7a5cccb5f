//! The one tokio runtime of a process, shared by every handle, and who drives it.
//!
//! It is a `current_thread` runtime: whoever holds its core runs every session's
//! socket I/O and tasks. A thread making a synchronous call takes the core and drives
//! the runtime itself while it waits, so a round trip has no thread hand-off (the
//! calling thread writes the request, waits in `epoll`, reads the reply). Between
//! calls the process's driver thread (`nzk-worker`) holds the core, so heartbeats,
//! watch events and asynchronous replies are handled while Perl does other things.
//! The driver gives the core up when a caller comes, and takes it back once no call
//! has been made for [`GRACE`], or at once when a caller hands it work ([`kick`]):
//! a program making call after call drives the runtime from its own thread.
//!
//! A child process made by `fork()` inherits the parent's runtime object but none of
//! its threads, so the runtime is keyed by pid: the child makes its own, and the
//! parent's is leaked (dropping it in the child would wait for threads that do not
//! exist there).

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::pin;
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicU32, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, Once, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use tokio::runtime::{Builder, Runtime};
use tokio::sync::Notify;

/// How long the driver thread leaves the core to callers after the last call ended.
/// Events that come meanwhile wait in the socket for at most this long while Perl
/// is busy between calls; a program that waits for something ([`kick`]) or makes
/// asynchronous calls gets the driver at once.
pub const GRACE: Duration = Duration::from_millis(1);

/// The longest the driver thread sleeps between looks while callers keep coming:
/// the most events wait when a program turns from calls to other work.
pub const MAX_PAUSE: Duration = Duration::from_millis(8);

struct ProcessRuntime {
    pid: u32,
    runtime: Runtime,
    driver: Driver,
}

/// Who holds the runtime's core: callers, or the driver thread.
struct Driver {
    state: Mutex<DriverState>,
    /// Wakes the driver thread while it waits to take the core.
    wake: Condvar,
    /// Asks the driver thread to give the core up.
    preempt: Notify,
}

struct DriverState {
    /// Threads inside [`block_on_bounded`].
    callers: usize,
    /// When the last of them left.
    last_end: Instant,
    /// Work was handed to the runtime: the driver should drive at once.
    kicked: bool,
    /// The driver thread holds (or is about to take) the core.
    driving: bool,
}

static CURRENT: AtomicPtr<ProcessRuntime> = AtomicPtr::new(ptr::null_mut());

thread_local! {
    /// This thread is driving the runtime (a task of it may be running here).
    static DRIVING: Cell<bool> = const { Cell::new(false) };
    /// What was dropped on this thread while it drove, released once it stops.
    static DEFERRED: RefCell<Vec<Box<dyn Send>>> = const { RefCell::new(Vec::new()) };
}

/// The id of this process, cached: a call asks for it twice, and `getpid` is a
/// system call. A fork's child clears the cache (`pthread_atfork`).
static PID: AtomicU32 = AtomicU32::new(0);

extern "C" fn forked_child() {
    PID.store(0, Ordering::Relaxed);
}

/// The id of the calling process.
pub fn pid() -> u32 {
    static AT_FORK: Once = Once::new();
    let cached = PID.load(Ordering::Relaxed);
    if cached != 0 {
        return cached;
    }
    AT_FORK.call_once(|| {
        // SAFETY: registers a handler that only stores to an atomic.
        unsafe { libc::pthread_atfork(None, None, Some(forked_child)) };
    });
    let pid = std::process::id();
    PID.store(pid, Ordering::Relaxed);
    pid
}

fn process_runtime() -> &'static ProcessRuntime {
    let pid = pid();
    loop {
        let seen = CURRENT.load(Ordering::Acquire);
        // SAFETY: a published ProcessRuntime is never freed (see the module comment).
        if let Some(current) = unsafe { seen.as_ref() } {
            if current.pid == pid {
                return current;
            }
        }
        crate::log::install();
        let runtime = Builder::new_current_thread()
            .max_blocking_threads(1)
            .thread_name("nzk-blocking")
            .on_thread_start(block_async_signals)
            .enable_all()
            .build()
            .expect("cannot start the ZooKeeper runtime");
        let driver = Driver {
            state: Mutex::new(DriverState { callers: 0, last_end: Instant::now(), kicked: true, driving: false }),
            wake: Condvar::new(),
            preempt: Notify::new(),
        };
        let made = Box::into_raw(Box::new(ProcessRuntime { pid, runtime, driver }));
        if CURRENT.compare_exchange(seen, made, Ordering::AcqRel, Ordering::Acquire).is_err() {
            // Another thread of this process published one first; use that.
            // SAFETY: `made` was never published.
            drop(unsafe { Box::from_raw(made) });
            continue;
        }
        // The previous runtime (a parent's) is deliberately leaked.
        // SAFETY: just published, never freed.
        let published: &'static ProcessRuntime = unsafe { &*made };
        std::thread::Builder::new()
            .name("nzk-worker".into())
            .spawn(move || published.drive())
            .expect("cannot start the ZooKeeper runtime thread");
    }
}

/// The runtime of the calling process, made if this process has none yet.
///
/// # Panics
/// If tokio cannot build the runtime or its thread cannot start.
pub fn get() -> &'static Runtime {
    &process_runtime().runtime
}

/// Work was handed to the runtime from outside a call (an asynchronous request, a
/// wait for a watch or callback): the driver thread takes the core now instead of
/// after [`GRACE`], unless a caller drives it.
pub fn kick() {
    process_runtime().driver.kick();
}

impl Driver {
    fn lock(&self) -> MutexGuard<'_, DriverState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn kick(&self) {
        let mut state = self.lock();
        if !state.driving && !state.kicked {
            state.kicked = true;
            self.wake.notify_one();
        }
    }

    /// A caller wants the core: the driver thread lets it go.
    fn enter(&self) {
        let mut state = self.lock();
        state.callers += 1;
        if state.driving {
            self.preempt.notify_one();
        }
    }

    fn leave(&self) {
        let mut state = self.lock();
        state.callers -= 1;
        state.last_end = Instant::now();
        if state.callers == 0 && state.kicked {
            self.wake.notify_one();
        }
    }

    /// Waits until no caller has used the core for [`GRACE`], or work is handed
    /// over with no caller to drive it. While callers keep coming it looks less
    /// often (up to [`MAX_PAUSE`]): a program making call after call is not
    /// interrupted by this thread every millisecond.
    fn await_turn(&self) {
        let mut state = self.lock();
        let mut pause = GRACE;
        loop {
            let idle = state.last_end.elapsed();
            if state.callers == 0 && (state.kicked || idle >= GRACE) {
                break;
            }
            let wait =
                if state.callers == 0 { GRACE.saturating_sub(idle).max(pause.saturating_sub(idle)) } else { pause };
            state = self.wake.wait_timeout(state, wait).unwrap_or_else(PoisonError::into_inner).0;
            pause = (pause * 2).min(MAX_PAUSE);
        }
        state.kicked = false;
        state.driving = true;
    }
}

impl ProcessRuntime {
    /// The driver thread: holds the core whenever no caller does.
    fn drive(&'static self) {
        block_async_signals();
        DRIVING.set(true);
        loop {
            self.driver.await_turn();
            self.runtime.block_on(self.driver.preempt.notified());
            self.driver.lock().driving = false;
            release_deferred();
        }
    }
}

/// Runtime threads take no asynchronous signals: Perl's handlers (alarm, INT, ...)
/// run in the interpreter's thread. (A write to a dead server's socket raises no
/// SIGPIPE on any thread: the connection sends with `MSG_NOSIGNAL`.)
fn block_async_signals() {
    // SAFETY: plain signal-mask calls on this thread's mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&raw mut set);
        for synchronous in [libc::SIGSEGV, libc::SIGBUS, libc::SIGFPE, libc::SIGILL, libc::SIGTRAP, libc::SIGABRT] {
            libc::sigdelset(&raw mut set, synchronous);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &raw const set, std::ptr::null_mut());
    }
}

/// Marks the calling thread as driving, and on the way out releases what was
/// deferred meanwhile.
struct Driving {
    outer: bool,
}

impl Driving {
    fn new() -> Driving {
        Driving { outer: DRIVING.replace(true) }
    }
}

impl Drop for Driving {
    fn drop(&mut self) {
        DRIVING.set(self.outer);
        if !self.outer {
            release_deferred();
        }
    }
}

fn release_deferred() {
    let deferred = DEFERRED.take();
    drop(deferred);
}

/// Whether the calling thread is driving the runtime: code that would call back
/// into Perl (releasing a code ref) must wait until it stops ([`defer_drop`]).
pub fn is_driving() -> bool {
    DRIVING.get()
}

/// Keeps `value` until the calling thread stops driving the runtime, then drops it
/// there.
pub fn defer_drop(value: Box<dyn Send>) {
    DEFERRED.with_borrow_mut(|deferred| deferred.push(value));
}

/// Runs `future` to completion on the calling thread, driving the runtime meanwhile,
/// giving up after `bound`. `None` means the bound passed.
///
/// On a thread that is already driving (a task's drop closing a handle) it never
/// waits: `None` unless the future is ready at once.
pub fn block_on_bounded<F: Future>(bound: Duration, future: F) -> Option<F::Output> {
    let now = Instant::now();
    // A bound too far to add is as good as a year (as tokio's `timeout` caps it).
    let deadline = now.checked_add(bound).unwrap_or_else(|| now + Duration::from_hours(24 * 365));
    block_on_until(deadline, future)
}

/// [`block_on_bounded`] with the bound as a deadline (a call that has one already
/// reads the clock once, not again here).
pub fn block_on_until<F: Future>(deadline: Instant, future: F) -> Option<F::Output> {
    if is_driving() {
        let mut future = pin!(future);
        return match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(output) => Some(output),
            Poll::Pending => None,
        };
    }
    let process = process_runtime();
    process.driver.enter();
    let output = {
        // The connection writes with MSG_NOSIGNAL (vendored `NoSigPipe`): a dead
        // server's socket gives EPIPE here, with no SIGPIPE to block.
        let _driving = Driving::new();
        let deadline = tokio::time::Instant::from_std(deadline);
        process.runtime.block_on(async { tokio::time::timeout_at(deadline, future).await.ok() })
    };
    process.driver.leave();
    output
}
