//! What every function's `main` shares: logs, clients built once, the runtime loop.
//!
//! Every `main` runs on tokio's current-thread runtime: Lambda gives an
//! execution environment one event at a time, so worker threads would only add
//! wake-ups between them (about a third more CPU per warm invocation, measured
//! with `make bench-functions`).

use lambda_http::{service_fn, Error};
use shop::Endpoint;

/// Runs one HTTP endpoint behind API Gateway.
pub async fn run_endpoint(endpoint: Endpoint) -> Result<(), Error> {
    shop::telemetry::init();
    let app = shop::App::from_env().await?;
    lambda_http::run(service_fn(|request| endpoint.serve(&app, request))).await
}
