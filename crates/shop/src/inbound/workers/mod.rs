//! The event-driven workers, one file each: the cart-cleanup SQS consumer
//! and the DynamoDB Streams consumer that keeps per-product cart totals (both
//! report partial batch failures so Lambda retries only what failed), and
//! the scheduled expiry sweep. [`Worker::serve`] is the one entry point the
//! Lambda binary and the local stack share; like the endpoints, every worker
//! runs on the composition root, [`App`].

use aws_lambda_events::event::cloudwatch_events::CloudWatchEvent;

use crate::app::App;
use crate::use_cases::payment::OrderError;

mod cart_cleanup;
mod cart_totals;
mod order_expiry;

use cart_cleanup::cleanup_migrated_lines;
pub use cart_totals::apply_cart_totals;
use order_expiry::expire_overdue_orders;

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The invocation's event is not the shape this worker takes.
    #[error("event does not fit the worker: {0}")]
    BadEvent(String),
    #[error("malformed message: {0}")]
    Malformed(String),
    /// The worker's answer could not be written as JSON for the runtime.
    #[error("answer not serializable: {0}")]
    Answer(String),
    #[error(transparent)]
    Store(#[from] crate::use_cases::StoreError),
    #[error(transparent)]
    Order(#[from] OrderError),
}

/// What the runtime reports for a failed invocation: a type to group by and
/// the message (the runtime examples' `basic-error-thiserror` pattern).
impl From<WorkerError> for lambda_runtime::Diagnostic {
    fn from(error: WorkerError) -> Self {
        let error_type = match &error {
            WorkerError::BadEvent(_) => "WorkerError::BadEvent",
            WorkerError::Malformed(_) => "WorkerError::Malformed",
            WorkerError::Answer(_) => "WorkerError::Answer",
            WorkerError::Store(_) => "WorkerError::Store",
            WorkerError::Order(_) => "WorkerError::Order",
        };
        Self { error_type: error_type.into(), error_message: error.to_string() }
    }
}

/// The event-driven functions, by the `Handler` (in `template.yaml`) of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Worker {
    CartCleanup,
    CartTotals,
    OrderExpiry,
}

impl Worker {
    pub const ALL: [Worker; 3] = [Self::CartCleanup, Self::CartTotals, Self::OrderExpiry];

    pub fn handler_name(self) -> &'static str {
        match self {
            Self::CartCleanup => "cart-cleanup",
            Self::CartTotals => "cart-totals",
            Self::OrderExpiry => "order-expiry",
        }
    }

    pub fn from_handler_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|w| w.handler_name() == name)
    }

    /// Runs this worker on one event as Lambda hands it over (JSON) and
    /// answers what the runtime sends back: the partial batch failures, or the
    /// sweep's report.
    pub async fn serve(self, app: &App, event: serde_json::Value) -> Result<serde_json::Value, WorkerError> {
        fn parse<T: serde::de::DeserializeOwned>(event: serde_json::Value) -> Result<T, WorkerError> {
            serde_json::from_value(event).map_err(|e| WorkerError::BadEvent(e.to_string()))
        }
        let now = crate::clock::now_epoch_secs();
        let answer = match self {
            Self::CartCleanup => serde_json::to_value(cleanup_migrated_lines(&app.store, parse(event)?).await),
            Self::CartTotals => serde_json::to_value(apply_cart_totals(&app.store, parse(event)?, now).await),
            Self::OrderExpiry => {
                let _: CloudWatchEvent = parse(event)?;
                serde_json::to_value(expire_overdue_orders(app, now).await?)
            }
        };
        answer.map_err(|e| WorkerError::Answer(e.to_string()))
    }
}
