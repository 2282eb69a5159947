//! The cart's rules, free of I/O: identities of carts and products, quantity
//! arithmetic, expiry, and what a cart line contributes to per-product totals.

use serde::Serialize;
use uuid::Uuid;

/// Anonymous cart lines live one day after their last change.
pub const ANONYMOUS_CART_TTL_SECS: i64 = 24 * 60 * 60;
/// Signed-in cart lines live seven days after their last change.
pub const USER_CART_TTL_SECS: i64 = 7 * 24 * 60 * 60;
/// Units one cart line may hold: keeps a typo (or an attacker) from parking the stock.
pub const MAX_LINE_QUANTITY: i64 = 100;
const MAX_PRODUCT_ID_LEN: usize = 64;
const MAX_SUB_LEN: usize = 128;

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
    #[error("Idempotency-Key must be 1 to 64 printable characters")]
    InvalidIdempotencyKey,
    #[error("delta must be a non-zero whole number of units, at most {MAX_RESTOCK_DELTA} either way")]
    InvalidRestockDelta,
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

    /// Partition key of everything stored about this product.
    pub fn partition_key(&self) -> String {
        format!("{PRODUCT_PREFIX}{}", self.0)
    }

    /// Sort key of this product's line in any cart.
    pub fn cart_line_sort_key(&self) -> String {
        format!("{PRODUCT_PREFIX}{}", self.0)
    }

    /// The product a cart line or product key refers to.
    pub fn from_key(key: &str) -> Option<Self> {
        key.strip_prefix(PRODUCT_PREFIX).and_then(|id| Self::parse(id).ok())
    }
}

impl std::fmt::Display for ProductId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub const PRODUCT_PREFIX: &str = "product#";
pub const ANONYMOUS_CART_PREFIX: &str = "cart#";
pub const USER_PREFIX: &str = "user#";

/// Whose cart: an anonymous shopper's (by cookie) or a signed-in user's (by `sub`).
#[derive(Debug, Clone, PartialEq, Eq)]
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

    pub fn partition_key(&self) -> String {
        match self {
            Self::Anonymous(id) => format!("{ANONYMOUS_CART_PREFIX}{id}"),
            Self::User(sub) => format!("{USER_PREFIX}{sub}"),
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

    pub fn is_cart_partition_key(pk: &str) -> bool {
        pk.starts_with(ANONYMOUS_CART_PREFIX) || pk.starts_with(USER_PREFIX)
    }
}

/// A `POST /cart` change: `quantity` units more (or fewer, when negative).
pub fn validate_delta(delta: i64) -> Result<i64, DomainError> {
    match delta {
        0 => Err(DomainError::ZeroQuantity),
        d if d.abs() > MAX_LINE_QUANTITY => Err(DomainError::QuantityOutOfRange),
        d => Ok(d),
    }
}

/// A `PUT /cart/{id}` target quantity; 0 removes the line.
pub fn validate_target(quantity: i64) -> Result<i64, DomainError> {
    if (0..=MAX_LINE_QUANTITY).contains(&quantity) {
        Ok(quantity)
    } else {
        Err(DomainError::QuantityOutOfRange)
    }
}

/// Applies a delta to a line: never below zero, never above the line limit.
pub fn apply_delta(current: i64, delta: i64) -> Result<i64, DomainError> {
    let next = (current + delta).max(0);
    if next > MAX_LINE_QUANTITY {
        Err(DomainError::LineTooLarge)
    } else {
        Ok(next)
    }
}

/// Quantity after merging an anonymous line into the user's line. Capped at the
/// line limit rather than failing: a login must never lose the user's cart.
pub fn merge_quantities(user_line: i64, anonymous_line: i64) -> i64 {
    (user_line + anonymous_line).min(MAX_LINE_QUANTITY)
}

/// The state of a stored cart line that decides whether a shopper sees it and
/// what it adds to the product's cart total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineState {
    pub quantity: i64,
    pub expiration_time: i64,
    pub migrated: bool,
}

impl LineState {
    /// A shopper sees (and migration moves) only lines that are neither expired
    /// (whether or not DynamoDB's TTL has deleted them yet) nor already migrated.
    pub fn is_live(&self, now: i64) -> bool {
        self.quantity > 0 && !self.migrated && self.expiration_time > now
    }

    /// Units this line adds to the product's cart total. A migrated line counts
    /// zero: its units now sit in the user's line. Expired lines still count
    /// until TTL deletes them (the stream then reports the removal).
    pub fn counted_units(&self) -> i64 {
        if self.migrated {
            0
        } else {
            self.quantity.max(0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(quantity: i64, expiration_time: i64, migrated: bool) -> LineState {
        LineState { quantity, expiration_time, migrated }
    }

    #[test]
    fn product_ids_are_short_and_safe() {
        assert!(ProductId::parse("4c1fadaa-213a-4ea8-aa32-58c217604e3c").is_ok());
        assert!(ProductId::parse("abc_DEF-123").is_ok());
        for bad in ["", "a#b", "a b", "ä", "../x", &"x".repeat(65)] {
            assert_eq!(ProductId::parse(bad), Err(DomainError::InvalidProductId), "{bad}");
        }
    }

    #[test]
    fn keys_round_trip() {
        let id = ProductId::parse("p1").unwrap();
        assert_eq!(id.partition_key(), "product#p1");
        assert_eq!(ProductId::from_key(&id.cart_line_sort_key()), Some(id));
        assert_eq!(ProductId::from_key("meta"), None);
    }

    #[test]
    fn owners_have_distinct_keys_and_ttls() {
        let anon = CartOwner::anonymous_from_cookie("6f1c7b1e-9f0a-4c51-9a43-6a4c0c5a1d2e").unwrap();
        assert_eq!(anon.partition_key(), "cart#6f1c7b1e-9f0a-4c51-9a43-6a4c0c5a1d2e");
        assert_eq!(anon.line_expiration(100), 100 + 86_400);
        let user = CartOwner::user("abc-123").unwrap();
        assert_eq!(user.partition_key(), "user#abc-123");
        assert_eq!(user.line_expiration(0), 7 * 86_400);
        assert!(CartOwner::is_cart_partition_key(&anon.partition_key()));
        assert!(!CartOwner::is_cart_partition_key("product#x"));
    }

    #[test]
    fn bad_cookies_and_subs_are_refused() {
        assert_eq!(CartOwner::anonymous_from_cookie("nope"), Err(DomainError::InvalidCartId));
        assert_eq!(CartOwner::user(""), Err(DomainError::InvalidUserId));
        assert_eq!(CartOwner::user("a#b"), Err(DomainError::InvalidUserId));
    }

    #[test]
    fn deltas_never_go_below_zero_or_above_the_limit() {
        assert_eq!(apply_delta(1, -1), Ok(0));
        assert_eq!(apply_delta(0, -1), Ok(0));
        assert_eq!(apply_delta(2, -5), Ok(0));
        assert_eq!(apply_delta(2, 3), Ok(5));
        assert_eq!(apply_delta(99, 2), Err(DomainError::LineTooLarge));
        assert_eq!(validate_delta(0), Err(DomainError::ZeroQuantity));
        assert_eq!(validate_delta(-101), Err(DomainError::QuantityOutOfRange));
        assert_eq!(validate_delta(-1), Ok(-1));
        assert_eq!(validate_target(0), Ok(0));
        assert_eq!(validate_target(-1), Err(DomainError::QuantityOutOfRange));
        assert_eq!(validate_target(101), Err(DomainError::QuantityOutOfRange));
    }

    #[test]
    fn merging_adds_and_caps() {
        assert_eq!(merge_quantities(2, 3), 5);
        assert_eq!(merge_quantities(0, 4), 4);
        assert_eq!(merge_quantities(90, 20), MAX_LINE_QUANTITY);
    }

    #[test]
    fn expired_or_migrated_lines_are_not_live() {
        assert!(line(1, 101, false).is_live(100));
        assert!(!line(1, 100, false).is_live(100));
        assert!(!line(1, 101, true).is_live(100));
        assert!(!line(0, 101, false).is_live(100));
    }
}

/// Lines one checkout may reserve: the order, each line's stock item and each
/// cart line must fit in one `TransactWriteItems` (at most 100 items).
pub const MAX_CHECKOUT_LINES: usize = 49;
/// How long a checkout holds its reservation unless configured otherwise.
pub const DEFAULT_RESERVATION_HOLD_SECS: i64 = 15 * 60;
const MAX_IDEMPOTENCY_KEY_LEN: usize = 64;
/// Largest single restock delta (either way).
pub const MAX_RESTOCK_DELTA: i64 = 1_000_000;

/// A product's stock counters. Every change is a conditional write; the sum
/// `available + reserved + sold` always equals `added`, all stock ever added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
pub struct StockLevels {
    pub available: i64,
    pub reserved: i64,
    pub sold: i64,
    pub added: i64,
}

impl StockLevels {
    /// What is wrong with these counters, if anything.
    pub fn violation(&self) -> Option<String> {
        if self.available < 0 || self.reserved < 0 || self.sold < 0 || self.added < 0 {
            return Some(format!("negative counter: {self:?}"));
        }
        if self.available + self.reserved + self.sold != self.added {
            return Some(format!(
                "available {} + reserved {} + sold {} != added {}",
                self.available, self.reserved, self.sold, self.added
            ));
        }
        None
    }
}

/// Where an order is in its life. Only the transitions in
/// [`OrderStatus::can_become`] exist, each guarded by a condition on the
/// current status so that a retry or a race applies it at most once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    PendingPayment,
    Paid,
    Cancelled,
    Expired,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PendingPayment => "PENDING_PAYMENT",
            Self::Paid => "PAID",
            Self::Cancelled => "CANCELLED",
            Self::Expired => "EXPIRED",
        }
    }

    pub fn can_become(self, next: OrderStatus) -> bool {
        self == Self::PendingPayment && next != Self::PendingPayment
    }

    /// What the transition does to the reservation: commit it (sold) or
    /// release it (back to available).
    pub fn settles_stock_as_sold(self) -> bool {
        self == Self::Paid
    }
}

/// The `Idempotency-Key` header: printable ASCII, short.
pub fn validate_idempotency_key(key: &str) -> Result<&str, DomainError> {
    let valid = !key.is_empty() && key.len() <= MAX_IDEMPOTENCY_KEY_LEN && key.bytes().all(|b| b.is_ascii_graphic());
    if valid {
        Ok(key)
    } else {
        Err(DomainError::InvalidIdempotencyKey)
    }
}

pub fn validate_restock_delta(delta: i64) -> Result<i64, DomainError> {
    if delta == 0 || delta.abs() > MAX_RESTOCK_DELTA {
        Err(DomainError::InvalidRestockDelta)
    } else {
        Ok(delta)
    }
}

/// A cart line at checkout and what it costs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderLine {
    pub product_id: String,
    pub name: String,
    pub quantity: i64,
    /// Price per unit in cents, as it was at checkout.
    pub unit_price: u64,
}

pub fn order_total(lines: &[OrderLine]) -> u64 {
    lines.iter().map(|l| l.unit_price * l.quantity.max(0) as u64).sum()
}

/// Units of a product left in a cart line after an order for `bought` of
/// them was paid: units added after checkout stay.
pub fn units_left_after_purchase(in_cart: i64, bought: i64) -> i64 {
    (in_cart - bought).max(0)
}

#[cfg(test)]
mod store_tests {
    use super::*;

    #[test]
    fn stock_invariant_is_checked() {
        let ok = StockLevels { available: 5, reserved: 2, sold: 3, added: 10 };
        assert_eq!(ok.violation(), None);
        assert!(StockLevels { available: 5, reserved: 2, sold: 3, added: 11 }.violation().is_some());
        assert!(StockLevels { available: -1, reserved: 1, sold: 0, added: 0 }.violation().is_some());
    }

    #[test]
    fn only_pending_orders_move() {
        use OrderStatus::*;
        for next in [Paid, Cancelled, Expired] {
            assert!(PendingPayment.can_become(next));
            for from in [Paid, Cancelled, Expired] {
                assert!(!from.can_become(next), "{from:?} -> {next:?}");
            }
        }
        assert!(Paid.settles_stock_as_sold());
        assert!(!Expired.settles_stock_as_sold());
    }

    #[test]
    fn totals_and_leftovers() {
        let lines = vec![
            OrderLine { product_id: "a".into(), name: "A".into(), quantity: 2, unit_price: 150 },
            OrderLine { product_id: "b".into(), name: "B".into(), quantity: 1, unit_price: 99 },
        ];
        assert_eq!(order_total(&lines), 399);
        assert_eq!(units_left_after_purchase(3, 2), 1);
        assert_eq!(units_left_after_purchase(2, 2), 0);
        assert_eq!(units_left_after_purchase(1, 2), 0);
    }

    #[test]
    fn idempotency_keys_and_restock_deltas_are_checked() {
        assert!(validate_idempotency_key("order-2026-11-21-abc").is_ok());
        assert!(validate_idempotency_key("").is_err());
        assert!(validate_idempotency_key("has space").is_err());
        assert!(validate_idempotency_key(&"k".repeat(65)).is_err());
        assert!(validate_restock_delta(0).is_err());
        assert!(validate_restock_delta(-5).is_ok());
        assert!(validate_restock_delta(MAX_RESTOCK_DELTA + 1).is_err());
    }
}
