//! `reshard-stock`: see `shop::api` and the route in template.yaml.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    shop_functions::run_endpoint(shop::Endpoint::ReshardStock).await
}
