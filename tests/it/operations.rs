//! operations tests (none yet).
