//! A stand-in for snmp_exporter on loopback: the licensed concurrent-user
//! capacity (`iveMaxConcurrentUsersLicenseCapacity` of the IVE MIB) of the
//! given Connect Secure targets, with the same `target` label as the
//! exporter's series, for Prometheus to scrape in a job of its own.

use appliance_exporter::simulator::{self, Running};
use axum::Router;
use axum::routing::get;

/// The licensed capacity it reports for every gateway.
pub(super) const CAPACITY: f64 = 250.0;

/// Serves `/metrics` on a loopback port until dropped.
pub(super) async fn start(gateways: &[String]) -> Running {
    let mut body = "# TYPE iveMaxConcurrentUsersLicenseCapacity gauge\n".to_owned();
    for target in gateways {
        body.push_str(&format!(
            "iveMaxConcurrentUsersLicenseCapacity{{target=\"{target}\"}} {CAPACITY}\n"
        ));
    }
    let router = Router::new().route("/metrics", get(move || std::future::ready(body.clone())));
    simulator::start(router).await.unwrap()
}
