//! The response bodies, typed: what each endpoint answers, built from the
//! domain's values (never from stored items, which carry keys).

use serde::Serialize;

use crate::domain::{
    CartLine, Order, OrderId, OrderLine, OrderStatus, Product, ProductId, RatedProduct, RatingSummary, Review, Stars,
    StockLevels, StockShards,
};
use crate::use_cases::checkout::ShortLine;

/// A list of products, and the cursor of the next page if there is one.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductList<'a, T: Serialize> {
    pub products: &'a [T],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A product's rating summary: the average (absent before the first
/// review), the number of reviews and how many gave each rating (1 to 5).
#[derive(Debug, Serialize)]
pub struct RatingView {
    pub average: Option<f64>,
    pub count: i64,
    pub histogram: [i64; 5],
}

impl From<RatingSummary> for RatingView {
    fn from(summary: RatingSummary) -> Self {
        Self { average: summary.average(), count: summary.count(), histogram: summary.histogram }
    }
}

/// A product in a list: the catalog entry and its rating.
#[derive(Serialize)]
pub struct CatalogEntry<'a> {
    #[serde(flatten)]
    pub product: &'a Product,
    pub rating: RatingView,
}

impl<'a> From<&'a RatedProduct> for CatalogEntry<'a> {
    fn from(rated: &'a RatedProduct) -> Self {
        Self { product: &rated.product, rating: rated.rating.into() }
    }
}

pub fn catalog_entries(products: &[RatedProduct]) -> Vec<CatalogEntry<'_>> {
    products.iter().map(CatalogEntry::from).collect()
}

/// One line as `GET /cart` returns it (the sample's shape: `sk` is the
/// product id; the sample's frontend matches on it).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CartLineView<'a> {
    pub sk: &'a str,
    pub quantity: i64,
    pub product_detail: &'a Product,
}

impl<'a> From<&'a CartLine> for CartLineView<'a> {
    fn from(line: &'a CartLine) -> Self {
        Self { sk: line.product_id.as_str(), quantity: line.quantity, product_detail: &line.product }
    }
}

pub fn cart_view(lines: &[CartLine]) -> Vec<CartLineView<'_>> {
    lines.iter().map(CartLineView::from).collect()
}

/// A cart line's quantity after a change.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LineChanged<'a> {
    pub product_id: &'a ProductId,
    pub quantity: i64,
    pub message: &'static str,
}

/// An order as its buyer (or an admin) sees it: no keys, no index attributes.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderView<'a> {
    pub order_id: OrderId,
    pub status: OrderStatus,
    pub lines: Vec<OrderLineView<'a>>,
    pub total: u64,
    pub created_at: i64,
    pub updated_at: i64,
    pub expires_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charge_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<&'a str>,
}

impl<'a> From<&'a Order> for OrderView<'a> {
    fn from(order: &'a Order) -> Self {
        Self {
            order_id: order.order_id,
            status: order.status,
            lines: order.lines.iter().map(OrderLineView::from).collect(),
            total: order.total,
            created_at: order.created_at,
            updated_at: order.updated_at,
            expires_at: order.expires_at,
            charge_id: order.charge_id.as_deref(),
            failure_reason: order.failure_reason.as_deref(),
        }
    }
}

/// An order line as its buyer sees it (which stock shards it was reserved
/// on is the store's business).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderLineView<'a> {
    pub product_id: &'a str,
    pub name: &'a str,
    pub quantity: i64,
    pub unit_price: u64,
}

impl<'a> From<&'a OrderLine> for OrderLineView<'a> {
    fn from(line: &'a OrderLine) -> Self {
        Self { product_id: &line.product_id, name: &line.name, quantity: line.quantity, unit_price: line.unit_price }
    }
}

#[derive(Serialize)]
pub struct OrderAnswer<'a> {
    pub order: OrderView<'a>,
}

impl<'a> OrderAnswer<'a> {
    pub fn of(order: &'a Order) -> Self {
        Self { order: order.into() }
    }
}

/// Checkout's answer: the sample's `products` (the cart) plus the order.
#[derive(Serialize)]
pub struct CheckoutAnswer<'a> {
    pub products: Vec<CartLineView<'a>>,
    pub order: OrderView<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderList<'a> {
    pub orders: Vec<OrderView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// The admin's per-product cart total.
#[derive(Serialize)]
pub struct CartTotal<'a> {
    pub product: &'a ProductId,
    pub quantity: i64,
}

/// The stock a product page shows: what shoppers can buy, or every counter
/// for an admin.
#[derive(Serialize)]
#[serde(untagged)]
pub enum StockShown {
    Available { available: i64 },
    Full(StockLevels),
}

/// A product page: the product, its stock and the units in other shoppers' carts.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductPage<'a> {
    #[serde(flatten)]
    pub product: &'a Product,
    pub rating: RatingView,
    pub stock: StockShown,
    pub in_carts: i64,
}

#[derive(Serialize)]
pub struct ProductAnswer<T: Serialize> {
    pub product: T,
}

/// A product just created, with the stock it starts with.
#[derive(Serialize)]
pub struct CreatedProduct<'a> {
    pub product: &'a Product,
    pub stock: StockShown,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Restocked<'a> {
    pub product_id: &'a ProductId,
    pub stock: StockLevels,
    pub replayed: bool,
}

/// A product's stock after resharding: the split, the sum and each shard.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resharded<'a> {
    pub product_id: &'a ProductId,
    pub shards: StockShards,
    pub stock: StockLevels,
    pub shard_stocks: Vec<StockLevels>,
}

#[derive(Serialize)]
pub struct Categories {
    pub categories: Vec<String>,
}

/// A best seller: the product and the units it sold.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bestseller<'a> {
    #[serde(flatten)]
    pub entry: CatalogEntry<'a>,
    pub units_sold: i64,
}

/// A checkout refused for want of stock: the lines it could not cover.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShortLines<'a> {
    pub short_lines: &'a [ShortLine],
}

/// What is available: a stock removal refused.
#[derive(Serialize)]
pub struct Available {
    pub available: i64,
}

/// `productId` and `available`: a cart line refused for want of stock.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Availability<'a> {
    pub product_id: &'a ProductId,
    pub available: i64,
}

/// A review as anyone reads it: the author's chosen name, never their
/// address or account id.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewView<'a> {
    pub review_id: &'a str,
    pub product_id: &'a str,
    pub rating: Stars,
    pub title: &'a str,
    pub body: &'a str,
    pub display_name: &'a str,
    pub created_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<i64>,
    /// Only buyers review: every review is by one.
    pub verified_purchase: bool,
}

impl<'a> From<&'a Review> for ReviewView<'a> {
    fn from(review: &'a Review) -> Self {
        Self {
            review_id: &review.review_id,
            product_id: &review.product_id,
            rating: review.rating,
            title: &review.title,
            body: &review.body,
            display_name: &review.display_name,
            created_at: review.created_at,
            edited_at: review.edited_at,
            verified_purchase: true,
        }
    }
}

#[derive(Serialize)]
pub struct ReviewAnswer<'a> {
    pub review: ReviewView<'a>,
}

/// A page of a product's reviews; for a signed-in reader, whether they may
/// write one and their own.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewList<'a> {
    pub reviews: Vec<ReviewView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    pub can_review: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub your_review: Option<ReviewView<'a>>,
}

/// A second review refused: the one that exists.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExistingReview<'a> {
    pub review_id: &'a str,
}

/// A payment started for the page to confirm with Stripe.js.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentStarted<'a> {
    pub order: OrderView<'a>,
    pub payment_intent: PaymentIntentView<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentIntentView<'a> {
    pub id: &'a str,
    pub client_secret: &'a str,
}

/// What the webhook answers Stripe: received, and what was done with it.
#[derive(Serialize)]
pub struct WebhookReceived {
    pub received: bool,
    /// `processed`, `duplicate` or why it was ignored.
    pub outcome: &'static str,
}
