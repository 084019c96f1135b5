//! The web configuration in force, re-read when its file changes (checked
//! at each request and each TLS handshake: one `stat`), as exporter-toolkit
//! reads it on every request. A changed file that fails to load is logged
//! once and the previous configuration stays. Switching TLS on or off takes
//! a restart: the listeners' protocol does not change under the scrapers.
//! So does removing every basic-auth user: a blank or half-written file
//! must not open the endpoints.

use std::sync::{Arc, Mutex, PoisonError};

use tracing::{info, warn};

use super::WebConfig;
use super::stamp::{Stamp, stamp};

/// A web configuration and the file it follows.
#[derive(Debug)]
pub struct LiveWebConfig {
    state: Mutex<LiveState>,
}

#[derive(Debug)]
struct LiveState {
    /// The file's stamp when it was last tried.
    tried: Option<Stamp>,
    /// The configuration in force.
    current: Arc<WebConfig>,
}

impl LiveWebConfig {
    /// Follows `web.source`, starting from `web`.
    pub fn new(web: Arc<WebConfig>) -> Self {
        Self {
            state: Mutex::new(LiveState {
                tried: stamp(&web.source),
                current: web,
            }),
        }
    }

    /// The configuration in force, re-read first if its file changed.
    pub fn current(&self) -> Arc<WebConfig> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let source = state.current.source.clone();
        let now = stamp(&source);
        if now != state.tried {
            state.tried = now;
            // Small files, read only when they changed: fine inline.
            match WebConfig::load(&source) {
                Ok(web) if web.tls.is_some() != state.current.tls.is_some() => {
                    warn!(file = %source.display(), "the web configuration changed whether TLS is on; that takes a restart, keeping the previous configuration");
                }
                Ok(web) if web.users.is_none() && state.current.users.is_some() => {
                    warn!(file = %source.display(), "the web configuration changed to one without basic_auth_users, which would open every endpoint (a blank or half-written file?); removing authentication takes a restart, keeping the previous configuration");
                }
                Ok(web) => {
                    for w in &web.warnings {
                        warn!(reason = %w, "web configuration warning");
                    }
                    info!(summary = %web.summary(), "web configuration reloaded");
                    state.current = Arc::new(web);
                }
                Err(reason) => {
                    warn!(reason = %reason, "web configuration changed but cannot be loaded; keeping the previous one");
                }
            }
        }
        state.current.clone()
    }
}
