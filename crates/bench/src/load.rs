//! Warm latency through the local API under concurrent load: every route is
//! driven by `wrk` (Debian's package) on loopback, with requests the harness
//! prepares (distinct carts, users and orders where a request changes state),
//! bounded in count and in time. Beside what `wrk` sees end to end, the
//! stack's ledger splits each request into our code and waiting on the
//! emulator (`/_local/timings`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::Semaphore;

use shop_local::aws_costs::RouteTimings;
use shop_local::resources::{setup_error as setup, sign_up};
use shop_local::stack::emulator_sdk;
use shop_local::LocalError;

/// One HTTP request, as `wrk` will send it.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub method: &'static str,
    pub path: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<String>,
}

impl ApiRequest {
    pub fn new(method: &'static str, path: impl Into<String>) -> Self {
        Self { method, path: path.into(), headers: Vec::new(), body: None }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body.to_string());
        self.header("Content-Type", "application/json")
    }
}

/// A route under load: the requests are sent in turn, again from the first
/// when all are sent, until `count` answers came back.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub route: &'static str,
    pub requests: Vec<ApiRequest>,
    pub count: usize,
}

impl Scenario {
    /// Requests that change state and must each be sent once: the count
    /// leaves room for what is still in flight when the count is reached.
    fn once_each(route: &'static str, requests: Vec<ApiRequest>, connections: usize) -> Self {
        let count = requests.len().saturating_sub(connections).max(1);
        Self { route, requests, count }
    }
}

/// A Lua string literal.
pub fn lua_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for byte in text.bytes() {
        match byte {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(byte as char),
            other => out.push_str(&format!("\\{other:03}")),
        }
    }
    out.push('"');
    out
}

/// The `wrk` script for a scenario: sends its requests in turn, stops wrk
/// (its thread, and SIGINT to itself) once `count` answers came back, and
/// writes the figures as JSON to `out` (and refusals, status and the start of
/// the body, beside it in `.errors`). Meant for one wrk thread.
pub fn wrk_script(scenario: &Scenario, out: &Path) -> String {
    let mut requests = String::new();
    for r in &scenario.requests {
        let headers: Vec<String> =
            r.headers.iter().map(|(name, value)| format!("[{}] = {}", lua_string(name), lua_string(value))).collect();
        let body = r.body.as_deref().map(lua_string).unwrap_or_else(|| "nil".into());
        requests.push_str(&format!(
            "  requests[#requests + 1] = wrk.format({}, {}, {{ {} }}, {})\n",
            lua_string(r.method),
            lua_string(&r.path),
            headers.join(", "),
            body
        ));
    }
    format!(
        r#"local ffi = require("ffi")
ffi.cdef("int kill(int pid, int sig); int getpid(void);")
local requests = {{}}
local count = {count}
local sent, answered = 0, 0

init = function(args)
{requests}end

request = function()
  sent = sent + 1
  return requests[((sent - 1) % #requests) + 1]
end

response = function(status, headers, body)
  answered = answered + 1
  if status >= 400 then
    local f = io.open({errors}, "a")
    if f then f:write(status, " ", string.sub(body or "", 1, 200), "\n") f:close() end
  end
  -- Stop sending at once (the thread would run until wrk's next 100 ms
  -- tick otherwise), and wake wrk's main thread as Ctrl-C does.
  if answered == count then
    wrk.thread:stop()
    ffi.C.kill(ffi.C.getpid(), 2)
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  local f = assert(io.open({out}, "w"))
  f:write(string.format('{{"requests":%d,"durationUs":%d,"statusErrors":%d,"socketErrors":%d,"p50Us":%d,"p90Us":%d,"p99Us":%d,"maxUs":%d,"meanUs":%d}}',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
  f:close()
end
"#,
        count = scenario.count,
        requests = requests,
        out = lua_string(&out.display().to_string()),
        errors = lua_string(&out.with_extension("errors").display().to_string()),
    )
}

/// What `wrk` measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WrkFigures {
    pub requests: u64,
    pub duration_us: u64,
    /// Answers 400 and up.
    pub status_errors: u64,
    pub socket_errors: u64,
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    pub mean_us: u64,
}

/// One route under load: end to end (wrk) and inside the stack (ledger).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteLoad {
    pub route: String,
    pub connections: usize,
    pub requests_per_sec: f64,
    pub wrk: WrkFigures,
    pub stack: RouteTimings,
    /// The first refusals (status and the start of the body), if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refusals: Vec<String>,
}

pub struct LoadOptions {
    pub connections: usize,
    /// Answers to wait for on routes whose requests can repeat.
    pub requests: usize,
    /// Signed-in users that each migrate, check out, and pay or cancel once.
    pub users: usize,
    /// Longest a route runs.
    pub max_secs: u64,
    pub work_dir: PathBuf,
}

/// The local API for the harness's own set-up calls.
struct Api {
    client: shop_local::endpoint_tour::Client,
}

impl Api {
    async fn send(&self, r: &ApiRequest) -> Result<(u16, Value, Option<String>), LocalError> {
        let method = reqwest::Method::from_bytes(r.method.as_bytes()).map_err(|e| setup("method")(e.to_string()))?;
        let headers: Vec<(&str, &str)> = r.headers.iter().map(|(name, value)| (*name, value.as_str())).collect();
        self.client.send(method, &r.path, &headers, r.body.clone()).await.map_err(LocalError::Setup)
    }

    /// Sends many set-up requests, a few at a time, in order of the answers' use.
    async fn send_all(
        self: &Arc<Self>,
        requests: Vec<ApiRequest>,
    ) -> Result<Vec<(u16, Value, Option<String>)>, LocalError> {
        let limit = Arc::new(Semaphore::new(16));
        let tasks: Vec<_> = requests
            .into_iter()
            .map(|r| {
                let (api, limit) = (self.clone(), limit.clone());
                tokio::spawn(async move {
                    let _permit = limit.acquire().await;
                    api.send(&r).await
                })
            })
            .collect();
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await.map_err(|e| setup("set-up")(e.to_string()))??);
        }
        Ok(answers)
    }

    async fn clear_timings(&self) -> Result<(), LocalError> {
        self.send(&ApiRequest::new("DELETE", "/_local/timings")).await.map(|_| ())
    }

    async fn timings(&self, route: &str) -> Result<RouteTimings, LocalError> {
        let (_, all, _) = self.send(&ApiRequest::new("GET", "/_local/timings")).await?;
        serde_json::from_value(all[route].clone()).map_err(|e| setup(route)(format!("{e}: {all}")))
    }
}

/// Runs `wrk` over one scenario and reads the stack's split of the time.
async fn drive(api: &Api, scenario: &Scenario, options: &LoadOptions) -> Result<RouteLoad, LocalError> {
    let slug: String = scenario.route.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    let out = options.work_dir.join(format!("{slug}.json"));
    let script = options.work_dir.join(format!("{slug}.lua"));
    let _ = std::fs::remove_file(&out);
    let _ = std::fs::remove_file(out.with_extension("errors"));
    std::fs::write(&script, wrk_script(scenario, &out))?;
    api.clear_timings().await?;
    let status = tokio::process::Command::new("wrk")
        .args(["-t1", &format!("-c{}", options.connections), &format!("-d{}s", options.max_secs), "--timeout", "30s"])
        .arg("-s")
        .arg(&script)
        .arg(&api.client.api)
        .stdout(std::process::Stdio::null())
        .status()
        .await
        .map_err(|e| setup("wrk (apt-get install wrk)")(e.to_string()))?;
    if !status.success() {
        return Err(LocalError::Setup(format!("wrk on {}: {status}", scenario.route)));
    }
    let text = std::fs::read_to_string(&out).map_err(|e| setup("wrk's figures")(e.to_string()))?;
    let wrk: WrkFigures = serde_json::from_str(&text).map_err(|e| setup("wrk's figures")(e.to_string()))?;
    let stack = api.timings(scenario.route).await?;
    let refusals = std::fs::read_to_string(out.with_extension("errors"))
        .unwrap_or_default()
        .lines()
        .take(5)
        .map(str::to_owned)
        .collect();
    Ok(RouteLoad {
        refusals,
        route: scenario.route.to_owned(),
        connections: options.connections,
        requests_per_sec: wrk.requests as f64 / (wrk.duration_us.max(1) as f64 / 1e6),
        wrk,
        stack,
    })
}

/// Prepares users, carts and orders on a fresh stack, then drives every
/// route in the order a shop sees them (browse, carts, sign-in, checkout,
/// payment, the admin's work), each under the same concurrent load.
pub async fn run(coordinates: &Value, options: &LoadOptions) -> Result<Vec<RouteLoad>, LocalError> {
    // Checkout leaves out the last `connections` users (their migration may not
    // have run), and paying and cancelling each need `connections + 1` orders.
    let fewest_users = 4 * options.connections + 2;
    if options.users < fewest_users {
        return Err(LocalError::Setup(format!(
            "{} users are too few for {} connections: at least {fewest_users}",
            options.users, options.connections
        )));
    }
    let field = |name: &str| coordinates[name].as_str().unwrap_or_default().to_owned();
    let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build();
    let api = Arc::new(Api {
        client: shop_local::endpoint_tour::Client::new(
            http.map_err(|e| setup("http")(e.to_string()))?,
            field("apiUrl"),
        ),
    });
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&emulator_sdk(&field("emulatorEndpoint")).await);
    let (pool, client_id) = (field("userPoolId"), field("clientId"));
    let admin = shop_local::stack::demo_id_token(coordinates, "admin").await?;
    std::fs::create_dir_all(&options.work_dir)?;
    let c = options.connections;
    let mut results = Vec::new();

    let (_, catalog, _) = api.send(&ApiRequest::new("GET", "/product")).await?;
    let products: Vec<String> = catalog["products"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["productId"].as_str().map(str::to_owned))
        .collect();
    if products.len() < 4 {
        return Err(LocalError::Setup(format!("catalog too small: {catalog}")));
    }
    let product = |i: usize| products[i % products.len()].clone();

    // Users, a few at a time: each signs up and signs in.
    let run = uuid::Uuid::new_v4().simple().to_string();
    let limit = Arc::new(Semaphore::new(16));
    let mut signups = Vec::new();
    for i in 0..options.users + 1 {
        let (cognito, pool, client_id, limit) = (cognito.clone(), pool.clone(), client_id.clone(), limit.clone());
        let username = format!("load-{}-{i}", &run[..8]);
        signups.push(tokio::spawn(async move {
            let _permit = limit.acquire().await;
            sign_up(&cognito, &pool, &client_id, &username, "Load-Pass1").await
        }));
    }
    let mut users = Vec::new();
    for signup in signups {
        users.push(signup.await.map_err(|e| setup("sign-up")(e.to_string()))??);
    }
    let shopper = users.pop().ok_or_else(|| LocalError::Setup("no users".into()))?;
    for i in 0..3 {
        let add = ApiRequest::new("POST", "/cart").header("Authorization", &shopper);
        api.send(&add.json(json!({ "productId": product(i), "quantity": 1 }))).await?;
    }
    // Carts of one line each, to set quantities in: one cart per request in
    // flight and more, as shoppers each change their own cart.
    let one_line_carts: Vec<(String, String)> = api
        .send_all(
            (0..8 * c)
                .map(|i| ApiRequest::new("POST", "/cart").json(json!({ "productId": product(i), "quantity": 1 })))
                .collect(),
        )
        .await?
        .into_iter()
        .enumerate()
        .map(|(i, (_, _, cookie))| (product(i), cookie.unwrap_or_default()))
        .collect();

    let repeat = |route: &'static str, requests: Vec<ApiRequest>| Scenario { route, requests, count: options.requests };
    let get = |path: String| ApiRequest::new("GET", path);

    // Browsing and carts: requests that can repeat.
    let browse = vec![
        repeat("GET /product", vec![get("/product".into())]),
        repeat("GET /product/{product_id}", products.iter().map(|p| get(format!("/product/{p}"))).collect()),
        repeat("GET /categories", vec![get("/categories".into())]),
        repeat("GET /cart", vec![get("/cart".into()).header("Authorization", &shopper)]),
        repeat(
            "GET /cart/{product_id}/total",
            products.iter().map(|p| get(format!("/cart/{p}/total")).header("Authorization", &admin)).collect(),
        ),
        // Each add without a cookie starts a new anonymous cart.
        repeat(
            "POST /cart",
            (0..products.len())
                .map(|i| ApiRequest::new("POST", "/cart").json(json!({ "productId": product(i), "quantity": 1 })))
                .collect(),
        ),
        repeat(
            "PUT /cart/{product_id}",
            (1..=3)
                .flat_map(|q| {
                    one_line_carts.iter().map(move |(product, cookie)| {
                        ApiRequest::new("PUT", format!("/cart/{product}"))
                            .header("Cookie", cookie)
                            .json(json!({ "quantity": q }))
                    })
                })
                .collect(),
        ),
    ];
    for scenario in &browse {
        results.push(drive(&api, scenario, options).await?);
    }

    // Each user fills an anonymous cart, then signs in and migrates it.
    let carts = api
        .send_all(
            (0..users.len())
                .map(|i| ApiRequest::new("POST", "/cart").json(json!({ "productId": product(i), "quantity": 1 })))
                .collect(),
        )
        .await?;
    let migrations = users
        .iter()
        .zip(&carts)
        .map(|(token, (_, _, cookie))| {
            ApiRequest::new("POST", "/cart/migrate")
                .header("Authorization", token)
                .header("Cookie", cookie.clone().unwrap_or_default())
        })
        .collect();
    results.push(drive(&api, &Scenario::once_each("POST /cart/migrate", migrations, c), options).await?);

    // Checkout by the users whose migration surely ran.
    let buyers = &users[..users.len().saturating_sub(c)];
    let checkouts =
        buyers.iter().map(|t| ApiRequest::new("POST", "/cart/checkout").header("Authorization", t)).collect();
    results.push(drive(&api, &Scenario::once_each("POST /cart/checkout", checkouts, c), options).await?);

    // Each buyer's order, then reading, paying (half) and cancelling (half).
    let listed =
        api.send_all(buyers.iter().map(|t| get("/orders".into()).header("Authorization", t)).collect()).await?;
    let orders: Vec<(String, String)> = buyers
        .iter()
        .zip(&listed)
        .filter_map(|(t, (_, body, _))| Some((t.clone(), body["orders"][0]["orderId"].as_str()?.to_owned())))
        .collect();
    if orders.len() < 2 * c + 2 {
        return Err(LocalError::Setup(format!("only {} orders to pay and cancel", orders.len())));
    }
    results.push(
        drive(
            &api,
            &repeat("GET /orders", buyers.iter().map(|t| get("/orders".into()).header("Authorization", t)).collect()),
            options,
        )
        .await?,
    );
    results.push(
        drive(
            &api,
            &repeat(
                "GET /orders/{order_id}",
                orders.iter().map(|(t, o)| get(format!("/orders/{o}")).header("Authorization", t)).collect(),
            ),
            options,
        )
        .await?,
    );
    let (to_pay, to_cancel) = orders.split_at(orders.len() / 2);
    let payments = to_pay
        .iter()
        .map(|(t, o)| {
            ApiRequest::new("POST", format!("/orders/{o}/payment"))
                .header("Authorization", t)
                .json(json!({ "cardToken": "tok_visa" }))
        })
        .collect();
    results.push(drive(&api, &Scenario::once_each("POST /orders/{order_id}/payment", payments, c), options).await?);
    let cancels = to_cancel
        .iter()
        .map(|(t, o)| ApiRequest::new("POST", format!("/orders/{o}/cancel")).header("Authorization", t))
        .collect();
    results.push(drive(&api, &Scenario::once_each("POST /orders/{order_id}/cancel", cancels, c), options).await?);
    results.push(drive(&api, &repeat("GET /bestsellers", vec![get("/bestsellers?limit=10".into())]), options).await?);

    // The admin's work on products of its own.
    let as_admin = |r: ApiRequest| r.header("Authorization", &admin);
    let new_product = |i: usize| {
        as_admin(ApiRequest::new("POST", "/product")).json(
            json!({ "name": format!("load product {i}"), "category": "load", "price": 100 + i, "initialStock": 10 }),
        )
    };
    results.push(drive(&api, &repeat("POST /product", (0..100).map(new_product).collect()), options).await?);
    let (_, created, _) = api.send(&new_product(0)).await?;
    let own = created["product"]["productId"].as_str().ok_or_else(|| setup("create product")(created.to_string()))?;
    let edits = (0..10)
        .map(|i| as_admin(ApiRequest::new("PUT", format!("/product/{own}"))).json(json!({ "price": 200 + i })))
        .collect();
    results.push(drive(&api, &repeat("PUT /product/{product_id}", edits), options).await?);
    // A distinct Idempotency-Key each: every restock is applied.
    let restocks = (0..options.requests + c)
        .map(|i| {
            as_admin(ApiRequest::new("POST", format!("/product/{own}/stock")))
                .header("Idempotency-Key", format!("load-{}-{i}", &run[..8]))
                .json(json!({ "delta": 1 }))
        })
        .collect();
    results.push(drive(&api, &Scenario::once_each("POST /product/{product_id}/stock", restocks, c), options).await?);
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lua_strings_escape_what_lua_would_read_otherwise() {
        assert_eq!(lua_string(r#"{"a":"b\c"}"#), r#""{\"a\":\"b\\c\"}""#);
        assert_eq!(lua_string("a\nb\u{e9}"), "\"a\\010b\\195\\169\"");
    }

    #[test]
    fn a_script_sends_every_request_and_stops_at_its_count() {
        let requests = vec![
            ApiRequest::new("GET", "/cart").header("Authorization", "token"),
            ApiRequest::new("POST", "/cart").json(json!({ "quantity": 1 })),
        ];
        let script = wrk_script(&Scenario::once_each("POST /cart", requests, 1), Path::new("/tmp/out.json"));
        assert!(script.contains(r#"wrk.format("GET", "/cart", { ["Authorization"] = "token" }, nil)"#), "{script}");
        assert!(script.contains(r#"{ ["Content-Type"] = "application/json" }, "{\"quantity\":1}")"#), "{script}");
        assert!(script.contains("local count = 1\n"), "{script}");
        assert!(script.contains(r#"io.open("/tmp/out.json", "w")"#), "{script}");
    }
}
