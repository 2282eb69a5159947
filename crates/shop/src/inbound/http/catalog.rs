//! Catalog endpoints: browsing (all, by category, paged), product pages with
//! live stock, categories, best sellers, and the admin's create, edit, restock.

use lambda_http::Request;
use serde::Deserialize;

use super::errors::ApiError;
use super::request::{
    admin, cart_cookie_owner, grants_admin, idempotency_key, json_body, page_limit, path_param, query_param, signed_in,
};
use super::response::Reply;
use super::views::{
    catalog_entries, Bestseller, Categories, CreatedProduct, ProductAnswer, ProductList, ProductPage, Resharded,
    Restocked, StockShown,
};
use crate::app::App;
use crate::clock::now_epoch_secs;
use crate::domain::{check_category, total_stock, CartOwner, Package, ProductDraft, ProductId, ProductPatch};
use crate::outbound::dynamodb::cursor;
use crate::outbound::dynamodb::product_page_start;
use crate::use_cases::catalog;
use crate::use_cases::SystemClock;

const MAX_PAGE: i32 = 100;
const DEFAULT_PAGE: i32 = 20;

pub(super) async fn list_products(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let category = query_param(req, "category");
    let raw_cursor = query_param(req, "cursor");
    if category.is_none() && raw_cursor.is_none() && query_param(req, "limit").is_none() {
        // The sample's call: the whole catalog.
        let products = app.store.all_products().await?;
        return Ok(Reply::ok(ProductList { products: &catalog_entries(&products), next_cursor: None }));
    }
    if let Some(c) = &category {
        check_category(c)?;
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
        let identity = signed_in(app, req).await?;
        return Ok((Some(CartOwner::user(&identity.sub)?), grants_admin(app, &identity).await?));
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
#[derive(Deserialize)]
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

impl From<NewProduct> for ProductDraft {
    fn from(p: NewProduct) -> Self {
        Self {
            name: p.name,
            category: p.category,
            description: p.description,
            price: p.price,
            package: p.package.map(Package::from),
            pictures: p.pictures,
            tags: p.tags,
            initial_stock: p.initial_stock,
        }
    }
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

impl From<ProductChanges> for ProductPatch {
    fn from(c: ProductChanges) -> Self {
        Self {
            name: c.name,
            category: c.category,
            description: c.description,
            price: c.price,
            package: c.package.map(Package::from),
            pictures: c.pictures,
            tags: c.tags,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Restock {
    delta: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reshard {
    shards: u32,
}

pub(super) async fn create_product(app: &App, req: &Request) -> Result<Reply, ApiError> {
    admin(app, req).await?;
    let body: NewProduct = json_body(req)?;
    let id = body.product_id.as_deref().map(ProductId::parse).transpose()?;
    let (product, initial_stock) = catalog::create_product(&app.store, &SystemClock, id, body.into()).await?;
    let stock = StockShown::Available { available: initial_stock };
    Ok(Reply::created(CreatedProduct { product: &product, stock }))
}

pub(super) async fn update_product(app: &App, req: &Request) -> Result<Reply, ApiError> {
    admin(app, req).await?;
    let raw_id = path_param(req, "product_id")?;
    let changes: ProductChanges = json_body(req)?;
    let id = ProductId::parse(&raw_id)?;
    let product = catalog::edit_product(&app.store, &SystemClock, &id, changes.into()).await?;
    Ok(Reply::ok(ProductAnswer { product }))
}

pub(super) async fn restock(app: &App, req: &Request) -> Result<Reply, ApiError> {
    admin(app, req).await?;
    let raw_id = path_param(req, "product_id")?;
    let body: Restock = json_body(req)?;
    let id = ProductId::parse(&raw_id)?;
    let key = idempotency_key(req)?;
    let done = catalog::restock(&app.store, &id, body.delta, key.as_deref()).await?;
    Ok(Reply::ok(Restocked { product_id: &id, stock: done.stock, replayed: done.replayed }))
}

/// Splits a product's stock into `shards` (more for a hot product, fewer
/// after the rush): an admin's call, safe during a sale.
pub(super) async fn reshard_stock(app: &App, req: &Request) -> Result<Reply, ApiError> {
    admin(app, req).await?;
    let raw_id = path_param(req, "product_id")?;
    let body: Reshard = json_body(req)?;
    let id = ProductId::parse(&raw_id)?;
    let done = catalog::reshard(&app.store, &id, body.shards).await?;
    let stock = total_stock(&done.shard_stocks);
    Ok(Reply::ok(Resharded { product_id: &id, shards: done.shards, stock, shard_stocks: done.shard_stocks }))
}
