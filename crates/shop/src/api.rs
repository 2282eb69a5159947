//! The HTTP endpoints. Each Lambda binary serves one [`Endpoint`]; the local
//! stack serves them all, routed as `template.yaml` declares.

use std::convert::Infallible;

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

use crate::domain::{
    apply_delta, merge_quantities, validate_delta, validate_target, CartOwner, ProductId,
};
use crate::http::{cart_cookie_owner, json_body, json_response, path_param, ApiError, Caller};
use crate::model::{CartLineItem, CartLineView, CleanupMessage, Product};
use crate::store::StoreError;
use crate::{now_epoch_secs, App};

/// Optimistic writes retried this often before the caller gets a 409.
const WRITE_ATTEMPTS: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    ListProducts,
    GetProduct,
    GetCart,
    AddToCart,
    UpdateCartLine,
    MigrateCart,
    GetCartTotal,
}

impl Endpoint {
    pub const ALL: [Endpoint; 7] = [
        Self::ListProducts,
        Self::GetProduct,
        Self::GetCart,
        Self::AddToCart,
        Self::UpdateCartLine,
        Self::MigrateCart,
        Self::GetCartTotal,
    ];

    /// The binary (`BuildProperties.Binary` in `template.yaml`) serving this endpoint.
    pub fn binary_name(self) -> &'static str {
        match self {
            Self::ListProducts => "list-products",
            Self::GetProduct => "get-product",
            Self::GetCart => "get-cart",
            Self::AddToCart => "add-to-cart",
            Self::UpdateCartLine => "update-cart-line",
            Self::MigrateCart => "migrate-cart",
            Self::GetCartTotal => "get-cart-total",
        }
    }

    pub fn from_binary_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.binary_name() == name)
    }

    /// Serves one request; every error becomes its response here.
    pub async fn serve(self, app: &App, req: Request) -> Result<Response<Body>, Infallible> {
        let origin = app.config.allowed_origin.as_str();
        let result = match self {
            Self::ListProducts => list_products(app).await,
            Self::GetProduct => get_product(app, &req).await,
            Self::GetCart => get_cart(app, &req).await,
            Self::AddToCart => add_to_cart(app, &req).await,
            Self::UpdateCartLine => update_cart_line(app, &req).await,
            Self::MigrateCart => migrate_cart(app, &req).await,
            Self::GetCartTotal => get_cart_total(app, &req).await,
        };
        Ok(match result {
            Ok(reply) => reply.into_response(origin),
            Err(err) => err.into_response(origin),
        })
    }
}

/// A successful answer: a JSON body, and the caller when a cookie must be set.
struct Reply {
    status: StatusCode,
    body: serde_json::Value,
    caller: Option<Caller>,
}

impl Reply {
    fn ok(body: serde_json::Value) -> Self {
        Self {
            status: StatusCode::OK,
            body,
            caller: None,
        }
    }

    fn for_caller(caller: Caller, body: serde_json::Value) -> Self {
        Self {
            status: StatusCode::OK,
            body,
            caller: Some(caller),
        }
    }

    fn into_response(self, origin: &str) -> Response<Body> {
        let response = json_response(self.status, &self.body, origin);
        match self.caller {
            Some(caller) => caller.finish(response),
            None => response,
        }
    }
}

async fn list_products(app: &App) -> Result<Reply, ApiError> {
    let products = app.store.all_products().await?;
    Ok(Reply::ok(json!({ "products": products })))
}

async fn known_product(app: &App, raw_id: &str) -> Result<(ProductId, Product), ApiError> {
    let id = ProductId::parse(raw_id)?;
    match app.store.product(&id).await? {
        Some(product) => Ok((id, product)),
        None => Err(ApiError::NotFound(format!("product {id} not found"))),
    }
}

async fn get_product(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let (_, product) = known_product(app, &path_param(req, "product_id")?).await?;
    Ok(Reply::ok(json!({ "product": product })))
}

async fn cart_view(app: &App, owner: &CartOwner) -> Result<Vec<CartLineView>, ApiError> {
    let now = now_epoch_secs();
    let lines = app.store.cart_lines(owner).await?;
    Ok(lines
        .into_iter()
        .filter(|l| l.state().is_live(now))
        .map(CartLineView::from)
        .collect())
}

async fn get_cart(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let caller = app.caller(req).await?;
    let lines = cart_view(app, &caller.cart_owner()?).await?;
    Ok(Reply::for_caller(caller, json!({ "products": lines })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AddToCartBody {
    product_id: String,
    quantity: i64,
}

#[derive(Deserialize)]
struct SetQuantityBody {
    quantity: i64,
}

/// How a line changes: by a delta (POST) or to a target (PUT).
#[derive(Clone, Copy)]
enum LineChange {
    By(i64),
    To(i64),
}

async fn add_to_cart(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let body: AddToCartBody = json_body(req)?;
    let delta = validate_delta(body.quantity)?;
    let caller = app.caller(req).await?;
    let (id, product) = known_product(app, &body.product_id).await?;
    let quantity = change_line(
        app,
        &caller.cart_owner()?,
        &id,
        product,
        LineChange::By(delta),
    )
    .await?;
    Ok(Reply::for_caller(
        caller,
        json!({ "productId": id, "quantity": quantity, "message": "product added to cart" }),
    ))
}

async fn update_cart_line(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let raw_id = path_param(req, "product_id")?;
    let body: SetQuantityBody = json_body(req)?;
    let target = validate_target(body.quantity)?;
    let caller = app.caller(req).await?;
    let (id, product) = known_product(app, &raw_id).await?;
    let quantity = change_line(
        app,
        &caller.cart_owner()?,
        &id,
        product,
        LineChange::To(target),
    )
    .await?;
    Ok(Reply::for_caller(
        caller,
        json!({ "productId": id, "quantity": quantity, "message": "cart updated" }),
    ))
}

/// Read, compute, write-if-unchanged; retried when another request won the race.
/// Returns the line's quantity afterwards.
async fn change_line(
    app: &App,
    owner: &CartOwner,
    id: &ProductId,
    product: Product,
    change: LineChange,
) -> Result<i64, ApiError> {
    for _ in 0..WRITE_ATTEMPTS {
        let now = now_epoch_secs();
        let stored = app.store.cart_line(owner, id).await?;
        // An expired or migrated line counts as empty; writing revives it.
        let current = stored
            .as_ref()
            .filter(|l| l.state().is_live(now))
            .map_or(0, |l| l.quantity);
        let next = match change {
            LineChange::By(delta) => apply_delta(current, delta)?,
            LineChange::To(target) => target,
        };
        let written = match (&stored, next) {
            (None, 0) => Ok(()),
            (Some(line), 0) => {
                app.store
                    .delete_cart_line(&line.pk, &line.sk, line.version)
                    .await
            }
            (_, quantity) => {
                let line = CartLineItem {
                    pk: owner.partition_key(),
                    sk: id.cart_line_sort_key(),
                    product_id: id.to_string(),
                    quantity,
                    product_detail: product.clone(),
                    expiration_time: owner.line_expiration(now),
                    version: stored.as_ref().map_or(1, |l| l.version + 1),
                    migrated_to: None,
                };
                app.store
                    .put_cart_line(&line, stored.as_ref().map(|l| l.version))
                    .await
            }
        };
        match written {
            Ok(()) => return Ok(next),
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::Conflict.into())
}

async fn migrate_cart(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let identity = app.signed_in(req).await?;
    let user = CartOwner::user(&identity.sub)?;
    if let Some(anonymous) = cart_cookie_owner(req)? {
        let moved = merge_cart(app, &anonymous, &user).await?;
        if !moved.is_empty() {
            hand_over_for_cleanup(app, &moved).await;
        }
    }
    let lines = cart_view(app, &user).await?;
    Ok(Reply::ok(json!({ "products": lines })))
}

/// Moves every live anonymous line into the user's cart, one transaction per
/// line. Returns what the cleanup worker must delete.
async fn merge_cart(
    app: &App,
    anonymous: &CartOwner,
    user: &CartOwner,
) -> Result<Vec<CleanupMessage>, ApiError> {
    let mut moved = Vec::new();
    for line in app.store.cart_lines(anonymous).await? {
        let Some(id) = ProductId::from_key(&line.sk) else {
            continue;
        };
        let mut anon_line = Some(line);
        let mut attempts = 0;
        while let Some(line) = anon_line.take() {
            let now = now_epoch_secs();
            if !line.state().is_live(now) {
                break;
            }
            attempts += 1;
            if attempts > WRITE_ATTEMPTS {
                return Err(StoreError::Conflict.into());
            }
            let user_line = app.store.cart_line(user, &id).await?;
            let user_quantity = user_line
                .as_ref()
                .filter(|l| l.state().is_live(now))
                .map_or(0, |l| l.quantity);
            let merged = CartLineItem {
                pk: user.partition_key(),
                sk: line.sk.clone(),
                product_id: id.to_string(),
                quantity: merge_quantities(user_quantity, line.quantity),
                product_detail: line.product_detail.clone(),
                expiration_time: user.line_expiration(now),
                version: user_line.as_ref().map_or(1, |l| l.version + 1),
                migrated_to: None,
            };
            match app
                .store
                .migrate_line(&line, &merged, user_line.as_ref().map(|l| l.version))
                .await
            {
                Ok(()) => moved.push(CleanupMessage {
                    pk: line.pk,
                    sk: line.sk,
                    version: line.version + 1,
                }),
                // Someone changed either line: look again (a concurrent
                // migration leaves the anonymous line migrated, ending the loop).
                Err(StoreError::Conflict) => {
                    anon_line = app.store.cart_line(anonymous, &id).await?
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(moved)
}

/// The merge is already committed and the lines are hidden; a failure to queue
/// their deletion only leaves them for TTL, so it is logged, not returned.
async fn hand_over_for_cleanup(app: &App, moved: &[CleanupMessage]) {
    let Some(queue) = &app.cleanup_queue else {
        tracing::error!("CLEANUP_QUEUE_URL is not set; migrated lines are left to TTL");
        return;
    };
    if let Err(e) = queue.send(moved).await {
        tracing::error!(error = %e, "cleanup messages not sent; migrated lines are left to TTL");
    }
}

async fn get_cart_total(app: &App, req: &Request) -> Result<Reply, ApiError> {
    app.admin(req).await?;
    let (id, _) = known_product(app, &path_param(req, "product_id")?).await?;
    let quantity = app.store.cart_total(&id).await?;
    Ok(Reply::ok(json!({ "product": id, "quantity": quantity })))
}
