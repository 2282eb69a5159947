//! JSON logs through `tracing`, as CloudWatch Logs ingests them.

use tracing::Subscriber;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Installs the JSON log subscriber once; `RUST_LOG` filters (default `info`).
pub fn init() {
    let _ = tracing_subscriber::registry().with(json_logs()).try_init();
}

/// The JSON log lines on stderr, filtered by `RUST_LOG` (default `info`). The
/// filter is the layer's own, so that another layer (the local stack's SDK
/// timing) can see spans these logs leave out.
pub fn json_logs<S>() -> impl Layer<S>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    tracing_subscriber::fmt::layer()
        .json()
        .with_target(false)
        .with_current_span(false)
        .with_writer(std::io::stderr)
        .without_time() // Lambda stamps every log line itself
        .with_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
}
