//! faults tests (none yet).
