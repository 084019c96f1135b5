//! appliance_exporter: a Prometheus exporter for the licences, health and
//! capacity of Enterprise Recon, Connect Secure and Sectona appliances.
//!
//! The binary is thin; [`run`] wires the pieces: configuration, the HTTP
//! surface, the scrape machinery, the appliance families and their
//! collectors, and the demo simulators.

pub mod app;
pub mod appliances;
pub mod budget;
pub mod cli;
pub mod collector;
pub mod config;
pub mod demo;
pub mod exposition;
pub mod json;
pub mod logging;
pub mod scrape;
pub mod server;
pub mod simulator;
pub mod telemetry;
pub mod upstream;
pub mod webconfig;

use std::process::ExitCode;
use std::sync::Arc;

use tracing::{error, info, warn};

use crate::app::{App, Settings};
use crate::cli::Flags;
use crate::config::Config;
use crate::webconfig::WebConfig;

/// Installs the process-wide TLS crypto provider (ring).
pub fn install_crypto_provider() {
    // Fails only when one is installed already, which is fine.
    drop(rustls::crypto::ring::default_provider().install_default());
}

/// Runs the exporter with the given flags until SIGINT / SIGTERM.
pub fn run(flags: Flags) -> ExitCode {
    install_crypto_provider();
    if flags.config_check {
        return check_configuration(&flags);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(usize::from(flags.worker_threads))
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(serve(flags))
}

async fn serve(flags: Flags) -> ExitCode {
    let web = match &flags.web_config_file {
        None => None,
        Some(path) => match WebConfig::load(path) {
            Ok(web) => {
                for w in &web.warnings {
                    warn!(reason = %w, "web configuration warning");
                }
                info!(summary = %web.summary(), "web configuration loaded");
                Some(Arc::new(web))
            }
            Err(e) => {
                error!(reason = %e, "invalid web configuration");
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        },
    };
    let mut demo_guard = None;
    let config_file = if flags.demo {
        match demo::start().await {
            Ok(demo) => {
                let path = demo.config_path.clone();
                demo_guard = Some(demo);
                path
            }
            Err(e) => {
                error!(reason = %e, "cannot start the demo appliances");
                return ExitCode::FAILURE;
            }
        }
    } else {
        flags.config_file.clone()
    };
    let config = match Config::load(&config_file) {
        Ok(c) => c,
        Err(e) => {
            error!(reason = %e, "invalid configuration");
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let settings = Settings {
        config_file,
        timeout_offset: flags.timeout_offset,
        telemetry_path: flags.telemetry_path.clone(),
        enable_lifecycle: flags.enable_lifecycle,
        demo: flags.demo,
    };
    let app = match App::new(settings, config) {
        Ok(app) => Arc::new(app),
        Err(e) => {
            error!(reason = %e, "invalid configuration");
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let mut listeners = Vec::new();
    for address in &flags.listen_addresses {
        match server::bind(address).await {
            Ok(l) => listeners.push(l),
            Err(e) => {
                error!(reason = %e, "cannot listen");
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut servers = Vec::new();
    for listener in listeners {
        let address = listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        info!(address = %address, "listening");
        if let Some(demo) = &demo_guard {
            let scheme = if web.as_ref().is_some_and(|w| w.tls.is_some()) {
                "https"
            } else {
                "http"
            };
            demo.announce(scheme, &address, &flags.telemetry_path);
        }
        let mut rx = stop_rx.clone();
        let shutdown = async move {
            // A dropped sender also means stop.
            let _ = rx.wait_for(|stop| *stop).await;
        };
        servers.push(tokio::spawn(server::serve_with(
            listener,
            app.clone(),
            web.clone(),
            shutdown,
        )));
    }
    tokio::spawn(reload_on_sighup(app.clone()));
    wait_for_termination().await;
    info!("shutting down");
    let _ = stop_tx.send(true);
    for s in servers {
        let _ = s.await;
    }
    drop(demo_guard);
    ExitCode::SUCCESS
}

/// `--config.check`: the configuration and, when given, the web
/// configuration; a summary of each, never a secret.
fn check_configuration(flags: &Flags) -> ExitCode {
    let mut checks = vec![Config::load(&flags.config_file).map(|c| (c.summary(), c.warnings))];
    if let Some(path) = &flags.web_config_file {
        checks.push(WebConfig::load(path).map(|w| (format!("{}\n", w.summary()), w.warnings)));
    }
    let mut ok = true;
    for check in checks {
        match check {
            Ok((summary, warnings)) => {
                print!("{summary}");
                for w in &warnings {
                    println!("warning: {w}");
                }
            }
            Err(e) => {
                eprintln!("{e}");
                ok = false;
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

async fn reload_on_sighup(app: Arc<App>) {
    let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
        return;
    };
    while hup.recv().await.is_some() {
        // The outcome is logged and recorded in the reload metrics.
        let _ = app.reload().await;
    }
}

async fn wait_for_termination() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}
