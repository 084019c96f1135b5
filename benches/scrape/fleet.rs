//! The fleet: one `/metrics` over 200 and over 1,000 simulated Connect
//! Secure gateways, each on a loopback address of its own (127.0.x.y),
//! running `healthcheck` and `active_users`, 2,000 sessions each, 5 ms
//! added to every answer, the exporter started under a limit of 1,024 open
//! descriptors (soft and hard, as systemd gives a service) with its default
//! limits. Against the floor: every request of such a scrape (the
//! healthcheck and every page of every gateway) fetched by one client that
//! reads each body to its end, with as many requests in flight as the
//! exporter may have (`limits.max_in_flight`). Round by round: wall time,
//! the exporter's CPU per scrape, its peak resident memory, and its open
//! descriptors sampled every few milliseconds during each scrape. The
//! gateways share the machine's CPUs with the exporter (and with the floor's
//! client), so their CPU time is read too: on `n` CPUs no scrape can take
//! less than (exporter + gateways) CPU / `n`, which tells how much CPU per
//! scrape the exporter may spend for the ratio goal to be reachable here.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use appliance_exporter::config::{Config, Limits};
use futures::StreamExt as _;

use super::exporter::{self, Exporter};
use super::gateways::Gateways;
use super::measure::{self, median_seconds};
use super::report::Goal;
use super::{Result, floor};

/// Gateways of each fleet measured.
pub const FLEETS: [usize; 2] = [200, 1_000];
/// Sessions on each gateway.
const SESSIONS: usize = 2_000;
/// Added to every answer.
const LATENCY: Duration = Duration::from_millis(5);
/// Rounds counted (after one of warm-up): a round of 200 gateways takes
/// well under a second, and the median of three ratios moved by 0.1
/// between runs of the same build on a shared 2-CPU machine.
const ROUNDS: usize = 9;
/// The descriptor limit the exporter runs under.
pub const NOFILE: u64 = 1_024;
/// Peak resident memory allowed, MiB, by fleet size.
const RSS_GOAL_MIB: [(usize, f64); 2] = [(200, 48.0), (1_000, 96.0)];
/// Scrape time allowed against the floor (200 gateways).
const RATIO_GOAL: f64 = 1.3;

/// What one fleet measured.
#[derive(Debug, Clone)]
pub struct Fleet {
    /// Gateways.
    pub gateways: usize,
    /// The exporter's `Max open files`, as its `/proc/PID/limits` says.
    pub nofile: String,
    /// Requests in flight of the floor (the exporter's `max_in_flight`).
    pub parallelism: usize,
    /// Median floor wall time.
    pub floor: f64,
    /// Median scrape wall time.
    pub scrape: f64,
    /// Median of the scrape / floor ratio of each round.
    pub ratio: f64,
    /// The exporter's mean CPU seconds per scrape.
    pub cpu: f64,
    /// The floor client's mean CPU seconds per round (this process).
    pub floor_cpu: f64,
    /// The gateways' mean CPU seconds per floor round.
    pub floor_gateways_cpu: f64,
    /// The gateways' mean CPU seconds per scrape.
    pub gateways_cpu: f64,
    /// CPUs of the machine.
    pub cpus: usize,
    /// Peak resident memory, MiB.
    pub peak_rss: f64,
    /// Most descriptors open at once.
    pub peak_fds: usize,
    /// Every round: every collector of every gateway succeeded.
    pub all_succeeded: bool,
    /// Every round: every session of every gateway counted.
    pub all_counted: bool,
    /// Failures of the worst round, as "n collectors failed, m sessions
    /// missing".
    pub worst: String,
}

/// Sizing experiments: `FLEET_LIMITS` (a YAML flow mapping, e.g.
/// `{max_targets_in_flight: 16}`) replaces the default limits and
/// `FLEET_WORKERS` sets `--runtime.worker-threads`; the goals hold for the
/// defaults.
fn experiment() -> (Option<String>, Vec<String>) {
    let limits = std::env::var("FLEET_LIMITS").ok();
    let workers = std::env::var("FLEET_WORKERS")
        .ok()
        .map(|n| format!("--runtime.worker-threads={n}"));
    (limits, workers.into_iter().collect())
}

/// Measures a fleet of `gateways`.
pub async fn measure(client: &reqwest::Client, gateways: usize) -> Result<Fleet> {
    let fleet = Gateways::fleet(SESSIONS, LATENCY, gateways)?;
    let dir = tempfile::tempdir()?;
    let targets: Vec<_> = fleet
        .urls
        .iter()
        .enumerate()
        .map(|(i, url)| (format!("g{i}"), url.clone()))
        .collect();
    let config_path = exporter::config(
        dir.path(),
        "fleet",
        Some("healthcheck, active_users"),
        &targets,
    )?;
    let (limits, flags) = experiment();
    if let Some(limits) = limits {
        let yaml = std::fs::read_to_string(&config_path)?;
        std::fs::write(&config_path, format!("limits: {limits}\n{yaml}"))?;
    }
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let config = Config::load(&config_path)?;
    let limits: &Limits = &config.limits;
    let parallelism = limits.max_in_flight as usize;
    let module = config.modules.get("fleet").ok_or("no module")?;
    // The floor keeps every connection it opened for reuse, whatever the
    // exporter's per-target limit (which sizes a collection's idle pool).
    let floor_limits = Limits {
        max_requests_per_target: limits.max_in_flight,
        ..limits.clone()
    };
    let floor_client = appliance_exporter::upstream::Connector::new(module, &floor_limits)?
        .client()?
        .client;
    let exporter = Exporter::start_with(&config_path, Some(NOFILE), &flags)?;
    let nofile = max_open_files(exporter.pid())?;

    let (mut floors, mut scrapes, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let (mut cpu, mut peak_fds) = (0.0, 0);
    let (mut floor_cpu, mut floor_gateways_cpu, mut gateways_cpu) = (0.0, 0.0, 0.0);
    let gateway_cpu = || measure::cpu_seconds(fleet.pid());
    let own_cpu = || measure::cpu_seconds(std::process::id());
    let (mut all_succeeded, mut all_counted) = (true, true);
    let mut worst = (0, 0.0);
    for round in 0..=ROUNDS {
        let (own_before, gateways_before) = (own_cpu()?, gateway_cpu()?);
        let floor = fetch_all(&floor_client, &fleet.urls, parallelism).await?;
        let (own_after, gateways_between) = (own_cpu()?, gateway_cpu()?);
        let sampler = FdSampler::start(exporter.pid());
        let scrape = exporter.scrape(client, "/metrics").await?;
        peak_fds = peak_fds.max(sampler.stop());
        let gateways_after = gateway_cpu()?;
        let failed = scrape
            .body
            .lines()
            .filter(|l| l.starts_with("appliance_exporter_collector_success{") && l.ends_with(" 0"))
            .count();
        let listed = exporter::sum(&scrape.body, "ics_active_sessions_listed");
        let missing = (gateways * SESSIONS) as f64 - listed;
        all_succeeded &= failed == 0;
        all_counted &= missing == 0.0;
        if (failed, missing) > worst {
            worst = (failed, missing);
        }
        if round > 0 {
            floors.push(floor);
            scrapes.push(scrape.elapsed);
            ratios.push(scrape.elapsed.as_secs_f64() / floor.as_secs_f64());
            cpu += scrape.cpu;
            floor_cpu += own_after - own_before;
            floor_gateways_cpu += gateways_between - gateways_before;
            gateways_cpu += gateways_after - gateways_between;
        }
    }
    Ok(Fleet {
        gateways,
        nofile,
        parallelism,
        floor: median_seconds(&floors),
        scrape: median_seconds(&scrapes),
        ratio: measure::median(&ratios),
        cpu: cpu / ROUNDS as f64,
        floor_cpu: floor_cpu / ROUNDS as f64,
        floor_gateways_cpu: floor_gateways_cpu / ROUNDS as f64,
        gateways_cpu: gateways_cpu / ROUNDS as f64,
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        peak_rss: measure::mib(exporter.memory()?.peak),
        peak_fds,
        all_succeeded,
        all_counted,
        worst: format!(
            "{} collectors failed, {} sessions missing",
            worst.0, worst.1
        ),
    })
}

/// Every request of a fleet scrape, `parallelism` at a time; the wall time.
async fn fetch_all(
    client: &reqwest::Client,
    urls: &[String],
    parallelism: usize,
) -> Result<Duration> {
    let pages = floor::pages(SESSIONS);
    let requests: Vec<String> = urls
        .iter()
        .flat_map(|base| {
            std::iter::once(format!("{base}/api/v1/system/healthcheck?status=all"))
                .chain((0..pages).map(move |i| floor::page_url(base, i)))
        })
        .collect();
    let started = Instant::now();
    let mut fetches = futures::stream::iter(requests)
        .map(|url| async move { floor::read(client, &url).await })
        .buffer_unordered(parallelism);
    while let Some(done) = fetches.next().await {
        done?;
    }
    Ok(started.elapsed())
}

/// The `Max open files` line of `/proc/PID/limits` (soft and hard).
fn max_open_files(pid: u32) -> Result<String> {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits"))?;
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .ok_or("no Max open files")?;
    let numbers: Vec<&str> = line.split_whitespace().skip(3).take(2).collect();
    Ok(numbers.join(" / "))
}

/// Counts a process' open descriptors every few milliseconds in a thread
/// of its own until stopped; keeps the most.
struct FdSampler {
    stop: Arc<AtomicBool>,
    most: Arc<AtomicUsize>,
    thread: std::thread::JoinHandle<()>,
}

impl FdSampler {
    fn start(pid: u32) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let most = Arc::new(AtomicUsize::new(0));
        let thread = {
            let (stop, most) = (stop.clone(), most.clone());
            std::thread::spawn(move || {
                let dir = format!("/proc/{pid}/fd");
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(entries) = std::fs::read_dir(&dir) {
                        most.fetch_max(entries.count(), Ordering::Relaxed);
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
            })
        };
        Self { stop, most, thread }
    }

    fn stop(self) -> usize {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
        self.most.load(Ordering::Relaxed)
    }
}

impl Fleet {
    /// The fleet table (Markdown).
    pub fn table(fleets: &[Fleet]) -> String {
        let mut out = format!(
            "\n| gateways x sessions | exporter's open files limit | floor ({} in flight) | scrape | ratio | CPU per scrape | peak RSS | peak open fds | every collector | every session |\n|---:|---:|---:|---:|---:|---:|---:|---:|---|---|\n",
            fleets.first().map_or(0, |f| f.parallelism)
        );
        for f in fleets {
            out.push_str(&format!(
                "| {} x {SESSIONS} | {} | {:.0} ms | {:.0} ms | {:.2} | {:.0} ms | {:.1} MiB | {} | {} | {} |\n",
                f.gateways,
                f.nofile,
                f.floor * 1e3,
                f.scrape * 1e3,
                f.ratio,
                f.cpu * 1e3,
                f.peak_rss,
                f.peak_fds,
                yes(f.all_succeeded),
                yes(f.all_counted),
            ));
        }
        out.push_str(&format!(
            "\n| gateways | CPUs | floor: client + gateways CPU | scrape: exporter + gateways CPU | shortest scrape these allow | as a ratio | exporter CPU per scrape that allows {RATIO_GOAL} x |\n|---:|---:|---:|---:|---:|---:|---:|\n"
        ));
        for f in fleets {
            let bound = (f.cpu + f.gateways_cpu) / f.cpus as f64;
            let allowed = RATIO_GOAL * f.floor * f.cpus as f64 - f.gateways_cpu;
            out.push_str(&format!(
                "| {} | {} | {:.0} + {:.0} ms | {:.0} + {:.0} ms | {:.0} ms | {:.2} | {:.0} ms |\n",
                f.gateways,
                f.cpus,
                f.floor_cpu * 1e3,
                f.floor_gateways_cpu * 1e3,
                f.cpu * 1e3,
                f.gateways_cpu * 1e3,
                bound * 1e3,
                bound / f.floor,
                allowed * 1e3,
            ));
        }
        out
    }

    /// The fleet's goals.
    pub fn goals(&self) -> Vec<Goal> {
        let n = self.gateways;
        let mut goals = vec![Goal {
            what: format!(
                "{n} gateways x {SESSIONS} sessions under {NOFILE} descriptors: every session counted"
            ),
            measured: if self.all_counted {
                "every round".to_owned()
            } else {
                self.worst.clone()
            },
            pass: self.all_counted,
        }];
        if let Some((_, goal)) = RSS_GOAL_MIB.iter().find(|(g, _)| *g == n) {
            goals.push(Goal {
                what: format!("{n} gateways: peak resident memory at most {goal} MiB"),
                measured: format!("{:.1} MiB", self.peak_rss),
                pass: self.peak_rss <= *goal,
            });
        }
        if n == FLEETS[0] {
            goals.push(Goal {
                what: format!("{n} gateways: every collector succeeds"),
                measured: if self.all_succeeded {
                    "every round".to_owned()
                } else {
                    self.worst.clone()
                },
                pass: self.all_succeeded,
            });
            goals.push(Goal {
                what: format!("{n} gateways: scrape at most {RATIO_GOAL} x the floor"),
                measured: format!("{:.2} x", self.ratio),
                pass: self.ratio <= RATIO_GOAL,
            });
        }
        goals
    }
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}
