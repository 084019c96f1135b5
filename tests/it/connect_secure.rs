//! connect secure integration tests (none yet).
