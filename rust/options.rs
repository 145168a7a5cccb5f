//! Option lists of the API (`name => value` pairs after the fixed arguments): which
//! names each method knows, and the checks on their values, in one place.

use std::ptr;

use crate::acl::AclList;
use crate::secure::{SaslSettings, Secure};
use crate::stat::Stat;
use crate::watch::Watch;

/// Methods that take options.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NzkMethod {
    New,
    Create,
    Delete,
    Exists,
    GetChildren,
    Get,
    Set,
    GetAcl,
    SetAcl,
    Watch,
    Wait,
}

/// An option name as a method understands it. The XS layer converts the value by
/// this: integers, unsigned integers, objects, an ACL array, bytes or a hash.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NzkOption {
    /// Unknown to this method: silently ignored, as the original did.
    Ignored,
    SessionTimeout,
    SessionId,
    SaslOptions,
    Flags,
    Acl,
    PathReadLen,
    DataReadLen,
    Version,
    Stat,
    Watch,
    Timeout,
    TlsCaFile,
    TlsCertFile,
    TlsKeyFile,
    TlsVerifyHostname,
}

/// The options of one call, with their defaults until set.
#[repr(C)]
#[derive(Debug)]
pub struct NzkOptions {
    pub session_timeout: i32,
    pub flags: i32,
    /// -1: the handle's `path_read_len` attribute.
    pub path_read_len: i32,
    /// -1: the handle's `data_read_len` attribute.
    pub data_read_len: i32,
    /// -1: any version.
    pub version: i32,
    pub has_timeout: bool,
    pub timeout: u32,
    pub stat: *mut Stat,
    pub watch: *mut Watch,
    /// Owned by the options; freed by `nzk_options_clear`.
    pub acl: *mut AclList,
    /// Borrowed from the caller's Perl string for the duration of the call.
    pub session_id: *const u8,
    pub session_id_len: usize,
    /// SASL and TLS settings of `new()`; owned, freed by `nzk_options_clear`.
    pub secure: *mut Secure,
}

pub const DEFAULT_SESSION_TIMEOUT_MS: i32 = 10_000;
pub const MAX_SESSION_TIMEOUT_MS: i32 = 0x3FFF_FFFF;
pub const SESSION_ID_LEN: usize = 24;

impl Default for NzkOptions {
    fn default() -> Self {
        NzkOptions {
            session_timeout: DEFAULT_SESSION_TIMEOUT_MS,
            flags: 0,
            path_read_len: -1,
            data_read_len: -1,
            version: -1,
            has_timeout: false,
            timeout: 0,
            stat: ptr::null_mut(),
            watch: ptr::null_mut(),
            acl: ptr::null_mut(),
            session_id: ptr::null(),
            session_id_len: 0,
            secure: ptr::null_mut(),
        }
    }
}

/// What `name` means to `method`.
pub fn option(method: NzkMethod, name: &[u8]) -> NzkOption {
    use NzkMethod as M;
    use NzkOption as O;
    let known: &[(&str, NzkOption)] = match method {
        M::New => &[
            ("session_timeout", O::SessionTimeout),
            ("session_id", O::SessionId),
            ("sasl_options", O::SaslOptions),
            ("tls_ca_file", O::TlsCaFile),
            ("tls_cert_file", O::TlsCertFile),
            ("tls_key_file", O::TlsKeyFile),
            ("tls_verify_hostname", O::TlsVerifyHostname),
        ],
        M::Create => &[("path_read_len", O::PathReadLen), ("flags", O::Flags), ("acl", O::Acl)],
        M::Delete | M::SetAcl => &[("version", O::Version)],
        M::Exists => &[("stat", O::Stat), ("watch", O::Watch)],
        M::GetChildren => &[("watch", O::Watch)],
        M::Get => &[("data_read_len", O::DataReadLen), ("stat", O::Stat), ("watch", O::Watch)],
        M::Set => &[("version", O::Version), ("stat", O::Stat)],
        M::GetAcl => &[("stat", O::Stat)],
        M::Watch | M::Wait => &[("timeout", O::Timeout)],
    };
    known.iter().find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name)).map_or(O::Ignored, |(_, o)| *o)
}

// Node flags of create (ZOO_EPHEMERAL, ZOO_SEQUENCE), as the C client numbers them.
pub const FLAG_EPHEMERAL: i32 = 1;
pub const FLAG_SEQUENCE: i32 = 2;
/// ZOO_EPHEMERAL | ZOO_SEQUENCE.
pub const CREATE_FLAGS: i32 = FLAG_EPHEMERAL | FLAG_SEQUENCE;

impl NzkOptions {
    /// Sets an integer option (already truncated to a C int, as the original did);
    /// `Err` with the croak message when the value is out of range.
    pub fn set_int(&mut self, option: NzkOption, value: i32) -> Result<(), String> {
        match option {
            NzkOption::SessionTimeout if (0..=MAX_SESSION_TIMEOUT_MS).contains(&value) => self.session_timeout = value,
            NzkOption::SessionTimeout => return Err(format!("invalid session timeout: {value}")),
            NzkOption::Flags if value & !CREATE_FLAGS == 0 => self.flags = value,
            NzkOption::Flags => return Err(format!("invalid create flags: {value}")),
            NzkOption::PathReadLen if value >= 2 => self.path_read_len = value,
            NzkOption::PathReadLen => return Err(format!("invalid path read length: {value}")),
            NzkOption::DataReadLen if value >= 0 => self.data_read_len = value,
            NzkOption::DataReadLen => return Err(format!("invalid data read length: {value}")),
            NzkOption::Version if value >= 0 => self.version = value,
            NzkOption::Version => return Err(format!("invalid version requirement: {value}")),
            NzkOption::TlsVerifyHostname => self.secure().tls.verify_hostname = value != 0,
            _ => {}
        }
        Ok(())
    }

    pub fn set_timeout(&mut self, value: u32) {
        self.has_timeout = true;
        self.timeout = value;
    }

    /// Replaces the ACL, freeing one given earlier in the same call.
    pub fn set_acl(&mut self, acl: Box<AclList>) {
        self.clear_acl();
        self.acl = Box::into_raw(acl);
    }

    /// The security settings, made on first use.
    pub fn secure(&mut self) -> &mut Secure {
        if self.secure.is_null() {
            self.secure = Box::into_raw(Box::default());
        }
        // SAFETY: `secure` is only ever set from Box::into_raw here.
        unsafe { &mut *self.secure }
    }

    /// Sets a string option (a file name).
    pub fn set_text(&mut self, option: NzkOption, value: &[u8]) {
        let value = Some(String::from_utf8_lossy(crate::validate::c_string(value)).into_owned());
        let tls = &mut self.secure().tls;
        match option {
            NzkOption::TlsCaFile => tls.ca_file = value,
            NzkOption::TlsCertFile => tls.cert_file = value,
            NzkOption::TlsKeyFile => tls.key_file = value,
            _ => {}
        }
    }

    /// Starts the `sasl_options` hash (a repeated option replaces the earlier one).
    pub fn begin_sasl(&mut self) -> &mut SaslSettings {
        self.secure().sasl.insert(SaslSettings::default())
    }

    /// Adds one entry to the `sasl_options` hash begun with `begin_sasl`.
    pub fn begin_sasl_entry(&mut self, key: &[u8], value: &[u8]) {
        if let Some(sasl) = self.secure().sasl.as_mut() {
            sasl.set(key, value);
        }
    }

    /// Frees what the options own.
    pub fn clear(&mut self) {
        self.clear_acl();
        if !self.secure.is_null() {
            // SAFETY: set from Box::into_raw in `secure`.
            drop(unsafe { Box::from_raw(self.secure) });
            self.secure = ptr::null_mut();
        }
    }

    pub fn clear_acl(&mut self) {
        if !self.acl.is_null() {
            // SAFETY: `acl` is only ever set from Box::into_raw in set_acl.
            drop(unsafe { Box::from_raw(self.acl) });
            self.acl = ptr::null_mut();
        }
    }

    /// The session id option, if given (its length was checked when it was set).
    pub fn session_id(&self) -> Option<[u8; SESSION_ID_LEN]> {
        if self.session_id.is_null() {
            return None;
        }
        // SAFETY: set from a live Perl string of exactly SESSION_ID_LEN bytes.
        let bytes = unsafe { std::slice::from_raw_parts(self.session_id, SESSION_ID_LEN) };
        bytes.try_into().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_case_insensitive_and_per_method() {
        assert_eq!(option(NzkMethod::Get, b"DATA_READ_LEN"), NzkOption::DataReadLen);
        assert_eq!(option(NzkMethod::GetChildren, b"stat"), NzkOption::Ignored);
        assert_eq!(option(NzkMethod::Create, b"Flags"), NzkOption::Flags);
    }

    #[test]
    fn values_are_checked_with_the_original_messages() {
        let mut opts = NzkOptions::default();
        assert_eq!(opts.set_int(NzkOption::Version, -1).unwrap_err(), "invalid version requirement: -1");
        assert_eq!(opts.set_int(NzkOption::Flags, 4).unwrap_err(), "invalid create flags: 4");
        assert_eq!(opts.set_int(NzkOption::PathReadLen, 1).unwrap_err(), "invalid path read length: 1");
        assert_eq!(opts.set_int(NzkOption::SessionTimeout, -3).unwrap_err(), "invalid session timeout: -3");
        assert!(opts.set_int(NzkOption::SessionTimeout, MAX_SESSION_TIMEOUT_MS).is_ok());
        assert!(opts.set_int(NzkOption::DataReadLen, 0).is_ok());
    }
}
