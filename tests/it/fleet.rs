//! A fleet behind one exporter with small limits: every session of every
//! gateway is counted and every collector succeeds, while the gateways
//! together never see more requests at once than `limits.max_in_flight`,
//! one gateway never more than `limits.max_requests_per_target`, and no
//! more gateways are being asked at once than
//! `limits.max_targets_in_flight`. A large gateway (many session pages)
//! does not starve the small ones beside it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use appliance_exporter::simulator::{self, connect_secure as ics};
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;

use crate::common::{Exporter, Workdir, collector_success, value};

const KEY: &str = "ZmxlZXQtc3VpdGUtaWNzLWFwaS1rZXk=";
const SMALL_GATEWAYS: usize = 12;
const SMALL_SESSIONS: usize = 450;
const LARGE_SESSIONS: usize = 6_000;
const MAX_IN_FLIGHT: usize = 5;
const MAX_TARGETS: usize = 3;
const PER_TARGET: usize = 2;

/// Requests in flight, per gateway and in all, and the most seen at once.
#[derive(Default)]
struct Watch {
    state: Mutex<WatchState>,
    requests: AtomicUsize,
}

#[derive(Default)]
struct WatchState {
    per_gateway: BTreeMap<usize, usize>,
    most_in_flight: usize,
    most_per_gateway: usize,
    most_gateways: usize,
}

impl Watch {
    fn arrive(&self, gateway: usize) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let mut s = self.state.lock().unwrap();
        *s.per_gateway.entry(gateway).or_default() += 1;
        let in_flight: usize = s.per_gateway.values().sum();
        let here = s.per_gateway[&gateway];
        let gateways = s.per_gateway.values().filter(|n| **n > 0).count();
        s.most_in_flight = s.most_in_flight.max(in_flight);
        s.most_per_gateway = s.most_per_gateway.max(here);
        s.most_gateways = s.most_gateways.max(gateways);
    }

    fn leave(&self, gateway: usize) {
        let mut s = self.state.lock().unwrap();
        if let Some(n) = s.per_gateway.get_mut(&gateway) {
            *n -= 1;
        }
    }
}

async fn watched(
    State((watch, gateway)): State<(Arc<Watch>, usize)>,
    request: Request,
    next: Next,
) -> Response {
    watch.arrive(gateway);
    // Long enough for requests to overlap when the limits let them.
    tokio::time::sleep(Duration::from_millis(2)).await;
    let response = next.run(request).await;
    watch.leave(gateway);
    response
}

async fn gateway(watch: &Arc<Watch>, index: usize, sessions: usize) -> simulator::Running {
    let sim = ics::IcsSim::new(ics::IcsConfig {
        sessions: ics::Sessions {
            count: sessions,
            users: sessions / 2,
            realms: vec!["Users".into(), "Contractors".into()],
            nodes: vec!["node-a".into(), "node-b".into()],
            ..ics::Sessions::default()
        },
        ..ics::IcsConfig::with_api_key(KEY)
    });
    let router = sim.router().layer(middleware::from_fn_with_state(
        (watch.clone(), index),
        watched,
    ));
    simulator::start(router).await.unwrap()
}

#[tokio::test]
async fn a_fleet_is_read_whole_within_the_limits() {
    let watch = Arc::new(Watch::default());
    let mut running = Vec::new();
    let mut targets = vec![("large".to_owned(), gateway(&watch, 0, LARGE_SESSIONS).await)];
    for i in 1..=SMALL_GATEWAYS {
        targets.push((
            format!("small-{i}"),
            gateway(&watch, i, SMALL_SESSIONS).await,
        ));
    }
    let work = Workdir::new();
    let key = work.write("ics.key", KEY);
    let mut yaml = format!(
        "limits:\n  max_in_flight: {MAX_IN_FLIGHT}\n  max_targets_in_flight: {MAX_TARGETS}\n  \
         max_requests_per_target: {PER_TARGET}\n\
         auths:\n  a:\n    api_key_file: {}\n\
         modules:\n  ics:\n    kind: connect_secure\n    auth: a\n    timeout: 60s\n    \
         collectors: [healthcheck, active_users, leases]\n    \
         active_users: {{page_size: 200, concurrency: 8}}\n\
         targets:\n",
        key.display()
    );
    for (name, sim) in &targets {
        yaml.push_str(&format!(
            "  - {{name: {name}, url: \"{}\", module: ics}}\n",
            sim.url()
        ));
    }
    let exporter = Exporter::start_in(work, &yaml).await;
    let m = exporter.metrics().await;
    for (name, sim) in targets {
        let sessions = if name == "large" {
            LARGE_SESSIONS
        } else {
            SMALL_SESSIONS
        };
        for collector in ["healthcheck", "active_users", "leases"] {
            assert_eq!(
                collector_success(&m, &name, collector),
                Some(1.0),
                "{name} {collector}:\n{m}"
            );
        }
        assert_eq!(
            value(&m, &format!("ics_active_sessions{{target=\"{name}\"}}")),
            Some(sessions as f64),
            "{m}"
        );
        let listed: f64 = crate::common::series(&m, "ics_active_sessions_listed{")
            .iter()
            .filter(|s| s.contains(&format!("target=\"{name}\"")))
            .filter_map(|s| s.rsplit(' ').next()?.parse::<f64>().ok())
            .sum();
        assert_eq!(listed, sessions as f64, "{name}:\n{m}");
        running.push(sim);
    }
    let s = watch.state.lock().unwrap();
    assert!(watch.requests.load(Ordering::Relaxed) > 13 * 3);
    assert!(s.most_in_flight <= MAX_IN_FLIGHT, "{}", s.most_in_flight);
    assert!(s.most_per_gateway <= PER_TARGET, "{}", s.most_per_gateway);
    assert!(s.most_gateways <= MAX_TARGETS, "{}", s.most_gateways);
    // The limits were reached, so they are what held the requests back.
    assert_eq!(s.most_per_gateway, PER_TARGET);
    assert!(s.most_in_flight > PER_TARGET, "{}", s.most_in_flight);
}
