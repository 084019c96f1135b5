//! The web configuration under stress: a live change that would remove
//! every basic-auth user is refused and logged, and a flood of wrong
//! passwords neither delays a correctly authenticated scrape past its
//! budget nor queues without bound (past a few waiting checks the answer
//! is 503 at once).

use std::time::{Duration, Instant};

use appliance_exporter::simulator::{self, enterprise_recon as er2};
use appliance_exporter::webconfig::WebConfig;
use base64::Engine as _;

use crate::common::{Exporter, Logs, Workdir, er2_config, er2_simulator};

const USER: &str = "apiuser";
const PASSWORD: &str = "hardening-appliance-password";
const SCRAPER: &str = "prometheus";
const SCRAPER_PASSWORD: &str = "scraper-Pa55-hardening";

fn basic(user: &str, password: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

/// An exporter behind basic auth whose one user's hash has `cost`.
async fn exporter(cost: u32) -> (Exporter, simulator::Running) {
    let sim = er2_simulator(er2::LicenseModel::NonSitewide, USER, PASSWORD, None).await;
    let work = Workdir::new();
    let secret = work.write("er2.pass", PASSWORD);
    let yaml = er2_config(USER, &secret, "er2_api", "", &[("er2", sim.url())]);
    let hash = bcrypt::hash(SCRAPER_PASSWORD, cost).unwrap();
    let web = work.write(
        "web.yml",
        &format!("basic_auth_users:\n  {SCRAPER}: {hash}\n"),
    );
    let web = WebConfig::load(&web).unwrap();
    (Exporter::start_web(work, &yaml, Some(web)).await, sim)
}

async fn status(exporter: &Exporter, authorization: Option<&str>) -> u16 {
    let mut req = crate::common::client().get(format!("{}/metrics", exporter.url));
    if let Some(a) = authorization {
        req = req.header("Authorization", a);
    }
    req.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn a_live_change_removing_every_user_is_refused_and_logged() {
    let logs = Logs::capture();
    let (exporter, _sim) = exporter(4).await;
    let good = basic(SCRAPER, SCRAPER_PASSWORD);
    assert_eq!(status(&exporter, Some(&good)).await, 200);
    assert_eq!(status(&exporter, None).await, 401);
    for (i, text) in ["", "basic_auth_users:\n", "# being rewritten\n"]
        .iter()
        .enumerate()
    {
        exporter.work.write("web.yml", text);
        assert_eq!(status(&exporter, None).await, 401, "{text:?}");
        assert_eq!(status(&exporter, Some(&good)).await, 200, "{text:?}");
        let refused = logs.lines_with(&["without basic_auth_users", "keeping the previous"]);
        assert_eq!(refused.len(), i + 1, "{}", logs.text());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_flood_neither_delays_a_scrape_nor_queues_without_bound() {
    // A realistic bcrypt cost: each wrong password costs real work.
    let (exporter, _sim) = exporter(10).await;
    let good = basic(SCRAPER, SCRAPER_PASSWORD);
    // Prometheus' first scrape (its login is then cached).
    assert_eq!(status(&exporter, Some(&good)).await, 200);
    let url = format!("{}/metrics", exporter.url);
    let flood: Vec<_> = (0..100)
        .map(|i| {
            let req = crate::common::client()
                .get(&url)
                .header("Authorization", basic(SCRAPER, &format!("guess-{i}")));
            tokio::spawn(async move { req.send().await.unwrap().status().as_u16() })
        })
        .collect();
    // While the flood is on, the scrape answers within its budget.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let budget = Duration::from_secs(10);
    let started = Instant::now();
    let resp = crate::common::client()
        .get(&url)
        .header("Authorization", &good)
        .header("X-Prometheus-Scrape-Timeout-Seconds", "10")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert!(started.elapsed() < budget, "took {:?}", started.elapsed());
    let mut answers = Vec::new();
    for f in flood {
        answers.push(f.await.unwrap());
    }
    assert!(
        answers.iter().all(|s| *s == 401 || *s == 503),
        "{answers:?}"
    );
    assert!(
        answers.contains(&503),
        "no check was turned away: the queue is unbounded ({answers:?})"
    );
}
