//! The HTTP surface: endpoints, `/probe` in both forms, content
//! negotiation, and `promtool check metrics` on the output.

use appliance_exporter::simulator::{self, enterprise_recon as er2};

use crate::common::{Exporter, Workdir, collector_success, promtool_check_metrics, series, value};

async fn exporter() -> (Exporter, simulator::Running) {
    let appliance = simulator::start(er2::router(er2::Er2Config::new(
        er2::LicenseModel::NonSitewide,
        "apiuser",
        "pw",
    )))
    .await
    .unwrap();
    let work = Workdir::new();
    let pw = work.write("pw", "pw\n");
    let other = work.write("other", "other\n");
    let yaml = format!(
        "auths:\n  er2_api: {{username: apiuser, password_file: {}}}\n  other: {{username: apiuser, password_file: {}}}\n  \
         key: {{api_key_file: {}}}\n\
         modules:\n  er2: {{kind: enterprise_recon, auth: er2_api, probe: {{allowed_hosts: [127.0.0.1], allowed_auths: [other]}}}}\n\
         targets:\n  - {{name: er2-prod, url: \"{}\", module: er2}}\n",
        pw.display(),
        other.display(),
        pw.display(),
        appliance.url()
    );
    (Exporter::start_in(work, &yaml).await, appliance)
}

#[tokio::test]
async fn probe_by_static_name() {
    let (exporter, _sim) = exporter().await;
    let a = exporter.probe_up("er2-prod", "er2_up").await;
    assert!(
        !a.body.contains("appliance_exporter_build_info"),
        "probe output carries only the target"
    );
    assert!(
        !a.body
            .contains("appliance_exporter_upstream_requests_total")
    );
    assert!(!a.body.contains("process_"));
}

#[tokio::test]
async fn probe_by_url_and_module_with_auth_override() {
    let (exporter, sim) = exporter().await;
    let url = sim.url();
    let ok = exporter
        .get(&format!("/probe?target={url}&module=er2"))
        .await;
    assert_eq!(ok.status, 200);
    assert_eq!(
        value(&ok.body, &format!("er2_up{{target=\"{url}\"}}")),
        Some(1.0),
        "{}",
        ok.body
    );
    let overridden = exporter
        .get(&format!("/probe?target={url}&module=er2&auth=other"))
        .await;
    assert_eq!(overridden.status, 200);
    assert_eq!(
        value(&overridden.body, &format!("er2_up{{target=\"{url}\"}}")),
        Some(0.0),
        "{}",
        overridden.body
    );
}

#[tokio::test]
async fn probe_rejects_what_it_cannot_resolve() {
    let (exporter, sim) = exporter().await;
    let url = sim.url();
    let cases = [
        ("/probe", "the target parameter is missing\n"),
        ("/probe?target=", "the target parameter is missing\n"),
        (
            "/probe?target=nope",
            "no static target is named \"nope\" (pass module= to probe a URL)\n",
        ),
        (
            &format!("/probe?target={url}&module=ics") as &str,
            "unknown module \"ics\"\n",
        ),
        (
            "/probe?target=ftp://x&module=er2",
            "target: URL scheme must be http or https, not ftp\n",
        ),
        (
            "/probe?target=not%20a%20url&module=er2",
            "target: invalid URL \"not a url\": relative URL without a base\n",
        ),
    ];
    for (path, message) in cases {
        let a = exporter.get(path).await;
        assert_eq!(a.status, 400, "{path}: {}", a.body);
        assert_eq!(a.body, message, "{path}");
    }
    // An auth the module's probe.allowed_auths does not list is refused,
    // whether or not it exists.
    for auth in ["key", "missing"] {
        let a = exporter
            .get(&format!("/probe?target={url}&module=er2&auth={auth}"))
            .await;
        assert_eq!(
            (a.status, a.body),
            (
                403,
                format!("auth \"{auth}\" is not in modules.er2.probe.allowed_auths\n")
            )
        );
    }
}

#[tokio::test]
async fn content_negotiation_and_both_formats_are_valid() {
    let (exporter, _sim) = exporter().await;
    let text = exporter.get("/metrics").await;
    assert_eq!(
        text.content_type,
        "text/plain; version=0.0.4; charset=utf-8"
    );
    assert!(!text.body.contains("# EOF"));
    assert!(
        text.body
            .contains("# TYPE appliance_exporter_upstream_requests_total counter\n")
    );
    if let Some((ok, out)) = promtool_check_metrics(&text.body) {
        assert!(ok, "promtool check metrics: {out}\n{}", text.body);
    }
    let om = exporter
        .get_with(
            "/metrics",
            &[(
                "Accept",
                "application/openmetrics-text;version=1.0.0,text/plain;q=0.5",
            )],
        )
        .await;
    assert_eq!(
        om.content_type,
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert!(om.body.ends_with("# EOF\n"));
    assert!(
        om.body
            .contains("# TYPE appliance_exporter_upstream_requests counter\n")
    );
    // The same series in both formats (the server's clock and its newest
    // load sample may tick between the two scrapes).
    let steady = |body: &str| -> Vec<String> {
        series(body, "er2_")
            .into_iter()
            .filter(|l| {
                !l.starts_with("er2_server_clock_offset_seconds")
                    && !l.starts_with("er2_server_load_timestamp_seconds")
            })
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(steady(&om.body), steady(&text.body));
    let probe = exporter.get("/probe?target=er2-prod").await;
    if let Some((ok, out)) = promtool_check_metrics(&probe.body) {
        assert!(ok, "promtool check metrics on /probe: {out}");
    }
}

#[tokio::test]
async fn self_metrics_are_on_metrics() {
    let (exporter, _sim) = exporter().await;
    let m = exporter.metrics().await;
    assert!(
        m.contains("appliance_exporter_build_info{version=\""),
        "{m}"
    );
    assert_eq!(
        value(&m, "appliance_exporter_config_last_reload_successful"),
        Some(1.0)
    );
    assert!(value(&m, "process_resident_memory_bytes").unwrap() > 0.0);
    assert!(value(&m, "process_open_fds").unwrap() > 0.0);
    assert!(value(&m, "process_start_time_seconds").unwrap() > 1.0e9);
    assert!(
        m.contains("appliance_exporter_upstream_request_duration_seconds_bucket{"),
        "{m}"
    );
    assert!(m.contains(
        "appliance_exporter_collector_duration_seconds{target=\"er2-prod\",collector=\"licenses\"}"
    ));
}

#[tokio::test]
async fn health_readiness_and_landing_page() {
    let (exporter, _sim) = exporter().await;
    assert_eq!(exporter.get("/-/healthy").await.status, 200);
    assert_eq!(exporter.get("/-/ready").await.status, 200);
    let before = exporter.get("/").await;
    assert_eq!(before.status, 200);
    assert!(before.content_type.starts_with("text/html"));
    assert!(
        before.body.contains("er2-prod") && before.body.contains("not scraped yet"),
        "{}",
        before.body
    );
    exporter.metrics().await;
    let after = exporter.get("/").await;
    assert!(after.body.contains("success"), "{}", after.body);
    assert!(after.body.contains(env!("CARGO_PKG_VERSION")));
    assert_eq!(exporter.get("/nope").await.status, 404);
}

#[tokio::test]
async fn scrape_timeout_header_bounds_the_scrape() {
    // An address that accepts connections but never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    let _keep = tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            if let Ok((s, _)) = silent.accept().await {
                held.push(s);
            }
        }
    });
    let work = Workdir::new();
    let pw = work.write("pw", "pw\n");
    let yaml = format!(
        "auths:\n  a: {{username: u, password_file: {}}}\nmodules:\n  er2: {{kind: enterprise_recon, auth: a, timeout: 30s}}\n\
         targets:\n  - {{name: silent, url: \"http://{addr}\", module: er2}}\n",
        pw.display()
    );
    let exporter = Exporter::start_in(work, &yaml).await;
    let started = std::time::Instant::now();
    let a = exporter
        .get_with(
            "/metrics",
            &[("X-Prometheus-Scrape-Timeout-Seconds", "1.5")],
        )
        .await;
    let took = started.elapsed();
    assert_eq!(a.status, 200);
    assert!(took < std::time::Duration::from_secs(5), "took {took:?}");
    assert_eq!(value(&a.body, "er2_up{target=\"silent\"}"), Some(0.0));
    assert_eq!(
        value(
            &a.body,
            "appliance_exporter_collector_success{target=\"silent\",collector=\"licenses\"}"
        ),
        Some(0.0)
    );
    assert_eq!(
        value(
            &a.body,
            "appliance_exporter_upstream_requests_total{target=\"silent\",endpoint=\"/v1/licenses\",code=\"timeout\"}"
        ),
        Some(1.0),
        "{}",
        a.body
    );
}

#[tokio::test]
async fn gzip_answers_are_decompressed_and_capped_after_decompression() {
    use axum::routing::get;
    // A licences answer the appliance compressed; decompressed it is larger
    // than the module's 1 KiB cap only when padded.
    let padded = format!(
        "{{\"state\": \"licensed\", \"expires\": 1, \"company\": \"{}\"}}",
        "x".repeat(4096)
    );
    let small = appliance_exporter::simulator::enterprise_recon::LICENSES_NON_SITEWIDE.to_owned();
    let router =
        axum::Router::new()
            .route(
                "/small/v1/licenses",
                get(move |h: axum::http::HeaderMap| {
                    let body = small.clone();
                    async move {
                        appliance_exporter::simulator::json_response_compressible(&h, 200, body)
                    }
                }),
            )
            .route(
                "/big/v1/licenses",
                get(move |h: axum::http::HeaderMap| {
                    let body = padded.clone();
                    async move {
                        appliance_exporter::simulator::json_response_compressible(&h, 200, body)
                    }
                }),
            );
    let appliance = simulator::start(router).await.unwrap();
    let work = Workdir::new();
    let pw = work.write("pw", "pw\n");
    let yaml = format!(
        "auths:\n  a: {{username: u, password_file: {}}}\n\
         modules:\n  er2: {{kind: enterprise_recon, auth: a, collectors: [licenses], max_response_size: 2KiB}}\n\
         targets:\n  - {{name: small, url: \"{u}/small\", module: er2}}\n  - {{name: big, url: \"{u}/big\", module: er2}}\n",
        pw.display(),
        u = appliance.url()
    );
    let exporter = Exporter::start_in(work, &yaml).await;
    let m = exporter.metrics().await;
    assert_eq!(
        value(
            &m,
            "appliance_exporter_collector_success{target=\"small\",collector=\"licenses\"}"
        ),
        Some(1.0),
        "{m}"
    );
    assert_eq!(
        value(&m, "er2_license_expiry_timestamp_seconds{target=\"small\"}"),
        Some(1_632_378_566.0)
    );
    // 4 KiB of text compresses to a few bytes, but the cap counts what is decompressed.
    assert_eq!(
        value(
            &m,
            "appliance_exporter_collector_success{target=\"big\",collector=\"licenses\"}"
        ),
        Some(0.0),
        "{m}"
    );
}

#[tokio::test]
async fn the_demo_shows_every_family_with_every_collector_succeeding() {
    let tmp = tempfile::tempdir().unwrap();
    let bin =
        crate::common::Binary::start(&["--demo"], &[("TMPDIR", tmp.path().to_str().unwrap())]);
    let m = crate::common::get(&format!("{}/metrics", bin.url), &[])
        .await
        .body;
    for family in ["er2_", "ics_", "sectona_"] {
        assert!(!series(&m, family).is_empty(), "no {family} series: {m}");
    }
    // The demo's targets by family, with every collector of the family.
    use appliance_exporter::appliances::{connect_secure, enterprise_recon, sectona};
    let demo = [
        ("er2_up", "er2-prod", enterprise_recon::COLLECTORS),
        ("er2_up", "er2-sitewide", enterprise_recon::COLLECTORS),
        ("ics_up", "vpn-cluster", connect_secure::COLLECTORS),
        ("ics_up", "vpn-dr", connect_secure::COLLECTORS),
        ("sectona_up", "pam", sectona::COLLECTORS),
    ];
    for (up, target, collectors) in demo {
        let selector = format!("{up}{{target=\"{target}\"}}");
        assert_eq!(value(&m, &selector), Some(1.0), "{selector}: {m}");
        for c in collectors {
            assert_eq!(
                collector_success(&m, target, c),
                Some(1.0),
                "{target} {c}: {m}"
            );
        }
    }
    // Those collectors and targets, and no more.
    let collectors = series(&m, "appliance_exporter_collector_success{");
    let expected: usize = demo.iter().map(|(_, _, c)| c.len()).sum();
    assert_eq!(collectors.len(), expected, "{collectors:?}");
    let ups: usize = ["er2_up{", "ics_up{", "sectona_up{"]
        .iter()
        .map(|up| series(&m, up).len())
        .sum();
    assert_eq!(ups, demo.len(), "{m}");
    // The banner says where the metrics and the generated configuration are.
    let log = bin.log_with(&["configuration:  "]);
    let config = tmp
        .path()
        .join("appliance_exporter-demo/appliance_exporter.yml");
    assert!(
        log.contains(&format!("metrics:        {}/metrics", bin.url)),
        "{log}"
    );
    assert!(
        log.contains(&format!("configuration:  {}", config.display())),
        "{log}"
    );
    // The configuration it wrote is a valid starting point.
    let check = std::process::Command::new(env!("CARGO_BIN_EXE_appliance_exporter"))
        .args(["--config.check", "--config.file"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}
