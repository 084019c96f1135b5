//! Simulated Connect Secure gateways in a child process of their own (this
//! benchmark binary started again with `--simulate`), so that serving the
//! pages neither counts in the exporter's `/proc` figures nor competes for
//! the floor client's runtime threads. Session pages are rendered once at
//! start and served from memory over keep-alive connections.

use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use appliance_exporter::simulator::connect_secure::{Connections, IcsConfig, IcsSim, Sessions};

use super::Result;

/// The API key the gateways accept.
pub const API_KEY: &str = "YmVuY2htYXJrLWljcy1hcGkta2V5";
/// Sessions per page, as the exporter's default `active_users.page_size`.
pub const PAGE_SIZE: usize = 200;
/// The flag that makes this binary a gateway process.
const FLAG: &str = "--simulate";

/// Running gateways; they stop when this is dropped.
#[derive(Debug)]
pub struct Gateways {
    /// The gateway process.
    child: Child,
    /// Its standard input: closing it tells the process to stop.
    stdin: Option<ChildStdin>,
    /// One base URL per gateway.
    pub urls: Vec<String>,
}

impl Gateways {
    /// Starts `copies` gateways listing `sessions` sessions each, adding
    /// `latency` to every answer, all on 127.0.0.1.
    pub fn start(sessions: usize, latency: Duration, copies: usize) -> Result<Self> {
        Self::spawn(sessions, latency, copies, false)
    }

    /// The gateway process, whose CPU time the fleet scenario reads.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Like `start`, each gateway on a loopback address of its own
    /// (127.0.x.y), as a fleet of appliances has a host each.
    pub fn fleet(sessions: usize, latency: Duration, copies: usize) -> Result<Self> {
        Self::spawn(sessions, latency, copies, true)
    }

    fn spawn(sessions: usize, latency: Duration, copies: usize, spread: bool) -> Result<Self> {
        let mut child = Command::new(std::env::current_exe()?)
            .args([
                FLAG,
                &sessions.to_string(),
                &latency.as_millis().to_string(),
                &copies.to_string(),
                if spread { "spread" } else { "localhost" },
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().ok_or("no stdout of the gateways")?;
        let mut urls = Vec::with_capacity(copies);
        for line in BufReader::new(stdout).lines() {
            let line = line?;
            match line.strip_prefix("url ") {
                Some(url) => urls.push(url.to_owned()),
                None if line == "ready" => break,
                None => return Err(format!("the gateway process said {line:?}").into()),
            }
        }
        if urls.len() != copies {
            return Err(format!("{} of {copies} gateways started", urls.len()).into());
        }
        Ok(Self { child, stdin, urls })
    }
}

impl Drop for Gateways {
    fn drop(&mut self) {
        drop(self.stdin.take());
        if !matches!(self.child.try_wait(), Ok(Some(_))) {
            std::thread::sleep(Duration::from_millis(50));
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// The `i`-th loopback address of a fleet: 127.0.1.1, 127.0.1.2, ...,
/// 127.0.1.250, 127.0.2.1, ...
fn loopback(i: usize) -> std::net::IpAddr {
    let (x, y) = (1 + i / 250, 1 + i % 250);
    std::net::Ipv4Addr::new(127, 0, u8::try_from(x).unwrap_or(u8::MAX), y as u8).into()
}

/// The sessions of a benchmark gateway: realms and nodes as on a large
/// cluster, four sessions in five of distinct users, and every field of
/// how users connect varied, so the breakdown is measured at work: ESP,
/// SSL and no tunnel, twelve client versions and none (more than the ten
/// reported by name), three authentication servers, one session in seven
/// with a failed host check.
fn sessions(count: usize) -> Sessions {
    Sessions {
        count,
        users: (count * 4 / 5).max(1),
        realms: vec!["Users".into(), "Contractors".into(), "Admin Users".into()],
        nodes: ["ics-node-a", "ics-node-b", "ics-node-c", "ics-node-d"]
            .map(String::from)
            .to_vec(),
        connections: Connections {
            transports: vec![
                Some("ESP".into()),
                Some("ESP".into()),
                Some("SSL".into()),
                Some("ESP".into()),
                None,
            ],
            client_versions: (0..12)
                .map(|v| Some(format!("22.7.{v}.{}", 1000 + v)))
                .chain([None])
                .collect(),
            auth_servers: vec![
                Some("Corporate AD".into()),
                Some("RADIUS MFA".into()),
                Some("System Local".into()),
            ],
            host_check_failures: 7,
        },
        ..Sessions::default()
    }
}

/// In the gateway process: serves as `args` (after `--simulate`) say until
/// standard input closes. Returns `None` when this is not the gateway
/// process.
pub fn serve_if_asked(args: &[String]) -> Option<Result<()>> {
    let at = args.iter().position(|a| a == FLAG)?;
    Some(serve(&args[at + 1..]))
}

fn serve(args: &[String]) -> Result<()> {
    let [sessions_count, latency_ms, copies, place] = args else {
        return Err(format!("usage: {FLAG} SESSIONS LATENCY_MS COPIES spread|localhost").into());
    };
    let spread = place == "spread";
    let config = IcsConfig {
        sessions: sessions(sessions_count.parse()?),
        latency: Duration::from_millis(latency_ms.parse()?),
        prerendered_page_size: Some(PAGE_SIZE),
        ..IcsConfig::with_api_key(API_KEY)
    };
    let copies: usize = copies.parse()?;
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let sim = IcsSim::new(config);
        let mut running = Vec::with_capacity(copies);
        for i in 0..copies {
            let gateway = if spread {
                appliance_exporter::simulator::start_at(loopback(i), sim.router()).await?
            } else {
                sim.start().await?
            };
            println!("url {}", gateway.url());
            running.push(gateway);
        }
        println!("ready");
        // Until the benchmark closes our standard input (or dies).
        tokio::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
        })
        .await?;
        drop(running);
        Ok(())
    })
}
