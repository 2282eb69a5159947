//! The order's rules: what a checkout records, what it costs, and the only
//! transitions an order makes.

use serde::{Deserialize, Serialize};

use super::{CartOwner, DomainError};

/// Lines one checkout may reserve: the order, its idempotency key, the buyer's
/// pending-order count, each line's stock item and each cart line must fit in
/// one `TransactWriteItems` (at most 100 items).
pub const MAX_CHECKOUT_LINES: usize = 48;
/// DynamoDB's most items in one `TransactWriteItems`.
pub const MAX_TRANSACTION_ITEMS: usize = 100;
/// Orders one user may hold awaiting payment unless configured otherwise: a
/// checkout holds stock, and nobody may hoard it with unpaid orders.
pub const DEFAULT_MAX_PENDING_ORDERS: u32 = 3;
/// How long a checkout holds its reservation unless configured otherwise.
pub const DEFAULT_RESERVATION_HOLD_SECS: i64 = 15 * 60;
/// Units of one product one buyer may hold awaiting payment, over all their orders.
pub const DEFAULT_MAX_HELD_UNITS: u32 = 10;
/// How long a buyer waits, after an order of theirs ended unpaid (cancelled or
/// expired), to check its lines out again: the units go to others first.
pub const DEFAULT_RENEWAL_COOLDOWN_SECS: i64 = 60;
/// How long an order holding a sharded (hot) product's stock holds it.
pub const DEFAULT_HOT_HOLD_SECS: i64 = 5 * 60;

/// What one buyer may hold awaiting payment, and for how long: the rules that
/// keep one account from holding a hot product's whole stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HoldPolicy {
    /// How long a checkout holds its stock.
    pub hold_secs: i64,
    /// The same for an order holding a sharded (hot) product: shorter.
    pub hot_hold_secs: i64,
    /// Orders awaiting payment at once.
    pub max_pending: u32,
    /// Units of one product held awaiting payment at once.
    pub max_held_units: u32,
    /// The wait before checking the lines of an order that ended unpaid out again.
    pub renewal_cooldown_secs: i64,
}

impl HoldPolicy {
    /// How long an order holds its stock: shorter when it holds a hot product's.
    pub fn hold_for(&self, holds_a_hot_product: bool) -> i64 {
        if holds_a_hot_product {
            self.hold_secs.min(self.hot_hold_secs)
        } else {
            self.hold_secs
        }
    }
}

impl Default for HoldPolicy {
    fn default() -> Self {
        Self {
            hold_secs: DEFAULT_RESERVATION_HOLD_SECS,
            hot_hold_secs: DEFAULT_HOT_HOLD_SECS,
            max_pending: DEFAULT_MAX_PENDING_ORDERS,
            max_held_units: DEFAULT_MAX_HELD_UNITS,
            renewal_cooldown_secs: DEFAULT_RENEWAL_COOLDOWN_SECS,
        }
    }
}
pub const EXPIRED_REASON: &str = "payment not received in time";
pub const CANCELLED_REASON: &str = "cancelled by the buyer";
pub const RESERVATION_MISSING_REASON: &str = "its reserved stock was missing; any charge is refunded";
pub const REFUNDED_REASON: &str = "refunded by the shop";

/// Where an order is in its life. Only the transitions in
/// [`OrderStatus::can_become`] exist, each guarded by a condition on the
/// current status so that a retry or a race applies it at most once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    PendingPayment,
    Paid,
    Cancelled,
    Expired,
    /// Paid, then refunded in full by the shop: its units went back on sale.
    Refunded,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PendingPayment => "PENDING_PAYMENT",
            Self::Paid => "PAID",
            Self::Cancelled => "CANCELLED",
            Self::Expired => "EXPIRED",
            Self::Refunded => "REFUNDED",
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

/// A cart line at checkout and what it costs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderLine {
    pub product_id: String,
    pub name: String,
    pub quantity: i64,
    /// Price per unit in cents, as it was at checkout.
    pub unit_price: u64,
    /// The stock shards the units were reserved from (absent: all from the
    /// first, the only one a product had before shards).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taken: Vec<super::StockTake>,
}

impl OrderLine {
    /// Where the line's units were reserved: what its settlement moves.
    pub fn takes(&self) -> Vec<super::StockTake> {
        if self.taken.is_empty() {
            vec![super::StockTake { shard: 0, units: self.quantity }]
        } else {
            self.taken.clone()
        }
    }
}

/// An order's id: a UUIDv7, so a buyer's orders sort by the time they were
/// placed (its text, hyphenated and lowercase, sorts the same way).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrderId(uuid::Uuid);

impl OrderId {
    /// A new id, of now.
    pub fn new() -> Self {
        Self(uuid::Uuid::now_v7())
    }

    /// An id as a path or a cursor gives it: any UUID.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        uuid::Uuid::parse_str(raw).map(Self).map_err(|_| DomainError::InvalidOrderId)
    }
}

impl Default for OrderId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for OrderId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// An order: what a checkout reserved, for whom, until when, and how it ended.
/// (Stored with the same field names; the store adds its keys.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub order_id: OrderId,
    /// The buyer's Cognito `sub`.
    pub owner: String,
    pub status: OrderStatus,
    pub lines: Vec<OrderLine>,
    /// Cents.
    pub total: u64,
    pub created_at: i64,
    pub updated_at: i64,
    /// When an unpaid order's reservation ends.
    pub expires_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    /// This order counts toward its buyer's cap on orders awaiting payment:
    /// its checkout added one to the count, so its end takes one off. Orders
    /// made before the cap existed never added one, and take none off.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub counts_pending: bool,
    /// The order ended without a sale and any charge of it is still to be
    /// refunded: recorded by the transition that ended it, cleared once the
    /// provider confirms (the expiry sweeper retries until it does).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub refund_due: bool,
    /// For an order ending unpaid (cancelled, expired): until when its buyer
    /// may not check its products out again (the renewal cool-down), which
    /// the store records with the buyer's holdings. Not stored on the order.
    #[serde(skip)]
    pub renew_after: Option<i64>,
}

impl Order {
    /// The buyer whose order it is (and whose cart it came from).
    pub fn buyer(&self) -> Result<CartOwner, DomainError> {
        CartOwner::user(&self.owner)
    }

    /// The order as a transition from pending to `to` at `now` leaves it.
    pub fn settled(mut self, to: OrderStatus, now: i64, charge_id: Option<&str>, failure_reason: Option<&str>) -> Self {
        self.status = to;
        self.updated_at = now;
        if let Some(c) = charge_id {
            self.charge_id = Some(c.to_owned());
        }
        if let Some(r) = failure_reason {
            self.failure_reason = Some(r.to_owned());
        }
        self
    }

    /// Awaiting payment and still within its hold.
    pub fn is_payable(&self, now: i64) -> bool {
        self.status == OrderStatus::PendingPayment && now < self.expires_at
    }
}

/// A payment card as the provider's token names it: 1 to 64 letters, digits or '_'.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardToken(String);

impl CardToken {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let valid = (1..=64).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(DomainError::InvalidCardToken)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
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
mod tests {
    use super::*;

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
    fn card_tokens_are_short_and_plain() {
        assert!(CardToken::parse("tok_visa").is_ok());
        for bad in ["", "tok visa", "tok-visa", &"t".repeat(65)] {
            assert_eq!(CardToken::parse(bad), Err(DomainError::InvalidCardToken), "{bad}");
        }
    }

    #[test]
    fn totals_and_leftovers() {
        let lines = vec![
            OrderLine { product_id: "a".into(), name: "A".into(), quantity: 2, unit_price: 150, taken: Vec::new() },
            OrderLine { product_id: "b".into(), name: "B".into(), quantity: 1, unit_price: 99, taken: Vec::new() },
        ];
        assert_eq!(order_total(&lines), 399);
        assert_eq!(units_left_after_purchase(3, 2), 1);
        assert_eq!(units_left_after_purchase(2, 2), 0);
        assert_eq!(units_left_after_purchase(1, 2), 0);
    }
}
