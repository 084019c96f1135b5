//! Test support: exact-exposition comparisons of the encode halves against
//! checked-in `testdata/*.prom` files. `UPDATE_TESTDATA=1` rewrites a file
//! that differs and then fails the test, so that a rewrite never passes
//! unseen: review the new file against the sample and run the tests again
//! without it. Under `CI` it is refused.

use std::path::Path;

/// Asserts that `out` equals the file at `src/<path>`.
pub fn assert_matches(out: &str, path: &str) {
    let full = format!("{}/src/{path}", env!("CARGO_MANIFEST_DIR"));
    compare(out, Path::new(&full), Update::from_env());
}

/// What `UPDATE_TESTDATA` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Update {
    /// Not set: compare only.
    No,
    /// Set: rewrite a file that differs, then fail.
    Rewrite,
    /// Set under `CI`: refused.
    Refused,
}

impl Update {
    fn from_env() -> Self {
        match (
            std::env::var_os("UPDATE_TESTDATA").is_some(),
            std::env::var_os("CI").is_some(),
        ) {
            (false, _) => Update::No,
            (true, false) => Update::Rewrite,
            (true, true) => Update::Refused,
        }
    }
}

fn compare(out: &str, full: &Path, update: Update) {
    let shown = full.display();
    assert_ne!(
        update,
        Update::Refused,
        "UPDATE_TESTDATA is refused under CI (it would rewrite {shown})"
    );
    let want = std::fs::read_to_string(full);
    if update == Update::Rewrite && want.as_deref().ok() != Some(out) {
        std::fs::write(full, out).unwrap_or_else(|e| panic!("{shown}: {e}"));
        panic!(
            "{shown} rewritten (UPDATE_TESTDATA): review it against the sample, then run the tests again without UPDATE_TESTDATA"
        );
    }
    let want = want.unwrap_or_else(|e| panic!("{shown}: {e}"));
    assert_eq!(out, want, "exposition differs from {shown}");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The panic message of `f`, or `None` when it did not panic.
    fn panic_of(f: impl FnOnce() + std::panic::UnwindSafe) -> Option<String> {
        let payload = std::panic::catch_unwind(f).err()?;
        Some(
            payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default(),
        )
    }

    #[test]
    fn a_rewrite_fails_the_test_and_a_refusal_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("out.prom");
        std::fs::write(&file, "old\n").unwrap();
        let read = || std::fs::read_to_string(&file).unwrap();

        let f = file.clone();
        let why = panic_of(move || compare("new\n", &f, Update::No)).unwrap();
        assert!(why.contains("exposition differs"), "{why}");
        assert_eq!(read(), "old\n");

        let f = file.clone();
        let why = panic_of(move || compare("new\n", &f, Update::Refused)).unwrap();
        assert!(why.contains("refused under CI"), "{why}");
        assert_eq!(read(), "old\n");

        let f = file.clone();
        let why = panic_of(move || compare("new\n", &f, Update::Rewrite)).unwrap();
        assert!(why.contains("rewritten (UPDATE_TESTDATA)"), "{why}");
        assert_eq!(read(), "new\n");

        // Nothing to rewrite: the comparison passes.
        compare("new\n", &file, Update::Rewrite);
        compare("new\n", &file, Update::No);
    }
}
