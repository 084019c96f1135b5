//! TLS towards the appliances: the system roots plus an optional CA file
//! (whose certificates are also accepted as the exact certificate an
//! appliance presents) and pinned fingerprints, or, when the operator asks
//! for it, no certificate verification at all.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use rustls::{ClientConfig, RootCertStore};

use super::verify::ApplianceVerifier;
use crate::config::Tls;

/// The crypto provider used for every TLS connection, in and out.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Why a TLS client configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The CA file could not be read or parsed.
    #[error("CA file {path}: {reason}")]
    CaFile {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// rustls rejected the configuration.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// Builds the rustls client configuration for one module.
pub fn client_config(tls: &Tls) -> Result<ClientConfig, TlsError> {
    let builder =
        ClientConfig::builder_with_provider(provider()).with_safe_default_protocol_versions()?;
    let verifier = if tls.insecure_skip_verify {
        ApplianceVerifier::accept_any()
    } else {
        let (roots, listed) = roots(tls)?;
        ApplianceVerifier::new(roots, listed, tls.pinned_sha256.clone())?
    };
    let mut config = builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The roots for chains (system and CA file), and the CA file's
/// certificates themselves.
fn roots(tls: &Tls) -> Result<(RootCertStore, Vec<CertificateDer<'static>>), TlsError> {
    let mut store = RootCertStore::empty();
    // Unreadable system certificates are skipped: a CA file may be all
    // that is needed, and a missing root shows up as a clear handshake error.
    let native = rustls_native_certs::load_native_certs();
    store.add_parsable_certificates(native.certs);
    let mut listed = Vec::new();
    if let Some(path) = &tls.ca_file {
        let ca_err = |reason: String| TlsError::CaFile {
            path: path.display().to_string(),
            reason,
        };
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .map_err(|e| ca_err(e.to_string()))?
            .collect::<Result<_, _>>()
            .map_err(|e| ca_err(e.to_string()))?;
        for cert in certs {
            store.add(cert.clone()).map_err(|e| ca_err(e.to_string()))?;
            listed.push(cert);
        }
    }
    Ok((store, listed))
}
