//! The release exporter as a child process: its configuration, start-up
//! (the listen address from its log), scrapes over HTTP, and its CPU time
//! and memory read from `/proc/<pid>`.

use std::collections::VecDeque;
use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::Result;
use super::gateways::API_KEY;
use super::measure::{self, Memory};

/// The binary under test (the bench profile builds it optimised).
const BINARY: &str = env!("CARGO_BIN_EXE_appliance_exporter");
/// Log lines kept for an error report.
const LOG_LINES: usize = 40;

/// A configuration of ICS targets `(name, url)` on module `module`, which
/// runs `collectors` (every one of the kind when `None`).
pub fn config(
    dir: &Path,
    module: &str,
    collectors: Option<&str>,
    targets: &[(String, String)],
) -> Result<std::path::PathBuf> {
    let key = dir.join("ics.key");
    std::fs::write(&key, format!("{API_KEY}\n"))?;
    let collectors = collectors.map_or(String::new(), |c| format!("    collectors: [{c}]\n"));
    let mut yaml = format!(
        "auths:\n  ics_key:\n    api_key_file: {}\n\
         modules:\n  {module}:\n    kind: connect_secure\n    auth: ics_key\n    timeout: 60s\n{collectors}\
         targets:\n",
        key.display()
    );
    for (name, url) in targets {
        yaml.push_str(&format!(
            "  - {{name: {name}, url: \"{url}\", module: {module}}}\n"
        ));
    }
    let path = dir.join(format!("{module}.yml"));
    std::fs::write(&path, yaml)?;
    Ok(path)
}

/// A running exporter; killed when dropped.
#[derive(Debug)]
pub struct Exporter {
    /// The process.
    child: Child,
    /// Its base URL.
    pub url: String,
    /// Its last log lines.
    log: Arc<Mutex<VecDeque<String>>>,
}

impl Exporter {
    /// Starts the exporter on `config` and waits until it listens.
    pub fn start(config: &Path) -> Result<Self> {
        Self::start_with(config, None, &[])
    }

    /// Starts the exporter with at most `nofile` open descriptors (soft and
    /// hard, set by `prlimit` before the exporter's code runs, as systemd
    /// sets a service's) and extra flags.
    pub fn start_with(config: &Path, nofile: Option<u64>, flags: &[&str]) -> Result<Self> {
        let mut command = match nofile {
            Some(n) => {
                let mut c = Command::new("prlimit");
                c.arg(format!("--nofile={n}:{n}")).arg(BINARY);
                c
            }
            None => Command::new(BINARY),
        };
        let mut child = command
            .args(flags)
            .arg(format!("--config.file={}", config.display()))
            .arg("--web.listen-address=127.0.0.1:0")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;
        let stderr = child.stderr.take().ok_or("no stderr of the exporter")?;
        let log = Arc::new(Mutex::new(VecDeque::with_capacity(LOG_LINES)));
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.split("address=").nth(1) {
                    let addr = addr.split_whitespace().next().unwrap_or("");
                    let _ = tx.send(addr.trim_matches('"').to_owned());
                }
                let mut kept = sink.lock().unwrap_or_else(PoisonError::into_inner);
                if kept.len() == LOG_LINES {
                    kept.pop_front();
                }
                kept.push_back(line);
            }
        });
        let mut exporter = Self {
            child,
            url: String::new(),
            log,
        };
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(addr) => {
                exporter.url = format!("http://{addr}");
                Ok(exporter)
            }
            // Dropping it stops the process.
            Err(_) => Err(format!("the exporter did not start: {}", exporter.log()).into()),
        }
    }

    /// Its last log lines.
    pub fn log(&self) -> String {
        let kept = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        kept.iter().cloned().collect::<Vec<_>>().join("\n")
    }

    /// Its CPU seconds so far.
    pub fn cpu_seconds(&self) -> Result<f64> {
        measure::cpu_seconds(self.child.id())
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its resident memory now and at its peak.
    pub fn memory(&self) -> Result<Memory> {
        measure::memory(self.child.id())
    }

    /// GETs `path_and_query`; the body must be a 200.
    pub async fn get(
        &self,
        client: &reqwest::Client,
        path_and_query: &str,
    ) -> Result<(Duration, String)> {
        let started = Instant::now();
        let response = client
            .get(format!("{}{path_and_query}", self.url))
            .send()
            .await?;
        let status = response.status();
        let body = response.text().await?;
        let elapsed = started.elapsed();
        if !status.is_success() {
            return Err(format!("{path_and_query}: HTTP {status}: {body}").into());
        }
        Ok((elapsed, body))
    }

    /// Scrapes `path_and_query` and returns the wall time and CPU time it
    /// took, and the body.
    pub async fn scrape(&self, client: &reqwest::Client, path_and_query: &str) -> Result<Scrape> {
        let cpu_before = self.cpu_seconds()?;
        let (elapsed, body) = self.get(client, path_and_query).await?;
        let cpu = self.cpu_seconds()? - cpu_before;
        Ok(Scrape { elapsed, cpu, body })
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One scrape.
#[derive(Debug)]
pub struct Scrape {
    /// Wall time, as the scraper sees it.
    pub elapsed: Duration,
    /// The exporter's CPU seconds meanwhile.
    pub cpu: f64,
    /// The exposition.
    pub body: String,
}

/// The value of the series `selector` (name and labels exactly as printed).
pub fn value(exposition: &str, selector: &str) -> Option<f64> {
    exposition.lines().find_map(|line| {
        let rest = line.strip_prefix(selector)?.strip_prefix(' ')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// The sum of every series of `name`.
pub fn sum(exposition: &str, name: &str) -> f64 {
    let prefix = format!("{name}{{");
    exposition
        .lines()
        .filter(|l| l.starts_with(&prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Series in an exposition (lines that are not comments).
pub fn series(exposition: &str) -> usize {
    exposition
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .count()
}
