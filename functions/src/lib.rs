//! What every function's `main` shares: logs, clients built once, the runtime loop.
//!
//! Every `main` runs on tokio's current-thread runtime: Lambda gives an
//! execution environment one event at a time, so worker threads would only add
//! wake-ups between them (more CPU per warm invocation: `make bench-functions`
//! measures it, docs/benchmarks.md keeps the figure).

use lambda_http::{service_fn, Error};
use lambda_runtime::LambdaEvent;
use shop::workers::Worker;
use shop::Endpoint;

/// Runs one HTTP endpoint behind API Gateway.
pub async fn run_endpoint(endpoint: Endpoint) -> Result<(), Error> {
    shop::telemetry::init();
    let app = shop::App::from_env().await?;
    lambda_http::run(service_fn(|request| endpoint.serve(&app, request))).await
}

/// Runs one event-driven worker (a queue, the table's stream, a schedule).
pub async fn run_worker(worker: Worker) -> Result<(), Error> {
    shop::telemetry::init();
    let store = shop::store_from_env().await?;
    let payments = shop::payments::SandboxPayments::new(store.clone());
    let holds = shop::config::hold_policy_from_env()?;
    lambda_runtime::run(lambda_runtime::service_fn(|event: LambdaEvent<serde_json::Value>| {
        worker.serve(&store, &payments, &holds, event.payload)
    }))
    .await
}
