//! Creates the template's resources in the emulator, seeds the catalog and the
//! demo users.

use std::collections::HashMap;

use aws_sdk_cognitoidentityprovider::types::{
    AttributeType, AuthFlowType, AuthenticationResultType, ChallengeNameType, ExplicitAuthFlowsType, MessageActionType,
    PasswordPolicyType, SoftwareTokenMfaSettingsType, UserPoolPolicyType,
};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification,
};
use aws_sdk_sqs::types::QueueAttributeName;
use serde::Serialize;
use serde_yaml::Value;

use crate::template::{QueueDef, Template};
use crate::LocalError;

pub const REGION: &str = "us-east-1";

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoUser {
    pub username: String,
    pub password: String,
    pub email: String,
    pub groups: Vec<String>,
    /// The authenticator app's secret (base32), for users who have one:
    /// admins, as admin routes require (a code: `make totp`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub totp_secret: Option<String>,
}

impl DemoUser {
    /// The `otpauth://` URI an authenticator app scans (as a QR code) or takes typed in.
    pub fn otpauth_uri(&self) -> Option<String> {
        self.totp_secret.as_deref().map(|secret| otpauth_uri(&self.username, secret))
    }
}

/// The key URI format authenticator apps read (Google Authenticator's).
pub fn otpauth_uri(username: &str, secret: &str) -> String {
    format!("otpauth://totp/The%20shop:{username}?secret={secret}&issuer=The%20shop")
}

pub fn demo_users() -> Vec<DemoUser> {
    vec![
        DemoUser {
            username: "customer".into(),
            password: "Customer-Pass1".into(),
            email: "customer@example.com".into(),
            groups: vec![],
            totp_secret: None,
        },
        DemoUser {
            username: "admin".into(),
            password: "Admin-Pass1".into(),
            email: "admin@example.com".into(),
            groups: vec!["admin".into()],
            totp_secret: None,
        },
    ]
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Created {
    pub table_name: String,
    pub stream_arn: String,
    /// Logical id to queue URL.
    pub queue_urls: HashMap<String, String>,
    pub user_pool_id: String,
    pub client_id: String,
}

/// An error of setting something up, saying what.
pub fn setup_error(what: &str) -> impl Fn(String) -> LocalError + '_ {
    move |e| LocalError::Setup(format!("{what}: {e}"))
}

fn strings<'a>(value: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    value.get(key).and_then(Value::as_sequence).into_iter().flatten()
}

fn key_schema(value: &Value) -> Result<Vec<KeySchemaElement>, LocalError> {
    strings(value, "KeySchema")
        .map(|k| {
            KeySchemaElement::builder()
                .attribute_name(k.get("AttributeName").and_then(Value::as_str).unwrap_or_default())
                .key_type(KeyType::from(k.get("KeyType").and_then(Value::as_str).unwrap_or_default()))
                .build()
                .map_err(|e| LocalError::Setup(e.to_string()))
        })
        .collect()
}

/// The template's table, as `name`; returns its name and stream ARN.
pub async fn create_table(
    client: &aws_sdk_dynamodb::Client,
    template: &Template,
    name: &str,
) -> Result<(String, String), LocalError> {
    let (_, props) = &template.table;
    let name = name.to_owned();
    let attributes = strings(props, "AttributeDefinitions")
        .map(|a| {
            AttributeDefinition::builder()
                .attribute_name(a.get("AttributeName").and_then(Value::as_str).unwrap_or_default())
                .attribute_type(ScalarAttributeType::from(
                    a.get("AttributeType").and_then(Value::as_str).unwrap_or("S"),
                ))
                .build()
                .map_err(|e| LocalError::Setup(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut indexes = Vec::new();
    for gsi in strings(props, "GlobalSecondaryIndexes") {
        let projection = gsi.get("Projection").and_then(|p| p.get("ProjectionType")).and_then(Value::as_str);
        indexes.push(
            GlobalSecondaryIndex::builder()
                .index_name(gsi.get("IndexName").and_then(Value::as_str).unwrap_or_default())
                .set_key_schema(Some(key_schema(gsi)?))
                .projection(
                    Projection::builder().projection_type(ProjectionType::from(projection.unwrap_or("ALL"))).build(),
                )
                .build()
                .map_err(|e| LocalError::Setup(e.to_string()))?,
        );
    }
    let view = props
        .get("StreamSpecification")
        .and_then(|s| s.get("StreamViewType"))
        .and_then(Value::as_str)
        .ok_or_else(|| LocalError::Setup("the table needs a stream".into()))?;
    let out = client
        .create_table()
        .table_name(&name)
        .set_attribute_definitions(Some(attributes))
        .set_key_schema(Some(key_schema(props)?))
        .set_global_secondary_indexes(Some(indexes).filter(|i| !i.is_empty()))
        .billing_mode(BillingMode::PayPerRequest)
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::from(view))
                .build()
                .map_err(|e| LocalError::Setup(e.to_string()))?,
        )
        .send()
        .await
        .map_err(|e| setup_error("create table")(format!("{e:?}")))?;
    let stream_arn = out
        .table_description
        .and_then(|t| t.latest_stream_arn)
        .ok_or_else(|| LocalError::Setup("table has no stream".into()))?;
    if let Some(ttl) = props.get("TimeToLiveSpecification").and_then(|t| t.get("AttributeName")).and_then(Value::as_str)
    {
        client
            .update_time_to_live()
            .table_name(&name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(ttl)
                    .enabled(true)
                    .build()
                    .map_err(|e| LocalError::Setup(e.to_string()))?,
            )
            .send()
            .await
            .map_err(|e| setup_error("ttl")(format!("{e:?}")))?;
    }
    Ok((name, stream_arn))
}

pub async fn create_queues(
    client: &aws_sdk_sqs::Client,
    template: &Template,
    visibility_override_secs: Option<i64>,
) -> Result<HashMap<String, String>, LocalError> {
    let mut urls = HashMap::new();
    let mut arns = HashMap::new();
    // Dead-letter queues first: the others name them.
    let mut ordered: Vec<&QueueDef> = template.queues.iter().collect();
    ordered.sort_by_key(|q| q.redrive.is_some());
    for queue in ordered {
        let mut request = client.create_queue().queue_name(format!("shop-{}", queue.logical_id));
        if let Some(v) = visibility_override_secs.or(queue.visibility_timeout) {
            request = request.attributes(QueueAttributeName::VisibilityTimeout, v.to_string());
        }
        if let Some(v) = queue.message_retention {
            request = request.attributes(QueueAttributeName::MessageRetentionPeriod, v.to_string());
        }
        if let Some((dlq, max_receive)) = &queue.redrive {
            let arn = arns.get(dlq).ok_or_else(|| LocalError::Setup(format!("unknown DLQ {dlq}")))?;
            let policy = serde_json::json!({ "deadLetterTargetArn": arn, "maxReceiveCount": max_receive });
            request = request.attributes(QueueAttributeName::RedrivePolicy, policy.to_string());
        }
        let url = request
            .send()
            .await
            .map_err(|e| setup_error("create queue")(format!("{e:?}")))?
            .queue_url
            .unwrap_or_default();
        let attrs = client
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(|e| setup_error("queue arn")(format!("{e:?}")))?;
        let arn = attrs.attributes.and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned()).unwrap_or_default();
        arns.insert(queue.logical_id.clone(), arn);
        urls.insert(queue.logical_id.clone(), url);
    }
    Ok(urls)
}

pub async fn create_user_pool(
    client: &aws_sdk_cognitoidentityprovider::Client,
    template: &Template,
    users: &mut [DemoUser],
) -> Result<(String, String), LocalError> {
    let def = &template.user_pool;
    let pool = client
        .create_user_pool()
        .pool_name("shop-users")
        .policies(
            UserPoolPolicyType::builder()
                .password_policy(
                    PasswordPolicyType::builder()
                        .minimum_length(def.password_min_length as i32)
                        .require_lowercase(true)
                        .require_uppercase(true)
                        .require_numbers(true)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .map_err(|e| setup_error("create user pool")(format!("{e:?}")))?
        .user_pool
        .and_then(|p| p.id)
        .ok_or_else(|| LocalError::Setup("user pool without id".into()))?;
    let client_id = client
        .create_user_pool_client()
        .user_pool_id(&pool)
        .client_name("shop-frontend")
        .generate_secret(false)
        .set_explicit_auth_flows(Some(
            def.explicit_auth_flows.iter().map(|f| ExplicitAuthFlowsType::from(f.as_str())).collect(),
        ))
        .send()
        .await
        .map_err(|e| setup_error("create client")(format!("{e:?}")))?
        .user_pool_client
        .and_then(|c| c.client_id)
        .ok_or_else(|| LocalError::Setup("client without id".into()))?;
    for group in &def.groups {
        client
            .create_group()
            .user_pool_id(&pool)
            .group_name(group)
            .send()
            .await
            .map_err(|e| setup_error("create group")(format!("{e:?}")))?;
    }
    for user in users.iter_mut() {
        client
            .admin_create_user()
            .user_pool_id(&pool)
            .username(&user.username)
            .message_action(MessageActionType::Suppress)
            .user_attributes(
                AttributeType::builder()
                    .name("email")
                    .value(&user.email)
                    .build()
                    .map_err(|e| LocalError::Setup(e.to_string()))?,
            )
            .user_attributes(
                AttributeType::builder()
                    .name("email_verified")
                    .value("true")
                    .build()
                    .map_err(|e| LocalError::Setup(e.to_string()))?,
            )
            .send()
            .await
            .map_err(|e| setup_error("create user")(format!("{e:?}")))?;
        client
            .admin_set_user_password()
            .user_pool_id(&pool)
            .username(&user.username)
            .password(&user.password)
            .permanent(true)
            .send()
            .await
            .map_err(|e| setup_error("set password")(format!("{e:?}")))?;
        for group in &user.groups {
            client
                .admin_add_user_to_group()
                .user_pool_id(&pool)
                .username(&user.username)
                .group_name(group)
                .send()
                .await
                .map_err(|e| setup_error("add to group")(format!("{e:?}")))?;
        }
        // Admin routes require an authenticator app, as on AWS: the demo admin has one.
        if user.groups.iter().any(|g| g == shop::outbound::cognito::tokens::ADMIN_GROUP) {
            user.totp_secret = Some(set_up_totp(client, &client_id, &user.username, &user.password).await?);
        }
    }
    Ok((pool, client_id))
}

/// Gives a user an authenticator app, as the storefront's Account screen
/// does (AssociateSoftwareToken, VerifySoftwareToken with a code of the new
/// secret, SetUserMFAPreference); the secret. From then on every sign-in
/// asks for a code.
pub async fn set_up_totp(
    cognito: &aws_sdk_cognitoidentityprovider::Client,
    client_id: &str,
    username: &str,
    password: &str,
) -> Result<String, LocalError> {
    let signed_in = authenticate(cognito, client_id, username, password, None).await?;
    let access_token = signed_in.access_token.ok_or_else(|| LocalError::Setup("no access token".into()))?;
    let secret = cognito
        .associate_software_token()
        .access_token(&access_token)
        .send()
        .await
        .map_err(|e| setup_error("associate software token")(format!("{e:?}")))?
        .secret_code
        .ok_or_else(|| LocalError::Setup("no TOTP secret".into()))?;
    cognito
        .verify_software_token()
        .access_token(&access_token)
        .user_code(totp_code(&secret, now_secs())?)
        .friendly_device_name("demo")
        .send()
        .await
        .map_err(|e| setup_error("verify software token")(format!("{e:?}")))?;
    cognito
        .set_user_mfa_preference()
        .access_token(&access_token)
        .software_token_mfa_settings(SoftwareTokenMfaSettingsType::builder().enabled(true).preferred_mfa(true).build())
        .send()
        .await
        .map_err(|e| setup_error("set MFA preference")(format!("{e:?}")))?;
    Ok(secret)
}

/// The 6-digit code an authenticator app shows for `secret` (base32) at
/// `unix_secs` (RFC 6238: SHA-1, 30-second steps), as Cognito checks it.
pub fn totp_code(secret: &str, unix_secs: u64) -> Result<String, LocalError> {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .map_err(|e| LocalError::Setup(format!("TOTP secret: {e:?}")))?;
    let totp = totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes)
        .map_err(|e| LocalError::Setup(format!("TOTP secret: {e}")))?;
    Ok(totp.generate(unix_secs))
}

fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

/// One product of the seed catalog (`crates/local/seed/products.json`).
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedProduct {
    #[serde(flatten)]
    pub product: shop::domain::Product,
    pub initial_stock: i64,
}

pub fn parse_seed_catalog(catalog_json: &str) -> Result<Vec<SeedProduct>, LocalError> {
    serde_json::from_str(catalog_json).map_err(|e| LocalError::Setup(format!("seed catalog: {e}")))
}

/// The seed catalog, shipped as data and written to the table (never compiled
/// into a function).
pub async fn seed_catalog(store: &shop::outbound::dynamodb::Store, catalog_json: &str) -> Result<usize, LocalError> {
    use shop::use_cases::ports::CatalogStore;
    let products = parse_seed_catalog(catalog_json)?;
    let count = products.len();
    for seed in products {
        store
            .create_product(&seed.product, seed.initial_stock)
            .await
            .map_err(|e| LocalError::Setup(format!("seed: {e}")))?;
    }
    Ok(count)
}

/// Signs in (Cognito USER_PASSWORD_AUTH, answering the authenticator
/// challenge with a code of `totp_secret` if asked) and returns the ID token.
pub async fn sign_in(
    cognito: &aws_sdk_cognitoidentityprovider::Client,
    client_id: &str,
    username: &str,
    password: &str,
    totp_secret: Option<&str>,
) -> Result<String, LocalError> {
    authenticate(cognito, client_id, username, password, totp_secret)
        .await?
        .id_token
        .ok_or_else(|| LocalError::Setup("no id token".into()))
}

async fn authenticate(
    cognito: &aws_sdk_cognitoidentityprovider::Client,
    client_id: &str,
    username: &str,
    password: &str,
    totp_secret: Option<&str>,
) -> Result<AuthenticationResultType, LocalError> {
    let out = cognito
        .initiate_auth()
        .client_id(client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", username)
        .auth_parameters("PASSWORD", password)
        .send()
        .await
        .map_err(|e| setup_error("sign in")(format!("{e:?}")))?;
    if let Some(result) = out.authentication_result {
        return Ok(result);
    }
    let (Some(ChallengeNameType::SoftwareTokenMfa), Some(secret)) = (&out.challenge_name, totp_secret) else {
        return Err(LocalError::Setup(format!("sign in: {username} was asked {:?}", out.challenge_name)));
    };
    cognito
        .respond_to_auth_challenge()
        .client_id(client_id)
        .challenge_name(ChallengeNameType::SoftwareTokenMfa)
        .set_session(out.session)
        .challenge_responses("USERNAME", username)
        .challenge_responses("SOFTWARE_TOKEN_MFA_CODE", totp_code(secret, now_secs())?)
        .send()
        .await
        .map_err(|e| setup_error("authenticator code")(format!("{e:?}")))?
        .authentication_result
        .ok_or_else(|| LocalError::Setup("no tokens after the authenticator code".into()))
}

/// Creates a confirmed user in the emulator's pool and returns its ID token.
pub async fn sign_up(
    cognito: &aws_sdk_cognitoidentityprovider::Client,
    pool: &str,
    client_id: &str,
    username: &str,
    password: &str,
) -> Result<String, LocalError> {
    cognito
        .admin_create_user()
        .user_pool_id(pool)
        .username(username)
        .message_action(MessageActionType::Suppress)
        .send()
        .await
        .map_err(|e| setup_error("create user")(format!("{e:?}")))?;
    cognito
        .admin_set_user_password()
        .user_pool_id(pool)
        .username(username)
        .password(password)
        .permanent(true)
        .send()
        .await
        .map_err(|e| setup_error("set password")(format!("{e:?}")))?;
    sign_in(cognito, client_id, username, password, None).await
}

/// The secret key the local stack calls localstripe with (it takes any).
pub const LOCAL_STRIPE_SECRET_KEY: &str = "sk_test_local";

/// The shop's Stripe keys for localstripe, in the emulator's Secrets Manager
/// as the template's StripeSecret holds them on AWS; its ARN.
pub async fn create_stripe_secret(secrets: &aws_sdk_secretsmanager::Client) -> Result<String, LocalError> {
    let keys = serde_json::json!({
        "secretKey": LOCAL_STRIPE_SECRET_KEY,
        "webhookSecret": format!("whsec_local_{}", uuid::Uuid::new_v4().simple()),
    });
    let created = secrets
        .create_secret()
        .name(format!("shop-stripe-keys-{}", uuid::Uuid::new_v4().simple()))
        .secret_string(keys.to_string())
        .send()
        .await
        .map_err(|e| LocalError::Setup(format!("the Stripe secret: {e:?}")))?;
    created.arn().map(str::to_owned).ok_or_else(|| LocalError::Setup("the Stripe secret has no ARN".into()))
}
