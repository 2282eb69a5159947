//! The storefront on one origin with the API, as CloudFront serves it on AWS:
//! the built pages (`frontend/dist`), `/config.json` (the page's settings, so
//! one build serves every environment) and the API under `/api`. One origin
//! keeps the `cartId` cookie first-party and needs no CORS.

use std::path::Path;

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::Value;
use tower_http::services::{ServeDir, ServeFile};

/// Where the storefront reaches the API on its own origin.
pub const API_PATH: &str = "/api";

/// What the page reads from `/config.json` (see `frontend/src/lib/config.ts`).
/// The publishable key the local storefront pays with (localstripe takes any `pk_`).
pub const LOCAL_STRIPE_PUBLISHABLE_KEY: &str = "pk_test_local";

/// `config.json`; with `stripe` (localstripe's address) the storefront pays
/// by card through Stripe.js, served by the stack's stand-in.
pub fn page_config(
    region: &str,
    user_pool_id: &str,
    client_id: &str,
    cognito_endpoint: &str,
    stripe: Option<&str>,
) -> Value {
    let mut config = serde_json::json!({
        "apiBase": API_PATH,
        "region": region,
        "userPoolId": user_pool_id,
        "userPoolClientId": client_id,
        "cognitoEndpoint": cognito_endpoint,
    });
    if let Some(stripe) = stripe {
        config["stripe"] = serde_json::json!({
            "publishableKey": LOCAL_STRIPE_PUBLISHABLE_KEY,
            "jsUrl": format!("{stripe}/js.stripe.com/v3/"),
        });
    }
    config
}

/// The storefront's routes: `api` (the local API Gateway) under `/api`, the
/// config, and the files of `dist` with the SPA fallback to `index.html`.
pub fn router(dist: &Path, config: Value, api: Router) -> Router {
    let files = ServeDir::new(dist).fallback(ServeFile::new(dist.join("index.html")));
    let config_json = config.to_string();
    Router::new()
        .route(
            "/config.json",
            get(move || async move { ([(header::CONTENT_TYPE, "application/json")], config_json).into_response() }),
        )
        .fallback_service(files)
        .layer(middleware::from_fn(cache_headers))
        .nest_service(API_PATH, api)
}

/// The same cache rules as `make deploy-frontend` uploads with: hashed assets
/// never change, everything else (index.html, config.json) is revalidated.
async fn cache_headers(request: Request, next: Next) -> Response {
    let immutable = request.uri().path().starts_with("/assets/");
    let mut response = next.run(request).await;
    let value = if immutable { "public, max-age=31536000, immutable" } else { "no-cache" };
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    response
}
