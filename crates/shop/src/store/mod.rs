//! DynamoDB adapter: the single table (its key formats in `keys`, its item
//! shapes in `items`) behind the use cases' ports. Every cart write is
//! conditional on the version it read, or (an addition to a live line) on the
//! line's state, so concurrent requests and retries never lose or double an
//! update.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::builders::UpdateBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, Put, TransactWriteItem, Update};
use aws_sdk_dynamodb::Client;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_dynamo::{from_item, from_items, to_item};
use std::collections::HashMap;

use crate::domain::{CartLine, CartOwner, Product, ProductId, RatedProduct};
use crate::use_cases::ports::{CartStore, LineAddition, LineContext, LineMove};
use items::CartLineItem;
use keys::{cart_pk, line_sk, product_pk, CATALOG_PARTITION, PRODUCT_META_SK, PRODUCT_PREFIX};

/// GSI over product items only (sparse): every product, by id.
pub const CATALOG_INDEX: &str = "catalog-index";

pub(crate) type Item = HashMap<String, AttributeValue>;

mod inventory;
pub mod items;
pub mod keys;
mod ledger;
mod orders;
mod reviews;
mod totals;

pub use inventory::{product_page_start, CategoryPage, PageKey, StockRead, BESTSELLER_INDEX, CATEGORY_INDEX};
pub use keys::IndexPartitions;
pub use orders::{order_page_start, Holdings, OrderPageStart, SweepPosition, ORDERS_INDEX, PENDING_INDEX};
pub use reviews::{review_page_start, ReviewerStanding};
pub use totals::{CountedLine, LineCount, ProductView, SequenceNumber, TableSnapshot, TotalsApplied};

pub use crate::use_cases::StoreError;

impl From<serde_dynamo::Error> for StoreError {
    fn from(err: serde_dynamo::Error) -> Self {
        Self::Malformed(err.to_string())
    }
}

impl<E: std::fmt::Debug, R: std::fmt::Debug> From<SdkError<E, R>> for StoreError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    fn from(err: SdkError<E, R>) -> Self {
        if let Some(service) = err.as_service_error() {
            let message = service.message().unwrap_or_default();
            match service.code() {
                // What the SDK's own retries did not get through: a hot
                // partition, or an item another transaction holds.
                Some(code) if CONTENDED_CODES.contains(&code) => return Self::Contended,
                Some("TransactionCanceledException") if CONTENDED_REASONS.iter().any(|r| message.contains(r)) => {
                    return Self::Contended
                }
                Some("ConditionalCheckFailedException") => return Self::Conflict,
                Some("TransactionCanceledException")
                    if service.message().is_some_and(|m| m.contains("ConditionalCheckFailed")) =>
                {
                    return Self::Conflict
                }
                _ => {}
            }
        }
        Self::Backend(format!("{err:?}"))
    }
}

/// DynamoDB's answers to a write that a moment later may pass.
const CONTENDED_CODES: [&str; 4] = [
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "TransactionConflictException",
    "RequestLimitExceeded",
];
/// A transaction's cancellation reasons that say the same of one item.
const CONTENDED_REASONS: [&str; 3] = ["TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"];

/// Which items' conditions cancelled a transaction (one flag per item), or the
/// error itself when it was not a condition. Contention comes first: a
/// transaction cancelled for it says nothing sure about its conditions.
pub(crate) fn transact_error(
    err: SdkError<aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError>,
) -> Result<Vec<bool>, StoreError> {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    if let Some(TransactWriteItemsError::TransactionCanceledException(e)) = err.as_service_error() {
        if e.cancellation_reasons().iter().any(|r| r.code().is_some_and(|c| CONTENDED_REASONS.contains(&c))) {
            return Err(StoreError::Contended);
        }
        let failed: Vec<bool> =
            e.cancellation_reasons().iter().map(|r| r.code() == Some("ConditionalCheckFailed")).collect();
        if failed.iter().any(|f| *f) {
            return Ok(failed);
        }
    }
    Err(err.into())
}

pub(crate) fn build_error(err: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("request: {err}"))
}

#[derive(Clone)]
pub struct Store {
    pub(crate) client: Client,
    pub(crate) table: String,
    /// How the shop-wide index lists are spread (the template's `IndexPartitions`).
    pub(crate) partitions: IndexPartitions,
}

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// BatchGetItem reads at most 100 keys per request.
const BATCH_GET_LIMIT: usize = 100;

/// An item's `pk` and `sk` strings (empty when absent), for sorting and lookups.
pub(crate) fn item_key(item: &Item) -> (&str, &str) {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str).unwrap_or_default();
    (text("pk"), text("sk"))
}

/// A page's last key as the opaque cursor of the next page (string keys).
pub(crate) fn key_cursor(key: Item) -> String {
    let key: HashMap<String, String> =
        key.into_iter().filter_map(|(k, v)| v.as_s().ok().map(|s| (k, s.clone()))).collect();
    crate::cursor::encode(&key)
}

pub(crate) fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

pub(crate) fn item_of<T: Serialize>(value: &T) -> Result<Item, StoreError> {
    Ok(to_item(value)?)
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>, partitions: IndexPartitions) -> Self {
        Self { client, table: table.into(), partitions }
    }

    // ---- catalog ----

    pub async fn product(&self, id: &ProductId) -> Result<Option<Product>, StoreError> {
        let item = self.get(product_pk(id), PRODUCT_META_SK, false).await?;
        Ok(item.map(from_item::<_, Product>).transpose()?)
    }

    /// Every product, by id, through the sparse catalog index (no table scan).
    pub async fn all_products(&self) -> Result<Vec<RatedProduct>, StoreError> {
        let items = self
            .query_all_items(|q| {
                q.index_name(CATALOG_INDEX)
                    .key_condition_expression("#catalog = :c")
                    .expression_attribute_names("#catalog", "catalog")
                    .expression_attribute_values(":c", s(CATALOG_PARTITION))
            })
            .await?;
        items.into_iter().map(reviews::rated_product).collect()
    }

    /// Deletes a migrated line, unless it was revived (written again) since.
    /// Returns false when there was nothing (left) to delete.
    pub async fn delete_migrated_line(
        &self,
        cart: &CartOwner,
        id: &ProductId,
        version: u64,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(cart_pk(cart), line_sk(id))))
            .condition_expression("version = :v AND attribute_exists(migratedTo)")
            .expression_attribute_values(":v", n(version))
            .send()
            .await;
        match result.map_err(StoreError::from) {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Items by key, strongly consistent (missing keys are simply absent).
    pub(crate) async fn batch_get_keys(&self, mut wanted: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        wanted.sort_by(|a, b| item_key(a).cmp(&item_key(b)));
        wanted.dedup();
        let mut found = Vec::new();
        for chunk in wanted.chunks(BATCH_GET_LIMIT) {
            let mut keys = chunk.to_vec();
            // Unprocessed keys come back under throttling: ask again for them.
            for _attempt in 0..5 {
                if keys.is_empty() {
                    break;
                }
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .consistent_read(true)
                    .build()
                    .map_err(build_error)?;
                let out = self.client.batch_get_item().request_items(&self.table, request).send().await?;
                found.extend(out.responses.and_then(|mut r| r.remove(&self.table)).unwrap_or_default());
                keys = out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)).map(|k| k.keys).unwrap_or_default();
            }
            if !keys.is_empty() {
                return Err(StoreError::Backend(format!("{} keys left unprocessed", keys.len())));
            }
        }
        Ok(found)
    }

    /// One item by key; `consistent` for a caller that must read its own writes.
    pub(crate) async fn get(
        &self,
        pk: impl Into<String>,
        sk: impl Into<String>,
        consistent: bool,
    ) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .consistent_read(consistent)
            .set_key(Some(key(pk, sk)))
            .send()
            .await?;
        Ok(out.item)
    }

    /// One page of a query. It asks for one item more than `limit`, so the
    /// returned cursor (the last item's `key_attributes`) is absent exactly
    /// when nothing follows, not one empty page later.
    pub(crate) async fn page(
        &self,
        query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
        limit: i32,
        key_attributes: &[&str],
        start: Option<Item>,
    ) -> Result<(Vec<Item>, Option<Item>), StoreError> {
        let out = query.limit(limit + 1).set_exclusive_start_key(start).send().await?;
        let mut items = out.items.unwrap_or_default();
        let more = items.len() > limit as usize || out.last_evaluated_key.is_some_and(|k| !k.is_empty());
        items.truncate(limit as usize);
        let next = match items.last() {
            Some(last) if more => Some(
                key_attributes
                    .iter()
                    .filter_map(|name| last.get(*name).map(|v| ((*name).to_owned(), v.clone())))
                    .collect(),
            ),
            _ => None,
        };
        Ok((items, next))
    }

    /// Up to `limit` items from each of `list`'s index partitions, asked at
    /// once (`build` makes the query of one partition's key value); the caller
    /// merges them in its own order.
    pub(crate) async fn query_every_partition<F>(
        &self,
        list: &str,
        limit: usize,
        build: F,
    ) -> Result<Vec<Item>, StoreError>
    where
        F: Fn(
            aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
            String,
        ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    {
        let build = &build;
        let queries = self.partitions.all(list).map(|partition| async move {
            let mut items: Vec<Item> = Vec::new();
            let mut start = None;
            // A query answers at most 1 MB: go on until the partition gave `limit`.
            while items.len() < limit {
                let wanted = i32::try_from(limit - items.len()).unwrap_or(i32::MAX);
                let out = build(self.client.query().table_name(&self.table), partition.clone())
                    .limit(wanted)
                    .set_exclusive_start_key(start)
                    .send()
                    .await?;
                items.extend(out.items.unwrap_or_default());
                start = out.last_evaluated_key.filter(|k| !k.is_empty());
                if start.is_none() {
                    break;
                }
            }
            Ok::<_, StoreError>(items)
        });
        Ok(futures::future::try_join_all(queries).await?.into_iter().flatten().collect())
    }

    pub(crate) async fn query_all<T, F>(&self, build: F) -> Result<Vec<T>, StoreError>
    where
        T: DeserializeOwned,
        F: Fn(
            aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
        ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    {
        Ok(from_items::<_, T>(self.query_all_items(build).await?)?)
    }

    /// Every item a query matches, page after page.
    pub(crate) async fn query_all_items<F>(&self, build: F) -> Result<Vec<Item>, StoreError>
    where
        F: Fn(
            aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
        ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page =
                build(self.client.query().table_name(&self.table)).set_exclusive_start_key(start.take()).send().await?;
            out.extend(page.items.unwrap_or_default());
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(out),
            }
        }
    }
}

impl CartStore for Store {
    /// Strongly consistent, so a shopper reads their own writes.
    async fn cart_lines(&self, owner: &CartOwner) -> Result<Vec<CartLine>, StoreError> {
        let pk = cart_pk(owner);
        let items: Vec<CartLineItem> = self
            .query_all(|q| {
                q.consistent_read(true)
                    .key_condition_expression("pk = :pk AND begins_with(sk, :line)")
                    .expression_attribute_values(":pk", s(pk.clone()))
                    .expression_attribute_values(":line", s(PRODUCT_PREFIX))
            })
            .await?;
        items.into_iter().map(CartLineItem::into_line).collect()
    }

    /// The product, its stock and the owner's line, in one `BatchGetItem`.
    async fn line_context(&self, owner: &CartOwner, id: &ProductId) -> Result<LineContext, StoreError> {
        let found = self.line_view(id, owner).await?;
        Ok(LineContext {
            product: found.product,
            available: found.stock.map_or(0, |s| s.available),
            line: found.own_line,
        })
    }

    async fn put_cart_line(
        &self,
        owner: &CartOwner,
        line: &CartLine,
        read_version: Option<u64>,
    ) -> Result<(), StoreError> {
        let (condition, values) = version_condition(read_version);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item_of(&CartLineItem::new(owner, line))?))
            .condition_expression(condition)
            .set_expression_attribute_values(values)
            .send()
            .await?;
        Ok(())
    }

    async fn add_to_line(&self, owner: &CartOwner, add: &LineAddition<'_>) -> Result<i64, StoreError> {
        let mut set = String::from(
            "SET quantity = quantity + :d, version = version + :one, expirationTime = :exp, productDetail = :p",
        );
        let mut condition = String::from(
            "attribute_exists(quantity) AND attribute_not_exists(migratedTo) AND expirationTime > :now AND quantity <= :most",
        );
        let mut values = HashMap::from([
            (":d".to_owned(), n(add.delta)),
            (":one".to_owned(), n(1)),
            (":exp".to_owned(), n(add.expires_at)),
            (":p".to_owned(), serde_dynamo::to_attribute_value(add.product)?),
            (":now".to_owned(), n(add.now)),
            (":most".to_owned(), n(add.most_before)),
        ]);
        if let Some(request) = add.request {
            set.push_str(", recentRequests = list_append(if_not_exists(recentRequests, :none), :request)");
            condition.push_str(" AND NOT contains(recentRequests, :key)");
            values.insert(":none".into(), AttributeValue::L(Vec::new()));
            values.insert(":request".into(), AttributeValue::L(vec![s(request)]));
            values.insert(":key".into(), s(request));
        }
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(cart_pk(owner), line_sk(add.product_id))))
            .update_expression(format!("{set} REMOVE checkoutOrder"))
            .condition_expression(condition)
            .set_expression_attribute_values(Some(values))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await?;
        let quantity = out.attributes.as_ref().and_then(|a| a.get("quantity")).and_then(|v| v.as_n().ok());
        quantity
            .and_then(|q| q.parse().ok())
            .ok_or_else(|| StoreError::Malformed("an addition answered no quantity".into()))
    }

    async fn delete_cart_line(&self, owner: &CartOwner, id: &ProductId, read_version: u64) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(cart_pk(owner), line_sk(id))))
            .condition_expression("version = :v")
            .expression_attribute_values(":v", n(read_version))
            .send()
            .await?;
        Ok(())
    }

    /// Writes each merged user line (conditional on the user line's version
    /// read, or its absence) and marks its anonymous line migrated
    /// (conditional on the version read and on not being migrated), all in
    /// one transaction per 49 lines. A retry or a concurrent migration finds
    /// the mark and moves nothing twice.
    async fn migrate_lines(
        &self,
        anonymous: &CartOwner,
        user: &CartOwner,
        moves: &[LineMove],
    ) -> Result<(), StoreError> {
        for chunk in moves.chunks(crate::domain::MAX_CHECKOUT_LINES) {
            let mut items = Vec::with_capacity(chunk.len() * 2);
            for LineMove { anonymous: line, merged, user_version } in chunk {
                let (condition, values) = version_condition(*user_version);
                let put_user_line = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item_of(&CartLineItem::new(user, merged))?))
                    .condition_expression(condition)
                    .set_expression_attribute_values(values)
                    .build()
                    .map_err(build_error)?;
                let mark_migrated = self
                    .line_update(
                        anonymous,
                        line,
                        "SET migratedTo = :to, version = :next",
                        Some("attribute_not_exists(migratedTo)"),
                    )
                    .expression_attribute_values(":to", s(cart_pk(user)))
                    .build()
                    .map_err(build_error)?;
                items.push(TransactWriteItem::builder().put(put_user_line).build());
                items.push(TransactWriteItem::builder().update(mark_migrated).build());
            }
            if items.is_empty() {
                continue;
            }
            self.client.transact_write_items().set_transact_items(Some(items)).send().await?;
        }
        Ok(())
    }
}

impl Store {
    /// An update of a cart line from the version it was read at to the next:
    /// `expression` sets `version = :next`, and the write fails if the line is
    /// no longer at that version (or `also` does not hold).
    pub(crate) fn line_update(
        &self,
        owner: &CartOwner,
        line: &CartLine,
        expression: &str,
        also: Option<&str>,
    ) -> UpdateBuilder {
        let condition = match also {
            Some(also) => format!("version = :v AND {also}"),
            None => "version = :v".to_owned(),
        };
        Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(cart_pk(owner), line_sk(&line.product_id))))
            .update_expression(expression)
            .condition_expression(condition)
            .expression_attribute_values(":v", n(line.version))
            .expression_attribute_values(":next", n(line.version + 1))
    }
}

pub(crate) fn version_condition(read_version: Option<u64>) -> (String, Option<Item>) {
    match read_version {
        None => ("attribute_not_exists(pk)".into(), None),
        Some(v) => ("version = :v".into(), Some(HashMap::from([(":v".to_owned(), n(v))]))),
    }
}
