//! The floor: the pages a scrape of the session listing reads, fetched by a
//! client that does nothing with them. It is the exporter's own HTTP stack
//! (a client from the module's `upstream::Connector`, so the same
//! keep-alive pool and settings), the same page size, the same order and
//! concurrency as the exporter's listing of a gateway it listed before (the
//! first page together with as many more as the concurrency allows, since
//! the last listing told how many there are, then the rest `concurrency`
//! at a time), and every body read to its end and dropped.

use std::time::{Duration, Instant};

use futures::StreamExt as _;
use futures::stream::FuturesUnordered;

use super::gateways::{API_KEY, PAGE_SIZE};
use super::{Result, measure};

/// One fetch of every page.
#[derive(Debug, Clone, Copy)]
pub struct Fetched {
    /// Wall time.
    pub elapsed: Duration,
    /// This process' CPU seconds meanwhile (it does nothing else then).
    pub cpu: f64,
    /// Body bytes read.
    pub bytes: u64,
}

/// Pages a listing of `sessions` takes.
pub fn pages(sessions: usize) -> usize {
    sessions.div_ceil(PAGE_SIZE).max(1)
}

/// What the latency alone costs the listing: one round trip per
/// `concurrency` pages.
pub fn latency_bound(sessions: usize, concurrency: usize, latency: Duration) -> Duration {
    let rounds = pages(sessions).div_ceil(concurrency.max(1));
    latency * u32::try_from(rounds).unwrap_or(u32::MAX)
}

/// Fetches the pages of a gateway listing `sessions` sessions.
pub async fn fetch(
    client: &reqwest::Client,
    base: &str,
    sessions: usize,
    concurrency: usize,
) -> Result<Fetched> {
    let cpu_before = measure::cpu_seconds(std::process::id())?;
    let started = Instant::now();
    let mut bytes = 0;
    let mut next = 0;
    let mut in_flight = FuturesUnordered::new();
    loop {
        while in_flight.len() < concurrency && next < pages(sessions) {
            in_flight.push(page(client, base, next));
            next += 1;
        }
        match in_flight.next().await {
            Some(read) => bytes += read?,
            None => break,
        }
    }
    let elapsed = started.elapsed();
    Ok(Fetched {
        elapsed,
        cpu: measure::cpu_seconds(std::process::id())? - cpu_before,
        bytes,
    })
}

/// GETs page `index` and reads its body to the end; returns its length.
async fn page(client: &reqwest::Client, base: &str, index: usize) -> Result<u64> {
    read(client, &page_url(base, index)).await
}

/// The URL of page `index` of a listing.
pub fn page_url(base: &str, index: usize) -> String {
    format!(
        "{base}/api/v1/system/active-users?number={PAGE_SIZE}&start={}",
        index * PAGE_SIZE
    )
}

/// GETs `url` as the exporter would and reads its body to the end;
/// returns its length.
pub async fn read(client: &reqwest::Client, url: &str) -> Result<u64> {
    let mut response = client
        .get(url)
        .basic_auth(API_KEY, Some(""))
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await?;
    if !response.status().is_success() {
        return Err(format!("{url}: HTTP {}", response.status()).into());
    }
    let mut bytes = 0;
    while let Some(chunk) = response.chunk().await? {
        bytes += chunk.len() as u64;
    }
    Ok(bytes)
}
