//! A response body gathered chunk by chunk under the size limit.
//!
//! A body that arrives in one chunk is kept as that chunk, without a copy:
//! the HTTP client reads what the socket holds into the connection's
//! buffer, so a page that is all there when it is read (the common case
//! for a session page of 200 KiB once the connection's buffer has grown,
//! and the more so on a connection kept between scrapes) comes as one
//! chunk. Only a body of several chunks is copied into one buffer, sized
//! from `Content-Length` when the appliance sends it. Not copying the
//! pages saves some 3-5 % of the CPU of a 10,000-session listing.
//!
//! A chunk kept as it came holds the connection's whole read buffer (up to
//! some 400 KiB behind a page of 200 KiB) until it is dropped. While other
//! targets are being collected, many pages are between their arrival and
//! their reading at once, so there a body is copied to its own size
//! instead: 200 gateways peaked at up to 48.4 MiB with the buffers kept,
//! against 44-46 MiB copied, when the blocking pool read those pages; with
//! the thread beside the worker, 42.6-44.9 MiB kept against 41.1-43.5 MiB
//! copied. Keeping them would save some 4 % of CPU there; the memory
//! margin was kept instead (docs/fleet.md).

use bytes::{Bytes, BytesMut};

use super::UpstreamError;

/// Capacity of the buffer of a body without `Content-Length`, to begin
/// with.
const UNKNOWN_LENGTH_CAPACITY: u64 = 16 * 1024;

/// A body being read.
#[derive(Debug)]
pub struct Body {
    /// What was read so far.
    read: Read,
    /// Bytes read so far.
    len: u64,
    /// `Content-Length`, when sent (and within the limit).
    expected: Option<u64>,
    /// The size limit.
    limit: u64,
    /// The endpoint, for the error.
    endpoint: &'static str,
}

/// The chunks of a body read so far.
#[derive(Debug)]
enum Read {
    /// None yet.
    Nothing,
    /// One, kept as it came.
    One(Bytes),
    /// Several, copied into one buffer.
    Many(BytesMut),
}

impl Body {
    /// A body of `content_length` (when known) bytes, `limit` at most.
    pub fn new(content_length: Option<u64>, limit: u64, endpoint: &'static str) -> Self {
        Self {
            read: Read::Nothing,
            len: 0,
            expected: content_length.map(|n| n.min(limit)),
            limit,
            endpoint,
        }
    }

    /// Adds the next chunk; fails once the body passes the limit.
    pub fn push(&mut self, chunk: Bytes) -> Result<(), UpstreamError> {
        self.len = self.len.saturating_add(chunk.len() as u64);
        if self.len > self.limit {
            return Err(UpstreamError::TooLarge {
                endpoint: self.endpoint,
                limit: self.limit,
            });
        }
        self.read = match std::mem::replace(&mut self.read, Read::Nothing) {
            Read::Nothing => Read::One(chunk),
            Read::One(first) => {
                let capacity = self
                    .expected
                    .unwrap_or(UNKNOWN_LENGTH_CAPACITY)
                    .max(self.len);
                let mut buffer = BytesMut::with_capacity(usize::try_from(capacity).unwrap_or(0));
                buffer.extend_from_slice(&first);
                buffer.extend_from_slice(&chunk);
                Read::Many(buffer)
            }
            Read::Many(mut buffer) => {
                buffer.extend_from_slice(&chunk);
                Read::Many(buffer)
            }
        };
        Ok(())
    }

    /// The whole body; `compact`: in a buffer of its own size, not in the
    /// connection's read buffer.
    pub fn finish(self, compact: bool) -> Bytes {
        match self.read {
            Read::Nothing => Bytes::new(),
            Read::One(chunk) if compact => Bytes::copy_from_slice(&chunk),
            Read::One(chunk) => chunk,
            Read::Many(buffer) => buffer.freeze(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(
        chunks: &[&[u8]],
        content_length: Option<u64>,
        limit: u64,
    ) -> Result<Bytes, UpstreamError> {
        let mut body = Body::new(content_length, limit, "/e");
        for chunk in chunks {
            body.push(Bytes::copy_from_slice(chunk))?;
        }
        Ok(body.finish(false))
    }

    #[test]
    fn chunks_are_joined_in_order() {
        assert_eq!(read(&[], None, 10).unwrap(), Bytes::new());
        assert_eq!(read(&[b"abc"], Some(3), 10).unwrap(), &b"abc"[..]);
        assert_eq!(
            read(&[b"ab", b"", b"cd", b"e"], Some(5), 10).unwrap(),
            &b"abcde"[..]
        );
        assert_eq!(
            read(&[b"ab", b"cd", b"e"], None, 10).unwrap(),
            &b"abcde"[..]
        );
        // A Content-Length that understates the body costs a reallocation,
        // not bytes.
        assert_eq!(
            read(&[b"ab", b"cd", b"e"], Some(1), 10).unwrap(),
            &b"abcde"[..]
        );
    }

    #[test]
    fn a_single_chunk_is_kept_as_it_came() {
        let chunk = Bytes::from(vec![7u8; 1000]);
        let at = chunk.as_ptr();
        let mut body = Body::new(Some(1000), 4096, "/e");
        body.push(chunk.clone()).unwrap();
        assert_eq!(body.finish(false).as_ptr(), at);
        // Compacted, it is a copy of its own.
        let mut body = Body::new(Some(1000), 4096, "/e");
        body.push(chunk.clone()).unwrap();
        let copy = body.finish(true);
        assert_ne!(copy.as_ptr(), at);
        assert_eq!(copy, chunk);
    }

    #[test]
    fn the_limit_holds_over_one_chunk_or_many() {
        assert!(read(&[b"0123456789"], None, 10).is_ok());
        for chunks in [&[&b"0123456789a"[..]][..], &[b"01234", b"56789", b"a"]] {
            match read(chunks, None, 10) {
                Err(UpstreamError::TooLarge { endpoint, limit }) => {
                    assert_eq!((endpoint, limit), ("/e", 10));
                }
                other => panic!("{other:?}"),
            }
        }
    }
}
