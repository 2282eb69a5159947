//! The storefront on one origin with the API, as CloudFront serves it on AWS:
//! the built pages (`frontend/dist`), `/config.json` (the page's settings, so
//! one build serves every environment) and the API under `/api`. One origin
//! keeps the `cartId` cookie first-party and needs no CORS. As CloudFront
//! does, answers are compressed (gzip or Brotli, as the browser asks), a
//! missing file is 404, and a page address the app routes gets `index.html`.

use std::path::Path;

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::Value;
use tower::ServiceExt;
use tower_http::compression::CompressionLayer;
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
    let index = dist.join("index.html");
    let missing = move |request: Request| {
        let index = index.clone();
        async move {
            // A missing file (its name has a dot: `/robots.txt`, `/x.png`) is
            // not a page of the app: 404, as S3 behind CloudFront answers.
            let last = request.uri().path().rsplit('/').next().unwrap_or_default();
            if last.contains('.') {
                return Ok::<_, std::convert::Infallible>((StatusCode::NOT_FOUND, "not found").into_response());
            }
            Ok(ServeFile::new(index)
                .oneshot(request)
                .await
                .map(IntoResponse::into_response)
                .unwrap_or_else(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response()))
        }
    };
    let files = ServeDir::new(dist).fallback(tower::service_fn(missing));
    let config_json = config.to_string();
    Router::new()
        .route(
            "/config.json",
            get(move || async move { ([(header::CONTENT_TYPE, "application/json")], config_json).into_response() }),
        )
        .fallback_service(files)
        .layer(middleware::from_fn(cache_headers))
        .nest_service(API_PATH, api)
        .layer(CompressionLayer::new())
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn dist() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("storefront-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(dir.join("assets")).unwrap();
        std::fs::write(dir.join("index.html"), "<!doctype html><title>The shop</title>").unwrap();
        std::fs::write(dir.join("assets/app.js"), "console.log('the shop');".repeat(200)).unwrap();
        dir
    }

    async fn get(router: &Router, path: &str, encoding: Option<&str>) -> Response {
        let mut request = axum::http::Request::builder().uri(path);
        if let Some(encoding) = encoding {
            request = request.header(header::ACCEPT_ENCODING, encoding);
        }
        router.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap()
    }

    #[tokio::test]
    async fn files_are_compressed_as_asked_and_a_missing_file_is_not_the_app() {
        let router = router(&dist(), serde_json::json!({}), Router::new());
        let js = get(&router, "/assets/app.js", Some("br, gzip")).await;
        assert_eq!((js.status(), js.headers()[header::CONTENT_ENCODING].to_str().unwrap()), (StatusCode::OK, "br"));
        let gzip = get(&router, "/assets/app.js", Some("gzip")).await;
        assert_eq!(gzip.headers()[header::CONTENT_ENCODING], "gzip");
        assert!(get(&router, "/assets/app.js", None).await.headers().get(header::CONTENT_ENCODING).is_none());
        for missing in ["/robots-nope.txt", "/assets/gone.js", "/images/none.png"] {
            assert_eq!(get(&router, missing, None).await.status(), StatusCode::NOT_FOUND, "{missing}");
        }
        // An address the app routes is the app.
        let page = get(&router, "/orders/123", None).await;
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(page.headers()[header::CACHE_CONTROL], "no-cache");
    }
}
