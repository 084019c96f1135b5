//! How many pages each gateway's last session listing took, so that the
//! next listing asks for that many pages (up to its concurrency) together
//! with the first instead of waiting for the first page's total: one round
//! trip less per scrape. A gateway whose listing shrank costs at most
//! `concurrency - 1` pages more, once; the record is then corrected.
//!
//! Kept per gateway base URL and page size (targets and probes of one
//! gateway share it), for a bounded number of gateways.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// Gateways remembered at most; past it an arbitrary one is forgotten,
/// which costs it one round trip on its next listing.
const MAX_REMEMBERED: usize = 4096;

/// The pages of the last complete listing of each gateway.
#[derive(Debug, Default)]
pub struct ListingSizes {
    pages: Mutex<HashMap<(String, u64), u64>>,
}

impl ListingSizes {
    /// The pages the last listing of `url` at `page_size` took, if known.
    pub fn last(&self, url: &str, page_size: u64) -> Option<u64> {
        let pages = self.pages.lock().unwrap_or_else(PoisonError::into_inner);
        pages.get(&(url.to_owned(), page_size)).copied()
    }

    /// Records that a listing of `url` at `page_size` took `pages` pages.
    pub fn remember(&self, url: &str, page_size: u64, pages: u64) {
        let mut known = self.pages.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (url.to_owned(), page_size);
        if known.len() >= MAX_REMEMBERED
            && !known.contains_key(&key)
            && let Some(any) = known.keys().next().cloned()
        {
            known.remove(&any);
        }
        known.insert(key, pages);
    }

    /// Gateways remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.pages
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_listing_of_each_gateway_and_page_size_is_kept() {
        let sizes = ListingSizes::default();
        assert_eq!(sizes.last("http://a", 200), None);
        sizes.remember("http://a", 200, 50);
        sizes.remember("http://b", 200, 3);
        sizes.remember("http://a", 100, 99);
        assert_eq!(sizes.last("http://a", 200), Some(50));
        assert_eq!(sizes.last("http://b", 200), Some(3));
        assert_eq!(sizes.last("http://a", 100), Some(99));
        sizes.remember("http://a", 200, 1);
        assert_eq!(sizes.last("http://a", 200), Some(1));
    }

    #[test]
    fn the_record_is_bounded() {
        let sizes = ListingSizes::default();
        for i in 0..MAX_REMEMBERED + 10 {
            sizes.remember(&format!("http://g{i}"), 200, 5);
        }
        assert_eq!(sizes.len(), MAX_REMEMBERED);
        // The newest is always kept.
        let newest = format!("http://g{}", MAX_REMEMBERED + 9);
        assert_eq!(sizes.last(&newest, 200), Some(5));
    }
}
