//! What the functions' two binaries run: `shop-endpoint` every HTTP endpoint,
//! `shop-worker` every event-driven worker, each the one its function's
//! `Handler` names, with logs, clients built once and the runtime loop. Two
//! binaries, not one: the workers' would otherwise carry the whole HTTP side
//! (a third larger), and two links still build in minutes (docs/deploy.md).
//!
//! Every `main` runs on tokio's current-thread runtime: Lambda gives an
//! execution environment one event at a time, so worker threads would only add
//! wake-ups between them (more CPU per warm invocation: `make bench-functions`
//! measures it, docs/benchmarks.md keeps the figure).

use lambda_http::{service_fn, Error};
use lambda_runtime::LambdaEvent;
use shop::app::App;
use shop::inbound::http::Endpoint;
use shop::inbound::workers::Worker;

/// The function's `Handler` in template.yaml, as Lambda passes it in
/// `_HANDLER` ("the handler location configured on the function", Lambda's
/// defined runtime environment variables:
/// lambda/latest/dg/configuration-envvars.html). `sam local invoke` sets
/// `AWS_LAMBDA_FUNCTION_HANDLER` for the emulator in its container, which
/// passes it on as `_HANDLER`; either is read.
fn handler_name() -> Result<String, Error> {
    std::env::var("_HANDLER")
        .or_else(|_| std::env::var("AWS_LAMBDA_FUNCTION_HANDLER"))
        .map_err(|_| "no _HANDLER: Lambda sets it from the function's Handler".into())
}

/// `shop-endpoint`'s `main`: the endpoint the function's `Handler` names.
pub async fn run_endpoint_from_env() -> Result<(), Error> {
    let name = handler_name()?;
    match Endpoint::from_handler_name(&name) {
        Some(endpoint) => run_endpoint(endpoint).await,
        None => Err(wrong_binary(&name, "shop-endpoint", "endpoint")),
    }
}

/// `shop-worker`'s `main`: the worker the function's `Handler` names.
pub async fn run_worker_from_env() -> Result<(), Error> {
    let name = handler_name()?;
    match Worker::from_handler_name(&name) {
        Some(worker) => run_worker(worker).await,
        None => Err(wrong_binary(&name, "shop-worker", "worker")),
    }
}

/// Logged by the runtime as the init error (the template test keeps it from
/// reaching AWS).
fn wrong_binary(name: &str, binary: &str, kind: &str) -> Error {
    format!("the function's Handler {name:?} names no {kind} of the shop, which is all {binary} runs").into()
}

/// Runs one HTTP endpoint behind API Gateway.
pub async fn run_endpoint(endpoint: Endpoint) -> Result<(), Error> {
    shop::telemetry::init();
    let app = App::from_env().await?;
    lambda_http::run(service_fn(|request| endpoint.serve(&app, request))).await
}

/// Runs one event-driven worker (a queue, the table's stream, a schedule),
/// on the same composition root as the endpoints.
pub async fn run_worker(worker: Worker) -> Result<(), Error> {
    shop::telemetry::init();
    let app = App::from_env().await?;
    lambda_runtime::run(lambda_runtime::service_fn(|event: LambdaEvent<serde_json::Value>| {
        worker.serve(&app, event.payload)
    }))
    .await
}
