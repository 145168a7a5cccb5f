//! ZooKeeper result codes, as the C client and the original binding report them, and
//! the C client's text for each (`zerror()`).

use std::ffi::CStr;

use zookeeper_client::Error;

/// One result code: its name (as the C client and Perl call it), its number and its
/// text.
#[derive(Clone, Copy, Debug)]
pub struct Code {
    pub name: &'static str,
    pub code: i32,
    pub text: &'static CStr,
}

/// Declares each code as a constant and lists it, with its name and its text, in
/// [`CODES`]: one line per code, so a code is written once.
macro_rules! codes {
    ($($(#[$attr:meta])* $name:ident = $code:literal, $text:literal;)+) => {
        $($(#[$attr])* pub const $name: i32 = $code;)+

        /// Every code with its name and its text, as the C client's `zerror()`
        /// (zookeeper.c, 3.8) gives it. The C client has no text for the two codes
        /// marked "ours"; the binding reports them (from `get_error`), so it gives them
        /// one in the same style.
        pub const CODES: &[Code] = &[$(Code { name: stringify!($name), code: $name, text: $text }),+];
    };
}

codes! {
    ZOK = 0, c"ok";
    ZSYSTEMERROR = -1, c"system error";
    ZRUNTIMEINCONSISTENCY = -2, c"run time inconsistency";
    ZDATAINCONSISTENCY = -3, c"data inconsistency";
    ZCONNECTIONLOSS = -4, c"connection loss";
    ZMARSHALLINGERROR = -5, c"marshalling error";
    ZUNIMPLEMENTED = -6, c"unimplemented";
    ZOPERATIONTIMEOUT = -7, c"operation timeout";
    ZBADARGUMENTS = -8, c"bad arguments";
    ZINVALIDSTATE = -9, c"invalid zhandle state";
    ZNEWCONFIGNOQUORUM = -13,
        c"no quorum of new config is connected and up-to-date with the leader of last commmitted config - try invoking reconfiguration after new servers are connected and synced";
    ZRECONFIGINPROGRESS = -14, c"Another reconfiguration is in progress -- concurrent reconfigs not supported (yet)";
    // Ours.
    /// A TLS handshake failed (named as in the C client from 3.6 on).
    ZSSLCONNECTIONERROR = -17, c"ssl connection error";
    ZAPIERROR = -100, c"api error";
    ZNONODE = -101, c"no node";
    ZNOAUTH = -102, c"not authenticated";
    ZBADVERSION = -103, c"bad version";
    ZNOCHILDRENFOREPHEMERALS = -108, c"no children for ephemerals";
    ZNODEEXISTS = -110, c"node exists";
    ZNOTEMPTY = -111, c"not empty";
    ZSESSIONEXPIRED = -112, c"session expired";
    ZINVALIDCALLBACK = -113, c"invalid callback";
    ZINVALIDACL = -114, c"invalid acl";
    ZAUTHFAILED = -115, c"authentication failed";
    ZCLOSING = -116, c"zookeeper is closing";
    ZNOTHING = -117, c"(not error) no server responses to process";
    ZSESSIONMOVED = -118, c"session moved to another server, so operation is ignored";
    ZNOTREADONLY = -119, c"state-changing request is passed to read-only server";
    ZEPHEMERALONLOCALSESSION = -120, c"attempt to create ephemeral node on a local session";
    ZNOWATCHER = -121, c"the watcher couldn't be found";
    ZRECONFIGDISABLED = -123,
        c"attempts to perform a reconfiguration operation when reconfiguration feature is disable";
    ZSESSIONCLOSEDREQUIRESASLAUTH = -124,
        c"session closed by server because client is required to do SASL authentication";
    // Ours.
    ZQUOTAEXCEEDED = -125, c"quota exceeded";
    ZTHROTTLEDOP = -127, c"Operation was throttled due to high load";
}

/// The text `zerror()` gives a code that has none of its own.
pub const UNKNOWN_ERROR: &CStr = c"unknown error";

/// The text of a result code; [`UNKNOWN_ERROR`] for any other number.
pub fn zerror(code: i64) -> &'static CStr {
    CODES.iter().find(|c| i64::from(c.code) == code).map_or(UNKNOWN_ERROR, |c| c.text)
}

/// The code a client error is reported as by `get_error()`.
pub fn code_of(err: &Error) -> i32 {
    match err {
        Error::NoNode => ZNONODE,
        Error::NoAuth => ZNOAUTH,
        Error::BadVersion => ZBADVERSION,
        Error::NoChildrenForEphemerals => ZNOCHILDRENFOREPHEMERALS,
        Error::NodeExists => ZNODEEXISTS,
        Error::NotEmpty => ZNOTEMPTY,
        Error::SessionExpired => ZSESSIONEXPIRED,
        Error::InvalidAcl => ZINVALIDACL,
        Error::AuthFailed => ZAUTHFAILED,
        Error::SessionMoved => ZSESSIONMOVED,
        Error::NotReadOnly => ZNOTREADONLY,
        Error::NoWatcher => ZNOWATCHER,
        Error::QuotaExceeded => ZQUOTAEXCEEDED,
        Error::Throttled => ZTHROTTLEDOP,
        Error::MarshallingError | Error::UnmarshalError { .. } => ZMARSHALLINGERROR,
        Error::Unimplemented => ZUNIMPLEMENTED,
        // The client fails requests in flight with its generic error when the socket
        // breaks or the server stops answering: a connection loss, as libzk says.
        Error::ConnectionLoss | Error::NoHosts | Error::Custom(_) => ZCONNECTIONLOSS,
        Error::Timeout => ZOPERATIONTIMEOUT,
        Error::BadArguments(_) => ZBADARGUMENTS,
        Error::ReconfigDisabled => ZRECONFIGDISABLED,
        // i32::MIN is the C ABI's panic result (crate::ffi::NzkResult::Panic).
        Error::UnexpectedErrorCode(i32::MIN) => ZSYSTEMERROR,
        Error::UnexpectedErrorCode(code) => *code,
        Error::ClientClosed => ZCLOSING,
        Error::TlsHandshake => ZSSLCONNECTIONERROR,
        Error::RuntimeInconsistent => ZRUNTIMEINCONSISTENCY,
        _ => ZSYSTEMERROR,
    }
}

/// An error as the code `get_error()` reports: a client error, or a code already.
pub trait IntoCode {
    fn code(self) -> i32;
}

impl IntoCode for Error {
    fn code(self) -> i32 {
        code_of(&self)
    }
}

impl IntoCode for i32 {
    fn code(self) -> i32 {
        self
    }
}

/// Whether the session can never be used again after this error (the original then
/// reports ZINVALIDSTATE for every later call).
pub fn is_terminal(err: &Error) -> bool {
    matches!(err, Error::SessionExpired | Error::AuthFailed | Error::ClientClosed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_one_name_and_one_text() {
        for (i, entry) in CODES.iter().enumerate() {
            assert_eq!(zerror(i64::from(entry.code)), entry.text);
            assert!(CODES[i + 1..].iter().all(|c| c.code != entry.code), "code {} twice", entry.code);
            assert!(CODES[i + 1..].iter().all(|c| c.name != entry.name), "name {} twice", entry.name);
        }
        assert_eq!(zerror(-126), UNKNOWN_ERROR);
        assert_eq!(zerror(1), UNKNOWN_ERROR);
        assert_eq!(zerror(i64::from(ZNONODE) - (1 << 32)), UNKNOWN_ERROR);
    }
}
