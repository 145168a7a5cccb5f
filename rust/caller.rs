//! What a Perl handle object holds: a share of a session, and the result of the last
//! call made through that object.
//!
//! Sessions are shared (a `Net::ZooKeeper::Cluster` connection serves every thread of
//! a process), results are not: each object answers `get_error` with its own last
//! call, whatever other objects on the same session do meanwhile. A Perl object is
//! never shared between interpreter threads (`CLONE_SKIP`), so neither is its result.

use std::ops::Deref;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, OnceLock};

use crate::calls::{Arming, Request};
use crate::dispatch::{Dispatch, Outcome};
use crate::error::ZOK;
use crate::handle::{CallResult, Handle};
use crate::options::Options;
use crate::watch::Record;

pub struct Caller {
    handle: Arc<Handle>,
    error: AtomicI32,
    errno: AtomicI32,
    /// This object's callbacks, made by its first asynchronous call or code-ref watch.
    dispatch: OnceLock<Arc<Dispatch>>,
}

/// How a call was made.
pub enum Made<T> {
    /// Synchronously: its result.
    Done(CallResult<T>),
    /// With a callback: it has its result later.
    Submitted,
}

impl Caller {
    pub fn new(handle: Arc<Handle>) -> Caller {
        Caller { handle, error: AtomicI32::new(ZOK), errno: AtomicI32::new(0), dispatch: OnceLock::new() }
    }

    pub fn dispatch(&self) -> &Arc<Dispatch> {
        self.dispatch.get_or_init(Arc::default)
    }

    /// The callbacks, if any were ever due here.
    pub fn existing_dispatch(&self) -> Option<&Arc<Dispatch>> {
        self.dispatch.get()
    }

    /// Where the options' watch goes: a Watch object gets a new record (the records
    /// model), a code ref a record of its own that queues its events here. Either is
    /// pending from now on, whatever the call's outcome.
    pub fn arming(&self, opts: &Options) -> Option<Arming> {
        if !opts.arms_watch() {
            return None;
        }
        let record = match opts.take_watch_callback() {
            Some(callback) => Arc::new(Record::hooked(self.dispatch().hook(callback))),
            None => opts.watch()?.reassign(),
        };
        self.watches.add_pending(&record);
        Some(Arming::new(record))
    }

    /// Makes one call with the request `build` makes: synchronously, or with the
    /// options' callback asynchronously (the callback gets the result, and the stat
    /// option is filled then). The result of a synchronous call, or ZOK for a
    /// submitted one, is recorded for `get_error`.
    pub fn make<R: Request>(
        &self,
        opts: &Options,
        path: &[u8],
        build: impl FnOnce(&Arc<Handle>, Option<Arming>) -> CallResult<R>,
    ) -> Made<R::Reply> {
        let request = build(&self.handle, self.arming(opts));
        let Some(callback) = opts.take_callback() else {
            let result = request.and_then(|request| self.handle.call(|client| request.send(client)));
            if let (Ok(reply), Some(stat)) = (&result, opts.stat()) {
                if let Some(found) = R::stat(reply) {
                    *stat = found;
                }
            }
            self.record(result.as_ref().map_or_else(|code| *code, R::code));
            return Made::Done(result);
        };
        let name = request.as_ref().map_or(R::CALL, Request::name);
        let path = String::from_utf8_lossy(crate::validate::c_string(path)).into_owned();
        let completion = self.dispatch().submit(callback, name, path, opts.stat.clone());
        self.record(ZOK);
        let done = move |result: CallResult<R::Reply>| {
            completion.complete(match result {
                Ok(reply) => Outcome { code: R::code(&reply), stat: R::stat(&reply), values: R::values(reply) },
                Err(code) => Outcome::code(code),
            });
        };
        match request {
            Ok(request) => self.handle.call_async(|client| request.send(client), done),
            Err(code) => done(Err(code)),
        }
        Made::Submitted
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

impl Drop for Caller {
    fn drop(&mut self) {
        if self.handle.is_inherited() {
            // Runtime threads of the parent may have held its lock at fork: leave it
            // (and the code refs in it) alone.
            if let Some(dispatch) = self.dispatch.take() {
                std::mem::forget(dispatch);
            }
        }
    }
}

impl Deref for Caller {
    type Target = Handle;

    fn deref(&self) -> &Handle {
        &self.handle
    }
}
