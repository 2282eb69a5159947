//! How much of a request's CPU time the AWS SDK takes: the SDK runs each
//! operation inside a span (its generated code names it `Service.Operation`
//! and gives it an `rpc.system` field), entered around every poll of the
//! operation's future. This layer reads the thread's CPU clock on entering and
//! leaving those spans and adds the difference to the request's scope
//! ([`shop::outbound::call_counter::add_sdk_cpu`]), so the ledger can split "our code" into
//! the SDK's work and the rest.

use std::cell::Cell;

use tracing::level_filters::LevelFilter;
use tracing::span::Id;
use tracing::Subscriber;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

thread_local! {
    /// The thread CPU clock when this thread entered an SDK operation's span.
    static ENTERED: Cell<Option<cpu_time::ThreadTime>> = const { Cell::new(None) };
}

struct SdkCpu;

impl<S: Subscriber> Layer<S> for SdkCpu {
    fn on_enter(&self, _id: &Id, _ctx: Context<'_, S>) {
        ENTERED.with(|entered| entered.set(cpu_time::ThreadTime::try_now().ok()));
    }

    fn on_exit(&self, _id: &Id, _ctx: Context<'_, S>) {
        if let Some(entered) = ENTERED.with(Cell::take) {
            shop::outbound::call_counter::add_sdk_cpu(entered.elapsed());
        }
    }
}

/// The SDK-timing layer, seeing only the SDK's operation spans (its filter is
/// its own: the JSON logs still see only what `RUST_LOG` lets through).
pub fn layer<S>() -> impl Layer<S>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    let operation_spans = filter_fn(|meta| meta.is_span() && meta.fields().field("rpc.system").is_some());
    SdkCpu.with_filter(operation_spans.with_max_level_hint(LevelFilter::DEBUG))
}

/// The local stack's subscriber: the functions' JSON logs plus SDK timing.
pub fn init() {
    let _ = tracing_subscriber::registry().with(shop::telemetry::json_logs()).with(layer()).try_init();
}
