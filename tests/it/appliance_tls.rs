//! Appliances' own certificates: a self-signed `CA:TRUE` certificate (the
//! usual kind) trusted through `tls.ca_file` is accepted as the exact
//! certificate the appliance presents, so no `insecure_skip_verify` is
//! needed; the same appliance with a different self-signed certificate
//! fails with a message that says so and gives its fingerprint, which
//! `tls.pinned_sha256` then accepts.

use appliance_exporter::simulator::{self, connect_secure as ics, enterprise_recon as er2};
use appliance_exporter::upstream::verify::{fingerprint, sha256};

use crate::common::{Exporter, Workdir, series, value};

/// A self-signed certificate marked CA:TRUE for a name the target URL
/// (an address) does not use, as appliances ship them: (cert, key, DER).
fn appliance_certificate() -> (String, String, rustls_pki_types::CertificateDer<'static>) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let mut params = CertificateParams::new(vec!["appliance.example".to_owned()]).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "appliance.example");
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem(), cert.der().clone())
}

const ER2_PASSWORD: &str = "er2-tls-password";
const ICS_PASSWORD: &str = "ics-tls-password";

/// ER2 and ICS appliances over HTTPS with their own certificates.
struct Appliances {
    er2: simulator::Running,
    ics: simulator::Running,
    _ics_sim: std::sync::Arc<ics::IcsSim>,
}

async fn appliances(er2_cert: &(String, String), ics_cert: &(String, String)) -> Appliances {
    let er2 = simulator::start_tls(
        er2::router(er2::Er2Config::new(
            er2::LicenseModel::NonSitewide,
            "apiuser",
            ER2_PASSWORD,
        )),
        &er2_cert.0,
        &er2_cert.1,
    )
    .await
    .unwrap();
    let ics_sim = ics::IcsSim::new(ics::IcsConfig::with_realm_auth(ics::Admin {
        username: "admin1".into(),
        password: ICS_PASSWORD.into(),
        realm: "Admin Users".into(),
    }));
    let ics = simulator::start_tls(ics_sim.router(), &ics_cert.0, &ics_cert.1)
        .await
        .unwrap();
    Appliances {
        er2,
        ics,
        _ics_sim: ics_sim,
    }
}

fn config(work: &Workdir, tls: &str, a: &Appliances) -> String {
    format!(
        "auths:\n  er2_api: {{username: apiuser, password_file: {}}}\n  \
         ics_admin: {{username: admin1, password_file: {}, realm: Admin Users}}\n\
         modules:\n  er2: {{kind: enterprise_recon, auth: er2_api, timeout: 10s, tls: {tls}}}\n  \
         ics: {{kind: connect_secure, auth: ics_admin, timeout: 10s, tls: {tls}}}\n\
         targets:\n  - {{name: er2, url: \"{}\", module: er2}}\n  - {{name: vpn, url: \"{}\", module: ics}}\n",
        work.write("er2.pass", ER2_PASSWORD).display(),
        work.write("ics.pass", ICS_PASSWORD).display(),
        a.er2.url(),
        a.ics.url(),
    )
}

/// An exporter of both appliances with the modules' `tls` set to `tls`
/// (which may name files in `work`), and its first `/metrics`.
async fn scrape(work: Workdir, tls: &str, a: &Appliances) -> (Exporter, String) {
    let yaml = config(&work, tls, a);
    assert!(tls.contains("insecure_skip_verify") || !yaml.contains("insecure_skip_verify"));
    let exporter = Exporter::start_in(work, &yaml).await;
    let m = exporter.metrics().await;
    (exporter, m)
}

/// Every collector of `target` has the value `expected`.
fn all_collectors(m: &str, target: &str, expected: &str) -> bool {
    let lines = series(
        m,
        &format!("appliance_exporter_collector_success{{target=\"{target}\","),
    );
    !lines.is_empty() && lines.iter().all(|l| l.ends_with(&format!(" {expected}")))
}

#[tokio::test]
async fn a_self_signed_ca_certificate_in_ca_file_is_trusted_as_the_exact_leaf() {
    let (er2_pem, er2_key, _) = appliance_certificate();
    let (ics_pem, ics_key, _) = appliance_certificate();
    let a = appliances(&(er2_pem.clone(), er2_key), &(ics_pem.clone(), ics_key)).await;
    let work = Workdir::new();
    let ca_file = work.write("appliances.pem", &format!("{er2_pem}{ics_pem}"));
    let (_exporter, m) = scrape(work, &format!("{{ca_file: {}}}", ca_file.display()), &a).await;
    assert_eq!(value(&m, "er2_up{target=\"er2\"}"), Some(1.0), "{m}");
    assert_eq!(value(&m, "ics_up{target=\"vpn\"}"), Some(1.0), "{m}");
    assert!(all_collectors(&m, "er2", "1"), "{m}");
    assert!(all_collectors(&m, "vpn", "1"), "{m}");
}

#[tokio::test]
async fn another_self_signed_certificate_fails_clearly_and_its_pin_is_accepted() {
    let (listed_pem, _, _) = appliance_certificate();
    let (er2_pem, er2_key, er2_der) = appliance_certificate();
    let (ics_pem, ics_key, ics_der) = appliance_certificate();
    let a = appliances(&(er2_pem, er2_key), &(ics_pem, ics_key)).await;
    let work = Workdir::new();
    let ca_file = work.write("appliances.pem", &listed_pem);
    let (exporter, m) = scrape(work, &format!("{{ca_file: {}}}", ca_file.display()), &a).await;
    assert!(all_collectors(&m, "er2", "0"), "{m}");
    assert!(all_collectors(&m, "vpn", "0"), "{m}");
    let last = exporter.app.last_scrapes();
    for (target, der) in [("er2", &er2_der), ("vpn", &ics_der)] {
        let expected = format!(
            "request failed: client error (Connect): invalid peer certificate: the appliance's certificate (CN=appliance.example) is self-signed and not listed in tls.ca_file or tls.pinned_sha256 (its SHA-256 is {})",
            fingerprint(&sha256(der))
        );
        let failures = &last[target].failures;
        assert!(
            !failures.is_empty() && failures.iter().all(|f| f.ends_with(&expected)),
            "{target}: {failures:?}"
        );
    }
    // The fingerprints the message gave, pinned, are accepted.
    let work = Workdir::new();
    let pins = format!(
        "{{pinned_sha256: [\"{}\", \"{}\"]}}",
        fingerprint(&sha256(&er2_der)),
        fingerprint(&sha256(&ics_der))
    );
    let (_exporter, m) = scrape(work, &pins, &a).await;
    assert!(all_collectors(&m, "er2", "1"), "{m}");
    assert!(all_collectors(&m, "vpn", "1"), "{m}");
}

#[tokio::test]
async fn insecure_skip_verify_still_accepts_any_certificate() {
    let (er2_pem, er2_key, _) = appliance_certificate();
    let (ics_pem, ics_key, _) = appliance_certificate();
    let a = appliances(&(er2_pem, er2_key), &(ics_pem, ics_key)).await;
    let (_exporter, m) = scrape(Workdir::new(), "{insecure_skip_verify: true}", &a).await;
    assert!(all_collectors(&m, "er2", "1"), "{m}");
    assert!(all_collectors(&m, "vpn", "1"), "{m}");
}
