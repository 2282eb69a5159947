//! Reviews: a verified buyer writes one per product, edits or deletes it; an
//! admin deletes any (moderation). Each write moves the product's rating
//! summary in the same transaction, so the summary is exact.

use uuid::Uuid;

use super::ports::{Clock, ReviewCreated, ReviewStore, StoreError};
use super::WRITE_ATTEMPTS;
use crate::domain::{DomainError, ProductId, Review, ReviewText, Stars};

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error(transparent)]
    Invalid(#[from] DomainError),
    #[error("only buyers review: this product must be in one of your paid orders")]
    NotABuyer,
    #[error("you already reviewed this product (review {review_id}); edit it with PUT instead")]
    AlreadyReviewed { review_id: String },
    #[error("a moderator removed your review of this product; you cannot post another")]
    RemovedByModerator,
    #[error("product {0} not found")]
    NoSuchProduct(String),
    #[error("review {0} not found")]
    NotFound(String),
    #[error("the review kept changing; retry")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the author sends, unchecked.
#[derive(Debug, Clone)]
pub struct ReviewInput {
    pub rating: i64,
    pub title: String,
    pub body: String,
    /// `None`: the default name on a new review, the current one on an edit.
    pub display_name: Option<String>,
}

impl ReviewInput {
    fn checked(&self) -> Result<ReviewText, DomainError> {
        ReviewText::new(Stars::new(self.rating)?, &self.title, &self.body, self.display_name.as_deref())
    }
}

/// Who acts on a review: its author may edit and delete it, an admin may
/// delete it; for anyone else it does not exist.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub sub: &'a str,
    pub is_admin: bool,
}

/// A review id from a path: a UUID.
pub fn parse_review_id(raw: &str) -> Result<String, DomainError> {
    Uuid::parse_str(raw).map(|id| id.to_string()).map_err(|_| DomainError::InvalidReviewId)
}

pub async fn write_review<S: ReviewStore, C: Clock>(
    store: &S,
    clock: &C,
    product: &ProductId,
    author: &str,
    input: &ReviewInput,
) -> Result<Review, ReviewError> {
    let text = input.checked()?;
    // UUIDv7: review ids sort by time, so a product's reviews list newest first.
    let review = Review::new(Uuid::now_v7().to_string(), product.as_str(), author, text, clock.now());
    match store.create_review(&review).await? {
        ReviewCreated::Created => Ok(review),
        ReviewCreated::NotABuyer => Err(ReviewError::NotABuyer),
        ReviewCreated::AlreadyReviewed { review_id } => Err(ReviewError::AlreadyReviewed { review_id }),
        ReviewCreated::RemovedByModerator => Err(ReviewError::RemovedByModerator),
        ReviewCreated::NoSuchProduct => Err(ReviewError::NoSuchProduct(product.to_string())),
    }
}

/// The review as `actor` may see it to change it: their own, or (`moderate`)
/// anyone's for an admin.
async fn review_for<S: ReviewStore>(
    store: &S,
    product: &ProductId,
    review_id: &str,
    actor: Actor<'_>,
    moderate: bool,
) -> Result<Review, ReviewError> {
    store
        .review(product, review_id)
        .await?
        .filter(|r| r.author == actor.sub || (moderate && actor.is_admin))
        .ok_or_else(|| ReviewError::NotFound(review_id.to_owned()))
}

pub async fn edit_review<S: ReviewStore, C: Clock>(
    store: &S,
    clock: &C,
    product: &ProductId,
    review_id: &str,
    actor: Actor<'_>,
    input: &ReviewInput,
) -> Result<Review, ReviewError> {
    let text = input.checked()?;
    for _ in 0..WRITE_ATTEMPTS {
        let read = review_for(store, product, review_id, actor, false).await?;
        let mut text = text.clone();
        if input.display_name.is_none() {
            text.display_name = read.display_name.clone();
        }
        let edited = read.edited(text, clock.now());
        match store.replace_review(&read, &edited).await {
            Ok(()) => return Ok(edited),
            // Another edit won: apply this one to what it wrote.
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ReviewError::Busy)
}

/// Deletes a review: the author's own, or any as an admin. An admin's removal
/// of another's review is moderation, and sticks: the author cannot post a
/// new review of the product. The deleted review is answered.
pub async fn delete_review<S: ReviewStore>(
    store: &S,
    product: &ProductId,
    review_id: &str,
    actor: Actor<'_>,
) -> Result<Review, ReviewError> {
    for _ in 0..WRITE_ATTEMPTS {
        let read = review_for(store, product, review_id, actor, true).await?;
        let moderated = read.author != actor.sub;
        match store.delete_review(&read, moderated).await {
            Ok(()) => return Ok(read),
            // Edited meanwhile (or deleted: the next read says so).
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ReviewError::Busy)
}
