//! Hostile and broken input on every endpoint: each refusal is a 4xx JSON
//! `{"message"}` that says what was wrong and nothing of our internals, and
//! nothing is written. (The cart's own bodies are covered in `cart.rs`.)

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::*;

/// Words of ours that must never reach a client.
const INTERNAL: [&str; 9] =
    ["dynamodb", "DynamoDB", "arn:", "panicked", "Error {", "serde", "TransactionCanceled", "at line", "sdk"];

fn assert_clear_refusal(what: &str, reply: &Reply, expected: StatusCode) {
    assert_eq!(reply.status, expected, "{what}: {:?}", reply.body);
    let message = reply.body["message"].as_str().unwrap_or_else(|| panic!("{what}: no message in {:?}", reply.body));
    assert!(!message.is_empty(), "{what}");
    for word in INTERNAL {
        assert!(!message.contains(word), "{what}: internal text {word:?} in {message:?}");
    }
    let content_type = reply.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(content_type.starts_with("application/json"), "{what}: {content_type}");
}

/// A request that must be refused: `400 Bad Request` unless `answers` says
/// otherwise.
struct Refusal {
    what: &'static str,
    request: BrokenRequest,
}

/// A request as a hostile or broken client sends it.
struct BrokenRequest {
    method: Method,
    path: String,
    token: Option<String>,
    header: Option<(&'static str, String)>,
    body: Option<String>,
    expected: StatusCode,
}

fn request(method: Method, path: &str) -> BrokenRequest {
    BrokenRequest {
        method,
        path: path.to_owned(),
        token: None,
        header: None,
        body: None,
        expected: StatusCode::BAD_REQUEST,
    }
}

fn get(path: &str) -> BrokenRequest {
    request(Method::GET, path)
}

fn post(path: &str) -> BrokenRequest {
    request(Method::POST, path)
}

fn put(path: &str) -> BrokenRequest {
    request(Method::PUT, path)
}

impl BrokenRequest {
    /// Sent with this bearer token.
    fn by(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.header = Some((name, value.into()));
        self
    }

    /// The body, as raw text (not necessarily JSON).
    fn body(mut self, text: impl Into<String>) -> Self {
        self.body = Some(text.into());
        self
    }

    fn answers(mut self, status: StatusCode) -> Self {
        self.expected = status;
        self
    }
}

fn refused(what: &'static str, request: BrokenRequest) -> Refusal {
    Refusal { what, request }
}

impl Refusal {
    async fn check(self) {
        let BrokenRequest { method, path, token, header, body, expected } = self.request;
        let mut request = call(method, &path);
        if let Some(token) = &token {
            request = request.token(token);
        }
        if let Some((name, value)) = &header {
            request = request.header(name, value);
        }
        if let Some(body) = &body {
            request = request.raw(body);
        }
        assert_clear_refusal(self.what, &request.send().await, expected);
    }
}

#[tokio::test]
async fn every_endpoint_refuses_broken_input_clearly_and_writes_nothing() {
    let admin = admin_token().await;
    let user = new_user_token("hostile").await;
    let product = new_product(5, 100).await;
    let product_path = format!("/product/{product}");
    let stock_path = format!("/product/{product}/stock");
    let long_id = "p".repeat(65);
    let big = format!(r#"{{"name":"{}"}}"#, "x".repeat(20_000));
    let fresh_id = format!("hostile-{}", uuid::Uuid::new_v4().simple());
    let order = uuid::Uuid::new_v4();
    let long_key = "k".repeat(65);
    let long_cookie = format!("cartId={}", "a".repeat(5000));
    let payment = format!("/orders/{order}/payment");
    let add_one = format!(r#"{{"productId":"{product}","quantity":1}}"#);
    // A new product's body with these fields after its id, name and category.
    let new_product_json = |rest: &str| format!(r#"{{"productId":"{fresh_id}","name":"x","category":"c",{rest}}}"#);

    let cases = [
        // Catalog administration.
        refused("create: malformed JSON", post("/product").by(&admin).body(r#"{"name":"#)),
        refused("create: missing fields", post("/product").by(&admin).body(r#"{"name":"x"}"#)),
        refused(
            "create: unknown field",
            post("/product").by(&admin).body(new_product_json(r#""price":1,"isAdmin":true"#)),
        ),
        refused(
            "create: unknown field in the package",
            post("/product")
                .by(&admin)
                .body(new_product_json(r#""price":1,"package":{"height":1,"length":1,"weight":1,"width":1,"evil":1}"#)),
        ),
        refused(
            "edit: unknown field in the package",
            put(&product_path).by(&admin).body(r#"{"package":{"height":1,"length":1,"weight":1,"width":1,"evil":1}}"#),
        ),
        refused("create: price as text", post("/product").by(&admin).body(new_product_json(r#""price":"1""#))),
        refused("create: negative price", post("/product").by(&admin).body(new_product_json(r#""price":-1"#))),
        refused("create: fractional price", post("/product").by(&admin).body(new_product_json(r#""price":1.5"#))),
        refused(
            "create: huge stock",
            post("/product").by(&admin).body(new_product_json(r#""price":1,"initialStock":99999999999"#)),
        ),
        refused(
            "create: over-long id",
            post("/product")
                .by(&admin)
                .body(format!(r#"{{"productId":"{long_id}","name":"x","category":"c","price":1}}"#)),
        ),
        refused(
            "create: id with a key separator",
            post("/product").by(&admin).body(r##"{"productId":"a#meta","name":"x","category":"c","price":1}"##),
        ),
        refused(
            "create: over-long name",
            post("/product")
                .by(&admin)
                .body(format!(r#"{{"productId":"{fresh_id}","name":"{}","category":"c","price":1}}"#, "n".repeat(201))),
        ),
        refused(
            "create: body over the limit",
            post("/product").by(&admin).body(big.as_str()).answers(StatusCode::PAYLOAD_TOO_LARGE),
        ),
        refused("edit: unknown field", put(&product_path).by(&admin).body(r#"{"stock":1000}"#)),
        refused("edit: wrong type", put(&product_path).by(&admin).body(r#"{"tags":"a,b"}"#)),
        refused("edit: over-long id", put(&format!("/product/{long_id}")).by(&admin).body(r#"{"name":"x"}"#)),
        refused(
            "edit: body over the limit",
            put(&product_path).by(&admin).body(big.as_str()).answers(StatusCode::PAYLOAD_TOO_LARGE),
        ),
        refused("restock: fractional", post(&stock_path).by(&admin).body(r#"{"delta":1.5}"#)),
        refused("restock: huge", post(&stock_path).by(&admin).body(r#"{"delta":1e12}"#)),
        refused("restock: overflowing", post(&stock_path).by(&admin).body(r#"{"delta":99999999999999999999}"#)),
        refused("restock: zero", post(&stock_path).by(&admin).body(r#"{"delta":0}"#)),
        refused("restock: unknown field", post(&stock_path).by(&admin).body(r#"{"delta":1,"sold":-5}"#)),
        refused(
            "restock: over-long key",
            post(&stock_path).by(&admin).header("Idempotency-Key", &long_key).body(r#"{"delta":1}"#),
        ),
        refused(
            "restock: key with spaces",
            post(&stock_path).by(&admin).header("Idempotency-Key", "a b").body(r#"{"delta":1}"#),
        ),
        refused(
            "restock: key with a comma",
            post(&stock_path).by(&admin).header("Idempotency-Key", "a,b").body(r#"{"delta":1}"#),
        ),
        refused(
            "cart: key with a comma",
            post("/cart").by(&user).header("Idempotency-Key", "a,b").body(add_one.as_str()),
        ),
        refused(
            "restock: key with a path",
            post(&stock_path).by(&admin).header("Idempotency-Key", "../x").body(r#"{"delta":1}"#),
        ),
        refused(
            "cart: key with a path",
            post("/cart").by(&user).header("Idempotency-Key", "../x").body(add_one.as_str()),
        ),
        refused(
            "restock: key with a star",
            post(&stock_path).by(&admin).header("Idempotency-Key", "k*").body(r#"{"delta":1}"#),
        ),
        refused(
            "cart: key with a star",
            post("/cart").by(&user).header("Idempotency-Key", "k*").body(add_one.as_str()),
        ),
        refused(
            "restock: key with the key separator",
            post(&stock_path).by(&admin).header("Idempotency-Key", "order#1").body(r#"{"delta":1}"#),
        ),
        refused(
            "cart: key with the key separator",
            post("/cart").by(&user).header("Idempotency-Key", "order#1").body(add_one.as_str()),
        ),
        // Catalog reads.
        refused("product: over-long id", get(&format!("/product/{long_id}"))),
        refused("product: id with a key separator", get("/product/a%23meta")),
        refused("page: bad cursor", get("/product?category=test-goods&cursor=AAAA")),
        refused("page: negative limit", get("/product?limit=-1")),
        refused("page: fractional limit", get("/product?limit=1.5")),
        refused("page: huge limit", get("/product?limit=99999999999")),
        refused("page: bad category", get("/product?category=%00")),
        refused("bestsellers: bad limit", get("/bestsellers?limit=abc")),
        refused("total: over-long id", get(&format!("/cart/{long_id}/total")).by(&admin)),
        // Carts.
        refused("cart: bad cookie", get("/cart").header("Cookie", "cartId=../../etc")),
        refused("cart: cookie too long", get("/cart").header("Cookie", &long_cookie)),
        refused("cart line: over-long id", put(&format!("/cart/{long_id}")).by(&user).body(r#"{"quantity":1}"#)),
        refused("migrate: bad cookie", post("/cart/migrate").by(&user).header("Cookie", "cartId=1")),
        refused("checkout: empty cart", post("/cart/checkout").by(&user)),
        refused("checkout: bad key", post("/cart/checkout").by(&user).header("Idempotency-Key", "#")),
        // Orders.
        refused("orders: bad cursor", get("/orders?cursor=eyJwayI6InVzZXIjb3RoZXIifQ").by(&user)),
        refused("orders: bad limit", get("/orders?limit=0").by(&user)),
        refused("orders: bad all", get("/orders?all=yes").by(&user)),
        refused("orders: everyone's, not admin", get("/orders?all=true").by(&user).answers(StatusCode::FORBIDDEN)),
        refused("order: not a uuid", get("/orders/123").by(&user)),
        refused("order: over-long id", get(&format!("/orders/{}", "1".repeat(200))).by(&user)),
        refused("pay: no body", post(&payment).by(&user)),
        refused("pay: unknown field", post(&payment).by(&user).body(r#"{"cardToken":"tok_visa","amount":0}"#)),
        refused("pay: token wrong type", post(&payment).by(&user).body(r#"{"cardToken":42}"#)),
        refused(
            "pay: token too long",
            post(&payment).by(&user).body(format!(r#"{{"cardToken":"{}"}}"#, "t".repeat(65))),
        ),
        refused(
            "pay: body over the limit",
            post(&payment).by(&user).body(big.as_str()).answers(StatusCode::PAYLOAD_TOO_LARGE),
        ),
        refused(
            "pay: unknown order",
            post(&payment).by(&user).body(r#"{"cardToken":"tok_visa"}"#).answers(StatusCode::NOT_FOUND),
        ),
        refused("cancel: not a uuid", post("/orders/x/cancel").by(&user)),
    ];
    for case in cases {
        case.check().await;
    }

    // Nothing was written.
    assert_eq!(call(Method::GET, &format!("/product/{fresh_id}")).send().await.status, StatusCode::NOT_FOUND);
    let stored = call(Method::GET, &product_path).send().await.body["product"].clone();
    assert!(stored["name"].as_str().unwrap().starts_with("test product"), "{stored}");
    assert_eq!(stored["package"], json!({ "height": 0, "length": 0, "weight": 0, "width": 0 }), "{stored}");
    assert_eq!(stock_of(&product).await, (5, 0, 0, 5));
    let cart = call(Method::GET, "/cart").token(&user).send().await;
    assert_eq!(cart.body, json!({ "products": [] }));
    let orders = call(Method::GET, "/orders").token(&user).send().await;
    assert_eq!(orders.body["orders"], Value::Array(vec![]));
}

#[tokio::test]
async fn one_user_never_reaches_another_users_cart_or_orders() {
    let product = new_product(10, 100).await;
    let alice = new_user_token("alice-iso").await;
    let mallory = new_user_token("mallory").await;
    assert_eq!(add_as(&alice, &product, 2).await.status, StatusCode::OK);
    let order = checkout_as(&alice, None).await;
    assert_eq!(order.status, StatusCode::CREATED, "{:?}", order.body);
    let order_id = order.body["order"]["orderId"].as_str().unwrap().to_owned();

    // Mallory's own view never includes Alice's things.
    let cart = call(Method::GET, "/cart").token(&mallory).send().await;
    assert_eq!(cart.body, json!({ "products": [] }));
    let orders = call(Method::GET, "/orders").token(&mallory).send().await;
    assert_eq!(orders.body["orders"], json!([]));
    // Alice's order is not found for Mallory, whatever she tries.
    for (method, path, body) in [
        (Method::GET, format!("/orders/{order_id}"), None),
        (Method::POST, format!("/orders/{order_id}/payment"), Some(r#"{"cardToken":"tok_visa"}"#)),
        (Method::POST, format!("/orders/{order_id}/cancel"), None),
    ] {
        let mut request = call(method, &path).token(&mallory);
        if let Some(body) = body {
            request = request.raw(body);
        }
        let reply = request.send().await;
        assert_clear_refusal(&path, &reply, StatusCode::NOT_FOUND);
    }
    // A client-sent identity counts for nothing: only the verified token does.
    let spoofed = call(Method::GET, "/cart")
        .token(&mallory)
        .header("X-User-Id", "alice")
        .header("X-Amzn-Oidc-Identity", "alice")
        .send()
        .await;
    assert_eq!(spoofed.body, json!({ "products": [] }));
    // Alice's order is untouched and still hers.
    let mine = order_of(&alice, &order_id).await;
    assert_eq!(mine.body["order"]["status"], "PENDING_PAYMENT");
}

#[tokio::test]
async fn no_admin_route_lets_a_customer_or_a_stranger_in() {
    let product = new_product(3, 100).await;
    let customer = customer_token().await;
    let routes: Vec<(Method, String, Option<Value>)> = vec![
        (Method::POST, "/product".into(), Some(json!({ "name": "x", "category": "c", "price": 1 }))),
        (Method::PUT, format!("/product/{product}"), Some(json!({ "price": 1 }))),
        (Method::POST, format!("/product/{product}/stock"), Some(json!({ "delta": 100 }))),
        (Method::GET, format!("/cart/{product}/total"), None),
        (Method::GET, "/orders?all=true".into(), None),
    ];
    for (method, path, body) in routes {
        for (who, token, expected) in
            [("customer", Some(customer.as_str()), StatusCode::FORBIDDEN), ("stranger", None, StatusCode::UNAUTHORIZED)]
        {
            let mut request = call(method.clone(), &path);
            if let Some(token) = token {
                request = request.token(token);
            }
            if let Some(body) = &body {
                request = request.json(body.clone());
            }
            assert_clear_refusal(&format!("{who} {method} {path}"), &request.send().await, expected);
        }
    }
    assert_eq!(stock_of(&product).await, (3, 0, 0, 3));
    let stored = call(Method::GET, &format!("/product/{product}")).send().await;
    assert_eq!(stored.body["product"]["price"], 100);
}
