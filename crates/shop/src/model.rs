//! Stored and served shapes: the sample's product and cart line, and the items
//! they live in. Field names follow the Python sample's frontend contract.

use serde::{Deserialize, Serialize};

use crate::domain::{LineState, ProductId};

/// A catalog entry as the sample's frontend reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    pub product_id: String,
    pub category: String,
    pub name: String,
    pub description: String,
    /// Price in cents.
    pub price: u64,
    pub created_date: String,
    pub modified_date: String,
    pub package: Package,
    pub pictures: Vec<String>,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Package {
    pub height: u32,
    pub length: u32,
    pub weight: u32,
    pub width: u32,
}

/// The `product#<id>` / `meta` item. `catalog` and `category` feed the GSIs
/// that list the catalog without scanning carts. Reads deserialize `Product`
/// straight from the item (serde skips the keys): `flatten` buffers every
/// attribute first, and the catalog reads fifty products per request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProductItem {
    pub pk: String,
    pub sk: String,
    pub catalog: String,
    #[serde(flatten)]
    pub product: Product,
}

pub const PRODUCT_META_SK: &str = "meta";
pub const CATALOG_PARTITION: &str = "product";
pub const TOTAL_QUANTITY_SK: &str = "totalquantity";

impl ProductItem {
    pub fn new(product: Product) -> Result<Self, crate::domain::DomainError> {
        let id = ProductId::parse(&product.product_id)?;
        Ok(Self {
            pk: id.partition_key(),
            sk: PRODUCT_META_SK.to_owned(),
            catalog: CATALOG_PARTITION.to_owned(),
            product,
        })
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
    /// Bumped on every write; every write is conditional on the version read.
    pub version: u64,
    /// Set when the line was merged into a user's cart; the cleanup worker deletes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrated_to: Option<String>,
    /// The pending order this line was checked out into; a second checkout of
    /// the unchanged cart finds it and returns that order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkout_order: Option<String>,
    /// Idempotency keys of the last changes applied to this line, newest last:
    /// a client retrying `POST /cart` with the same key changes nothing twice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recent_requests: Vec<String>,
}

/// How many request keys a cart line remembers.
pub const RECENT_REQUESTS_KEPT: usize = 10;

impl CartLineItem {
    pub fn state(&self) -> LineState {
        LineState {
            quantity: self.quantity,
            expiration_time: self.expiration_time,
            migrated: self.migrated_to.is_some(),
        }
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

/// One line as `GET /cart` returns it (sample shape: `sk` is the product id,
/// without the key's `product#` prefix; the sample frontend matches on it).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CartLineView {
    pub sk: String,
    pub quantity: i64,
    pub product_detail: Product,
}

impl From<CartLineItem> for CartLineView {
    fn from(item: CartLineItem) -> Self {
        Self { sk: item.product_id, quantity: item.quantity, product_detail: item.product_detail }
    }
}

/// The cleanup worker's order: delete this migrated line if it is still the
/// version that was migrated (a line revived since then is left alone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CleanupMessage {
    pub pk: String,
    pub sk: String,
    pub version: u64,
}

/// The `product#<id>` / `stock` item. `bestsellerList` puts it in the sparse
/// best-seller index, sorted by `sold`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockItem {
    pub pk: String,
    pub sk: String,
    pub product_id: String,
    pub bestseller_list: String,
    #[serde(flatten)]
    pub levels: crate::domain::StockLevels,
}

pub const STOCK_SK: &str = "stock";
pub const BESTSELLER_PARTITION: &str = "stock";
pub const ORDER_PARTITION: &str = "order";
pub const PENDING_PARTITION: &str = "pending";
pub const ORDER_PREFIX: &str = "order#";
pub const CHECKOUT_KEY_PREFIX: &str = "checkout#";

/// An order: `user#<sub>` / `order#<id>`. Order ids are UUIDv7, so the sort
/// key orders a user's orders by time. `orderList` feeds the index admins use
/// to find any order; `pendingList` is present only while payment is awaited
/// and feeds the expiry sweeper's index (sorted by `expiresAt`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderItem {
    pub pk: String,
    pub sk: String,
    pub order_id: String,
    pub owner: String,
    pub status: crate::domain::OrderStatus,
    pub lines: Vec<crate::domain::OrderLine>,
    /// Cents.
    pub total: u64,
    pub created_at: i64,
    pub updated_at: i64,
    pub expires_at: i64,
    pub order_list: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_list: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
}

impl OrderItem {
    /// The order as `Store::settle_order` leaves it when the transition commits.
    pub fn settled(
        mut self,
        to: crate::domain::OrderStatus,
        now: i64,
        charge_id: Option<&str>,
        failure_reason: Option<&str>,
    ) -> Self {
        self.status = to;
        self.updated_at = now;
        self.pending_list = None;
        if let Some(c) = charge_id {
            self.charge_id = Some(c.to_owned());
        }
        if let Some(r) = failure_reason {
            self.failure_reason = Some(r.to_owned());
        }
        self
    }

    /// The order as the API returns it: the stored item without its keys and
    /// index attributes.
    pub fn view(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(self).unwrap_or_default();
        if let Some(fields) = value.as_object_mut() {
            for internal in ["pk", "sk", "owner", "orderList", "pendingList", "idempotencyKey"] {
                fields.remove(internal);
            }
        }
        value
    }
}
