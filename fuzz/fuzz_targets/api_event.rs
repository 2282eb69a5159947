//! Raw bytes as a Lambda proxy event, parsed the way `lambda_http` parses what
//! API Gateway sends, then served by an endpoint the first byte picks.
//!
//! API Gateway itself sets `Host` and `X-Forwarded-Proto` and only forwards
//! paths that are valid URIs; `lambda_http` 1.3 panics on events that break
//! those (its `build_request_uri` unwraps `Url::parse`), so such events are
//! brought back to what API Gateway would send before they are parsed.
#![no_main]

use lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((first, event)) = data.split_first() else { return };
    let Ok(mut event) = serde_json::from_slice::<ApiGatewayProxyRequest>(event) else { return };
    event.headers.insert(http::header::HOST, http::HeaderValue::from_static("api.example.com"));
    event.headers.remove("x-forwarded-proto");
    event.multi_value_headers.remove(http::header::HOST);
    event.multi_value_headers.remove("x-forwarded-proto");
    event.request_context.stage = Some("Prod".into());
    event.request_context.domain_name = Some("api.example.com".into());
    let path = event.path.clone().unwrap_or_default();
    let valid_uri = url::Url::parse(&format!("https://api.example.com/Prod{path}"))
        .ok()
        .is_some_and(|u| u.as_str().parse::<http::Uri>().is_ok());
    if !path.is_empty() && (!path.starts_with('/') || !valid_uri) {
        return;
    }
    let Ok(text) = serde_json::to_string(&event) else { return };
    let Ok(request) = lambda_http::request::from_str(&text) else { return };
    let endpoints = shop::inbound::http::Endpoint::ALL;
    shop_fuzz::serve_and_check(endpoints[usize::from(*first) % endpoints.len()], request);
});
