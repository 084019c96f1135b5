//! Credentials go only where the operator sent them: an ad-hoc probe
//! outside a module's `probe` policy is refused before any request leaves
//! the exporter (a catching server on loopback receives nothing), an
//! allowed host receives the request, an `&auth=` the module does not list
//! is refused, and a static target that redirects to another origin
//! delivers neither `Authorization` nor a request body there. Each for the
//! three appliance families.

use std::sync::{Arc, Mutex};

use appliance_exporter::simulator::{self, Running};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::IntoResponse;

use crate::common::{Exporter, Logs, Workdir};

/// One request as the catcher received it.
#[derive(Debug, Clone)]
struct Caught {
    method: Method,
    authorization: Option<String>,
    body: Vec<u8>,
}

/// A loopback HTTP server that records every request; it answers `{}`,
/// or, when `redirect_to` is set, 307 to the same path there.
struct Catcher {
    caught: Arc<Mutex<Vec<Caught>>>,
    running: Running,
}

impl Catcher {
    async fn start(redirect_to: Option<String>) -> Self {
        let caught: Arc<Mutex<Vec<Caught>>> = Arc::default();
        let record = caught.clone();
        let router = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: axum::body::Bytes| {
                let record = record.clone();
                let redirect_to = redirect_to.clone();
                async move {
                    record.lock().unwrap().push(Caught {
                        method,
                        authorization: headers
                            .get(header::AUTHORIZATION)
                            .map(|v| v.to_str().unwrap().to_owned()),
                        body: body.to_vec(),
                    });
                    match redirect_to {
                        Some(base) => (
                            StatusCode::TEMPORARY_REDIRECT,
                            [(header::LOCATION, format!("{base}{uri}"))],
                            "",
                        )
                            .into_response(),
                        None => (StatusCode::OK, "{}").into_response(),
                    }
                }
            },
        );
        Self {
            caught,
            running: simulator::start(router).await.unwrap(),
        }
    }

    fn url(&self) -> String {
        self.running.url()
    }

    fn caught(&self) -> Vec<Caught> {
        self.caught.lock().unwrap().clone()
    }
}

const ER2_PASSWORD: &str = "er2-Pa55-never-elsewhere";
const ICS_PASSWORD: &str = "ics-Admin-Pa55-never-elsewhere";
const PAM_PASSWORD: &str = "pam-Pa55-never-elsewhere";
const OTHER_PASSWORD: &str = "other-Pa55-never-elsewhere";

/// The modules `er2`, `ics` (realm_auth: credentials in a POST body) and
/// `pam` (credentials and query bodies), each with `probe_block` (indented
/// for the module), and a second auth of each family that no module
/// lists; static targets as given.
fn config(work: &Workdir, probe_block: &str, targets: &[(&str, &str, String)]) -> String {
    let file = |name: &str, secret: &str| work.write(name, secret).display().to_string();
    let mut yaml = format!(
        "auths:\n  er2_api: {{username: er2user, password_file: {}}}\n  \
         er2_other: {{username: other, password_file: {}}}\n  \
         ics_admin: {{username: admin, password_file: {}, realm: Admin Users}}\n  \
         ics_key: {{api_key_file: {}}}\n  \
         pam_api: {{username: pamuser, password_file: {}}}\n  \
         pam_other: {{username: other, password_file: {}}}\n\
         modules:\n  \
         er2:\n    kind: enterprise_recon\n    auth: er2_api\n    timeout: 5s\n{probe_block}  \
         ics:\n    kind: connect_secure\n    auth: ics_admin\n    timeout: 5s\n{probe_block}  \
         pam:\n    kind: sectona\n    auth: pam_api\n    timeout: 5s\n    instance: PROD\n    \
         entitlements:\n      - {{name: q, entitlement_type: User, username: alice, authentication_type: AD, directory_store: corp}}\n{probe_block}\
         targets:{}\n",
        file("er2.pass", ER2_PASSWORD),
        file("other.pass", OTHER_PASSWORD),
        file("ics.pass", ICS_PASSWORD),
        file("ics.key", OTHER_PASSWORD),
        file("pam.pass", PAM_PASSWORD),
        file("pam-other.pass", OTHER_PASSWORD),
        if targets.is_empty() { " []" } else { "" },
    );
    for (name, module, url) in targets {
        yaml.push_str(&format!(
            "  - {{name: {name}, url: \"{url}\", module: {module}}}\n"
        ));
    }
    yaml
}

const MODULES: [(&str, &str); 3] = [
    ("er2", "er2_other"),
    ("ics", "ics_key"),
    ("pam", "pam_other"),
];

#[tokio::test]
async fn without_a_probe_block_no_ad_hoc_request_leaves_the_exporter() {
    let catcher = Catcher::start(None).await;
    let work = Workdir::new();
    let yaml = config(&work, "", &[]);
    let exporter = Exporter::start_in(work, &yaml).await;
    for (module, _) in MODULES {
        let a = exporter
            .get(&format!("/probe?target={}&module={module}", catcher.url()))
            .await;
        assert_eq!(
            (a.status, a.body.as_str()),
            (
                403,
                format!("module \"{module}\" takes no ad-hoc targets: set modules.{module}.probe.allowed_hosts to allow them\n").as_str()
            )
        );
    }
    assert_eq!(catcher.caught().len(), 0, "{:?}", catcher.caught());
}

#[tokio::test]
async fn only_allowed_hosts_and_auths_receive_ad_hoc_requests() {
    let catcher = Catcher::start(None).await;
    let port = catcher.running.addr.port();
    let work = Workdir::new();
    let probe =
        "    probe:\n      allowed_hosts: [\"vpn-*.example.com\", 127.0.0.1, \"fd00::/8\"]\n";
    let yaml = config(&work, probe, &[]);
    let exporter = Exporter::start_in(work, &yaml).await;
    for (module, other_auth) in MODULES {
        // localhost reaches the catcher too, but is not listed (names are
        // not resolved); and an auth the module does not list.
        let refused = [
            (
                format!("http://localhost:{port}"),
                String::new(),
                format!("host \"localhost\" is not in modules.{module}.probe.allowed_hosts\n"),
            ),
            (
                format!("http://127.0.0.1:{port}"),
                format!("&auth={other_auth}"),
                format!("auth \"{other_auth}\" is not in modules.{module}.probe.allowed_auths\n"),
            ),
        ];
        for (url, auth, message) in refused {
            let a = exporter
                .get(&format!("/probe?target={url}&module={module}{auth}"))
                .await;
            assert_eq!((a.status, a.body.as_str()), (403, message.as_str()));
        }
        assert_eq!(
            catcher.caught().len(),
            0,
            "{module}: {:?}",
            catcher.caught()
        );
    }
    // An allowed host receives the module's requests, with its credentials.
    for (module, expected) in [("er2", "er2user"), ("ics", "admin"), ("pam", "pamuser")] {
        let before = catcher.caught().len();
        let a = exporter
            .get(&format!("/probe?target={}&module={module}", catcher.url()))
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
        let caught = catcher.caught();
        assert!(caught.len() > before, "{module}: no request arrived");
        let shown: Vec<String> = caught[before..]
            .iter()
            .map(|c| {
                let basic = c
                    .authorization
                    .as_deref()
                    .and_then(|h| appliance_exporter::webconfig::parse_basic(h.as_bytes()))
                    .map(|(user, _)| user)
                    .unwrap_or_default();
                format!("{basic}|{}", String::from_utf8_lossy(&c.body))
            })
            .collect();
        assert!(
            shown.iter().any(|s| s.contains(expected)),
            "{module}: {shown:?}"
        );
    }
}

#[tokio::test]
async fn a_redirect_to_another_origin_is_not_followed() {
    let elsewhere = Catcher::start(None).await;
    let redirector = Catcher::start(Some(elsewhere.url())).await;
    let work = Workdir::new();
    let targets: Vec<(&str, &str, String)> = MODULES
        .iter()
        .map(|(m, _)| (*m, *m, redirector.url()))
        .collect();
    let yaml = config(&work, "", &targets);
    let logs = Logs::capture();
    let exporter = Exporter::start_in(work, &yaml).await;
    exporter.metrics().await;
    // The redirector saw the credentials (it is the configured target)...
    let asked = redirector.caught();
    assert!(asked.iter().any(|c| c.authorization.is_some()), "{asked:?}");
    assert!(
        asked
            .iter()
            .any(|c| c.method == Method::POST && !c.body.is_empty()),
        "{asked:?}"
    );
    // ...but nothing at all went to the other origin.
    assert_eq!(elsewhere.caught().len(), 0, "{:?}", elsewhere.caught());
    let (from, to) = (
        format!("http://{}", redirector.running.addr),
        format!("http://{}", elsewhere.running.addr),
    );
    // (logfmt escapes the apostrophe that follows)
    let line = format!("redirect from {from} to {to} leaves the target");
    for (module, _) in MODULES {
        let failures = &exporter.app.last_scrapes()[module].failures;
        assert!(
            !failures.is_empty() && failures.iter().all(|f| f.contains(&line)),
            "{module}: {failures:?}"
        );
        assert!(
            !logs
                .lines_with(&["collector failed", &format!("target={module} "), &line])
                .is_empty(),
            "{module}: {}",
            logs.text()
        );
    }
    for secret in [ER2_PASSWORD, ICS_PASSWORD, PAM_PASSWORD] {
        assert!(!logs.text().contains(secret));
    }
}

#[tokio::test]
async fn credentials_over_plain_http_are_warned_about_once_per_target() {
    let appliance = Catcher::start(None).await;
    let work = Workdir::new();
    let yaml = config(
        &work,
        "",
        &[
            ("plain", "er2", appliance.url()),
            ("tls", "er2", "https://er2.example.com:8339".to_owned()),
        ],
    );
    let logs = Logs::capture();
    let _exporter = Exporter::start_in(work, &yaml).await;
    let warned = logs.lines_with(&["over plain http"]);
    assert_eq!(warned.len(), 1, "{}", logs.text());
    assert!(warned[0].contains("target=plain"), "{warned:?}");
}

#[tokio::test]
async fn debug_of_every_credential_bearing_type_shows_no_secret() {
    let appliance = Catcher::start(None).await;
    let work = Workdir::new();
    let probe = "    probe:\n      allowed_hosts: [127.0.0.1]\n";
    let targets: Vec<(&str, &str, String)> = MODULES
        .iter()
        .map(|(m, _)| (*m, *m, appliance.url()))
        .collect();
    let yaml = config(&work, probe, &targets);
    let exporter = Exporter::start_in(work, &yaml).await;
    exporter.metrics().await;
    let app = &exporter.app;
    let loaded = app.loaded();
    let mut shown = vec![
        format!("{app:?}"),
        format!("{loaded:?}"),
        format!("{:?}", loaded.config),
        format!("{:?}", app.shared),
    ];
    for auth in loaded.config.auths.values() {
        shown.push(format!("{auth:?}"));
        shown.push(format!("{:?}", auth.credentials));
    }
    for (module, _) in MODULES {
        shown.push(format!("{:?}", app.static_target(&loaded, module).unwrap()));
        let adhoc = app.adhoc_target(&loaded, &appliance.url(), module, None);
        shown.push(format!("{:?}", adhoc.unwrap()));
    }
    for text in &shown {
        for secret in [ER2_PASSWORD, ICS_PASSWORD, PAM_PASSWORD, OTHER_PASSWORD] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
    assert!(shown[2].matches("<secret>").count() >= 6, "{}", shown[2]);
}

#[tokio::test]
async fn many_ad_hoc_urls_leave_no_series_behind() {
    let appliance = Catcher::start(None).await;
    let work = Workdir::new();
    let probe = "    probe:\n      allowed_hosts: [127.0.0.1]\n";
    let yaml = config(&work, probe, &[("static", "er2", appliance.url())]);
    let exporter = Exporter::start_in(work, &yaml).await;
    for i in 0..20 {
        let url = format!("{}/gateway-{i}", appliance.url());
        let a = exporter
            .get(&format!("/probe?target={url}&module=er2"))
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
        assert!(a.body.contains(&format!("target=\"{url}\"")), "{}", a.body);
    }
    let m = exporter.metrics().await;
    assert!(!m.contains("gateway-"), "{m}");
    // The static target is recorded as before.
    assert!(
        m.contains("appliance_exporter_upstream_requests_total{target=\"static\",endpoint=\"/v1/licenses\",code=\"200\"} 1"),
        "{m}"
    );
    let landing = exporter.get("/").await.body;
    assert!(!landing.contains("gateway-"), "{landing}");
}

#[tokio::test]
async fn the_demo_warns_of_no_plain_http_target() {
    let tmp = tempfile::tempdir().unwrap();
    let bin =
        crate::common::Binary::start(&["--demo"], &[("TMPDIR", tmp.path().to_str().unwrap())]);
    // The warnings come before the line saying it listens.
    let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !bin.log().contains("message=listening") {
        assert!(std::time::Instant::now() < until, "{}", bin.log());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let log = bin.log();
    assert!(!log.contains("over plain http"), "{log}");
}
