//! The HTTP side: API Gateway's requests in, JSON answers out. Each Lambda
//! function serves one [`Endpoint`], the one its `Handler` names; the local
//! stack serves them all, routed as `template.yaml` declares.
//!
//! - `endpoints`: the table of endpoints and `serve`;
//! - `request`: parsing what a request says, and who the caller is;
//! - `errors`: the one place an error becomes a response;
//! - `response`: JSON bodies, CORS, caching and the cart cookie;
//! - `views`: the JSON shapes of the answers (`openapi.yaml`'s schemas);
//! - `cart`, `catalog`, `orders`, `reviews`: the handlers, each one parsing,
//!   calling a use case (or a read of the store) and answering.

mod cart;
mod catalog;
mod endpoints;
mod errors;
mod orders;
mod request;
mod response;
mod reviews;
mod stripe;
pub mod views;

pub use endpoints::Endpoint;
/// The cart cookie's decoder, public for the fuzz targets.
pub use request::cart_cookie_owner;
