//! Reloading the configuration: the file is read again off the async
//! runtime and swapped in whole; a bad file keeps the old configuration in
//! force. One reload runs at a time.

use std::sync::{Arc, PoisonError};

use tracing::{info, warn};

use crate::config::Config;

use super::{App, LoadError, Loaded};

impl App {
    /// Re-reads the configuration file; on error the old configuration
    /// stays in force and the error (file, line, field) is returned.
    pub async fn reload(&self) -> Result<(), LoadError> {
        let _one_at_a_time = self.reloading.lock().await;
        let path = self.settings.config_file.clone();
        let result = tokio::task::spawn_blocking(move || Loaded::new(Config::load(&path)?))
            .await
            .unwrap_or_else(|e| Err(LoadError::from(e)));
        match result {
            Ok(loaded) => {
                loaded.announce(self.settings.demo);
                *self.loaded.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(loaded);
                // Results of the old configuration are not served again.
                self.collections.forget_recent();
                self.metrics.record_reload(true);
                info!(file = %self.settings.config_file.display(), "configuration reloaded");
                Ok(())
            }
            Err(reason) => {
                self.metrics.record_reload(false);
                warn!(reason = %reason, "configuration reload failed; keeping the previous configuration");
                Err(reason)
            }
        }
    }
}
