//! Watch objects: what a `Net::ZooKeeper::Watch` reads and waits on.
//!
//! This release accepts watches and keeps their attributes, but no notification is
//! delivered yet: `wait` returns false once its timeout has passed.

use std::time::Duration;

/// Default `timeout` of a new watch, from the handle's `watch_timeout` attribute.
pub const DEFAULT_TIMEOUT_MS: u32 = 60_000;

#[derive(Debug)]
pub struct Watch {
    pub timeout: u32,
    event: i32,
    state: i32,
}

impl Watch {
    pub fn new(timeout: u32) -> Watch {
        Watch { timeout, event: 0, state: 0 }
    }

    pub fn event(&self) -> i32 {
        self.event
    }

    pub fn state(&self) -> i32 {
        self.state
    }

    /// Assigns the watch to a new call: event and state read 0 again.
    pub fn reset(&mut self) {
        self.event = 0;
        self.state = 0;
    }

    /// Waits up to `timeout_ms` for a notification; true if one arrived.
    pub fn wait(&self, timeout_ms: u32) -> bool {
        if self.event != 0 {
            return true;
        }
        std::thread::sleep(Duration::from_millis(timeout_ms.into()));
        false
    }
}
