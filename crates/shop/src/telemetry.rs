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
    json_logs_into(std::io::stderr)
}

/// The JSON log lines, written by `writer`. Each line carries its request's
/// span (`span`: the endpoint and, signed in, the caller); the spans of the
/// SDK's calls are below the filter's level, so they never take its place.
pub fn json_logs_into<S, W>(writer: W) -> impl Layer<S>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
    W: for<'writer> tracing_subscriber::fmt::MakeWriter<'writer> + Send + Sync + 'static,
{
    tracing_subscriber::fmt::layer()
        .json()
        .with_target(false)
        .with_current_span(true)
        .with_span_list(false)
        .with_writer(writer)
        .without_time() // Lambda stamps every log line itself
        .with_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
}
