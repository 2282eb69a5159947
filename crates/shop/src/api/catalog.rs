//! Catalog endpoints: browsing (all, by category, paged), product pages with
//! live stock, categories, best sellers, and the admin's create, edit, restock.

use http::StatusCode;
use lambda_http::Request;
use serde::Deserialize;

use super::views::{
    catalog_entries, Available, Bestseller, Categories, CreatedProduct, ProductAnswer, ProductList, ProductPage,
    Resharded, Restocked, StockShown,
};
use super::{page_limit, query_param, Reply};
use crate::domain::{total_stock, validate_restock_delta, CartOwner, Package, Product, ProductId, StockShards};
use crate::http::{cart_cookie_owner, detailed, json_body, path_param, ApiError};
use crate::store::{self, product_page_start, StoreError};
use crate::{cursor, now_epoch_secs, App};

const MAX_PAGE: i32 = 100;
const DEFAULT_PAGE: i32 = 20;
const MAX_INITIAL_STOCK: i64 = 1_000_000;

pub(super) async fn list_products(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let category = query_param(req, "category");
    let raw_cursor = query_param(req, "cursor");
    if category.is_none() && raw_cursor.is_none() && query_param(req, "limit").is_none() {
        // The sample's call: the whole catalog.
        let products = app.store.all_products().await?;
        return Ok(Reply::ok(ProductList { products: &catalog_entries(&products), next_cursor: None }));
    }
    if let Some(c) = &category {
        validate_category(c)?;
    }
    let limit = page_limit(req, DEFAULT_PAGE, MAX_PAGE)?;
    let start = raw_cursor.map(|raw| product_page_start(&raw, category.as_deref())).transpose()?;
    let page = app.store.product_page(category.as_deref(), limit, start.as_ref()).await?;
    let next_cursor = page.next.as_ref().map(cursor::encode);
    Ok(Reply::ok(ProductList { products: &catalog_entries(&page.products), next_cursor }))
}

pub(super) async fn get_product(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let id = ProductId::parse(&path_param(req, "product_id")?)?;
    let (caller, is_admin) = caller_cart(app, req).await?;
    // Product, stock, total and the caller's own line: one read.
    let found = app.store.product_view(&id, caller.as_ref()).await?;
    let product = found.product.ok_or_else(|| ApiError::NotFound(format!("product {id} not found")))?;
    let stock = found.stock.unwrap_or_default();
    // "In other shoppers' carts": the caller's own units do not count.
    let own = found.own_line.filter(|l| l.is_live(now_epoch_secs())).map_or(0, |l| l.quantity);
    // Shoppers see what they can buy; admins see every counter.
    let stock = if is_admin { StockShown::Full(stock) } else { StockShown::Available { available: stock.available } };
    let page =
        ProductPage { product: &product, rating: found.rating.into(), stock, in_carts: (found.in_carts - own).max(0) };
    Ok(Reply::ok(ProductAnswer { product: page }))
}

/// The caller's cart, if the request says whose it is (never creates one),
/// and whether the caller is an admin.
async fn caller_cart(app: &App, req: &Request) -> Result<(Option<CartOwner>, bool), ApiError> {
    if req.headers().contains_key(http::header::AUTHORIZATION) {
        let identity = app.signed_in(req).await?;
        return Ok((Some(CartOwner::user(&identity.sub)?), app.grants_admin(&identity).await?));
    }
    Ok((cart_cookie_owner(req)?, false))
}

pub(super) async fn list_categories(app: &App, _req: &Request) -> Result<Reply, ApiError> {
    Ok(Reply::ok(Categories { categories: app.store.categories().await? }))
}

pub(super) async fn bestsellers(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let limit = page_limit(req, 10, 50)?;
    let ranked = app.store.bestsellers(limit).await?;
    let products: Vec<Bestseller> = ranked
        .iter()
        .filter(|(_, sold)| *sold > 0)
        .map(|(rated, units_sold)| Bestseller { entry: rated.into(), units_sold: *units_sold })
        .collect();
    Ok(Reply::ok(ProductList { products: &products, next_cursor: None }))
}

/// A product's package as a request sends it: closed, as the contract says
/// (`additionalProperties: false`), at this depth too.
#[derive(Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct PackageInput {
    height: u32,
    length: u32,
    weight: u32,
    width: u32,
}

impl From<PackageInput> for Package {
    fn from(p: PackageInput) -> Self {
        Self { height: p.height, length: p.length, weight: p.weight, width: p.width }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewProduct {
    product_id: Option<String>,
    name: String,
    category: String,
    #[serde(default)]
    description: String,
    price: u64,
    package: Option<PackageInput>,
    #[serde(default)]
    pictures: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    initial_stock: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ProductChanges {
    name: Option<String>,
    category: Option<String>,
    description: Option<String>,
    price: Option<u64>,
    package: Option<PackageInput>,
    pictures: Option<Vec<String>>,
    tags: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Restock {
    delta: i64,
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::BadRequest(message.into())
}

fn validate_category(category: &str) -> Result<(), ApiError> {
    let ok = (1..=40).contains(&category.len())
        && category.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    ok.then_some(()).ok_or_else(|| bad("category must be 1 to 40 lowercase letters, digits or '-'"))
}

fn validate_name(name: &str) -> Result<(), ApiError> {
    if name.trim().is_empty() || name.len() > 200 {
        return Err(bad("name must be 1 to 200 characters"));
    }
    Ok(())
}

fn validate_description(description: &str) -> Result<(), ApiError> {
    if description.len() > 2000 {
        return Err(bad("description must be at most 2000 characters"));
    }
    Ok(())
}

fn validate_price(price: u64) -> Result<(), ApiError> {
    if !(1..=10_000_000).contains(&price) {
        return Err(bad("price must be 1 to 10000000 cents"));
    }
    Ok(())
}

fn validate_pictures(pictures: &[String]) -> Result<(), ApiError> {
    if pictures.len() > 10 || pictures.iter().any(|u| u.is_empty() || u.len() > 500) {
        return Err(bad("at most 10 pictures, each a URL of at most 500 characters"));
    }
    Ok(())
}

fn validate_tags(tags: &[String]) -> Result<(), ApiError> {
    if tags.len() > 20 || tags.iter().any(|t| t.is_empty() || t.len() > 40) {
        return Err(bad("at most 20 tags of 1 to 40 characters"));
    }
    Ok(())
}

/// Catalog fields an admin may set, within sane bounds.
fn validate_product(p: &Product) -> Result<(), ApiError> {
    validate_name(&p.name)?;
    validate_category(&p.category)?;
    validate_description(&p.description)?;
    validate_price(p.price)?;
    validate_pictures(&p.pictures)?;
    validate_tags(&p.tags)
}

fn today() -> String {
    crate::rfc3339(now_epoch_secs())
}

pub(super) async fn create_product(app: &App, req: &Request) -> Result<Reply, ApiError> {
    app.admin(req).await?;
    let body: NewProduct = json_body(req)?;
    let id = match &body.product_id {
        Some(raw) => ProductId::parse(raw)?,
        None => ProductId::parse(&uuid::Uuid::new_v4().to_string())?,
    };
    if !(0..=MAX_INITIAL_STOCK).contains(&body.initial_stock) {
        return Err(bad(format!("initialStock must be 0 to {MAX_INITIAL_STOCK}")));
    }
    let now = today();
    let product = Product {
        product_id: id.to_string(),
        category: body.category,
        name: body.name,
        description: body.description,
        price: body.price,
        created_date: now.clone(),
        modified_date: now,
        package: body.package.map_or(Package { height: 0, length: 0, weight: 0, width: 0 }, Package::from),
        pictures: body.pictures,
        tags: body.tags,
        stock_shards: StockShards::default(),
    };
    validate_product(&product)?;
    match app.store.create_product(product.clone(), body.initial_stock).await {
        Ok(()) => {}
        Err(StoreError::Conflict) => return Err(ApiError::Conflict(format!("product {id} already exists"))),
        Err(e) => return Err(e.into()),
    }
    let stock = StockShown::Available { available: body.initial_stock };
    Ok(Reply::created(CreatedProduct { product: &product, stock }))
}

pub(super) async fn update_product(app: &App, req: &Request) -> Result<Reply, ApiError> {
    app.admin(req).await?;
    let raw_id = path_param(req, "product_id")?;
    let changes: ProductChanges = json_body(req)?;
    let id = ProductId::parse(&raw_id)?;
    // Only the fields sent change: one conditional update that answers the
    // product as it now is, no read first.
    let mut fields: Vec<(&'static str, aws_sdk_dynamodb::types::AttributeValue)> = Vec::new();
    changed(&mut fields, "name", changes.name.as_deref(), validate_name)?;
    changed(&mut fields, "category", changes.category.as_deref(), validate_category)?;
    changed(&mut fields, "description", changes.description.as_deref(), validate_description)?;
    changed(&mut fields, "price", changes.price.as_ref(), |p| validate_price(*p))?;
    changed(&mut fields, "package", changes.package.as_ref(), |_| Ok(()))?;
    changed(&mut fields, "pictures", changes.pictures.as_deref(), validate_pictures)?;
    changed(&mut fields, "tags", changes.tags.as_deref(), validate_tags)?;
    fields.push(("modifiedDate", attribute(&today())?));
    match app.store.patch_product(&id, fields, changes.category.as_deref()).await {
        Ok(product) => Ok(Reply::ok(ProductAnswer { product })),
        Err(StoreError::Conflict) => Err(ApiError::NotFound(format!("product {id} not found"))),
        Err(e) => Err(e.into()),
    }
}

/// A catalog field as a DynamoDB attribute value.
/// Adds a field sent in a product edit, once it passes its check.
fn changed<T: serde::Serialize + ?Sized>(
    fields: &mut Vec<(&'static str, aws_sdk_dynamodb::types::AttributeValue)>,
    name: &'static str,
    value: Option<&T>,
    check: impl FnOnce(&T) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    if let Some(value) = value {
        check(value)?;
        fields.push((name, attribute(value)?));
    }
    Ok(())
}

fn attribute<T: serde::Serialize + ?Sized>(value: &T) -> Result<aws_sdk_dynamodb::types::AttributeValue, ApiError> {
    serde_dynamo::to_attribute_value(value).map_err(|e| ApiError::Internal(e.to_string()))
}

pub(super) async fn restock(app: &App, req: &Request) -> Result<Reply, ApiError> {
    app.admin(req).await?;
    let raw_id = path_param(req, "product_id")?;
    let body: Restock = json_body(req)?;
    let delta = validate_restock_delta(body.delta)?;
    let id = ProductId::parse(&raw_id)?;
    let key = super::idempotency_key(req)?;
    // How the product's stock is split decides which items the change writes.
    let product = app.store.product(&id).await?.ok_or_else(|| ApiError::NotFound(format!("product {id} not found")))?;
    let shards = product.stock_shards;
    match app.store.restock(&id, shards, delta, key.as_deref()).await {
        Ok(store::Restocked::Applied(stock)) => Ok(Reply::ok(Restocked { product_id: &id, stock, replayed: false })),
        Ok(store::Restocked::Replayed(stock)) => Ok(Reply::ok(Restocked { product_id: &id, stock, replayed: true })),
        Ok(store::Restocked::KeyUsedForAnother { delta: first }) => Err(ApiError::Conflict(format!(
            "this Idempotency-Key was used for a different request (a restock of {first}); use a new key"
        ))),
        Err(StoreError::Conflict) => {
            let available = total_stock(&app.store.shard_stocks(&id, shards).await?).available;
            let message = format!("cannot remove {} units: only {available} available", -delta);
            Err(detailed(StatusCode::CONFLICT, message, Available { available }))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reshard {
    shards: u32,
}

/// Splits a product's stock into `shards` (more for a hot product, fewer
/// after the rush): an admin's call, safe during a sale.
pub(super) async fn reshard_stock(app: &App, req: &Request) -> Result<Reply, ApiError> {
    app.admin(req).await?;
    let raw_id = path_param(req, "product_id")?;
    let body: Reshard = json_body(req)?;
    let id = ProductId::parse(&raw_id)?;
    let product = app.store.product(&id).await?.ok_or_else(|| ApiError::NotFound(format!("product {id} not found")))?;
    let from = product.stock_shards;
    let to = from.resharded(body.shards)?;
    match app.store.reshard(&id, from, to).await {
        Ok(shard_stocks) => {
            Ok(Reply::ok(Resharded { product_id: &id, shards: to, stock: total_stock(&shard_stocks), shard_stocks }))
        }
        Err(StoreError::Conflict) => {
            Err(ApiError::Conflict(format!("product {id}'s stock was resharded meanwhile; read it and retry")))
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_are_slugs() {
        assert!(validate_category("sweet").is_ok());
        assert!(validate_category("gift-boxes-2").is_ok());
        for bad in ["", "Sweet", "a b", "x#y", &"a".repeat(41)] {
            assert!(validate_category(bad).is_err(), "{bad}");
        }
    }
}
