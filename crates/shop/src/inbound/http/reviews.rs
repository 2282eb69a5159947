//! Review endpoints: a product's reviews (anyone; a signed-in reader also
//! learns whether they may write one), and the author's write, edit and
//! delete (an admin's delete for moderation). The rules live in
//! `use_cases::reviews`; this parses and answers.

use lambda_http::Request;
use serde::Deserialize;

use super::errors::ApiError;
use super::request::{grants_admin, json_body, page_limit, path_param, query_param, signed_in};
use super::response::Reply;
use super::views::{ReviewAnswer, ReviewList, ReviewView};
use crate::app::App;
use crate::domain::ProductId;
use crate::outbound::dynamodb::review_page_start;
use crate::use_cases::ports::ReviewStore;
use crate::use_cases::reviews::{self, parse_review_id, Actor, ReviewInput};
use crate::use_cases::SystemClock;

const MAX_PAGE: i32 = 50;
const DEFAULT_PAGE: i32 = 10;

/// A review as the author sends it (`POST` and `PUT`). `rating` is a whole
/// number; its range is the domain's to check.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ReviewBody {
    rating: i64,
    title: String,
    #[serde(default)]
    body: String,
    display_name: Option<String>,
}

impl From<ReviewBody> for ReviewInput {
    fn from(b: ReviewBody) -> Self {
        Self { rating: b.rating, title: b.title, body: b.body, display_name: b.display_name }
    }
}

fn product_param(req: &Request) -> Result<ProductId, ApiError> {
    Ok(ProductId::parse(&path_param(req, "product_id")?)?)
}

fn review_param(req: &Request) -> Result<String, ApiError> {
    Ok(parse_review_id(&path_param(req, "review_id")?)?)
}

pub(super) async fn list_reviews(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let product = product_param(req)?;
    let limit = page_limit(req, DEFAULT_PAGE, MAX_PAGE)?;
    let start = query_param(req, "cursor").map(|raw| review_page_start(&raw, &product)).transpose()?;
    let reader = match req.headers().contains_key(http::header::AUTHORIZATION) {
        true => Some(signed_in(app, req).await?),
        false => None,
    };
    // The page and, for a signed-in reader, whether they may review it and
    // which review is theirs: two reads at once.
    let standing = async {
        match &reader {
            Some(identity) => app.store.reviewer_standing(&product, &identity.sub).await.map(Some),
            None => Ok(None),
        }
    };
    let ((reviews, next_cursor), standing) = tokio::try_join!(app.store.review_page(&product, limit, start), standing)?;
    // No review yet, or no such product: only then is the product read.
    if reviews.is_empty() && app.store.product(&product).await?.is_none() {
        return Err(ApiError::NotFound(format!("product {product} not found")));
    }
    let own_id = standing.as_ref().and_then(|s| s.own_review_id.as_deref());
    let own = match own_id {
        Some(id) => match reviews.iter().find(|r| r.review_id == id) {
            Some(on_page) => Some(on_page.clone()),
            None => app.store.review(&product, id).await?,
        },
        None => None,
    };
    let can_review = standing.as_ref().is_some_and(|s| s.bought && s.own_review_id.is_none() && !s.moderated);
    Ok(Reply::ok(ReviewList {
        reviews: reviews.iter().map(ReviewView::from).collect(),
        next_cursor,
        can_review,
        your_review: own.as_ref().map(ReviewView::from),
    }))
}

pub(super) async fn create_review(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let identity = signed_in(app, req).await?;
    let product = product_param(req)?;
    let input: ReviewInput = json_body::<ReviewBody>(req)?.into();
    let review = reviews::write_review(&app.store, &SystemClock, &product, &identity.sub, &input).await?;
    Ok(Reply::created(ReviewAnswer { review: (&review).into() }))
}

pub(super) async fn update_review(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let identity = signed_in(app, req).await?;
    let (product, review_id) = (product_param(req)?, review_param(req)?);
    let input: ReviewInput = json_body::<ReviewBody>(req)?.into();
    let actor = Actor { sub: &identity.sub, is_admin: false };
    let review = reviews::edit_review(&app.store, &SystemClock, &product, &review_id, actor, &input).await?;
    Ok(Reply::ok(ReviewAnswer { review: (&review).into() }))
}

pub(super) async fn delete_review(app: &App, req: &Request) -> Result<Reply, ApiError> {
    let identity = signed_in(app, req).await?;
    let (product, review_id) = (product_param(req)?, review_param(req)?);
    let actor = Actor { sub: &identity.sub, is_admin: grants_admin(app, &identity).await? };
    let review = reviews::delete_review(&app.store, &product, &review_id, actor).await?;
    Ok(Reply::ok(ReviewAnswer { review: (&review).into() }))
}
