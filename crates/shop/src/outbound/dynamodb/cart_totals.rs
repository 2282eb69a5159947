//! Per-product cart totals kept exact under at-least-once stream delivery.
//!
//! Besides `product#<id>` / `totalquantity`, the product's partition holds one
//! counted-line item per cart that has (or had) the product:
//! `product#<id>` / `incart#<cart pk>` with the units that cart counts and the
//! stream sequence number they come from. Applying a record writes that item
//! (conditional on the one read) and adds the difference to the total in the
//! same transaction, so the total is always the sum of the counted lines. A
//! record whose sequence number is not newer than the counted line's is already
//! applied: a batch delivered twice, retried from the middle or split and
//! retried changes nothing twice.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};
use serde_dynamo::from_item;

use super::{build_error, item_of, key, n, s, Store, StoreError};
pub use crate::domain::SequenceNumber;
use crate::domain::{decide_count, CountDecision, ProductId};
use crate::outbound::dynamodb::keys::TOTAL_QUANTITY_SK;

pub(crate) const COUNTED_LINE_PREFIX: &str = "incart#";
/// A counted line at zero is kept this long after its last record: longer
/// than a stream keeps records (24 h), so no replay can outlive it.
const ZERO_LINE_RETENTION_SECS: i64 = 2 * 24 * 3600;
/// TransactWriteItems takes at most 100 items: 99 counted lines and the total.
const LINES_PER_TRANSACTION: usize = 99;
/// Re-reads after a concurrent writer won a counted line (another shard's
/// consumer after a split, or a repair).
const CONFLICT_ATTEMPTS: usize = 4;

/// What one stream record says a cart now counts of a product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineCount {
    pub product: ProductId,
    pub cart_pk: String,
    pub sequence: SequenceNumber,
    pub counted: i64,
}

/// The stored `incart#` item.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CountedLine {
    pub pk: String,
    pub sk: String,
    pub counted: i64,
    pub last_sequence: SequenceNumber,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration_time: Option<i64>,
}

impl CountedLine {
    pub fn cart_pk(&self) -> Option<&str> {
        self.sk.strip_prefix(COUNTED_LINE_PREFIX)
    }

    pub fn product_id(&self) -> Option<&str> {
        self.pk.strip_prefix(crate::outbound::dynamodb::keys::PRODUCT_PREFIX)
    }
}

fn counted_line_sk(cart_pk: &str) -> String {
    format!("{COUNTED_LINE_PREFIX}{cart_pk}")
}

/// What a product page reads, in one request.
#[derive(Debug, Default)]
pub struct ProductView {
    pub product: Option<crate::domain::Product>,
    pub rating: crate::domain::RatingSummary,
    pub stock: Option<crate::domain::StockLevels>,
    /// Units in all carts (the stream consumer's total).
    pub in_carts: i64,
    pub own_line: Option<crate::domain::CartLine>,
}

/// Which of a product's items a [`ProductView`] read takes besides the
/// product (each read takes only what its endpoint answers with or needs).
#[derive(Clone, Copy)]
struct ViewParts {
    stock: bool,
    total: bool,
}

/// Counted lines as read, by (product partition, `incart#` sort key).
#[derive(Debug, Default)]
pub struct CountedLines(HashMap<(String, String), CountedLine>);

/// What applying a product's line counts did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TotalsApplied {
    /// Lines whose count changed the stored state.
    pub applied: usize,
    /// Lines whose record was already applied (a redelivery).
    pub replayed: usize,
    /// Lines whose count the record does not change.
    pub unchanged: usize,
}

impl Store {
    /// The product's units in carts, as the stream consumer keeps it.
    pub async fn cart_total(&self, product: &ProductId) -> Result<i64, StoreError> {
        let item = self.get(crate::outbound::dynamodb::keys::product_pk(product), TOTAL_QUANTITY_SK, false).await?;
        let quantity = item
            .as_ref()
            .and_then(|i| i.get("quantity"))
            .and_then(|v| v.as_n().ok())
            .map(|q| q.parse::<i64>().map_err(|e| StoreError::Backend(e.to_string())))
            .transpose()?;
        Ok(quantity.unwrap_or(0))
    }

    /// A product, its stock, its cart total and (for a caller with a cart) the
    /// caller's own line of it: one `BatchGetItem`.
    pub async fn product_view(
        &self,
        id: &ProductId,
        own_cart: Option<&crate::domain::CartOwner>,
    ) -> Result<ProductView, StoreError> {
        self.read_product_view(id, own_cart, ViewParts { stock: true, total: true }).await
    }

    /// What a cart write needs: the product, its stock and the owner's line,
    /// in one `BatchGetItem` (`in_carts` stays 0: the total is not read).
    pub async fn line_view(&self, id: &ProductId, owner: &crate::domain::CartOwner) -> Result<ProductView, StoreError> {
        self.read_product_view(id, Some(owner), ViewParts { stock: true, total: false }).await
    }

    /// The product and its cart total, in one `BatchGetItem` (`stock` stays
    /// `None`: it is not read).
    pub async fn product_total(&self, id: &ProductId) -> Result<ProductView, StoreError> {
        self.read_product_view(id, None, ViewParts { stock: false, total: true }).await
    }

    async fn read_product_view(
        &self,
        id: &ProductId,
        own_cart: Option<&crate::domain::CartOwner>,
        parts: ViewParts,
    ) -> Result<ProductView, StoreError> {
        let pk = crate::outbound::dynamodb::keys::product_pk(id);
        let mut keys = vec![key(pk.clone(), crate::outbound::dynamodb::keys::PRODUCT_META_SK)];
        if parts.stock {
            keys.push(key(pk.clone(), crate::outbound::dynamodb::keys::STOCK_SK));
        }
        if parts.total {
            keys.push(key(pk.clone(), TOTAL_QUANTITY_SK));
        }
        if let Some(owner) = own_cart {
            keys.push(key(
                crate::outbound::dynamodb::keys::cart_pk(owner),
                crate::outbound::dynamodb::keys::line_sk(id),
            ));
        }
        let mut view = ProductView::default();
        for item in self.batch_get_keys(keys).await? {
            let (item_pk, sk) = super::item_key(&item);
            match sk {
                crate::outbound::dynamodb::keys::PRODUCT_META_SK => {
                    let rated = super::reviews::rated_product(item)?;
                    (view.product, view.rating) = (Some(rated.product), rated.rating);
                }
                crate::outbound::dynamodb::keys::STOCK_SK => {
                    view.stock = Some(from_item::<_, crate::domain::StockLevels>(item)?)
                }
                TOTAL_QUANTITY_SK => {
                    view.in_carts =
                        item.get("quantity").and_then(|v| v.as_n().ok()).and_then(|q| q.parse().ok()).unwrap_or(0)
                }
                _ if item_pk != pk => {
                    view.own_line = Some(from_item::<_, super::items::CartLineItem>(item)?.into_line()?)
                }
                _ => {}
            }
        }
        // A sharded product's stock is the sum of its shards: the first came
        // with the product, the others in one read more.
        if parts.stock {
            if let Some(shards) = view.product.as_ref().map(|p| p.stock_shards).filter(|s| !s.is_single()) {
                let mut levels = self.shard_stocks_from(id, shards, 1).await?;
                levels.extend(view.stock);
                view.stock = Some(crate::domain::total_stock(&levels));
            }
        }
        Ok(view)
    }

    /// The counted lines `counts` would overwrite, in one read (one
    /// `BatchGetItem` per 100 lines), keyed by product partition and sort key.
    pub async fn counted_lines(&self, counts: &[LineCount]) -> Result<CountedLines, StoreError> {
        let keys = counts
            .iter()
            .map(|c| key(crate::outbound::dynamodb::keys::product_pk(&c.product), counted_line_sk(&c.cart_pk)))
            .collect();
        let found = self.batch_get_keys(keys).await?;
        let lines = found
            .into_iter()
            .map(|item| from_item::<_, CountedLine>(item).map(|c| ((c.pk.clone(), c.sk.clone()), c)))
            .collect::<Result<_, _>>()?;
        Ok(CountedLines(lines))
    }

    /// Applies the newest count of each of one product's cart lines (one per
    /// cart) and moves the product's total by the difference, exactly once.
    /// `read` holds the counted lines as read before (see [`Self::counted_lines`]);
    /// after a conflict this product's lines are read again.
    pub async fn apply_line_counts(
        &self,
        product: &ProductId,
        counts: &[LineCount],
        read: &CountedLines,
        now: i64,
    ) -> Result<TotalsApplied, StoreError> {
        let mut outcome = TotalsApplied::default();
        for chunk in counts.chunks(LINES_PER_TRANSACTION) {
            let mut attempt = 0;
            let mut reread = None;
            loop {
                let stored = reread.as_ref().unwrap_or(read);
                match self.apply_chunk(product, chunk, stored, now).await {
                    Ok(done) => {
                        outcome.applied += done.applied;
                        outcome.replayed += done.replayed;
                        outcome.unchanged += done.unchanged;
                        break;
                    }
                    Err(StoreError::Conflict) if attempt + 1 < CONFLICT_ATTEMPTS => {
                        attempt += 1;
                        reread = Some(self.counted_lines(chunk).await?);
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(outcome)
    }

    async fn apply_chunk(
        &self,
        product: &ProductId,
        counts: &[LineCount],
        stored: &CountedLines,
        now: i64,
    ) -> Result<TotalsApplied, StoreError> {
        let pk = crate::outbound::dynamodb::keys::product_pk(product);
        let mut outcome = TotalsApplied::default();
        let mut writes = Vec::new();
        let mut delta = 0;
        for count in counts {
            let sk = counted_line_sk(&count.cart_pk);
            let previous = stored.0.get(&(pk.clone(), sk.clone()));
            match decide_count(previous.map(|p| (&p.last_sequence, p.counted)), &count.sequence, count.counted) {
                CountDecision::Replayed => {
                    outcome.replayed += 1;
                    continue;
                }
                CountDecision::Unchanged => {
                    outcome.unchanged += 1;
                    continue;
                }
                CountDecision::Apply { delta: change } => delta += change,
            }
            let item = CountedLine {
                pk: pk.clone(),
                sk,
                counted: count.counted,
                last_sequence: count.sequence.clone(),
                expiration_time: (count.counted == 0).then_some(now + ZERO_LINE_RETENTION_SECS),
            };
            let put = Put::builder().table_name(&self.table).set_item(Some(item_of(&item)?));
            let put = match previous {
                None => put.condition_expression("attribute_not_exists(pk)"),
                Some(p) => put
                    .condition_expression("lastSequence = :seen")
                    .expression_attribute_values(":seen", s(p.last_sequence.as_padded())),
            };
            writes.push(TransactWriteItem::builder().put(put.build().map_err(build_error)?).build());
            outcome.applied += 1;
        }
        if writes.is_empty() {
            return Ok(outcome);
        }
        if delta != 0 {
            let update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(pk, TOTAL_QUANTITY_SK)))
                .update_expression("ADD quantity :d")
                .expression_attribute_values(":d", n(delta))
                .build()
                .map_err(build_error)?;
            writes.push(TransactWriteItem::builder().update(update).build());
        }
        self.client.transact_write_items().set_transact_items(Some(writes)).send().await?;
        Ok(outcome)
    }

    /// Sets a product's total and counted lines to what the carts hold, each
    /// write conditional on what the reconciliation read (a concurrent
    /// consumer makes it fail with a conflict; run it again).
    pub(crate) async fn repair_product_totals(
        &self,
        product: &ProductId,
        read_total: Option<i64>,
        corrected_lines: &[(String, Option<CountedLine>, i64)],
        new_total: i64,
    ) -> Result<(), StoreError> {
        let pk = crate::outbound::dynamodb::keys::product_pk(product);
        let mut writes = Vec::new();
        for (cart_pk, stored, units) in corrected_lines {
            let update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(pk.clone(), counted_line_sk(cart_pk))))
                .expression_attribute_values(":c", n(units));
            // A line the stream never reported gets sequence 0: any later record wins.
            let update = match stored {
                None => update
                    .update_expression("SET counted = :c, lastSequence = :seq")
                    .condition_expression("attribute_not_exists(pk)")
                    .expression_attribute_values(
                        ":seq",
                        s(SequenceNumber::parse("0").map(|q| q.as_padded().to_owned()).unwrap_or_default()),
                    ),
                Some(line) => update
                    .update_expression("SET counted = :c")
                    .condition_expression("lastSequence = :seen AND counted = :was")
                    .expression_attribute_values(":seen", s(line.last_sequence.as_padded()))
                    .expression_attribute_values(":was", n(line.counted)),
            };
            writes.push(TransactWriteItem::builder().update(update.build().map_err(build_error)?).build());
        }
        let total = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk, TOTAL_QUANTITY_SK)))
            .update_expression("SET quantity = :q")
            .expression_attribute_values(":q", n(new_total));
        let total = match read_total {
            None => total.condition_expression("attribute_not_exists(pk)"),
            Some(t) => total.condition_expression("quantity = :was").expression_attribute_values(":was", n(t)),
        };
        writes.push(TransactWriteItem::builder().update(total.build().map_err(build_error)?).build());
        // More than 100 writes cannot be one transaction; each chunk still
        // checks what it overwrites.
        for chunk in writes.chunks(100) {
            self.client.transact_write_items().set_transact_items(Some(chunk.to_vec())).send().await?;
        }
        Ok(())
    }
}
