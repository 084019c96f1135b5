//! A target's connections kept between scrapes: an HTTPS appliance that
//! counts the connections it accepts sees one for a run of scrapes, or one
//! per scrape with `limits.max_idle_connections: 0` and after a reload.
//! The certificate series stay while no handshake happens, and a
//! certificate renewed on the appliance is reported, alone, once a
//! connection to it is opened (the appliance would resume the TLS session
//! of an earlier scrape, which shows no certificate).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use appliance_exporter::server::listen::{Transport, serve_router};
use appliance_exporter::simulator::enterprise_recon as er2;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::sync::oneshot;

use crate::common::{Exporter, Workdir, er2_config, series};

const PASSWORD: &str = "keep-alive-password";
const NOT_AFTER: &str = "appliance_exporter_upstream_tls_certificate_not_after_timestamp_seconds";

/// A self-signed certificate valid until 1 January of `until`, with its key.
fn certificate(until: i32) -> Arc<CertifiedKey> {
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params.not_after = rcgen::date_time_ymd(until, 1, 1);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    let provider = rustls::crypto::ring::default_provider();
    Arc::new(
        appliance_exporter::webconfig::tls::certified_key_from_pem(
            cert.pem().as_bytes(),
            key.serialize_pem().as_bytes(),
            &provider,
        )
        .unwrap(),
    )
}

/// The appliance's certificate, renewed in place: the server keeps its
/// TLS configuration and so its sessions, as a web server reloaded with a
/// new certificate may.
#[derive(Debug)]
struct Renewable(Mutex<Arc<CertifiedKey>>);

impl ResolvesServerCert for Renewable {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.lock().unwrap().clone())
    }
}

/// An ER2 master over HTTPS that counts the connections it accepts, whose
/// certificate can be renewed and which can close each connection after
/// its answer.
struct Appliance {
    url: String,
    accepted: Arc<AtomicUsize>,
    certificate: Arc<Renewable>,
    closing: Arc<AtomicBool>,
    _stop: oneshot::Sender<()>,
}

impl Appliance {
    async fn start(until: i32) -> Self {
        let accepted = Arc::new(AtomicUsize::new(0));
        let certificate = Arc::new(Renewable(Mutex::new(certificate(until))));
        let mut tls = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_cert_resolver(certificate.clone());
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let tls = Arc::new(tls);
        let closing = Arc::new(AtomicBool::new(false));
        let close = closing.clone();
        let router = er2::router(er2::Er2Config::new(
            er2::LicenseModel::NonSitewide,
            "apiuser",
            PASSWORD,
        ))
        .layer(middleware::from_fn(move |request: Request, next: Next| {
            let close = close.load(Ordering::SeqCst);
            async move {
                let mut response: Response = next.run(request).await;
                if close {
                    response.headers_mut().insert(
                        axum::http::header::CONNECTION,
                        axum::http::HeaderValue::from_static("close"),
                    );
                }
                response
            }
        }));
        let count = accepted.clone();
        let transport = Transport {
            // Asked once for each connection accepted.
            tls: Some(Arc::new(move || {
                count.fetch_add(1, Ordering::SeqCst);
                Some(tls.clone())
            })),
            http2: false,
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("https://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(serve_router(listener, router, transport, async {
            let _ = stopped.await;
        }));
        Self {
            url,
            accepted,
            certificate,
            closing,
            _stop: stop,
        }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    fn renew(&self, until: i32) {
        *self.certificate.0.lock().unwrap() = certificate(until);
    }
}

/// An exporter of the appliance (one collector, so one request at a time)
/// with `limits`.
async fn exporter(appliance: &Appliance, limits: &str) -> Exporter {
    let work = Workdir::new();
    let secret = work.write("er2.pass", PASSWORD);
    let yaml = er2_config(
        "apiuser",
        &secret,
        "er2_api",
        "    timeout: 10s\n    collectors: [licenses]\n    tls: {insecure_skip_verify: true}\n",
        &[("er2", appliance.url.clone())],
    ) + limits;
    Exporter::start_in(work, &yaml).await
}

/// One scrape of the appliance, which must succeed: the notAfter of each
/// certificate reported.
async fn scrape(exporter: &Exporter) -> Vec<i64> {
    let a = exporter.probe_up("er2", "er2_up").await;
    series(&a.body, &format!("{NOT_AFTER}{{target=\"er2\","))
        .iter()
        .map(|l| l.rsplit_once(' ').unwrap().1.parse().unwrap())
        .collect()
}

const Y2031: i64 = 1_924_992_000;
const Y2033: i64 = 1_988_150_400;

/// The connections the appliance had accepted after each of three
/// scrapes by an exporter with `limits`, each reporting the certificate.
async fn accepted_after_three_scrapes(limits: &str) -> Vec<usize> {
    let appliance = Appliance::start(2031).await;
    let exporter = exporter(&appliance, limits).await;
    let mut accepted = Vec::new();
    for scrape_no in 1..=3 {
        assert_eq!(scrape(&exporter).await, [Y2031], "scrape {scrape_no}");
        accepted.push(appliance.accepted());
    }
    accepted
}

#[tokio::test]
async fn scrapes_of_a_target_reuse_its_connection_and_still_report_the_certificate() {
    assert_eq!(accepted_after_three_scrapes("").await, [1, 1, 1]);
}

#[tokio::test]
async fn with_no_idle_connections_each_scrape_connects_anew() {
    let limits = "limits: {max_idle_connections: 0}\n";
    assert_eq!(accepted_after_three_scrapes(limits).await, [1, 2, 3]);
}

#[tokio::test]
async fn a_reload_does_not_reuse_a_client_of_the_old_configuration() {
    let appliance = Appliance::start(2031).await;
    let exporter = exporter(&appliance, "").await;
    scrape(&exporter).await;
    scrape(&exporter).await;
    assert_eq!(appliance.accepted(), 1);
    exporter.app.reload().await.unwrap();
    assert_eq!(scrape(&exporter).await, [Y2031]);
    assert_eq!(appliance.accepted(), 2);
    scrape(&exporter).await;
    assert_eq!(appliance.accepted(), 2);
}

#[tokio::test]
async fn a_renewed_certificate_is_reported_alone_once_a_connection_to_it_opens() {
    let appliance = Appliance::start(2031).await;
    let exporter = exporter(&appliance, "").await;
    assert_eq!(scrape(&exporter).await, [Y2031]);
    // Renewed on the appliance: the open connection still has the old
    // certificate, and is closed after its next answer.
    appliance.renew(2033);
    appliance.closing.store(true, Ordering::SeqCst);
    assert_eq!(scrape(&exporter).await, [Y2031]);
    assert_eq!(appliance.accepted(), 1);
    appliance.closing.store(false, Ordering::SeqCst);
    assert_eq!(scrape(&exporter).await, [Y2033]);
    assert_eq!(appliance.accepted(), 2);
    // The new connection is reused, and its certificate still reported.
    assert_eq!(scrape(&exporter).await, [Y2033]);
    assert_eq!(appliance.accepted(), 2);
}
