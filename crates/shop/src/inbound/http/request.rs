//! What a request says: its JSON body, path and query parameters, the
//! idempotency key, the `cartId` cookie, and who the caller is (a verified
//! Cognito token, or an anonymous shopper by cookie).

use cookie::Cookie;
use http::header;
use lambda_http::{Body, Request, RequestExt};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::errors::ApiError;
use super::response::CART_COOKIE;
use crate::app::App;
use crate::domain::CartOwner;
use crate::outbound::cognito::tokens::Identity;

/// Request bodies above this are refused before parsing.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

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
        return Err(ApiError::PayloadTooLarge { limit: MAX_BODY_BYTES });
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

/// The caller's verified identity joins the request's tracing span: every
/// log line of the request names who made it (the audit trail of who
/// changed prices and stock).
pub(super) fn record_caller(identity: &Identity) {
    let span = tracing::Span::current();
    span.record("caller", identity.sub.as_str());
    span.record("admin", identity.is_admin());
}

/// Who is calling: a present token must verify (a bad one is 401, never a
/// silent fall-back to the anonymous cart); without one, the cookie's cart.
pub(super) async fn caller(app: &App, req: &Request) -> Result<Caller, ApiError> {
    if let Some(token) = authorization(req)? {
        let identity = app.verifier.verify_header(token).await?;
        record_caller(&identity);
        return Ok(Caller::User(identity));
    }
    let owner = cart_cookie_owner(req)?.unwrap_or_else(|| CartOwner::Anonymous(Uuid::new_v4()));
    Ok(Caller::Anonymous(owner))
}

/// A signed-in caller, or the refusal (401).
pub(super) async fn signed_in(app: &App, req: &Request) -> Result<Identity, ApiError> {
    let token = authorization(req)?.ok_or_else(|| ApiError::Unauthorized("no token".into()))?;
    let identity = app.verifier.verify_header(token).await?;
    record_caller(&identity);
    Ok(identity)
}

/// A signed-in caller with admin rights, or the refusal (403).
pub(super) async fn admin(app: &App, req: &Request) -> Result<Identity, ApiError> {
    let identity = signed_in(app, req).await?;
    admin_rights(app, &identity).await?;
    Ok(identity)
}

/// Admin rights: the `admin` group and, where required (the default), an
/// authenticator app on the account, read from Cognito (see
/// `outbound::cognito::authenticators`). Cognito cannot require MFA of one
/// group only.
pub(super) async fn admin_rights(app: &App, identity: &Identity) -> Result<(), ApiError> {
    if !identity.is_admin() {
        return Err(ApiError::Forbidden);
    }
    if !app.config.admin_mfa_required {
        return Ok(());
    }
    let username = identity.username.as_deref().unwrap_or(&identity.sub);
    if app.authenticators.has_totp(username).await? {
        Ok(())
    } else {
        Err(ApiError::MfaRequired)
    }
}

/// Whether a signed-in caller gets an admin's view (every stock counter,
/// every order) where a shopper gets their own: an admin without an
/// authenticator app gets the shopper's.
pub(super) async fn grants_admin(app: &App, identity: &Identity) -> Result<bool, ApiError> {
    match admin_rights(app, identity).await {
        Ok(()) => Ok(true),
        Err(ApiError::Forbidden | ApiError::MfaRequired) => Ok(false),
        Err(other) => Err(other),
    }
}

pub(super) fn query_param(req: &Request, name: &str) -> Option<String> {
    req.query_string_parameters_ref().and_then(|q| q.first(name)).map(str::to_owned)
}

/// `limit` between 1 and `max` (default `default`).
pub(super) fn page_limit(req: &Request, default: i32, max: i32) -> Result<i32, ApiError> {
    match query_param(req, "limit") {
        None => Ok(default),
        Some(raw) => raw
            .parse::<i32>()
            .ok()
            .filter(|l| (1..=max).contains(l))
            .ok_or_else(|| ApiError::BadRequest(format!("limit must be a whole number from 1 to {max}"))),
    }
}

/// The `Idempotency-Key` header: a retried request with the same key has the
/// effect of one.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

pub(super) fn idempotency_key(req: &Request) -> Result<Option<String>, ApiError> {
    match req.headers().get(IDEMPOTENCY_HEADER) {
        None => Ok(None),
        Some(v) => {
            let text = v.to_str().map_err(|_| ApiError::BadRequest("unreadable Idempotency-Key".into()))?;
            Ok(Some(crate::domain::validate_idempotency_key(text)?.to_owned()))
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

    use super::super::errors::status_and_message as message;

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
    fn the_cart_cookie_is_found_among_others_and_checked() {
        let id = "6f1c7b1e-9f0a-4c51-9a43-6a4c0c5a1d2e";
        let found = cart_cookie_owner(&request("", Some(&format!("theme=dark; cartId={id}")))).unwrap();
        assert_eq!(found, Some(CartOwner::anonymous_from_cookie(id).unwrap()));
        assert_eq!(cart_cookie_owner(&request("", None)).unwrap(), None);
        assert!(cart_cookie_owner(&request("", Some("cartId=../../etc"))).is_err());
    }
}
