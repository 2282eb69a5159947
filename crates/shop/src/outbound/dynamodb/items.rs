//! The items the table stores: the domain's values with their keys and the
//! attributes that feed the sparse indexes (see `keys`).

use serde::{Deserialize, Serialize};

use super::keys::{
    cart_pk, line_sk, order_sk, owner_of_cart_pk, product_of_key, product_pk, review_sk, stock_shard_pk, user_pk,
    IndexPartitions, BESTSELLER_PARTITION, CATALOG_PARTITION, ORDER_PARTITION, PENDING_PARTITION, PRODUCT_META_SK,
    STOCK_SK,
};
use super::StoreError;
use crate::domain::{
    CartLine, CartOwner, LineState, Order, OrderId, OrderStatus, Product, ProductId, Review, StockLevels,
};

/// The `product#<id>` / `meta` item. `catalog` and `category` feed the GSIs
/// that list the catalog without scanning carts. Reads deserialize `Product`
/// straight from the item (serde skips the keys): `flatten` buffers every
/// attribute first, and the catalog reads fifty products per request.
#[derive(Debug, Clone, Serialize)]
pub struct ProductItem<'a> {
    pk: String,
    sk: &'static str,
    catalog: &'static str,
    #[serde(flatten)]
    product: &'a Product,
}

impl<'a> ProductItem<'a> {
    pub fn new(id: &ProductId, product: &'a Product) -> Self {
        Self { pk: product_pk(id), sk: PRODUCT_META_SK, catalog: CATALOG_PARTITION, product }
    }
}

/// The `product#<id>` / `stock` item. `bestsellerList` puts it in the sparse
/// best-seller index, sorted by `sold`, on the index partition its product id
/// picks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockItem {
    pub pk: String,
    pub sk: String,
    pub product_id: String,
    /// On the first shard only: a sharded product ranks by what it sold there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bestseller_list: Option<String>,
    /// Which of the product's stock shards (0: the product's own item).
    #[serde(default)]
    pub shard: u32,
    #[serde(flatten)]
    pub levels: StockLevels,
    /// How many writes changed the counters (every stock write adds one:
    /// `STOCK_WRITTEN`), so a reader knows whether anything changed between
    /// two reads, even back to the same values. Absent on items never written
    /// since it was introduced: 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub version: i64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// Appended to every update of a stock item: one more write (`:one` is 1).
pub(crate) const STOCK_WRITTEN: &str = " ADD version :one";

impl StockItem {
    pub fn new(id: &ProductId, levels: StockLevels, partitions: IndexPartitions) -> Self {
        Self {
            pk: product_pk(id),
            sk: STOCK_SK.to_owned(),
            product_id: id.to_string(),
            bestseller_list: Some(partitions.of(BESTSELLER_PARTITION, id.as_str())),
            shard: 0,
            levels,
            version: 0,
        }
    }

    /// Stock shard `shard` >= 1 of a product, in its own partition.
    pub fn shard(id: &ProductId, shard: u32, levels: StockLevels) -> Self {
        Self {
            pk: stock_shard_pk(id, shard),
            sk: STOCK_SK.to_owned(),
            product_id: id.to_string(),
            bestseller_list: None,
            shard,
            levels,
            version: 0,
        }
    }
}

/// A review: `product#<id>` / `review#<review id>`; reads deserialize
/// `Review` straight from the item.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewItem<'a> {
    pk: String,
    sk: String,
    #[serde(flatten)]
    review: &'a Review,
}

impl<'a> ReviewItem<'a> {
    pub fn new(product: &ProductId, review: &'a Review) -> Self {
        Self { pk: product_pk(product), sk: review_sk(&review.review_id), review }
    }
}

/// A cart line: `cart#<uuid>` or `user#<sub>` / `product#<id>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CartLineItem {
    pub pk: String,
    pub sk: String,
    pub product_id: String,
    pub quantity: i64,
    pub product_detail: Product,
    pub expiration_time: i64,
    pub version: u64,
    /// The user's cart partition the line was merged into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrated_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkout_order: Option<OrderId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recent_requests: Vec<String>,
}

impl CartLineItem {
    pub fn new(owner: &CartOwner, line: &CartLine) -> Self {
        Self {
            pk: cart_pk(owner),
            sk: line_sk(&line.product_id),
            product_id: line.product_id.to_string(),
            quantity: line.quantity,
            product_detail: line.product.clone(),
            expiration_time: line.expires_at,
            version: line.version,
            migrated_to: line.migrated_to.as_ref().map(cart_pk),
            checkout_order: line.checkout_order,
            recent_requests: line.recent_requests.clone(),
        }
    }

    pub fn into_line(self) -> Result<CartLine, StoreError> {
        let product_id =
            product_of_key(&self.sk).ok_or_else(|| StoreError::Malformed(format!("cart line key {}", self.sk)))?;
        let migrated_to = self
            .migrated_to
            .map(|pk| owner_of_cart_pk(&pk).ok_or_else(|| StoreError::Malformed(format!("migratedTo {pk}"))))
            .transpose()?;
        Ok(CartLine {
            product_id,
            quantity: self.quantity,
            product: self.product_detail,
            expires_at: self.expiration_time,
            version: self.version,
            migrated_to,
            checkout_order: self.checkout_order,
            recent_requests: self.recent_requests,
        })
    }
}

/// The parts of a cart-line image the totals need; tolerant of partial images
/// (the emulator's keys-only first INSERT of an upsert).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CartLineImage {
    pub pk: String,
    pub sk: String,
    #[serde(default)]
    pub quantity: i64,
    #[serde(default)]
    pub expiration_time: i64,
    #[serde(default)]
    pub migrated_to: Option<String>,
}

impl CartLineImage {
    pub fn state(&self) -> LineState {
        LineState {
            quantity: self.quantity,
            expiration_time: self.expiration_time,
            migrated: self.migrated_to.is_some(),
        }
    }
}

/// An order: `user#<sub>` / `order#<id>`. Order ids are UUIDv7, so the sort
/// key orders a user's orders by time. `orderList` feeds the index admins use
/// to find any order; `pendingList` is present only while payment is awaited
/// and feeds the expiry sweeper's index (sorted by `expiresAt`); each on the
/// index partition the order id picks (`pending_partition`). Reads
/// deserialize `Order` straight from the item.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderItem<'a> {
    pk: String,
    sk: String,
    order_list: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pending_list: Option<String>,
    #[serde(flatten)]
    order: &'a Order,
}

impl<'a> OrderItem<'a> {
    pub fn new(order: &'a Order, partitions: IndexPartitions) -> Self {
        Self {
            pk: user_pk(&order.owner),
            sk: order_sk(&order.order_id),
            order_list: partitions.of(ORDER_PARTITION, &order.order_id.to_string()),
            pending_list: (order.status == OrderStatus::PendingPayment).then(|| pending_partition(order, partitions)),
            order,
        }
    }
}

/// The pending index's partition of an order (while it awaits payment, or a
/// refund).
pub fn pending_partition(order: &Order, partitions: IndexPartitions) -> String {
    partitions.of(PENDING_PARTITION, &order.order_id.to_string())
}
