//! The benchmark's figures, printed as Markdown tables (ready for
//! docs/performance.md), and the goals they are held to, each PASS or FAIL.

use std::fmt::{self, Write as _};
use std::time::SystemTime;

use super::measure::mib;
use super::{LATENCIES, MAIN, floor};

/// Scrape time at the largest session count, at most this times the floor.
const GOAL_RATIO: f64 = 1.5;
/// Peak resident memory at the largest session count, at most this.
const GOAL_PEAK_RSS: u64 = 32 * 1024 * 1024;
/// At least this times faster than the Python baseline.
const GOAL_SPEED_UP: f64 = 8.0;
/// At most this share of the Python baseline's CPU time.
const GOAL_CPU_SHARE: f64 = 0.1;
/// Resident memory over the last few hundred consecutive scrapes at most
/// this above the first few hundred (medians). glibc's heap swings by about
/// as much from one few hundred scrapes to the next without any trend (seen
/// over 6,000 scrapes); a leak of 2 KiB a scrape exceeds it.
const GOAL_GROWTH: u64 = 2 * 1024 * 1024;
/// The floor at a latency, at most this times (the floor without latency
/// plus the latency bound): the simulator keeps up.
const GOAL_FLOOR_SCALING: f64 = 1.25;

/// The machine and when.
#[derive(Debug, Clone)]
pub struct Machine {
    /// Logical CPUs.
    cpus: usize,
    /// From /proc/cpuinfo.
    model: String,
    /// 1-minute load average at the start.
    load_start: String,
    /// And at the end.
    load_end: String,
    /// When the run started (UTC).
    date: String,
}

impl Machine {
    /// The machine now.
    pub fn now() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let model = cpuinfo
            .lines()
            .find_map(|l| {
                l.strip_prefix("model name")?
                    .split_once(':')
                    .map(|(_, m)| m.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".into());
        let date = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
        Self {
            cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
            model,
            load_start: load(),
            load_end: String::new(),
            date,
        }
    }

    /// The same, with the load at the end read.
    pub fn finished(mut self) -> Self {
        self.load_end = load();
        self
    }

    /// One line about the machine.
    pub fn describe(&self) -> String {
        let end = if self.load_end.is_empty() {
            String::new()
        } else {
            format!(" -> {}", self.load_end)
        };
        format!(
            "{}, nproc {}, {}, load average (1 min) {}{end}",
            self.date, self.cpus, self.model, self.load_start
        )
    }
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// The Python baseline at one session count.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// Median wall seconds per scrape.
    pub wall: f64,
    /// Median CPU seconds per scrape.
    pub cpu: f64,
    /// Peak resident memory, bytes.
    pub peak_rss: u64,
}

/// The session listing at one session count.
#[derive(Debug, Clone)]
pub struct Listing {
    /// Sessions listed.
    pub sessions: usize,
    /// Pages read.
    pub pages: usize,
    /// Pages in flight at once.
    pub concurrency: usize,
    /// Bytes of all pages.
    pub page_bytes: u64,
    /// Median floor seconds at each of `LATENCIES`.
    pub floors: Vec<f64>,
    /// Mean CPU seconds of the floor client per listing, main latency.
    pub floor_cpu: f64,
    /// Median scrape seconds at the main latency.
    pub wall: f64,
    /// Median scrape seconds without latency.
    pub wall_no_latency: f64,
    /// Mean exporter CPU seconds per scrape at the main latency.
    pub cpu: f64,
    /// The exporter's peak resident memory, bytes.
    pub peak_rss: u64,
    /// The Python baseline, or why it did not run.
    pub baseline: Result<Baseline, String>,
}

impl Listing {
    fn ratio(&self) -> f64 {
        self.wall / self.floors[MAIN]
    }
}

/// The large `/metrics`.
#[derive(Debug, Clone)]
pub struct Metrics {
    /// Static targets.
    pub targets: usize,
    /// Series in the exposition.
    pub series: usize,
    /// Its size.
    pub bytes: usize,
    /// Median wall seconds.
    pub wall: f64,
    /// Mean CPU seconds per scrape.
    pub cpu: f64,
    /// Peak resident memory, bytes.
    pub peak_rss: u64,
}

/// `exposition::render` in process.
#[derive(Debug, Clone)]
pub struct Render {
    /// Series rendered.
    pub series: usize,
    /// Bytes of OpenMetrics output.
    pub bytes: usize,
    /// Median seconds, OpenMetrics.
    pub openmetrics: f64,
    /// Median seconds, text 0.0.4.
    pub text: f64,
}

/// Resident memory over consecutive scrapes.
#[derive(Debug, Clone)]
pub struct Growth {
    /// Sessions listed per scrape.
    pub sessions: usize,
    /// Scrapes after the warm-up.
    pub scrapes: usize,
    /// (scrapes so far, median resident bytes over the last window).
    pub windows: Vec<(usize, u64)>,
    /// Median resident bytes over the first few hundred scrapes.
    pub first: u64,
    /// And over the last few hundred.
    pub last: u64,
}

impl Growth {
    fn grown(&self) -> i64 {
        self.last as i64 - self.first as i64
    }
}

/// Everything measured in one run.
#[derive(Debug, Clone)]
pub struct Figures {
    /// Where and when.
    pub machine: Machine,
    /// The session listing at each session count.
    pub listings: Vec<Listing>,
    /// The large `/metrics`.
    pub metrics: Metrics,
    /// The in-process encoder.
    pub render: Render,
    /// The memory check.
    pub growth: Growth,
}

/// One goal's outcome.
#[derive(Debug, Clone)]
pub struct Goal {
    /// What is held to what.
    pub what: String,
    /// The measured figure, as printed.
    pub measured: String,
    /// Whether it is met.
    pub pass: bool,
}

impl fmt::Display for Goal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.pass { "PASS" } else { "FAIL" };
        write!(f, "{verdict}  {}: {}", self.what, self.measured)
    }
}

fn ms(seconds: f64) -> String {
    format!("{:.0} ms", seconds * 1000.0)
}

fn ms_precise(seconds: f64) -> String {
    if seconds < 0.1 {
        format!("{:.1} ms", seconds * 1000.0)
    } else {
        ms(seconds)
    }
}

fn latency_ms(i: usize) -> u128 {
    LATENCIES[i].as_millis()
}

impl Figures {
    /// The tables.
    pub fn tables(&self) -> String {
        let mut out = String::new();
        let main = latency_ms(MAIN);
        let _ = writeln!(out, "\nMachine: {}\n", self.machine.describe());
        let _ = writeln!(
            out,
            "Session listing, {main} ms per upstream request, page size {}, concurrency {} (medians; CPU is the mean per scrape):\n",
            super::gateways::PAGE_SIZE,
            self.listings.first().map_or(0, |l| l.concurrency)
        );
        let _ = writeln!(
            out,
            "| sessions | pages (MiB) | floor | floor CPU | exporter | ratio | exporter CPU | exporter peak RSS | Python | Python CPU | Python peak RSS | faster | CPU share |"
        );
        let _ = writeln!(
            out,
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        for l in &self.listings {
            let python = match &l.baseline {
                Ok(b) => format!(
                    "{} | {} | {:.1} MiB | {:.1}x | {:.3}",
                    ms(b.wall),
                    ms(b.cpu),
                    mib(b.peak_rss),
                    b.wall / l.wall,
                    l.cpu / b.cpu
                ),
                Err(e) => format!("not run: {e} | | | | "),
            };
            let _ = writeln!(
                out,
                "| {} | {} ({:.1}) | {} | {} | {} | {:.2} | {} | {:.1} MiB | {python} |",
                l.sessions,
                l.pages,
                mib(l.page_bytes),
                ms(l.floors[MAIN]),
                ms_precise(l.floor_cpu),
                ms(l.wall),
                l.ratio(),
                ms_precise(l.cpu),
                mib(l.peak_rss),
            );
        }
        let _ = writeln!(
            out,
            "\nThe floor follows the latency (latency bound: one round trip per {} pages):\n",
            self.listings.first().map_or(0, |l| l.concurrency)
        );
        let mut header = String::from("| sessions |");
        let mut rule = String::from("|---:|");
        for i in 0..LATENCIES.len() {
            let _ = write!(header, " floor at {} ms (bound) |", latency_ms(i));
            rule.push_str("---:|");
        }
        let _ = writeln!(out, "{header} exporter at 0 ms |\n{rule}---:|");
        for l in &self.listings {
            let mut row = format!("| {} |", l.sessions);
            for (i, floor) in l.floors.iter().enumerate() {
                let bound = floor::latency_bound(l.sessions, l.concurrency, LATENCIES[i]);
                let _ = write!(row, " {} ({}) |", ms(*floor), ms(bound.as_secs_f64()));
            }
            let _ = writeln!(out, "{row} {} |", ms(l.wall_no_latency));
        }
        let m = &self.metrics;
        let r = &self.render;
        let _ = writeln!(
            out,
            "\nLarge /metrics, {} targets with every Connect Secure collector ({} sessions each, {main} ms per request), and the encoder alone:\n",
            m.targets,
            super::METRICS_SESSIONS
        );
        let _ = writeln!(out, "| what | series | size | wall | CPU | peak RSS |");
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
        let _ = writeln!(
            out,
            "| `/metrics` end to end | {} | {:.1} MiB | {} | {} | {:.1} MiB |",
            m.series,
            mib(m.bytes as u64),
            ms(m.wall),
            ms(m.cpu),
            mib(m.peak_rss)
        );
        let _ = writeln!(
            out,
            "| `exposition::render`, OpenMetrics | {} | {:.1} MiB | {} | | |",
            r.series,
            mib(r.bytes as u64),
            ms_precise(r.openmetrics)
        );
        let _ = writeln!(
            out,
            "| `exposition::render`, text 0.0.4 | {} | | {} | | |",
            r.series,
            ms_precise(r.text)
        );
        let g = &self.growth;
        let readings: Vec<String> = g
            .windows
            .iter()
            .map(|(n, rss)| format!("{n}: {:.2}", mib(*rss)))
            .collect();
        let _ = writeln!(
            out,
            "\nResident memory (MiB) over {} consecutive scrapes of {} sessions after a warm-up of {}, median of each hundred (scrapes so far: RSS): {}\n",
            g.scrapes,
            g.sessions,
            super::GROWTH_WARM_UP,
            readings.join(", ")
        );
        out
    }

    /// Every goal, PASS or FAIL.
    pub fn goals(&self) -> Vec<Goal> {
        let mut goals = Vec::new();
        if let Some(l) = self.listings.iter().max_by_key(|l| l.sessions) {
            goals.push(Goal {
                what: format!(
                    "scrape time at {} sessions <= {GOAL_RATIO} x floor",
                    l.sessions
                ),
                measured: format!(
                    "{:.2} x ({} vs {})",
                    l.ratio(),
                    ms(l.wall),
                    ms(l.floors[MAIN])
                ),
                pass: l.ratio() <= GOAL_RATIO,
            });
            goals.push(Goal {
                what: format!(
                    "peak RSS at {} sessions <= {:.0} MiB",
                    l.sessions,
                    mib(GOAL_PEAK_RSS)
                ),
                measured: format!("{:.1} MiB", mib(l.peak_rss)),
                pass: l.peak_rss <= GOAL_PEAK_RSS,
            });
        }
        for l in &self.listings {
            match &l.baseline {
                Ok(b) => {
                    let faster = b.wall / l.wall;
                    goals.push(Goal {
                        what: format!(
                            "{} sessions: >= {GOAL_SPEED_UP} x faster than Python",
                            l.sessions
                        ),
                        measured: format!("{faster:.1} x ({} vs {})", ms(l.wall), ms(b.wall)),
                        pass: faster >= GOAL_SPEED_UP,
                    });
                    let share = l.cpu / b.cpu;
                    goals.push(Goal {
                        what: format!(
                            "{} sessions: <= {GOAL_CPU_SHARE} of Python's CPU time",
                            l.sessions
                        ),
                        measured: format!("{share:.3} ({} vs {})", ms_precise(l.cpu), ms(b.cpu)),
                        pass: share <= GOAL_CPU_SHARE,
                    });
                }
                Err(e) => goals.push(Goal {
                    what: format!("{} sessions: compared with Python", l.sessions),
                    measured: format!("the baseline did not run: {e}"),
                    pass: false,
                }),
            }
            for i in (0..LATENCIES.len()).filter(|&i| !LATENCIES[i].is_zero()) {
                let bound = floor::latency_bound(l.sessions, l.concurrency, LATENCIES[i]);
                let expected = l.floors[0] + bound.as_secs_f64();
                goals.push(Goal {
                    what: format!(
                        "{} sessions: floor at {} ms <= {GOAL_FLOOR_SCALING} x (floor at 0 ms + latency bound)",
                        l.sessions,
                        latency_ms(i)
                    ),
                    measured: format!("{} vs {}", ms(l.floors[i]), ms(expected)),
                    pass: l.floors[i] <= GOAL_FLOOR_SCALING * expected,
                });
            }
        }
        let grown = self.growth.grown();
        goals.push(Goal {
            what: format!(
                "resident memory grows <= {:.0} MiB over {} scrapes (medians of the first and last {})",
                mib(GOAL_GROWTH),
                self.growth.scrapes,
                super::GROWTH_ENDS * super::GROWTH_WINDOW
            ),
            measured: format!("{:+.2} MiB", grown as f64 / (1024.0 * 1024.0)),
            pass: grown <= GOAL_GROWTH as i64,
        });
        goals
    }
}
