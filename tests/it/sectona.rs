//! sectona integration tests (none yet).
