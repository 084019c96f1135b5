//! The certificate each appliance presented, for its expiry. The verifier
//! of rustls sees a server name, not a target, so each client gets a
//! [`Recorder`] of its own, given to its copy of the module's verifier
//! ([`super::verify::ApplianceVerifier::recording`]): every certificate the
//! target's handshakes present is kept before the verifier decides, so a
//! certificate is seen with `insecure_skip_verify` and also when it is
//! refused (an expired certificate fails every request, and its dates then
//! say why). Only the leaf is kept: it is the one that expires on the
//! appliance.
//!
//! A client may be kept for the target's next collections
//! ([`super::retain`]), whose requests then go over connections opened
//! earlier, with no handshake. So the record is of the latest collection
//! that made a handshake: a collection that made none reports the
//! certificates of the connections it reused (if they answered), and the
//! first handshake of a collection replaces what was recorded, so a
//! certificate renewed on the appliance is reported alone once a
//! connection to it is opened.

use std::sync::{Arc, Mutex, PoisonError};

use rustls::pki_types::CertificateDer;
use x509_parser::certificate::X509Certificate;

use super::verify::{fingerprint, sha256};
use crate::exposition::{Desc, Samples};

/// Distinct certificates kept per record: a collection talks to one
/// host, and a few are enough to show the members behind a load balancer
/// disagree; more would let an appliance grow the exposition at will.
pub const MAX_CERTIFICATES: usize = 4;

static NOT_AFTER: Desc = Desc::gauge(
    "appliance_exporter_upstream_tls_certificate_not_after_timestamp_seconds",
    "When the TLS certificate the appliance presented in this collection expires (its notAfter), whether or not it was verified",
);
static NOT_BEFORE: Desc = Desc::gauge(
    "appliance_exporter_upstream_tls_certificate_not_before_timestamp_seconds",
    "When the TLS certificate the appliance presented in this collection became valid (its notBefore), whether or not it was verified",
);

/// What is shown of one presented leaf certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presented {
    /// The subject's common name (the whole subject without one).
    pub subject: String,
    /// The issuer's common name (the whole issuer without one).
    pub issuer: String,
    /// notBefore, seconds since the epoch.
    pub not_before: i64,
    /// notAfter, seconds since the epoch.
    pub not_after: i64,
    /// SHA-256 of the DER, `AB:CD:…` as `tls.pinned_sha256` accepts it.
    pub sha256: String,
}

impl Presented {
    /// Reads a DER certificate; `None` when it does not parse (the
    /// handshake then fails with rustls' own words).
    #[cfg(test)]
    pub fn read(der: &CertificateDer<'_>) -> Option<Self> {
        let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).ok()?;
        Some(Self::of(&cert, der))
    }

    /// What is shown of `cert`, parsed from `der`.
    pub fn of(cert: &X509Certificate<'_>, der: &CertificateDer<'_>) -> Self {
        Self {
            subject: common_name(cert.subject()),
            issuer: common_name(cert.issuer()),
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
            sha256: fingerprint(&sha256(der)),
        }
    }
}

fn common_name(name: &x509_parser::x509::X509Name<'_>) -> String {
    name.iter_common_name()
        .find_map(|cn| cn.as_str().ok())
        .map_or_else(|| name.to_string(), str::to_owned)
}

/// The series of the certificates of one collection, in the order seen.
pub fn encode(certificates: &[Presented]) -> Samples {
    let mut samples = Samples::new();
    for c in certificates {
        let labels = [
            ("subject", c.subject.as_str()),
            ("issuer", c.issuer.as_str()),
            ("sha256", c.sha256.as_str()),
        ];
        samples.push(&NOT_AFTER, &labels, c.not_after);
        samples.push(&NOT_BEFORE, &labels, c.not_before);
    }
    samples
}

/// The distinct certificates the handshakes of a client's latest
/// collection that made any presented; clones share the record.
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    record: Arc<Mutex<Record>>,
}

#[derive(Debug, Default)]
struct Record {
    /// The certificates, in the order seen.
    seen: Vec<Presented>,
    /// Whether a collection began since the last handshake: the next
    /// certificate replaces those seen.
    replace: bool,
}

impl Recorder {
    /// An empty record.
    pub fn new() -> Self {
        Self::default()
    }

    /// A collection begins with this client: what it records replaces
    /// what earlier ones did, and until it records anything their
    /// certificates stand (its requests reuse their connections).
    pub fn begin_collection(&self) {
        self.lock().replace = true;
    }

    /// Whether `other` is this record (a clone of it).
    #[cfg(test)]
    pub fn is(&self, other: &Recorder) -> bool {
        Arc::ptr_eq(&self.record, &other.record)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Record> {
        // A panic elsewhere while holding the lock leaves a usable list.
        self.record.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keeps `der` unless it does not parse, was seen already or the
    /// record is full.
    #[cfg(test)]
    pub fn record(&self, der: &CertificateDer<'_>) {
        if let Some(presented) = Presented::read(der) {
            self.keep(presented);
        }
    }

    /// Keeps `presented` unless it was seen already or the record is
    /// full; the first of a collection replaces what was seen before.
    pub fn keep(&self, presented: Presented) {
        let mut record = self.lock();
        if std::mem::take(&mut record.replace) {
            record.seen.clear();
        }
        let seen = &mut record.seen;
        if seen.len() < MAX_CERTIFICATES && !seen.iter().any(|s| s.sha256 == presented.sha256) {
            seen.push(presented);
        }
    }

    /// What was recorded so far.
    #[cfg(test)]
    pub fn certificates(&self) -> Vec<Presented> {
        self.lock().seen.clone()
    }

    /// What the collection in progress reports: the certificates its
    /// handshakes presented or, when it made none, those of the earlier
    /// connections it reused if the appliance `answered` on them (an
    /// appliance gone since shows none, as when its connections were new).
    pub fn reported(&self, answered: bool) -> Vec<Presented> {
        let record = self.lock();
        if record.replace && !answered {
            return Vec::new();
        }
        record.seen.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upstream::verify::ApplianceVerifier;
    use rcgen::{CertificateParams, DnType, KeyPair};
    use rustls::client::danger::ServerCertVerifier;
    use rustls::pki_types::{ServerName, UnixTime};

    /// A certificate for `cn` issued by `issuer_cn` (self-signed when they
    /// are equal), valid from `from` to `until` (years, 1 January).
    fn certificate(cn: &str, issuer_cn: &str, from: i32, until: i32) -> CertificateDer<'static> {
        let mut params = CertificateParams::new(vec!["appliance.example".to_owned()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        params.not_before = rcgen::date_time_ymd(from, 1, 1);
        params.not_after = rcgen::date_time_ymd(until, 1, 1);
        let key = KeyPair::generate().unwrap();
        if cn == issuer_cn {
            return params.self_signed(&key).unwrap().der().clone();
        }
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.distinguished_name.push(DnType::CommonName, issuer_cn);
        let issuer = rcgen::Issuer::new(ca, KeyPair::generate().unwrap());
        params.signed_by(&key, &issuer).unwrap().der().clone()
    }

    #[test]
    fn a_certificate_reads_as_its_names_dates_and_fingerprint() {
        let der = certificate("er2-master", "Appliance CA", 2024, 2031);
        assert_eq!(
            Presented::read(&der),
            Some(Presented {
                subject: "er2-master".into(),
                issuer: "Appliance CA".into(),
                not_before: 1_704_067_200,
                not_after: 1_924_992_000,
                sha256: fingerprint(&sha256(&der)),
            })
        );
        assert_eq!(
            Presented::read(&CertificateDer::from(vec![0x30, 0x00])),
            None
        );
    }

    #[test]
    fn a_name_without_common_name_is_shown_whole() {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::OrganizationName, "Appliance Vendor");
        let key = KeyPair::generate().unwrap();
        let der = params.self_signed(&key).unwrap().der().clone();
        let read = Presented::read(&der).unwrap();
        assert_eq!(read.subject, "O=Appliance Vendor");
        assert_eq!(read.issuer, "O=Appliance Vendor");
    }

    #[test]
    fn the_record_keeps_each_certificate_once_and_at_most_the_cap() {
        let recorder = Recorder::new();
        let first = certificate("vpn-1", "vpn-1", 2024, 2031);
        recorder.record(&first);
        recorder.record(&first);
        recorder.record(&CertificateDer::from(vec![0x30, 0x00]));
        assert_eq!(recorder.certificates().len(), 1);
        for i in 0..MAX_CERTIFICATES + 2 {
            recorder.record(&certificate(&format!("vpn-{i}"), "CA", 2024, 2031));
        }
        let kept = recorder.certificates();
        assert_eq!(kept.len(), MAX_CERTIFICATES);
        assert_eq!(kept[0].subject, "vpn-1");
        assert_eq!(kept[1].subject, "vpn-0");
    }

    #[test]
    fn a_collection_without_handshake_keeps_the_record_and_one_with_replaces_it() {
        let recorder = Recorder::new();
        let (old, renewed) = (
            certificate("vpn", "vpn", 2024, 2027),
            certificate("vpn", "vpn", 2026, 2029),
        );
        recorder.begin_collection();
        recorder.record(&old);
        let not_after = |r: &Recorder| {
            r.certificates()
                .iter()
                .map(|c| c.not_after)
                .collect::<Vec<_>>()
        };
        assert_eq!(not_after(&recorder), [1_798_761_600]);
        assert_eq!(recorder.reported(false).len(), 1);
        // The next collection reuses the connection: no handshake.
        recorder.begin_collection();
        assert_eq!(not_after(&recorder), [1_798_761_600]);
        assert_eq!(recorder.reported(true).len(), 1);
        // Without an answer, the appliance is gone: nothing to report.
        assert!(recorder.reported(false).is_empty());
        // The one after opens a connection to the renewed certificate,
        // then another to a member that still has the old one.
        recorder.begin_collection();
        recorder.record(&renewed);
        assert_eq!(not_after(&recorder), [1_861_920_000]);
        recorder.record(&old);
        assert_eq!(not_after(&recorder), [1_861_920_000, 1_798_761_600]);
        // Within a collection, seen again changes nothing.
        recorder.record(&renewed);
        assert_eq!(recorder.certificates().len(), 2);
        let clone = recorder.clone();
        assert!(clone.is(&recorder) && !Recorder::new().is(&recorder));
    }

    fn verify(verifier: &ApplianceVerifier, der: &CertificateDer<'_>) -> Result<(), rustls::Error> {
        let name = ServerName::try_from("appliance.example").unwrap();
        verifier
            .verify_server_cert(der, &[], &name, &[], UnixTime::now())
            .map(|_| ())
    }

    #[test]
    fn the_certificate_is_recorded_whether_skipped_accepted_or_refused() {
        let expired = certificate("er2-master", "er2-master", 2020, 2021);
        let current = certificate("er2-master", "er2-master", 2020, 2090);
        let recorder = Recorder::new();
        let skip = ApplianceVerifier::accept_any().recording(recorder.clone());
        assert!(verify(&skip, &expired).is_ok());
        let listed = ApplianceVerifier::new(
            rustls::RootCertStore::empty(),
            vec![],
            vec![sha256(&expired), sha256(&current)],
        )
        .unwrap();
        let pinned = listed.recording(recorder.clone());
        assert!(verify(&pinned, &current).is_ok());
        let other = Recorder::new();
        let refusing = ApplianceVerifier::new(
            rustls::RootCertStore::empty(),
            vec![],
            vec![sha256(&expired)],
        )
        .unwrap()
        .recording(other.clone());
        assert!(verify(&refusing, &expired).is_err());
        let dates = |r: &Recorder| {
            r.certificates()
                .iter()
                .map(|c| (c.not_before, c.not_after))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            dates(&recorder),
            [
                (1_577_836_800, 1_609_459_200),
                (1_577_836_800, 3_786_912_000)
            ]
        );
        assert_eq!(dates(&other), [(1_577_836_800, 1_609_459_200)]);
    }

    #[test]
    fn each_certificate_is_two_series_labelled_with_its_names_and_fingerprint() {
        let c = Presented {
            subject: "vpn.example".into(),
            issuer: "Example CA".into(),
            not_before: 1_704_067_200,
            not_after: 1_924_992_000,
            sha256: "AB:CD".into(),
        };
        let samples = encode(std::slice::from_ref(&c));
        let shown: Vec<String> = samples
            .series
            .iter()
            .map(|s| format!("{} {:?} {:?}", s.desc.name, s.labels, s.value))
            .collect();
        let labels =
            r#"[("subject", "vpn.example"), ("issuer", "Example CA"), ("sha256", "AB:CD")]"#;
        assert_eq!(
            shown,
            [
                format!(
                    "appliance_exporter_upstream_tls_certificate_not_after_timestamp_seconds {labels} Int(1924992000)"
                ),
                format!(
                    "appliance_exporter_upstream_tls_certificate_not_before_timestamp_seconds {labels} Int(1704067200)"
                ),
            ]
        );
        assert!(encode(&[]).series.is_empty());
    }
}
