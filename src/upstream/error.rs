//! What can go wrong talking to an appliance. Every variant names the
//! endpoint; none contains a credential.

/// A failed upstream request.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum UpstreamError {
    /// The scrape's time budget ran out.
    #[error("{endpoint}: no answer within the time budget")]
    Timeout {
        /// The endpoint asked.
        endpoint: &'static str,
    },
    /// No HTTP answer: DNS, TCP, TLS or protocol failure.
    #[error("{endpoint}: request failed: {reason}")]
    Transport {
        /// The endpoint asked.
        endpoint: &'static str,
        /// The cause, e.g. "connection refused" or the certificate error.
        reason: String,
    },
    /// The appliance answered with an unexpected status.
    #[error("{endpoint}: HTTP {status}{}", message.as_ref().map(|m| format!(": {m}")).unwrap_or_default())]
    Status {
        /// The endpoint asked.
        endpoint: &'static str,
        /// The HTTP status code.
        status: u16,
        /// The message of the appliance's error body, when it has one.
        message: Option<String>,
    },
    /// The body was larger than the module's `max_response_size`.
    #[error("{endpoint}: response body exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The endpoint asked.
        endpoint: &'static str,
        /// The configured limit.
        limit: u64,
    },
    /// The body could not be read to its end.
    #[error("{endpoint}: reading the response body failed: {reason}")]
    Body {
        /// The endpoint asked.
        endpoint: &'static str,
        /// The cause.
        reason: String,
    },
    /// The body is not the JSON the document describes.
    #[error("{endpoint}: unexpected response at {path}: {reason}")]
    Decode {
        /// The endpoint asked.
        endpoint: &'static str,
        /// The serde path of the problem (`.` for the whole body).
        path: String,
        /// What serde reported.
        reason: String,
    },
}

impl From<crate::json::DecodeError> for UpstreamError {
    fn from(e: crate::json::DecodeError) -> Self {
        UpstreamError::Decode {
            endpoint: e.endpoint,
            path: e.path,
            reason: e.reason,
        }
    }
}

impl UpstreamError {
    /// The endpoint this error is about.
    pub fn endpoint(&self) -> &'static str {
        match self {
            UpstreamError::Timeout { endpoint }
            | UpstreamError::Transport { endpoint, .. }
            | UpstreamError::Status { endpoint, .. }
            | UpstreamError::TooLarge { endpoint, .. }
            | UpstreamError::Body { endpoint, .. }
            | UpstreamError::Decode { endpoint, .. } => endpoint,
        }
    }

    /// Whether the appliance refused the credentials (HTTP 401).
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, UpstreamError::Status { status: 401, .. })
    }
}
