//! End-to-end: the fleet overview's queries, run against a real Prometheus
//! scraping the demo, show the values the demo's appliances hold: every
//! licence's days left as its simulator set them, sorted ascending, with
//! company and edition; every gateway's signed-in users as a share of the
//! licensed capacity snmp_exporter reports for it; every target read, in
//! its family.

use serde_json::Value;

use super::dashboards;
use super::e2e::{Stack, VARIABLES, eventually};
use super::snmp_stand_in::CAPACITY;

/// The query `ref_id` of the fleet overview's panel `title`, with the
/// dashboard's variables at their "All" values.
fn fleet_query(title: &str, ref_id: &str) -> String {
    let fleet = dashboards()
        .into_iter()
        .find(|d| d.file == "fleet.json")
        .expect("dashboards/fleet.json");
    let mut expr = fleet
        .queries()
        .into_iter()
        .find(|q| q.panel == title && q.ref_id == ref_id)
        .unwrap_or_else(|| panic!("fleet.json has no query {ref_id} in {title:?}"))
        .expr;
    for (variable, value) in VARIABLES {
        expr = expr.replace(variable, value);
    }
    expr
}

fn number(series: &Value) -> f64 {
    series["value"][1]
        .as_str()
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

fn label<'a>(series: &'a Value, name: &str) -> &'a str {
    series["metric"][name].as_str().unwrap_or_default()
}

fn row<'a>(rows: &'a [Value], target: &str) -> Result<&'a Value, String> {
    rows.iter()
        .find(|r| label(r, "target") == target)
        .ok_or_else(|| format!("no row of {target} in {rows:?}"))
}

/// The demo's sitewide licence expires when its sample says.
const SITEWIDE_EXPIRES: f64 = 1_938_048_757.0;
/// The demo's PRO licence runs this long from the demo's start.
const PROD_RUNS: f64 = 120.0 * 86_400.0;

#[tokio::test]
async fn the_fleet_overview_shows_the_values_of_the_demo_fleet() {
    let Some(stack) = Stack::start().await else {
        return;
    };
    stack.a_few_scrapes_in().await;
    let p = &stack.prometheus;
    let started = stack.started as f64;

    let expiry = fleet_query("Days until licence expiry", "A");
    eventually(
        "every demo licence with its days left, sorted ascending",
        async || {
            let rows = p.query(&expiry).await?;
            let days: Vec<f64> = rows.iter().map(number).collect();
            if !days.windows(2).all(|w| w[0] <= w[1]) {
                return Err(format!("not sorted ascending: {days:?}"));
            }
            let prod = row(&rows, "er2-prod")?;
            let sitewide = row(&rows, "er2-sitewide")?;
            let at = prod["value"][0].as_f64().unwrap_or_default();
            // The expiry the column implies, in seconds since the epoch.
            let prod_expires = number(prod) * 86_400.0 + at;
            assert!(
                started + PROD_RUNS - 1.0 <= prod_expires && prod_expires <= at + PROD_RUNS + 1.0,
                "er2-prod: {} days left at {at}, the demo licence runs 120 days from {started}",
                number(prod)
            );
            let expected = (SITEWIDE_EXPIRES - at) / 86_400.0;
            assert!(
                (number(sitewide) - expected).abs() < 1e-6,
                "er2-sitewide: {} days left, expected {expected}",
                number(sitewide)
            );
            let position = |t: &str| rows.iter().position(|r| label(r, "target") == t);
            assert!(position("er2-prod") < position("er2-sitewide"), "{rows:?}");
            for (r, company, edition) in [
                (prod, "Example Company Inc", "PRO"),
                (sitewide, "My Organization Inc", "PII"),
            ] {
                assert_eq!(label(r, "company"), company, "{r}");
                assert_eq!(label(r, "edition"), edition, "{r}");
            }
            Ok(())
        },
    )
    .await;

    let capacity = fleet_query("Capacity use", "A");
    let gateways: Vec<&str> = stack
        .demo_targets
        .iter()
        .filter(|t| t.kind == "connect_secure")
        .map(|t| t.name.as_str())
        .collect();
    assert!(
        !gateways.is_empty(),
        "the demo has no Connect Secure target"
    );
    eventually(
        "each gateway's users as a share of its SNMP capacity",
        async || {
            let rows = p.query(&capacity).await?;
            for gateway in &gateways {
                let users = p
                    .query(&format!(
                        r#"max by (target) (ics_signed_in_users{{target="{gateway}"}})"#
                    ))
                    .await?;
                let users = users.first().map(number).ok_or("no signed-in users")?;
                let share = number(row(&rows, gateway)?);
                if (share - users / CAPACITY).abs() > 1e-9 {
                    return Err(format!("{gateway}: {share}, expected {users} / {CAPACITY}"));
                }
            }
            Ok(())
        },
    )
    .await;

    let targets = fleet_query("Every target", "A");
    eventually("every demo target read, in its family", async || {
        let rows = p.query(&targets).await?;
        for t in &stack.demo_targets {
            let family = match t.kind.as_str() {
                "enterprise_recon" => "er2",
                "connect_secure" => "ics",
                other => other,
            };
            let r = row(&rows, &t.name)?;
            assert_eq!(label(r, "family"), family, "{r}");
            if number(r) != 1.0 {
                return Err(format!("{} is not read: {r}", t.name));
            }
        }
        Ok(())
    })
    .await;
}
