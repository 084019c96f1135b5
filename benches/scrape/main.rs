//! `cargo bench --bench scrape`: how close the exporter comes to the
//! physical limit when it lists the sessions of a large Connect Secure
//! gateway, against the floor (the same pages fetched by a client that does
//! nothing with them) and the usual Python script, all measured in the same
//! run; the cost of a large `/metrics`; and whether memory grows over a
//! thousand scrapes. It prints the figures as Markdown tables and PASS or
//! FAIL for each goal, and exits non-zero when a goal fails.
//!
//! Processes: this one (the driver, the floor client, the in-process
//! encoder benchmark), the simulated gateways (this binary again, with
//! `--simulate`), the release exporter, and the Python baseline.

mod baseline;
mod exporter;
mod fleet;
mod floor;
mod gateways;
mod measure;
mod report;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use appliance_exporter::config::Config;
use appliance_exporter::exposition::{self, Block, Desc, Format, Samples};

use exporter::Exporter;
use gateways::Gateways;
use measure::median_seconds;

/// Errors end the benchmark with their message.
type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Session counts measured, with the rounds of each.
const SESSION_RUNS: [(usize, usize); 2] = [(10_000, 20), (100_000, 5)];
/// Latencies the floor is measured at, to show it follows the latency.
const LATENCIES: [Duration; 3] = [
    Duration::ZERO,
    Duration::from_millis(5),
    Duration::from_millis(10),
];
/// The latency the exporter is held to (index into `LATENCIES`).
const MAIN: usize = 1;
/// Targets of the large `/metrics` scrape, and sessions on each.
const METRICS_TARGETS: usize = 200;
const METRICS_SESSIONS: usize = 480;
/// `/metrics` scrapes measured.
const METRICS_ROUNDS: usize = 10;
/// Series of the in-process encoder benchmark: blocks x families x series.
const RENDER_SHAPE: (usize, usize, usize) = (200, 50, 10);
/// Consecutive scrapes of the memory check, after its warm-up, and the
/// sessions listed by each.
const GROWTH_SCRAPES: usize = 1_000;
const GROWTH_WARM_UP: usize = 200;
const GROWTH_SESSIONS: usize = 2_000;
/// Scrapes summed up in one reading of the memory check.
const GROWTH_WINDOW: usize = 100;
/// Readings compared at either end of the memory check.
const GROWTH_ENDS: usize = 3;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if let Some(result) = gateways::serve_if_asked(&args) {
        return exit(result.map(|()| true));
    }
    if !args.iter().any(|a| a == "--bench") {
        // `cargo test --all-targets` runs benches too; this one is only for
        // `cargo bench`.
        println!("scrape benchmark: run it with `cargo bench --bench scrape`");
        return ExitCode::SUCCESS;
    }
    appliance_exporter::install_crypto_provider();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build();
    match runtime {
        // `cargo bench --bench scrape -- fleet` measures the fleet alone.
        Ok(rt) if args.iter().any(|a| a == "fleet") => exit(rt.block_on(run_fleet())),
        Ok(rt) => exit(rt.block_on(run())),
        Err(e) => exit(Err(e.into())),
    }
}

fn exit(result: Result<bool>) -> ExitCode {
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("scrape benchmark: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs every part; `Ok(false)` when a goal failed.
async fn run() -> Result<bool> {
    let machine = report::Machine::now();
    println!("{}", machine.describe());
    let python = baseline::python().map_err(|e| e.to_string());
    let client = reqwest::Client::new();
    let mut listings = Vec::new();
    for (sessions, rounds) in SESSION_RUNS {
        eprintln!("listing {sessions} sessions, {rounds} rounds");
        listings.push(
            listing(
                &client,
                sessions,
                rounds,
                python.as_deref().map_err(String::as_str),
            )
            .await?,
        );
    }
    eprintln!("/metrics of {METRICS_TARGETS} targets");
    let metrics = large_metrics(&client).await?;
    eprintln!("encoder");
    let render = render_in_process()?;
    eprintln!("{GROWTH_SCRAPES} consecutive scrapes");
    let growth = memory_growth(&client).await?;
    let figures = report::Figures {
        machine: machine.finished(),
        listings,
        metrics,
        render,
        growth,
    };
    print!("{}", figures.tables());
    let mut goals = figures.goals();
    goals.extend(fleets(&client).await?);
    for goal in &goals {
        println!("{goal}");
    }
    Ok(goals.iter().all(|g| g.pass))
}

/// The fleet part alone.
async fn run_fleet() -> Result<bool> {
    let machine = report::Machine::now();
    println!("{}", machine.describe());
    let goals = fleets(&reqwest::Client::new()).await?;
    println!("{}", machine.finished().describe());
    for goal in &goals {
        println!("{goal}");
    }
    Ok(goals.iter().all(|g| g.pass))
}

/// Measures every fleet, prints their table, returns their goals.
async fn fleets(client: &reqwest::Client) -> Result<Vec<report::Goal>> {
    let mut measured = Vec::new();
    let sizes: Vec<usize> = match std::env::var("FLEET_GATEWAYS") {
        Ok(list) => list
            .split(',')
            .filter_map(|n| n.trim().parse().ok())
            .collect(),
        Err(_) => fleet::FLEETS.to_vec(),
    };
    for gateways in sizes {
        eprintln!("/metrics of a fleet of {gateways} gateways");
        measured.push(fleet::measure(client, gateways).await?);
    }
    print!("{}", fleet::Fleet::table(&measured));
    Ok(measured.iter().flat_map(fleet::Fleet::goals).collect())
}

/// The session listing at one size: floor at each latency, the exporter
/// at the main latency (and at none), the Python baseline, round by round.
async fn listing(
    client: &reqwest::Client,
    sessions: usize,
    rounds: usize,
    python: std::result::Result<&std::path::Path, &str>,
) -> Result<report::Listing> {
    let gateways = LATENCIES
        .iter()
        .map(|&l| Gateways::start(sessions, l, 1))
        .collect::<Result<Vec<_>>>()?;
    let url = |i: usize| gateways[i].urls[0].clone();
    let name = |i: usize| format!("ics-{}ms", LATENCIES[i].as_millis());
    let dir = tempfile::tempdir()?;
    let targets: Vec<_> = (0..LATENCIES.len()).map(|i| (name(i), url(i))).collect();
    let config_path = exporter::config(dir.path(), "sessions", Some("active_users"), &targets)?;
    let config = Config::load(&config_path)?;
    let module = config.modules.get("sessions").ok_or("no module")?;
    let appliance_exporter::config::FamilyOptions::ConnectSecure(options) = &module.options else {
        return Err("the sessions module is not a connect_secure one".into());
    };
    let concurrency = options.active_users.concurrency as usize;
    let floor_client = appliance_exporter::upstream::Connector::new(module, &config.limits)?
        .client()?
        .client;
    let exporter = Exporter::start(&config_path)?;
    let mut baseline = match python {
        Ok(python) => Ok(baseline::Baseline::start(python, &url(MAIN))?),
        Err(e) => Err(e.to_owned()),
    };

    let check = |scrape: &exporter::Scrape, target: &str| -> Result<()> {
        let success = format!(
            "appliance_exporter_collector_success{{target=\"{target}\",collector=\"active_users\"}}"
        );
        let listed = exporter::sum(&scrape.body, "ics_active_sessions_listed");
        if exporter::value(&scrape.body, &success) != Some(1.0) || listed != sessions as f64 {
            return Err(format!(
                "{target}: the scrape did not list {sessions} sessions:\n{}\n{}",
                scrape.body,
                exporter.log()
            )
            .into());
        }
        Ok(())
    };
    let probe = |i: usize| format!("/probe?target={}", name(i));

    let mut floors: Vec<Vec<Duration>> = vec![Vec::new(); LATENCIES.len()];
    let mut page_bytes = 0;
    let mut floor_cpu = 0.0;
    let mut walls = Vec::new();
    let mut walls_no_latency = Vec::new();
    let mut cpu = 0.0;
    let mut baseline_walls = Vec::new();
    let mut baseline_cpu = Vec::new();
    // Round 0 warms up connections, allocator and interpreter, and tells
    // the exporter how many pages the listing takes; not counted.
    for round in 0..=rounds {
        let counted = round > 0;
        for (i, floor) in floors.iter_mut().enumerate() {
            let f = floor::fetch(&floor_client, &url(i), sessions, concurrency).await?;
            page_bytes = f.bytes;
            if counted {
                floor.push(f.elapsed);
                if i == MAIN {
                    floor_cpu += f.cpu;
                }
            }
        }
        let scrape = exporter.scrape(client, &probe(MAIN)).await?;
        check(&scrape, &name(MAIN))?;
        let unhurried = exporter.scrape(client, &probe(0)).await?;
        check(&unhurried, &name(0))?;
        if let Ok(b) = &mut baseline {
            let s = b.scrape()?;
            if s.sessions != sessions as u64 {
                return Err(format!("the baseline listed {} sessions", s.sessions).into());
            }
            if counted {
                baseline_walls.push(s.elapsed);
                baseline_cpu.push(s.cpu);
            }
        }
        if counted {
            walls.push(scrape.elapsed);
            walls_no_latency.push(unhurried.elapsed);
            cpu += scrape.cpu;
        }
    }
    let memory = exporter.memory()?;
    // The exporter read exactly the floor's pages: one more scrape of each
    // target comes with /metrics.
    let (_, self_metrics) = exporter.get(client, "/metrics").await?;
    let requests = exporter::value(
        &self_metrics,
        &format!(
            "appliance_exporter_upstream_requests_total{{target=\"{}\",endpoint=\"/api/v1/system/active-users\",code=\"200\"}}",
            name(MAIN)
        ),
    );
    let expected = ((rounds + 2) * floor::pages(sessions)) as f64;
    if requests != Some(expected) {
        return Err(format!("the exporter asked for {requests:?} pages, not {expected}").into());
    }
    let baseline = match baseline {
        Ok(b) => Ok(report::Baseline {
            wall: median_seconds(&baseline_walls),
            cpu: measure::median(&baseline_cpu),
            peak_rss: b.finish()?,
        }),
        Err(e) => Err(e),
    };
    Ok(report::Listing {
        sessions,
        pages: floor::pages(sessions),
        concurrency,
        page_bytes,
        floors: floors.iter().map(|f| median_seconds(f)).collect(),
        floor_cpu: floor_cpu / rounds as f64,
        wall: median_seconds(&walls),
        wall_no_latency: median_seconds(&walls_no_latency),
        cpu: cpu / rounds as f64,
        peak_rss: memory.peak,
        baseline,
    })
}

/// `/metrics` of many targets with every collector, end to end.
async fn large_metrics(client: &reqwest::Client) -> Result<report::Metrics> {
    let gateways = Gateways::start(METRICS_SESSIONS, LATENCIES[MAIN], METRICS_TARGETS)?;
    let dir = tempfile::tempdir()?;
    let targets: Vec<_> = gateways
        .urls
        .iter()
        .enumerate()
        .map(|(i, url)| (format!("gateway-{i:03}"), url.clone()))
        .collect();
    let config_path = exporter::config(dir.path(), "ics", None, &targets)?;
    let exporter = Exporter::start(&config_path)?;
    let mut walls = Vec::new();
    let mut cpu = 0.0;
    let mut last = String::new();
    for round in 0..=METRICS_ROUNDS {
        let scrape = exporter.scrape(client, "/metrics").await?;
        let up = exporter::sum(&scrape.body, "ics_up");
        let failed = scrape
            .body
            .lines()
            .filter(|l| l.starts_with("appliance_exporter_collector_success{") && l.ends_with(" 0"))
            .count();
        if up != METRICS_TARGETS as f64 || failed > 0 {
            return Err(format!(
                "/metrics: {up} targets up, {failed} collectors failed\n{}",
                exporter.log()
            )
            .into());
        }
        if round > 0 {
            walls.push(scrape.elapsed);
            cpu += scrape.cpu;
        }
        last = scrape.body;
    }
    Ok(report::Metrics {
        targets: METRICS_TARGETS,
        series: exporter::series(&last),
        bytes: last.len(),
        wall: median_seconds(&walls),
        cpu: cpu / METRICS_ROUNDS as f64,
        peak_rss: exporter.memory()?.peak,
    })
}

/// `exposition::render` of a large set of series, in this process.
fn render_in_process() -> Result<report::Render> {
    let (blocks, families, per_family) = RENDER_SHAPE;
    // Descriptors are `'static` in the exporter; leaked once here.
    let descs: Vec<&'static Desc> = (0..families)
        .map(|f| {
            let name: &'static str = Box::leak(format!("bench_family_{f}_bytes").into_boxed_str());
            &*Box::leak(Box::new(Desc::gauge(name, "A benchmark family")))
        })
        .collect();
    let blocks: Vec<Arc<Block>> = (0..blocks)
        .map(|b| {
            let mut samples = Samples::new();
            for desc in &descs {
                for s in 0..per_family {
                    let item = format!("item-{s}");
                    samples.push(
                        desc,
                        &[("item", &item), ("node", "ics-node-a")],
                        (b * s) as f64 * 1.5,
                    );
                }
            }
            Arc::new(Block {
                target: Some(format!("gateway-{b:03}")),
                samples,
            })
        })
        .collect();
    let timed = |format: Format| -> Result<(f64, usize)> {
        let mut times = Vec::new();
        let mut bytes = 0;
        for _ in 0..10 {
            let started = Instant::now();
            let out = exposition::render(blocks.clone(), None, format)?;
            times.push(started.elapsed());
            bytes = out.len();
        }
        Ok((median_seconds(&times), bytes))
    };
    let (openmetrics, bytes) = timed(Format::OpenMetrics)?;
    let (text, _) = timed(Format::Text004)?;
    Ok(report::Render {
        series: RENDER_SHAPE.0 * RENDER_SHAPE.1 * RENDER_SHAPE.2,
        bytes,
        openmetrics,
        text,
    })
}

/// Resident memory over consecutive scrapes: read after every scrape, and
/// summed up as the median of each hundred, so that the allocator's jitter
/// from one scrape to the next does not pass for growth.
async fn memory_growth(client: &reqwest::Client) -> Result<report::Growth> {
    let gateways = Gateways::start(GROWTH_SESSIONS, Duration::ZERO, 1)?;
    let dir = tempfile::tempdir()?;
    let targets = [("ics".to_owned(), gateways.urls[0].clone())];
    let config_path = exporter::config(dir.path(), "sessions", Some("active_users"), &targets)?;
    let exporter = Exporter::start(&config_path)?;
    let mut resident = Vec::with_capacity(GROWTH_SCRAPES);
    for n in 1..=GROWTH_WARM_UP + GROWTH_SCRAPES {
        let (_, body) = exporter.get(client, "/probe?target=ics").await?;
        if exporter::sum(&body, "ics_active_sessions_listed") != GROWTH_SESSIONS as f64 {
            return Err(format!("scrape {n} did not list every session:\n{body}").into());
        }
        if n > GROWTH_WARM_UP {
            resident.push(exporter.memory()?.resident as f64);
        }
    }
    let windows = resident
        .chunks(GROWTH_WINDOW)
        .enumerate()
        .map(|(i, w)| ((i + 1) * GROWTH_WINDOW, measure::median(w) as u64))
        .collect();
    let ends = GROWTH_ENDS * GROWTH_WINDOW;
    Ok(report::Growth {
        sessions: GROWTH_SESSIONS,
        scrapes: GROWTH_SCRAPES,
        windows,
        first: measure::median(&resident[..ends]) as u64,
        last: measure::median(&resident[resident.len() - ends..]) as u64,
    })
}
