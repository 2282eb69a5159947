//! What the function's `main` runs: the handler its `Handler` names, with
//! logs, clients built once and the runtime loop.
//!
//! Every `main` runs on tokio's current-thread runtime: Lambda gives an
//! execution environment one event at a time, so worker threads would only add
//! wake-ups between them (more CPU per warm invocation: `make bench-functions`
//! measures it, docs/benchmarks.md keeps the figure).

use lambda_http::{service_fn, Error};
use lambda_runtime::LambdaEvent;
use shop::workers::Worker;
use shop::Endpoint;

/// Runs the endpoint or worker Lambda's `_HANDLER` names: the function's
/// `Handler` in template.yaml ("the handler location configured on the
/// function", Lambda's defined runtime environment variables:
/// lambda/latest/dg/configuration-envvars.html). `sam local invoke` sets
/// `AWS_LAMBDA_FUNCTION_HANDLER` for the emulator in its container, which
/// passes it on as `_HANDLER`; either is read.
pub async fn run_handler_from_env() -> Result<(), Error> {
    let name = std::env::var("_HANDLER")
        .or_else(|_| std::env::var("AWS_LAMBDA_FUNCTION_HANDLER"))
        .map_err(|_| "no _HANDLER: Lambda sets it from the function's Handler")?;
    match (Endpoint::from_handler_name(&name), Worker::from_handler_name(&name)) {
        (Some(endpoint), _) => run_endpoint(endpoint).await,
        (None, Some(worker)) => run_worker(worker).await,
        (None, None) => Err(format!("the function's Handler {name:?} names no endpoint or worker of the shop").into()),
    }
}

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
