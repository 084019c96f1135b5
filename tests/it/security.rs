//! security tests (none yet).
