//! The exporter's own endpoint: TLS (versions, client certificates,
//! certificate renewal), basic authentication on every endpoint, headers,
//! the web configuration checked against `promtool check web-config`, and
//! no secret anywhere a person or a scraper could read it.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use appliance_exporter::config::Config;
use appliance_exporter::simulator::{self, enterprise_recon as er2};
use appliance_exporter::webconfig::WebConfig;
use base64::Engine as _;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use crate::common::{Binary, Ca, Exporter, Workdir, er2_simulator, tool, value};

const USER: &str = "apiuser";
const PASSWORD: &str = "Appliance-Pa55word-7f3c";
const SCRAPER: &str = "prometheus";
const SCRAPER_PASSWORD: &str = "Scraper-Pa55word-91ab";

async fn appliance() -> simulator::Running {
    er2_simulator(er2::LicenseModel::NonSitewide, USER, PASSWORD, None).await
}

fn exporter_yaml(work: &Workdir, url: &str) -> String {
    let secret = work.write("er2.pass", PASSWORD);
    format!(
        "auths:\n  er2_api: {{username: {USER}, password_file: {}}}\n\
         modules:\n  er2: {{kind: enterprise_recon, auth: er2_api, timeout: 5s}}\n\
         targets:\n  - {{name: er2, url: \"{url}\", module: er2}}\n",
        secret.display()
    )
}

/// The server's TLS files written into `work`, and the web config text.
fn tls_files(work: &Workdir, ca: &Ca, extra: &str) -> String {
    let (cert, key) = ca.issue("exporter");
    work.write("server.pem", &cert);
    work.write("server.key", &key);
    format!("tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n{extra}")
}

fn load_web(work: &Workdir, text: &str) -> WebConfig {
    let path = work.write("web.yml", text);
    WebConfig::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

async fn start(
    web: &str,
    extra_work: impl FnOnce(&Workdir) -> String,
) -> (Exporter, simulator::Running) {
    let sim = appliance().await;
    let work = Workdir::new();
    let yaml = exporter_yaml(&work, &sim.url());
    let web_text = format!("{}{web}", extra_work(&work));
    let web = load_web(&work, &web_text);
    (Exporter::start_web(work, &yaml, Some(web)).await, sim)
}

fn client_config(ca_pem: &str, identity: Option<&(String, String)>) -> rustls::ClientConfig {
    appliance_exporter::install_crypto_provider();
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let builder = rustls::ClientConfig::builder().with_root_certificates(roots);
    match identity {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            let chain = CertificateDer::pem_slice_iter(cert.as_bytes())
                .map(Result::unwrap)
                .collect();
            let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap();
            builder.with_client_auth_cert(chain, key).unwrap()
        }
    }
}

fn https_client(ca_pem: &str, identity: Option<&(String, String)>) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_backend_preconfigured(client_config(ca_pem, identity))
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Status and body, or the error chain.
async fn fetch(client: &reqwest::Client, url: &str) -> Result<(u16, String), String> {
    match client.get(url).send().await {
        Ok(r) => Ok((r.status().as_u16(), r.text().await.unwrap_or_default())),
        Err(e) => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                text.push_str(&format!(": {s}"));
                source = s.source();
            }
            Err(text)
        }
    }
}

/// The TLS version a handshake with `config` ends on, or the error.
async fn negotiate(
    addr: &str,
    config: rustls::ClientConfig,
) -> Result<rustls::ProtocolVersion, String> {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let name = ServerName::try_from("localhost").unwrap();
    let tls = connector
        .connect(name, stream)
        .await
        .map_err(|e| e.to_string())?;
    Ok(tls.get_ref().1.protocol_version().unwrap())
}

/// Asserts that `client` gets a 200 from `url`.
async fn assert_ok(client: &reqwest::Client, url: &str) {
    let (status, body) = fetch(client, url).await.unwrap();
    assert_eq!(status, 200, "{url}: {body}");
}

/// Asserts that `client` cannot reach `url`, for `reason`.
async fn assert_refused(client: &reqwest::Client, url: &str, reason: &str) {
    let err = fetch(client, url).await.unwrap_err();
    assert!(err.contains(reason), "{url}: expected {reason:?} in {err}");
}

/// What a client offering HTTP/2 and HTTP/1.1 by ALPN gets: the protocol
/// agreed, and the first bytes the server answers an HTTP/2 connection
/// preface with (empty when it closes the connection).
async fn alpn_and_h2_answer(addr: &str, ca_pem: &str) -> (Option<String>, Vec<u8>) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut config = client_config(ca_pem, None);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let name = ServerName::try_from("localhost").unwrap();
    let mut tls = connector.connect(name, stream).await.unwrap();
    let alpn = tls.get_ref().1.alpn_protocol();
    let alpn = alpn.map(|p| String::from_utf8_lossy(p).into_owned());
    tls.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .await
        .unwrap();
    let mut answer = vec![0u8; 12];
    let n = tls.read(&mut answer).await.unwrap_or(0);
    answer.truncate(n);
    (alpn, answer)
}

fn addr_of(url: &str) -> &str {
    url.trim_start_matches("https://")
        .trim_start_matches("http://")
}

#[tokio::test]
async fn tls_serves_https_only_to_clients_that_trust_it() {
    let ca = Ca::new("exporter CA");
    let (exporter, _sim) = start("", |w| tls_files(w, &ca, "")).await;
    assert!(exporter.url.starts_with("https://"));
    let (status, body) = fetch(
        &https_client(&ca.pem, None),
        &format!("{}/metrics", exporter.url),
    )
    .await
    .unwrap();
    assert_eq!(status, 200);
    assert_eq!(value(&body, "er2_up{target=\"er2\"}"), Some(1.0), "{body}");
    let other = Ca::new("other CA");
    let err = fetch(
        &https_client(&other.pem, None),
        &format!("{}/metrics", exporter.url),
    )
    .await
    .unwrap_err();
    assert!(err.contains("UnknownIssuer"), "{err}");
    let plain = exporter.url.replace("https://", "http://");
    let err = fetch(&crate::common::client(), &format!("{plain}/metrics"))
        .await
        .unwrap_err();
    // The server answered in TLS, which is no HTTP.
    assert!(
        err.contains("invalid HTTP version parsed"),
        "plain HTTP: {err}"
    );
}

#[tokio::test]
async fn tls_versions_follow_the_configuration_with_tls12_as_the_floor() {
    let ca = Ca::new("exporter CA");
    let tls12_only = |ca: &Ca| {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(ca.pem.as_bytes()).unwrap())
            .unwrap();
        rustls::ClientConfig::builder_with_protocol_versions(&[&rustls::version::TLS12])
            .with_root_certificates(roots)
            .with_no_client_auth()
    };
    // Defaults: TLS 1.3 preferred, TLS 1.2 accepted.
    let (exporter, _sim) = start("", |w| tls_files(w, &ca, "")).await;
    let addr = addr_of(&exporter.url).to_owned();
    assert_eq!(
        negotiate(&addr, client_config(&ca.pem, None)).await,
        Ok(rustls::ProtocolVersion::TLSv1_3)
    );
    assert_eq!(
        negotiate(&addr, tls12_only(&ca)).await,
        Ok(rustls::ProtocolVersion::TLSv1_2)
    );
    // min_version TLS13 refuses a TLS 1.2 client.
    let (exporter, _sim) = start("", |w| tls_files(w, &ca, "  min_version: TLS13\n")).await;
    let addr = addr_of(&exporter.url).to_owned();
    let err = negotiate(&addr, tls12_only(&ca)).await.unwrap_err();
    assert!(
        err.contains("received fatal alert: ProtocolVersion"),
        "{err}"
    );
    // max_version TLS12 speaks 1.2 to a client that prefers 1.3.
    let (exporter, _sim) = start("", |w| tls_files(w, &ca, "  max_version: TLS12\n")).await;
    let addr = addr_of(&exporter.url).to_owned();
    assert_eq!(
        negotiate(&addr, client_config(&ca.pem, None)).await,
        Ok(rustls::ProtocolVersion::TLSv1_2)
    );
    // min_version TLS10 is accepted (as by promtool), but TLS 1.1 is still refused.
    let (exporter, _sim) = start("", |w| tls_files(w, &ca, "  min_version: TLS10\n")).await;
    if let Some(openssl) = tool("openssl") {
        // Off the test's thread, which also runs the exporter.
        let addr = addr_of(&exporter.url).to_owned();
        let out = tokio::task::spawn_blocking(move || {
            Command::new(openssl)
                .args([
                    "s_client",
                    "-connect",
                    &addr,
                    "-tls1_1",
                    "-cipher",
                    "DEFAULT:@SECLEVEL=0",
                ])
                .stdin(std::process::Stdio::null())
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.status.success(), "{text}");
        assert!(
            text.contains("SSL alert number"),
            "the server, not the client, refused TLS 1.1: {text}"
        );
    }
}

#[tokio::test]
async fn client_certificates_are_required_and_verified() {
    let server_ca = Ca::new("exporter CA");
    let client_ca = Ca::new("scraper CA");
    let stranger_ca = Ca::new("stranger CA");
    let client_ca_pem = client_ca.pem.clone();
    let (exporter, _sim) = start("", |w| {
        w.write("clients.pem", &client_ca_pem);
        tls_files(
            w,
            &server_ca,
            "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: clients.pem\n",
        )
    })
    .await;
    let url = format!("{}/-/healthy", exporter.url);
    let scraper = client_ca.issue("prometheus");
    assert_ok(&https_client(&server_ca.pem, Some(&scraper)), &url).await;
    assert_refused(
        &https_client(&server_ca.pem, None),
        &url,
        "received fatal alert: CertificateRequired",
    )
    .await;
    let stranger = stranger_ca.issue("prometheus");
    assert_refused(
        &https_client(&server_ca.pem, Some(&stranger)),
        &url,
        "received fatal alert: UnknownCA",
    )
    .await;
}

#[tokio::test]
async fn request_client_cert_asks_for_a_certificate_verifies_none_and_warns() {
    let server_ca = Ca::new("exporter CA");
    let stranger_ca = Ca::new("stranger CA");
    let work = Workdir::new();
    let text = tls_files(&work, &server_ca, "  client_auth_type: RequestClientCert\n");
    let web = load_web(&work, &text);
    assert_eq!(
        web.warnings,
        [
            "tls_server_config.client_auth_type RequestClientCert: client certificates are not verified; use RequireAndVerifyClientCert"
        ]
    );
    let (exporter, _sim) = start("", |w| {
        tls_files(w, &server_ca, "  client_auth_type: RequestClientCert\n")
    })
    .await;
    let url = format!("{}/-/healthy", exporter.url);
    let stranger = stranger_ca.issue("anyone");
    for identity in [None, Some(&stranger)] {
        let (status, _) = fetch(&https_client(&server_ca.pem, identity), &url)
            .await
            .unwrap();
        assert_eq!(status, 200, "with a certificate: {}", identity.is_some());
    }
}

#[tokio::test]
async fn http2_is_offered_over_tls_unless_switched_off() {
    let ca = Ca::new("exporter CA");
    let (exporter, _sim) = start("", |w| tls_files(w, &ca, "")).await;
    // An HTTP/2 server answers the preface with a SETTINGS frame (type 4
    // in the fourth byte of the frame header).
    let (alpn, answer) = alpn_and_h2_answer(addr_of(&exporter.url), &ca.pem).await;
    assert_eq!(alpn.as_deref(), Some("h2"));
    assert_eq!(answer.get(3), Some(&4), "{answer:?}");
    let off = "http_server_config:\n  http2: false\n";
    let (exporter, _sim) = start(off, |w| tls_files(w, &ca, "")).await;
    let (alpn, answer) = alpn_and_h2_answer(addr_of(&exporter.url), &ca.pem).await;
    assert_eq!(alpn.as_deref(), Some("http/1.1"));
    assert!(
        answer.is_empty() || answer.starts_with(b"HTTP/1.1 4"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
}

#[tokio::test]
async fn a_renewed_certificate_is_served_without_a_restart() {
    let old_ca = Ca::new("old CA");
    let new_ca = Ca::new("new CA");
    let (exporter, _sim) = start("", |w| tls_files(w, &old_ca, "")).await;
    let url = format!("{}/-/healthy", exporter.url);
    assert_ok(&https_client(&old_ca.pem, None), &url).await;
    let (cert, key) = new_ca.issue("exporter");
    // Key first, then certificate, as a renewal tool would.
    exporter.work.write("server.key", &key);
    exporter.work.write("server.pem", &cert);
    // Fresh clients: each makes a new connection, so a new handshake.
    assert_ok(&https_client(&new_ca.pem, None), &url).await;
    assert_refused(&https_client(&old_ca.pem, None), &url, "UnknownIssuer").await;
    // A broken renewal keeps the last good certificate.
    exporter.work.write("server.pem", "not a certificate");
    assert_ok(&https_client(&new_ca.pem, None), &url).await;
}

fn basic(user: &str, password: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

fn users_yaml() -> String {
    let hash = bcrypt::hash(SCRAPER_PASSWORD, 4).unwrap();
    format!("basic_auth_users:\n  {SCRAPER}: {hash}\n")
}

#[tokio::test]
async fn basic_auth_guards_every_endpoint() {
    let headers = "http_server_config:\n  headers:\n    X-Frame-Options: deny\n    X-Content-Type-Options: nosniff\n";
    let (exporter, _sim) = start(&format!("{}{headers}", users_yaml()), |_| String::new()).await;
    let client = crate::common::client();
    let endpoints = [
        ("GET", "/", 200),
        ("GET", "/metrics", 200),
        ("GET", "/probe?target=er2", 200),
        ("GET", "/probe", 400),
        ("GET", "/-/healthy", 200),
        ("GET", "/-/ready", 200),
        ("POST", "/-/reload", 200),
        ("GET", "/nope", 404),
    ];
    let wrong = [
        None,
        Some(basic(SCRAPER, "wrong")),
        Some(basic("mallory", SCRAPER_PASSWORD)),
        Some(basic("", "")),
        Some("Bearer token".to_owned()),
        Some(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(SCRAPER)
        )),
    ];
    for (method, path, allowed) in endpoints {
        let url = format!("{}{path}", exporter.url);
        let method: reqwest::Method = method.parse().unwrap();
        for credentials in &wrong {
            let mut req = client.request(method.clone(), &url);
            if let Some(c) = credentials {
                req = req.header("Authorization", c);
            }
            let resp = req.send().await.unwrap();
            assert_eq!(
                resp.status().as_u16(),
                401,
                "{method} {path} with {credentials:?}"
            );
            assert_eq!(
                resp.headers()
                    .get("www-authenticate")
                    .map(|v| v.to_str().unwrap()),
                Some("Basic realm=\"appliance_exporter\"")
            );
            assert_eq!(
                resp.headers()
                    .get("x-frame-options")
                    .map(|v| v.to_str().unwrap()),
                Some("deny")
            );
            let body = resp.text().await.unwrap();
            assert!(!body.contains("er2_"), "{path}: {body}");
        }
        let resp = client
            .request(method.clone(), &url)
            .header("Authorization", basic(SCRAPER, SCRAPER_PASSWORD))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), allowed, "{method} {path}");
        assert_eq!(
            resp.headers()
                .get("x-content-type-options")
                .map(|v| v.to_str().unwrap()),
            Some("nosniff")
        );
    }
}

/// One web configuration file of the matrix: its text, whether promtool
/// accepts it, and what the exporter says (`None`: accepts it too).
struct Case {
    name: &'static str,
    text: String,
    promtool_accepts: bool,
    exporter_refuses_with: Option<&'static str>,
    /// A setting of a newer exporter-toolkit than Debian 12's promtool
    /// (2.42): refused here and by that promtool, accepted by newer ones,
    /// so promtool's verdict is not compared.
    newer_toolkit: bool,
}

fn case(name: &'static str, text: impl Into<String>, promtool_accepts: bool) -> Case {
    Case {
        name,
        text: text.into(),
        promtool_accepts,
        exporter_refuses_with: None,
        newer_toolkit: false,
    }
}

/// A setting only newer exporter-toolkits know; refused here.
fn newer_toolkit(name: &'static str, text: impl Into<String>) -> Case {
    Case {
        newer_toolkit: true,
        ..case(name, text, false)
    }
}

#[test]
fn web_config_matrix_agrees_with_promtool() {
    let work = Workdir::new();
    let ca = Ca::new("matrix CA");
    let (cert, key) = ca.issue("exporter");
    work.write("cert.pem", &cert);
    work.write("key.pem", &key);
    work.write("ca.pem", &ca.pem);
    let tls = "tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n";
    let hash = "$2y$10$X0h1gDsPszWURQaxFh.zoubFi6DXncSjhoQNJgRrnGs7EsimhC7zG";
    let mut cases = vec![
        case("empty", "", true),
        case("comments only", "# nothing yet\n", true),
        case("tls", tls, true),
        case(
            "tls section without files",
            "tls_server_config:\n  min_version: TLS12\n",
            true,
        ),
        case(
            "tls with every setting",
            format!(
                "{tls}  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.pem\n  min_version: TLS12\n  max_version: TLS13\n  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384]\n  prefer_server_cipher_suites: false\n  curve_preferences: [X25519, CurveP256, CurveP384]\n"
            ),
            true,
        ),
        case(
            "client certs verified against system roots",
            format!("{tls}  client_auth_type: RequireAndVerifyClientCert\n"),
            true,
        ),
        case(
            "verify client certs if given",
            format!("{tls}  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: ca.pem\n"),
            true,
        ),
        case(
            "any client cert (old name)",
            format!("{tls}  client_auth_type: RequireClientCert\n"),
            true,
        ),
        case(
            "min_version TLS10",
            format!("{tls}  min_version: TLS10\n"),
            true,
        ),
        case(
            "a TLS 1.3 suite listed",
            format!("{tls}  cipher_suites: [TLS_AES_128_GCM_SHA256]\n"),
            true,
        ),
        case(
            "users",
            format!(
                "basic_auth_users:\n  alice: {hash}\n  bob: {}\n",
                hash.replace("$2y$", "$2b$")
            ),
            true,
        ),
        case(
            "an empty user name",
            format!("basic_auth_users:\n  \"\": {hash}\n"),
            true,
        ),
        case(
            "headers",
            "http_server_config:\n  http2: false\n  headers:\n    Content-Security-Policy: \"default-src 'self'\"\n    X-Frame-Options: sameorigin\n    X-Content-Type-Options: nosniff\n    X-XSS-Protection: \"1; mode=block\"\n    Strict-Transport-Security: max-age=31536000\n",
            true,
        ),
        case(
            "unknown top-level key",
            "no_such_section:\n  interval: 1s\n",
            false,
        ),
        newer_toolkit("rate_limit", "rate_limit:\n  interval: 1s\n"),
        newer_toolkit(
            "inline certificate",
            "tls_server_config:\n  cert: x\n  key: y\n",
        ),
        newer_toolkit(
            "client_allowed_sans",
            format!("{tls}  client_allowed_sans: [a]\n"),
        ),
        case(
            "certificate without key",
            "tls_server_config:\n  cert_file: cert.pem\n",
            false,
        ),
        case(
            "key without certificate",
            "tls_server_config:\n  key_file: key.pem\n",
            false,
        ),
        case(
            "client CA alone",
            "tls_server_config:\n  client_ca_file: ca.pem\n",
            false,
        ),
        case(
            "missing certificate file",
            "tls_server_config:\n  cert_file: nope.pem\n  key_file: key.pem\n",
            false,
        ),
        case(
            "certificate as the key",
            "tls_server_config:\n  cert_file: cert.pem\n  key_file: cert.pem\n",
            false,
        ),
        case(
            "missing client CA file",
            format!(
                "{tls}  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: nope.pem\n"
            ),
            false,
        ),
        case(
            "client CA without client auth",
            format!("{tls}  client_ca_file: ca.pem\n"),
            false,
        ),
        case(
            "unknown client auth",
            format!("{tls}  client_auth_type: Sometimes\n"),
            false,
        ),
        case(
            "unknown TLS version",
            format!("{tls}  min_version: TLS14\n"),
            false,
        ),
        case(
            "unknown cipher suite",
            format!("{tls}  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n"),
            false,
        ),
        case(
            "unknown curve",
            format!("{tls}  curve_preferences: [Curve25519]\n"),
            false,
        ),
        case(
            "not a bcrypt hash",
            "basic_auth_users:\n  alice: secret\n",
            false,
        ),
        case(
            "bcrypt cost too low",
            format!(
                "basic_auth_users:\n  alice: {}\n",
                hash.replace("$10$", "$03$")
            ),
            false,
        ),
        case("empty hash", "basic_auth_users:\n  alice:\n", false),
        case(
            "duplicate user",
            format!("basic_auth_users:\n  alice: {hash}\n  alice: {hash}\n"),
            false,
        ),
        case(
            "header not allowed",
            "http_server_config:\n  headers:\n    X-Powered-By: rust\n",
            false,
        ),
        case(
            "header value not allowed",
            "http_server_config:\n  headers:\n    X-Frame-Options: allow\n",
            false,
        ),
        case(
            "http2 not a boolean",
            "http_server_config:\n  http2: maybe\n",
            false,
        ),
        case("not YAML", "tls_server_config: [1\n", false),
    ];
    // Accepted by promtool, refused here, each with the reason.
    let deviations: [(&'static str, String, &'static str); 5] = [
        (
            "CBC cipher suite",
            format!("{tls}  cipher_suites: [TLS_RSA_WITH_AES_128_CBC_SHA]\n"),
            "is not offered by this exporter",
        ),
        (
            "curve P-521",
            format!("{tls}  curve_preferences: [CurveP521]\n"),
            "curve CurveP521 is not offered",
        ),
        (
            "max_version TLS11",
            format!("{tls}  max_version: TLS11\n"),
            "TLS 1.0 and 1.1 are not offered",
        ),
        (
            "min above max",
            format!("{tls}  min_version: TLS13\n  max_version: TLS12\n"),
            "min_version is above max_version",
        ),
        (
            "client CA file without a certificate",
            format!(
                "{tls}  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: key.pem\n"
            ),
            "holds no CA certificate",
        ),
    ];
    for (name, text, why) in deviations {
        cases.push(Case {
            name,
            text,
            promtool_accepts: true,
            exporter_refuses_with: Some(why),
            newer_toolkit: false,
        });
    }
    let promtool = tool("promtool");
    for (i, c) in cases.iter().enumerate() {
        let path = work.write(&format!("web-{i}.yml"), &c.text);
        if let Some(promtool) = promtool.as_ref().filter(|_| !c.newer_toolkit) {
            let out = Command::new(promtool)
                .args(["check", "web-config"])
                .arg(&path)
                .output()
                .unwrap();
            assert_eq!(
                out.status.success(),
                c.promtool_accepts,
                "{}: promtool says {}{}",
                c.name,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let ours = WebConfig::load(&path);
        let expected_ok = c.promtool_accepts && c.exporter_refuses_with.is_none();
        match (ours, expected_ok) {
            (Ok(_), true) => {}
            (Err(e), false) => {
                let text = e.to_string();
                assert!(
                    text.starts_with(&path.display().to_string()),
                    "{}: {text}",
                    c.name
                );
                assert!(
                    !text.contains("$2y$10$X0h1"),
                    "{}: the hash is echoed: {text}",
                    c.name
                );
                if let Some(why) = c.exporter_refuses_with {
                    assert!(text.contains(why), "{}: {text}", c.name);
                }
            }
            (Ok(_), false) => panic!("{}: accepted, but should be refused", c.name),
            (Err(e), true) => panic!("{}: refused: {e}", c.name),
        }
    }
}

fn run(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_appliance_exporter"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn config_check_and_start_up_validate_the_web_config() {
    let sim = appliance().await;
    let work = Workdir::new();
    let config = work.write("config.yml", &exporter_yaml(&work, &sim.url()));
    let good = work.write("web.yml", &users_yaml());
    let bad = work.write(
        "bad-web.yml",
        "basic_auth_users:\n  alice: plaintext-password\n",
    );
    let config_arg = format!("--config.file={}", config.display());
    let (ok, out, err) = run(&[
        "--config.check",
        &config_arg,
        &format!("--web.config.file={}", good.display()),
    ]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("web configuration") && out.contains("basic auth users: 1"),
        "{out}"
    );
    assert!(!out.contains("$2"), "{out}");
    let (ok, out, err) = run(&[
        "--config.check",
        &config_arg,
        &format!("--web.config.file={}", bad.display()),
    ]);
    assert!(!ok, "{out}");
    assert!(
        err.contains(&format!(
            "{}:2:10: basic_auth_users.alice: not a bcrypt hash",
            bad.display()
        )),
        "{err}"
    );
    assert!(!err.contains("plaintext-password"), "{err}");
    // Serving refuses to start with it, with the same message.
    let (ok, _, err) = run(&[
        &config_arg,
        &format!("--web.config.file={}", bad.display()),
        "--web.listen-address=127.0.0.1:0",
    ]);
    assert!(!ok);
    assert!(
        err.contains("basic_auth_users.alice: not a bcrypt hash"),
        "{err}"
    );
}

/// Every place a secret could leak, for every auth kind, log level and log
/// format: the log, `/metrics`, `/probe` (and its error bodies), the
/// landing page, the reload error, `--config.check`, and `Debug`.
#[tokio::test]
async fn no_secret_reaches_a_log_an_endpoint_an_error_or_debug_output() {
    let sim = appliance().await;
    let work = Workdir::new();
    let wrong_password = "Wrong-Appliance-Pa55-c0de";
    let api_key = "ics-api-key-5d1e-never-shown";
    let admin_password = "Ics-Admin-Pa55-77aa";
    let env_password = "Env-Pa55word-from-environment";
    let yaml = format!(
        "auths:\n  wrong: {{username: {USER}, password_file: {}}}\n  key: {{api_key_file: {}}}\n  \
         admin: {{username: admin, password_file: {}, realm: Admin Users}}\n  env: {{username: {USER}, password_env: AE_TEST_PASSWORD}}\n\
         modules:\n  er2: {{kind: enterprise_recon, auth: wrong, timeout: 5s}}\n  \
         er2env: {{kind: enterprise_recon, auth: env, timeout: 5s}}\n  \
         ics: {{kind: connect_secure, auth: key, timeout: 5s}}\n  ics_admin: {{kind: connect_secure, auth: admin, timeout: 5s}}\n\
         targets:\n  - {{name: er2, url: \"{url}\", module: er2}}\n  - {{name: er2env, url: \"{url}\", module: er2env}}\n  \
         - {{name: vpn, url: \"{url}\", module: ics}}\n  - {{name: vpn-admin, url: \"{url}\", module: ics_admin}}\n",
        work.write("wrong.pass", wrong_password).display(),
        work.write("ics.key", api_key).display(),
        work.write("admin.pass", admin_password).display(),
        url = sim.url()
    );
    let config = work.write("config.yml", &yaml);
    let web = work.write("web.yml", &users_yaml());
    let secrets = [
        wrong_password,
        api_key,
        admin_password,
        env_password,
        SCRAPER_PASSWORD,
        PASSWORD,
    ];
    let encoded: Vec<String> = [
        (USER, wrong_password),
        (api_key, ""),
        ("admin", admin_password),
        (USER, env_password),
        (SCRAPER, SCRAPER_PASSWORD),
    ]
    .iter()
    .map(|(u, p)| base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}")))
    .collect();
    let check = |what: &str, text: &str| {
        for s in secrets
            .iter()
            .copied()
            .chain(encoded.iter().map(String::as_str))
        {
            assert!(!text.contains(s), "a secret appears in {what}:\n{text}");
        }
    };
    let auth = basic(SCRAPER, SCRAPER_PASSWORD);
    let client = crate::common::client();
    for level in ["debug", "info", "warn", "error"] {
        for format in ["logfmt", "json"] {
            std::fs::write(&config, &yaml).unwrap();
            let mut bin = Binary::start_on_free_port(
                &[
                    &format!("--config.file={}", config.display()),
                    &format!("--web.config.file={}", web.display()),
                    &format!("--log.level={level}"),
                    &format!("--log.format={format}"),
                    "--web.enable-lifecycle",
                ],
                &[("AE_TEST_PASSWORD", env_password)],
            );
            let mut bodies = Vec::new();
            for path in [
                "/metrics",
                "/",
                "/probe?target=er2",
                "/probe?target=vpn",
                "/probe?target=nope",
                &format!("/probe?target={}&module=er2&auth=key", sim.url()),
                &format!("/probe?target={}&module=ics&auth=wrong", sim.url()),
                &format!("/probe?target={}&module=er2&auth=admin", sim.url()),
            ] {
                let resp = client
                    .get(format!("{}{path}", bin.url))
                    .header("Authorization", &auth)
                    .send()
                    .await
                    .unwrap();
                bodies.push((path.to_owned(), resp.text().await.unwrap()));
            }
            // A bad credentials attempt of the scraper, and a reload that fails
            // on a file with an inline secret.
            let resp = client
                .get(format!("{}/metrics", bin.url))
                .header("Authorization", basic(SCRAPER, "guess"))
                .send()
                .await
                .unwrap();
            bodies.push(("401".into(), resp.text().await.unwrap()));
            std::fs::write(&config, yaml.replace("auths:\n", &format!("auths:\n  inline: {{username: u, password: {wrong_password}}}\n  broken: {{username: u}}\n"))).unwrap();
            let resp = client
                .post(format!("{}/-/reload", bin.url))
                .header("Authorization", &auth)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status().as_u16(), 500);
            bodies.push(("reload".into(), resp.text().await.unwrap()));
            let metrics = &bodies[0].1;
            assert_eq!(
                value(metrics, "er2_up{target=\"er2\"}"),
                Some(0.0),
                "{metrics}"
            );
            for (path, body) in &bodies {
                check(&format!("{path} ({level}, {format})"), body);
            }
            // Every line about these requests was written before their
            // answers; stopped, the child has nothing more to write.
            let log = bin.stop();
            if level == "debug" || level == "info" || level == "warn" {
                assert!(log.contains("collector failed"), "{level} {format}: {log}");
            }
            check(&format!("the {level} {format} log"), &log);
        }
    }
    // --config.check on the file with the inline secret and an error.
    let (ok, out, err) = run(&[
        "--config.check",
        &format!("--config.file={}", config.display()),
    ]);
    assert!(!ok);
    check("--config.check", &format!("{out}{err}"));
    // Debug output of the loaded configurations, in a child process that
    // has the password in its environment (no test thread may change the
    // environment the others read).
    std::fs::write(&config, &yaml).unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "security::print_debug_of_the_configurations",
            "--ignored",
            "--nocapture",
        ])
        .env("AE_TEST_CONFIG", &config)
        .env("AE_TEST_WEB", &web)
        .env("AE_TEST_PASSWORD", env_password)
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{shown}");
    let part = |marker: &str| -> String {
        let line = shown.lines().find_map(|l| l.strip_prefix(marker));
        line.unwrap_or_else(|| panic!("no {marker} in {shown}"))
            .to_owned()
    };
    let (loaded, web) = (part("DEBUG-CONFIG "), part("DEBUG-WEB "));
    assert!(loaded.contains("er2env"), "{loaded}");
    check("Debug of the configuration", &loaded);
    check("Debug of the web configuration", &web);
    assert!(!web.contains("$2"), "the bcrypt hash appears in Debug");
}

/// Prints the `Debug` of the configuration and the web configuration at
/// `AE_TEST_CONFIG` and `AE_TEST_WEB`. Run in a child process, with the
/// environment it needs, by the test above; without it, does nothing.
#[test]
#[ignore = "run in a child process by no_secret_reaches_a_log_an_endpoint_an_error_or_debug_output"]
fn print_debug_of_the_configurations() {
    let (Some(config), Some(web)) = (
        std::env::var_os("AE_TEST_CONFIG"),
        std::env::var_os("AE_TEST_WEB"),
    ) else {
        eprintln!("AE_TEST_CONFIG and AE_TEST_WEB are not set: nothing to print");
        return;
    };
    let loaded = Config::load(Path::new(&config)).unwrap();
    let web = WebConfig::load(Path::new(&web)).unwrap();
    println!("DEBUG-CONFIG {loaded:?}\nDEBUG-WEB {web:?}");
}

#[test]
fn debug_of_a_tls_web_config_shows_no_key() {
    let work = Workdir::new();
    let ca = Ca::new("debug CA");
    let text = tls_files(&work, &ca, "");
    let web = load_web(&work, &text);
    let key_pem = std::fs::read_to_string(work.path().join("server.key")).unwrap();
    let shown = format!("{web:?}");
    for line in key_pem.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!shown.contains(line), "key material in Debug");
    }
    assert!(Path::new(&work.path().join("server.key")).exists());
}

#[tokio::test]
async fn a_redirect_to_another_host_is_not_followed() {
    use axum::http::HeaderMap;
    use axum::response::{IntoResponse, Redirect};
    let seen: Arc<std::sync::Mutex<Vec<Option<String>>>> = Arc::default();
    let record = seen.clone();
    let elsewhere = simulator::start(axum::Router::new().route(
        "/v1/licenses",
        axum::routing::get(move |headers: HeaderMap| {
            let record = record.clone();
            async move {
                let auth = headers
                    .get("authorization")
                    .map(|v| v.to_str().unwrap().to_owned());
                record.lock().unwrap().push(auth);
                simulator::json_response(401, r#"{"message": "Unauthorized."}"#)
            }
        }),
    ))
    .await
    .unwrap();
    let target = format!("{}/v1/licenses", elsewhere.url());
    let redirecting = simulator::start(axum::Router::new().route(
        "/v1/licenses",
        axum::routing::get(move || {
            let target = target.clone();
            async move { Redirect::temporary(&target).into_response() }
        }),
    ))
    .await
    .unwrap();
    let work = Workdir::new();
    let yaml = exporter_yaml(&work, &redirecting.url());
    let exporter = Exporter::start_in(work, &yaml).await;
    let m = exporter.metrics().await;
    assert_eq!(
        value(
            &m,
            "appliance_exporter_collector_success{target=\"er2\",collector=\"licenses\"}"
        ),
        Some(0.0),
        "{m}"
    );
    // Redirects are followed only within the target's origin.
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 0, "the redirect to another origin was followed");
}

#[tokio::test]
async fn changes_of_the_web_config_file_apply_without_a_restart() {
    let (exporter, _sim) = start(&users_yaml(), |_| String::new()).await;
    let client = crate::common::client();
    let url = format!("{}/metrics", exporter.url);
    let status = |auth: String| {
        let req = client.get(&url).header("Authorization", auth);
        async move { req.send().await.unwrap() }
    };
    assert_eq!(status(basic(SCRAPER, SCRAPER_PASSWORD)).await.status(), 200);
    let hash = bcrypt::hash("grafana-Pa55", 4).unwrap();
    exporter.work.write(
        "web.yml",
        &format!("basic_auth_users:\n  grafana: {hash}\nhttp_server_config:\n  headers:\n    X-Frame-Options: deny\n"),
    );
    assert_eq!(status(basic(SCRAPER, SCRAPER_PASSWORD)).await.status(), 401);
    let resp = status(basic("grafana", "grafana-Pa55")).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers().get("x-frame-options").unwrap(), "deny");
    // A broken file, or one that would switch TLS on, keeps what is in force.
    exporter
        .work
        .write("web.yml", "basic_auth_users:\n  grafana: not-a-hash\n");
    assert_eq!(status(basic("grafana", "grafana-Pa55")).await.status(), 200);
    let ca = Ca::new("late CA");
    let tls = tls_files(&exporter.work, &ca, "");
    exporter
        .work
        .write("web.yml", &format!("{tls}{}", users_yaml()));
    assert_eq!(status(basic("grafana", "grafana-Pa55")).await.status(), 200);
    assert_eq!(status(basic(SCRAPER, SCRAPER_PASSWORD)).await.status(), 401);
}

#[tokio::test]
async fn a_tls_setting_changed_in_the_file_applies_to_new_connections() {
    let server_ca = Ca::new("exporter CA");
    let client_ca = Ca::new("scraper CA");
    let (exporter, _sim) = start("", |w| tls_files(w, &server_ca, "")).await;
    let url = format!("{}/-/healthy", exporter.url);
    assert_ok(&https_client(&server_ca.pem, None), &url).await;
    exporter.work.write("clients.pem", &client_ca.pem);
    exporter.work.write(
        "web.yml",
        "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: clients.pem\n",
    );
    assert_refused(
        &https_client(&server_ca.pem, None),
        &url,
        "received fatal alert: CertificateRequired",
    )
    .await;
    let scraper = client_ca.issue("prometheus");
    assert_ok(&https_client(&server_ca.pem, Some(&scraper)), &url).await;
}
