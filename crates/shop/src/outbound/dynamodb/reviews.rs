//! Reviews, the marks that say who reviewed what, and the rating summary on
//! the product item: every review write is one transaction that also moves
//! the summary's counters, so a scan of the reviews always gives them.

use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem, Update};
use serde_dynamo::{from_item, to_item};

use super::items::ReviewItem;
use super::keys::{
    bought_sk, product_pk, review_sk, reviewed_sk, stars_attribute, user_pk, BOUGHT_PREFIX, PRODUCT_META_SK,
    REVIEW_PREFIX,
};
use super::{build_error, item_key, key, key_cursor, n, s, transact_error, Item, Store, StoreError};
use crate::domain::{Product, ProductId, RatedProduct, RatingChange, RatingSummary, Review, Stars};
use crate::outbound::dynamodb::cursor::{self, CursorError};
use crate::use_cases::ports::{ReviewCreated, ReviewStore};

/// A product's rating summary, taken out of its stored item (absent
/// counters are zero: products from before reviews, or never reviewed).
pub(crate) fn take_rating(item: &mut Item) -> RatingSummary {
    let mut summary = RatingSummary::default();
    for (stars, count) in Stars::all().zip(summary.histogram.iter_mut()) {
        *count = item.remove(&stars_attribute(stars)).and_then(|v| v.as_n().ok()?.parse().ok()).unwrap_or(0);
    }
    summary
}

/// A stored product item read with its rating summary.
pub(crate) fn rated_product(mut item: Item) -> Result<RatedProduct, StoreError> {
    let rating = take_rating(&mut item);
    Ok(RatedProduct { product: from_item::<_, Product>(item)?, rating })
}

/// Where a page of a product's reviews starts: a cursor `review_page`
/// answered for the same product, checked before it reaches DynamoDB.
pub fn review_page_start(raw: &str, product: &ProductId) -> Result<Item, CursorError> {
    let own_pk = product_pk(product);
    let key = cursor::decode(raw, &["pk", "sk"], |name, v| match name {
        "pk" => v == own_pk,
        _ => v.strip_prefix(REVIEW_PREFIX).is_some_and(|id| uuid::Uuid::parse_str(id).is_ok()),
    })?;
    Ok(key.into_iter().map(|(k, v)| (k, s(v))).collect())
}

/// What the signed-in reader of a product's reviews may do there.
#[derive(Debug, Default)]
pub struct ReviewerStanding {
    /// A paid order of theirs holds the product.
    pub bought: bool,
    /// Their review of it, if they wrote one.
    pub own_review_id: Option<String>,
    /// A moderator removed their review of it: they may not write another.
    pub moderated: bool,
}

impl Store {
    /// One page of a product's reviews, newest first (review ids are UUIDv7),
    /// and the cursor of the next page when more follow.
    pub async fn review_page(
        &self,
        product: &ProductId,
        limit: i32,
        start: Option<Item>,
    ) -> Result<(Vec<Review>, Option<String>), StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .consistent_read(true)
            .scan_index_forward(false)
            .key_condition_expression("pk = :pk AND begins_with(sk, :r)")
            .expression_attribute_values(":pk", s(product_pk(product)))
            .expression_attribute_values(":r", s(REVIEW_PREFIX));
        let (items, next) = self.page(query, limit, &["pk", "sk"], start).await?;
        let next = next.map(key_cursor);
        Ok((serde_dynamo::from_items(items)?, next))
    }

    /// Whether `sub` bought the product and which review of it is theirs, in
    /// one `BatchGetItem`.
    pub async fn reviewer_standing(&self, product: &ProductId, sub: &str) -> Result<ReviewerStanding, StoreError> {
        let pk = user_pk(sub);
        let found =
            self.batch_get_keys(vec![key(pk.clone(), bought_sk(product)), key(pk, reviewed_sk(product))]).await?;
        let mut standing = ReviewerStanding::default();
        for item in found {
            match item_key(&item).1 {
                sk if sk.starts_with(BOUGHT_PREFIX) => standing.bought = true,
                _ => {
                    standing.own_review_id = item.get("reviewId").and_then(|v| v.as_s().ok()).cloned();
                    standing.moderated = item.get("moderated").and_then(|v| v.as_bool().ok()).copied().unwrap_or(false);
                }
            }
        }
        Ok(standing)
    }

    /// The summary's counters moved as `change` says (one item of a review's
    /// transaction), on a product that exists.
    fn rating_change(&self, product: &ProductId, change: RatingChange) -> Result<Option<Update>, StoreError> {
        let deltas = change.deltas();
        if deltas.is_empty() {
            return Ok(None);
        }
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(product_pk(product), PRODUCT_META_SK)))
            .condition_expression("attribute_exists(pk)");
        let mut adds = Vec::new();
        for (i, (stars, by)) in deltas.into_iter().enumerate() {
            adds.push(format!("#s{i} :d{i}"));
            update = update
                .expression_attribute_names(format!("#s{i}"), stars_attribute(stars))
                .expression_attribute_values(format!(":d{i}"), n(by));
        }
        Ok(Some(update.update_expression(format!("ADD {}", adds.join(", "))).build().map_err(build_error)?))
    }
}

fn product_of(review: &Review) -> Result<ProductId, StoreError> {
    ProductId::parse(&review.product_id).map_err(|e| StoreError::Malformed(e.to_string()))
}

impl ReviewStore for Store {
    async fn review(&self, product: &ProductId, review_id: &str) -> Result<Option<Review>, StoreError> {
        let item = self.get(product_pk(product), review_sk(review_id), true).await?;
        Ok(item.map(from_item).transpose()?)
    }

    async fn create_review(&self, review: &Review) -> Result<ReviewCreated, StoreError> {
        let product = product_of(review)?;
        let author_pk = user_pk(&review.author);
        let put_review = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(ReviewItem::new(&product, review))?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(build_error)?;
        let mut mark = key(author_pk.clone(), reviewed_sk(&product));
        mark.insert("reviewId".into(), s(&review.review_id));
        let put_mark = Put::builder()
            .table_name(&self.table)
            .set_item(Some(mark))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(build_error)?;
        let summary = self
            .rating_change(&product, RatingChange::created(review.rating))?
            .ok_or_else(|| StoreError::Malformed("a new review moves no star".into()))?;
        // The purchase mark, put when an order holding the product was paid.
        let bought = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key(author_pk.clone(), bought_sk(&product))))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(build_error)?;
        let items = vec![
            TransactWriteItem::builder().put(put_review).build(),
            TransactWriteItem::builder().put(put_mark).build(),
            TransactWriteItem::builder().update(summary).build(),
            TransactWriteItem::builder().condition_check(bought).build(),
        ];
        let failed = match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => return Ok(ReviewCreated::Created),
            Err(e) => transact_error(e)?,
        };
        let is = |i: usize| failed.get(i) == Some(&true);
        // Every failed condition is reported, in the items' order
        // (API_CancellationReason): a missing product outranks the rest.
        if is(2) {
            return Ok(ReviewCreated::NoSuchProduct);
        }
        if is(3) {
            return Ok(ReviewCreated::NotABuyer);
        }
        if is(1) {
            let mark = self.get(author_pk, reviewed_sk(&product), true).await?;
            if mark.as_ref().and_then(|m| m.get("moderated")).and_then(|v| v.as_bool().ok()) == Some(&true) {
                return Ok(ReviewCreated::RemovedByModerator);
            }
            let review_id = mark.and_then(|m| m.get("reviewId").and_then(|v| v.as_s().ok()).cloned());
            // Deleted in between: the author may write again; let them retry.
            return review_id.map(|review_id| ReviewCreated::AlreadyReviewed { review_id }).ok_or(StoreError::Conflict);
        }
        // The new review's id is taken: a UUIDv7 collision, not the caller's doing.
        Err(StoreError::Backend(format!("review id {} already exists", review.review_id)))
    }

    async fn replace_review(&self, read: &Review, edited: &Review) -> Result<(), StoreError> {
        let product = product_of(read)?;
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(ReviewItem::new(&product, edited))?))
            .condition_expression("version = :v")
            .expression_attribute_values(":v", n(read.version))
            .build()
            .map_err(build_error)?;
        let mut items = vec![TransactWriteItem::builder().put(put).build()];
        if let Some(summary) = self.rating_change(&product, RatingChange::edited(read.rating, edited.rating))? {
            items.push(TransactWriteItem::builder().update(summary).build());
        }
        self.client.transact_write_items().set_transact_items(Some(items)).send().await?;
        Ok(())
    }

    async fn delete_review(&self, read: &Review, moderated: bool) -> Result<(), StoreError> {
        let product = product_of(read)?;
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(product_pk(&product), review_sk(&read.review_id))))
            .condition_expression("version = :v")
            .expression_attribute_values(":v", n(read.version))
            .build()
            .map_err(build_error)?;
        // The author's mark goes with their own deletion (they may review the
        // product again); a moderator's leaves it as a tombstone.
        let mark = key(user_pk(&read.author), reviewed_sk(&product));
        let unmark = if moderated {
            let tombstone = Update::builder()
                .table_name(&self.table)
                .set_key(Some(mark))
                .update_expression("SET moderated = :yes REMOVE reviewId")
                .expression_attribute_values(":yes", AttributeValue::Bool(true))
                .build()
                .map_err(build_error)?;
            TransactWriteItem::builder().update(tombstone).build()
        } else {
            let delete = Delete::builder().table_name(&self.table).set_key(Some(mark)).build().map_err(build_error)?;
            TransactWriteItem::builder().delete(delete).build()
        };
        let summary = self
            .rating_change(&product, RatingChange::deleted(read.rating))?
            .ok_or_else(|| StoreError::Malformed("a deletion moves no star".into()))?;
        let items = vec![
            TransactWriteItem::builder().delete(delete).build(),
            unmark,
            TransactWriteItem::builder().update(summary).build(),
        ];
        self.client.transact_write_items().set_transact_items(Some(items)).send().await?;
        Ok(())
    }
}

impl Store {
    /// Rewrites a product's rating summary (reconciliation), conditional on
    /// the counters being what was read.
    pub(crate) async fn repair_rating(
        &self,
        product: &ProductId,
        read: &RatingSummary,
        fixed: &RatingSummary,
    ) -> Result<(), StoreError> {
        let mut update =
            self.client.update_item().table_name(&self.table).set_key(Some(key(product_pk(product), PRODUCT_META_SK)));
        let (mut sets, mut conditions) = (Vec::new(), vec!["attribute_exists(pk)".to_owned()]);
        for (stars, (was, should)) in Stars::all().zip(read.histogram.iter().zip(&fixed.histogram)) {
            let i = stars.get();
            update = update
                .expression_attribute_names(format!("#s{i}"), stars_attribute(stars))
                .expression_attribute_values(format!(":s{i}"), n(should));
            sets.push(format!("#s{i} = :s{i}"));
            // A counter read as 0 may be absent.
            conditions.push(if *was == 0 {
                format!("(attribute_not_exists(#s{i}) OR #s{i} = :r{i})")
            } else {
                format!("#s{i} = :r{i}")
            });
            update = update.expression_attribute_values(format!(":r{i}"), n(was));
        }
        update
            .update_expression(format!("SET {}", sets.join(", ")))
            .condition_expression(conditions.join(" AND "))
            .send()
            .await?;
        Ok(())
    }
}
