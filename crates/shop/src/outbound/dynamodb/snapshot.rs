//! The whole table in one scan, sorted into what reconciliation compares:
//! cart lines and counted lines, totals, stock, orders, reviews and rating
//! summaries, purchases, holdings and unrefunded charges.

use std::collections::{BTreeSet, HashMap};

use serde_dynamo::from_item;

use super::cart_totals::{CountedLine, COUNTED_LINE_PREFIX};
use super::keys::{self, TOTAL_QUANTITY_SK};
use super::{item_key, items, reviews, Holdings, Item, Store, StoreError};
use crate::domain::{Order, RatingSummary, Review};

/// Every item of the table, sorted into what reconciliation compares.
#[derive(Debug, Default)]
pub struct TableSnapshot {
    pub(crate) cart_lines: Vec<items::CartLineImage>,
    pub(crate) counted_lines: Vec<CountedLine>,
    pub(crate) totals: HashMap<String, i64>,
    pub(crate) stocks: Vec<items::StockItem>,
    pub(crate) orders: Vec<Order>,
    pub(crate) reviews: Vec<Review>,
    /// Each product's stored rating summary, by product id.
    pub(crate) ratings: HashMap<String, RatingSummary>,
    /// The products each user (by `sub`) may review.
    pub(crate) purchases: HashMap<String, BTreeSet<String>>,
    /// Each user's count of orders awaiting payment, as stored (by `sub`).
    pub(crate) pending_counts: HashMap<String, Holdings>,
    /// Items of a known kind that do not read as that kind: (pk, sk, why).
    pub(crate) unreadable: Vec<(String, String, String)>,
    /// The sandbox provider's approved charges not refunded, by order id.
    pub(crate) unrefunded_charges: BTreeSet<String>,
}

impl Store {
    /// Scans the whole table once. For the reconciliation command, in quiet
    /// moments; it reads every item.
    pub async fn snapshot(&self) -> Result<TableSnapshot, StoreError> {
        let mut snapshot = TableSnapshot::default();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await?;
            snapshot.extend(page.items.unwrap_or_default());
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(snapshot),
            }
        }
    }
}

impl TableSnapshot {
    /// Sorts items in; one that does not read as what its key says is listed
    /// as unreadable instead of stopping the reconciliation.
    pub(crate) fn extend(&mut self, items: impl IntoIterator<Item = Item>) {
        for item in items {
            let (pk, sk) = item_key(&item);
            let (pk, sk) = (pk.to_owned(), sk.to_owned());
            if let Err(e) = self.add(item) {
                self.unreadable.push((pk, sk, e.to_string()));
            }
        }
    }

    fn add(&mut self, item: Item) -> Result<(), StoreError> {
        let (pk, sk) = item_key(&item);
        let (pk, sk) = (pk.to_owned(), sk.to_owned());
        if keys::is_cart_pk(&pk) && keys::product_of_key(&sk).is_some() {
            self.cart_lines.push(from_item(item)?);
        } else if pk.starts_with(keys::PRODUCT_PREFIX) && sk.starts_with(COUNTED_LINE_PREFIX) {
            self.counted_lines.push(from_item(item)?);
        } else if pk.starts_with(keys::PRODUCT_PREFIX) && sk == TOTAL_QUANTITY_SK {
            let quantity = item.get("quantity").and_then(|v| v.as_n().ok()).and_then(|q| q.parse().ok());
            self.totals.insert(pk, quantity.unwrap_or(0));
        } else if pk.starts_with(keys::PRODUCT_PREFIX) && sk == keys::STOCK_SK {
            self.stocks.push(from_item(item)?);
        } else if pk.starts_with(keys::PRODUCT_PREFIX) && sk == keys::PRODUCT_META_SK {
            let mut item = item;
            let rating = reviews::take_rating(&mut item);
            self.ratings.insert(pk[keys::PRODUCT_PREFIX.len()..].to_owned(), rating);
        } else if pk.starts_with(keys::PRODUCT_PREFIX) && sk.starts_with(keys::REVIEW_PREFIX) {
            self.reviews.push(from_item(item)?);
        } else if sk == keys::PENDING_COUNT_SK {
            let Some(sub) = pk.strip_prefix(keys::USER_PREFIX) else { return Ok(()) };
            self.pending_counts.insert(sub.to_owned(), Holdings::of_item(&item));
        } else if let Some(product) = sk.strip_prefix(keys::BOUGHT_PREFIX) {
            let Some(sub) = pk.strip_prefix(keys::USER_PREFIX) else { return Ok(()) };
            self.purchases.entry(sub.to_owned()).or_default().insert(product.to_owned());
        } else if let (Some(order_id), "charge") = (pk.strip_prefix("charge#"), sk.as_str()) {
            let approved = item.get("outcome").and_then(|v| v.as_s().ok()).is_some_and(|o| o == "APPROVED");
            let refunded = item.get("refunded").and_then(|v| v.as_bool().ok()).copied().unwrap_or(false);
            if approved && !refunded {
                self.unrefunded_charges.insert(order_id.to_owned());
            }
        } else if sk.starts_with(keys::ORDER_PREFIX) {
            self.orders.push(from_item(item)?);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::dynamodb::{n, s};

    #[test]
    fn an_unreadable_item_is_listed_not_fatal() {
        let line = |quantity: aws_sdk_dynamodb::types::AttributeValue| -> Item {
            HashMap::from([
                ("pk".to_owned(), s("cart#6f1c7b1e-9f0a-4c51-9a43-6a4c0c5a1d2e")),
                ("sk".to_owned(), s("product#p1")),
                ("quantity".to_owned(), quantity),
                ("expirationTime".to_owned(), n(4_000_000_000i64)),
            ])
        };
        let mut snapshot = TableSnapshot::default();
        snapshot.extend([line(n(2)), line(s("many"))]);
        assert_eq!(snapshot.cart_lines.len(), 1);
        assert_eq!(snapshot.unreadable.len(), 1);
        assert_eq!(snapshot.unreadable[0].1, "product#p1");
    }
}
