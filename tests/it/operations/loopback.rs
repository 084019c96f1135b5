//! A server of the Prometheus family (Prometheus, Alertmanager) run as a
//! child process on a loopback port, for the end-to-end tests.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::time::{Instant, sleep};

use crate::common;

/// A running server, its log in a file; killed when dropped.
pub(crate) struct LoopbackServer {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Its standard error.
    log: PathBuf,
}

impl LoopbackServer {
    /// Runs `binary` with `args` and `--web.listen-address` on a free port,
    /// and waits until `/-/ready` answers, for at most `budget`. These
    /// servers cannot listen on port 0, so a port is picked, and picked
    /// again if another process takes it first.
    pub async fn start(binary: &Path, args: &[String], log: PathBuf, budget: Duration) -> Self {
        for _attempt in 0..3 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let mut child = Command::new(binary)
                .args(args)
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .stdout(Stdio::null())
                .stderr(File::create(&log).unwrap())
                .spawn()
                .unwrap();
            let url = format!("http://127.0.0.1:{port}");
            let deadline = Instant::now() + budget;
            while child.try_wait().unwrap().is_none() {
                let ready = common::client().get(format!("{url}/-/ready")).send().await;
                if ready.is_ok_and(|r| r.status().is_success()) {
                    return Self { child, url, log };
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    break;
                }
                sleep(Duration::from_millis(200)).await;
            }
            let _ = child.wait();
        }
        panic!(
            "{} did not start:\n{}",
            binary.display(),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// What it has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
