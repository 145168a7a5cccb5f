//! The one tokio runtime of a process, shared by every handle.
//!
//! It is made on first use with a fixed number of worker threads. A child process
//! made by `fork()` inherits the parent's runtime object but none of its threads, so
//! the runtime is keyed by pid: the child makes its own, and the parent's is leaked
//! (dropping it in the child would wait for threads that do not exist there).

use std::future::Future;
use std::pin::pin;
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use tokio::runtime::{Builder, Runtime};

/// Worker threads of the runtime, whatever the number of handles. One is enough for
/// the socket I/O of many sessions, and a second only added thread hand-offs to every
/// call (bench/README.md).
pub const WORKER_THREADS: usize = 1;

struct ProcessRuntime {
    pid: u32,
    runtime: Runtime,
}

static CURRENT: AtomicPtr<ProcessRuntime> = AtomicPtr::new(ptr::null_mut());

/// The id of the calling process.
pub fn pid() -> u32 {
    std::process::id()
}

/// The runtime of the calling process, made if this process has none yet.
///
/// # Panics
/// If tokio cannot build the runtime (it could not start its worker thread).
pub fn get() -> &'static Runtime {
    let pid = pid();
    loop {
        let seen = CURRENT.load(Ordering::Acquire);
        // SAFETY: a published ProcessRuntime is never freed (see the module comment).
        if let Some(current) = unsafe { seen.as_ref() } {
            if current.pid == pid {
                return &current.runtime;
            }
        }
        crate::log::install();
        let runtime = Builder::new_multi_thread()
            .worker_threads(WORKER_THREADS)
            .max_blocking_threads(1)
            .thread_name_fn(thread_name())
            .on_thread_start(block_async_signals)
            .enable_all()
            .build()
            .expect("cannot start the ZooKeeper runtime");
        let made = Box::into_raw(Box::new(ProcessRuntime { pid, runtime }));
        if CURRENT.compare_exchange(seen, made, Ordering::AcqRel, Ordering::Acquire).is_err() {
            // Another thread of this process published one first; use that.
            // SAFETY: `made` was never published.
            drop(unsafe { Box::from_raw(made) });
        }
        // On success the previous runtime (a parent's) is deliberately leaked.
    }
}

/// Names the runtime's threads: its workers (started when it is built) `nzk-worker`,
/// threads of its blocking pool (name resolution) `nzk-blocking`, so that the thread
/// budget can be checked in `/proc` (`t/38_thread_count.t`, `bench/scale.pl`).
fn thread_name() -> impl Fn() -> String + Send + Sync + 'static {
    let started = std::sync::atomic::AtomicUsize::new(0);
    move || {
        let kind = if started.fetch_add(1, Ordering::Relaxed) < WORKER_THREADS { "worker" } else { "blocking" };
        format!("nzk-{kind}")
    }
}

/// Runtime threads take no asynchronous signals: Perl's handlers (alarm, INT, ...)
/// run in the interpreter's thread, and a write to a dead server's socket gives EPIPE
/// instead of killing a process that did not ignore SIGPIPE.
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

/// Wakes the thread that waits in [`block_on_bounded`].
struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `future` to completion on the calling thread while the shared runtime does
/// the I/O, giving up after `bound`. `None` means the bound passed.
///
/// The calling thread polls the future itself and parks until woken or the bound
/// passes: no timer is registered with the runtime, so a call costs only the
/// hand-offs to and from the runtime's worker.
pub fn block_on_bounded<F: Future>(bound: Duration, future: F) -> Option<F::Output> {
    let _context = get().enter();
    let deadline = Instant::now() + bound;
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return Some(output);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        thread::park_timeout(left);
    }
}
