//! ZooKeeper result codes, as the C client and the original binding report them, and
//! the C client's text for each (`zerror()`).

use std::ffi::CStr;

use zookeeper_client::Error;

pub const ZOK: i32 = 0;
pub const ZSYSTEMERROR: i32 = -1;
pub const ZRUNTIMEINCONSISTENCY: i32 = -2;
pub const ZDATAINCONSISTENCY: i32 = -3;
pub const ZCONNECTIONLOSS: i32 = -4;
pub const ZMARSHALLINGERROR: i32 = -5;
pub const ZUNIMPLEMENTED: i32 = -6;
pub const ZOPERATIONTIMEOUT: i32 = -7;
pub const ZBADARGUMENTS: i32 = -8;
pub const ZINVALIDSTATE: i32 = -9;
pub const ZNEWCONFIGNOQUORUM: i32 = -13;
pub const ZRECONFIGINPROGRESS: i32 = -14;
/// A TLS handshake failed (named as in the C client from 3.6 on).
pub const ZSSLCONNECTIONERROR: i32 = -17;
pub const ZAPIERROR: i32 = -100;
pub const ZNONODE: i32 = -101;
pub const ZNOAUTH: i32 = -102;
pub const ZBADVERSION: i32 = -103;
pub const ZNOCHILDRENFOREPHEMERALS: i32 = -108;
pub const ZNODEEXISTS: i32 = -110;
pub const ZNOTEMPTY: i32 = -111;
pub const ZSESSIONEXPIRED: i32 = -112;
pub const ZINVALIDCALLBACK: i32 = -113;
pub const ZINVALIDACL: i32 = -114;
pub const ZAUTHFAILED: i32 = -115;
pub const ZCLOSING: i32 = -116;
pub const ZNOTHING: i32 = -117;
pub const ZSESSIONMOVED: i32 = -118;
pub const ZNOTREADONLY: i32 = -119;
pub const ZEPHEMERALONLOCALSESSION: i32 = -120;
pub const ZNOWATCHER: i32 = -121;
pub const ZRECONFIGDISABLED: i32 = -123;
pub const ZSESSIONCLOSEDREQUIRESASLAUTH: i32 = -124;
pub const ZQUOTAEXCEEDED: i32 = -125;
pub const ZTHROTTLEDOP: i32 = -127;

/// The text `zerror()` gives a code that has none of its own.
pub const UNKNOWN_ERROR: &CStr = c"unknown error";

/// Each code's text, as the C client's `zerror()` (zookeeper.c, 3.8) gives it. The C
/// client has no text for the two codes marked "ours"; the binding reports them (from
/// `get_error`), so it gives them one in the same style.
const TEXTS: &[(i32, &CStr)] = &[
    (ZOK, c"ok"),
    (ZSYSTEMERROR, c"system error"),
    (ZRUNTIMEINCONSISTENCY, c"run time inconsistency"),
    (ZDATAINCONSISTENCY, c"data inconsistency"),
    (ZCONNECTIONLOSS, c"connection loss"),
    (ZMARSHALLINGERROR, c"marshalling error"),
    (ZUNIMPLEMENTED, c"unimplemented"),
    (ZOPERATIONTIMEOUT, c"operation timeout"),
    (ZBADARGUMENTS, c"bad arguments"),
    (ZINVALIDSTATE, c"invalid zhandle state"),
    (
        ZNEWCONFIGNOQUORUM,
        c"no quorum of new config is connected and up-to-date with the leader of last commmitted config - try invoking reconfiguration after new servers are connected and synced",
    ),
    (ZRECONFIGINPROGRESS, c"Another reconfiguration is in progress -- concurrent reconfigs not supported (yet)"),
    // Ours.
    (ZSSLCONNECTIONERROR, c"ssl connection error"),
    (ZAPIERROR, c"api error"),
    (ZNONODE, c"no node"),
    (ZNOAUTH, c"not authenticated"),
    (ZBADVERSION, c"bad version"),
    (ZNOCHILDRENFOREPHEMERALS, c"no children for ephemerals"),
    (ZNODEEXISTS, c"node exists"),
    (ZNOTEMPTY, c"not empty"),
    (ZSESSIONEXPIRED, c"session expired"),
    (ZINVALIDCALLBACK, c"invalid callback"),
    (ZINVALIDACL, c"invalid acl"),
    (ZAUTHFAILED, c"authentication failed"),
    (ZCLOSING, c"zookeeper is closing"),
    (ZNOTHING, c"(not error) no server responses to process"),
    (ZSESSIONMOVED, c"session moved to another server, so operation is ignored"),
    (ZNOTREADONLY, c"state-changing request is passed to read-only server"),
    (ZEPHEMERALONLOCALSESSION, c"attempt to create ephemeral node on a local session"),
    (ZNOWATCHER, c"the watcher couldn't be found"),
    (
        ZRECONFIGDISABLED,
        c"attempts to perform a reconfiguration operation when reconfiguration feature is disable",
    ),
    (
        ZSESSIONCLOSEDREQUIRESASLAUTH,
        c"session closed by server because client is required to do SASL authentication",
    ),
    // Ours.
    (ZQUOTAEXCEEDED, c"quota exceeded"),
    (ZTHROTTLEDOP, c"Operation was throttled due to high load"),
];

/// The text of a result code; [`UNKNOWN_ERROR`] for any other number.
pub fn zerror(code: i64) -> &'static CStr {
    TEXTS.iter().find(|&&(c, _)| i64::from(c) == code).map_or(UNKNOWN_ERROR, |&(_, text)| text)
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
        Error::UnexpectedErrorCode(code) => *code,
        Error::ClientClosed => ZCLOSING,
        Error::TlsHandshake => ZSSLCONNECTIONERROR,
        Error::RuntimeInconsistent => ZRUNTIMEINCONSISTENCY,
        _ => ZSYSTEMERROR,
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
    fn every_code_has_one_text() {
        for (i, &(code, text)) in TEXTS.iter().enumerate() {
            assert_eq!(zerror(i64::from(code)), text);
            assert!(TEXTS[i + 1..].iter().all(|&(c, _)| c != code), "code {code} twice");
        }
        assert_eq!(zerror(-126), UNKNOWN_ERROR);
        assert_eq!(zerror(1), UNKNOWN_ERROR);
        assert_eq!(zerror(i64::from(ZNONODE) - (1 << 32)), UNKNOWN_ERROR);
    }
}
