//! Soak test (opt-in, minutes): the real binary scraped continuously by
//! several scrapers while the faults of one appliance cycle, with its
//! resident memory and open file descriptors read from /proc at the start
//! (after a warm-up) and at the end. They must stay flat: memory within
//! 16 MiB plus 25 % of the start, descriptors within 16 of the start.
//!
//! ```sh
//! cargo test --test soak -- --ignored --nocapture
//! SOAK_SECONDS=600 cargo test --release --test soak -- --ignored --nocapture
//! ```

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use appliance_exporter::simulator::faults::{Fault, Faults};
use appliance_exporter::simulator::{self, enterprise_recon as er2};

const USER: &str = "apiuser";
const PASSWORD: &str = "soak-password";
const SCRAPERS: usize = 4;
const WARM_UP: Duration = Duration::from_secs(20);
const FAULT_PERIOD: Duration = Duration::from_secs(2);

fn fault_cycle() -> Vec<Option<Fault>> {
    vec![
        None,
        Some(Fault::Status(500)),
        Some(Fault::Status(401)),
        Some(Fault::Status(403)),
        Some(Fault::MaintenancePage),
        Some(Fault::MalformedJson),
        Some(Fault::Truncated),
        Some(Fault::Endless),
        Some(Fault::Hang),
        Some(Fault::Slow(Duration::from_millis(300))),
        Some(Fault::Slow(Duration::from_secs(10))),
    ]
}

/// Resident memory (bytes) and open descriptors of `pid`.
fn usage(pid: u32) -> (u64, usize) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let rss_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count();
    (rss_kib * 1024, fds)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "minutes long; run with --ignored"]
async fn memory_and_descriptors_stay_flat_while_faults_cycle() {
    let seconds: u64 = std::env::var("SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(150);
    appliance_exporter::install_crypto_provider();
    let cfg = || er2::Er2Config::new(er2::LicenseModel::NonSitewide, USER, PASSWORD);
    let faults = Faults::new();
    let faulty = simulator::start(faults.wrap(er2::router(cfg())))
        .await
        .unwrap();
    let healthy = simulator::start(er2::router(cfg())).await.unwrap();
    let work = tempfile::tempdir().unwrap();
    let secret = work.path().join("er2.pass");
    std::fs::write(&secret, PASSWORD).unwrap();
    let config = work.path().join("config.yml");
    std::fs::write(
        &config,
        format!(
            "auths:\n  er2_api: {{username: {USER}, password_file: {}}}\n\
             modules:\n  er2: {{kind: enterprise_recon, auth: er2_api, timeout: 3s, max_response_size: 256KiB}}\n\
             targets:\n  - {{name: faulty, url: \"{}\", module: er2}}\n  - {{name: healthy, url: \"{}\", module: er2}}\n",
            secret.display(),
            faulty.url(),
            healthy.url()
        ),
    )
    .unwrap();
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_appliance_exporter"))
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--web.listen-address={addr}"))
        .arg("--log.level=warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let log_lines = Arc::new(AtomicU64::new(0));
    let stderr = child.stderr.take().unwrap();
    let counter = log_lines.clone();
    std::thread::spawn(move || {
        for _ in BufReader::new(stderr).lines() {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    });
    let until = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < until, "the exporter did not start");
        std::thread::sleep(Duration::from_millis(50));
    }

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let scrapes = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(AtomicU64::new(0));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..SCRAPERS {
        let (stop, scrapes, failures, client) = (
            stop.clone(),
            scrapes.clone(),
            failures.clone(),
            client.clone(),
        );
        let path = if i % 2 == 0 {
            "/metrics"
        } else {
            "/probe?target=faulty"
        };
        let url = format!("http://{addr}{path}");
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let ok = match client
                    .get(&url)
                    .header("X-Prometheus-Scrape-Timeout-Seconds", "2.5")
                    .send()
                    .await
                {
                    Ok(r) => {
                        r.status().is_success()
                            && r.text().await.is_ok_and(|b| b.contains("er2_up"))
                    }
                    Err(_) => false,
                };
                scrapes.fetch_add(1, Ordering::Relaxed);
                if !ok {
                    failures.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    let cycle = fault_cycle();
    let run_for = |d: Duration, faults: Faults, cycle: Vec<Option<Fault>>, offset: usize| async move {
        let end = Instant::now() + d;
        let mut n = offset;
        while Instant::now() < end {
            match &cycle[n % cycle.len()] {
                None => faults.clear_all(),
                Some(f) => faults.set("/v1", f.clone()),
            }
            n += 1;
            tokio::time::sleep(FAULT_PERIOD).await;
        }
        n
    };
    let n = run_for(WARM_UP, faults.clone(), cycle.clone(), 0).await;
    let (rss_start, fds_start) = usage(pid);
    let scrapes_start = scrapes.load(Ordering::Relaxed);
    let started = Instant::now();
    run_for(Duration::from_secs(seconds), faults.clone(), cycle, n).await;
    faults.clear_all();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (rss_end, fds_end) = usage(pid);
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let _ = child.kill();
    let _ = child.wait();
    let total = scrapes.load(Ordering::Relaxed) - scrapes_start;
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    println!(
        "soak: {:.0} s, {total} scrapes ({:.1}/s) by {SCRAPERS} scrapers, faults cycling every {} s; \
         VmRSS {:.1} MiB -> {:.1} MiB, open fds {fds_start} -> {fds_end}, {} failed scrapes, {} log lines",
        started.elapsed().as_secs_f64(),
        total as f64 / started.elapsed().as_secs_f64(),
        FAULT_PERIOD.as_secs(),
        mib(rss_start),
        mib(rss_end),
        failures.load(Ordering::Relaxed),
        log_lines.load(Ordering::Relaxed),
    );
    assert_eq!(
        failures.load(Ordering::Relaxed),
        0,
        "every scrape answered 200 with series"
    );
    assert!(total > 0);
    assert!(
        rss_end <= rss_start + rss_start / 4 + 16 * 1024 * 1024,
        "resident memory grew from {rss_start} to {rss_end} bytes"
    );
    assert!(
        fds_end <= fds_start + 16,
        "open descriptors grew from {fds_start} to {fds_end}"
    );
}
