//! ICS `active_users` collector: every page of
//! `GET /api/v1/system/active-users?number=N&start=S`, counted by realm and
//! login node, deduplicated by `session-id`.
//!
//! Whether `start` counts from 0 or 1 varies (the document starts at 0 and
//! then asks for 201), so pages are requested at multiples of the page size
//! and overlaps are removed by session id; the listing ends on
//! `is-last-record`, a short page, or once the listed sessions reach
//! `total-matched-record-number`. Pages are fetched `concurrency` at a
//! time: the first alone when nothing is known of the gateway, or together
//! with as many more as its last listing took (`listing_sizes.rs`), which
//! saves a round trip per scrape. Each page is parsed as it arrives (in one pass
//! over its bytes by its only reader, `session_page.rs`, which reads only
//! the fields used and explains a bad page) and dropped, so memory follows
//! the concurrency, not the number of sessions: what is kept per session
//! is a 64-bit fingerprint of its id (and one per distinct user).

use std::collections::{HashSet, VecDeque};
use std::hash::{BuildHasherDefault, Hash, Hasher};

use futures::StreamExt as _;
use futures::stream::FuturesUnordered;
use indexmap::{Equivalent, IndexMap, IndexSet};

use tracing::{debug, warn};

use super::listing_sizes::ListingSizes;
use super::options::{ActiveUsersOptions, Options};
use super::session_page::{self, Fields};
use super::{Gateway, SharedState};
use crate::collector::{CollectError, Context, offload};
use crate::exposition::{Desc, Samples};
use crate::json::{Flag, Num};
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
static BY_TRANSPORT: Desc = Desc::gauge(
    "ics_active_sessions_by_transport",
    "Listed active sessions by Network Connect transport mode (esp, ssl: ESP fell back to SSL or was not allowed, none: no tunnel, other)",
);
static BY_CLIENT_VERSION: Desc = Desc::gauge(
    "ics_active_sessions_by_client_version",
    "Listed active sessions by Pulse client version: the most common versions, other for the rest, none for sessions without the client",
);
static BY_AUTH_SERVER: Desc = Desc::gauge(
    "ics_active_sessions_by_auth_server",
    "Listed active sessions by primary authentication server: the most common servers, other for the rest, none for sessions without one",
);
static HOST_CHECK_FAILED: Desc = Desc::gauge(
    "ics_active_sessions_host_check_failed",
    "Listed active sessions whose host check failed (hc-failed-reasons set, or endpoint-security-status listing failed policies)",
);
static OLDEST_SIGN_IN: Desc = Desc::gauge(
    "ics_active_sessions_oldest_sign_in_timestamp_seconds",
    "When the oldest listed active session signed in (sign-in-time-micro), in seconds since the epoch",
);
static LOGIN_PERMITTED: Desc = Desc::gauge(
    "ics_user_login_permitted",
    "1 if the Connect Secure gateway permits user logins (user-login-permission)",
);

/// A (realm, node) pair looked up without allocating: as text in the
/// listing, as bytes in a page.
struct Place<'a, T: ?Sized>(&'a T, &'a T);

impl<T: Hash + ?Sized> Hash for Place<'_, T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // The same sequence as the owned pair's key hashes.
        self.0.hash(state);
        self.1.hash(state);
    }
}

impl<T: PartialEq + ?Sized, K: std::borrow::Borrow<T>> indexmap::Equivalent<(K, K)>
    for Place<'_, T>
{
    fn equivalent(&self, key: &(K, K)) -> bool {
        self.0 == key.0.borrow() && self.1 == key.1.borrow()
    }
}

/// A 64-bit fingerprint, the same for the same text within the process,
/// so the sets hold numbers, not strings (a collision among 100,000
/// sessions has a chance of about 3 in 10^10).
fn fingerprint(text: &[u8]) -> u64 {
    use std::hash::BuildHasher as _;
    // foldhash's quality hasher: several times faster than SipHash on
    // session ids; no defence against crafted collisions is needed here.
    foldhash::quality::FixedState::with_seed(FINGERPRINT_SEED).hash_one(text)
}

/// Any constant: fingerprints need only be stable within the process.
const FINGERPRINT_SEED: u64 = 0x5e55_10a5_1d5e_ed00;

/// Fingerprints are hashes already: the sets take them as their own hash
/// rather than hashing them again.
#[derive(Debug, Default, Clone, Copy)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A set of fingerprints.
type Fingerprints = HashSet<u64, BuildHasherDefault<Prehashed>>;

/// Maps and sets keyed by the short text of a page and of the listing
/// ((realm, node) places, client versions, authentication servers): hashed
/// with foldhash, several times faster than the default SipHash on short
/// text (the keys come from the gateway, which can grow them only as far
/// as it has realms, nodes and values, and the tallies are bounded).
type PlaceHasher = foldhash::fast::RandomState;

/// The Network Connect transport mode of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    /// IPsec ESP (UDP 4500).
    Esp,
    /// SSL: ESP not allowed, or fallen back to because UDP is blocked.
    Ssl,
    /// No Network Connect tunnel (`null` or empty).
    None,
    /// Anything else the gateway sends.
    Other,
}

impl Transport {
    /// Every mode with its label, in the order encoded.
    const ALL: [(Transport, &'static str); 4] = [
        (Transport::Esp, "esp"),
        (Transport::Ssl, "ssl"),
        (Transport::None, "none"),
        (Transport::Other, "other"),
    ];

    fn of(mode: Option<&[u8]>) -> Self {
        match mode {
            None | Some(b"") => Transport::None,
            Some(m) if m.eq_ignore_ascii_case(b"esp") => Transport::Esp,
            Some(m) if m.eq_ignore_ascii_case(b"ssl") => Transport::Ssl,
            Some(_) => Transport::Other,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Distinct values of a text field kept at most (client versions and
/// authentication servers): a gateway has a handful, a hostile one is
/// held here; sessions with values beyond it count as `other`.
const MAX_TALLIED: usize = 1_000;

/// Label value of the sessions without the field, and of the values beyond
/// the most common.
const NONE: &str = "none";
const OTHER: &str = "other";

/// Sessions counted by the value of a text field.
#[derive(Debug, Default)]
pub struct Tally {
    /// Sessions by value, for at most [`MAX_TALLIED`] values.
    counts: IndexMap<String, u64, PlaceHasher>,
    /// Sessions whose value came after the tally was full.
    untallied: u64,
    /// Sessions without the field.
    without: u64,
}

impl Tally {
    /// The index of `value`, added while there is room.
    fn index_of(&mut self, value: &str) -> Option<usize> {
        match self.counts.get_index_of(value) {
            Some(i) => Some(i),
            None if self.counts.len() < MAX_TALLIED => {
                Some(self.counts.insert_full(value.to_owned(), 0).0)
            }
            None => None,
        }
    }

    /// Counts a page's sessions by the page's values: `counts.by_value[i]`
    /// of the value at `i`, `counts.without` without one. A value takes a
    /// place in the tally only when it has sessions (the text checked as
    /// UTF-8 by the reader is made a `str` only then).
    fn count_page(&mut self, page: &PageValues, counts: &ValueCounts) {
        for (value, &n) in page.values.iter().zip(&counts.by_value) {
            if n == 0 {
                continue;
            }
            match self.index_of(&String::from_utf8_lossy(value)) {
                Some(i) => self.counts[i] += n,
                None => self.untallied += n,
            }
        }
        self.without += counts.without;
    }

    /// The `top` most common values (ties by value), then `other` and
    /// `none`, each with its sessions.
    fn top(&self, top: usize) -> Vec<(&str, u64)> {
        let mut by_count: Vec<(&str, u64)> =
            self.counts.iter().map(|(v, n)| (v.as_str(), *n)).collect();
        by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let rest: u64 = by_count.iter().skip(top).map(|(_, n)| n).sum();
        by_count.truncate(top);
        by_count.push((OTHER, rest + self.untallied));
        by_count.push((NONE, self.without));
        by_count
    }
}

/// The distinct values of one page, in page order, looked up without
/// allocating: records mostly repeat the previous record's value, so that
/// is compared first. Text values are kept as the bytes the reader gives
/// (valid UTF-8).
#[derive(Debug, Default)]
struct PageValues<K = Box<[u8]>> {
    /// The distinct values, in page order.
    values: IndexSet<K, PlaceHasher>,
    /// The index of the last value looked up.
    last: Option<usize>,
}

impl<K: Hash + Eq> PageValues<K> {
    /// The index of `value`, added as `own` makes it when it is new.
    fn index<Q: Hash + Equivalent<K> + ?Sized>(
        &mut self,
        value: &Q,
        own: impl FnOnce() -> K,
    ) -> usize {
        if let Some(last) = self.last
            && value.equivalent(&self.values[last])
        {
            return last;
        }
        let i = match self.values.get_index_of(value) {
            Some(i) => i,
            None => self.values.insert_full(own()).0,
        };
        self.last = Some(i);
        i
    }
}

impl PageValues {
    /// The index of a text value; `None` for none.
    fn intern(&mut self, value: Option<&[u8]>) -> Option<usize> {
        value.map(|v| self.index(v, || v.into()))
    }
}

/// The listing read so far (and, once complete, the snapshot to encode).
#[derive(Debug, Default)]
pub struct ActiveUsers {
    /// `total-matched-record-number` of the first page.
    pub total: Num,
    /// `user-login-permission` of the first page.
    pub login_permitted: Flag,
    /// Sessions listed, by (realm, node).
    pub listed: IndexMap<(String, String), u64, PlaceHasher>,
    /// Fingerprints of the session ids counted.
    sessions: Fingerprints,
    /// Fingerprints of the user names of the sessions counted.
    users: Fingerprints,
    /// Records without a session id (not counted).
    pub without_id: u64,
    /// Pages read.
    pub pages: u64,
    /// Sessions by transport mode, indexed by [`Transport::index`].
    by_transport: [u64; 4],
    /// Sessions by Pulse client version.
    client_versions: Tally,
    /// Sessions by primary authentication server.
    auth_servers: Tally,
    /// Sessions whose host check failed.
    host_check_failed: u64,
    /// The earliest sign-in of the sessions counted.
    oldest_sign_in: Option<f64>,
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
/// (realm, node) pairs of the page. It holds no borrowed text, so the body
/// can be dropped.
#[derive(Debug, Default)]
pub struct PageDigest {
    /// `total-matched-record-number`.
    total: Num,
    /// `user-login-permission`.
    login_permitted: Flag,
    /// What the page says about the end of the listing.
    pub end: PageEnd,
    /// The distinct (realm, node) pairs of the page, as the bytes of
    /// their text.
    places: PageValues<PlaceBytes>,
    /// The distinct client versions of the page.
    client_versions: PageValues,
    /// The distinct authentication servers of the page.
    auth_servers: PageValues,
    /// Each record with a session id.
    sessions: Vec<SessionDigest>,
    /// Records without a session id.
    without_id: u64,
    /// What the records with a session id add up to, counted as they are
    /// read: the listing adds these once per page, less what duplicates of
    /// earlier pages' sessions added (rare: overlapping pages).
    counts: PageCounts,
}

/// The sums of a page's records with a session id.
#[derive(Debug, Default)]
struct PageCounts {
    /// Sessions by index into the page's places.
    places: Vec<u64>,
    /// Sessions by [`Transport::index`].
    transports: [u64; 4],
    /// Sessions by index into the page's client versions, and without one.
    client_versions: ValueCounts,
    /// Sessions by index into the page's authentication servers, and
    /// without one.
    auth_servers: ValueCounts,
    /// Sessions whose host check failed.
    host_check_failed: u64,
}

/// Sessions by index into a page's values of a field, and without it.
#[derive(Debug, Default)]
struct ValueCounts {
    by_value: Vec<u64>,
    without: u64,
}

impl ValueCounts {
    /// Counts `n` sessions (may be negative to take back) of the value at
    /// `at` (`None`: without one).
    fn add(&mut self, at: Option<usize>, n: i64) {
        let slot = match at {
            Some(i) => {
                if self.by_value.len() <= i {
                    self.by_value.resize(i + 1, 0);
                }
                &mut self.by_value[i]
            }
            None => &mut self.without,
        };
        *slot = slot.saturating_add_signed(n);
    }
}

impl PageCounts {
    /// Counts (`n` = 1) or takes back (`n` = -1) one session.
    fn add(&mut self, s: &SessionDigest, n: i64) {
        if self.places.len() <= s.place {
            self.places.resize(s.place + 1, 0);
        }
        let place = &mut self.places[s.place];
        *place = place.saturating_add_signed(n);
        let transport = &mut self.transports[s.transport.index()];
        *transport = transport.saturating_add_signed(n);
        self.client_versions.add(s.client_version, n);
        self.auth_servers.add(s.auth_server, n);
        if s.host_check_failed {
            self.host_check_failed = self.host_check_failed.saturating_add_signed(n);
        }
    }
}

/// A (realm, node) pair of a page, as the bytes of its text.
type PlaceBytes = (Box<[u8]>, Box<[u8]>);

/// One session record of a page, reduced to what is counted.
#[derive(Debug)]
struct SessionDigest {
    /// Fingerprint of the session id.
    id: u64,
    /// Fingerprint of the user name.
    user: u64,
    /// Index into the page's places.
    place: usize,
    /// Transport mode.
    transport: Transport,
    /// Index into the page's client versions.
    client_version: Option<usize>,
    /// Index into the page's authentication servers.
    auth_server: Option<usize>,
    /// Whether the host check failed.
    host_check_failed: bool,
    /// Sign-in time, seconds.
    sign_in: Option<f64>,
}

/// Session pages up to this size are not sent to the blocking pool: read in
/// place, or on the lane beside the worker among other targets; five times
/// a full page of the gateway's cap (some 200 KiB).
const PAGE_INLINE_BYTES: usize = 1024 * 1024;

/// Session records a page holds at most (the gateway's cap), reserved for.
const PAGE_RECORDS: usize = 200;

impl PageDigest {
    /// Parses one page body; a bad one fails with the JSON path and the
    /// line and column of the problem.
    pub fn of(body: &[u8]) -> Result<Self, UpstreamError> {
        let mut digest = PageDigest {
            sessions: Vec::with_capacity(PAGE_RECORDS),
            ..PageDigest::default()
        };
        let head = session_page::read(body, |fields| digest.record(fields))
            .map_err(|e| e.into_decode_error(ENDPOINT, body))?;
        digest.total = head.total;
        digest.login_permitted = head.login_permitted;
        digest.end = PageEnd {
            records: head.records,
            is_last: head.is_last == Flag::Value(true),
        };
        Ok(digest)
    }

    /// Adds one session record.
    fn record(&mut self, f: &Fields<'_>) {
        let Some(id) = f.session_id.as_deref() else {
            self.without_id += 1;
            return;
        };
        let realm = f.realm.as_deref().unwrap_or(UNKNOWN.as_bytes());
        let node = f.node.as_deref().unwrap_or(UNKNOWN.as_bytes());
        let place = self
            .places
            .index(&Place(realm, node), || (realm.into(), node.into()));
        let session = SessionDigest {
            id: fingerprint(id),
            user: fingerprint(f.user.as_deref().unwrap_or_default()),
            place,
            transport: Transport::of(f.transport.as_deref()),
            client_version: self.client_versions.intern(f.client_version.as_deref()),
            auth_server: self.auth_servers.intern(f.auth_server.as_deref()),
            host_check_failed: f.hc_failed || f.policies_failed,
            sign_in: f.sign_in,
        };
        self.counts.add(&session, 1);
        self.sessions.push(session);
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
                // Users are at most as many as sessions, usually nearly so.
                let expected = (t.max(0.0) as usize).min(MAX_RESERVED_SESSIONS);
                self.sessions.reserve(expected);
                self.users.reserve(expected);
            }
        }
        self.pages += 1;
        self.without_id += page.without_id;
        let mut counts = page.counts;
        // Sessions listed on an earlier page are taken back out of the
        // page's sums.
        for session in &page.sessions {
            if self.sessions.insert(session.id) {
                self.users.insert(session.user);
                if let Some(t) = session.sign_in {
                    self.oldest_sign_in = Some(self.oldest_sign_in.map_or(t, |o| o.min(t)));
                }
            } else {
                counts.add(session, -1);
            }
        }
        for (at, &n) in counts.places.iter().enumerate() {
            if n == 0 {
                continue;
            }
            let (realm, node) = &page.places.values[at];
            // Checked as UTF-8 by the reader: borrowed, not copied.
            let (realm, node) = (
                String::from_utf8_lossy(realm),
                String::from_utf8_lossy(node),
            );
            let i = match self.listed.get_index_of(&Place::<str>(&realm, &node)) {
                Some(i) => i,
                None => {
                    self.listed
                        .insert_full((realm.into_owned(), node.into_owned()), 0)
                        .0
                }
            };
            self.listed[i] += n;
        }
        for (total, n) in self.by_transport.iter_mut().zip(counts.transports) {
            *total += n;
        }
        self.client_versions
            .count_page(&page.client_versions, &counts.client_versions);
        self.auth_servers
            .count_page(&page.auth_servers, &counts.auth_servers);
        self.host_check_failed += counts.host_check_failed;
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
/// listing is read. Neither exceeds `max_pages` (`limits.max_pages`), so a
/// gateway that claims 10⁹ sessions costs that many pages, not 5 million.
fn plan(total: Option<u64>, page_size: u64, max_pages: u64) -> (u64, u64) {
    let (pages, bound) = match total {
        Some(t) => {
            let pages = t.div_ceil(page_size).max(1);
            (pages, pages.saturating_add(2))
        }
        None => (MAX_PAGES_WITHOUT_TOTAL, MAX_PAGES_WITHOUT_TOTAL),
    };
    (pages.min(max_pages), bound.min(max_pages))
}

/// Fetches page `index` and digests it. A page the gateway's cap allows
/// (200 sessions of about 1 KiB) is read right here when this is the only
/// target being collected: it takes a fraction of a millisecond, less than
/// a trip to another thread costs. Among other targets it goes to the
/// lane beside the worker when the lane has room, and is read here when it
/// has none ([`offload::beside`]), so a second CPU reads part of a fleet's
/// pages (a page of up to `PAGE_INLINE_BYTES` may then hold the worker
/// for a millisecond or two). A page larger than that goes to the
/// blocking pool in any case.
async fn read_page(
    gateway: &Gateway<'_>,
    page_size: u64,
    index: u64,
) -> (u64, Result<PageDigest, UpstreamError>) {
    let path = format!("{ENDPOINT}?number={page_size}&start={}", index * page_size);
    let digest = async {
        let body = gateway.get(ENDPOINT, &path).await?.require_success()?.body;
        let small = body.len() <= PAGE_INLINE_BYTES;
        let read = move || PageDigest::of(&body);
        match (small, gateway.among_others()) {
            (true, false) => read(),
            (true, true) => offload::beside(ENDPOINT, read).await?,
            (false, _) => offload::blocking(ENDPOINT, read).await?,
        }
    };
    (index, digest.await)
}

/// Reads the whole listing. The first page is asked for together with as
/// many more as the gateway's last listing took (`sizes`), up to the
/// concurrency; a page asked for so, past the pages the first page's total
/// calls for, may fail without failing the listing (a gateway whose
/// sessions dropped may refuse a `start` past its end).
pub async fn fetch(
    gateway: &Gateway<'_>,
    options: &ActiveUsersOptions,
    max_pages: u32,
    sizes: &ListingSizes,
) -> Result<ActiveUsers, UpstreamError> {
    let page_size = u64::from(options.page_size.max(1));
    let concurrency = options.concurrency.max(1) as usize;
    let max_pages = u64::from(max_pages.max(1));
    let url = gateway.url().as_str();
    let get = |index: u64| read_page(gateway, page_size, index);

    let ahead = sizes
        .last(url, page_size)
        .map_or(1, |pages| pages.min(concurrency as u64).min(max_pages))
        .max(1);
    let mut in_flight: FuturesUnordered<_> = (0..ahead).map(get).collect();
    // Pages that arrived and are not read yet.
    let mut arrived = VecDeque::new();
    let first = loop {
        match in_flight.next().await {
            Some((0, page)) => break page?,
            Some(page) => arrived.push_back(page),
            None => {
                return Err(UpstreamError::Body {
                    endpoint: ENDPOINT,
                    reason: "the first page was not asked for".to_owned(),
                });
            }
        }
    };
    let mut listing = ActiveUsers::default();
    let first_end = listing.add(first);
    let total = match listing.total {
        Num::Value(t) if t >= 0.0 => Some(t as u64),
        _ => None,
    };
    let complete = |l: &ActiveUsers| total.is_some_and(|t| l.listed_sessions() >= t);
    if first_end.ends_listing(page_size) || complete(&listing) {
        sizes.remember(url, page_size, listing.pages);
        return Ok(listing);
    }

    let (planned, bound) = plan(total, page_size, max_pages);
    let mut end = planned; // pages [0, end) are wanted
    let mut next = ahead;
    let mut last_page: Option<u64> = None; // a page that ended the listing
    arrived.make_contiguous().sort_by_key(|(index, _)| *index);
    loop {
        let stop = last_page.map_or(end, |l| end.min(l + 1));
        while in_flight.len() < concurrency && next < stop {
            in_flight.push(get(next));
            next += 1;
        }
        let page = match arrived.pop_front() {
            Some(page) => Some(page),
            None => in_flight.next().await,
        };
        let Some((index, page)) = page else {
            // Everything planned was read but sessions are missing: with a
            // 1-based `start` the listing ends one page later.
            if last_page.is_none() && !complete(&listing) && end < bound {
                end += 1;
                continue;
            }
            break;
        };
        let page = match page {
            Ok(page) => page,
            Err(e) if index >= planned => {
                // Asked for on the last listing's word, past this one's.
                debug!(target = %gateway.target(), endpoint = ENDPOINT, page = index, pages = planned, error = %e, "a page past the end of the listing was refused");
                continue;
            }
            Err(e) => return Err(e),
        };
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
    sizes.remember(url, page_size, listing.pages);
    Ok(listing)
}

/// Encodes an active-users snapshot, with the `top` most common client
/// versions and authentication servers.
pub fn encode(a: &ActiveUsers, top: usize) -> Samples {
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
        for (transport, label) in Transport::ALL {
            s.push(
                &BY_TRANSPORT,
                &[("mode", label)],
                a.by_transport[transport.index()],
            );
        }
        for (version, n) in a.client_versions.top(top) {
            s.push(&BY_CLIENT_VERSION, &[("version", version)], n);
        }
        for (server, n) in a.auth_servers.top(top) {
            s.push(&BY_AUTH_SERVER, &[("server", server)], n);
        }
        s.push_plain(&HOST_CHECK_FAILED, a.host_check_failed);
        if let Some(t) = a.oldest_sign_in {
            s.push_plain(&OLDEST_SIGN_IN, t);
        }
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

/// The collector: [`fetch`], then [`encode`].
pub async fn collect(ctx: &Context<'_, Options, SharedState>) -> Result<Samples, CollectError> {
    let options = &ctx.options.active_users;
    let sizes = &ctx.state.listing_sizes;
    let snapshot = fetch(&Gateway::new(ctx)?, options, ctx.limits.max_pages, sizes).await?;
    Ok(encode(&snapshot, options.top_values as usize))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appliances::connect_secure::testing::{check, exposition};
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
        check(encode(&read(&[sim::ACTIVE_USERS]), 10), "active_users.prom");
    }

    #[test]
    fn document_sample_of_one_named_user() {
        check(
            encode(&read(&[sim::ACTIVE_USERS_BY_NAME]), 10),
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
        let (out, warnings) = exposition(encode(&a, 10));
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
        let (out, warnings) = exposition(encode(&read(&[page]), 10));
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
    fn simulated_listings_count_what_the_table_holds() {
        let table = sim::SessionTable::new(sim::Sessions {
            count: 403,
            users: 300,
            realms: vec!["Users".into(), "Admin \"Users\" \\ é".into()],
            nodes: vec!["node-a".into(), "node-b".into(), "node-c".into()],
            connections: sim::Connections {
                transports: vec![Some("ESP".into()), Some("SSL".into()), None],
                client_versions: vec![Some("22.7.1".into()), Some("9.1 \"β\"".into()), None],
                auth_servers: vec![Some("AD".into()), None],
                host_check_failures: 3,
            },
            ..sim::Sessions::default()
        });
        // Lists, a single record as an object, and counts as strings.
        for (single, strings) in [(false, false), (true, true), (true, false)] {
            let mut a = ActiveUsers::default();
            for start in [0, 200, 400, 600] {
                let page = table.page(Some(200), Some(start), single, strings);
                let end = a.absorb(page.as_bytes()).unwrap();
                assert_eq!(end.records, 403_usize.saturating_sub(start).min(200));
                assert_eq!(end.is_last, start + 200 >= 403);
            }
            assert_eq!(a.total, Num::Value(403.0));
            assert_eq!(a.listed_sessions(), 403);
            assert_eq!(a.distinct_users(), 300);
            let listed: std::collections::BTreeMap<(String, String), u64> =
                a.listed.iter().map(|(k, v)| (k.clone(), *v)).collect();
            assert_eq!(listed, table.by_realm_and_node());
            let counts = table.connection_counts();
            let esp = counts.by_transport.get(&Some("ESP".to_owned())).copied();
            assert_eq!(Some(a.by_transport[Transport::Esp.index()]), esp);
            assert_eq!(a.host_check_failed, counts.host_check_failed);
            for (tally, expected) in [
                (&a.client_versions, &counts.by_client_version),
                (&a.auth_servers, &counts.by_auth_server),
            ] {
                for (value, n) in expected {
                    let counted = match value {
                        Some(v) => tally.counts.get(v.as_str()).copied(),
                        None => Some(tally.without),
                    };
                    assert_eq!(counted, Some(*n), "{value:?}");
                }
            }
            assert_eq!(a.oldest_sign_in, Some(1_699_317_427.743_783));
        }
    }

    #[test]
    fn the_document_pages_are_digested() {
        let digest = PageDigest::of(sim::ACTIVE_USERS.as_bytes()).unwrap();
        assert_eq!(digest.sessions.len(), 2);
        assert_eq!(digest.total, Num::Value(2.0));
        let digest = PageDigest::of(sim::ACTIVE_USERS_BY_NAME.as_bytes()).unwrap();
        assert_eq!(digest.sessions.len(), 1);
    }

    #[test]
    fn how_users_connect_is_counted_once_per_session() {
        let page = |records: &str| {
            format!(
                r#"{{"active-users": {{"active-user-records": {{"active-user-record": [{records}]}}, "total-matched-record-number": 4}}}}"#
            )
        };
        let first = page(
            r#"{"session-id": "a", "network-connect-transport-mode": "ESP", "pulse-client-version": "22.7", "primary-auth-server-name": "AD", "sign-in-time-micro": "1699317427.5"},
               {"session-id": "b", "network-connect-transport-mode": "ssl", "pulse-client-version": "22.7", "hc-failed-reasons": ["av"], "sign-in-time-micro": 1699000000},
               {"session-id": "c", "network-connect-transport-mode": "DTLS", "pulse-client-version": "9.1", "endpoint-security-status": "Passed Policies: \nFailed Policies: Require-AV\n"}"#,
        );
        // Session b again (an overlapping page), and one more.
        let second = page(
            r#"{"session-id": "b", "network-connect-transport-mode": "ssl", "pulse-client-version": "22.7", "hc-failed-reasons": ["av"]},
               {"session-id": "d", "hc-failed-reasons": "", "endpoint-security-status": "Failed Policies: \t\nEliminated Roles: x", "pulse-client-version": "22.7"}"#,
        );
        let a = read(&[&first, &second]);
        let (out, warnings) = exposition(encode(&a, 1));
        assert!(warnings.is_empty(), "{warnings:?}");
        let series: Vec<&str> = out
            .lines()
            .filter(|l| l.starts_with("ics_active_sessions_") && !l.contains("_listed"))
            .collect();
        assert_eq!(
            series,
            [
                "ics_active_sessions_by_transport{target=\"ics\",mode=\"esp\"} 1",
                "ics_active_sessions_by_transport{target=\"ics\",mode=\"ssl\"} 1",
                "ics_active_sessions_by_transport{target=\"ics\",mode=\"none\"} 1",
                "ics_active_sessions_by_transport{target=\"ics\",mode=\"other\"} 1",
                "ics_active_sessions_by_client_version{target=\"ics\",version=\"22.7\"} 3",
                "ics_active_sessions_by_client_version{target=\"ics\",version=\"other\"} 1",
                "ics_active_sessions_by_client_version{target=\"ics\",version=\"none\"} 0",
                "ics_active_sessions_by_auth_server{target=\"ics\",server=\"AD\"} 1",
                "ics_active_sessions_by_auth_server{target=\"ics\",server=\"other\"} 0",
                "ics_active_sessions_by_auth_server{target=\"ics\",server=\"none\"} 3",
                "ics_active_sessions_host_check_failed{target=\"ics\"} 2",
                "ics_active_sessions_oldest_sign_in_timestamp_seconds{target=\"ics\"} 1699000000",
            ]
        );
    }

    #[test]
    fn a_tally_keeps_a_bounded_number_of_values() {
        let mut t = Tally::default();
        // A value whose sessions were all counted on earlier pages takes
        // no place.
        let mut page = PageValues::default();
        page.intern(Some(b"gone"));
        t.count_page(
            &page,
            &ValueCounts {
                by_value: vec![0],
                without: 0,
            },
        );
        assert!(t.counts.is_empty());
        // One page of MAX_TALLIED + 5 values of one session each, then one
        // of v0 (two sessions, one without a value in its second) and of a
        // value with no session left.
        let mut page = PageValues::default();
        for i in 0..MAX_TALLIED + 5 {
            page.intern(Some(format!("v{i}").as_bytes()));
        }
        let counts = ValueCounts {
            by_value: vec![1; MAX_TALLIED + 5],
            without: 0,
        };
        t.count_page(&page, &counts);
        let mut page = PageValues::default();
        page.intern(Some(b"v0"));
        let counts = ValueCounts {
            by_value: vec![1],
            without: 1,
        };
        t.count_page(&page, &counts);
        assert_eq!(t.counts.len(), MAX_TALLIED);
        let top = t.top(1);
        assert_eq!(
            top,
            [("v0", 2), (OTHER, (MAX_TALLIED - 1 + 5) as u64), (NONE, 1)]
        );
    }

    #[test]
    fn page_plan() {
        const NO_LIMIT: u64 = u64::MAX;
        assert_eq!(plan(Some(1234), 200, NO_LIMIT), (7, 9));
        assert_eq!(plan(Some(1400), 200, NO_LIMIT), (7, 9));
        assert_eq!(plan(Some(0), 200, NO_LIMIT), (1, 3));
        assert_eq!(
            plan(None, 200, NO_LIMIT),
            (MAX_PAGES_WITHOUT_TOTAL, MAX_PAGES_WITHOUT_TOTAL)
        );
        // A gateway claiming 10⁹ sessions is read up to the page limit.
        assert_eq!(plan(Some(1_000_000_000), 200, 1_000), (1_000, 1_000));
        assert_eq!(plan(Some(1400), 200, 8), (7, 8));
        assert_eq!(plan(None, 200, 50), (50, 50));
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
