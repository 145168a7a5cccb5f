//! ZooKeeper result codes, as the C client and the original binding report them.

use zookeeper_client::Error;

pub const ZOK: i32 = 0;
pub const ZSYSTEMERROR: i32 = -1;
pub const ZRUNTIMEINCONSISTENCY: i32 = -2;
pub const ZCONNECTIONLOSS: i32 = -4;
pub const ZMARSHALLINGERROR: i32 = -5;
pub const ZUNIMPLEMENTED: i32 = -6;
pub const ZOPERATIONTIMEOUT: i32 = -7;
pub const ZBADARGUMENTS: i32 = -8;
pub const ZINVALIDSTATE: i32 = -9;
/// A TLS handshake failed (named as in the C client from 3.6 on).
pub const ZSSLCONNECTIONERROR: i32 = -17;
pub const ZNONODE: i32 = -101;
pub const ZNOAUTH: i32 = -102;
pub const ZBADVERSION: i32 = -103;
pub const ZNOCHILDRENFOREPHEMERALS: i32 = -108;
pub const ZNODEEXISTS: i32 = -110;
pub const ZNOTEMPTY: i32 = -111;
pub const ZSESSIONEXPIRED: i32 = -112;
pub const ZINVALIDACL: i32 = -114;
pub const ZAUTHFAILED: i32 = -115;
pub const ZCLOSING: i32 = -116;
pub const ZSESSIONMOVED: i32 = -118;
pub const ZNOTREADONLY: i32 = -119;
pub const ZNOWATCHER: i32 = -121;
pub const ZRECONFIGDISABLED: i32 = -123;
pub const ZQUOTAEXCEEDED: i32 = -125;
pub const ZTHROTTLEDOP: i32 = -127;

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
