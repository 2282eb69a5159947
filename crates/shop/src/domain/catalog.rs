//! The catalog's rules: a product as shoppers see it, what an admin may set
//! on one (a new product, an edit), and its stock counters.

use serde::{Deserialize, Serialize};

use super::{DomainError, ProductId, StockShards};

/// Largest single restock delta (either way).
pub const MAX_RESTOCK_DELTA: i64 = 1_000_000;
pub const MAX_INITIAL_STOCK: i64 = 1_000_000;
pub const MAX_CATEGORY_LEN: usize = 40;
pub const MAX_NAME_LEN: usize = 200;
pub const MAX_DESCRIPTION_LEN: usize = 2000;
pub const MAX_PRICE_CENTS: u64 = 10_000_000;
pub const MAX_PICTURES: usize = 10;
pub const MAX_PICTURE_URL_LEN: usize = 500;
pub const MAX_TAGS: usize = 20;
pub const MAX_TAG_LEN: usize = 40;

/// A catalog entry (field names follow the AWS sample's frontend contract).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    pub product_id: String,
    pub category: String,
    pub name: String,
    pub description: String,
    /// Price in cents.
    pub price: u64,
    pub created_date: String,
    pub modified_date: String,
    pub package: Package,
    pub pictures: Vec<String>,
    pub tags: Vec<String>,
    /// How the stock is split (absent: one stock item, today's layout).
    #[serde(default, skip_serializing_if = "super::StockShards::is_single")]
    pub stock_shards: super::StockShards,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Package {
    pub height: u32,
    pub length: u32,
    pub weight: u32,
    pub width: u32,
}

/// A product's stock counters. Every change is a conditional write; the sum
/// `available + reserved + sold` always equals `added`, all stock ever added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StockLevels {
    pub available: i64,
    pub reserved: i64,
    pub sold: i64,
    pub added: i64,
}

impl StockLevels {
    /// What is wrong with these counters, if anything.
    pub fn violation(&self) -> Option<String> {
        if self.available < 0 || self.reserved < 0 || self.sold < 0 || self.added < 0 {
            return Some(format!("negative counter: {self:?}"));
        }
        if self.available + self.reserved + self.sold != self.added {
            return Some(format!(
                "available {} + reserved {} + sold {} != added {}",
                self.available, self.reserved, self.sold, self.added
            ));
        }
        None
    }
}

/// A category: a slug, as it appears in the storefront's addresses.
pub fn check_category(category: &str) -> Result<(), DomainError> {
    let slug = (1..=MAX_CATEGORY_LEN).contains(&category.len())
        && category.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    slug.then_some(()).ok_or(DomainError::InvalidCategory)
}

fn check_name(name: &str) -> Result<(), DomainError> {
    let fits = !name.trim().is_empty() && name.len() <= MAX_NAME_LEN;
    fits.then_some(()).ok_or(DomainError::InvalidProductName)
}

fn check_description(description: &str) -> Result<(), DomainError> {
    (description.len() <= MAX_DESCRIPTION_LEN).then_some(()).ok_or(DomainError::InvalidDescription)
}

fn check_price(price: u64) -> Result<(), DomainError> {
    (1..=MAX_PRICE_CENTS).contains(&price).then_some(()).ok_or(DomainError::InvalidPrice)
}

fn check_pictures(pictures: &[String]) -> Result<(), DomainError> {
    let fits = pictures.len() <= MAX_PICTURES && pictures.iter().all(|u| (1..=MAX_PICTURE_URL_LEN).contains(&u.len()));
    fits.then_some(()).ok_or(DomainError::InvalidPictures)
}

fn check_tags(tags: &[String]) -> Result<(), DomainError> {
    let fits = tags.len() <= MAX_TAGS && tags.iter().all(|t| (1..=MAX_TAG_LEN).contains(&t.len()));
    fits.then_some(()).ok_or(DomainError::InvalidTags)
}

/// A product as an admin describes it, before it has an id or dates.
#[derive(Debug, Clone)]
pub struct ProductDraft {
    pub name: String,
    pub category: String,
    pub description: String,
    /// Price in cents.
    pub price: u64,
    pub package: Option<Package>,
    pub pictures: Vec<String>,
    pub tags: Vec<String>,
    /// Units available from the start.
    pub initial_stock: i64,
}

impl ProductDraft {
    /// The product it describes, created `now` (RFC 3339), with the stock it
    /// starts with; every field within its bounds.
    pub fn into_product(self, id: ProductId, now: &str) -> Result<(Product, i64), DomainError> {
        if !(0..=MAX_INITIAL_STOCK).contains(&self.initial_stock) {
            return Err(DomainError::InvalidInitialStock);
        }
        let product = Product {
            product_id: id.to_string(),
            category: self.category,
            name: self.name,
            description: self.description,
            price: self.price,
            created_date: now.to_owned(),
            modified_date: now.to_owned(),
            package: self.package.unwrap_or(Package { height: 0, length: 0, weight: 0, width: 0 }),
            pictures: self.pictures,
            tags: self.tags,
            stock_shards: StockShards::default(),
        };
        check_name(&product.name)?;
        check_category(&product.category)?;
        check_description(&product.description)?;
        check_price(product.price)?;
        check_pictures(&product.pictures)?;
        check_tags(&product.tags)?;
        Ok((product, self.initial_stock))
    }
}

/// An admin's edit of a product: only the fields it holds change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProductPatch {
    pub name: Option<String>,
    pub category: Option<String>,
    pub description: Option<String>,
    pub price: Option<u64>,
    pub package: Option<Package>,
    pub pictures: Option<Vec<String>>,
    pub tags: Option<Vec<String>>,
}

impl ProductPatch {
    /// Every field it sets, within the bounds a new product's has.
    pub fn checked(self) -> Result<Self, DomainError> {
        self.name.as_deref().map(check_name).transpose()?;
        self.category.as_deref().map(check_category).transpose()?;
        self.description.as_deref().map(check_description).transpose()?;
        self.price.map(check_price).transpose()?;
        self.pictures.as_deref().map(check_pictures).transpose()?;
        self.tags.as_deref().map(check_tags).transpose()?;
        Ok(self)
    }
}

pub fn validate_restock_delta(delta: i64) -> Result<i64, DomainError> {
    if delta == 0 || delta.abs() > MAX_RESTOCK_DELTA {
        Err(DomainError::InvalidRestockDelta)
    } else {
        Ok(delta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stock_invariant_is_checked() {
        let ok = StockLevels { available: 5, reserved: 2, sold: 3, added: 10 };
        assert_eq!(ok.violation(), None);
        assert!(StockLevels { available: 5, reserved: 2, sold: 3, added: 11 }.violation().is_some());
        assert!(StockLevels { available: -1, reserved: 1, sold: 0, added: 0 }.violation().is_some());
    }

    #[test]
    fn categories_are_slugs() {
        assert!(check_category("sweet").is_ok());
        assert!(check_category("gift-boxes-2").is_ok());
        for bad in ["", "Sweet", "a b", "x#y", &"a".repeat(41)] {
            assert_eq!(check_category(bad), Err(DomainError::InvalidCategory), "{bad}");
        }
    }

    fn draft() -> ProductDraft {
        ProductDraft {
            name: "Cocoa".into(),
            category: "sweet".into(),
            description: String::new(),
            price: 250,
            package: None,
            pictures: vec![],
            tags: vec!["dark".into()],
            initial_stock: 5,
        }
    }

    #[test]
    fn a_new_product_is_checked_field_by_field() {
        let id = ProductId::parse("cocoa").unwrap();
        let (product, stock) = draft().into_product(id.clone(), "2026-12-07T00:00:00Z").unwrap();
        assert_eq!(
            (product.product_id.as_str(), product.created_date.as_str(), stock),
            ("cocoa", "2026-12-07T00:00:00Z", 5)
        );
        let refused = |change: fn(&mut ProductDraft)| {
            let mut d = draft();
            change(&mut d);
            d.into_product(id.clone(), "now").unwrap_err()
        };
        assert_eq!(refused(|d| d.name = "  ".into()), DomainError::InvalidProductName);
        assert_eq!(refused(|d| d.category = "Sweet".into()), DomainError::InvalidCategory);
        assert_eq!(refused(|d| d.price = 0), DomainError::InvalidPrice);
        assert_eq!(refused(|d| d.description = "x".repeat(2001)), DomainError::InvalidDescription);
        assert_eq!(refused(|d| d.pictures = vec![String::new()]), DomainError::InvalidPictures);
        assert_eq!(refused(|d| d.tags = vec!["t".into(); 21]), DomainError::InvalidTags);
        assert_eq!(refused(|d| d.initial_stock = -1), DomainError::InvalidInitialStock);
    }

    #[test]
    fn an_edit_checks_only_what_it_sets() {
        assert!(ProductPatch::default().checked().is_ok());
        let price = ProductPatch { price: Some(0), ..Default::default() };
        assert_eq!(price.checked(), Err(DomainError::InvalidPrice));
        let name = ProductPatch { name: Some("New".into()), ..Default::default() };
        assert!(name.checked().is_ok());
    }

    #[test]
    fn restock_deltas_are_checked() {
        assert!(validate_restock_delta(0).is_err());
        assert!(validate_restock_delta(-5).is_ok());
        assert!(validate_restock_delta(MAX_RESTOCK_DELTA + 1).is_err());
    }
}
