//! `basic_auth_users`: bcrypt-hashed passwords, checked off the async
//! runtime, with the outcome cached so a scraper pays for bcrypt once.
//!
//! An unknown user is checked against a fixed dummy hash, so the answer
//! takes as long as for a known user with a wrong password. The cache is
//! keyed by an HMAC (with a key made at start-up) of user, password and
//! hash, so it holds no password and no value that can be looked up
//! offline. Successes and failures are kept apart, each bounded and
//! emptied when full, so a flood of wrong passwords never pushes out a
//! scraper's cached login. At most a few bcrypt checks run at once and
//! only a few more wait, each for a bounded time: past that the answer is
//! "busy" at once, so the flood cannot take every blocking thread nor
//! queue a correctly authenticated scrape past its budget.
//!
//! The outcome cache stays its own two sets rather than sharing an
//! abstraction with the exporter's other caches (collections shared by
//! scrapes, Connect Secure keys) or using `moka`: it keeps a yes or no per
//! tag while its web configuration is in force, with no expiry and no
//! work to join, and its one rule, successes and failures bounded apart, is the
//! few lines of `Outcomes`. `moka` would need two caches to keep that rule
//! and bring a dependency tree into the build for it.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use ring::hmac;
use serde_saphyr::{Location, Spanned};
use tokio::sync::Semaphore;

use crate::config::ConfigError;

/// A valid bcrypt hash (cost 10) of a random value nobody knows; checked
/// for unknown users so their answer takes as long as a known user's.
const DUMMY_HASH: &str = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DSmehBWtHMnJq4BgRp7.G";
/// Cached outcomes kept before the cache is emptied.
const CACHE_LIMIT: usize = 1024;
/// bcrypt checks running at once.
const CONCURRENT_CHECKS: usize = 4;
/// Checks waiting for one of those places before the answer is "busy".
const MAX_WAITING: usize = 16;
/// How long a check waits for a place before the answer is "busy".
const MAX_WAIT: Duration = Duration::from_secs(2);

/// What the credentials of a request come to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A known user with the right password.
    Allowed,
    /// Missing, malformed or wrong credentials.
    Denied,
    /// Too many checks in progress to check these now (try again).
    Busy,
}

/// Cached outcomes, successes apart from failures.
#[derive(Default)]
struct Outcomes {
    allowed: HashSet<[u8; 32]>,
    denied: HashSet<[u8; 32]>,
}

impl Outcomes {
    fn get(&self, tag: &[u8; 32]) -> Option<bool> {
        if self.allowed.contains(tag) {
            Some(true)
        } else if self.denied.contains(tag) {
            Some(false)
        } else {
            None
        }
    }

    /// Records an outcome; a full set is emptied first, and only the set
    /// of the same outcome.
    fn insert(&mut self, tag: [u8; 32], ok: bool) {
        let set = if ok {
            &mut self.allowed
        } else {
            &mut self.denied
        };
        if set.len() >= CACHE_LIMIT {
            set.clear();
        }
        set.insert(tag);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.allowed.len() + self.denied.len()
    }
}

/// Counts one waiting check while alive.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    /// A place in the queue, if fewer than `MAX_WAITING` hold one.
    fn enter(count: &'a AtomicUsize) -> Option<Self> {
        count
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < MAX_WAITING).then_some(n + 1)
            })
            .ok()
            .map(|_| Waiting(count))
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The users allowed in and their bcrypt hashes.
pub struct Users {
    /// User name to bcrypt hash.
    hashes: BTreeMap<String, String>,
    /// HMAC key of the cache, made at start-up.
    cache_key: hmac::Key,
    /// Outcome by HMAC(user, password, hash).
    cache: Mutex<Outcomes>,
    /// Bounds concurrent bcrypt work.
    checks: Arc<Semaphore>,
    /// Checks waiting for a place among `checks`.
    waiting: AtomicUsize,
    /// Watches the bcrypt checks that run.
    #[cfg(test)]
    probe: Arc<tests::Probe>,
}

impl std::fmt::Debug for Users {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Users")
            .field("users", &self.hashes.keys().collect::<Vec<_>>())
            .field("hashes", &"<secret>")
            .finish()
    }
}

impl Users {
    /// Checks every hash is a bcrypt hash promtool would accept.
    pub fn check(
        file: &Path,
        at: &Location,
        raw: BTreeMap<String, Option<Spanned<String>>>,
    ) -> Result<Users, ConfigError> {
        let mut hashes = BTreeMap::new();
        for (user, hash) in raw {
            let field = format!("basic_auth_users.{user}");
            let Some(hash) = hash else {
                return Err(ConfigError::at(
                    file,
                    at,
                    field,
                    "the bcrypt hash is missing",
                ));
            };
            if let Err(why) = check_hash(&hash.value) {
                return Err(ConfigError::at(file, &hash.referenced, field, why));
            }
            hashes.insert(user, hash.value);
        }
        let rng = ring::rand::SystemRandom::new();
        let cache_key = hmac::Key::generate(hmac::HMAC_SHA256, &rng).map_err(|_| {
            ConfigError::file(file, "cannot make a random key for the credential cache")
        })?;
        Ok(Users {
            hashes,
            cache_key,
            cache: Mutex::new(Outcomes::default()),
            checks: Arc::new(Semaphore::new(CONCURRENT_CHECKS)),
            waiting: AtomicUsize::new(0),
            #[cfg(test)]
            probe: Arc::default(),
        })
    }

    /// How many users there are.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// Whether an `Authorization` header value carries valid credentials.
    pub async fn allows(&self, authorization: Option<&[u8]>) -> bool {
        self.verdict(authorization).await == Verdict::Allowed
    }

    /// What an `Authorization` header value comes to: from the cache, or
    /// from a bcrypt check when one can be had within the bounds.
    pub async fn verdict(&self, authorization: Option<&[u8]>) -> Verdict {
        let Some((user, password)) = authorization.and_then(parse_basic) else {
            return Verdict::Denied;
        };
        let known = self.hashes.get(&user);
        let hash = known.map_or(DUMMY_HASH, String::as_str).to_owned();
        let key = self.cache_tag(&user, &password, &hash);
        let cached = self
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key);
        if let Some(ok) = cached {
            return if ok {
                Verdict::Allowed
            } else {
                Verdict::Denied
            };
        }
        let permit = {
            let Some(_waiting) = Waiting::enter(&self.waiting) else {
                return Verdict::Busy;
            };
            match tokio::time::timeout(MAX_WAIT, self.checks.clone().acquire_owned()).await {
                Ok(Ok(permit)) => permit,
                _ => return Verdict::Busy,
            }
        };
        #[cfg(test)]
        let probe = self.probe.clone();
        let matched = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            #[cfg(test)]
            let _running = probe.enter(&hash);
            bcrypt::verify(password, &hash)
        })
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or(false);
        let ok = matched && known.is_some();
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, ok);
        if ok {
            Verdict::Allowed
        } else {
            Verdict::Denied
        }
    }

    fn cache_tag(&self, user: &str, password: &str, hash: &str) -> [u8; 32] {
        let mut ctx = hmac::Context::with_key(&self.cache_key);
        for part in [user, password, hash] {
            ctx.update(&(part.len() as u64).to_be_bytes());
            ctx.update(part.as_bytes());
        }
        let mut tag = [0u8; 32];
        tag.copy_from_slice(&ctx.sign().as_ref()[..32]);
        tag
    }

    #[cfg(test)]
    fn cached(&self) -> usize {
        self.cache.lock().unwrap().len()
    }
}

/// What promtool (Go's bcrypt) requires of a hash: `$2?$` with a cost of
/// 4 to 31 and the full 53 characters of salt and hash after it.
fn check_hash(hash: &str) -> Result<(), String> {
    if hash.len() < 59 {
        return Err(
            "not a bcrypt hash: too short (make one with `htpasswd -nBC 10 \"\" | tr -d ':\\n'`)"
                .into(),
        );
    }
    let parts: bcrypt::HashParts = hash
        .parse()
        .map_err(|e| format!("not a bcrypt hash: {e}"))?;
    let cost = parts.get_cost();
    if !(4..=31).contains(&cost) {
        return Err(format!(
            "bcrypt cost {cost} is outside the allowed range 4 to 31"
        ));
    }
    Ok(())
}

/// User and password of a `Basic` authorization header value.
pub fn parse_basic(value: &[u8]) -> Option<(String, String)> {
    let text = std::str::from_utf8(value).ok()?;
    let (scheme, encoded) = text.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users(pairs: &[(&str, &str)]) -> Users {
        let raw = pairs
            .iter()
            .map(|(u, p)| {
                let hash = bcrypt::hash(p, 4).unwrap();
                (
                    (*u).to_owned(),
                    Some(Spanned::new(hash, Location::UNKNOWN, Location::UNKNOWN)),
                )
            })
            .collect();
        Users::check(Path::new("/w.yml"), &Location::UNKNOWN, raw).unwrap()
    }

    fn header(user: &str, password: &str) -> Vec<u8> {
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        format!("Basic {encoded}").into_bytes()
    }

    #[test]
    fn the_dummy_hash_is_a_valid_hash() {
        check_hash(DUMMY_HASH).unwrap();
        // A hash that merely parsed but failed inside bcrypt would answer
        // unknown users faster than known ones.
        assert_eq!(bcrypt::verify("guess", DUMMY_HASH).ok(), Some(false));
        assert_eq!(
            DUMMY_HASH.parse::<bcrypt::HashParts>().unwrap().get_cost(),
            10
        );
    }

    #[tokio::test]
    async fn right_wrong_unknown_and_malformed() {
        let u = users(&[("alice", "wonderland"), ("bob", "builder")]);
        assert!(u.allows(Some(&header("alice", "wonderland"))).await);
        assert!(u.allows(Some(&header("bob", "builder"))).await);
        assert!(!u.allows(Some(&header("alice", "builder"))).await);
        assert!(!u.allows(Some(&header("mallory", "wonderland"))).await);
        assert!(!u.allows(Some(&header("", ""))).await);
        assert!(!u.allows(None).await);
        assert!(!u.allows(Some(b"Basic !!!")).await);
        assert!(!u.allows(Some(b"Bearer abc")).await);
        assert!(!u.allows(Some(&[0xff, 0xfe])).await);
        // The lower-case scheme is accepted, as by Go's net/http.
        let lower = String::from_utf8(header("alice", "wonderland"))
            .unwrap()
            .replace("Basic", "basic");
        assert!(u.allows(Some(lower.as_bytes())).await);
    }

    #[tokio::test]
    async fn outcomes_are_cached_and_the_cache_is_bounded() {
        let u = users(&[("alice", "wonderland")]);
        assert!(u.allows(Some(&header("alice", "wonderland"))).await);
        assert!(u.allows(Some(&header("alice", "wonderland"))).await);
        assert!(!u.allows(Some(&header("alice", "nope"))).await);
        assert_eq!(u.cached(), 2);
        assert_eq!(u.probe.checks(), 2, "the repeat came from the cache");
        // More distinct wrong passwords than the cache holds: the failures
        // fill up with the first CACHE_LIMIT - 1, are emptied, and hold the
        // last one; the login is kept apart and stays cached.
        for i in 0..CACHE_LIMIT {
            assert!(
                !u.allows(Some(&header("alice", &format!("guess {i}"))))
                    .await
            );
        }
        assert_eq!(u.cached(), 2);
        assert_eq!(u.probe.checks(), CACHE_LIMIT + 2);
        let last = format!("guess {}", CACHE_LIMIT - 1);
        assert!(!u.allows(Some(&header("alice", &last))).await);
        assert_eq!(u.probe.checks(), CACHE_LIMIT + 2);
        assert!(u.allows(Some(&header("alice", "wonderland"))).await);
        assert_eq!(
            u.probe.checks(),
            CACHE_LIMIT + 2,
            "the login came from the cache"
        );
    }

    #[tokio::test]
    async fn an_unknown_user_costs_a_bcrypt_check_like_a_known_one() {
        let u = users(&[("alice", "wonderland")]);
        assert!(!u.allows(Some(&header("alice", "guess"))).await);
        assert_eq!(u.probe.hashes(), [u.hashes["alice"].clone()]);
        assert!(!u.allows(Some(&header("mallory", "guess"))).await);
        let hashes = u.probe.hashes();
        assert_eq!(hashes.len(), 2, "no bcrypt check ran for the unknown user");
        // The cost of `htpasswd -nBC 10`, the README's advice.
        assert_eq!(
            hashes[1].parse::<bcrypt::HashParts>().unwrap().get_cost(),
            10
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn at_most_four_bcrypt_checks_run_at_once() {
        let u = Arc::new(users(&[("alice", "wonderland")]));
        let held = u.probe.hold();
        let tries: Vec<_> = (0..4 * CONCURRENT_CHECKS)
            .map(|i| {
                let u = u.clone();
                tokio::spawn(async move {
                    let guess = format!("guess {i}");
                    u.allows(Some(&header("alice", &guess))).await
                })
            })
            .collect();
        let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while u.probe.running() < CONCURRENT_CHECKS {
            assert!(
                std::time::Instant::now() < until,
                "the checks did not start"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        // Every other try has had the time to start a check too.
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert_eq!(u.probe.running(), CONCURRENT_CHECKS);
        drop(held);
        for t in tries {
            assert!(!t.await.unwrap());
        }
        assert_eq!(u.probe.peak(), CONCURRENT_CHECKS);
        assert_eq!(u.probe.checks(), 4 * CONCURRENT_CHECKS);
    }

    /// Watches the bcrypt checks of one [`Users`]: the hashes checked, how
    /// many run at once, and, while held, keeps each check running.
    #[derive(Default)]
    pub(super) struct Probe {
        state: Mutex<ProbeState>,
        released: std::sync::Condvar,
    }

    #[derive(Default)]
    struct ProbeState {
        hashes: Vec<String>,
        running: usize,
        peak: usize,
        held: bool,
    }

    /// One running check; ends when dropped.
    pub(super) struct Running<'a>(&'a Probe);

    impl Drop for Running<'_> {
        fn drop(&mut self) {
            self.0.state.lock().unwrap().running -= 1;
        }
    }

    struct Held<'a>(&'a Probe);

    impl Drop for Held<'_> {
        fn drop(&mut self) {
            self.0.state.lock().unwrap().held = false;
            self.0.released.notify_all();
        }
    }

    impl Probe {
        /// A check of `hash` starts (and waits while held).
        pub(super) fn enter(&self, hash: &str) -> Running<'_> {
            let mut s = self.state.lock().unwrap();
            s.hashes.push(hash.to_owned());
            s.running += 1;
            s.peak = s.peak.max(s.running);
            while s.held {
                s = self.released.wait(s).unwrap();
            }
            Running(self)
        }

        /// Holds every check until the guard is dropped (also when a
        /// test fails, so that no check waits for ever).
        fn hold(&self) -> Held<'_> {
            self.state.lock().unwrap().held = true;
            Held(self)
        }

        fn hashes(&self) -> Vec<String> {
            self.state.lock().unwrap().hashes.clone()
        }

        fn checks(&self) -> usize {
            self.state.lock().unwrap().hashes.len()
        }

        fn running(&self) -> usize {
            self.state.lock().unwrap().running
        }

        fn peak(&self) -> usize {
            self.state.lock().unwrap().peak
        }
    }

    #[tokio::test]
    async fn past_the_waiting_places_the_answer_is_busy_at_once() {
        let u = Arc::new(users(&[("alice", "wonderland")]));
        assert!(u.allows(Some(&header("alice", "wonderland"))).await);
        // Every bcrypt place taken, and every waiting place.
        let held = u
            .checks
            .clone()
            .acquire_many_owned(CONCURRENT_CHECKS as u32)
            .await
            .unwrap();
        let waiters: Vec<_> = (0..MAX_WAITING)
            .map(|i| {
                let u = u.clone();
                tokio::spawn(async move {
                    u.verdict(Some(&header("alice", &format!("guess{i}"))))
                        .await
                })
            })
            .collect();
        while u.waiting.load(Ordering::Acquire) < MAX_WAITING {
            tokio::task::yield_now().await;
        }
        assert_eq!(
            u.verdict(Some(&header("alice", "another guess"))).await,
            Verdict::Busy
        );
        // The cached login still answers at once.
        assert_eq!(
            u.verdict(Some(&header("alice", "wonderland"))).await,
            Verdict::Allowed
        );
        drop(held);
        for w in waiters {
            assert_eq!(w.await.unwrap(), Verdict::Denied);
        }
        assert_eq!(u.waiting.load(Ordering::Acquire), 0);
    }

    #[tokio::test]
    async fn a_waiting_check_gives_up_after_its_bound() {
        let u = users(&[("alice", "wonderland")]);
        let _held = u
            .checks
            .clone()
            .acquire_many_owned(CONCURRENT_CHECKS as u32)
            .await
            .unwrap();
        assert_eq!(
            u.verdict(Some(&header("alice", "guess"))).await,
            Verdict::Busy
        );
        assert_eq!(u.waiting.load(Ordering::Acquire), 0);
    }

    #[test]
    fn hashes_promtool_rejects_are_rejected() {
        let cases = [
            ("", "too short"),
            ("notahash", "too short"),
            (
                "$2y$03$X0h1gDsPszWURQaxFh.zoubFi6DXncSjhoQNJgRrnGs7EsimhC7zG",
                "cost",
            ),
            (
                "$2y$32$X0h1gDsPszWURQaxFh.zoubFi6DXncSjhoQNJgRrnGs7EsimhC7zG",
                "cost",
            ),
            (
                "$3a$10$X0h1gDsPszWURQaxFh.zoubFi6DXncSjhoQNJgRrnGs7EsimhC7zG",
                "not a bcrypt hash",
            ),
        ];
        for (hash, why) in cases {
            let err = check_hash(hash).unwrap_err();
            assert!(err.contains(why), "{hash}: {err}");
        }
        for version in ["2a", "2b", "2x", "2y"] {
            check_hash(&format!(
                "${version}$10$X0h1gDsPszWURQaxFh.zoubFi6DXncSjhoQNJgRrnGs7EsimhC7zG"
            ))
            .unwrap();
        }
    }

    #[test]
    fn debug_hides_the_hashes() {
        let u = users(&[("alice", "wonderland")]);
        let shown = format!("{u:?}");
        assert!(shown.contains("alice") && !shown.contains("$2"), "{shown}");
    }
}
