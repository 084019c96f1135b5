//! Telling whether a file changed: its modification time, size and inode,
//! read with one `stat`.

use std::path::Path;
use std::time::SystemTime;

/// What identifies a file's version; `None` from [`stamp`] when it cannot
/// be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp(Option<SystemTime>, u64, u64);

/// The stamp of the file at `path`.
pub fn stamp(path: &Path) -> Option<Stamp> {
    use std::os::unix::fs::MetadataExt as _;
    let m = std::fs::metadata(path).ok()?;
    Some(Stamp(m.modified().ok(), m.len(), m.ino()))
}
