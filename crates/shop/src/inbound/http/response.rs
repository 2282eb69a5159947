//! What every answer carries: a JSON body, the CORS headers, no caching,
//! and for an anonymous shopper the `cartId` cookie.

use cookie::{Cookie, SameSite};
use http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use serde::Serialize;
use uuid::Uuid;

use crate::domain::{CartOwner, ANONYMOUS_CART_TTL_SECS};

/// The anonymous cart's cookie (`request` reads it, answers set it).
pub const CART_COOKIE: &str = "cartId";

/// A successful answer: a JSON body (serialized straight from the handler's
/// values, without a `serde_json::Value` tree in between), and the anonymous
/// cart whose cookie it sets (or refreshes).
pub(super) struct Reply {
    status: StatusCode,
    body: String,
    cart_cookie: Option<Uuid>,
}

impl Reply {
    pub(super) fn ok(body: impl Serialize) -> Self {
        Self { status: StatusCode::OK, body: json_text(&body), cart_cookie: None }
    }

    pub(super) fn created(body: impl Serialize) -> Self {
        Self { status: StatusCode::CREATED, body: json_text(&body), cart_cookie: None }
    }

    /// An answer about `cart`: an anonymous cart's cookie goes with it.
    pub(super) fn for_cart(cart: &CartOwner, body: impl Serialize) -> Self {
        let cart_cookie = match cart {
            CartOwner::Anonymous(id) => Some(*id),
            CartOwner::User(_) => None,
        };
        Self { status: StatusCode::OK, body: json_text(&body), cart_cookie }
    }

    pub(super) fn into_response(self, origin: &str) -> Response<Body> {
        let response = json_text_response(self.status, self.body, origin);
        match self.cart_cookie {
            Some(id) => with_cart_cookie(id, response),
            None => response,
        }
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

/// Adds (or refreshes) an anonymous cart's `cartId` cookie.
fn with_cart_cookie(id: Uuid, mut response: Response<Body>) -> Response<Body> {
    if let Ok(value) = HeaderValue::from_str(&cart_cookie(id)) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_never_cached_or_sniffed() {
        let response = json_text_response(StatusCode::OK, "{}".into(), "http://localhost:8080");
        assert_eq!(response.headers()["cache-control"], "no-store");
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    }

    #[test]
    fn anonymous_callers_get_a_secure_cookie() {
        let id = Uuid::new_v4();
        let response = Reply::for_cart(&CartOwner::Anonymous(id), serde_json::json!({})).into_response("*");
        let cookie = response.headers()[header::SET_COOKIE].to_str().unwrap().to_owned();
        assert!(cookie.starts_with(&format!("cartId={id}")));
        for attr in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
            assert!(cookie.contains(attr), "{cookie}");
        }
        let signed_in = Reply::for_cart(&CartOwner::user("u1").unwrap(), serde_json::json!({})).into_response("*");
        assert!(signed_in.headers().get(header::SET_COOKIE).is_none(), "a user's cart has no cookie");
    }
}
