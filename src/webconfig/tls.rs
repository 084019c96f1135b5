//! `tls_server_config`: the rustls server configuration of the exporter's
//! endpoint. TLS 1.2 is the minimum whatever `min_version` says; the
//! certificate and key files are re-read when they change, so a renewed
//! certificate is served without a restart.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, SupportedKxGroup, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{
    DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig, SignatureScheme,
    SupportedCipherSuite, SupportedProtocolVersion,
};
use serde_saphyr::{Location, Spanned};
use tracing::{info, warn};

use super::raw::RawTlsServer;
use super::stamp::{Stamp, stamp};
use crate::config::ConfigError;

/// `client_auth_type`, with exporter-toolkit's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `NoClientCert` (default).
    None,
    /// `RequestClientCert`: asked for, not required, not verified.
    Request,
    /// `RequireAnyClientCert`: required, not verified.
    RequireAny,
    /// `VerifyClientCertIfGiven`: verified when sent.
    VerifyIfGiven,
    /// `RequireAndVerifyClientCert`: required and verified.
    RequireAndVerify,
}

fn client_auth(name: &str) -> Option<ClientAuth> {
    Some(match name {
        "" | "NoClientCert" => ClientAuth::None,
        "RequestClientCert" => ClientAuth::Request,
        // RequireClientCert is exporter-toolkit's old name for it.
        "RequireAnyClientCert" | "RequireClientCert" => ClientAuth::RequireAny,
        "VerifyClientCertIfGiven" => ClientAuth::VerifyIfGiven,
        "RequireAndVerifyClientCert" => ClientAuth::RequireAndVerify,
        _ => return None,
    })
}

/// TLS versions by exporter-toolkit name, as a number to compare.
fn tls_version(name: &str) -> Option<u8> {
    Some(match name {
        "TLS10" => 10,
        "TLS11" => 11,
        "TLS12" => 12,
        "TLS13" => 13,
        _ => return None,
    })
}

/// The cipher suites Go offers (`tls.CipherSuites()`, which promtool
/// accepts), and the rustls suite of each where rustls implements it.
/// TLS 1.3 suites are not configurable (as in Go): always all enabled.
const GO_CIPHER_SUITES: [(&str, Option<rustls::CipherSuite>); 17] = {
    use rustls::CipherSuite as C;
    [
        ("TLS_RSA_WITH_AES_128_CBC_SHA", None),
        ("TLS_RSA_WITH_AES_256_CBC_SHA", None),
        ("TLS_RSA_WITH_AES_128_GCM_SHA256", None),
        ("TLS_RSA_WITH_AES_256_GCM_SHA384", None),
        ("TLS_AES_128_GCM_SHA256", Some(C::TLS13_AES_128_GCM_SHA256)),
        ("TLS_AES_256_GCM_SHA384", Some(C::TLS13_AES_256_GCM_SHA384)),
        (
            "TLS_CHACHA20_POLY1305_SHA256",
            Some(C::TLS13_CHACHA20_POLY1305_SHA256),
        ),
        ("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", None),
        ("TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", None),
        ("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", None),
        ("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", None),
        (
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            Some(C::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256),
        ),
        (
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            Some(C::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384),
        ),
        (
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            Some(C::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256),
        ),
        (
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            Some(C::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384),
        ),
        (
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
            Some(C::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256),
        ),
        (
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            Some(C::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256),
        ),
    ]
};

/// Go's curve names, and the rustls group of each where rustls has it.
fn curve(name: &str) -> Option<Option<&'static dyn SupportedKxGroup>> {
    use rustls::crypto::ring::kx_group;
    Some(match name {
        "CurveP256" => Some(kx_group::SECP256R1),
        "CurveP384" => Some(kx_group::SECP384R1),
        "X25519" => Some(kx_group::X25519),
        "CurveP521" => None,
        _ => return None,
    })
}

fn supported_suite_names() -> String {
    GO_CIPHER_SUITES
        .iter()
        .filter(|(name, suite)| {
            suite.is_some() && !name.starts_with("TLS_AES") && !name.starts_with("TLS_CHACHA")
        })
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks `tls_server_config` and builds the server configuration; `None`
/// when the section names no certificate, key or client CA (plain HTTP,
/// as in exporter-toolkit).
pub fn check(
    file: &Path,
    base_dir: &Path,
    raw: &Spanned<RawTlsServer>,
    http2: bool,
    warnings: &mut Vec<String>,
) -> Result<Option<Arc<ServerConfig>>, ConfigError> {
    let section = &raw.value;
    let err = |at: &Location, field: &str, message: String| {
        ConfigError::at(file, at, format!("tls_server_config.{field}"), message)
    };
    let text = |v: &Option<Spanned<String>>| v.as_ref().map_or("", |s| s.value.as_str()).to_owned();
    let (cert, key, auth, ca) = (
        text(&section.cert_file),
        text(&section.key_file),
        text(&section.client_auth_type),
        text(&section.client_ca_file),
    );
    if cert.is_empty() && key.is_empty() && auth.is_empty() && ca.is_empty() {
        return Ok(None);
    }
    if cert.is_empty() {
        return Err(err(
            &raw.referenced,
            "cert_file",
            "missing cert_file: TLS needs a certificate and its key".into(),
        ));
    }
    if key.is_empty() {
        return Err(err(
            &raw.referenced,
            "key_file",
            "missing key_file: TLS needs a certificate and its key".into(),
        ));
    }
    let cert_at = section
        .cert_file
        .as_ref()
        .map_or(raw.referenced, |c| c.referenced);
    let provider = Arc::new(provider(section, &err)?);
    let versions = versions(section, &err, warnings)?;
    let cert_path = resolve(base_dir, &cert);
    let key_path = resolve(base_dir, &key);
    let certified = load_certified_key(&cert_path, &key_path, &provider)
        .map_err(|why| err(&cert_at, "cert_file", why))?;
    let client_auth = match &section.client_auth_type {
        Some(a) => client_auth(&a.value).ok_or_else(|| {
            err(
                &a.referenced,
                "client_auth_type",
                format!(
                    "invalid client_auth_type \"{}\" (one of NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert)",
                    a.value
                ),
            )
        })?,
        None => ClientAuth::None,
    };
    let roots = match &section.client_ca_file {
        Some(ca) if !ca.value.is_empty() => {
            if client_auth == ClientAuth::None {
                return Err(err(
                    &ca.referenced,
                    "client_ca_file",
                    "client CAs are configured without a client_auth_type (use RequireAndVerifyClientCert)".into(),
                ));
            }
            Some(
                client_roots(&resolve(base_dir, &ca.value))
                    .map_err(|why| err(&ca.referenced, "client_ca_file", why))?,
            )
        }
        _ => None,
    };
    match client_auth {
        ClientAuth::Request | ClientAuth::RequireAny => warnings.push(format!(
            "tls_server_config.client_auth_type {auth}: client certificates are not verified; use RequireAndVerifyClientCert"
        )),
        ClientAuth::VerifyIfGiven | ClientAuth::RequireAndVerify if roots.is_none() => warnings.push(
            "tls_server_config: no client_ca_file, client certificates are verified against the system roots".into(),
        ),
        _ => {}
    }
    let verifier = client_verifier(client_auth, roots, &provider)
        .map_err(|why| err(&raw.referenced, "client_auth_type", why))?;
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| {
            err(
                &raw.referenced,
                "cipher_suites",
                format!("no usable cipher suite: {e}"),
            )
        })?;
    let builder = match verifier {
        Some(v) => builder.with_client_cert_verifier(v),
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_cert_resolver(Arc::new(CertificateFiles::new(
        cert_path, key_path, provider, certified,
    )));
    config.ignore_client_order = section.prefer_server_cipher_suites.unwrap_or(true);
    config.alpn_protocols = if http2 {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    Ok(Some(Arc::new(config)))
}

type ErrAt<'a> = dyn Fn(&Location, &str, String) -> ConfigError + 'a;

/// ring with the configured TLS 1.2 suites and curves.
fn provider(section: &RawTlsServer, err: &ErrAt<'_>) -> Result<CryptoProvider, ConfigError> {
    let mut provider = rustls::crypto::ring::default_provider();
    if let Some(names) = &section.cipher_suites {
        let mut tls12 = Vec::new();
        for name in names {
            let Some((_, suite)) = GO_CIPHER_SUITES.iter().find(|(n, _)| *n == name.value) else {
                return Err(err(
                    &name.referenced,
                    "cipher_suites",
                    format!("unknown cipher suite \"{}\"", name.value),
                ));
            };
            let Some(suite) = suite else {
                return Err(err(
                    &name.referenced,
                    "cipher_suites",
                    format!(
                        "cipher suite {} is not offered by this exporter (CBC and static-RSA suites are not implemented); supported: {}",
                        name.value,
                        supported_suite_names()
                    ),
                ));
            };
            if let Some(s) = provider
                .cipher_suites
                .iter()
                .find(|s| s.suite() == *suite && matches!(s, SupportedCipherSuite::Tls12(_)))
                && !tls12
                    .iter()
                    .any(|t: &SupportedCipherSuite| t.suite() == *suite)
            {
                tls12.push(*s);
            }
        }
        // Listed TLS 1.2 suites in the configured order, then every TLS 1.3
        // suite (which Go does not let one configure either).
        let tls13: Vec<SupportedCipherSuite> = provider
            .cipher_suites
            .iter()
            .filter(|s| matches!(s, SupportedCipherSuite::Tls13(_)))
            .copied()
            .collect();
        provider.cipher_suites = tls13.into_iter().chain(tls12).collect();
    }
    if let Some(names) = &section.curve_preferences {
        let mut groups: Vec<&'static dyn SupportedKxGroup> = Vec::new();
        for name in names {
            match curve(&name.value) {
                None => {
                    return Err(err(
                        &name.referenced,
                        "curve_preferences",
                        format!("unknown curve \"{}\"", name.value),
                    ));
                }
                Some(None) => {
                    return Err(err(
                        &name.referenced,
                        "curve_preferences",
                        format!(
                            "curve {} is not offered by this exporter; supported: X25519, CurveP256, CurveP384",
                            name.value
                        ),
                    ));
                }
                Some(Some(group)) => {
                    if !groups.iter().any(|g| g.name() == group.name()) {
                        groups.push(group);
                    }
                }
            }
        }
        if !groups.is_empty() {
            provider.kx_groups = groups;
        }
    }
    Ok(provider)
}

/// The protocol versions between `min_version` and `max_version`.
fn versions(
    section: &RawTlsServer,
    err: &ErrAt<'_>,
    warnings: &mut Vec<String>,
) -> Result<Vec<&'static SupportedProtocolVersion>, ConfigError> {
    let parse = |v: &Option<Spanned<String>>, field: &str, default: u8| match v {
        None => Ok((default, None)),
        Some(s) => tls_version(&s.value)
            .map(|n| (n, Some(s.referenced)))
            .ok_or_else(|| {
                err(
                    &s.referenced,
                    field,
                    format!(
                        "unknown TLS version \"{}\" (one of TLS10, TLS11, TLS12, TLS13)",
                        s.value
                    ),
                )
            }),
    };
    let (min, min_at) = parse(&section.min_version, "min_version", 12)?;
    let (max, max_at) = parse(&section.max_version, "max_version", 13)?;
    if max < 12 {
        return Err(err(
            &max_at.unwrap_or(Location::UNKNOWN),
            "max_version",
            "TLS 1.0 and 1.1 are not offered by this exporter: max_version must be TLS12 or TLS13"
                .into(),
        ));
    }
    if min > max {
        return Err(err(
            &min_at.unwrap_or(Location::UNKNOWN),
            "min_version",
            "min_version is above max_version: no client could connect".into(),
        ));
    }
    if min < 12 {
        warnings.push(
            "tls_server_config.min_version below TLS12: this exporter offers TLS 1.2 and 1.3 only"
                .into(),
        );
    }
    let mut out = Vec::new();
    if max >= 13 {
        out.push(&rustls::version::TLS13);
    }
    if min <= 12 {
        out.push(&rustls::version::TLS12);
    }
    Ok(out)
}

fn resolve(base_dir: &Path, path: &str) -> PathBuf {
    let p = PathBuf::from(path);
    if p.is_absolute() { p } else { base_dir.join(p) }
}

/// Reads a PEM certificate chain and private key and checks they belong
/// together.
pub fn load_certified_key(
    cert_file: &Path,
    key_file: &Path,
    provider: &CryptoProvider,
) -> Result<CertifiedKey, String> {
    let cert_pem = std::fs::read(cert_file)
        .map_err(|e| format!("cannot read {}: {e}", cert_file.display()))?;
    let key_pem =
        std::fs::read(key_file).map_err(|e| format!("cannot read {}: {e}", key_file.display()))?;
    certified_key_from_pem(&cert_pem, &key_pem, provider).map_err(|why| {
        format!(
            "certificate {} and key {}: {why}",
            cert_file.display(),
            key_file.display()
        )
    })
}

/// A certificate chain and key from PEM text.
pub fn certified_key_from_pem(
    cert_pem: &[u8],
    key_pem: &[u8],
    provider: &CryptoProvider,
) -> Result<CertifiedKey, String> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("the certificate is not PEM: {e}"))?;
    if chain.is_empty() {
        return Err("no certificate found in the certificate file".into());
    }
    // The error of the PEM reader would quote no secret, but say less.
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|_| "no private key found in the key file".to_owned())?;
    CertifiedKey::from_der(chain, key, provider).map_err(|e| format!("{e}"))
}

/// A server configuration serving a fixed certificate (PEM), without
/// client authentication: for the simulated appliances.
pub fn fixed_server_config(cert_pem: &[u8], key_pem: &[u8]) -> Result<Arc<ServerConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certified = certified_key_from_pem(cert_pem, key_pem, &provider)?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(FixedCertificate(Arc::new(certified))));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// One certificate for every handshake.
#[derive(Debug)]
struct FixedCertificate(Arc<CertifiedKey>);

impl ResolvesServerCert for FixedCertificate {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

fn client_roots(path: &Path) -> Result<RootCertStore, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut store = RootCertStore::empty();
    let (added, _) = store.add_parsable_certificates(certs);
    if added == 0 {
        return Err(format!(
            "{} holds no CA certificate: no client could ever be verified",
            path.display()
        ));
    }
    Ok(store)
}

fn client_verifier(
    auth: ClientAuth,
    roots: Option<RootCertStore>,
    provider: &Arc<CryptoProvider>,
) -> Result<Option<Arc<dyn ClientCertVerifier>>, String> {
    let algorithms = provider.signature_verification_algorithms;
    let webpki = |roots: Option<RootCertStore>| {
        let roots = roots.unwrap_or_else(|| {
            let mut store = RootCertStore::empty();
            store.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
            store
        });
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
    };
    Ok(match auth {
        ClientAuth::None => None,
        ClientAuth::Request => Some(Arc::new(AnyClientCertificate {
            mandatory: false,
            algorithms,
        })),
        ClientAuth::RequireAny => Some(Arc::new(AnyClientCertificate {
            mandatory: true,
            algorithms,
        })),
        ClientAuth::VerifyIfGiven => Some(
            webpki(roots)
                .allow_unauthenticated()
                .build()
                .map_err(|e| e.to_string())?,
        ),
        ClientAuth::RequireAndVerify => Some(webpki(roots).build().map_err(|e| e.to_string())?),
    })
}

/// `RequestClientCert` / `RequireAnyClientCert`: any certificate is taken
/// (its handshake signature is still checked), as in Go.
#[derive(Debug)]
struct AnyClientCertificate {
    mandatory: bool,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for AnyClientCertificate {
    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Serves the certificate of `cert_file` / `key_file`, re-reading them
/// when either changes (checked at each handshake: two `stat` calls). A
/// pair that fails to load is logged once and the previous one is kept.
#[derive(Debug)]
pub struct CertificateFiles {
    cert_file: PathBuf,
    key_file: PathBuf,
    provider: Arc<CryptoProvider>,
    state: Mutex<CertState>,
}

#[derive(Debug)]
struct CertState {
    /// The stamps of the files as last tried.
    tried: (Option<Stamp>, Option<Stamp>),
    /// The certificate in use.
    current: Arc<CertifiedKey>,
}

impl CertificateFiles {
    fn new(
        cert_file: PathBuf,
        key_file: PathBuf,
        provider: Arc<CryptoProvider>,
        loaded: CertifiedKey,
    ) -> Self {
        let tried = (stamp(&cert_file), stamp(&key_file));
        Self {
            cert_file,
            key_file,
            provider,
            state: Mutex::new(CertState {
                tried,
                current: Arc::new(loaded),
            }),
        }
    }

    fn current(&self) -> Arc<CertifiedKey> {
        let now = (stamp(&self.cert_file), stamp(&self.key_file));
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if now != state.tried {
            state.tried = now;
            match load_certified_key(&self.cert_file, &self.key_file, &self.provider) {
                Ok(key) => {
                    state.current = Arc::new(key);
                    info!(cert_file = %self.cert_file.display(), "TLS certificate reloaded");
                }
                Err(reason) => {
                    warn!(reason = %reason, "TLS certificate files changed but cannot be loaded; serving the previous certificate");
                }
            }
        }
        state.current.clone()
    }
}

impl ResolvesServerCert for CertificateFiles {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webconfig::WebConfig;

    struct Pki {
        dir: tempfile::TempDir,
    }

    fn pki() -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".into()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        std::fs::write(dir.path().join("cert.pem"), cert.pem()).unwrap();
        std::fs::write(dir.path().join("key.pem"), key.serialize_pem()).unwrap();
        Pki { dir }
    }

    fn parse(pki: &Pki, tls: &str) -> Result<WebConfig, String> {
        let text = format!("tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n{tls}");
        WebConfig::parse(&pki.dir.path().join("web.yml"), &text).map_err(|e| e.to_string())
    }

    #[test]
    fn relative_files_are_relative_to_the_web_config() {
        crate::install_crypto_provider();
        let p = pki();
        let w = parse(&p, "").unwrap();
        let tls = w.tls.unwrap();
        assert!(tls.ignore_client_order);
        assert_eq!(
            tls.alpn_protocols,
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        );
    }

    #[test]
    fn versions_and_their_limits() {
        let p = pki();
        let w = parse(&p, "  min_version: TLS10\n").unwrap();
        assert_eq!(w.warnings.len(), 1, "{:?}", w.warnings);
        let err = parse(&p, "  max_version: TLS11\n").unwrap_err();
        assert!(
            err.contains(":4:16: tls_server_config.max_version: TLS 1.0 and 1.1 are not offered"),
            "{err}"
        );
        let err = parse(&p, "  min_version: TLS13\n  max_version: TLS12\n").unwrap_err();
        assert!(err.contains("min_version is above max_version"), "{err}");
        let err = parse(&p, "  min_version: TLS14\n").unwrap_err();
        assert!(err.contains("unknown TLS version \"TLS14\""), "{err}");
    }

    #[test]
    fn suites_and_curves() {
        let p = pki();
        parse(&p, "  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256]\n  curve_preferences: [X25519, CurveP256]\n").unwrap();
        let err = parse(&p, "  cipher_suites: [TLS_RSA_WITH_AES_128_CBC_SHA]\n").unwrap_err();
        assert!(err.contains("is not offered by this exporter"), "{err}");
        let err = parse(&p, "  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n").unwrap_err();
        assert!(err.contains("unknown cipher suite"), "{err}");
        let err = parse(&p, "  curve_preferences: [CurveP521]\n").unwrap_err();
        assert!(err.contains("curve CurveP521 is not offered"), "{err}");
        let err = parse(&p, "  curve_preferences: [Foo]\n").unwrap_err();
        assert!(err.contains("unknown curve \"Foo\""), "{err}");
    }

    #[test]
    fn client_authentication() {
        let p = pki();
        parse(
            &p,
            "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: cert.pem\n",
        )
        .unwrap();
        let w = parse(&p, "  client_auth_type: RequireAnyClientCert\n").unwrap();
        assert_eq!(w.warnings.len(), 1);
        let err = parse(&p, "  client_ca_file: cert.pem\n").unwrap_err();
        assert!(err.contains("without a client_auth_type"), "{err}");
        let err = parse(&p, "  client_auth_type: Foo\n").unwrap_err();
        assert!(err.contains("invalid client_auth_type \"Foo\""), "{err}");
        let err = parse(
            &p,
            "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: key.pem\n",
        )
        .unwrap_err();
        assert!(err.contains("holds no CA certificate"), "{err}");
    }

    #[test]
    fn certificate_and_key_must_be_there_and_match() {
        let p = pki();
        let other = pki();
        std::fs::copy(
            other.dir.path().join("key.pem"),
            p.dir.path().join("other.pem"),
        )
        .unwrap();
        let text = "tls_server_config:\n  cert_file: cert.pem\n  key_file: other.pem\n";
        let err = WebConfig::parse(&p.dir.path().join("web.yml"), text)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("tls_server_config.cert_file: certificate"),
            "{err}"
        );
        let text = "tls_server_config:\n  cert_file: cert.pem\n  key_file: cert.pem\n";
        let err = WebConfig::parse(&p.dir.path().join("web.yml"), text)
            .unwrap_err()
            .to_string();
        assert!(err.contains("no private key found"), "{err}");
        let text = "tls_server_config:\n  cert_file: cert.pem\n";
        let err = WebConfig::parse(&p.dir.path().join("web.yml"), text)
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing key_file"), "{err}");
        let text = "tls_server_config:\n  cert_file: nope.pem\n  key_file: key.pem\n";
        let err = WebConfig::parse(&p.dir.path().join("web.yml"), text)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(":2:14: tls_server_config.cert_file: cannot read"),
            "{err}"
        );
        // Without certificate, key or client CA the section means plain HTTP.
        let w = WebConfig::parse(
            &p.dir.path().join("web.yml"),
            "tls_server_config:\n  min_version: TLS12\n",
        )
        .unwrap();
        assert!(w.tls.is_none());
    }

    #[test]
    fn changed_files_are_reloaded_and_bad_ones_ignored() {
        let p = pki();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let (cert, key) = (p.dir.path().join("cert.pem"), p.dir.path().join("key.pem"));
        let loaded = load_certified_key(&cert, &key, &provider).unwrap();
        let files = CertificateFiles::new(cert.clone(), key.clone(), provider, loaded);
        let first = files.current();
        assert!(
            Arc::ptr_eq(&first, &files.current()),
            "unchanged files are not re-read"
        );
        let renewed = pki();
        std::fs::copy(renewed.dir.path().join("cert.pem"), &cert).unwrap();
        std::fs::copy(renewed.dir.path().join("key.pem"), &key).unwrap();
        let second = files.current();
        assert_ne!(first.cert, second.cert);
        std::fs::write(&cert, "garbage").unwrap();
        assert_eq!(
            files.current().cert,
            second.cert,
            "a broken file keeps the previous certificate"
        );
    }
}
