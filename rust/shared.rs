//! Objects shared between a Perl object and the calls that use it.
//!
//! Stat and watch objects are reference-counted like handles: the Perl object owns
//! one reference and a call (or the options of a call) holds another while it uses
//! the object, so Perl code run during the call (tie, overload, a signal handler)
//! cannot free it under the call. Perl uses each object from one thread only; the
//! cell makes writes through the shared pointer legitimate.

use std::cell::UnsafeCell;
use std::sync::Arc;

/// One reference to a shared object.
pub struct Shared<T>(Arc<UnsafeCell<T>>);

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(self.0.clone())
    }
}

impl<T> Shared<T> {
    /// A new object, as the pointer C holds (its first reference).
    pub fn into_raw(object: T) -> *mut T {
        UnsafeCell::raw_get(Arc::into_raw(Arc::new(UnsafeCell::new(object))))
    }

    /// A new reference to the object behind `object`.
    ///
    /// # Safety
    /// `object` came from [`Shared::into_raw`] and a reference to it is live.
    pub unsafe fn retain(object: *mut T) -> Shared<T> {
        let cell = object as *const UnsafeCell<T>;
        Arc::increment_strong_count(cell);
        Shared(Arc::from_raw(cell))
    }

    /// Takes over the reference C held through `object`.
    ///
    /// # Safety
    /// `object` came from [`Shared::into_raw`] or [`Shared::leak`] and is not used
    /// afterwards.
    pub unsafe fn from_raw(object: *mut T) -> Shared<T> {
        Shared(Arc::from_raw(object as *const UnsafeCell<T>))
    }

    /// Hands this reference to C as a pointer.
    pub fn leak(self) -> *mut T {
        UnsafeCell::raw_get(Arc::into_raw(self.0))
    }

    /// The object, for the call that holds this reference.
    #[allow(clippy::mut_from_ref)]
    pub fn get(&self) -> &mut T {
        // SAFETY: a Perl object is used by one interpreter thread, one call at a time
        // (see the module comment), so no other reference is in use meanwhile.
        unsafe { &mut *self.0.get() }
    }
}
