//! The single table's key formats: where each thing lives. Only the store
//! (and the workers reading its stream and queue) know them.
//!
//! | item                      | pk                 | sk                     |
//! |---------------------------|--------------------|------------------------|
//! | product                   | `product#<id>`     | `meta`                 |
//! | stock counters (shard 0)  | `product#<id>`     | `stock`                |
//! | stock shard k >= 1        | `product#<id>#<k>` | `stock`                |
//! | units in all carts        | `product#<id>`     | `totalquantity`        |
//! | anonymous cart line       | `cart#<uuid>`      | `product#<id>`         |
//! | signed-in cart line       | `user#<sub>`       | `product#<id>`         |
//! | order                     | `user#<sub>`       | `order#<uuidv7>`       |
//! | checkout idempotency key  | `user#<sub>`       | `checkout#<key>`       |
//! | the user's pending orders | `user#<sub>`       | `pending`              |
//! | products the user paid for| `user#<sub>`       | `purchases`            |
//! | review (UUIDv7 id)        | `product#<id>`     | `review#<review id>`   |
//! | the user's review of it   | `user#<sub>`       | `reviewed#<product id>`|
//!
//! The product item also holds its rating summary: `stars1` .. `stars5`,
//! the number of reviews giving each rating.

use uuid::Uuid;

use crate::domain::{CartOwner, OrderId, ProductId, Stars};

pub const PRODUCT_PREFIX: &str = "product#";
pub const ANONYMOUS_CART_PREFIX: &str = "cart#";
pub const USER_PREFIX: &str = "user#";
pub const ORDER_PREFIX: &str = "order#";
pub const CHECKOUT_KEY_PREFIX: &str = "checkout#";
pub const PRODUCT_META_SK: &str = "meta";
pub const STOCK_SK: &str = "stock";
pub const TOTAL_QUANTITY_SK: &str = "totalquantity";
/// A user's holdings: how many of their orders await payment (`orders`),
/// the units they hold per product (`held#<product>`) and when they may check
/// a product out again after an order of it ended unpaid (`renew#<product>`),
/// kept by the transactions that create and settle their orders.
pub const PENDING_COUNT_SK: &str = "pending";
/// A user's mark that they paid for a product (`bought#<product id>`, one
/// item per product, so it never grows), put by the transaction that marks
/// an order paid; a review's transaction checks it.
pub const BOUGHT_PREFIX: &str = "bought#";
pub const REVIEW_PREFIX: &str = "review#";
pub const REVIEWED_PREFIX: &str = "reviewed#";
/// Index partitions (sparse GSIs): every product, every stock item (best
/// sellers), every order, the orders awaiting payment. The last three are
/// written at the shop's sales rate, so each is spread over
/// [`IndexPartitions`] key values (`order`, `order#1`, … `order#7`).
pub const CATALOG_PARTITION: &str = "product";
pub const BESTSELLER_PARTITION: &str = "stock";
pub const ORDER_PARTITION: &str = "order";
pub const PENDING_PARTITION: &str = "pending";

/// How many partition key values each shop-wide index list (orders, orders
/// awaiting payment, best sellers) is spread over. DynamoDB limits each GSI
/// partition key value as it limits a table's (about 1,000 write units a
/// second), and a GSI short of write capacity throttles the table's writes
/// (developerguide/GSI.html, "Provisioned throughput considerations for
/// global secondary indexes"): one value for every order capped the whole
/// shop's sales. The item's own id picks its value, so a write lands on one
/// of N; readers query all N and merge. The first value is the list's name
/// alone, which is where every item written before the spread lives, so a
/// table from before needs no migration. N may grow (items stay where they
/// were written and readers ask every value below N), never shrink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexPartitions(u32);

impl IndexPartitions {
    /// Readers query every value: a bound on the fan-out of one read.
    pub const MAX: u32 = 64;
    /// The template's default (`IndexPartitions`).
    pub const DEFAULT: Self = Self(8);

    pub fn new(count: u32) -> Option<Self> {
        (1..=Self::MAX).contains(&count).then_some(Self(count))
    }

    pub const fn count(self) -> u32 {
        self.0
    }

    /// The key value of the item `id` in `list` (e.g. [`ORDER_PARTITION`]).
    /// FNV-1a: a hash defined by its spec, so the choice never moves between
    /// builds (std's hasher promises no such thing).
    pub fn of(self, list: &str, id: &str) -> String {
        let mut hasher = fnv::FnvHasher::default();
        std::hash::Hasher::write(&mut hasher, id.as_bytes());
        let shard = std::hash::Hasher::finish(&hasher) % u64::from(self.0);
        list_partition(list, shard as u32)
    }

    /// Every key value of `list`, the first being the list's name.
    pub fn all(self, list: &str) -> impl Iterator<Item = String> + '_ {
        (0..self.0).map(move |k| list_partition(list, k))
    }
}

fn list_partition(list: &str, shard: u32) -> String {
    if shard == 0 {
        list.to_owned()
    } else {
        format!("{list}#{shard}")
    }
}

/// Partition of everything stored about a product.
pub fn product_pk(id: &ProductId) -> String {
    format!("{PRODUCT_PREFIX}{id}")
}

/// Partition of a product's stock shard: the first is the product's own (the
/// layout before shards), each other one its own partition.
pub fn stock_shard_pk(id: &ProductId, shard: u32) -> String {
    if shard == 0 {
        product_pk(id)
    } else {
        format!("{PRODUCT_PREFIX}{id}#{shard}")
    }
}

/// Sort key of a product's line in any cart.
pub fn line_sk(id: &ProductId) -> String {
    format!("{PRODUCT_PREFIX}{id}")
}

/// The product a product or cart-line key names.
pub fn product_of_key(key: &str) -> Option<ProductId> {
    key.strip_prefix(PRODUCT_PREFIX).and_then(|id| ProductId::parse(id).ok())
}

/// Partition of a cart (and, for a user, of their orders).
pub fn cart_pk(owner: &CartOwner) -> String {
    match owner {
        CartOwner::Anonymous(id) => format!("{ANONYMOUS_CART_PREFIX}{id}"),
        CartOwner::User(sub) => user_pk(sub),
    }
}

/// Partition of a user's cart and orders, by `sub`.
pub fn user_pk(sub: &str) -> String {
    format!("{USER_PREFIX}{sub}")
}

/// The cart a partition key names, if it names one.
pub fn owner_of_cart_pk(pk: &str) -> Option<CartOwner> {
    if let Some(id) = pk.strip_prefix(ANONYMOUS_CART_PREFIX) {
        return Uuid::parse_str(id).ok().map(CartOwner::Anonymous);
    }
    pk.strip_prefix(USER_PREFIX).and_then(|sub| CartOwner::user(sub).ok())
}

pub fn is_cart_pk(pk: &str) -> bool {
    pk.starts_with(ANONYMOUS_CART_PREFIX) || pk.starts_with(USER_PREFIX)
}

pub fn order_sk(order_id: &OrderId) -> String {
    format!("{ORDER_PREFIX}{order_id}")
}

pub fn checkout_key_sk(idempotency_key: &str) -> String {
    format!("{CHECKOUT_KEY_PREFIX}{idempotency_key}")
}

/// Sort key of a review in its product's partition: newest last.
pub fn review_sk(review_id: &str) -> String {
    format!("{REVIEW_PREFIX}{review_id}")
}

/// Sort key of the mark that a user reviewed a product (one review each).
pub fn bought_sk(product: &ProductId) -> String {
    format!("{BOUGHT_PREFIX}{product}")
}

pub fn reviewed_sk(product: &ProductId) -> String {
    format!("{REVIEWED_PREFIX}{product}")
}

/// The product attribute counting reviews of `stars`.
pub fn stars_attribute(stars: Stars) -> String {
    format!("stars{}", stars.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_list_spreads_over_its_partitions_and_keeps_the_first_name() {
        let four = IndexPartitions::new(4).unwrap();
        assert_eq!(four.all(ORDER_PARTITION).collect::<Vec<_>>(), ["order", "order#1", "order#2", "order#3"]);
        let mut used = std::collections::BTreeSet::new();
        for i in 0..200 {
            let id = format!("0190d6c0-0000-7000-8000-{i:012}");
            let value = four.of(ORDER_PARTITION, &id);
            assert!(four.all(ORDER_PARTITION).any(|v| v == value));
            assert_eq!(value, four.of(ORDER_PARTITION, &id), "the same id, the same partition");
            used.insert(value);
        }
        assert_eq!(used.len(), 4, "ids spread over every partition");
        assert_eq!(IndexPartitions::new(1).unwrap().of(ORDER_PARTITION, "anything"), "order");
        // FNV-1a of the id's bytes, pinned: the choice must not move between builds.
        assert_eq!(four.of(BESTSELLER_PARTITION, "p1"), "stock#2");
        assert_eq!(four.of(BESTSELLER_PARTITION, "p2"), "stock#3");
        assert_eq!(IndexPartitions::new(0), None);
        assert_eq!(IndexPartitions::new(IndexPartitions::MAX + 1), None);
    }

    #[test]
    fn keys_round_trip() {
        let id = ProductId::parse("p1").unwrap();
        assert_eq!(product_pk(&id), "product#p1");
        assert_eq!(product_of_key(&line_sk(&id)), Some(id));
        assert_eq!(product_of_key("meta"), None);
        let anon = CartOwner::anonymous_from_cookie("6f1c7b1e-9f0a-4c51-9a43-6a4c0c5a1d2e").unwrap();
        assert_eq!(cart_pk(&anon), "cart#6f1c7b1e-9f0a-4c51-9a43-6a4c0c5a1d2e");
        let user = CartOwner::user("abc-123").unwrap();
        assert_eq!(cart_pk(&user), "user#abc-123");
        assert_eq!(user_pk("abc-123"), cart_pk(&user));
        for owner in [anon, user] {
            assert!(is_cart_pk(&cart_pk(&owner)));
            assert_eq!(owner_of_cart_pk(&cart_pk(&owner)), Some(owner));
        }
        assert!(!is_cart_pk("product#x"));
        assert_eq!(owner_of_cart_pk("cart#nope"), None);
    }
}
