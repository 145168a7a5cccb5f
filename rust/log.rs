//! The core's log, in the C client's layout, on the process's standard error.
//!
//! Lines look like `2026-11-21 05:10:00,123:4242(0x7f..):ZOO_INFO@zookeeper_close@88: ...`
//! and are written with one `write(2)` each to whatever fd 2 is at the time, so a
//! Perl program that reopens STDERR gets them in its file. A line is dropped when
//! fd 2 is a socket: after a close of STDERR a ZooKeeper connection could have been
//! given fd 2, and log text must never reach it.
//!
//! Events of the ZooKeeper client crate come through a small `tracing` subscriber
//! and are filtered by the same level. The lines the C client writes (connection
//! attempts, established and expired sessions) carry the C function's name as their
//! target and keep their level; the crate's own lines are written at DEBUG only.

use std::fmt::{self, Write as _};
use std::sync::Once;

use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};

use crate::settings;

// Log levels (ZOO_LOG_LEVEL_*), as the C client numbers them.
pub const OFF: i32 = 0;
pub const ERROR: i32 = 1;
pub const WARN: i32 = 2;
pub const INFO: i32 = 3;
pub const DEBUG: i32 = 4;

/// Whether messages of `level` are written now.
pub fn enabled(level: i32) -> bool {
    level <= settings::log_level()
}

/// Writes one line if `level` is enabled. Use the [`zlog!`](crate::zlog) macro.
pub fn write(level: i32, function: &str, line: u32, message: fmt::Arguments) {
    if !enabled(level) || stderr_is_socket() {
        return;
    }
    let name = match level {
        ERROR => "ERROR",
        WARN => "WARN",
        INFO => "INFO",
        _ => "DEBUG",
    };
    let mut text = String::with_capacity(160);
    let _ = write!(
        text,
        "{}:{}(0x{:x}):ZOO_{}@{}@{}: {}",
        timestamp(),
        std::process::id(),
        // SAFETY: pthread_self has no preconditions.
        unsafe { libc::pthread_self() } as u64,
        name,
        function,
        line,
        message
    );
    text.retain(|c| c != '\n');
    text.push('\n');
    let mut bytes = text.as_bytes();
    while !bytes.is_empty() {
        // SAFETY: writes initialised bytes to fd 2.
        let n = unsafe { libc::write(2, bytes.as_ptr().cast(), bytes.len()) };
        match usize::try_from(n) {
            Ok(n) if n > 0 => bytes = &bytes[n..],
            _ => break,
        }
    }
}

/// Logs a line in the C client's layout: `zlog!(DEBUG, "zoo_exists", "...", args)`.
#[macro_export]
macro_rules! zlog {
    ($level:expr, $function:expr, $($arg:tt)+) => {
        if $crate::log::enabled($level) {
            $crate::log::write($level, $function, line!(), format_args!($($arg)+));
        }
    };
}

fn stderr_is_socket() -> bool {
    // SAFETY: fstat writes into a zeroed stat buffer.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        libc::fstat(2, &raw mut st) == 0 && (st.st_mode & libc::S_IFMT) == libc::S_IFSOCK
    }
}

/// Local time as `YYYY-MM-DD HH:MM:SS,mmm`.
fn timestamp() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    #[allow(clippy::cast_possible_wrap, reason = "seconds since 1970 fit in a time_t")]
    let secs = now.as_secs() as libc::time_t;
    // SAFETY: localtime_r fills the zeroed tm.
    let tm = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&raw const secs, &raw mut tm);
        tm
    };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02},{:03}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        now.subsec_millis()
    )
}

/// Routes the client crate's `tracing` events into this log.
struct Bridge;

fn level_of(level: Level) -> i32 {
    match level {
        Level::ERROR => ERROR,
        Level::WARN => WARN,
        Level::INFO => INFO,
        Level::DEBUG => DEBUG,
        Level::TRACE => DEBUG + 1,
    }
}

/// Whether an event is the crate's own (its target is its module path), not one of
/// the C client's lines.
fn is_crate_own(target: &str) -> bool {
    target.starts_with("zookeeper_client")
}

fn bridged_level(metadata: &Metadata<'_>) -> i32 {
    let level = level_of(*metadata.level());
    if is_crate_own(metadata.target()) {
        level.max(DEBUG)
    } else {
        level
    }
}

struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if !self.0.is_empty() {
            self.0.push(' ');
        }
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, "{}={value:?}", field.name());
        }
    }
}

impl Subscriber for Bridge {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        // The level can change at any time, so ask `enabled` on every event.
        Interest::sometimes()
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.is_event() && enabled(bridged_level(metadata))
    }

    /// The level set now: events above it are dropped by `tracing`'s own check
    /// (an atomic load), before this subscriber is asked.
    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(match settings::log_level() {
            OFF => LevelFilter::OFF,
            ERROR => LevelFilter::ERROR,
            WARN => LevelFilter::WARN,
            INFO => LevelFilter::INFO,
            _ => LevelFilter::DEBUG,
        })
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let metadata = event.metadata();
        let mut message = Message(String::new());
        event.record(&mut message);
        let function = match metadata.target() {
            target if is_crate_own(target) => metadata.module_path().unwrap_or(target),
            c_function => c_function,
        };
        write(bridged_level(metadata), function, metadata.line().unwrap_or(0), format_args!("{}", message.0));
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// The log level changed: `tracing` asks the bridge for its level again.
pub fn level_changed() {
    tracing::callsite::rebuild_interest_cache();
}

/// Installs the bridge once per process.
pub fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let _ = tracing::subscriber::set_global_default(Bridge);
    });
}

/// The C client's `Client environment:` lines, written once per process, by the first
/// handle made while INFO is enabled.
pub fn client_environment() {
    static ONCE: Once = Once::new();
    if !enabled(INFO) {
        return;
    }
    ONCE.call_once(|| {
        let version = concat!("Net::ZooKeeper core ", env!("CARGO_PKG_VERSION"), " (zookeeper-client 0.8.1)");
        // SAFETY: uname fills the zeroed buffer; getpwuid's result is read at once.
        let (uts, user, home) = unsafe {
            let mut uts: libc::utsname = std::mem::zeroed();
            libc::uname(&raw mut uts);
            let pw = libc::getpwuid(libc::getuid());
            let field = |p: *const libc::c_char| {
                if p.is_null() {
                    String::new()
                } else {
                    std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
                }
            };
            let (user, home) =
                if pw.is_null() { Default::default() } else { (field((*pw).pw_name), field((*pw).pw_dir)) };
            (uts, user, home)
        };
        let text = |chars: &[libc::c_char]| {
            // SAFETY: uname's fields are NUL-terminated.
            unsafe { std::ffi::CStr::from_ptr(chars.as_ptr()) }.to_string_lossy().into_owned()
        };
        let dir = std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default();
        let entries = [
            ("zookeeper.version", version.to_owned()),
            ("host.name", text(&uts.nodename)),
            ("os.name", text(&uts.sysname)),
            ("os.arch", text(&uts.release)),
            ("os.version", text(&uts.version)),
            ("user.name", user),
            ("user.home", home),
            ("user.dir", dir),
        ];
        for (key, value) in entries {
            write(INFO, "log_env", line!(), format_args!("Client environment:{key}={value}"));
        }
    });
}
