//! `cargo bench --bench session_page`: the CPU the exporter spends reading
//! the active-users pages of a gateway, in process and without the network,
//! as nanoseconds per session: the 50 pages of 10,000 sessions of
//! `cargo bench --bench scrape`, read into one listing and encoded, many
//! times over. A quick, repeatable figure for changes to the page reader;
//! `scrape` gives the end-to-end ones.

use std::hint::black_box;
use std::time::Instant;

use appliance_exporter::appliances::connect_secure::active_users::{ActiveUsers, encode};
use appliance_exporter::simulator::connect_secure::{PAGE_CAP, SessionTable, Sessions};

/// Sessions of the gateway read.
const SESSIONS: usize = 10_000;
/// Whole listings read per measurement, and measurements taken.
const LISTINGS: usize = 20;
const MEASUREMENTS: usize = 7;

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        // `cargo test --all-targets` runs benches too.
        println!("session page benchmark: run it with `cargo bench --bench session_page`");
        return;
    }
    // The sessions of `scrape`'s gateways.
    let table = SessionTable::new(Sessions {
        count: SESSIONS,
        users: SESSIONS * 4 / 5,
        realms: vec!["Users".into(), "Contractors".into(), "Admin Users".into()],
        nodes: ["ics-node-a", "ics-node-b", "ics-node-c", "ics-node-d"]
            .map(String::from)
            .to_vec(),
        ..Sessions::default()
    });
    let pages: Vec<Vec<u8>> = (0..SESSIONS.div_ceil(PAGE_CAP))
        .map(|k| {
            table
                .page(Some(PAGE_CAP), Some(k * PAGE_CAP), false, false)
                .into_bytes()
        })
        .collect();
    let mut best = f64::INFINITY;
    for _ in 0..MEASUREMENTS {
        let started = Instant::now();
        for _ in 0..LISTINGS {
            let mut listing = ActiveUsers::default();
            for page in &pages {
                if let Err(e) = listing.absorb(black_box(page)) {
                    eprintln!("{e}");
                    std::process::exit(1);
                }
            }
            black_box(encode(&listing, 10));
        }
        let ns = started.elapsed().as_nanos() as f64 / (LISTINGS * SESSIONS) as f64;
        println!("{ns:.1} ns per session");
        best = best.min(ns);
    }
    println!(
        "best: {best:.1} ns per session ({SESSIONS} sessions, {} pages)",
        pages.len()
    );
}
