//! The catalog: products (one by id, every one, a category's page, some by
//! id), the category list, and the admin's changes: new products, edits,
//! restocks and reshards. Every stock change is a conditional write: no
//! counter goes below zero and `available + reserved + sold == added` holds
//! after each one.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use serde_dynamo::{from_item, to_item};

use super::cursor::{self, CursorError};
use super::items::{ProductItem, StockItem, STOCK_WRITTEN};
use super::keys::{product_of_key, product_pk, stock_shard_pk, CATALOG_PARTITION, PRODUCT_META_SK, STOCK_SK};
use super::{build_error, key, n, reviews, s, transact_error, Item, Store, StoreError};
use crate::domain::{
    plan_takes, rebalance, spread, total_stock, Product, ProductId, ProductPatch, RatedProduct, StockLevels,
    StockShards, StockTake,
};
use crate::use_cases::ports::{CatalogStore, Restocked};

/// GSI over product items only (sparse): every product, by id.
pub const CATALOG_INDEX: &str = "catalog-index";
/// GSI over product items by category (sparse), sorted by product id.
pub const CATEGORY_INDEX: &str = "category-index";
const CATEGORIES_PK: &str = "catalog";
const CATEGORIES_SK: &str = "categories";

const RESTOCK_KEY_PREFIX: &str = "restock#";

/// A page of a category and the key to continue from.
pub struct CategoryPage {
    pub products: Vec<RatedProduct>,
    pub next: Option<PageKey>,
}

/// The last evaluated key of a product-index query, as plain strings.
pub type PageKey = HashMap<String, String>;

fn page_key_of(item: Item) -> PageKey {
    item.into_iter().filter_map(|(k, v)| v.as_s().ok().map(|s| (k, s.clone()))).collect()
}

fn item_of_page_key(key: &PageKey) -> Item {
    key.iter().map(|(k, v)| (k.clone(), AttributeValue::S(v.clone()))).collect()
}

fn add_category(table: &str, category: &str) -> Result<Update, StoreError> {
    Update::builder()
        .table_name(table)
        .set_key(Some(key(CATEGORIES_PK, CATEGORIES_SK)))
        .update_expression("ADD #names :c")
        .expression_attribute_names("#names", "names")
        .expression_attribute_values(":c", AttributeValue::Ss(vec![category.to_owned()]))
        .build()
        .map_err(build_error)
}

/// Where a catalog (or category) page starts: a cursor `product_page`
/// answered for the same listing, checked before it reaches DynamoDB.
pub fn product_page_start(raw: &str, category: Option<&str>) -> Result<PageKey, CursorError> {
    let index_key = if category.is_some() { "category" } else { "catalog" };
    cursor::decode(raw, &["pk", "sk", index_key, "productId"], |name, value| match name {
        "pk" => product_of_key(value).is_some(),
        "sk" => value == PRODUCT_META_SK,
        "category" => Some(value) == category,
        "catalog" => value == CATALOG_PARTITION,
        _ => ProductId::parse(value).is_ok(),
    })
}

impl Store {
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

    pub async fn categories(&self) -> Result<Vec<String>, StoreError> {
        let item = self.get(CATEGORIES_PK, CATEGORIES_SK, false).await?;
        let mut names: Vec<String> =
            item.and_then(|mut i| i.remove("names")).and_then(|v| v.as_ss().ok().cloned()).unwrap_or_default();
        names.sort();
        Ok(names)
    }

    /// One page of products, of a category (through the category index) or of
    /// the whole catalog (through the catalog index).
    pub async fn product_page(
        &self,
        category: Option<&str>,
        limit: i32,
        start: Option<&PageKey>,
    ) -> Result<CategoryPage, StoreError> {
        let query = self.client.query().table_name(&self.table);
        let (query, index_key) = match category {
            Some(c) => (
                query
                    .index_name(CATEGORY_INDEX)
                    .key_condition_expression("category = :c")
                    .expression_attribute_values(":c", s(c)),
                "category",
            ),
            None => (
                query
                    .index_name(super::CATALOG_INDEX)
                    .key_condition_expression("#catalog = :c")
                    .expression_attribute_names("#catalog", "catalog")
                    .expression_attribute_values(":c", s(CATALOG_PARTITION)),
                "catalog",
            ),
        };
        let (items, next) =
            self.page(query, limit, &["pk", "sk", index_key, "productId"], start.map(item_of_page_key)).await?;
        let products = items.into_iter().map(super::reviews::rated_product).collect::<Result<Vec<_>, _>>()?;
        Ok(CategoryPage { products, next: next.map(page_key_of) })
    }

    /// Catalog entries by id (missing ids are simply absent).
    pub async fn products(&self, ids: &[ProductId]) -> Result<HashMap<String, Product>, StoreError> {
        let items = self.batch_get(ids, PRODUCT_META_SK).await?;
        items
            .into_iter()
            .map(|i| from_item::<_, Product>(i).map(|p| (p.product_id.clone(), p)))
            .collect::<Result<_, _>>()
            .map_err(Into::into)
    }

    pub(super) async fn batch_get(&self, ids: &[ProductId], sk: &str) -> Result<Vec<Item>, StoreError> {
        self.batch_get_keys(ids.iter().map(|id| key(product_pk(id), sk)).collect()).await
    }
}

/// Catalog administration. Every stock change is a conditional write: no
/// counter goes below zero and `available + reserved + sold == added` holds.
impl CatalogStore for Store {
    async fn create_product(&self, product: &Product, initial_stock: i64) -> Result<(), StoreError> {
        let id = ProductId::parse(&product.product_id).map_err(|e| StoreError::Malformed(e.to_string()))?;
        let item = ProductItem::new(&id, product);
        let stock = StockItem::new(
            &id,
            StockLevels { available: initial_stock, reserved: 0, sold: 0, added: initial_stock },
            self.partitions,
        );
        let put = |item: Item| {
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(build_error)
        };
        self.client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put(to_item(&item)?)?).build())
            .transact_items(TransactWriteItem::builder().put(put(to_item(&stock)?)?).build())
            .transact_items(TransactWriteItem::builder().update(add_category(&self.table, &product.category)?).build())
            .send()
            .await?;
        Ok(())
    }

    /// One conditional update, no read first. A new category joins the
    /// category list after (adding one is idempotent: a retry completes it).
    async fn edit_product(
        &self,
        id: &ProductId,
        patch: &ProductPatch,
        modified_date: &str,
    ) -> Result<Option<Product>, StoreError> {
        let mut fields: Vec<(&str, AttributeValue)> = Vec::new();
        let mut set = |name: &'static str, value: Option<AttributeValue>| {
            if let Some(value) = value {
                fields.push((name, value));
            }
        };
        set("name", patch.name.as_ref().map(s));
        set("category", patch.category.as_ref().map(s));
        set("description", patch.description.as_ref().map(s));
        set("price", patch.price.map(n));
        set("package", patch.package.as_ref().map(serde_dynamo::to_attribute_value).transpose()?);
        set("pictures", patch.pictures.as_ref().map(serde_dynamo::to_attribute_value).transpose()?);
        set("tags", patch.tags.as_ref().map(serde_dynamo::to_attribute_value).transpose()?);
        set("modifiedDate", Some(s(modified_date)));
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(product_pk(id), PRODUCT_META_SK)))
            .condition_expression("attribute_exists(pk)")
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew);
        let mut sets = Vec::new();
        for (i, (name, value)) in fields.into_iter().enumerate() {
            sets.push(format!("#f{i} = :v{i}"));
            update = update
                .expression_attribute_names(format!("#f{i}"), name)
                .expression_attribute_values(format!(":v{i}"), value);
        }
        let out = match update.update_expression(format!("SET {}", sets.join(", "))).send().await {
            Ok(out) => out,
            Err(e) => match StoreError::from(e) {
                StoreError::Conflict => return Ok(None),
                other => return Err(other),
            },
        };
        let product = from_item::<_, Product>(out.attributes.unwrap_or_default())?;
        if let Some(category) = &patch.category {
            self.client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key(CATEGORIES_PK, CATEGORIES_SK)))
                .update_expression("ADD #names :c")
                .expression_attribute_names("#names", "names")
                .expression_attribute_values(":c", AttributeValue::Ss(vec![category.to_owned()]))
                .send()
                .await?;
        }
        Ok(Some(product))
    }

    /// Adds (or, negative, removes) available units: a sharded product's
    /// spread evenly over its active shards, or taken from the fullest.
    /// Removing more than is available fails with `Conflict`; the counters
    /// never go below zero. With an idempotency key the change is recorded
    /// with it in the same transaction, so a retried request changes nothing
    /// twice (`replayed`). Answers the product's stock after.
    async fn restock(
        &self,
        id: &ProductId,
        shards: StockShards,
        delta: i64,
        idempotency_key: Option<&str>,
    ) -> Result<Restocked, StoreError> {
        let takes = if shards.is_single() {
            vec![StockTake { shard: 0, units: delta }]
        } else if delta > 0 {
            spread(delta, shards.active)
        } else {
            let available: Vec<i64> = self.shard_stocks(id, shards).await?.iter().map(|s| s.available).collect();
            let fullest = (0..available.len()).max_by_key(|s| available[*s]).unwrap_or(0);
            let taken = plan_takes(-delta, &available, fullest).ok_or(StoreError::Conflict)?;
            taken.into_iter().map(|t| StockTake { shard: t.shard, units: -t.units }).collect()
        };
        let change = |take: &StockTake| -> Result<Update, StoreError> {
            let mut update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(stock_shard_pk(id, take.shard), STOCK_SK)))
                .update_expression(format!("SET available = available + :d, added = added + :d{STOCK_WRITTEN}"))
                .expression_attribute_values(":d", n(take.units))
                .expression_attribute_values(":one", n(1));
            update = if take.units < 0 {
                update
                    .condition_expression("attribute_exists(pk) AND available >= :take")
                    .expression_attribute_values(":take", n(-take.units))
            } else {
                update.condition_expression("attribute_exists(pk)")
            };
            update.build().map_err(build_error)
        };
        if let (None, [take]) = (idempotency_key, takes.as_slice()) {
            // One stock item and no key: one conditional update that answers the counters.
            let update = change(take)?;
            let out = self
                .client
                .update_item()
                .table_name(update.table_name)
                .set_key(Some(update.key))
                .update_expression(update.update_expression)
                .set_condition_expression(update.condition_expression)
                .set_expression_attribute_values(update.expression_attribute_values)
                .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
                .send()
                .await?;
            let levels = from_item::<_, StockLevels>(out.attributes.unwrap_or_default())?;
            return Ok(Restocked::Applied(levels));
        }
        // Otherwise one transaction: every shard's change and the key's record
        // (a transaction answers nothing: the counters are read after).
        let mut items = takes
            .iter()
            .map(|t| change(t).map(|u| TransactWriteItem::builder().update(u).build()))
            .collect::<Result<Vec<_>, _>>()?;
        let record_key = idempotency_key.map(|k| key(product_pk(id), format!("{RESTOCK_KEY_PREFIX}{k}")));
        if let Some(record_key) = &record_key {
            let mut record = record_key.clone();
            record.insert("delta".into(), n(delta));
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(record))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(build_error)?;
            items.push(TransactWriteItem::builder().put(put).build());
        }
        let replayed = match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => false,
            Err(e) => match (transact_error(e)?.last(), &record_key) {
                (Some(true), Some(_)) => true,
                _ => return Err(StoreError::Conflict),
            },
        };
        if let (true, Some(record_key)) = (replayed, &record_key) {
            // A true retry replays; the same key with another delta is another
            // request, refused rather than answered with the first one's result.
            let (pk, sk) = (record_key["pk"].as_s().cloned(), record_key["sk"].as_s().cloned());
            let first = self.get(pk.unwrap_or_default(), sk.unwrap_or_default(), true).await?;
            let first_delta = first
                .as_ref()
                .and_then(|r| r.get("delta"))
                .and_then(|v| v.as_n().ok())
                .and_then(|d| d.parse::<i64>().ok());
            if let Some(first_delta) = first_delta.filter(|d| *d != delta) {
                return Ok(Restocked::KeyUsedForAnother { delta: first_delta });
            }
        }
        let levels = total_stock(&self.shard_stocks(id, shards).await?);
        Ok(if replayed { Restocked::Replayed(levels) } else { Restocked::Applied(levels) })
    }

    /// The product records the split and any new shard items are created
    /// empty, in one transaction; then available units move so that the
    /// active shards hold even shares and retired ones none, each move one
    /// transaction (both sides change `added` alike, so no unit is lost or
    /// invented; a move that a checkout outran is skipped).
    async fn reshard(
        &self,
        id: &ProductId,
        from: StockShards,
        to: StockShards,
    ) -> Result<Vec<StockLevels>, StoreError> {
        let mut record = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(product_pk(id), PRODUCT_META_SK)))
            .update_expression("SET stockShards = :to")
            .expression_attribute_values(":to", serde_dynamo::to_attribute_value(to)?);
        record = if from.is_single() {
            record
                .condition_expression(
                    "attribute_exists(pk) AND (attribute_not_exists(stockShards) OR stockShards.#items <= :one)",
                )
                .expression_attribute_values(":one", n(1))
        } else {
            record
                .condition_expression("stockShards.active = :active AND stockShards.#items = :items")
                .expression_attribute_values(":active", n(from.active))
                .expression_attribute_values(":items", n(from.items))
        };
        let record = record.expression_attribute_names("#items", "items").build().map_err(build_error)?;
        let mut items = vec![TransactWriteItem::builder().update(record).build()];
        for shard in from.items.max(1)..to.items {
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(to_item(StockItem::shard(id, shard, StockLevels::default()))?))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(build_error)?;
            items.push(TransactWriteItem::builder().put(put).build());
        }
        self.client.transact_write_items().set_transact_items(Some(items)).send().await?;

        let levels = self.shard_stocks(id, to).await?;
        let available: Vec<i64> = levels.iter().map(|s| s.available).collect();
        for (from_shard, to_shard, units) in rebalance(&available, to.active) {
            let side = |shard: u32, sign: &str| {
                let mut update = Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(stock_shard_pk(id, shard), STOCK_SK)))
                    .update_expression(format!(
                        "SET available = available {sign} :u, added = added {sign} :u{STOCK_WRITTEN}"
                    ))
                    .expression_attribute_values(":u", n(units))
                    .expression_attribute_values(":one", n(1));
                update = if sign == "-" {
                    update.condition_expression("available >= :u")
                } else {
                    update.condition_expression("attribute_exists(pk)")
                };
                update.build().map_err(build_error).map(|u| TransactWriteItem::builder().update(u).build())
            };
            let moved = self
                .client
                .transact_write_items()
                .transact_items(side(from_shard, "-")?)
                .transact_items(side(to_shard, "+")?)
                .send()
                .await;
            match moved.map_err(StoreError::from) {
                Ok(_) | Err(StoreError::Conflict) | Err(StoreError::Contended) => {}
                Err(e) => return Err(e),
            }
        }
        self.shard_stocks(id, to).await
    }

    async fn product(&self, id: &ProductId) -> Result<Option<Product>, StoreError> {
        Store::product(self, id).await
    }

    async fn shard_stocks(&self, id: &ProductId, shards: StockShards) -> Result<Vec<StockLevels>, StoreError> {
        Store::shard_stocks(self, id, shards).await
    }
}
