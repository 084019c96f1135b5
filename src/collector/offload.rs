//! Work proportional to an appliance's answer, kept off the async worker
//! when the answer is large: the exporter runs on one worker thread by
//! default, and decoding a body of megabytes there would hold up
//! `/-/healthy`, `/metrics` and every other target for as long. Small
//! bodies (the usual answers, a page of sessions) are decoded in place,
//! where a trip through the blocking pool would cost more than the work.
//!
//! When many targets are collected at once, their small answers (the pages
//! of sessions of a fleet) go to the lane: one thread beside the worker
//! that reads them one at a time, with room for a few more waiting; an
//! answer that finds no room is read in place. So a second CPU does part
//! of the reading without a thread woken per answer (the blocking pool's
//! condvar and context switches took a tenth of a 200-gateway scrape's
//! CPU), and no answers pile up waiting to be read. A panic in such work
//! fails that answer alone, wherever it ran.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;
use std::sync::mpsc::{self, SyncSender, TrySendError};

use bytes::Bytes;
use serde::de::DeserializeOwned;
use tracing::warn;

use crate::json;
use crate::upstream::UpstreamError;

/// Bodies up to this size are worked on in place.
pub const INLINE_BYTES: usize = 128 * 1024;
/// Snapshots of up to this many rows are encoded in place.
pub const INLINE_ROWS: usize = 2_000;

/// Runs `work`, about a body of `bytes` from `endpoint`, on the blocking
/// pool when the body is large, in place otherwise.
pub async fn by_size<T: Send + 'static>(
    endpoint: &'static str,
    bytes: usize,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, UpstreamError> {
    if bytes <= INLINE_BYTES {
        return Ok(work());
    }
    blocking(endpoint, work).await
}

/// Runs `work`, on an answer from `endpoint`, on the blocking pool.
pub async fn blocking<T: Send + 'static>(
    endpoint: &'static str,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, UpstreamError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| unfinished(endpoint, e))
}

/// The error of work on an answer from `endpoint` that did not finish.
fn unfinished(endpoint: &'static str, why: impl std::fmt::Display) -> UpstreamError {
    UpstreamError::Decode {
        endpoint,
        path: ".".to_owned(),
        reason: format!("reading the answer did not finish: {why}"),
    }
}

/// Runs `encode` on a snapshot of `rows` rows read from `endpoint`: on the
/// blocking pool when it has many (the series of 60,000 rows take as long
/// to build as their body took to decode), in place otherwise.
pub async fn encode<T: Send + 'static>(
    endpoint: &'static str,
    rows: usize,
    encode: impl FnOnce() -> T + Send + 'static,
) -> Result<T, UpstreamError> {
    if rows <= INLINE_ROWS {
        return Ok(encode());
    }
    blocking(endpoint, encode).await
}

/// Work handed to a lane.
type Job = Box<dyn FnOnce() + Send>;

/// Jobs that may wait for a lane: a fleet's pages are read as fast with
/// one as with eight (docs/fleet.md), and each waiting page holds its body.
const WAITING: usize = 3;

/// A thread that runs small jobs one at a time, with room for [`WAITING`]
/// more.
struct Lane {
    jobs: SyncSender<Job>,
}

impl Lane {
    /// Starts the lane's thread; `None` (and a warning) when it cannot be
    /// started: the answers are then read in place.
    fn start() -> Option<Lane> {
        let (jobs, queue) = mpsc::sync_channel::<Job>(WAITING);
        match std::thread::Builder::new()
            .name("answer-reader".to_owned())
            .spawn(move || queue.into_iter().for_each(|job| job()))
        {
            Ok(_) => Some(Lane { jobs }),
            Err(e) => {
                warn!(reason = %e, "cannot start the thread that reads answers beside the async worker; they are read on it");
                None
            }
        }
    }

    /// Hands `job` to the lane; gives it back when the lane has no room.
    fn offer(&self, job: Job) -> Option<Job> {
        match self.jobs.try_send(job) {
            Ok(()) => None,
            Err(TrySendError::Full(job) | TrySendError::Disconnected(job)) => Some(job),
        }
    }
}

/// Runs `work` on `lane` when it has room, in place otherwise (or without
/// a lane); a panic fails this answer alone and leaves the lane running.
async fn run<T: Send + 'static>(
    lane: Option<&Lane>,
    endpoint: &'static str,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, UpstreamError> {
    let (done, outcome) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || drop(done.send(catch_unwind(AssertUnwindSafe(work)))));
    let refused = match lane {
        Some(lane) => lane.offer(job),
        None => Some(job),
    };
    if let Some(job) = refused {
        job();
    }
    match outcome.await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(panic)) => {
            let text = panic
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("no message");
            Err(unfinished(endpoint, format_args!("it panicked: {text}")))
        }
        Err(_) => Err(unfinished(endpoint, "the reading thread stopped")),
    }
}

/// The process's lane, started at its first use.
static LANE: OnceLock<Option<Lane>> = OnceLock::new();

/// Runs `work`, small enough to run in place (a page of sessions takes a
/// fraction of a millisecond), on the lane beside the async worker when it
/// has room, in place otherwise: for the answers of targets collected
/// together, so that a second CPU reads some of them.
pub async fn beside<T: Send + 'static>(
    endpoint: &'static str,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, UpstreamError> {
    run(LANE.get_or_init(Lane::start).as_ref(), endpoint, work).await
}

/// [`json::decode`] of `body`, off the worker when the body is large.
pub async fn decode<T: DeserializeOwned + Send + 'static>(
    endpoint: &'static str,
    body: &Bytes,
) -> Result<T, UpstreamError> {
    let body = body.clone();
    by_size(endpoint, body.len(), move || json::decode(endpoint, &body))
        .await?
        .map_err(UpstreamError::from)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn large_bodies_are_decoded_on_another_thread_small_ones_in_place() {
        let here = std::thread::current().id();
        let thread = |bytes| async move {
            by_size("/e", bytes, || std::thread::current().id())
                .await
                .unwrap()
        };
        assert_eq!(thread(INLINE_BYTES).await, here);
        assert_ne!(thread(INLINE_BYTES + 1).await, here);
        let encoded_on = |rows| async move {
            encode("/e", rows, || std::thread::current().id())
                .await
                .unwrap()
        };
        assert_eq!(encoded_on(INLINE_ROWS).await, here);
        assert_ne!(encoded_on(INLINE_ROWS + 1).await, here);
    }

    /// Waits at most ten seconds: a lane that never runs a job fails the
    /// test rather than hanging it.
    const PATIENCE: Duration = Duration::from_secs(10);

    async fn run_in_time<T: Send + 'static>(
        lane: Option<&Lane>,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, UpstreamError> {
        tokio::time::timeout(PATIENCE, run(lane, "/e", work))
            .await
            .expect("the work was not done in time")
    }

    #[tokio::test]
    async fn the_lane_reads_beside_the_worker_while_it_has_room_and_in_place_when_full() {
        let lane = Lane::start().unwrap();
        let here = std::thread::current().id();
        let thread = || std::thread::current().id();
        assert_ne!(run_in_time(Some(&lane), thread).await.unwrap(), here);
        assert_eq!(run_in_time(None, thread).await.unwrap(), here);

        // One job holds the lane, the room is taken: the next is run in
        // place.
        let (started, on_lane) = mpsc::channel();
        let (release, gate) = mpsc::channel::<()>();
        let blocker: Job = Box::new(move || {
            started.send(()).unwrap();
            gate.recv().unwrap();
        });
        assert!(lane.offer(blocker).is_none());
        on_lane.recv_timeout(PATIENCE).unwrap();
        let (waited, waiting) = mpsc::channel();
        for _ in 0..WAITING {
            let waited = waited.clone();
            assert!(
                lane.offer(Box::new(move || waited.send(thread()).unwrap()))
                    .is_none()
            );
        }
        assert_eq!(run_in_time(Some(&lane), thread).await.unwrap(), here);
        release.send(()).unwrap();
        for _ in 0..WAITING {
            assert_ne!(waiting.recv_timeout(PATIENCE).unwrap(), here);
        }

        // A panic fails its own answer, on the lane or in place; the lane
        // goes on.
        for lane in [Some(&lane), None] {
            let err = run_in_time(lane, || panic!("boom {}", 1))
                .await
                .unwrap_err();
            assert_eq!(
                err.to_string(),
                "/e: unexpected response at .: reading the answer did not finish: it panicked: boom 1"
            );
        }
        assert_ne!(run_in_time(Some(&lane), thread).await.unwrap(), here);
        let work = || 42;
        assert_eq!(beside("/e", work).await.unwrap(), 42);
    }

    #[tokio::test]
    async fn a_large_body_decodes_as_a_small_one_does() {
        let rows = vec!["{\"a\": 1}"; 20_000].join(",");
        let body = Bytes::from(format!("[{rows}]"));
        assert!(body.len() > INLINE_BYTES);
        let v: Vec<serde_json::Value> = decode("/e", &body).await.unwrap();
        assert_eq!(v.len(), 20_000);
        let err = decode::<Vec<u8>>("/e", &body).await.unwrap_err();
        assert!(
            err.to_string()
                .starts_with("/e: unexpected response at [0]"),
            "{err}"
        );
    }
}
