//! Secure connections: SASL (DIGEST-MD5) and TLS settings of `new()`, read into the
//! client's options when the handle is made.

use zookeeper_client::{Connector, SaslOptions, TlsOptions};

/// `sasl_options => {...}` as given (keys matched case-insensitively).
#[derive(Debug, Default)]
pub struct SaslSettings {
    pub user: Option<String>,
    pub realm: Option<String>,
    pub password_file: Option<String>,
    pub mechlist: Option<String>,
}

/// The `tls_*` options of `new()`.
#[derive(Debug)]
pub struct TlsSettings {
    pub ca_file: Option<String>,
    pub cert_file: Option<String>,
    pub key_file: Option<String>,
    pub verify_hostname: bool,
}

impl Default for TlsSettings {
    fn default() -> Self {
        TlsSettings { ca_file: None, cert_file: None, key_file: None, verify_hostname: true }
    }
}

/// Everything security-related a `new()` call was given.
#[derive(Debug, Default)]
pub struct Secure {
    pub sasl: Option<SaslSettings>,
    pub tls: TlsSettings,
}

impl SaslSettings {
    /// Records one key of the hash; unknown keys are ignored, as in the original.
    pub fn set(&mut self, key: &[u8], value: &[u8]) {
        let value = Some(String::from_utf8_lossy(value).into_owned());
        let key = key.to_ascii_lowercase();
        match key.as_slice() {
            b"user" => self.user = value,
            b"realm" => self.realm = value,
            b"password_file" => self.password_file = value,
            b"mechlist" => self.mechlist = value,
            _ => {}
        }
    }
}

fn read(path: &str) -> Result<String, i32> {
    std::fs::read_to_string(path).map_err(|err| err.raw_os_error().unwrap_or(libc::EIO))
}

/// What a connector needs to connect securely, prepared once per handle.
#[derive(Clone)]
pub struct Prepared {
    sasl: Option<SaslOptions>,
    tls: Option<TlsOptions>,
}

impl Secure {
    /// Reads the password, CA, certificate and key files.
    ///
    /// # Errors
    /// The errno that `new()` reports with `undef`: the read's errno for a file that
    /// cannot be read (EIO if it has none), EINVAL for a CA, certificate or key that
    /// does not parse, or for a certificate without its key (or the reverse).
    pub fn prepare(&self) -> Result<Prepared, i32> {
        let sasl = match &self.sasl {
            None => None,
            Some(settings) => {
                let password = match &settings.password_file {
                    Some(path) => read(path)?.lines().next().unwrap_or("").to_owned(),
                    None => String::new(),
                };
                let user = settings.user.clone().unwrap_or_default();
                let mut options = SaslOptions::digest_md5(user, password);
                if let Some(realm) = &settings.realm {
                    options = options.with_realm(realm.clone());
                }
                Some(options.into())
            }
        };
        let tls = match &self.tls.ca_file {
            None => None,
            Some(ca_file) => {
                let invalid = |_| libc::EINVAL;
                let mut options = TlsOptions::no_ca().with_pem_ca_certs(&read(ca_file)?).map_err(invalid)?;
                let cert = self.tls.cert_file.as_deref().map(read).transpose()?;
                let key = self.tls.key_file.as_deref().map(read).transpose()?;
                match (cert, key) {
                    (Some(cert), Some(key)) => options = options.with_pem_identity(&cert, &key).map_err(invalid)?,
                    (None, None) => {}
                    // A certificate without its key (or the reverse) cannot identify us.
                    _ => return Err(libc::EINVAL),
                }
                if !self.tls.verify_hostname {
                    // SAFETY (of the API's contract): the caller asked not to verify the
                    // server's name; the certificate must still be signed by the CA.
                    options = unsafe { options.with_no_hostname_verification() };
                }
                Some(options)
            }
        };
        Ok(Prepared { sasl, tls })
    }
}

impl Prepared {
    /// Whether connections use TLS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    pub fn apply(&self, connector: &mut Connector) {
        if let Some(sasl) = &self.sasl {
            connector.sasl(sasl.clone());
        }
        if let Some(tls) = &self.tls {
            connector.tls(tls.clone());
        }
    }
}
