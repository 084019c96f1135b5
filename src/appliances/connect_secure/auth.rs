//! How requests reach a Connect Secure gateway authenticated: with the API
//! key of the configuration, or with a key obtained from
//! `POST /api/v1/realm_auth`. An obtained key is cached across scrapes,
//! shared by every collector of the target, and renewed when the gateway
//! answers 401 (its admin session expired); the refused request is sent
//! once more with the new key. Collectors that meet the 401 together cause
//! one sign-in, not one each.
//!
//! The key cache stays its own map of slots rather than sharing an
//! abstraction with the exporter's other caches (collections shared by
//! scrapes, bcrypt outcomes) or using `moka`: an entry is renewed when the
//! gateway refuses the key of a given attempt, not by age, a failed sign-in
//! is reported to those that waited for it, and an entry is dropped only
//! when the map is full and no collector holds it.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError};

use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use tracing::{debug, info};

use super::SharedState;
use crate::collector::{CollectError, Context};
use crate::config::{Credentials, Secret};
use crate::upstream::{BasicAuth, Reply, Request, Upstream, UpstreamError};

/// The sign-in endpoint.
pub const REALM_AUTH: &str = "/api/v1/realm_auth";

/// Cache entries beyond which idle ones are dropped (ad-hoc probes can name
/// any number of gateways).
const MAX_CACHED_KEYS: usize = 1024;

/// Keys obtained through realm_auth, one entry per gateway URL and
/// credentials.
#[derive(Debug, Default)]
pub struct KeyCache {
    entries: std::sync::Mutex<HashMap<CacheId, Arc<KeySlot>>>,
}

/// What a cached key belongs to: the gateway and who signed in where.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct CacheId {
    /// The gateway's base URL (targets and probes of it share the key).
    url: String,
    /// The auth's name.
    auth: String,
    /// Who signed in (a reload may change it under the same name).
    username: String,
    /// Where.
    realm: String,
}

impl KeyCache {
    fn slot(&self, id: CacheId) -> Arc<KeySlot> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(slot) = entries.get(&id) {
            return slot.clone();
        }
        if entries.len() >= MAX_CACHED_KEYS {
            entries.retain(|_, slot| Arc::strong_count(slot) > 1);
        }
        entries.entry(id).or_default().clone()
    }
}

/// One cached key and the sign-ins that produced it.
#[derive(Debug, Default)]
pub struct KeySlot {
    /// Sign-in attempts so far. Read before waiting for `held`, it tells a
    /// waiter whether someone else signed in meanwhile.
    attempts: AtomicU64,
    /// The outcome of the last sign-in; the lock makes sign-ins one at a time.
    held: tokio::sync::Mutex<Held>,
}

#[derive(Debug, Default)]
enum Held {
    #[default]
    Nothing,
    Key(Secret),
    Failed(UpstreamError),
}

impl KeySlot {
    /// The key to use, with the attempt that produced it. `rejected` is the
    /// attempt whose key the gateway just refused: a key from a later
    /// attempt is returned as it is, otherwise `sign_in` runs. A sign-in
    /// that failed while this call waited is reported, not repeated.
    pub async fn key<F, Fut>(
        &self,
        rejected: Option<u64>,
        sign_in: F,
    ) -> Result<(Secret, u64), UpstreamError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Secret, UpstreamError>>,
    {
        let seen = self.attempts.load(Ordering::Acquire);
        let mut held = self.held.lock().await;
        let attempt = self.attempts.load(Ordering::Acquire);
        match &*held {
            Held::Key(key) if rejected != Some(attempt) => return Ok((key.clone(), attempt)),
            Held::Failed(err) if attempt != seen => return Err(err.clone()),
            _ => {}
        }
        let outcome = sign_in().await;
        let attempt = attempt + 1;
        self.attempts.store(attempt, Ordering::Release);
        match outcome {
            Ok(key) => {
                *held = Held::Key(key.clone());
                Ok((key, attempt))
            }
            Err(err) => {
                *held = Held::Failed(err.clone());
                Err(err)
            }
        }
    }
}

/// The admin credentials exchanged for a key.
#[derive(Debug)]
struct RealmLogin<'a> {
    /// The cached key of this gateway and these credentials.
    slot: Arc<KeySlot>,
    /// Admin user.
    username: &'a str,
    /// Its password.
    password: &'a Secret,
    /// The admin realm.
    realm: &'a str,
}

/// How the requests are authenticated.
#[derive(Debug)]
enum Access<'a> {
    /// A key from the configuration (kept as a secret so `Debug` hides it).
    Fixed(Secret),
    /// A key obtained (and renewed) through realm_auth.
    Realm(RealmLogin<'a>),
}

/// The authenticated side of one collector's requests to a gateway.
#[derive(Debug)]
pub struct Gateway<'a> {
    /// The HTTP side of the scrape.
    upstream: &'a Upstream,
    /// The key in use.
    access: Access<'a>,
}

/// A key as the gateway wants it: the basic-auth user, with no password.
fn key_auth(key: Secret) -> BasicAuth {
    BasicAuth {
        username: key.expose().to_owned(),
        password: Secret::new(""),
    }
}

impl<'a> Gateway<'a> {
    /// The gateway of the context, with its credentials (validated at load
    /// to be an API key or realm_auth credentials).
    pub fn new<O>(ctx: &Context<'a, O, SharedState>) -> Result<Self, CollectError> {
        let access = match &ctx.auth.credentials {
            Credentials::ApiKey(key) => Access::Fixed(key.clone()),
            Credentials::RealmAuth {
                username,
                password,
                realm,
            } => Access::Realm(RealmLogin {
                slot: ctx.state.keys.slot(CacheId {
                    url: ctx.upstream.base().as_str().to_owned(),
                    auth: ctx.auth.name.clone(),
                    username: username.clone(),
                    realm: realm.clone(),
                }),
                username,
                password,
                realm,
            }),
            Credentials::Basic { .. } => {
                return Err(CollectError::Unsupported(format!(
                    "auth {} has neither an api_key nor a realm",
                    ctx.auth.name
                )));
            }
        };
        Ok(Self {
            upstream: ctx.upstream,
            access,
        })
    }

    /// The gateway's base URL.
    pub fn url(&self) -> &url::Url {
        self.upstream.base()
    }

    /// The target label, for log lines.
    pub fn target(&self) -> &str {
        self.upstream.target()
    }

    /// Whether other targets are being collected at the same time.
    pub fn among_others(&self) -> bool {
        self.upstream.among_others()
    }

    /// GETs `path_and_query`, logged as `endpoint`. Any status comes back as
    /// a reply, except that a 401 to an obtained key renews the key and
    /// asks once more (a second 401 is the reply).
    pub async fn get(
        &self,
        endpoint: &'static str,
        path_and_query: &str,
    ) -> Result<Reply, UpstreamError> {
        let send = |auth: BasicAuth| async move {
            self.upstream
                .send(Request::get(endpoint, path_and_query, Some(&auth)))
                .await
        };
        match &self.access {
            Access::Fixed(key) => send(key_auth(key.clone())).await,
            Access::Realm(login) => {
                let (key, attempt) = login.slot.key(None, || self.sign_in(login)).await?;
                let reply = send(key_auth(key)).await?;
                if reply.status != StatusCode::UNAUTHORIZED {
                    return Ok(reply);
                }
                // Logged once per collector; the sign-in itself once at info.
                debug!(target = %self.target(), endpoint, "the gateway refused the API key (HTTP 401)");
                let (key, _) = login
                    .slot
                    .key(Some(attempt), || self.sign_in(login))
                    .await?;
                send(key_auth(key)).await
            }
        }
    }

    /// GETs and decodes a JSON answer, which must be a success.
    pub async fn get_json<T: DeserializeOwned + Send + 'static>(
        &self,
        endpoint: &'static str,
        path_and_query: &str,
    ) -> Result<T, UpstreamError> {
        let reply = self
            .get(endpoint, path_and_query)
            .await?
            .require_success()?;
        crate::collector::offload::decode(endpoint, &reply.body).await
    }

    async fn sign_in(&self, login: &RealmLogin<'_>) -> Result<Secret, UpstreamError> {
        let admin = BasicAuth {
            username: login.username.to_owned(),
            password: login.password.clone(),
        };
        let body = serde_json::json!({ "realm": login.realm }).to_string();
        let reply = self
            .upstream
            .send(Request::post_json(
                REALM_AUTH,
                REALM_AUTH,
                Some(&admin),
                body.into_bytes(),
            ))
            .await?
            .require_success()?;
        let key = issued_key(&reply.body)?;
        info!(target = %self.target(), endpoint = REALM_AUTH, realm = login.realm, "signed in for a new API key");
        Ok(key)
    }
}

/// The key of a realm_auth answer. Not `json::decode`: its errors quote
/// the body, which holds the key.
fn issued_key(body: &[u8]) -> Result<Secret, UpstreamError> {
    #[derive(serde::Deserialize)]
    struct Answer {
        api_key: String,
    }
    serde_json::from_slice::<Answer>(body)
        .ok()
        .map(|a| a.api_key)
        .filter(|k| !k.is_empty())
        .map(Secret::new)
        .ok_or(UpstreamError::Decode {
            endpoint: REALM_AUTH,
            path: "api_key".into(),
            reason: "the answer has no API key".into(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    async fn sign_in(calls: &AtomicUsize, ok: bool) -> Result<Secret, UpstreamError> {
        let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
        if ok {
            Ok(Secret::new(format!("key-{n}")))
        } else {
            Err(UpstreamError::Status {
                endpoint: REALM_AUTH,
                status: 401,
                message: None,
            })
        }
    }

    #[test]
    fn issued_keys_are_read_and_never_quoted() {
        let key = issued_key(br#"{"api_key": "MjUwOGQyNzAyOWU3MWQ2MzNiMTM2Njg2MzAwNDg3MjU="}"#);
        assert_eq!(
            key.unwrap().expose(),
            "MjUwOGQyNzAyOWU3MWQ2MzNiMTM2Njg2MzAwNDg3MjU="
        );
        for body in [
            &b"api_key=S3cr3tKey"[..],
            br#"{"api_key": ["S3cr3tKey"]}"#,
            br#"{"api_key": ""}"#,
        ] {
            let err = issued_key(body).unwrap_err().to_string();
            assert_eq!(
                err,
                "/api/v1/realm_auth: unexpected response at api_key: the answer has no API key"
            );
        }
    }

    #[test]
    fn debug_output_hides_the_key() {
        let access = Access::Fixed(Secret::new("S3cr3tKey"));
        assert!(!format!("{access:?}").contains("S3cr3tKey"));
    }

    #[tokio::test]
    async fn concurrent_first_use_signs_in_once() {
        let slot = KeySlot::default();
        let calls = AtomicUsize::new(0);
        let keys =
            futures::future::join_all((0..6).map(|_| slot.key(None, || sign_in(&calls, true))))
                .await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        for k in keys {
            let (key, attempt) = k.unwrap();
            assert_eq!((key.expose(), attempt), ("key-1", 1));
        }
    }

    #[tokio::test]
    async fn concurrent_rejections_renew_once() {
        let slot = KeySlot::default();
        let calls = AtomicUsize::new(0);
        let (_, first) = slot.key(None, || sign_in(&calls, true)).await.unwrap();
        let renewed = futures::future::join_all(
            (0..6).map(|_| slot.key(Some(first), || sign_in(&calls, true))),
        )
        .await;
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        for k in renewed {
            assert_eq!(k.unwrap().0.expose(), "key-2");
        }
        // A rejection of a key already replaced does not sign in again.
        let (key, _) = slot
            .key(Some(first), || sign_in(&calls, true))
            .await
            .unwrap();
        assert_eq!((key.expose(), calls.load(Ordering::SeqCst)), ("key-2", 2));
    }

    #[tokio::test]
    async fn a_failed_sign_in_is_shared_by_its_waiters_and_retried_later() {
        let slot = KeySlot::default();
        let calls = AtomicUsize::new(0);
        let results =
            futures::future::join_all((0..6).map(|_| slot.key(None, || sign_in(&calls, false))))
                .await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(
            results
                .iter()
                .all(|r| r.as_ref().is_err_and(UpstreamError::is_unauthorized))
        );
        // The next scrape tries again.
        let (key, attempt) = slot.key(None, || sign_in(&calls, true)).await.unwrap();
        assert_eq!((key.expose(), attempt), ("key-2", 2));
    }
}
