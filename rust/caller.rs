//! What a Perl handle object holds: a share of a session, and the result of the last
//! call made through that object.
//!
//! Sessions are shared (a `Net::ZooKeeper::Cluster` connection serves every thread of
//! a process), results are not: each object answers `get_error` with its own last
//! call, whatever other objects on the same session do meanwhile. A Perl object is
//! never shared between interpreter threads (`CLONE_SKIP`), so neither is its result.

use std::ops::Deref;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use crate::error::ZOK;
use crate::handle::{CallResult, Handle};

pub struct Caller {
    handle: Arc<Handle>,
    error: AtomicI32,
    errno: AtomicI32,
}

impl Caller {
    pub fn new(handle: Arc<Handle>) -> Caller {
        Caller { handle, error: AtomicI32::new(ZOK), errno: AtomicI32::new(0) }
    }

    /// Makes one call on the session and records its result for `get_error`.
    ///
    /// # Errors
    /// The ZooKeeper code `body` failed with (recorded as well).
    pub fn call<T>(&self, body: impl FnOnce(&Handle) -> CallResult<T>) -> CallResult<T> {
        let result = body(&self.handle);
        self.record(match &result {
            Ok(_) => ZOK,
            Err(code) => *code,
        });
        result
    }

    /// Records a call's result code (and errno 0: the client reports no errno).
    pub fn record(&self, code: i32) {
        self.error.store(code, Ordering::Relaxed);
        self.errno.store(0, Ordering::Relaxed);
    }

    /// The last call's code and errno.
    pub fn last_error(&self) -> (i32, i32) {
        (self.error.load(Ordering::Relaxed), self.errno.load(Ordering::Relaxed))
    }
}

impl Deref for Caller {
    type Target = Handle;

    fn deref(&self) -> &Handle {
        &self.handle
    }
}
