//! The C ABI the XS layer calls, one file per concept. Each export is a few lines:
//! check pointers, call the core, convert the result.
//!
//! Rules, as in rustls-ffi:
//! - every body runs inside [`crate::ffi_boundary!`], so a panic never unwinds into C; what
//!   a panic returns is distinct from every real result (see [`Fallback`]) and the
//!   XS layer croaks `"internal error in the Net::ZooKeeper core"` on it;
//! - objects are opaque pointers with one owner and one free path each: handles and
//!   stat and watch objects are reference-counted (retain/free), options, batches of
//!   operations (`multi`), waiters, leases and persistent watches are boxed
//!   (new/free); free functions accept NULL;
//! - messages for `croak`/`warn` are NUL-terminated strings owned by the core, valid
//!   until the next message of the same thread (see [`crate::message`]);
//! - strings from Perl are (pointer, length) pairs, never NUL-terminated.

use std::cell::RefCell;
use std::ffi::{c_char, c_void};
use std::ptr;
use std::slice;

use crate::message;

pub mod attributes;
pub mod calls;
pub mod cluster;
pub mod constants;
pub mod dispatch;
pub mod handle;
pub mod messages;
pub mod multi;
pub mod options;
pub mod persistent;
pub mod probe;
pub mod settings;
pub mod stat;
pub mod watch;

/// Result codes the XS layer checks for: success (ZooKeeper's `ZOK`, APR's `SUCCESS`)
/// and the core's failure, a code no ZooKeeper server, errno or APR status uses.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub enum NzkResult {
    Ok = 0,
    Panic = -2_147_483_648,
    /// A call made with a callback was sent; the callback gets its result.
    Submitted = -2_147_483_647,
}

pub const PANIC_CODE: i32 = NzkResult::Panic as i32;
pub const SUBMITTED: i32 = NzkResult::Submitted as i32;
const _: () = assert!(NzkResult::Ok as i32 == crate::error::ZOK);

/// What an export returns when its body panicked.
pub trait Fallback {
    fn on_panic() -> Self;
}

/// Result codes: [`NzkResult::Panic`].
impl Fallback for i32 {
    fn on_panic() -> Self {
        PANIC_CODE
    }
}

/// Croak messages (NULL when all is well): the panic message.
impl Fallback for *const c_char {
    fn on_panic() -> Self {
        message::PANIC.as_ptr()
    }
}

/// New objects: NULL, which no constructor returns otherwise.
impl<T> Fallback for *mut T {
    fn on_panic() -> Self {
        ptr::null_mut()
    }
}

/// Free functions only: a destructor cannot croak, so a panic while freeing leaks
/// the object and is logged.
impl Fallback for () {
    fn on_panic() -> Self {
        crate::zlog!(crate::log::ERROR, "nzk_free", "{}", message::PANIC.to_string_lossy());
    }
}

/// Texts that are never NULL (zerror, fixed messages) are [`Text`]: NULL on panic.
#[repr(transparent)]
pub struct Text(pub *const c_char);

impl Fallback for Text {
    fn on_panic() -> Self {
        Text(ptr::null())
    }
}

/// Runs an export's body; a panic returns the body type's [`Fallback`].
#[macro_export]
macro_rules! ffi_boundary {
    ($($body:tt)*) => {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| { $($body)* })) {
            Ok(value) => value,
            Err(_) => $crate::ffi::Fallback::on_panic(),
        }
    };
}

/// The one free path of every boxed object (options, batches, waiters, leases,
/// persistent watches); NULL is allowed.
///
/// # Safety
/// `object` is NULL or from `Box::into_raw`, and is not used afterwards.
pub unsafe fn free_box<T>(object: *mut T) {
    if !object.is_null() {
        let object = Box::from_raw(object);
        ffi_boundary! { drop(object) }
    }
}

/// The one free path of every reference to a handle; NULL is allowed.
///
/// # Safety
/// `object` is NULL or from `Arc::into_raw`, and is not used afterwards.
pub unsafe fn free_arc<T>(object: *const T) {
    if !object.is_null() {
        let object = std::sync::Arc::from_raw(object);
        ffi_boundary! { drop(object) }
    }
}

/// The one free path of every reference to a stat or watch object; NULL is allowed.
///
/// # Safety
/// `object` is NULL or from [`crate::shared::Shared`], and is not used afterwards.
pub unsafe fn free_shared<T>(object: *mut T) {
    if !object.is_null() {
        let object = crate::shared::Shared::from_raw(object);
        ffi_boundary! { drop(object) }
    }
}

/// Bytes from C; an empty slice for NULL.
///
/// # Safety
/// `data` is NULL or points to `len` readable bytes that outlive the use.
pub unsafe fn bytes<'a>(data: *const u8, len: usize) -> &'a [u8] {
    if data.is_null() {
        &[]
    } else {
        slice::from_raw_parts(data, len)
    }
}

/// NULL for success, else the croak message.
pub fn ok_or_message<E: Into<Vec<u8>>>(result: Result<(), E>) -> *const c_char {
    match result {
        Ok(()) => ptr::null(),
        Err(text) => message::set(text),
    }
}

/// A result code: ZOK or the code of the failure.
pub fn code_of<T>(result: &Result<T, i32>) -> i32 {
    match result {
        Ok(_) => crate::error::ZOK,
        Err(code) => *code,
    }
}

/// A byte string from Perl.
#[repr(C)]
pub struct NzkBytes {
    pub data: *const u8,
    pub len: usize,
}

/// Receives one byte string (node data, a path, a child name).
pub type NzkBytesSink = extern "C" fn(ctx: *mut c_void, data: *const u8, len: usize);

/// Receives one byte string and owns it: `len` bytes and a NUL after them, in a
/// buffer from `malloc`, which the receiver frees with `free` (a Perl built on the
/// system's malloc adopts it as a string's buffer) or [`nzk_bytes_free`]. Node data
/// is handed over this way, so that a large value is not copied again.
pub type NzkOwnedBytesSink = extern "C" fn(ctx: *mut c_void, data: *mut u8, len: usize);

/// Hands `bytes` to an [`NzkOwnedBytesSink`] as a malloc'd, NUL-terminated buffer.
///
/// The crate keeps Rust's default global allocator, `System`, which allocates a
/// byte buffer with `malloc`/`realloc` (alignment 1); so the buffer is the C
/// heap's, and `free` is its one free path (`tests::owned_bytes_are_the_c_heaps`).
pub fn hand_over(mut bytes: Vec<u8>, ctx: *mut c_void, sink: NzkOwnedBytesSink) {
    bytes.reserve_exact(1);
    bytes.push(0);
    let len = bytes.len() - 1;
    let mut bytes = std::mem::ManuallyDrop::new(bytes);
    sink(ctx, bytes.as_mut_ptr(), len);
}

/// Frees a buffer handed over by an [`NzkOwnedBytesSink`]; NULL is allowed.
///
/// # Safety
/// `data` is NULL or such a buffer, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn nzk_bytes_free(data: *mut u8) {
    libc::free(data.cast());
}

/// Kind of an attribute value.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NzkValueKind {
    Undef,
    Int,
    Uint,
    Bytes,
}

/// A value for Perl. `bytes` stays valid until the next value of this thread.
#[repr(C)]
#[derive(Debug)]
pub struct NzkValue {
    pub kind: NzkValueKind,
    pub int: i64,
    pub uint: u64,
    pub bytes: *const u8,
    pub len: usize,
}

thread_local! {
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl From<crate::attrs::Value<'_>> for NzkValue {
    fn from(value: crate::attrs::Value) -> Self {
        use crate::attrs::Value;
        let mut out = NzkValue { kind: NzkValueKind::Undef, int: 0, uint: 0, bytes: ptr::null(), len: 0 };
        match value {
            Value::Undef => {}
            Value::Int(v) => (out.kind, out.int) = (NzkValueKind::Int, v),
            Value::Uint(v) => (out.kind, out.uint) = (NzkValueKind::Uint, v),
            Value::Bytes(v) => SCRATCH.with(|scratch| {
                let mut scratch = scratch.borrow_mut();
                scratch.clear();
                scratch.extend_from_slice(&v);
                (out.kind, out.bytes, out.len) = (NzkValueKind::Bytes, scratch.as_ptr(), scratch.len());
            }),
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    extern "C" fn adopt(ctx: *mut c_void, data: *mut u8, len: usize) {
        // SAFETY: the test passes a `Vec<u8>` as the context; `data` holds `len`
        // bytes and a NUL.
        unsafe {
            let seen = &mut *ctx.cast::<Vec<u8>>();
            assert_eq!(*data.add(len), 0);
            seen.extend_from_slice(std::slice::from_raw_parts(data, len));
            // As Perl frees an adopted buffer: the C heap's free.
            libc::free(data.cast());
        }
    }

    #[test]
    fn owned_bytes_are_the_c_heaps() {
        for len in [0, 1, 64, 1_000_000] {
            let data = vec![b'x'; len];
            let mut seen: Vec<u8> = Vec::new();
            hand_over(data.clone(), (&raw mut seen).cast(), adopt);
            assert_eq!(seen, data);
            // A buffer with room to spare (a truncated reply) keeps its allocation.
            let mut spare = Vec::with_capacity(len + 100);
            spare.extend_from_slice(&data);
            let mut seen: Vec<u8> = Vec::new();
            hand_over(spare, (&raw mut seen).cast(), adopt);
            assert_eq!(seen, data);
        }
    }
}
