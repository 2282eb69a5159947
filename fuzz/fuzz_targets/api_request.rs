//! Any request an API Gateway proxy event can carry, to any endpoint: path
//! parameter, query, cookie, token, idempotency key and body all arbitrary.
#![no_main]

use std::collections::HashMap;

use arbitrary::Arbitrary;
use lambda_http::RequestExt;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    endpoint: u8,
    path_parameter: String,
    query: Vec<(String, String)>,
    cookie: Option<Vec<u8>>,
    authorization: Option<Vec<u8>>,
    idempotency_key: Option<Vec<u8>>,
    body: Vec<u8>,
    body_as_text: bool,
}

fuzz_target!(|input: Input| {
    let endpoints = shop::inbound::http::Endpoint::ALL;
    let endpoint = endpoints[usize::from(input.endpoint) % endpoints.len()];
    let mut builder = http::Request::builder().method("POST").uri("https://api.example.com/Prod/x");
    for (name, value) in [
        ("cookie", &input.cookie),
        ("authorization", &input.authorization),
        ("idempotency-key", &input.idempotency_key),
    ] {
        // API Gateway never forwards a header value HTTP forbids.
        if let Some(value) = value.as_ref().and_then(|v| http::HeaderValue::from_bytes(v).ok()) {
            builder = builder.header(name, value);
        }
    }
    let body = if input.body_as_text {
        match String::from_utf8(input.body) {
            Ok(text) => lambda_http::Body::Text(text),
            Err(_) => return,
        }
    } else {
        lambda_http::Body::Binary(input.body)
    };
    let Ok(request) = builder.body(body) else { return };
    let path: HashMap<String, String> =
        ["product_id", "order_id", "review_id"].into_iter().map(|name| (name.to_owned(), input.path_parameter.clone())).collect();
    let mut query: HashMap<String, Vec<String>> = HashMap::new();
    for (name, value) in input.query {
        query.entry(name).or_default().push(value);
    }
    let request = request.with_path_parameters(path).with_query_string_parameters(query);
    shop_fuzz::serve_and_check(endpoint, request);
});
