//! HTTP glue shared by every endpoint: the one place errors become responses,
//! JSON bodies in and out, CORS, the `cartId` cookie, and who the caller is.

use cookie::{Cookie, SameSite};
use http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::api::views::{Availability, Available, ExistingReview, OrderAnswer, ShortLines};
use crate::auth::{AuthError, Identity};
use crate::domain::{CartOwner, DomainError, ANONYMOUS_CART_TTL_SECS};
use crate::store::StoreError;
use crate::use_cases::cart::CartError;
use crate::use_cases::catalog::CatalogError;
use crate::use_cases::checkout::CheckoutError;
use crate::use_cases::payment::OrderError;
use crate::use_cases::ports::PaymentError;
use crate::use_cases::reviews::ReviewError;
use crate::App;

/// Request bodies above this are refused before parsing.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
pub const CART_COOKIE: &str = "cartId";
/// What a 503 tells the client to wait before retrying.
const RETRY_AFTER_SECS: &str = "1";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    /// Details go to the log; the caller learns only that the token was refused.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    #[error("this needs the admin group")]
    Forbidden,
    /// An admin without an authenticator app: the body says how to add one.
    #[error(
        "admin routes need an authenticator app (TOTP) on your account: add one under Account \
         (/account/security in the shop), then sign in again with its code"
    )]
    MfaRequired,
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("request body larger than {MAX_BODY_BYTES} bytes")]
    PayloadTooLarge,
    /// A body that does not say it is JSON: a cross-site form can send
    /// `text/plain` with the visitor's cookie, never `application/json`.
    #[error("Content-Type must be application/json")]
    UnsupportedMediaType,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("token keys unavailable: {0}")]
    KeysUnavailable(String),
    /// A refusal that carries more than a message (what is available, which
    /// lines are short, the order): the fields join `message` in the body.
    #[error("{message}")]
    Detailed { status: StatusCode, message: String, details: serde_json::Map<String, serde_json::Value> },
    #[error("payment provider unavailable")]
    PaymentUnavailable,
    /// Our fault, logged and never shown.
    #[error("internal: {0}")]
    Internal(String),
}

/// A refusal whose body carries `details` next to the message.
pub fn detailed(status: StatusCode, message: String, details: impl Serialize) -> ApiError {
    let details = match serde_json::to_value(details) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    ApiError::Detailed { status, message, details }
}

impl From<CartError> for ApiError {
    fn from(err: CartError) -> Self {
        let message = err.to_string();
        match err {
            CartError::Invalid(e) => e.into(),
            CartError::ProductNotFound(_) => Self::NotFound(message),
            CartError::NotEnoughStock { product_id, available } => {
                detailed(StatusCode::CONFLICT, message, Availability { product_id: &product_id, available })
            }
            CartError::KeyUsedForAnother { .. } => Self::Conflict(message),
            CartError::Busy => Self::Store(StoreError::Conflict),
            CartError::Store(e) => Self::Store(e),
        }
    }
}

impl From<CatalogError> for ApiError {
    fn from(err: CatalogError) -> Self {
        let message = err.to_string();
        match err {
            CatalogError::Invalid(e) => e.into(),
            CatalogError::NotFound(_) => Self::NotFound(message),
            CatalogError::NotEnoughStock { available, .. } => {
                detailed(StatusCode::CONFLICT, message, Available { available })
            }
            CatalogError::AlreadyExists(_)
            | CatalogError::KeyUsedForAnother { .. }
            | CatalogError::ReshardedMeanwhile(_) => Self::Conflict(message),
            CatalogError::Store(e) => Self::Store(e),
        }
    }
}

impl From<CheckoutError> for ApiError {
    fn from(err: CheckoutError) -> Self {
        let message = err.to_string();
        match err {
            CheckoutError::Invalid(e) => e.into(),
            CheckoutError::EmptyCart | CheckoutError::TooManyLines(_) => Self::BadRequest(message),
            CheckoutError::TooManyPending(_)
            | CheckoutError::TooManyHeld { .. }
            | CheckoutError::CoolingDown { .. } => Self::Conflict(message),
            CheckoutError::NotEnoughStock(short_lines) => {
                detailed(StatusCode::CONFLICT, message, ShortLines { short_lines: &short_lines })
            }
            CheckoutError::Busy => Self::Conflict(message),
            CheckoutError::Store(e) => Self::Store(e),
        }
    }
}

impl From<OrderError> for ApiError {
    fn from(err: OrderError) -> Self {
        let message = err.to_string();
        let status = match &err {
            OrderError::Declined { .. } => StatusCode::PAYMENT_REQUIRED,
            _ => StatusCode::CONFLICT,
        };
        if let Some(order) = err.order() {
            return detailed(status, message, OrderAnswer::of(order));
        }
        match err {
            OrderError::Invalid(e) => e.into(),
            OrderError::NotFound(_) => Self::NotFound(message),
            // Said as it is: charged, not yet recorded (a 503, with Retry-After).
            OrderError::ChargedNotRecorded => detailed(StatusCode::SERVICE_UNAVAILABLE, message, ()),
            OrderError::Payment(PaymentError::Unavailable) => Self::PaymentUnavailable,
            OrderError::Payment(PaymentError::Failed(why)) => Self::Internal(why),
            OrderError::Store(e) => Self::Store(e),
            _ => Self::Conflict(message),
        }
    }
}

impl From<ReviewError> for ApiError {
    fn from(err: ReviewError) -> Self {
        let message = err.to_string();
        match err {
            ReviewError::Invalid(e) => e.into(),
            ReviewError::NotABuyer => detailed(StatusCode::FORBIDDEN, message, ()),
            ReviewError::AlreadyReviewed { review_id } => {
                detailed(StatusCode::CONFLICT, message, ExistingReview { review_id: &review_id })
            }
            ReviewError::RemovedByModerator => Self::Conflict(message),
            ReviewError::NoSuchProduct(_) | ReviewError::NotFound(_) => Self::NotFound(message),
            ReviewError::Busy => Self::Conflict(message),
            ReviewError::Store(e) => Self::Store(e),
        }
    }
}

impl From<crate::cursor::CursorError> for ApiError {
    fn from(_: crate::cursor::CursorError) -> Self {
        Self::BadRequest("invalid cursor".into())
    }
}

impl From<DomainError> for ApiError {
    fn from(err: DomainError) -> Self {
        Self::BadRequest(err.to_string())
    }
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::InvalidToken(why) => Self::Unauthorized(why),
            AuthError::KeysUnavailable(why) | AuthError::UserPoolUnavailable(why) => Self::KeysUnavailable(why),
        }
    }
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::MfaRequired => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Store(StoreError::Conflict) => StatusCode::CONFLICT,
            Self::Store(StoreError::Contended) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::KeysUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Detailed { status, .. } => *status,
            Self::PaymentUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What the caller reads: their mistake spelled out, our faults not at all.
    fn public_message(&self) -> String {
        match self {
            Self::Unauthorized(_) => "invalid or expired token".into(),
            Self::Store(StoreError::Conflict) => "the cart changed concurrently; retry".into(),
            Self::Store(StoreError::Contended) => {
                "the shop is very busy right now; nothing was changed, retry in a moment".into()
            }
            Self::Store(_) | Self::Internal(_) => "internal error".into(),
            Self::KeysUnavailable(_) => "cannot verify tokens right now; retry".into(),
            Self::PaymentUnavailable => "the payment provider is unavailable; nothing was charged, retry".into(),
            other => other.to_string(),
        }
    }

    /// The one place an error becomes an HTTP response.
    pub fn into_response(self, cors_origin: &str) -> Response<Body> {
        let status = self.status();
        if matches!(self, Self::Store(StoreError::Contended)) {
            // Expected in a flash sale: counted, not an alarm.
            tracing::warn!(error = %self, "request contended");
        } else if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        } else {
            tracing::info!(error = %self, status = status.as_u16(), "request refused");
        }
        let mut body = serde_json::Map::new();
        body.insert("message".into(), json!(self.public_message()));
        if let Self::Detailed { details, .. } = self {
            body.extend(details);
        }
        let mut response = json_response(status, &body, cors_origin);
        if status == StatusCode::SERVICE_UNAVAILABLE {
            // Every 503 here is a moment's unavailability: say when to come back.
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
        }
        response
    }
}

pub fn json_response<T: Serialize>(status: StatusCode, body: &T, cors_origin: &str) -> Response<Body> {
    json_text_response(status, json_text(body), cors_origin)
}

/// `body` as JSON text. Our bodies always serialize; were one not to, the
/// client gets the generic error body rather than a broken one.
pub fn json_text<T: Serialize + ?Sized>(body: &T) -> String {
    serde_json::to_string(body).unwrap_or_else(|_| r#"{"message":"internal error"}"#.into())
}

/// A response with JSON text already serialized, and the CORS headers.
pub fn json_text_response(status: StatusCode, text: String, cors_origin: &str) -> Response<Body> {
    let mut response = Response::new(Body::Text(text));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    // Every answer depends on the caller (token, cookie): no cache keeps one.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if let Ok(origin) = HeaderValue::from_str(cors_origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}

/// Whether the request says its body is JSON (`application/json`, any parameters).
fn sends_json(req: &Request) -> bool {
    let Some(value) = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let media_type = value.split(';').next().unwrap_or_default().trim();
    media_type.eq_ignore_ascii_case("application/json")
}

/// Parses a JSON body into `T`, with messages that say what is wrong.
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    let bytes: &[u8] = match req.body() {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge);
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest("a JSON body is required".into()));
    }
    if !sends_json(req) {
        return Err(ApiError::UnsupportedMediaType);
    }
    serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => {
            // serde names the field and what it expected; where in the text is noise.
            let text = e.to_string();
            let what = text.split(" at line ").next().unwrap_or_default();
            ApiError::BadRequest(format!("invalid body: {what}"))
        }
        _ => ApiError::BadRequest("malformed JSON body".into()),
    })
}

/// A path parameter as API Gateway extracted it.
pub fn path_param(req: &Request, name: &str) -> Result<String, ApiError> {
    req.path_parameters()
        .first(name)
        .map(str::to_owned)
        .ok_or_else(|| ApiError::BadRequest(format!("missing path parameter {name}")))
}

/// Who is calling: a verified user, or an anonymous shopper by cookie.
pub enum Caller {
    User(Identity),
    /// The cookie's cart, or a new one; the response sets the cookie either way.
    Anonymous(CartOwner),
}

impl Caller {
    pub fn cart_owner(&self) -> Result<CartOwner, ApiError> {
        match self {
            Self::User(identity) => Ok(CartOwner::user(&identity.sub)?),
            Self::Anonymous(owner) => Ok(owner.clone()),
        }
    }

    /// Adds (or refreshes) the `cartId` cookie for anonymous callers.
    pub fn finish(&self, mut response: Response<Body>) -> Response<Body> {
        if let Self::Anonymous(CartOwner::Anonymous(id)) = self {
            if let Ok(value) = HeaderValue::from_str(&cart_cookie(*id)) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
        }
        response
    }
}

fn cart_cookie(id: Uuid) -> String {
    Cookie::build((CART_COOKIE, id.to_string()))
        .path("/")
        .http_only(true)
        .secure(true)
        // The storefront and the API share one site: Lax keeps the cookie off
        // cross-site posts.
        .same_site(SameSite::Lax)
        .max_age(cookie::time::Duration::seconds(ANONYMOUS_CART_TTL_SECS))
        .build()
        .to_string()
}

/// The `cartId` cookie, if the request carries one; malformed is an error.
pub fn cart_cookie_owner(req: &Request) -> Result<Option<CartOwner>, ApiError> {
    for value in req.headers().get_all(header::COOKIE) {
        let Ok(text) = value.to_str() else {
            return Err(ApiError::BadRequest("unreadable Cookie header".into()));
        };
        for cookie in Cookie::split_parse(text).flatten() {
            if cookie.name() == CART_COOKIE {
                return Ok(Some(CartOwner::anonymous_from_cookie(cookie.value())?));
            }
        }
    }
    Ok(None)
}

fn authorization(req: &Request) -> Result<Option<&str>, ApiError> {
    match req.headers().get(header::AUTHORIZATION) {
        None => Ok(None),
        Some(value) => {
            let text = value.to_str().map_err(|_| ApiError::Unauthorized("unreadable header".into()))?;
            Ok(Some(text).filter(|t| !t.trim().is_empty()))
        }
    }
}

impl App {
    /// A present token must verify: a bad one is 401, never a silent fall-back
    /// to the anonymous cart.
    pub async fn caller(&self, req: &Request) -> Result<Caller, ApiError> {
        if let Some(token) = authorization(req)? {
            let identity = self.verifier.verify_header(token).await?;
            crate::api::note_caller(&identity);
            return Ok(Caller::User(identity));
        }
        let owner = cart_cookie_owner(req)?.unwrap_or_else(|| CartOwner::Anonymous(Uuid::new_v4()));
        Ok(Caller::Anonymous(owner))
    }

    pub async fn signed_in(&self, req: &Request) -> Result<Identity, ApiError> {
        let token = authorization(req)?.ok_or_else(|| ApiError::Unauthorized("no token".into()))?;
        let identity = self.verifier.verify_header(token).await?;
        crate::api::note_caller(&identity);
        Ok(identity)
    }

    /// A signed-in caller with admin rights, or the refusal (403).
    pub async fn admin(&self, req: &Request) -> Result<Identity, ApiError> {
        let identity = self.signed_in(req).await?;
        self.admin_rights(&identity).await?;
        Ok(identity)
    }

    /// Admin rights: the `admin` group and, where required (the default),
    /// an authenticator app on the account, read from Cognito (see
    /// `authenticator`). Cognito cannot require MFA of one group only.
    pub async fn admin_rights(&self, identity: &Identity) -> Result<(), ApiError> {
        if !identity.is_admin() {
            return Err(ApiError::Forbidden);
        }
        if !self.config.admin_mfa_required {
            return Ok(());
        }
        let username = identity.username.as_deref().unwrap_or(&identity.sub);
        if self.authenticators.has_totp(username).await? {
            Ok(())
        } else {
            Err(ApiError::MfaRequired)
        }
    }

    /// Whether a signed-in caller gets an admin's view (every stock counter,
    /// every order) where a shopper gets their own: an admin without an
    /// authenticator app gets the shopper's.
    pub async fn grants_admin(&self, identity: &Identity) -> Result<bool, ApiError> {
        match self.admin_rights(identity).await {
            Ok(()) => Ok(true),
            Err(ApiError::Forbidden | ApiError::MfaRequired) => Ok(false),
            Err(other) => Err(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Body2 {
        #[allow(dead_code)]
        quantity: i64,
    }

    fn request(body: &str, cookie: Option<&str>) -> Request {
        let mut builder = http::Request::builder().header("Content-Type", "application/json");
        if let Some(c) = cookie {
            builder = builder.header("Cookie", c);
        }
        builder.body(Body::Text(body.into())).unwrap()
    }

    fn message(err: ApiError) -> (u16, String) {
        let response = err.into_response("http://localhost:8080");
        let body = match response.body() {
            Body::Text(t) => t.clone(),
            _ => String::new(),
        };
        (
            response.status().as_u16(),
            serde_json::from_str::<serde_json::Value>(&body).unwrap()["message"].as_str().unwrap().to_owned(),
        )
    }

    #[test]
    fn bodies_are_parsed_with_clear_errors() {
        assert!(json_body::<Body2>(&request(r#"{"quantity": 2}"#, None)).is_ok());
        let cases = [
            ("", "a JSON body is required"),
            ("{", "malformed JSON body"),
            (r#"{"quantity": "2"}"#, "invalid body"),
            (r#"{}"#, "missing field `quantity`"),
        ];
        for (body, expected) in cases {
            let err = json_body::<Body2>(&request(body, None)).unwrap_err();
            let (status, text) = message(err);
            assert_eq!(status, 400);
            assert!(text.contains(expected), "{body:?}: {text}");
        }
        let big = format!(r#"{{"quantity": 1, "x": "{}"}}"#, "a".repeat(MAX_BODY_BYTES));
        assert_eq!(message(json_body::<Body2>(&request(&big, None)).unwrap_err()).0, 413);
    }

    #[test]
    fn only_a_body_that_says_it_is_json_is_read() {
        let with = |content_type: Option<&str>| {
            let mut builder = http::Request::builder();
            if let Some(t) = content_type {
                builder = builder.header("Content-Type", t);
            }
            json_body::<Body2>(&builder.body(Body::Text(r#"{"quantity": 2}"#.into())).unwrap())
        };
        assert!(with(Some("application/json")).is_ok());
        assert!(with(Some("Application/JSON; charset=utf-8")).is_ok());
        // What a cross-site HTML form can send, and nothing at all.
        for refused in
            [Some("text/plain"), Some("application/x-www-form-urlencoded"), Some("multipart/form-data"), None]
        {
            assert_eq!(message(with(refused).unwrap_err()).0, 415, "{refused:?}");
        }
    }

    #[test]
    fn answers_are_never_cached_or_sniffed() {
        let response = json_text_response(StatusCode::OK, "{}".into(), "http://localhost:8080");
        assert_eq!(response.headers()["cache-control"], "no-store");
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        let refused = ApiError::NotFound("x".into()).into_response("http://localhost:8080");
        assert_eq!(refused.headers()["cache-control"], "no-store");
    }

    #[test]
    fn an_admin_without_an_authenticator_is_told_how_to_add_one() {
        let (status, text) = message(ApiError::MfaRequired);
        assert_eq!(status, 403);
        assert!(text.contains("authenticator app") && text.contains("/account/security"), "{text}");
        assert_eq!(message(ApiError::Forbidden), (403, "this needs the admin group".into()));
    }

    #[test]
    fn internal_errors_never_reach_the_caller() {
        let (status, text) = message(ApiError::Store(StoreError::Backend("secret table arn:aws:...".into())));
        assert_eq!((status, text.as_str()), (500, "internal error"));
        let (status, text) = message(ApiError::Unauthorized("kid abc unknown".into()));
        assert_eq!((status, text.as_str()), (401, "invalid or expired token"));
        assert_eq!(message(ApiError::Store(StoreError::Conflict)).0, 409);
    }

    #[test]
    fn the_cart_cookie_is_found_among_others_and_checked() {
        let id = "6f1c7b1e-9f0a-4c51-9a43-6a4c0c5a1d2e";
        let found = cart_cookie_owner(&request("", Some(&format!("theme=dark; cartId={id}")))).unwrap();
        assert_eq!(found, Some(CartOwner::anonymous_from_cookie(id).unwrap()));
        assert_eq!(cart_cookie_owner(&request("", None)).unwrap(), None);
        assert!(cart_cookie_owner(&request("", Some("cartId=../../etc"))).is_err());
    }

    #[test]
    fn anonymous_callers_get_a_secure_cookie() {
        let id = Uuid::new_v4();
        let caller = Caller::Anonymous(CartOwner::Anonymous(id));
        let response = caller.finish(json_response(StatusCode::OK, &serde_json::json!({}), "*"));
        let cookie = response.headers()[header::SET_COOKIE].to_str().unwrap().to_owned();
        assert!(cookie.starts_with(&format!("cartId={id}")));
        for attr in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
            assert!(cookie.contains(attr), "{cookie}");
        }
    }
}
