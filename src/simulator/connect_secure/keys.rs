//! The simulated gateway's API keys: fixed ones from the configuration, and
//! the ones `realm_auth` issues, each valid for a configured number of
//! requests or until expired by hand, so a key can expire mid-scrape.

use std::sync::{Mutex, PoisonError};

/// A key realm_auth issued.
#[derive(Debug)]
struct Issued {
    /// The key.
    key: String,
    /// Requests it is still good for (`None`: any number).
    uses_left: Option<u64>,
}

/// The keys the gateway accepts.
#[derive(Debug)]
pub struct Keys {
    /// API keys from the configuration, never expiring.
    fixed: Vec<String>,
    /// Uses of the n-th issued key; later keys get the last entry (none:
    /// unlimited).
    uses: Vec<u64>,
    /// Every key issued so far.
    issued: Mutex<Vec<Issued>>,
}

impl Keys {
    /// Accepts `fixed` keys, and issues keys valid for `uses`.
    pub fn new(fixed: Vec<String>, uses: Vec<u64>) -> Self {
        Self {
            fixed,
            uses,
            issued: Mutex::new(Vec::new()),
        }
    }

    /// A new key.
    pub fn issue(&self) -> String {
        use base64::Engine as _;
        let mut issued = self.issued.lock().unwrap_or_else(PoisonError::into_inner);
        let n = issued.len();
        let uses_left = self.uses.get(n).or(self.uses.last()).copied();
        let key = base64::engine::general_purpose::STANDARD
            .encode(format!("realm-auth-key-{n}-{:x}", super::super::unix_now()));
        issued.push(Issued {
            key: key.clone(),
            uses_left,
        });
        key
    }

    /// Whether `key` is accepted now; counts one use of an issued key.
    pub fn admit(&self, key: &str) -> bool {
        if self.fixed.iter().any(|k| k == key) {
            return true;
        }
        let mut issued = self.issued.lock().unwrap_or_else(PoisonError::into_inner);
        match issued.iter_mut().find(|i| i.key == key) {
            Some(Issued {
                uses_left: Some(0), ..
            })
            | None => false,
            Some(Issued {
                uses_left: Some(n), ..
            }) => {
                *n -= 1;
                true
            }
            Some(Issued {
                uses_left: None, ..
            }) => true,
        }
    }

    /// Invalidates every issued key (their admin sessions timed out).
    pub fn expire_all(&self) {
        let mut issued = self.issued.lock().unwrap_or_else(PoisonError::into_inner);
        for i in issued.iter_mut() {
            i.uses_left = Some(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_keys_expire_after_their_uses() {
        let keys = Keys::new(vec!["fixed".into()], vec![2, 0]);
        let a = keys.issue();
        assert!(keys.admit(&a) && keys.admit(&a));
        assert!(!keys.admit(&a));
        let b = keys.issue();
        assert_ne!(a, b);
        assert!(!keys.admit(&b), "the second key has no uses");
        let c = keys.issue();
        assert!(!keys.admit(&c), "later keys get the last entry");
        assert!(keys.admit("fixed") && !keys.admit("other"));
    }

    #[test]
    fn keys_can_be_expired_by_hand() {
        let keys = Keys::new(Vec::new(), Vec::new());
        let a = keys.issue();
        assert!(keys.admit(&a) && keys.admit(&a));
        keys.expire_all();
        assert!(!keys.admit(&a));
        assert!(keys.admit(&keys.issue()));
    }
}
