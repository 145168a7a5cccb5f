//! Perl code refs the core holds for asynchronous calls and code-ref watches.
//!
//! The XS layer hands a code ref over as an opaque token (it has taken a reference
//! count for it); the core gives it back when the callback is due and releases it
//! through the function the XS layer registered. Tokens belong to the interpreter
//! thread that made them: they travel inside objects runtime threads can reach (a
//! dispatch queue), but only that thread runs or releases them. A token dropped on
//! any other thread is leaked, never released there.

use std::ffi::c_void;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::sync::OnceLock;
use std::thread::{self, ThreadId};

/// Releases a token (the XS layer drops its reference count).
pub type NzkRelease = extern "C" fn(token: *mut c_void);

static RELEASE: OnceLock<NzkRelease> = OnceLock::new();

/// Registers the release function (once, when the XS module loads).
pub fn set_release(release: NzkRelease) {
    let _ = RELEASE.set(release);
}

/// A value only its owner thread may use or drop.
pub struct ThreadBound<T> {
    value: ManuallyDrop<T>,
    owner: ThreadId,
}

// SAFETY: the value is reached only from the owner thread (`get`), and dropped only
// there (elsewhere it is leaked), so moving the wrapper between threads is sound.
unsafe impl<T> Send for ThreadBound<T> {}

impl<T> ThreadBound<T> {
    pub fn new(value: T) -> ThreadBound<T> {
        ThreadBound { value: ManuallyDrop::new(value), owner: thread::current().id() }
    }

    fn is_owner(&self) -> bool {
        thread::current().id() == self.owner
    }

    /// The value, in its owner thread only.
    pub fn get(&self) -> Option<&T> {
        self.is_owner().then(|| &*self.value)
    }
}

impl<T> Drop for ThreadBound<T> {
    fn drop(&mut self) {
        if self.is_owner() {
            // SAFETY: dropped once, here.
            unsafe { ManuallyDrop::drop(&mut self.value) }
        }
    }
}

/// One code ref, released when dropped.
pub struct Token(NonNull<c_void>);

impl Token {
    pub fn as_ptr(&self) -> *mut c_void {
        self.0.as_ptr()
    }
}

impl Drop for Token {
    fn drop(&mut self) {
        if crate::runtime::is_driving() {
            // A task dropped it while this thread drives the runtime inside a call:
            // releasing it may run Perl code (a DESTROY) in the middle of that call.
            crate::runtime::defer_drop(Box::new(ThreadBound::new(Token(self.0))));
            return;
        }
        if let Some(release) = RELEASE.get() {
            release(self.0.as_ptr());
        }
    }
}

/// A code ref held by the core.
pub type Callback = ThreadBound<Token>;

/// Takes over the XS layer's reference to a code ref; `None` for NULL.
pub fn adopt(token: *mut c_void) -> Option<Callback> {
    NonNull::new(token).map(|token| ThreadBound::new(Token(token)))
}

/// The token of a callback, for the thread that runs it (NULL elsewhere).
pub fn token(callback: &Callback) -> *mut c_void {
    callback.get().map_or(std::ptr::null_mut(), Token::as_ptr)
}
