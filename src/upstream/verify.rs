//! Verification of an appliance's certificate. The usual chain check
//! (system roots plus `tls.ca_file`), and, for the self-signed certificates
//! appliances ship with, acceptance of a presented certificate that the
//! operator listed exactly: its DER is in `tls.ca_file`, or its SHA-256 is
//! in `tls.pinned_sha256`. Such a certificate is the trust decision itself,
//! so only its validity dates are checked, not its host names (appliances
//! are often reached by an address their certificate does not name) and
//! not whether it is marked as a CA (most self-signed appliance
//! certificates are, which the chain check refuses as an end entity).
//! Every refusal is told in an operator's words. With
//! `insecure_skip_verify` any certificate is accepted, but the handshake
//! signatures are still checked so the connection itself is sound.
//!
//! A client's verifier also records the certificate it was shown
//! ([`ApplianceVerifier::recording`], [`super::presented`]), before it
//! decides, from the same reading of the certificate its checks use: one
//! parse per handshake.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, OtherError, RootCertStore, SignatureScheme};
use x509_parser::certificate::X509Certificate;

use super::presented::{Presented, Recorder};

/// A refused appliance certificate, in words.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(String);

/// Verifies appliance certificates as the module's `tls` settings say.
#[derive(Debug, Clone)]
pub struct ApplianceVerifier {
    /// `insecure_skip_verify`: every certificate is accepted.
    accept_any: bool,
    /// The chain check; `None` when there is no root at all.
    chain: Option<Arc<WebPkiServerVerifier>>,
    /// Certificates from `tls.ca_file`, accepted as the exact leaf.
    listed: Arc<[CertificateDer<'static>]>,
    /// `tls.pinned_sha256`: leaf fingerprints accepted.
    pinned: Arc<[[u8; 32]]>,
    /// For the handshake signatures.
    algorithms: WebPkiSupportedAlgorithms,
    /// Where a collection's verifier records the presented leaf.
    recorder: Option<Recorder>,
}

impl ApplianceVerifier {
    /// A verifier trusting `roots` for chains and `listed` / `pinned` as
    /// exact leaves.
    pub fn new(
        roots: RootCertStore,
        listed: Vec<CertificateDer<'static>>,
        pinned: Vec<[u8; 32]>,
    ) -> Result<Self, rustls::Error> {
        let provider = super::tls::provider();
        let algorithms = provider.signature_verification_algorithms;
        let chain = if roots.is_empty() {
            None
        } else {
            Some(
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                    .build()
                    .map_err(|e| rustls::Error::General(e.to_string()))?,
            )
        };
        Ok(Self {
            accept_any: false,
            chain,
            listed: listed.into(),
            pinned: pinned.into(),
            algorithms,
            recorder: None,
        })
    }

    /// The same verifier, recording every leaf it is shown into `recorder`
    /// (also when it accepts any, and when it refuses).
    pub fn recording(&self, recorder: Recorder) -> Self {
        Self {
            recorder: Some(recorder),
            ..self.clone()
        }
    }

    /// `insecure_skip_verify`: a verifier that accepts any certificate.
    pub fn accept_any() -> Self {
        Self {
            accept_any: true,
            chain: None,
            listed: Arc::new([]),
            pinned: Arc::new([]),
            algorithms: super::tls::provider().signature_verification_algorithms,
            recorder: None,
        }
    }

    fn listed_exactly(&self, end_entity: &CertificateDer<'_>) -> bool {
        self.listed
            .iter()
            .any(|c| c.as_ref() == end_entity.as_ref())
            || self.pinned.contains(&sha256(end_entity))
    }
}

impl ServerCertVerifier for ApplianceVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let parsed = x509_parser::parse_x509_certificate(end_entity.as_ref())
            .ok()
            .map(|(_, cert)| cert);
        if let (Some(recorder), Some(cert)) = (&self.recorder, &parsed) {
            recorder.keep(Presented::of(cert, end_entity));
        }
        if self.accept_any {
            return Ok(ServerCertVerified::assertion());
        }
        let facts = Facts::of(parsed.as_ref());
        if self.listed_exactly(end_entity) {
            return match facts.dates_refusal(now) {
                None => Ok(ServerCertVerified::assertion()),
                Some(why) => Err(refused(why)),
            };
        }
        let result = match &self.chain {
            Some(chain) => {
                chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            }
            None => Err(rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer,
            )),
        };
        result.map_err(|e| match e {
            rustls::Error::InvalidCertificate(cause) => {
                refused(explain(&cause, &facts, end_entity, server_name, now))
            }
            other => other,
        })
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

/// A refusal of this verifier in its own words (rustls prints the cause
/// of a custom certificate error in its debug form).
pub fn in_words(err: &rustls::Error) -> Option<String> {
    match err {
        rustls::Error::InvalidCertificate(CertificateError::Other(other)) => other
            .0
            .downcast_ref::<Refused>()
            .map(|refused| format!("invalid peer certificate: {refused}")),
        _ => None,
    }
}

fn refused(why: String) -> rustls::Error {
    rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(Refused(why)))))
}

/// SHA-256 of a certificate's DER, as `tls.pinned_sha256` holds it.
pub fn sha256(cert: &CertificateDer<'_>) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, cert.as_ref());
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// A fingerprint as appliances' admin pages show it: `AB:CD:…`.
pub fn fingerprint(digest: &[u8; 32]) -> String {
    digest
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// What the messages say about the presented certificate.
#[derive(Debug, Default)]
struct Facts {
    subject: String,
    self_signed: bool,
    not_before: i64,
    not_after: i64,
}

impl Facts {
    /// The facts of a parsed leaf; `None` when it did not parse.
    fn of(cert: Option<&X509Certificate<'_>>) -> Self {
        match cert {
            Some(cert) => Self {
                subject: cert.subject().to_string(),
                self_signed: cert.subject().as_raw() == cert.issuer().as_raw(),
                not_before: cert.validity().not_before.timestamp(),
                not_after: cert.validity().not_after.timestamp(),
            },
            // An unreadable certificate fails the checks with rustls' own
            // words; the dates then say nothing.
            None => Self {
                not_before: i64::MIN,
                not_after: i64::MAX,
                ..Self::default()
            },
        }
    }

    fn dates_refusal(&self, now: UnixTime) -> Option<String> {
        let now = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        if now > self.not_after {
            Some(format!(
                "the appliance's certificate ({}) expired on {}",
                self.subject,
                date(self.not_after)
            ))
        } else if now < self.not_before {
            Some(format!(
                "the appliance's certificate ({}) is not valid before {} (check the clocks)",
                self.subject,
                date(self.not_before)
            ))
        } else {
            None
        }
    }
}

fn date(unix: i64) -> String {
    let at = UNIX_EPOCH + Duration::from_secs(u64::try_from(unix).unwrap_or(0));
    humantime::format_rfc3339_seconds(at).to_string()
}

/// `er2.example` out of rustls' `DnsName("er2.example")`.
fn unquoted(name: &str) -> &str {
    name.split_once("(\"")
        .and_then(|(_, rest)| rest.strip_suffix("\")"))
        .unwrap_or(name)
}

/// The operator's version of a certificate error.
fn explain(
    cause: &CertificateError,
    facts: &Facts,
    end_entity: &CertificateDer<'_>,
    server_name: &ServerName<'_>,
    now: UnixTime,
) -> String {
    let subject = &facts.subject;
    let fingerprint = fingerprint(&sha256(end_entity));
    match cause {
        CertificateError::Expired
        | CertificateError::ExpiredContext { .. }
        | CertificateError::NotValidYet
        | CertificateError::NotValidYetContext { .. } => facts
            .dates_refusal(now)
            .unwrap_or_else(|| format!("the appliance's certificate ({subject}): {cause}")),
        CertificateError::NotValidForNameContext { presented, .. } => format!(
            "the appliance's certificate ({subject}) is for {}, not for {} (the host in the target URL)",
            if presented.is_empty() {
                "no host name".to_owned()
            } else {
                presented
                    .iter()
                    .map(|n| unquoted(n))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            server_name.to_str()
        ),
        CertificateError::NotValidForName => format!(
            "the appliance's certificate ({subject}) is not for {} (the host in the target URL)",
            server_name.to_str()
        ),
        _ if facts.self_signed => format!(
            "the appliance's certificate ({subject}) is self-signed and not listed in tls.ca_file or tls.pinned_sha256 (its SHA-256 is {fingerprint})"
        ),
        CertificateError::BadSignature => format!(
            "the appliance's certificate ({subject}) names a trusted authority as its issuer, but that authority's key did not sign it (was the CA in tls.ca_file replaced?)"
        ),
        CertificateError::UnknownIssuer => format!(
            "the appliance's certificate ({subject}) is issued by an unknown authority: add the issuing CA to tls.ca_file"
        ),
        other => format!("the appliance's certificate ({subject}) is refused: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};

    /// A self-signed certificate for `names`, marked CA:TRUE as
    /// appliances' usually are, valid from `from` to `until` (years).
    fn self_signed(names: &[&str], from: i32, until: i32) -> CertificateDer<'static> {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.not_before = rcgen::date_time_ymd(from, 1, 1);
        params.not_after = rcgen::date_time_ymd(until, 1, 1);
        let key = KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().clone()
    }

    fn now() -> UnixTime {
        UnixTime::now()
    }

    fn verify(
        verifier: &ApplianceVerifier,
        leaf: &CertificateDer<'_>,
        host: &str,
    ) -> Result<(), String> {
        let name = ServerName::try_from(host.to_owned()).unwrap();
        verifier
            .verify_server_cert(leaf, &[], &name, &[], now())
            .map(|_| ())
            .map_err(|e| in_words(&e).unwrap_or_else(|| e.to_string()))
    }

    #[test]
    fn a_listed_self_signed_ca_certificate_is_the_exact_leaf_whatever_the_host() {
        let appliance = self_signed(&["er2-master.example"], 2020, 2090);
        let mut roots = RootCertStore::empty();
        roots.add(appliance.clone()).unwrap();
        let v = ApplianceVerifier::new(roots.clone(), vec![appliance.clone()], vec![]).unwrap();
        assert_eq!(verify(&v, &appliance, "er2-master.example"), Ok(()));
        assert_eq!(verify(&v, &appliance, "10.0.0.5"), Ok(()));
        // The chain check alone refuses it: a CA as the end entity.
        let chain_only = ApplianceVerifier::new(roots, vec![], vec![]).unwrap();
        let err = verify(&chain_only, &appliance, "er2-master.example").unwrap_err();
        assert!(
            err.contains("is self-signed and not listed in tls.ca_file or tls.pinned_sha256"),
            "{err}"
        );
    }

    #[test]
    fn another_self_signed_certificate_is_refused_with_its_fingerprint() {
        let listed = self_signed(&["er2-master.example"], 2020, 2090);
        let presented = self_signed(&["er2-master.example"], 2020, 2090);
        let mut roots = RootCertStore::empty();
        roots.add(listed.clone()).unwrap();
        let v = ApplianceVerifier::new(roots, vec![listed], vec![]).unwrap();
        let err = verify(&v, &presented, "er2-master.example").unwrap_err();
        assert_eq!(
            err,
            format!(
                "invalid peer certificate: the appliance's certificate (CN=rcgen self signed cert) is self-signed and not listed in tls.ca_file or tls.pinned_sha256 (its SHA-256 is {})",
                fingerprint(&sha256(&presented))
            )
        );
    }

    #[test]
    fn a_pinned_fingerprint_is_accepted_within_its_dates() {
        let presented = self_signed(&["vpn.example"], 2020, 2090);
        let v = ApplianceVerifier::new(RootCertStore::empty(), vec![], vec![sha256(&presented)])
            .unwrap();
        assert_eq!(verify(&v, &presented, "10.0.0.9"), Ok(()));
        let expired = self_signed(&["vpn.example"], 2020, 2021);
        let v =
            ApplianceVerifier::new(RootCertStore::empty(), vec![], vec![sha256(&expired)]).unwrap();
        assert_eq!(
            verify(&v, &expired, "vpn.example").unwrap_err(),
            "invalid peer certificate: the appliance's certificate (CN=rcgen self signed cert) expired on 2021-01-01T00:00:00Z"
        );
        let early = self_signed(&["vpn.example"], 2080, 2090);
        let v =
            ApplianceVerifier::new(RootCertStore::empty(), vec![early.clone()], vec![]).unwrap();
        let err = verify(&v, &early, "vpn.example").unwrap_err();
        assert!(
            err.ends_with("is not valid before 2080-01-01T00:00:00Z (check the clocks)"),
            "{err}"
        );
    }

    /// A CA and a leaf it signed for `names`, valid from `from` to `until`.
    fn issued(
        ca_name: &str,
        names: &[&str],
        from: i32,
        until: i32,
    ) -> (CertificateDer<'static>, CertificateDer<'static>) {
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, ca_name);
        let ca_key = KeyPair::generate().unwrap();
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca, ca_key);
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut leaf = CertificateParams::new(names).unwrap();
        leaf.distinguished_name
            .push(rcgen::DnType::CommonName, "er2-master");
        leaf.not_before = rcgen::date_time_ymd(from, 1, 1);
        leaf.not_after = rcgen::date_time_ymd(until, 1, 1);
        let key = KeyPair::generate().unwrap();
        let leaf = leaf.signed_by(&key, &issuer).unwrap();
        (ca_cert.der().clone(), leaf.der().clone())
    }

    #[test]
    fn chain_failures_are_told_in_words() {
        let (ca, leaf) = issued("Appliance CA", &["er2-master.example"], 2020, 2090);
        let mut roots = RootCertStore::empty();
        roots.add(ca).unwrap();
        let v = ApplianceVerifier::new(roots, vec![], vec![]).unwrap();
        assert_eq!(verify(&v, &leaf, "er2-master.example"), Ok(()));
        assert_eq!(
            verify(&v, &leaf, "10.0.0.5").unwrap_err(),
            "invalid peer certificate: the appliance's certificate (CN=er2-master) is for er2-master.example, not for 10.0.0.5 (the host in the target URL)"
        );
        let (_, stranger) = issued("Other CA", &["er2-master.example"], 2020, 2090);
        assert_eq!(
            verify(&v, &stranger, "er2-master.example").unwrap_err(),
            "invalid peer certificate: the appliance's certificate (CN=er2-master) is issued by an unknown authority: add the issuing CA to tls.ca_file"
        );
        let (_, impostor) = issued("Appliance CA", &["er2-master.example"], 2020, 2090);
        assert_eq!(
            verify(&v, &impostor, "er2-master.example").unwrap_err(),
            "invalid peer certificate: the appliance's certificate (CN=er2-master) names a trusted authority as its issuer, but that authority's key did not sign it (was the CA in tls.ca_file replaced?)"
        );
    }

    #[test]
    fn an_expired_chain_says_when() {
        let (ca, leaf) = issued("Appliance CA", &["er2-master.example"], 2020, 2021);
        let mut roots = RootCertStore::empty();
        roots.add(ca).unwrap();
        let v = ApplianceVerifier::new(roots, vec![], vec![]).unwrap();
        assert_eq!(
            verify(&v, &leaf, "er2-master.example").unwrap_err(),
            "invalid peer certificate: the appliance's certificate (CN=er2-master) expired on 2021-01-01T00:00:00Z"
        );
    }
}
