//! What every function's `main` shares: logs, clients built once, the runtime loop.

use lambda_http::{service_fn, Error};
use shop::Endpoint;

/// Runs one HTTP endpoint behind API Gateway.
pub async fn run_endpoint(endpoint: Endpoint) -> Result<(), Error> {
    shop::telemetry::init();
    let app = shop::App::from_env().await?;
    lambda_http::run(service_fn(|request| endpoint.serve(&app, request))).await
}
