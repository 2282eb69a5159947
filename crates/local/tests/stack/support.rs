//! Starts one local stack for the whole test binary (or uses the one named by
//! SHOP_STACK_FILE) and offers what a frontend does: HTTP calls, Cognito sign-in.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub struct Stack {
    pub file: PathBuf,
    pub api: String,
    pub invoke: String,
    pub emulator: String,
    pub client_id: String,
    pub user_pool_id: String,
    pub issuer: String,
    pub table: String,
    pub index_partitions: shop::outbound::dynamodb::IndexPartitions,
    pub queue_urls: Value,
    pub demo_users: Value,
    /// localstripe's address, when the stack pays with Stripe.
    pub stripe: Option<String>,
    /// The secret the webhook checks events with (local only).
    pub webhook_secret: Option<String>,
}

/// The stack this test binary started; it lives until the process exits,
/// then its closed stdin takes it down.
static CHILD: OnceLock<Mutex<shop_local::stack::ChildStack>> = OnceLock::new();
static STACK: OnceLock<Stack> = OnceLock::new();

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

pub fn stack() -> &'static Stack {
    STACK.get_or_init(|| {
        let file = match std::env::var("SHOP_STACK_FILE") {
            Ok(file) => PathBuf::from(file),
            Err(_) => start_stack(),
        };
        let text = std::fs::read_to_string(&file).expect("stack file");
        let c: Value = serde_json::from_str(&text).expect("stack json");
        let s = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
        Stack {
            file,
            api: s("apiUrl"),
            invoke: s("invokeUrl"),
            emulator: s("emulatorEndpoint"),
            client_id: s("clientId"),
            user_pool_id: s("userPoolId"),
            issuer: s("issuer"),
            table: s("tableName"),
            index_partitions: shop_local::stack::index_partitions_of(&c),
            queue_urls: c["queueUrls"].clone(),
            demo_users: c["demoUsers"].clone(),
            stripe: c["stripeUrl"].as_str().map(str::to_owned),
            webhook_secret: c["stripeWebhookSecret"].as_str().map(str::to_owned),
        }
    })
}

fn start_stack() -> PathBuf {
    let child = shop_local::stack::spawn_child_stack(
        Path::new(env!("CARGO_BIN_EXE_shop-local")),
        &workspace_root(),
        // The expiry sweeper runs every second here (the template says every minute).
        // Failed queue messages reappear after 1 s (the template says 60).
        // A renewal after a cancel waits 3 s here (the template says 60).
        &[
            ("SHOP_SCHEDULE_SECONDS", "1"),
            ("SHOP_QUEUE_VISIBILITY_SECONDS", "1"),
            ("SHOP_PARAMETER_OVERRIDES", "RenewalCooldownSeconds=3"),
        ],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let file = child.coordinates_file.clone();
    let _ = CHILD.set(Mutex::new(child));
    file
}

/// A client per call: each test has its own runtime, and a pooled connection
/// must not outlive the runtime that opened it.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap()
}

/// A response reduced to what the tests look at.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub set_cookie: Option<String>,
    pub headers: reqwest::header::HeaderMap,
}

pub struct Call {
    pub method: Method,
    pub path: String,
    pub body: Option<String>,
    pub headers: Vec<(String, String)>,
}

pub fn call(method: Method, path: &str) -> Call {
    Call { method, path: path.to_owned(), body: None, headers: Vec::new() }
}

impl Call {
    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body.to_string());
        self
    }
    pub fn raw(mut self, body: &str) -> Self {
        self.body = Some(body.to_owned());
        self
    }
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
    pub fn cookie(self, cart_id: &str) -> Self {
        self.header("Cookie", &format!("cartId={cart_id}"))
    }
    pub fn token(self, token: &str) -> Self {
        self.header("Authorization", token)
    }
    pub async fn send(self) -> Reply {
        let mut request = http().request(self.method, format!("{}{}", stack().api, self.path));
        let typed = self.headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("content-type"));
        for (name, value) in self.headers {
            request = request.header(name, value);
        }
        if let Some(body) = self.body {
            if !typed {
                request = request.header("Content-Type", "application/json");
            }
            request = request.body(body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let headers = response.headers().clone();
        let set_cookie = headers.get("set-cookie").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let text = response.text().await.expect("body");
        let body =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(json!({ "raw": text })) };
        Reply { status, body, set_cookie, headers }
    }
}

/// The `cartId` a response set.
pub fn cart_id_from(reply: &Reply) -> String {
    let cookie = reply.set_cookie.as_deref().expect("a cartId cookie");
    cookie.split(';').next().and_then(|kv| kv.strip_prefix("cartId=")).expect("cartId=...").to_owned()
}

/// Signs in through Cognito's USER_PASSWORD_AUTH, as the frontend does; the ID token.
pub async fn sign_in(username: &str, password: &str) -> String {
    tokens(username, password).await["IdToken"].as_str().expect("IdToken").to_owned()
}

/// Signs in as the storefront does; a demo user with an authenticator app
/// (the admin) answers the challenge with a code of its secret.
pub async fn tokens(username: &str, password: &str) -> Value {
    let secret = stack().demo_users.as_array().into_iter().flatten().find(|u| u["username"] == username);
    let secret = secret.and_then(|u| u["totpSecret"].as_str()).map(str::to_owned);
    tokens_with_totp(username, password, secret.as_deref()).await
}

/// Cognito's answer to a sign-in (USER_PASSWORD_AUTH, then the TOTP
/// challenge if asked and `totp_secret` is given): its AuthenticationResult,
/// or the whole answer when it ends in a challenge.
pub async fn tokens_with_totp(username: &str, password: &str, totp_secret: Option<&str>) -> Value {
    let reply = cognito(
        "InitiateAuth",
        json!({
            "AuthFlow": "USER_PASSWORD_AUTH",
            "ClientId": stack().client_id,
            "AuthParameters": { "USERNAME": username, "PASSWORD": password },
        }),
    )
    .await;
    match (reply["ChallengeName"].as_str(), totp_secret) {
        (Some("SOFTWARE_TOKEN_MFA"), Some(secret)) => {
            let answer = cognito(
                "RespondToAuthChallenge",
                json!({
                    "ClientId": stack().client_id,
                    "ChallengeName": "SOFTWARE_TOKEN_MFA",
                    "Session": reply["Session"],
                    "ChallengeResponses": { "USERNAME": username, "SOFTWARE_TOKEN_MFA_CODE": totp_now(secret) },
                }),
            )
            .await;
            answer["AuthenticationResult"].clone()
        }
        (Some(_), _) => reply,
        (None, _) => reply["AuthenticationResult"].clone(),
    }
}

/// One Cognito call on the emulator, as a browser's Amplify makes it (no
/// signature): its JSON answer, errors included (`__type`).
pub async fn cognito(action: &str, body: Value) -> Value {
    http()
        .post(&stack().emulator)
        .header("Content-Type", "application/x-amz-json-1.1")
        .header("X-Amz-Target", format!("AWSCognitoIdentityProviderService.{action}"))
        .body(body.to_string())
        .send()
        .await
        .expect(action)
        .json()
        .await
        .expect("a JSON answer")
}

/// The authenticator app's code for `secret` now.
pub fn totp_now(secret: &str) -> String {
    shop_local::resources::totp_code(secret, now() as u64).expect("a TOTP code")
}

pub async fn customer_token() -> String {
    sign_in("customer", "Customer-Pass1").await
}

pub async fn admin_token() -> String {
    sign_in("admin", "Admin-Pass1").await
}

/// Creates and signs in a fresh user, so tests do not share carts.
pub async fn new_user_token(tag: &str) -> String {
    let username = format!("{tag}-{}", uuid::Uuid::new_v4().simple());
    let password = "Shopper-Pass1";
    let target = |action: &str| format!("AWSCognitoIdentityProviderService.{action}");
    for (action, body) in [
        (
            "AdminCreateUser",
            json!({ "UserPoolId": stack().user_pool_id, "Username": username, "MessageAction": "SUPPRESS",
                    "UserAttributes": [{ "Name": "email", "Value": format!("{username}@example.com") }] }),
        ),
        (
            "AdminSetUserPassword",
            json!({ "UserPoolId": stack().user_pool_id, "Username": username, "Password": password, "Permanent": true }),
        ),
    ] {
        let status = http()
            .post(&stack().emulator)
            .header("Content-Type", "application/x-amz-json-1.1")
            .header("X-Amz-Target", target(action))
            .header("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/cognito-idp/aws4_request, SignedHeaders=host, Signature=0")
            .body(body.to_string())
            .send()
            .await
            .expect(action)
            .status();
        assert!(status.is_success(), "{action}: {status}");
    }
    sign_in(&username, password).await
}

/// All seeded products.
pub async fn catalog() -> Vec<Value> {
    let reply = call(Method::GET, "/product").send().await;
    assert_eq!(reply.status, StatusCode::OK);
    reply.body["products"].as_array().expect("products").clone()
}

/// The seeded catalog's product ids, in a fixed order. Tests create products
/// of their own too, so the live catalog is not a stable list.
pub fn seeded_product_ids() -> Vec<String> {
    let seed = std::fs::read_to_string(workspace_root().join("crates/local/seed/products.json")).expect("seed file");
    let products: Vec<Value> = serde_json::from_str(&seed).expect("seed json");
    products.iter().map(|p| p["productId"].as_str().unwrap().to_owned()).collect()
}

/// A seeded product no other test uses: tests run in parallel on one stack,
/// and per-product totals are only checkable on a product nobody else touches.
pub async fn product_for(test_slot: usize) -> String {
    let ids: Vec<String> = seeded_product_ids().into_iter().filter(|id| id != EVENTS_PRODUCT).collect();
    ids[test_slot % ids.len()].clone()
}

/// The product the files in `events/` use.
pub const EVENTS_PRODUCT: &str = "ae518e73-b734-56bb-98bc-70185a5f2652";

/// The emulator's Cognito signing key (private PEM, public PEM, kid), so tests
/// can forge tokens that differ from real ones in exactly one respect.
pub fn pool_signing_key() -> (String, String, String) {
    let script = r#"
import glob, gzip, json
from joserfc.jwk import RSAKey
path = glob.glob(__import__("moto").__path__[0] + "/cognitoidp/resources/jwks-private.json*")[0]
raw = gzip.open(path).read() if path.endswith(".gz") else open(path, "rb").read()
jwk = json.loads(raw)
key = RSAKey.import_key(jwk)
print(json.dumps([key.as_pem(private=True).decode(), key.as_pem(private=False).decode(), jwk["kid"]]))
"#;
    let out = Command::new(workspace_root().join(".venv/bin/python")).arg("-c").arg(script).output().expect("python");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let parts: Vec<String> = serde_json::from_slice(&out.stdout).expect("pem json");
    (parts[0].clone(), parts[1].clone(), parts[2].clone())
}

/// Polls until `check` holds or the time is up; returns the last value seen.
pub async fn eventually<T, F, Fut>(what: &str, mut probe: F, check: impl Fn(&T) -> bool) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
    T: std::fmt::Debug,
{
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let value = probe().await;
        if check(&value) {
            return value;
        }
        assert!(Instant::now() < deadline, "{what}: still {value:?} after 60 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub fn lines(reply: &Reply) -> Vec<(String, i64)> {
    reply.body["products"]
        .as_array()
        .expect("products")
        .iter()
        .map(|l| (l["sk"].as_str().unwrap().to_owned(), l["quantity"].as_i64().unwrap()))
        .collect()
}

pub fn line_quantity(reply: &Reply, product_id: &str) -> Option<i64> {
    lines(reply).into_iter().find(|(sk, _)| sk == product_id).map(|(_, q)| q)
}

/// DynamoDB, straight: for checks a user cannot make through the API.
pub async fn dynamodb() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&shop_local::stack::emulator_sdk(&stack().emulator).await)
}

/// One item as stored now (strongly consistent), if there is one.
pub async fn stored_item(
    pk: &str,
    sk: &str,
) -> Option<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
    use aws_sdk_dynamodb::types::AttributeValue;
    dynamodb()
        .await
        .get_item()
        .table_name(&stack().table)
        .key("pk", AttributeValue::S(pk.to_owned()))
        .key("sk", AttributeValue::S(sk.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem")
        .item
}

/// How many items the table holds under a partition key.
pub async fn items_under(pk: &str) -> usize {
    let out = dynamodb()
        .await
        .query()
        .table_name(&stack().table)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", aws_sdk_dynamodb::types::AttributeValue::S(pk.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .expect("query");
    out.items.unwrap_or_default().len()
}

/// A product of the test's own (admin API), with `stock` units available.
pub async fn new_product(stock: i64, price: u64) -> String {
    let reply = call(Method::POST, "/product")
        .token(&admin_token().await)
        .json(json!({
            "name": format!("test product {}", uuid::Uuid::new_v4().simple()),
            "category": "test-goods",
            "description": "made by a test",
            "price": price,
            "initialStock": stock,
        }))
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply.body["product"]["productId"].as_str().unwrap().to_owned()
}

/// The stock counters as stored (strongly consistent).
pub async fn stock_of(product: &str) -> (i64, i64, i64, i64) {
    use aws_sdk_dynamodb::types::AttributeValue;
    let item = dynamodb()
        .await
        .get_item()
        .table_name(&stack().table)
        .key("pk", AttributeValue::S(format!("product#{product}")))
        .key("sk", AttributeValue::S("stock".into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .expect("stock item");
    let n = |k: &str| item[k].as_n().unwrap().parse::<i64>().unwrap();
    let (available, reserved, sold, added) = (n("available"), n("reserved"), n("sold"), n("added"));
    assert_eq!(available + reserved + sold, added, "stock invariant broken for {product}");
    assert!(available >= 0 && reserved >= 0 && sold >= 0, "negative stock for {product}");
    (available, reserved, sold, added)
}

pub async fn add_as(token: &str, product: &str, quantity: i64) -> Reply {
    call(Method::POST, "/cart").token(token).json(json!({ "productId": product, "quantity": quantity })).send().await
}

pub async fn checkout_as(token: &str, idempotency_key: Option<&str>) -> Reply {
    let mut request = call(Method::POST, "/cart/checkout").token(token);
    if let Some(k) = idempotency_key {
        request = request.header("Idempotency-Key", k);
    }
    request.send().await
}

pub async fn pay(token: &str, order_id: &str, card: &str) -> Reply {
    call(Method::POST, &format!("/orders/{order_id}/payment"))
        .token(token)
        .json(json!({ "cardToken": card }))
        .send()
        .await
}

pub async fn order_of(token: &str, order_id: &str) -> Reply {
    call(Method::GET, &format!("/orders/{order_id}")).token(token).send().await
}

/// Moves an order's hold end, as if time had passed.
pub async fn set_expiry(token: &str, order_id: &str, expires_at: i64) {
    use aws_sdk_dynamodb::types::AttributeValue;
    let sub = crate::cart::sub_of(token);
    dynamodb()
        .await
        .update_item()
        .table_name(&stack().table)
        .key("pk", AttributeValue::S(format!("user#{sub}")))
        .key("sk", AttributeValue::S(format!("order#{order_id}")))
        .update_expression("SET expiresAt = :t")
        .expression_attribute_values(":t", AttributeValue::N(expires_at.to_string()))
        .send()
        .await
        .unwrap();
}

pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// The stack's localstripe (it pays with Stripe).
fn localstripe_url(path: &str) -> String {
    format!("{}{path}", stack().stripe.as_deref().expect("the stack pays with Stripe"))
}

/// Sends a request to localstripe with the shop's secret key, as the shop (or,
/// for a test, Stripe.js) calls it: the JSON answer.
async fn as_the_shop(request: reqwest::RequestBuilder) -> Value {
    let request = request.basic_auth(shop_local::resources::LOCAL_STRIPE_SECRET_KEY, Some(""));
    request.send().await.unwrap().json().await.unwrap()
}

/// A POST to the stack's localstripe.
pub async fn localstripe_post(path: &str, form: &[(&str, &str)]) -> Value {
    as_the_shop(http().post(localstripe_url(path)).form(form)).await
}

/// A PaymentIntent as localstripe has it (its charge expanded).
pub async fn localstripe_intent(id: &str) -> Value {
    as_the_shop(http().get(localstripe_url(&format!("/v1/payment_intents/{id}")))).await
}

/// A charge a payment made before it crashed: approved at the provider and in
/// the ledger, the order left awaiting payment. With Stripe, a real
/// PaymentIntent of localstripe's, succeeded; its id is answered.
pub async fn crashed_charge(order_id: &str, amount: u64) -> String {
    use aws_sdk_dynamodb::types::AttributeValue;
    let charge_id = match &stack().stripe {
        Some(_) => {
            let amount = amount.to_string();
            let form = [
                ("amount", amount.as_str()),
                ("currency", "usd"),
                ("payment_method", "pm_card_visa"),
                ("confirm", "true"),
                ("metadata[order_id]", order_id),
            ];
            let intent = localstripe_post("/v1/payment_intents", &form).await;
            assert_eq!(intent["status"], "succeeded", "{intent}");
            intent["id"].as_str().unwrap().to_owned()
        }
        None => "ch_crashed".to_owned(),
    };
    let mut item = dynamodb()
        .await
        .put_item()
        .table_name(&stack().table)
        .item("pk", AttributeValue::S(format!("charge#{order_id}")))
        .item("sk", AttributeValue::S("charge".into()))
        .item("outcome", AttributeValue::S("APPROVED".into()))
        .item("charge_id", AttributeValue::S(charge_id.clone()))
        .item("amount", AttributeValue::N(amount.to_string()))
        .item("cardToken", AttributeValue::S("tok_visa".into()))
        .item("refunded", AttributeValue::Bool(false));
    if stack().stripe.is_some() {
        item = item.item("paymentIntent", AttributeValue::S(charge_id.clone()));
    }
    item.send().await.unwrap();
    charge_id
}

/// Cents refunded of a PaymentIntent's charge, as localstripe has it (`None`
/// on the sandbox provider, which has no such thing).
pub async fn stripe_refunded(intent: &str) -> Option<u64> {
    stack().stripe.as_ref()?;
    localstripe_intent(intent).await["latest_charge"]["amount_refunded"].as_u64()
}
