//! The local API Gateway (REST, stage Prod) and the Lambda Invoke API.
//!
//! Routes come from the template's Api events. Each request becomes a real API
//! Gateway proxy event (path parameters, authorizer claims on authorized
//! routes) handed to the same handler code the Lambda binaries run.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use base64::Engine;
use serde_json::{json, Map, Value};

use crate::functions::{Functions, Handler};
use crate::template::Template;
use crate::LocalError;

/// API Gateway's payload limit.
const MAX_PAYLOAD: usize = 10 * 1024 * 1024;

/// The header in which the local API names the route that served a request.
pub const LOCAL_ROUTE_HEADER: &str = "x-local-route";
/// The header in which the local API lists the AWS calls a request made,
/// comma-separated, in order.
pub const LOCAL_AWS_CALLS_HEADER: &str = "x-local-aws-calls";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
}

#[derive(Debug)]
struct Route {
    resource: String,
    segments: Vec<Segment>,
    method: String,
    handler: Handler,
    authorized: bool,
    /// The stage's throttle for this method (the template's MethodSettings).
    throttle: Option<TokenBucket>,
}

/// API Gateway's throttle of one method: a token bucket holding `burst`
/// requests, refilled at `rate` a second, shared by every caller. A request
/// that finds it empty is answered 429 before any authorizer or function runs.
/// AWS: "Throttle requests to your REST APIs for better throughput in API Gateway".
#[derive(Debug)]
struct TokenBucket {
    rate: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl TokenBucket {
    fn new(rate: f64, burst: f64) -> Self {
        Self { rate, burst, state: Mutex::new((burst, Instant::now())) }
    }

    fn take(&self) -> bool {
        let Ok(mut state) = self.state.lock() else { return true };
        let now = Instant::now();
        let (tokens, since) = *state;
        let tokens = (tokens + now.duration_since(since).as_secs_f64() * self.rate).min(self.burst);
        let taken = tokens >= 1.0;
        *state = (if taken { tokens - 1.0 } else { tokens }, now);
        taken
    }
}

fn segments(path: &str) -> Vec<Segment> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => Segment::Param(name.to_owned()),
            None => Segment::Literal(s.to_owned()),
        })
        .collect()
}

impl Route {
    /// Path parameters if the path fits this route's resource.
    fn matches(&self, parts: &[&str]) -> Option<HashMap<String, String>> {
        if parts.len() != self.segments.len() {
            return None;
        }
        let mut params = HashMap::new();
        for (segment, part) in self.segments.iter().zip(parts) {
            match segment {
                Segment::Literal(l) if l == part => {}
                Segment::Literal(_) => return None,
                Segment::Param(name) => {
                    params.insert(name.clone(), (*part).to_owned());
                }
            }
        }
        Some(params)
    }

    fn literal_count(&self) -> usize {
        self.segments.iter().filter(|s| matches!(s, Segment::Literal(_))).count()
    }
}

pub struct Gateway {
    functions: Arc<Functions>,
    routes: Vec<Route>,
    cors_headers: String,
    cors_methods: String,
    /// Function name (logical id or binary) to handler, for the Invoke API.
    handlers: HashMap<String, Handler>,
    /// The OpenAPI document, as YAML and as JSON, served at `/openapi.yaml` and
    /// `/openapi.json` (locally only: API Gateway does not serve it).
    spec: Option<(String, String)>,
}

impl Gateway {
    pub fn new(functions: Arc<Functions>, template: &Template) -> Result<Self, LocalError> {
        let mut routes = Vec::new();
        for (function, path, method, authorized) in template.routes() {
            routes.push(Route {
                resource: path.to_owned(),
                segments: segments(path),
                method: method.to_owned(),
                handler: Handler::named(&function.handler)?,
                authorized,
                throttle: template.throttle_for(path, method).map(|t| TokenBucket::new(t.rate, t.burst)),
            });
        }
        let mut handlers = HashMap::new();
        for f in &template.functions {
            let handler = Handler::named(&f.handler)?;
            handlers.insert(f.logical_id.clone(), handler);
            handlers.insert(f.handler.clone(), handler);
        }
        Ok(Self {
            functions,
            routes,
            cors_headers: template.api_cors_headers.clone(),
            cors_methods: template.api_cors_methods.clone(),
            handlers,
            spec: None,
        })
    }

    fn serve_json(&self, value: impl serde::Serialize) -> Response {
        let mut response = axum::Json(value).into_response();
        self.cors(response.headers_mut());
        response
    }

    /// Serves `yaml` (an OpenAPI document) beside the API.
    pub fn with_spec(mut self, yaml: String) -> Result<Self, LocalError> {
        let value: Value = serde_yaml::from_str(&yaml).map_err(|e| LocalError::Setup(format!("openapi.yaml: {e}")))?;
        let json = serde_json::to_string_pretty(&value).map_err(|e| LocalError::Setup(e.to_string()))?;
        self.spec = Some((yaml, json));
        Ok(self)
    }

    fn serve_spec(&self, path: &str) -> Option<Response> {
        let (yaml, json) = self.spec.as_ref()?;
        let (body, content_type) = match path {
            "/openapi.yaml" => (yaml.clone(), "application/yaml"),
            "/openapi.json" => (json.clone(), "application/json"),
            _ => return None,
        };
        let mut response = ([(axum::http::header::CONTENT_TYPE, content_type)], body).into_response();
        self.cors(response.headers_mut());
        Some(response)
    }

    pub fn route_count(&self) -> usize {
        self.routes.len()
    }

    pub fn api_router(self: Arc<Self>) -> Router {
        Router::new().fallback(serve_api).with_state(self)
    }

    pub fn invoke_router(self: Arc<Self>) -> Router {
        Router::new().route("/2015-03-31/functions/{name}/invocations", post(serve_invoke)).with_state(self)
    }

    fn cors(&self, headers: &mut HeaderMap) {
        let origin = self.functions.app.config.allowed_origin.as_str();
        if let Ok(v) = HeaderValue::from_str(origin) {
            headers.insert("access-control-allow-origin", v);
            headers.insert("access-control-allow-credentials", HeaderValue::from_static("true"));
        }
    }

    /// API Gateway's own answers (no integration reached), with the template's
    /// gateway-response CORS headers.
    fn gateway_response(&self, status: StatusCode, message: &str) -> Response {
        let mut response = (status, axum::Json(json!({ "message": message }))).into_response();
        self.cors(response.headers_mut());
        response
    }

    fn preflight(&self) -> Response {
        let mut response = StatusCode::OK.into_response();
        let headers = response.headers_mut();
        self.cors(headers);
        for (name, value) in [
            ("access-control-allow-methods", self.cors_methods.as_str()),
            ("access-control-allow-headers", self.cors_headers.as_str()),
            ("access-control-max-age", "600"),
        ] {
            if let Ok(v) = HeaderValue::from_str(value) {
                headers.insert(name, v);
            }
        }
        response
    }
}

async fn serve_api(
    State(gateway): State<Arc<Gateway>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    if parts.method == Method::GET {
        if let Some(spec) = gateway.serve_spec(&path) {
            return spec;
        }
        match path.as_str() {
            "/_local/aws-calls" => return gateway.serve_json(gateway.functions.ledger.calls()),
            "/_local/timings" => return gateway.serve_json(gateway.functions.ledger.timings()),
            _ => {}
        }
    }
    if parts.method == Method::DELETE && path == "/_local/timings" {
        gateway.functions.ledger.clear_timings();
        return gateway.serve_json(json!({}));
    }
    let decoded: Vec<String> = path.split('/').filter(|s| !s.is_empty()).map(percent_decode).collect();
    let decoded_refs: Vec<&str> = decoded.iter().map(String::as_str).collect();
    // API Gateway's resource tree prefers literal segments over parameters.
    let mut candidates: Vec<(&Route, HashMap<String, String>)> =
        gateway.routes.iter().filter_map(|r| r.matches(&decoded_refs).map(|p| (r, p))).collect();
    candidates.sort_by_key(|(r, _)| std::cmp::Reverse(r.literal_count()));
    let best_literals = candidates.first().map(|(r, _)| r.literal_count());
    candidates.retain(|(r, _)| Some(r.literal_count()) == best_literals);
    if parts.method == Method::OPTIONS && !candidates.is_empty() {
        return gateway.preflight();
    }
    let Some((route, params)) = candidates.into_iter().find(|(r, _)| r.method == parts.method.as_str()) else {
        // What API Gateway answers for an unknown resource or method.
        return gateway.gateway_response(StatusCode::FORBIDDEN, "Missing Authentication Token");
    };
    if route.throttle.as_ref().is_some_and(|bucket| !bucket.take()) {
        // API Gateway's THROTTLED answer, through the template's DEFAULT_4XX response.
        return gateway.gateway_response(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests");
    }
    let Ok(body) = to_bytes(body, MAX_PAYLOAD).await else {
        return gateway.gateway_response(StatusCode::PAYLOAD_TOO_LARGE, "Request Too Long");
    };

    let mut authorizer = Map::new();
    if route.authorized {
        let token = parts.headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
        match gateway.functions.app.verifier.verify_header(token).await {
            Ok(identity) if !token.is_empty() => {
                let mut claims = Map::new();
                claims.insert("sub".into(), json!(identity.sub));
                claims.insert("token_use".into(), json!("id"));
                if let Some(u) = identity.username {
                    claims.insert("cognito:username".into(), json!(u));
                }
                if let Some(e) = identity.email {
                    claims.insert("email".into(), json!(e));
                }
                if !identity.groups.is_empty() {
                    claims.insert("cognito:groups".into(), json!(identity.groups.join(",")));
                }
                authorizer.insert("claims".into(), Value::Object(claims));
            }
            _ => return gateway.gateway_response(StatusCode::UNAUTHORIZED, "Unauthorized"),
        }
    }

    let event = proxy_event(route, &parts, &path, params, &body, authorizer, peer);
    let route_name = format!("{} {}", route.method, route.resource);
    let (result, calls) = gateway.functions.invoke_counted(route.handler, event, Some(&route_name)).await;
    match result.and_then(proxy_response) {
        Ok(mut response) => {
            // Local only (API Gateway sends neither): which route answered and
            // the AWS calls it made, so a client can check each request's cost
            // (the walk's test of the design minimums) on a stack shared with
            // other clients.
            let headers = response.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&route_name) {
                headers.insert(LOCAL_ROUTE_HEADER, v);
            }
            if let Ok(v) = HeaderValue::from_str(&calls.join(", ")) {
                headers.insert(LOCAL_AWS_CALLS_HEADER, v);
            }
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "integration failed");
            gateway.gateway_response(StatusCode::BAD_GATEWAY, "Internal server error")
        }
    }
}

fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Appends to a `multiValue...` map entry.
fn push_value(map: &mut Map<String, Value>, key: &str, value: &str) {
    if let Some(values) = map.entry(key.to_owned()).or_insert_with(|| json!([])).as_array_mut() {
        values.push(json!(value));
    }
}

/// The REST API proxy integration event, as API Gateway sends it.
fn proxy_event(
    route: &Route,
    parts: &axum::http::request::Parts,
    path: &str,
    path_params: HashMap<String, String>,
    body: &[u8],
    authorizer: Map<String, Value>,
    peer: SocketAddr,
) -> Value {
    let mut headers = Map::new();
    let mut multi_headers: Map<String, Value> = Map::new();
    // API Gateway sets these itself, whatever the client sent (and
    // `lambda_http` trusts them to form a valid URL).
    let own = [
        ("host", "localhost".to_owned()),
        ("x-forwarded-proto", "http".to_owned()),
        ("x-forwarded-for", peer.ip().to_string()),
    ];
    for (name, value) in &parts.headers {
        if own.iter().any(|(n, _)| name.as_str() == *n) {
            continue;
        }
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        headers.insert(name.as_str().to_owned(), json!(value));
        push_value(&mut multi_headers, name.as_str(), &value);
    }
    for (name, value) in own {
        headers.insert(name.to_owned(), json!(value));
        push_value(&mut multi_headers, name, &value);
    }
    let mut query = Map::new();
    let mut multi_query: Map<String, Value> = Map::new();
    if let Some(q) = parts.uri.query() {
        for pair in q.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let (k, v) = (percent_decode(&k.replace('+', " ")), percent_decode(&v.replace('+', " ")));
            query.insert(k.clone(), json!(v));
            push_value(&mut multi_query, &k, &v);
        }
    }
    let (body, base64) = match std::str::from_utf8(body) {
        _ if body.is_empty() => (Value::Null, false),
        Ok(text) => (json!(text), false),
        Err(_) => (json!(base64::engine::general_purpose::STANDARD.encode(body)), true),
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let or_null = |m: Map<String, Value>| {
        if m.is_empty() {
            Value::Null
        } else {
            Value::Object(m)
        }
    };
    json!({
        "resource": route.resource,
        "path": path,
        "httpMethod": route.method,
        "headers": or_null(headers),
        "multiValueHeaders": or_null(multi_headers),
        "queryStringParameters": or_null(query),
        "multiValueQueryStringParameters": or_null(multi_query),
        "pathParameters": if path_params.is_empty() { Value::Null } else { json!(path_params) },
        "stageVariables": Value::Null,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "resourceId": "local",
            "resourcePath": route.resource,
            "httpMethod": route.method,
            "path": format!("/Prod{path}"),
            "stage": "Prod",
            "protocol": "HTTP/1.1",
            "requestId": uuid::Uuid::new_v4().to_string(),
            "requestTimeEpoch": now.as_millis() as i64,
            "identity": { "sourceIp": peer.ip().to_string() },
            "authorizer": or_null(authorizer),
        },
        "body": body,
        "isBase64Encoded": base64,
    })
}

fn proxy_response(value: Value) -> Result<Response, LocalError> {
    let bad = |what: &str| LocalError::Handler(format!("malformed proxy response: {what}"));
    let status = value.get("statusCode").and_then(Value::as_u64).ok_or_else(|| bad("statusCode"))?;
    let status = StatusCode::from_u16(status as u16).map_err(|_| bad("status"))?;
    let body = match value.get("body").and_then(Value::as_str) {
        None => Vec::new(),
        Some(text) if value.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) => {
            base64::engine::general_purpose::STANDARD.decode(text).map_err(|_| bad("base64 body"))?
        }
        Some(text) => text.as_bytes().to_vec(),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    let mut add = |name: &str, v: &Value| {
        if let (Ok(name), Some(Ok(v))) = (HeaderName::try_from(name), v.as_str().map(HeaderValue::from_str)) {
            headers.append(name, v);
        }
    };
    let multi = value.get("multiValueHeaders").and_then(Value::as_object);
    if let Some(h) = value.get("headers").and_then(Value::as_object) {
        for (name, v) in h {
            if !multi.is_some_and(|m| m.contains_key(name)) {
                add(name, v);
            }
        }
    }
    for (name, values) in multi.into_iter().flatten() {
        for v in values.as_array().into_iter().flatten() {
            add(name, v);
        }
    }
    Ok(response)
}

/// `POST /2015-03-31/functions/{FunctionName}/invocations`, as `sam local start-lambda` serves it.
async fn serve_invoke(
    State(gateway): State<Arc<Gateway>>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let Some(handler) = gateway.handlers.get(&name).copied() else {
        let body = json!({ "Type": "User", "Message": format!("Function not found: {name}") });
        return (StatusCode::NOT_FOUND, axum::Json(body)).into_response();
    };
    let payload: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return function_error("InvalidRequestContentException", &e.to_string()),
    };
    match gateway.functions.invoke(handler, payload, None).await {
        Ok(result) => (StatusCode::OK, axum::Json(result)).into_response(),
        Err(e) => function_error("Runtime.HandlerError", &e.to_string()),
    }
}

/// A function error as Lambda reports it: 200 with `X-Amz-Function-Error`.
fn function_error(kind: &str, message: &str) -> Response {
    let mut response =
        (StatusCode::OK, axum::Json(json!({ "errorType": kind, "errorMessage": message }))).into_response();
    response.headers_mut().insert("x-amz-function-error", HeaderValue::from_static("Unhandled"));
    response
}
