//! What the use cases need from the world, as traits: the store (carts and
//! orders), the payment provider and the clock. The DynamoDB store, the
//! sandbox provider and the system clock implement them for the Lambdas; the
//! use cases' unit tests implement them with scripted answers.

use std::collections::HashMap;
use std::future::Future;

use crate::domain::{
    CartLine, CartOwner, HoldPolicy, Order, OrderId, Product, ProductId, ProductPatch, Review, StockLevels, StockShards,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A condition on the item's current state failed: someone else changed it.
    #[error("the item changed concurrently")]
    Conflict,
    /// DynamoDB throttled the write (a hot partition) or another transaction
    /// held one of its items: nothing was written; the same write may succeed
    /// a moment later.
    #[error("the store is contended (throttled, or an item is held by another transaction)")]
    Contended,
    /// An order's transition found a stock shard holding fewer units
    /// reserved than the order took there: its reservation is gone (a repair
    /// or a hand edit took it), so the units cannot be sold or released.
    #[error("the order's reserved stock is missing")]
    ReservationMissing,
    #[error("store: {0}")]
    Backend(String),
    #[error("stored item is malformed: {0}")]
    Malformed(String),
}

/// Epoch seconds now.
pub trait Clock: Send + Sync {
    fn now(&self) -> i64;
}

/// The clock the functions run on.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        crate::clock::now_epoch_secs()
    }
}

/// A clock stopped at one instant: a sweep that runs "as of" a time, and tests.
pub struct FixedClock(pub i64);

impl Clock for FixedClock {
    fn now(&self) -> i64 {
        self.0
    }
}

/// What a cart change reads first, in one request: the product, what is
/// available of it and the owner's stored line (live or not).
#[derive(Debug, Clone, Default)]
pub struct LineContext {
    pub product: Option<Product>,
    pub available: i64,
    pub line: Option<CartLine>,
}

/// One anonymous line merged into the user's cart: the user's line becomes
/// `merged` (if still at `user_version`, `None`: absent) and the anonymous
/// line, at the version read, is marked migrated.
#[derive(Debug, Clone)]
pub struct LineMove {
    pub anonymous: CartLine,
    pub merged: CartLine,
    pub user_version: Option<u64>,
}

/// Units added to a live line in one conditional update, without reading its
/// version first: concurrent additions all count.
#[derive(Debug, Clone)]
pub struct LineAddition<'a> {
    pub product_id: &'a ProductId,
    pub delta: i64,
    /// The request as the line remembers it (`remembered_request`): the line
    /// must not remember it yet, and will.
    pub request: Option<&'a str>,
    /// The most units the line may hold before the addition (line limit and stock).
    pub most_before: i64,
    pub now: i64,
    pub expires_at: i64,
    pub product: &'a Product,
}

/// Carts. Every write is conditional on the version read (`Conflict` when
/// another writer won), but for additions to a live line.
pub trait CartStore: Send + Sync {
    /// All stored lines of a cart, live or not, reading the caller's own writes.
    fn cart_lines(&self, owner: &CartOwner) -> impl Future<Output = Result<Vec<CartLine>, StoreError>> + Send;
    fn line_context(
        &self,
        owner: &CartOwner,
        id: &ProductId,
    ) -> impl Future<Output = Result<LineContext, StoreError>> + Send;
    /// Writes `line` if the stored one is still at `read_version` (`None`: absent).
    fn put_cart_line(
        &self,
        owner: &CartOwner,
        line: &CartLine,
        read_version: Option<u64>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Adds to a line that is still live (neither migrated nor expired at
    /// `now`), holds at most `most_before` units and does not remember the
    /// request (which it then remembers); the quantity after, or `Conflict`
    /// when any of that does not hold.
    fn add_to_line(
        &self,
        owner: &CartOwner,
        addition: &LineAddition<'_>,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    fn delete_cart_line(
        &self,
        owner: &CartOwner,
        id: &ProductId,
        read_version: u64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Applies every move atomically (per transaction's worth of lines).
    fn migrate_lines(
        &self,
        anonymous: &CartOwner,
        user: &CartOwner,
        moves: &[LineMove],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// How a checkout transaction ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckoutOutcome {
    Created,
    /// The idempotency key was used before: the earlier order stands.
    KeyUsed,
    /// These lines (indexes into the order's lines) lacked stock.
    Short(Vec<usize>),
    /// A cart line changed since it was read (another checkout, an edit).
    CartChanged,
    /// The buyer already holds the most pending orders allowed.
    TooManyPending,
    /// The buyer would hold more units of this product awaiting payment
    /// than allowed: they hold `held` already.
    TooManyHeld {
        product_id: String,
        held: i64,
    },
    /// An order of this product by this buyer ended unpaid a moment ago: it
    /// may be checked out again from `until` (epoch seconds).
    CoolingDown {
        product_id: String,
        until: i64,
    },
}

/// What a paid order does to a cart line: units bought leave the cart.
#[derive(Debug, Clone)]
pub struct CartAdjustment {
    pub line: CartLine,
    pub quantity_after: i64,
}

/// Orders and the stock they reserve.
pub trait OrderStore: CartStore {
    /// Catalog entries by id (missing ids are absent).
    fn products(&self, ids: &[ProductId]) -> impl Future<Output = Result<HashMap<String, Product>, StoreError>> + Send;
    /// Each stock shard's counters (index: shard) of a product split as
    /// `shards` says, strongly consistent.
    fn shard_stocks(
        &self,
        id: &ProductId,
        shards: StockShards,
    ) -> impl Future<Output = Result<Vec<StockLevels>, StoreError>> + Send;
    fn order(
        &self,
        buyer: &CartOwner,
        order_id: &OrderId,
    ) -> impl Future<Output = Result<Option<Order>, StoreError>> + Send;
    /// The order an idempotency key created, if it was used.
    fn order_for_key(
        &self,
        buyer: &CartOwner,
        key: &str,
    ) -> impl Future<Output = Result<Option<Order>, StoreError>> + Send;
    /// Records the order (and its idempotency key), counts it and its units
    /// among the buyer's holdings (if within the policy's `max_pending` and
    /// `max_held_units`), reserves every
    /// line's stock (from the shards each line's `takes` name) and marks the
    /// cart lines checked out, in one transaction. `Short` names the lines
    /// one of whose shards held too few.
    fn checkout(
        &self,
        order: &Order,
        cart_lines: &[CartLine],
        policy: &HoldPolicy,
    ) -> impl Future<Output = Result<CheckoutOutcome, StoreError>> + Send;
    /// Writes `settled`, the pending `order` after its transition (see
    /// `Order::settled`), takes it and its units off the buyer's holdings and settles
    /// its reservation (sold for PAID, released otherwise) with the cart
    /// adjustments, in one transaction;
    /// `Conflict` when it is no longer pending or a line changed,
    /// `ReservationMissing` when a shard no longer holds its units reserved.
    fn settle_order(
        &self,
        order: &Order,
        settled: &Order,
        cart: &[CartAdjustment],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Ends a pending order (cancelled or expired) whose reservation is
    /// missing, touching no stock: there is nothing reserved to release.
    /// `Conflict` when it is no longer pending.
    fn end_order_without_stock(
        &self,
        order: &Order,
        ended: &Order,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Clears an ended order's `refund_due` once the provider confirmed the
    /// refund (or that there was nothing to refund); `Conflict` if already clear.
    fn refund_done(&self, order: &Order) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Any buyer's order, by id (an admin's view).
    fn order_by_id(&self, order_id: &OrderId) -> impl Future<Output = Result<Option<Order>, StoreError>> + Send;
    /// Refunds a paid order in one transaction: the order becomes `refunded`
    /// (its refund recorded as due, on condition it is still PAID:
    /// `Conflict`), and each unit sold goes back to its shard's available
    /// stock (`ReservationMissing` if a shard no longer counts it sold).
    fn refund_paid_order(&self, paid: &Order, refunded: &Order) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Records an ended order's refund as due (a charge arrived after it
    /// ended): the expiry sweeper retries it until the provider confirms.
    /// `Conflict` if the order is paid or pending after all.
    fn mark_refund_due(&self, order: &Order, now: i64) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// How writing a new review ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewCreated {
    Created,
    /// The author has no paid order holding the product.
    NotABuyer,
    /// The author already reviewed the product: this review.
    AlreadyReviewed {
        review_id: String,
    },
    /// A moderator removed the author's review of the product: no other.
    RemovedByModerator,
    NoSuchProduct,
}

/// Reviews and the rating summaries beside their products. Each write is one
/// transaction with the summary's change, conditional on what it was read at.
pub trait ReviewStore: Send + Sync {
    fn review(
        &self,
        product: &ProductId,
        review_id: &str,
    ) -> impl Future<Output = Result<Option<Review>, StoreError>> + Send;
    /// Writes the review and adds its star to the summary, if its author
    /// bought the product (a paid order) and has not reviewed it yet.
    fn create_review(&self, review: &Review) -> impl Future<Output = Result<ReviewCreated, StoreError>> + Send;
    /// Replaces `read` with `edited` and moves the summary's star if the
    /// rating changed; `Conflict` unless the stored review is still `read`.
    fn replace_review(&self, read: &Review, edited: &Review) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Deletes `read` and takes its star off the summary; `Conflict` unless
    /// the stored review is still `read`.
    /// With `moderated` (an admin removing another's review) the author's
    /// mark stays, as a tombstone: they cannot post another review of it.
    fn delete_review(&self, read: &Review, moderated: bool) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// How a restock ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Restocked {
    /// Applied now: the stock after it.
    Applied(StockLevels),
    /// A retry of the restock the key made: nothing changed; the stock now.
    Replayed(StockLevels),
    /// The key made a restock of another delta: nothing changed.
    KeyUsedForAnother { delta: i64 },
}

/// The catalog as an admin changes it: products and their stock counters.
pub trait CatalogStore: Send + Sync {
    fn product(&self, id: &ProductId) -> impl Future<Output = Result<Option<Product>, StoreError>> + Send;
    /// Creates the product with `initial_stock` available; `Conflict` if
    /// its id is taken.
    fn create_product(
        &self,
        product: &Product,
        initial_stock: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Sets the fields `patch` holds and the modified date; the product as it
    /// now is, `None` if there is no such product.
    fn edit_product(
        &self,
        id: &ProductId,
        patch: &ProductPatch,
        modified_date: &str,
    ) -> impl Future<Output = Result<Option<Product>, StoreError>> + Send;
    /// Adds (or removes) `delta` available units over the product's shards;
    /// `Conflict` when removing more than is available. With a key, a retry
    /// changes nothing twice.
    fn restock(
        &self,
        id: &ProductId,
        shards: StockShards,
        delta: i64,
        idempotency_key: Option<&str>,
    ) -> impl Future<Output = Result<Restocked, StoreError>> + Send;
    fn shard_stocks(
        &self,
        id: &ProductId,
        shards: StockShards,
    ) -> impl Future<Output = Result<Vec<StockLevels>, StoreError>> + Send;
    /// Splits the stock as `to` says; `Conflict` if the split is no longer
    /// `from`. Each shard's counters after.
    fn reshard(
        &self,
        id: &ProductId,
        from: StockShards,
        to: StockShards,
    ) -> impl Future<Output = Result<Vec<StockLevels>, StoreError>> + Send;
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "outcome", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChargeOutcome {
    Approved { charge_id: String },
    Declined { reason: String },
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum PaymentError {
    #[error("payment provider unavailable")]
    Unavailable,
    #[error("payment provider failed: {0}")]
    Failed(String),
    /// The provider's payment is not the order's (another amount or
    /// currency): nothing is sold for it.
    #[error("the payment does not match the order: {0}")]
    Mismatch(String),
}

/// A payment the customer confirms with the provider themselves (Stripe.js
/// in the browser): what their page needs to do it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentStart {
    /// The provider's payment (a PaymentIntent's id).
    pub payment_id: String,
    /// What the page confirms it with (the PaymentIntent's client secret).
    pub client_secret: String,
}

/// A payment provider: charge an order (idempotent per order: an approved
/// charge is final and a second charge returns it) and refund it once.
pub trait PaymentProvider: Send + Sync {
    /// Charges the order's total with a card token, confirmed here.
    fn charge(
        &self,
        order: &Order,
        card_token: &str,
    ) -> impl Future<Output = Result<ChargeOutcome, PaymentError>> + Send;
    /// Starts (or resumes) the order's payment for the customer to confirm
    /// with the provider; `None` when the provider takes card tokens only.
    fn start(&self, order: &Order) -> impl Future<Output = Result<Option<PaymentStart>, PaymentError>> + Send;
    /// What the provider says of the order's payment now: `Approved` once a
    /// payment of exactly the order's total succeeded (and is recorded),
    /// `Declined` when its last attempt failed, `None` while nothing is
    /// confirmed. A payment of another amount is `Mismatch`.
    fn confirmed(&self, order: &Order) -> impl Future<Output = Result<Option<ChargeOutcome>, PaymentError>> + Send;
    /// Refunds an approved charge; false when there was none (or it was refunded).
    fn refund(&self, order_id: &OrderId) -> impl Future<Output = Result<bool, PaymentError>> + Send;
}

/// Where migrated lines go to be deleted (the cleanup queue).
pub trait LineCleanup: Send + Sync {
    fn hand_over(&self, moved: &[MovedLine]) -> impl Future<Output = Result<(), String>> + Send;
}

/// A line merged into a user's cart, to delete from the anonymous cart if it
/// is still at `version` (a line revived since is left alone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovedLine {
    pub cart: CartOwner,
    pub product_id: ProductId,
    pub version: u64,
}
