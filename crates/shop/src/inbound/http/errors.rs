//! The one place errors become responses: every layer's error mapped to a
//! status and a message the caller may read (our faults logged, never shown).

use http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use serde::Serialize;
use serde_json::json;

use super::response::json_response;
use super::views::{Availability, Available, ExistingReview, OrderAnswer, ShortLines};
use crate::domain::DomainError;
use crate::outbound::cognito::tokens::AuthError;
use crate::outbound::dynamodb::cursor::CursorError;
use crate::use_cases::cart::CartError;
use crate::use_cases::catalog::CatalogError;
use crate::use_cases::checkout::CheckoutError;
use crate::use_cases::payment::OrderError;
use crate::use_cases::ports::PaymentError;
use crate::use_cases::reviews::ReviewError;
use crate::use_cases::StoreError;

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
    #[error("request body larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
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
            // Logged with both sides by the adapter; the caller learns only this.
            OrderError::Payment(PaymentError::Mismatch(_)) => {
                Self::Conflict("the payment does not match the order: nothing was sold".into())
            }
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

impl From<CursorError> for ApiError {
    fn from(_: CursorError) -> Self {
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
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
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

/// The status and the `message` an error answers (tests here and in `request`).
#[cfg(test)]
pub(super) fn status_and_message(err: ApiError) -> (u16, String) {
    let response = err.into_response("http://localhost:8080");
    let body = match response.body() {
        Body::Text(t) => t.clone(),
        _ => String::new(),
    };
    let json: serde_json::Value = serde_json::from_str(&body).expect("a JSON body");
    (response.status().as_u16(), json["message"].as_str().expect("a message").to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::status_and_message as message;

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
    fn refusals_are_never_cached_either() {
        let refused = ApiError::NotFound("x".into()).into_response("http://localhost:8080");
        assert_eq!(refused.headers()["cache-control"], "no-store");
    }
}
