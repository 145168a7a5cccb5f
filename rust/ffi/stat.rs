//! Stat objects (reference-counted, see [`crate::shared`]).

use crate::ffi_boundary;
use crate::shared::Shared;
use crate::stat::Stat;

/// A new stat object, all fields 0. Free it with `nzk_stat_free`.
#[no_mangle]
pub extern "C" fn nzk_stat_new() -> *mut Stat {
    ffi_boundary! { Shared::into_raw(Stat::default()) }
}

/// A new reference to the stat object, for the duration of one call: free it with
/// `nzk_stat_free`.
///
/// # Safety
/// `stat` is live.
#[no_mangle]
pub unsafe extern "C" fn nzk_stat_retain(stat: *mut Stat) -> *mut Stat {
    ffi_boundary! { Shared::retain(stat).leak() }
}

/// Drops a reference to a stat object (the last one frees it); NULL is allowed.
///
/// # Safety
/// `stat` is NULL or from `nzk_stat_new` or `nzk_stat_retain`, and is not used
/// afterwards.
#[no_mangle]
pub unsafe extern "C" fn nzk_stat_free(stat: *mut Stat) {
    super::free_shared(stat);
}
