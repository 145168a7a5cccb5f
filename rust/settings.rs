//! Process-wide settings of the original API: log level and connection order.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use crate::log;

static LOG_LEVEL: AtomicI32 = AtomicI32::new(log::OFF);
static DETERMINISTIC_ORDER: AtomicBool = AtomicBool::new(false);

/// Sets the log level.
///
/// # Errors
/// The croak message (`invalid log level: N`) for a level outside `OFF..=DEBUG`.
pub fn set_log_level(level: i32) -> Result<(), String> {
    if !(log::OFF..=log::DEBUG).contains(&level) {
        return Err(crate::message::invalid("log level", level));
    }
    LOG_LEVEL.store(level, Ordering::Relaxed);
    log::level_changed();
    Ok(())
}

pub fn log_level() -> i32 {
    LOG_LEVEL.load(Ordering::Relaxed)
}

pub fn set_deterministic_conn_order(flag: bool) {
    DETERMINISTIC_ORDER.store(flag, Ordering::Relaxed);
}

pub fn deterministic_conn_order() -> bool {
    DETERMINISTIC_ORDER.load(Ordering::Relaxed)
}
