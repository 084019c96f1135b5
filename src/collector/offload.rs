//! Work proportional to an appliance's answer, kept off the async worker
//! when the answer is large: the exporter runs on one worker thread by
//! default, and decoding a body of megabytes there would hold up
//! `/-/healthy`, `/metrics` and every other target for as long. Small
//! bodies (the usual answers, a page of sessions) are decoded in place,
//! where a trip through the blocking pool would cost more than the work.

use bytes::Bytes;
use serde::de::DeserializeOwned;

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
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| UpstreamError::Decode {
            endpoint,
            path: ".".to_owned(),
            reason: format!("reading the answer did not finish: {e}"),
        })
}

/// Runs `encode` on a snapshot of `rows` rows read from `endpoint`: on the
/// blocking pool when it has many (the series of 60,000 rows take as long
/// to build as their body took to decode), in place otherwise.
pub async fn encode<T: Send + 'static>(
    endpoint: &'static str,
    rows: usize,
    encode: impl FnOnce() -> T + Send + 'static,
) -> Result<T, UpstreamError> {
    let weight = if rows > INLINE_ROWS { usize::MAX } else { 0 };
    by_size(endpoint, weight, encode).await
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
