//! The shop's rules and types, free of I/O and of storage formats: the
//! identities of carts and products, the cart's quantity rules, the catalog's
//! stock counters and the order's life. The store adds its keys to these.

use serde::Serialize;
use uuid::Uuid;

pub(crate) mod cart;
mod catalog;
mod order;
mod review;
mod stock;
mod totals;

pub use cart::*;
pub use catalog::*;
pub use order::*;
pub use review::*;
pub use stock::*;
pub use totals::*;

const MAX_PRODUCT_ID_LEN: usize = 64;
const MAX_SUB_LEN: usize = 128;
const MAX_IDEMPOTENCY_KEY_LEN: usize = 64;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DomainError {
    #[error("product id must be 1 to {MAX_PRODUCT_ID_LEN} letters, digits, '-' or '_'")]
    InvalidProductId,
    #[error("quantity must not be 0")]
    ZeroQuantity,
    #[error("quantity must be between -{MAX_LINE_QUANTITY} and {MAX_LINE_QUANTITY}")]
    QuantityOutOfRange,
    #[error("a cart line holds at most {MAX_LINE_QUANTITY} units")]
    LineTooLarge,
    #[error("cartId cookie must be a UUID")]
    InvalidCartId,
    #[error("invalid user id")]
    InvalidUserId,
    #[error("Idempotency-Key must be 1 to 64 letters, digits, '-' or '_'")]
    InvalidIdempotencyKey,
    #[error("delta must be a non-zero whole number of units, at most {MAX_RESTOCK_DELTA} either way")]
    InvalidRestockDelta,
    #[error("cardToken must be 1 to 64 letters, digits or '_'")]
    InvalidCardToken,
    #[error("rating must be a whole number of stars from 1 to 5")]
    InvalidRating,
    #[error("title must be 1 to {MAX_TITLE_CHARS} characters")]
    InvalidReviewTitle,
    #[error("body must be at most {MAX_BODY_CHARS} characters")]
    InvalidReviewBody,
    #[error("displayName must be 1 to {MAX_DISPLAY_NAME_CHARS} characters and not an email address")]
    InvalidDisplayName,
    #[error("review text must not hold control characters")]
    ControlCharacters,
    #[error("order id must be a UUID")]
    InvalidOrderId,
    #[error("review id must be a UUID")]
    InvalidReviewId,
    #[error("shards must be a whole number from 1 to {MAX_STOCK_SHARDS}")]
    InvalidShardCount,
    #[error("category must be 1 to {MAX_CATEGORY_LEN} lowercase letters, digits or '-'")]
    InvalidCategory,
    #[error("name must be 1 to {MAX_NAME_LEN} characters")]
    InvalidProductName,
    #[error("description must be at most {MAX_DESCRIPTION_LEN} characters")]
    InvalidDescription,
    #[error("price must be 1 to {MAX_PRICE_CENTS} cents")]
    InvalidPrice,
    #[error("at most {MAX_PICTURES} pictures, each a URL of at most {MAX_PICTURE_URL_LEN} characters")]
    InvalidPictures,
    #[error("at most {MAX_TAGS} tags of 1 to {MAX_TAG_LEN} characters")]
    InvalidTags,
    #[error("initialStock must be 0 to {MAX_INITIAL_STOCK}")]
    InvalidInitialStock,
}

/// A catalog product id: short, printable, safe inside a key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ProductId(String);

impl ProductId {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let valid = !raw.is_empty()
            && raw.len() <= MAX_PRODUCT_ID_LEN
            && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(DomainError::InvalidProductId)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ProductId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whose cart: an anonymous shopper's (by cookie) or a signed-in user's (by `sub`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CartOwner {
    Anonymous(Uuid),
    User(String),
}

impl CartOwner {
    /// Parses the `cartId` cookie value: a UUID, nothing else.
    pub fn anonymous_from_cookie(value: &str) -> Result<Self, DomainError> {
        Uuid::parse_str(value).map(Self::Anonymous).map_err(|_| DomainError::InvalidCartId)
    }

    pub fn user(sub: &str) -> Result<Self, DomainError> {
        let valid =
            !sub.is_empty() && sub.len() <= MAX_SUB_LEN && sub.bytes().all(|b| b.is_ascii_graphic() && b != b'#');
        if valid {
            Ok(Self::User(sub.to_owned()))
        } else {
            Err(DomainError::InvalidUserId)
        }
    }

    pub fn line_ttl_secs(&self) -> i64 {
        match self {
            Self::Anonymous(_) => ANONYMOUS_CART_TTL_SECS,
            Self::User(_) => USER_CART_TTL_SECS,
        }
    }

    /// When a line changed at `now` expires.
    pub fn line_expiration(&self, now: i64) -> i64 {
        now + self.line_ttl_secs()
    }
}

/// The `Idempotency-Key` header: `^[A-Za-z0-9_-]{1,64}$`, as the contract
/// says (no key separator, no path or list characters).
pub fn validate_idempotency_key(key: &str) -> Result<&str, DomainError> {
    let valid = !key.is_empty()
        && key.len() <= MAX_IDEMPOTENCY_KEY_LEN
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid {
        Ok(key)
    } else {
        Err(DomainError::InvalidIdempotencyKey)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_ids_are_short_and_safe() {
        assert!(ProductId::parse("4c1fadaa-213a-4ea8-aa32-58c217604e3c").is_ok());
        assert!(ProductId::parse("abc_DEF-123").is_ok());
        for bad in ["", "a#b", "a b", "ä", "../x", &"x".repeat(65)] {
            assert_eq!(ProductId::parse(bad), Err(DomainError::InvalidProductId), "{bad}");
        }
    }

    #[test]
    fn owners_have_their_ttls() {
        let anon = CartOwner::anonymous_from_cookie("6f1c7b1e-9f0a-4c51-9a43-6a4c0c5a1d2e").unwrap();
        assert_eq!(anon.line_expiration(100), 100 + 86_400);
        let user = CartOwner::user("abc-123").unwrap();
        assert_eq!(user.line_expiration(0), 7 * 86_400);
    }

    #[test]
    fn bad_cookies_and_subs_are_refused() {
        assert_eq!(CartOwner::anonymous_from_cookie("nope"), Err(DomainError::InvalidCartId));
        assert_eq!(CartOwner::user(""), Err(DomainError::InvalidUserId));
        assert_eq!(CartOwner::user("a#b"), Err(DomainError::InvalidUserId));
    }

    #[test]
    fn idempotency_keys_are_checked() {
        assert!(validate_idempotency_key("order-2026-11-21-abc").is_ok());
        assert!(validate_idempotency_key("").is_err());
        assert!(validate_idempotency_key("has space").is_err());
        assert!(validate_idempotency_key(&"k".repeat(65)).is_err());
        for outside_the_contract in ["a,b", "../x", "k*", "order#1", "k.1", "é"] {
            assert!(validate_idempotency_key(outside_the_contract).is_err(), "{outside_the_contract}");
        }
        assert!(validate_idempotency_key("6f1c7b1e-9f0a-4c51_x").is_ok());
    }
}
