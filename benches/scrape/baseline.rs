//! The Python baseline (`bench/baseline_active_users.py`: sequential
//! `requests`, whole pages into generic JSON trees, `prometheus_client`),
//! run in a virtual environment under the cargo target directory that is
//! made, with pinned packages from PyPI, when missing. One long-lived
//! process scrapes once per line it reads, so its rounds interleave with
//! the exporter's.

use std::io::{BufRead as _, BufReader, Lines, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

use super::Result;
use super::gateways::{API_KEY, PAGE_SIZE};

/// The script.
const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/bench/baseline_active_users.py"
);
/// Where its virtual environment lives.
const VENV: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/baseline-venv");
/// The packages it needs, pinned so that runs compare.
const PACKAGES: &[&str] = &["requests==2.34.2", "prometheus_client==0.26.0"];

/// The virtual environment's Python, made first when missing.
pub fn python() -> Result<PathBuf> {
    let python = Path::new(VENV).join("bin/python");
    let ready = |python: &Path| {
        Command::new(python)
            .args(["-c", "import requests, prometheus_client"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if ready(&python) {
        return Ok(python);
    }
    eprintln!("installing {} into {VENV}", PACKAGES.join(" "));
    run(Command::new("python3").args(["-m", "venv", VENV]))
        .map_err(|e| format!("python3 -m venv (on Debian: apt-get install python3-venv): {e}"))?;
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(PACKAGES))?;
    if !ready(&python) {
        return Err(format!(
            "{} cannot import requests and prometheus_client",
            python.display()
        )
        .into());
    }
    Ok(python)
}

fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd.status()?;
    if !status.success() {
        return Err(format!("{cmd:?} failed: {status}").into());
    }
    Ok(())
}

/// The baseline process, waiting for scrape requests.
#[derive(Debug)]
pub struct Baseline {
    /// The process.
    child: Child,
    /// One line per scrape wanted.
    stdin: Option<ChildStdin>,
    /// One JSON line per scrape done.
    stdout: Lines<BufReader<ChildStdout>>,
}

/// One scrape by the baseline, as it measured it.
#[derive(Debug, Clone, Copy)]
pub struct BaselineScrape {
    /// Wall time.
    pub elapsed: Duration,
    /// Its CPU seconds.
    pub cpu: f64,
    /// Sessions it counted.
    pub sessions: u64,
}

impl Baseline {
    /// Starts the baseline against the gateway at `base`.
    pub fn start(python: &Path, base: &str) -> Result<Self> {
        let mut child = Command::new(python)
            .args([SCRIPT, base, API_KEY, &PAGE_SIZE.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().ok_or("no stdout of the baseline")?;
        Ok(Self {
            child,
            stdin,
            stdout: BufReader::new(stdout).lines(),
        })
    }

    fn answer(&mut self) -> Result<serde_json::Value> {
        let line = self.stdout.next().ok_or("the baseline stopped")??;
        Ok(serde_json::from_str(&line)?)
    }

    /// One scrape.
    pub fn scrape(&mut self) -> Result<BaselineScrape> {
        let stdin = self.stdin.as_mut().ok_or("the baseline was finished")?;
        writeln!(stdin, "scrape")?;
        stdin.flush()?;
        let answer = self.answer()?;
        let number = |key: &str| answer[key].as_f64().ok_or(format!("no {key} in {answer}"));
        Ok(BaselineScrape {
            elapsed: Duration::from_secs_f64(number("seconds")?),
            cpu: number("cpu_seconds")?,
            sessions: number("sessions")? as u64,
        })
    }

    /// Stops the baseline; returns its peak resident memory in bytes.
    pub fn finish(mut self) -> Result<u64> {
        drop(self.stdin.take());
        let answer = self.answer()?;
        let kib = answer["max_rss_kib"]
            .as_u64()
            .ok_or(format!("no max_rss_kib in {answer}"))?;
        let _ = self.child.wait();
        Ok(kib * 1024)
    }
}

impl Drop for Baseline {
    fn drop(&mut self) {
        if !matches!(self.child.try_wait(), Ok(Some(_))) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
