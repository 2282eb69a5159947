//! JSON logs through `tracing`, as CloudWatch Logs ingests them.

use tracing_subscriber::EnvFilter;

/// Installs the JSON log subscriber once; `RUST_LOG` filters (default `info`).
pub fn init() {
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_target(false)
        .with_current_span(false)
        .with_writer(std::io::stderr)
        .without_time() // Lambda stamps every log line itself
        .try_init();
}
