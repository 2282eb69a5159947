//! Brings the local stack up, writes its coordinates, and takes it down again.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_dynamodb::config::Credentials;
use serde_json::json;
use shop::app::config::{Config, PaymentConfig};
use shop::app::App;
use shop::outbound::cognito::tokens::CognitoConfig;
use shop::outbound::dynamodb::IndexPartitions;
use shop::outbound::payments::stripe::{KeysSource, StripeConfig};
use tokio::net::TcpListener;
use tokio::process::{Child, Command};
use tokio::sync::watch;

use crate::functions::{Functions, Handler};
use crate::gateway::Gateway;
use crate::pollers::{poll_queue, poll_stream, run_schedule, QueueSource, StreamTarget};
use crate::resources::{self, demo_users, LOCAL_STRIPE_SECRET_KEY, REGION};
use crate::storefront;
use crate::template::{EventDef, Template};
use crate::LocalError;

pub const SEED_CATALOG: &str = include_str!("../seed/products.json");

pub struct Options {
    pub api_port: u16,
    /// The storefront and the API under `/api`, on one origin (`localhost`).
    pub storefront_port: u16,
    /// The built storefront (`npm run build` in `frontend/`).
    pub storefront_dir: PathBuf,
    pub invoke_port: u16,
    pub emulator_port: u16,
    /// localstripe's port, when the shop pays with Stripe.
    pub stripe_port: u16,
    /// `stripe` (the default: localstripe beside the emulator) or `sandbox`.
    pub payment_provider: String,
    pub stack_file: PathBuf,
    pub python: PathBuf,
    pub template: PathBuf,
    pub allowed_origin: String,
    /// Stop when standard input closes: a test harness that started the stack
    /// takes it down just by exiting.
    pub stop_on_stdin_eof: bool,
    /// How long checkouts hold stock (the functions' RESERVATION_HOLD_SECONDS).
    pub reservation_hold_secs: i64,
    pub max_pending_orders: u32,
    /// Admin routes require an authenticator app on the account, as on AWS
    /// (on by default; `SHOP_ADMIN_MFA_REQUIRED=false` turns it off).
    pub admin_mfa_required: bool,
    /// Run scheduled functions this often instead of at the template's rate.
    pub schedule_override_secs: Option<u64>,
    /// Queues' visibility timeout instead of the template's (tests watch a
    /// failing message reach its DLQ in seconds, not minutes).
    pub queue_visibility_override_secs: Option<i64>,
    /// Template parameters, as `sam deploy --parameter-overrides` sets them
    /// (`SHOP_PARAMETER_OVERRIDES="CheckoutRateLimit=5 CheckoutBurstLimit=5"`).
    pub parameter_overrides: Vec<(String, String)>,
}

/// An environment variable parsed, or `default` when unset or unparsable.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

impl Options {
    pub fn from_env() -> Self {
        Self {
            api_port: env_or("SHOP_API_PORT", 3000),
            storefront_port: env_or("SHOP_STOREFRONT_PORT", 8080),
            storefront_dir: env_or("SHOP_STOREFRONT_DIR", PathBuf::from("frontend/dist")),
            invoke_port: env_or("SHOP_INVOKE_PORT", 3001),
            emulator_port: env_or("SHOP_EMULATOR_PORT", 4566),
            stripe_port: env_or("SHOP_STRIPE_PORT", 8420),
            payment_provider: env_or("SHOP_PAYMENT_PROVIDER", "stripe".to_owned()),
            stack_file: env_or("SHOP_STACK_FILE", PathBuf::from(".local/stack.json")),
            python: env_or("SHOP_PYTHON", PathBuf::from(".venv/bin/python")),
            template: env_or("SHOP_TEMPLATE", PathBuf::from("template.yaml")),
            allowed_origin: env_or("SHOP_ALLOWED_ORIGIN", "http://localhost:8080".to_owned()),
            stop_on_stdin_eof: env_or("SHOP_STOP_ON_STDIN_EOF", 0u8) == 1,
            reservation_hold_secs: env_or("SHOP_RESERVATION_HOLD_SECONDS", shop::domain::DEFAULT_RESERVATION_HOLD_SECS),
            max_pending_orders: env_or("SHOP_MAX_PENDING_ORDERS", shop::domain::DEFAULT_MAX_PENDING_ORDERS),
            admin_mfa_required: env_or("SHOP_ADMIN_MFA_REQUIRED", true),
            schedule_override_secs: std::env::var("SHOP_SCHEDULE_SECONDS").ok().and_then(|v| v.parse().ok()),
            queue_visibility_override_secs: std::env::var("SHOP_QUEUE_VISIBILITY_SECONDS")
                .ok()
                .and_then(|v| v.parse().ok()),
            parameter_overrides: std::env::var("SHOP_PARAMETER_OVERRIDES")
                .unwrap_or_default()
                .split_whitespace()
                .filter_map(|pair| pair.split_once('='))
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .collect(),
        }
    }
}

/// One of the stack's Python servers (`script`, under this crate) on
/// 127.0.0.1:`port`, once it listens: the child and its address.
async fn start_python_server(
    options: &Options,
    script: &str,
    port: u16,
    what: &str,
) -> Result<(Child, String), LocalError> {
    let child = Command::new(&options.python)
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(script))
        .arg(port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| LocalError::Setup(format!("cannot start {what} with {}: {e}", options.python.display())))?;
    let address = format!("127.0.0.1:{port}");
    for _ in 0..300 {
        if tokio::net::TcpStream::connect(&address).await.is_ok() {
            return Ok((child, format!("http://{address}")));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(LocalError::Setup(format!("{what} did not listen on {address} within 30 s")))
}

async fn start_emulator(options: &Options) -> Result<(Child, String), LocalError> {
    start_python_server(options, "emulator/serialized_moto.py", options.emulator_port, "the emulator").await
}

/// localstripe on 127.0.0.1 (`stripe/localstripe_loopback.py`), empty.
async fn start_localstripe(options: &Options) -> Result<(Child, String), LocalError> {
    start_python_server(options, "stripe/localstripe_loopback.py", options.stripe_port, "localstripe").await
}

/// The payment events the shop's webhook takes.
pub const WEBHOOK_EVENTS: [&str; 2] = ["payment_intent.succeeded", "payment_intent.payment_failed"];

/// Registers the shop's webhook endpoint with localstripe, as one does in
/// Stripe's dashboard (docs/deploy.md): it signs each event with `secret`.
async fn register_webhook(localstripe: &str, url: &str, secret: &str) -> Result<(), LocalError> {
    let mut form = vec![("url", url.to_owned()), ("secret", secret.to_owned())];
    form.extend(WEBHOOK_EVENTS.iter().map(|e| ("events[]", (*e).to_owned())));
    let answer = reqwest::Client::new()
        .post(format!("{localstripe}/_config/webhooks/shop"))
        .basic_auth(LOCAL_STRIPE_SECRET_KEY, Some(""))
        .form(&form)
        .send()
        .await
        .map_err(|e| LocalError::Setup(format!("registering the webhook with localstripe: {e}")))?;
    if !answer.status().is_success() {
        return Err(LocalError::Setup(format!("localstripe refused the webhook: {}", answer.status())));
    }
    Ok(())
}

pub async fn run(options: Options) -> Result<(), LocalError> {
    // The template's PaymentProvider is what the stack pays with.
    let mut parameters = options.parameter_overrides.clone();
    parameters.push(("PaymentProvider".into(), options.payment_provider.clone()));
    let template = Template::load_with(&options.template, &parameters)?;
    // Bind first: a port in use fails fast, before anything starts.
    let api_listener = TcpListener::bind(("127.0.0.1", options.api_port)).await?;
    let storefront_listener = TcpListener::bind(("127.0.0.1", options.storefront_port)).await?;
    let invoke_listener = TcpListener::bind(("127.0.0.1", options.invoke_port)).await?;
    let (mut emulator, endpoint) = start_emulator(&options).await?;
    let (mut localstripe, stripe_url) = match options.payment_provider.as_str() {
        "stripe" => {
            let (child, url) = start_localstripe(&options).await?;
            (Some(child), Some(url))
        }
        "sandbox" => (None, None),
        other => return Err(LocalError::Setup(format!("SHOP_PAYMENT_PROVIDER {other:?}: stripe or sandbox"))),
    };

    let sdk = emulator_sdk(&endpoint).await;
    let payments = match &stripe_url {
        // As on AWS: the keys in a Secrets Manager secret, read by the
        // functions when a payment first needs them.
        Some(url) => {
            let secret_id = resources::create_stripe_secret(&aws_sdk_secretsmanager::Client::new(&sdk)).await?;
            let keys = KeysSource::SecretsManager { secret_id };
            PaymentConfig::Stripe(StripeConfig { api_base: url.clone(), keys, currency: "usd".into() })
        }
        None => PaymentConfig::Sandbox,
    };
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&sdk);
    let streams = aws_sdk_dynamodbstreams::Client::new(&sdk);

    let mut users = demo_users();
    let (table_name, stream_arn) =
        resources::create_table(&dynamodb, &template, &format!("shop-{}", template.table.0)).await?;
    let queue_urls = resources::create_queues(&sqs, &template, options.queue_visibility_override_secs).await?;
    let (user_pool_id, client_id) = resources::create_user_pool(&cognito, &template, &mut users).await?;
    let queue_url = |variable: &str| template.env_ref(variable).and_then(|id| queue_urls.get(id)).cloned();

    let issuer = format!("https://cognito-idp.{REGION}.amazonaws.com/{user_pool_id}");
    let jwks_url = format!("{endpoint}/{user_pool_id}/.well-known/jwks.json");
    let config = Config {
        table_name: table_name.clone(),
        cleanup_queue_url: queue_url("CLEANUP_QUEUE_URL"),
        cognito: CognitoConfig { issuer: issuer.clone(), jwks_url: jwks_url.clone(), client_id: client_id.clone() },
        allowed_origin: options.allowed_origin.clone(),
        holds: shop::domain::HoldPolicy {
            hold_secs: options.reservation_hold_secs,
            max_pending: options.max_pending_orders,
            // The rest as the template's parameters say (SHOP_PARAMETER_OVERRIDES sets them).
            hot_hold_secs: template.parameter("HotProductHoldSeconds").unwrap_or(shop::domain::DEFAULT_HOT_HOLD_SECS),
            max_held_units: template
                .parameter("MaxHeldUnitsPerProduct")
                .unwrap_or(shop::domain::DEFAULT_MAX_HELD_UNITS),
            renewal_cooldown_secs: template
                .parameter("RenewalCooldownSeconds")
                .unwrap_or(shop::domain::DEFAULT_RENEWAL_COOLDOWN_SECS),
        },
        admin_mfa_required: options.admin_mfa_required,
        index_partitions: template
            .parameter("IndexPartitions")
            .and_then(IndexPartitions::new)
            .ok_or_else(|| LocalError::Setup("the template's IndexPartitions is not 1 to 64".into()))?,
        payments,
    };
    let app = Arc::new(App::new(config, &sdk));
    let products = resources::seed_catalog(&app.store, SEED_CATALOG).await?;
    let functions = Arc::new(Functions::new(app.clone()));

    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    for function in &template.functions {
        let handler = Handler::named(&function.handler)?;
        for event in &function.events {
            match event {
                EventDef::Sqs { queue, batch_size, report_batch_item_failures } => {
                    let url =
                        queue_urls.get(queue).cloned().ok_or_else(|| LocalError::Setup(format!("no queue {queue}")))?;
                    let arn = queue_arn(&sqs, &url).await?;
                    let source = QueueSource {
                        url,
                        arn,
                        batch_size: *batch_size,
                        report_batch_item_failures: *report_batch_item_failures,
                    };
                    tasks.push(tokio::spawn(poll_queue(
                        functions.clone(),
                        sqs.clone(),
                        handler,
                        source,
                        stop_rx.clone(),
                    )));
                }
                EventDef::Stream(source) => {
                    let target = StreamTarget {
                        stream_arn: stream_arn.clone(),
                        source: source.clone(),
                        on_failure_url: source.on_failure_queue.as_ref().and_then(|q| queue_urls.get(q)).cloned(),
                    };
                    tasks.push(tokio::spawn(poll_stream(
                        functions.clone(),
                        streams.clone(),
                        sqs.clone(),
                        handler,
                        target,
                        stop_rx.clone(),
                    )));
                }
                EventDef::Schedule { every_secs } => {
                    let every = Duration::from_secs(options.schedule_override_secs.unwrap_or(*every_secs).max(1));
                    let rule = format!("{}-schedule", function.logical_id);
                    tasks.push(tokio::spawn(run_schedule(functions.clone(), handler, rule, every, stop_rx.clone())));
                }
                EventDef::Api { .. } => {}
            }
        }
    }

    let mut gateway = Gateway::new(functions, &template)?;
    let spec_path = options.template.with_file_name("openapi.yaml");
    if let Ok(spec) = std::fs::read_to_string(&spec_path) {
        gateway = gateway.with_spec(spec)?;
    }
    let gateway = Arc::new(gateway);
    let api_url = format!("http://{}", api_listener.local_addr()?);
    let webhook_secret = app.stripe_webhook_secret().await.map_err(|e| LocalError::Setup(e.to_string()))?;
    if let (Some(url), Some(secret)) = (&stripe_url, &webhook_secret) {
        register_webhook(url, &format!("{api_url}/stripe/webhook"), secret).await?;
    }
    let invoke_url = format!("http://{}", invoke_listener.local_addr()?);
    // `localhost`, not 127.0.0.1: the page, its cookie and the allowed origin
    // name one host (a cookie set for one is third-party on the other).
    let storefront_url = format!("http://localhost:{}", storefront_listener.local_addr()?.port());
    let page_config = storefront::page_config(REGION, &user_pool_id, &client_id, &endpoint, stripe_url.as_deref());
    let storefront_built = options.storefront_dir.join("index.html").exists();
    let storefront = storefront::router(&options.storefront_dir, page_config, gateway.clone().api_router());
    for (listener, router) in [
        (api_listener, gateway.clone().api_router()),
        (invoke_listener, gateway.clone().invoke_router()),
        (storefront_listener, storefront),
    ] {
        let mut stop = stop_rx.clone();
        tasks.push(tokio::spawn(async move {
            let served = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
                .with_graceful_shutdown(async move {
                    let _ = stop.changed().await;
                })
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "server stopped");
            }
        }));
    }

    let coordinates = json!({
        "apiUrl": api_url,
        "storefrontUrl": storefront_url,
        "invokeUrl": invoke_url,
        "emulatorEndpoint": endpoint,
        "region": REGION,
        "tableName": table_name,
        "indexPartitions": app.config.index_partitions.count(),
        "stripeUrl": stripe_url,
        // Local only: tests sign events with it as Stripe does.
        "stripeWebhookSecret": webhook_secret,
        "streamArn": stream_arn,
        "queueUrls": queue_urls,
        "cleanupQueueUrl": app.config.cleanup_queue_url,
        "userPoolId": user_pool_id,
        "clientId": client_id,
        "issuer": issuer,
        "jwksUrl": jwks_url,
        "demoUsers": users,
        "pid": std::process::id(),
    });
    if let Some(dir) = options.stack_file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&options.stack_file, serde_json::to_vec_pretty(&coordinates).unwrap_or_default())?;

    println!("The shop is running ({} routes, {products} products).", gateway.route_count());
    if storefront_built {
        println!("  Storefront:   {storefront_url} (the API also under {storefront_url}{})", storefront::API_PATH);
    } else {
        println!(
            "  Storefront:   not built ({} has no index.html: `make local` builds it)",
            options.storefront_dir.display()
        );
    }
    println!("  API:          {api_url}");
    println!("  Invoke API:   {invoke_url}/2015-03-31/functions/<FunctionName>/invocations");
    println!("  Emulator:     {endpoint} (region {REGION})");
    match &stripe_url {
        Some(url) => println!("  Payments:     Stripe, on localstripe at {url}"),
        None => println!("  Payments:     the sandbox provider (SHOP_PAYMENT_PROVIDER=sandbox)"),
    }
    println!("  User pool:    {user_pool_id}, client {client_id}");
    for user in &users {
        println!("  Demo user:    {} / {} (groups: {:?})", user.username, user.password, user.groups);
        if let Some(uri) = user.otpauth_uri() {
            println!("                authenticator app: {uri}");
            println!("                (its current code: `make totp`)");
        }
    }
    println!("  Coordinates:  {}", options.stack_file.display());
    println!("Ctrl-C stops it.");

    wait_for_stop_signal(options.stop_on_stdin_eof).await;
    println!("Stopping.");
    let _ = stop_tx.send(true);
    for task in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
    }
    let _ = emulator.kill().await;
    if let Some(localstripe) = localstripe.as_mut() {
        let _ = localstripe.kill().await;
    }
    let _ = std::fs::remove_file(&options.stack_file);
    Ok(())
}

async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<String, LocalError> {
    let out = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| LocalError::Setup(format!("queue arn: {e:?}")))?;
    out.attributes
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn).cloned())
        .ok_or_else(|| LocalError::Setup("queue without arn".into()))
}

async fn wait_for_stop_signal(stop_on_stdin_eof: bool) {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let terminated = async {
        match term.as_mut() {
            Some(t) => {
                t.recv().await;
            }
            None => std::future::pending().await,
        }
    };
    let stdin_closed = async {
        if !stop_on_stdin_eof {
            return std::future::pending().await;
        }
        let mut sink = Vec::new();
        let _ = tokio::io::AsyncReadExt::read_to_end(&mut tokio::io::stdin(), &mut sink).await;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminated => {}
        _ = stdin_closed => {}
    }
}

/// A store on the running local stack, from its coordinates file
/// (SHOP_STACK_FILE, default `.local/stack.json`).
pub async fn local_store() -> Result<shop::outbound::dynamodb::Store, LocalError> {
    let file = env_or("SHOP_STACK_FILE", PathBuf::from(".local/stack.json"));
    let text = std::fs::read_to_string(&file)
        .map_err(|e| LocalError::Setup(format!("{}: {e} (is `make local` running?)", file.display())))?;
    let coordinates: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| LocalError::Setup(format!("{}: {e}", file.display())))?;
    let field = |name: &str| coordinates[name].as_str().map(str::to_owned);
    let (Some(endpoint), Some(table)) = (field("emulatorEndpoint"), field("tableName")) else {
        return Err(LocalError::Setup(format!("{} lacks emulatorEndpoint or tableName", file.display())));
    };
    Ok(store_at(&endpoint, &table, index_partitions_of(&coordinates)).await)
}

/// How the stack spreads its index lists (`indexPartitions` in its coordinates).
pub fn index_partitions_of(coordinates: &serde_json::Value) -> IndexPartitions {
    coordinates["indexPartitions"]
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .and_then(IndexPartitions::new)
        .unwrap_or(IndexPartitions::DEFAULT)
}

/// A store on the emulator at `endpoint`.
pub async fn store_at(endpoint: &str, table: &str, partitions: IndexPartitions) -> shop::outbound::dynamodb::Store {
    let sdk = emulator_sdk(endpoint).await;
    shop::outbound::dynamodb::Store::new(aws_sdk_dynamodb::Client::new(&sdk), table, partitions)
}

/// AWS SDK settings for the emulator (it takes any credentials).
pub async fn emulator_sdk(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("test", "test", None, None, "shop-local"))
        .load()
        .await
}

/// A local stack started as a child process on free ports. It stops when this
/// value (and so the child's standard input) is dropped, or when this
/// process exits.
pub struct ChildStack {
    pub coordinates_file: PathBuf,
    _child: std::process::Child,
    _stdin: std::process::ChildStdin,
}

impl ChildStack {
    /// The stack's coordinates (`apiUrl`, `emulatorEndpoint`, `clientId`, ...).
    pub fn coordinates(&self) -> Result<serde_json::Value, LocalError> {
        let text = std::fs::read_to_string(&self.coordinates_file)?;
        serde_json::from_str(&text).map_err(|e| LocalError::Setup(format!("stack coordinates: {e}")))
    }
}

/// Starts `shop-local` (the binary at `binary`) from the workspace root with
/// extra environment settings, and waits until it has written its coordinates.
pub fn spawn_child_stack(
    binary: &std::path::Path,
    workspace_root: &std::path::Path,
    env: &[(&str, &str)],
) -> Result<ChildStack, LocalError> {
    let python = workspace_root.join(".venv/bin/python");
    if !python.exists() {
        return Err(LocalError::Setup(format!("no {}: run `make venv` first", python.display())));
    }
    let dir = std::env::temp_dir().join(format!("shop-stack-{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("stack.json");
    let log_path = dir.join("stack.log");
    let emulator_port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let stripe_port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let mut command = std::process::Command::new(binary);
    command
        .current_dir(workspace_root)
        .env("SHOP_API_PORT", "0")
        .env("SHOP_STOREFRONT_PORT", "0")
        .env("SHOP_INVOKE_PORT", "0")
        .env("SHOP_EMULATOR_PORT", emulator_port.to_string())
        .env("SHOP_STRIPE_PORT", stripe_port.to_string())
        .env("SHOP_STACK_FILE", &file)
        .env("SHOP_PYTHON", &python)
        .env("SHOP_STOP_ON_STDIN_EOF", "1")
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log_path)?);
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn()?;
    let stdin = child.stdin.take().ok_or_else(|| LocalError::Setup("no stdin".into()))?;
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while !file.exists() {
        if let Some(status) = child.try_wait()? {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            return Err(LocalError::Setup(format!("shop-local exited ({status}) before it was ready:\n{log}")));
        }
        if std::time::Instant::now() > deadline {
            return Err(LocalError::Setup(format!("the stack did not come up in 120 s; see {}", log_path.display())));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(ChildStack { coordinates_file: file, _child: child, _stdin: stdin })
}

/// A user's ID token from the emulator's Cognito (USER_PASSWORD_AUTH), as the
/// frontend signs in.
pub async fn id_token(emulator: &str, client_id: &str, username: &str, password: &str) -> Result<String, String> {
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&emulator_sdk(emulator).await);
    crate::resources::sign_in(&cognito, client_id, username, password, None).await.map_err(|e| e.to_string())
}

/// A demo user of a running stack (its coordinates), signed in with the
/// password and, for the admin, a code of its authenticator app: the ID token.
pub async fn demo_id_token(coordinates: &serde_json::Value, username: &str) -> Result<String, LocalError> {
    let user = coordinates["demoUsers"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|u| u["username"] == username)
        .ok_or_else(|| LocalError::Setup(format!("no demo user {username} in the stack's coordinates")))?;
    let field = |name: &str| coordinates[name].as_str().unwrap_or_default().to_owned();
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&emulator_sdk(&field("emulatorEndpoint")).await);
    let password = user["password"].as_str().unwrap_or_default();
    crate::resources::sign_in(&cognito, &field("clientId"), username, password, user["totpSecret"].as_str()).await
}
