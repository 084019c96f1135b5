//! ICS `active_users` collector: every page of
//! `GET /api/v1/system/active-users?number=N&start=S`, counted by realm and
//! login node, deduplicated by `session-id`.
//!
//! Whether `start` counts from 0 or 1 varies (the document starts at 0 and
//! then asks for 201), so pages are requested at multiples of the page size
//! and overlaps are removed by session id; the listing ends on
//! `is-last-record`, a short page, or once the listed sessions reach
//! `total-matched-record-number`. After the first page the rest are fetched
//! `concurrency` at a time, each page parsed as it arrives (on the blocking
//! pool, borrowing from its body, reading only the fields used) and
//! dropped, so memory follows the concurrency, not the number of sessions:
//! what is kept per session is a 64-bit fingerprint of its id (and one per
//! distinct user).

use std::collections::HashSet;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use futures::StreamExt as _;
use futures::stream::FuturesUnordered;
use indexmap::{IndexMap, IndexSet};
use serde::Deserialize;
use tracing::{debug, warn};

use super::Gateway;
use crate::collectors::json::{self, Flag, Num, OneOrMany, TextRef};
use crate::config::ActiveUsersOptions;
use crate::exposition::{Desc, Samples};
use crate::upstream::UpstreamError;

/// The endpoint, as logged and labelled.
pub const ENDPOINT: &str = "/api/v1/system/active-users";

/// Pages fetched when the gateway does not say how many sessions it has.
const MAX_PAGES_WITHOUT_TOTAL: u64 = 10_000;
/// Session fingerprints reserved for up front, at most.
const MAX_RESERVED_SESSIONS: usize = 1 << 17;
/// Realm or node label of a session without one.
const UNKNOWN: &str = "unknown";

static SESSIONS: Desc = Desc::gauge(
    "ics_active_sessions",
    "Active sessions on the Connect Secure gateway (total-matched-record-number)",
);
static LISTED: Desc = Desc::gauge(
    "ics_active_sessions_listed",
    "Active sessions read from the listing, deduplicated by session id, by authentication realm and login node",
);
static USERS: Desc = Desc::gauge(
    "ics_active_users",
    "Distinct user names among the listed active sessions",
);
static LOGIN_PERMITTED: Desc = Desc::gauge(
    "ics_user_login_permitted",
    "1 if the Connect Secure gateway permits user logins (user-login-permission)",
);

/// One page, borrowing its strings from the body.
#[derive(Debug, Deserialize)]
struct Page<'a> {
    /// Everything is inside `active-users`.
    #[serde(borrow, rename = "active-users")]
    active_users: Listing<'a>,
}

/// `active-users`: the records and the counts of the listing.
#[derive(Debug, Default, Deserialize)]
struct Listing<'a> {
    /// `null` on a page without sessions.
    #[serde(borrow, default, rename = "active-user-records")]
    records: Option<Records<'a>>,
    /// All sessions, whatever the page.
    #[serde(default, rename = "total-matched-record-number")]
    total: Num,
    /// Whether users may sign in.
    #[serde(default, rename = "user-login-permission")]
    login_permitted: Flag,
    /// True on the last page (not every release sends it).
    #[serde(default, rename = "is-last-record")]
    is_last: Flag,
}

/// `active-user-records`.
#[derive(Debug, Default, Deserialize)]
struct Records<'a> {
    /// A list, or one object for a single session.
    #[serde(borrow, default, rename = "active-user-record")]
    record: OneOrMany<Record<'a>>,
}

/// One session: only the fields counted; the rest is skipped unread.
#[derive(Debug, Default, Deserialize)]
struct Record<'a> {
    /// Counts the session once across overlapping pages.
    #[serde(borrow, default, rename = "session-id")]
    session_id: TextRef<'a>,
    /// For the distinct users.
    #[serde(borrow, default, rename = "active-user-name")]
    user: TextRef<'a>,
    /// The `realm` label.
    #[serde(borrow, default, rename = "authentication-realm")]
    realm: TextRef<'a>,
    /// The `node` label.
    #[serde(borrow, default, rename = "login-node")]
    node: TextRef<'a>,
}

/// A (realm, node) pair looked up without allocating.
struct Place<'a>(&'a str, &'a str);

impl Hash for Place<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // The same sequence as the `(String, String)` key hashes.
        self.0.hash(state);
        self.1.hash(state);
    }
}

impl indexmap::Equivalent<(String, String)> for Place<'_> {
    fn equivalent(&self, key: &(String, String)) -> bool {
        self.0 == key.0 && self.1 == key.1
    }
}

/// A stable 64-bit fingerprint, so the sets hold numbers, not strings.
fn fingerprint(s: &str) -> u64 {
    let mut h = DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

/// The listing read so far (and, once complete, the snapshot to encode).
#[derive(Debug, Default)]
pub struct ActiveUsers {
    /// `total-matched-record-number` of the first page.
    pub total: Num,
    /// `user-login-permission` of the first page.
    pub login_permitted: Flag,
    /// Sessions listed, by (realm, node).
    pub listed: IndexMap<(String, String), u64>,
    /// Fingerprints of the session ids counted.
    sessions: HashSet<u64>,
    /// Fingerprints of the user names of the sessions counted.
    users: HashSet<u64>,
    /// Records without a session id (not counted).
    pub without_id: u64,
    /// Pages read.
    pub pages: u64,
}

/// What one page says about the end of the listing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageEnd {
    /// Records on the page.
    pub records: usize,
    /// `is-last-record` was true.
    pub is_last: bool,
}

impl PageEnd {
    /// Whether no page after this one has sessions.
    pub fn ends_listing(self, page_size: u64) -> bool {
        self.is_last || (self.records as u64) < page_size
    }
}

/// One page reduced to what the listing keeps: fingerprints, and the few
/// (realm, node) pairs of the page. Made off the async runtime, it holds no
/// borrowed text, so the body can be dropped.
#[derive(Debug, Default)]
pub struct PageDigest {
    /// `total-matched-record-number`.
    total: Num,
    /// `user-login-permission`.
    login_permitted: Flag,
    /// What the page says about the end of the listing.
    pub end: PageEnd,
    /// The distinct (realm, node) pairs of the page.
    places: IndexSet<(String, String)>,
    /// Per record with a session id: (id, user, index into `places`).
    sessions: Vec<(u64, u64, usize)>,
    /// Records without a session id.
    without_id: u64,
}

impl PageDigest {
    /// Parses one page body.
    pub fn of(body: &[u8]) -> Result<Self, UpstreamError> {
        let page: Page<'_> = json::decode_borrowed(ENDPOINT, body)?;
        let listing = page.active_users;
        let records = listing.records.map(|r| r.record.0).unwrap_or_default();
        let mut digest = PageDigest {
            total: listing.total,
            login_permitted: listing.login_permitted,
            end: PageEnd {
                records: records.len(),
                is_last: listing.is_last == Flag::Value(true),
            },
            sessions: Vec::with_capacity(records.len()),
            ..PageDigest::default()
        };
        for r in &records {
            let Some(id) = r.session_id.as_str() else {
                digest.without_id += 1;
                continue;
            };
            let place = Place(
                r.realm.as_str().unwrap_or(UNKNOWN),
                r.node.as_str().unwrap_or(UNKNOWN),
            );
            let at = match digest.places.get_index_of(&place) {
                Some(at) => at,
                None => {
                    let owned = (place.0.to_owned(), place.1.to_owned());
                    digest.places.insert_full(owned).0
                }
            };
            let user = fingerprint(r.user.as_str().unwrap_or(""));
            digest.sessions.push((fingerprint(id), user, at));
        }
        Ok(digest)
    }
}

impl ActiveUsers {
    /// Reads one page body into the listing.
    pub fn absorb(&mut self, body: &[u8]) -> Result<PageEnd, UpstreamError> {
        Ok(self.add(PageDigest::of(body)?))
    }

    /// Adds a page to the listing, counting only sessions not seen before.
    /// The first page also gives the total and the login permission.
    pub fn add(&mut self, page: PageDigest) -> PageEnd {
        if self.pages == 0 {
            self.total = page.total;
            self.login_permitted = page.login_permitted;
            if let Num::Value(t) = self.total {
                self.sessions
                    .reserve((t.max(0.0) as usize).min(MAX_RESERVED_SESSIONS));
            }
        }
        self.pages += 1;
        self.without_id += page.without_id;
        // The page's places, as indexes into `listed` once seen.
        let mut places: Vec<Option<usize>> = vec![None; page.places.len()];
        for (id, user, at) in page.sessions {
            if !self.sessions.insert(id) {
                continue;
            }
            self.users.insert(user);
            let i = *places[at].get_or_insert_with(|| {
                let (realm, node) = &page.places[at];
                let place = Place(realm, node);
                match self.listed.get_index_of(&place) {
                    Some(i) => i,
                    None => self.listed.insert_full((realm.clone(), node.clone()), 0).0,
                }
            });
            self.listed[i] += 1;
        }
        page.end
    }

    /// Sessions counted so far.
    pub fn listed_sessions(&self) -> u64 {
        self.sessions.len() as u64
    }

    /// Distinct users among them.
    pub fn distinct_users(&self) -> u64 {
        self.users.len() as u64
    }
}

/// The page plan: how many pages a complete listing of `total` sessions
/// takes at `page_size` (0-based offsets), and how many may be asked for
/// at most: one more when `start` turns out to be 1-based (each page then
/// begins one session earlier), one more for sessions that shift while the
/// listing is read.
fn plan(total: Option<u64>, page_size: u64) -> (u64, u64) {
    match total {
        Some(t) => {
            let pages = t.div_ceil(page_size).max(1);
            (pages, pages.saturating_add(2))
        }
        None => (MAX_PAGES_WITHOUT_TOTAL, MAX_PAGES_WITHOUT_TOTAL),
    }
}

/// Fetches page `index` and digests it.
async fn read_page(
    gateway: &Gateway<'_>,
    page_size: u64,
    index: u64,
) -> Result<(u64, PageDigest), UpstreamError> {
    let path = format!("{ENDPOINT}?number={page_size}&start={}", index * page_size);
    let body = gateway.get(ENDPOINT, &path).await?.require_success()?.body;
    // A page of 200 sessions is some 200 KiB of JSON: read on the blocking
    // pool, it holds up neither the other pages nor other scrapes.
    let digest = tokio::task::spawn_blocking(move || PageDigest::of(&body))
        .await
        .map_err(|e| UpstreamError::Decode {
            endpoint: ENDPOINT,
            path: ".".into(),
            reason: format!("reading the page stopped: {e}"),
        })??;
    Ok((index, digest))
}

/// Reads the whole listing.
pub async fn fetch(
    gateway: &Gateway<'_>,
    options: &ActiveUsersOptions,
) -> Result<ActiveUsers, UpstreamError> {
    let page_size = u64::from(options.page_size.max(1));
    let concurrency = options.concurrency.max(1) as usize;
    let get_page = |index: u64| read_page(gateway, page_size, index);

    let mut listing = ActiveUsers::default();
    let (_, first) = get_page(0).await?;
    let first_end = listing.add(first);
    let total = match listing.total {
        Num::Value(t) if t >= 0.0 => Some(t as u64),
        _ => None,
    };
    let complete = |l: &ActiveUsers| total.is_some_and(|t| l.listed_sessions() >= t);
    if first_end.ends_listing(page_size) || complete(&listing) {
        return Ok(listing);
    }

    let (planned, bound) = plan(total, page_size);
    let mut end = planned; // pages [0, end) are wanted
    let mut next = 1;
    let mut last_page: Option<u64> = None; // a page that ended the listing
    let mut in_flight = FuturesUnordered::new();
    loop {
        let stop = last_page.map_or(end, |l| end.min(l + 1));
        while in_flight.len() < concurrency && next < stop {
            in_flight.push(get_page(next));
            next += 1;
        }
        let Some(result) = in_flight.next().await else {
            // Everything planned was read but sessions are missing: with a
            // 1-based `start` the listing ends one page later.
            if last_page.is_none() && !complete(&listing) && end < bound {
                end += 1;
                continue;
            }
            break;
        };
        let (index, page) = result?;
        let page_end = listing.add(page);
        if page_end.ends_listing(page_size) {
            last_page = Some(last_page.map_or(index, |l| l.min(index)));
        }
        if complete(&listing) {
            break;
        }
    }
    if let Some(t) = total.filter(|&t| listing.listed_sessions() < t) {
        if last_page.is_none() {
            warn!(target = %gateway.target(), endpoint = ENDPOINT, listed = listing.listed_sessions(), total = t, pages = listing.pages, "active sessions listing stopped at its page limit before reaching the total");
        } else {
            // Sessions that end while the pages are read shift the rest.
            debug!(target = %gateway.target(), endpoint = ENDPOINT, listed = listing.listed_sessions(), total = t, pages = listing.pages, "the gateway ended the listing before the total");
        }
    }
    Ok(listing)
}

/// Encodes an active-users snapshot.
pub fn encode(a: &ActiveUsers) -> Samples {
    let mut s = Samples::new();
    if let Some(total) = a
        .total
        .read(&mut s, ENDPOINT, "total-matched-record-number")
    {
        s.push_plain(&SESSIONS, total);
    }
    let mut places: Vec<_> = a.listed.iter().collect();
    places.sort();
    for ((realm, node), n) in places {
        s.push(&LISTED, &[("realm", realm), ("node", node)], *n);
    }
    if a.pages > 0 {
        s.push_plain(&USERS, a.distinct_users());
    }
    match &a.login_permitted {
        Flag::Value(v) => s.push_plain(&LOGIN_PERMITTED, *v),
        Flag::Missing => {}
        Flag::Invalid(why) => s.warn(ENDPOINT, "user-login-permission", why.clone()),
    }
    if a.without_id > 0 {
        s.warn(
            ENDPOINT,
            "active-user-record[].session-id",
            format!(
                "{} session records without a session id were not counted",
                a.without_id
            ),
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::connect_secure::testing::{check, exposition};
    use crate::simulator::connect_secure as sim;

    fn read(pages: &[&str]) -> ActiveUsers {
        let mut a = ActiveUsers::default();
        for p in pages {
            a.absorb(p.as_bytes()).unwrap();
        }
        a
    }

    #[test]
    fn document_sample() {
        check(encode(&read(&[sim::ACTIVE_USERS])), "active_users.prom");
    }

    #[test]
    fn document_sample_of_one_named_user() {
        check(
            encode(&read(&[sim::ACTIVE_USERS_BY_NAME])),
            "active_users_by_name.prom",
        );
    }

    #[test]
    fn overlapping_pages_count_each_session_once() {
        let a = read(&[
            sim::ACTIVE_USERS,
            sim::ACTIVE_USERS,
            sim::ACTIVE_USERS_BY_NAME,
        ]);
        assert_eq!(a.listed_sessions(), 3);
        assert_eq!(a.distinct_users(), 3);
        assert_eq!(a.pages, 3);
        // The total is the first page's.
        assert_eq!(a.total, Num::Value(2.0));
    }

    #[test]
    fn single_record_object_string_numbers_and_missing_fields() {
        let page = r#"{"active-users": {"active-user-records": {"active-user-record":
            {"session-id": "s1", "active-user-name": "u", "login-node": null}},
            "total-matched-record-number": "1", "user-login-permission": "false", "is-last-record": true}}"#;
        let mut a = ActiveUsers::default();
        let end = a.absorb(page.as_bytes()).unwrap();
        assert_eq!(
            end,
            PageEnd {
                records: 1,
                is_last: true
            }
        );
        let (out, warnings) = exposition(encode(&a));
        assert!(warnings.is_empty(), "{warnings:?}");
        assert!(
            out.contains("ics_active_sessions{target=\"ics\"} 1\n"),
            "{out}"
        );
        assert!(
            out.contains(
                "ics_active_sessions_listed{target=\"ics\",realm=\"unknown\",node=\"unknown\"} 1\n"
            ),
            "{out}"
        );
        assert!(
            out.contains("ics_user_login_permitted{target=\"ics\"} 0\n"),
            "{out}"
        );
    }

    #[test]
    fn records_without_a_session_id_are_reported_not_counted() {
        let page = r#"{"active-users": {"active-user-records": {"active-user-record": [{"active-user-name": "u"}]},
            "total-matched-record-number": 1}}"#;
        let (out, warnings) = exposition(encode(&read(&[page])));
        assert!(!out.contains("ics_active_sessions_listed{"), "{out}");
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("1 session records without a session id"),
            "{warnings:?}"
        );
    }

    #[test]
    fn a_malformed_page_fails_with_its_path() {
        let err = ActiveUsers::default()
            .absorb(br#"{"active-users": {"active-user-records": {"active-user-record": [7]}}}"#)
            .unwrap_err();
        assert!(
            err.to_string().starts_with("/api/v1/system/active-users: unexpected response at active-users.active-user-records.active-user-record"),
            "{err}"
        );
    }

    #[test]
    fn a_body_without_the_listing_fails() {
        let err = ActiveUsers::default().absorb(b"{}").unwrap_err();
        assert!(
            err.to_string().contains("missing field `active-users`"),
            "{err}"
        );
    }

    #[test]
    fn page_plan() {
        assert_eq!(plan(Some(1234), 200), (7, 9));
        assert_eq!(plan(Some(1400), 200), (7, 9));
        assert_eq!(plan(Some(0), 200), (1, 3));
        assert_eq!(
            plan(None, 200),
            (MAX_PAGES_WITHOUT_TOTAL, MAX_PAGES_WITHOUT_TOTAL)
        );
        assert!(
            PageEnd {
                records: 199,
                is_last: false
            }
            .ends_listing(200)
        );
        assert!(
            PageEnd {
                records: 200,
                is_last: true
            }
            .ends_listing(200)
        );
        assert!(
            !PageEnd {
                records: 200,
                is_last: false
            }
            .ends_listing(200)
        );
    }
}
