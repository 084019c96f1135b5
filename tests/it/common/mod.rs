//! Shared test harness: an exporter served on a loopback port from a
//! configuration written to a temporary folder, the real binary run as a
//! child process, and small HTTP helpers.

#![allow(dead_code)]

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use appliance_exporter::app::{App, Settings};
use appliance_exporter::config::Config;
use appliance_exporter::webconfig::WebConfig;
use tokio::sync::oneshot;

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

/// A test client (rustls provider installed).
pub fn client() -> reqwest::Client {
    appliance_exporter::install_crypto_provider();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

pub async fn get(url: &str, headers: &[(&str, &str)]) -> Answer {
    let mut req = client().get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    Answer {
        status,
        content_type,
        body: resp.text().await.unwrap(),
    }
}

/// The scrape timeout the budget tests send (`X-Prometheus-Scrape-Timeout-Seconds`)
/// and the offset their exporter takes off it: the exporter answers after
/// at most 3 s, which leaves 3 s to spare before Prometheus would give up.
pub const SCRAPE_TIMEOUT: u64 = 6;
pub const BUDGET_OFFSET: Duration = Duration::from_secs(3);

/// A folder for a test's configuration and secrets.
pub struct Workdir {
    pub dir: tempfile::TempDir,
}

impl Workdir {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file and returns its path.
    pub fn write(&self, name: &str, content: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        p
    }
}

/// The exporter, served in-process on 127.0.0.1:0.
pub struct Exporter {
    pub url: String,
    pub app: Arc<App>,
    pub config_path: PathBuf,
    pub work: Workdir,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Exporter {
    /// Starts an exporter on `yaml` (written as `config.yml` in a new workdir).
    pub async fn start(yaml: &str) -> Self {
        let work = Workdir::new();
        Self::start_in(work, yaml).await
    }

    /// Starts an exporter whose configuration lives in `work`.
    pub async fn start_in(work: Workdir, yaml: &str) -> Self {
        Self::start_web(work, yaml, None).await
    }

    /// Starts an exporter behind a web configuration (TLS, basic auth);
    /// `url` is `https://` when it has TLS.
    pub async fn start_web(work: Workdir, yaml: &str, web: Option<WebConfig>) -> Self {
        Self::start_full(work, yaml, web, Duration::from_millis(500)).await
    }

    /// Starts an exporter that takes `offset` off Prometheus' scrape
    /// timeout (`--timeout-offset`): a test of the scrape budget leaves
    /// the offset to spare for a loaded machine.
    pub async fn start_with_offset(work: Workdir, yaml: &str, offset: Duration) -> Self {
        Self::start_full(work, yaml, None, offset).await
    }

    async fn start_full(
        work: Workdir,
        yaml: &str,
        web: Option<WebConfig>,
        offset: Duration,
    ) -> Self {
        appliance_exporter::install_crypto_provider();
        let config_path = work.write("config.yml", yaml);
        let config = Config::load(&config_path).unwrap_or_else(|e| panic!("{e}"));
        let settings = Settings {
            config_file: config_path.clone(),
            timeout_offset: offset,
            telemetry_path: "/metrics".into(),
            // The in-process exporter is reloaded over HTTP by the tests.
            enable_lifecycle: true,
            demo: false,
        };
        let app = Arc::new(App::new(settings, config).unwrap());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let tls = web.as_ref().is_some_and(|w| w.tls.is_some());
        let scheme = if tls { "https" } else { "http" };
        let url = format!("{scheme}://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(appliance_exporter::server::serve_with(
            listener,
            app.clone(),
            web.map(Arc::new),
            async {
                let _ = stopped.await;
            },
        ));
        Self {
            url,
            app,
            config_path,
            work,
            stop: Some(stop),
            task,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        get(&format!("{}{path}", self.url), &[]).await
    }

    /// `/probe?target=TARGET`, which must answer 200 with
    /// `UP{target="TARGET"} 1` (`UP`: the family's `*_up`).
    pub async fn probe_up(&self, target: &str, up: &str) -> Answer {
        let a = self.get(&format!("/probe?target={target}")).await;
        assert_eq!(a.status, 200, "{}", a.body);
        assert_eq!(
            value(&a.body, &format!("{up}{{target=\"{target}\"}}")),
            Some(1.0),
            "{}",
            a.body
        );
        a
    }

    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        get(&format!("{}{path}", self.url), headers).await
    }

    pub async fn metrics(&self) -> String {
        let a = self.get("/metrics").await;
        assert_eq!(a.status, 200, "{}", a.body);
        a.body
    }

    /// `/metrics` as Prometheus asks for it with a scrape timeout of
    /// `seconds`; asserts that the answer is a 200 that came within that
    /// time, and returns its body.
    pub async fn metrics_within(&self, seconds: u64) -> String {
        let started = std::time::Instant::now();
        let timeout = seconds.to_string();
        let a = self
            .get_with(
                "/metrics",
                &[("X-Prometheus-Scrape-Timeout-Seconds", timeout.as_str())],
            )
            .await;
        let took = started.elapsed();
        assert_eq!(a.status, 200, "{}", a.body);
        assert!(
            took < Duration::from_secs(seconds),
            "took {took:?}, past Prometheus' {seconds} s"
        );
        a.body
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        self.task.abort();
    }
}

/// The sample lines (no comments) of an exposition that start with `prefix`.
pub fn series<'a>(exposition: &'a str, prefix: &str) -> Vec<&'a str> {
    exposition
        .lines()
        .filter(|l| !l.starts_with('#') && l.starts_with(prefix))
        .collect()
}

/// The value of the one series whose name-and-labels part is `selector`
/// exactly (e.g. `er2_up{target="a"}`).
pub fn value(exposition: &str, selector: &str) -> Option<f64> {
    exposition.lines().find_map(|l| {
        let (name, v) = l.rsplit_once(' ')?;
        (name == selector).then(|| v.parse().unwrap())
    })
}

/// `appliance_exporter_collector_success` of `collector` of `target`.
pub fn collector_success(exposition: &str, target: &str, collector: &str) -> Option<f64> {
    value(
        exposition,
        &format!(
            "appliance_exporter_collector_success{{target=\"{target}\",collector=\"{collector}\"}}"
        ),
    )
}

/// Exactly one "collector failed" line for `collector` of `target`,
/// naming `endpoint`, containing `cause` and not `secret`; and none for
/// `healthy`.
pub fn assert_one_failure_line(
    logs: &Logs,
    (target, collector, endpoint): (&str, &str, &str),
    cause: &str,
    secret: &str,
    healthy: &str,
) {
    let lines = logs.lines_with(&[
        "collector failed",
        &format!("target={target}"),
        &format!("collector={collector}"),
    ]);
    assert_eq!(
        lines.len(),
        1,
        "expected one failure line:\n{}",
        logs.text()
    );
    let line = &lines[0];
    assert!(line.contains(&format!("endpoint={endpoint}")), "{line}");
    assert!(line.contains(cause), "expected \"{cause}\" in: {line}");
    assert!(!line.contains(secret), "{line}");
    assert!(
        logs.lines_with(&[&format!("target={healthy}"), "failed"])
            .is_empty(),
        "{}",
        logs.text()
    );
}

/// Whether the tools the suite needs must be present (set by the README's
/// test command); otherwise a test that needs a missing tool says so and
/// passes without running.
pub fn tools_required() -> bool {
    std::env::var_os("APPLIANCE_EXPORTER_REQUIRE_TOOLS").is_some()
}

/// The path of `tool` on PATH, or `None` (panicking when tools are required).
pub fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(!tools_required(), "{name} is required but not on PATH");
        eprintln!("SKIPPED: {name} is not installed (run the README's test command to install it)");
    }
    found
}

/// Runs `promtool check metrics` on an exposition; returns its output.
pub fn promtool_check_metrics(exposition: &str) -> Option<(bool, String)> {
    use std::io::Write as _;
    let promtool = tool("promtool")?;
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(exposition.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some((out.status.success(), text))
}

/// The real binary, run as a child process; its standard error is captured.
pub struct Binary {
    pub child: Child,
    pub url: String,
    pub stderr: Arc<Mutex<String>>,
    /// The thread copying standard error into `stderr`; done at its end.
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Binary {
    /// Runs `appliance_exporter` with `args` plus a loopback listen address,
    /// and waits until it listens (as its log says).
    pub fn start(args: &[&str], envs: &[(&str, &str)]) -> Self {
        let (child, log, rx, reader) = Self::spawn(args, "127.0.0.1:0", envs);
        let addr = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| {
                panic!(
                    "the exporter did not start listening: {}",
                    log.lock().unwrap()
                )
            });
        Self {
            child,
            url: format!("http://{addr}"),
            stderr: log,
            reader: Some(reader),
        }
    }

    /// Like `start`, on a free port picked beforehand and waited for by
    /// connecting, for log levels that do not show the listen address.
    pub fn start_on_free_port(args: &[&str], envs: &[(&str, &str)]) -> Self {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let (child, log, _, reader) = Self::spawn(args, &addr.to_string(), envs);
        let until = std::time::Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(
                std::time::Instant::now() < until,
                "the exporter did not start listening: {}",
                log.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            child,
            url: format!("http://{addr}"),
            stderr: log,
            reader: Some(reader),
        }
    }

    fn spawn(
        args: &[&str],
        listen: &str,
        envs: &[(&str, &str)],
    ) -> (
        Child,
        Arc<Mutex<String>>,
        std::sync::mpsc::Receiver<String>,
        std::thread::JoinHandle<()>,
    ) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_appliance_exporter"));
        cmd.args(args)
            .arg(format!("--web.listen-address={listen}"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let sink = log.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                // logfmt `address=A` or JSON `"address":"A"`.
                if let Some(addr) = line.split("address=").nth(1) {
                    let _ = tx.send(addr.split_whitespace().next().unwrap_or("").to_owned());
                } else if let Some(addr) = line.split("\"address\":\"").nth(1) {
                    let _ = tx.send(addr.split('"').next().unwrap_or("").to_owned());
                }
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        (child, log, rx, reader)
    }

    pub fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// The log once a line of it contains every one of `needles` (polled
    /// for at most 30 s: the child may write it after its answer).
    pub fn log_with(&self, needles: &[&str]) -> String {
        let until = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let log = self.log();
            if log.lines().any(|l| needles.iter().all(|n| l.contains(n))) {
                return log;
            }
            assert!(
                std::time::Instant::now() < until,
                "no line with {needles:?} in the log:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the child and returns all it wrote to standard error.
    pub fn stop(&mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
        self.log()
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// This test's log lines, captured in-process in the exporter's logfmt
/// format at debug level. The test must run on tokio's current-thread
/// runtime (the `#[tokio::test]` default) so that the exporter's tasks log
/// on the test's thread, where the capture is installed.
pub struct Logs {
    buf: Arc<Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

struct LogSink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogSink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    pub fn capture() -> Self {
        use tracing_subscriber::prelude::*;
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = buf.clone();
        let layer = tracing_logfmt::builder()
            .with_target(false)
            .with_span_name(false)
            .with_span_path(false)
            .layer()
            .with_writer(move || LogSink(sink.clone()));
        let subscriber = tracing_subscriber::registry()
            .with(appliance_exporter::logging::filter(
                appliance_exporter::cli::LogLevel::Debug,
            ))
            .with(layer);
        Self {
            buf,
            _guard: tracing::subscriber::set_default(subscriber),
        }
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.buf.lock().unwrap()).into_owned()
    }

    /// The lines containing every one of `needles`.
    pub fn lines_with(&self, needles: &[&str]) -> Vec<String> {
        self.text()
            .lines()
            .filter(|l| needles.iter().all(|n| l.contains(n)))
            .map(str::to_owned)
            .collect()
    }

    pub fn clear(&self) {
        self.buf.lock().unwrap().clear();
    }
}

/// A test certificate authority (rcgen), issuing certificates for
/// `localhost` and `127.0.0.1`.
pub struct Ca {
    /// The CA certificate, PEM.
    pub pem: String,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

impl Ca {
    pub fn new(name: &str) -> Self {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Self {
            pem: cert.pem(),
            issuer: rcgen::Issuer::new(params, key),
        }
    }

    /// A certificate (for server and client use) and its key, PEM.
    pub fn issue(&self, common_name: &str) -> (String, String) {
        use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, KeyPair};
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

/// A simulated ER2 master (`model`, accepting `user` / `password`),
/// behind `faults` when given.
pub async fn er2_simulator(
    model: appliance_exporter::simulator::enterprise_recon::LicenseModel,
    user: &str,
    password: &str,
    faults: Option<&appliance_exporter::simulator::faults::Faults>,
) -> appliance_exporter::simulator::Running {
    use appliance_exporter::simulator::{self, enterprise_recon as er2};
    let router = er2::router(er2::Er2Config::new(model, user, password));
    let router = match faults {
        Some(f) => f.wrap(router),
        None => router,
    };
    simulator::start(router).await.unwrap()
}

/// A configuration of ER2 targets (name, URL) on one module `er2` whose
/// auth `er2_api` is `user` with the password in `secret`; the module uses
/// the auth named `auth_ref` and has the settings in `module_extra` (each
/// line indented by four spaces). The module's `auth` is on line 8.
pub fn er2_config(
    user: &str,
    secret: &Path,
    auth_ref: &str,
    module_extra: &str,
    targets: &[(&str, String)],
) -> String {
    let mut y = format!(
        "auths:\n  er2_api:\n    username: {user}\n    password_file: {}\n\
         modules:\n  er2:\n    kind: enterprise_recon\n    auth: {auth_ref}\n{module_extra}\
         targets:\n",
        secret.display()
    );
    for (name, url) in targets {
        y.push_str(&format!(
            "  - {{name: {name}, url: \"{url}\", module: er2}}\n"
        ));
    }
    y
}
