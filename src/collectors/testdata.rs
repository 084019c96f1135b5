//! Test support: exact-exposition comparisons of the encode halves against
//! checked-in `testdata/*.prom` files. `UPDATE_TESTDATA=1` rewrites the
//! files; the new output must then be reviewed by hand against the sample.

/// Asserts that `out` equals the file at `src/<path>`.
pub fn assert_matches(out: &str, path: &str) {
    let full = format!("{}/src/{path}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("UPDATE_TESTDATA").is_some() {
        std::fs::write(&full, out).unwrap();
    }
    let want = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    assert_eq!(out, want, "exposition differs from {path}");
}
