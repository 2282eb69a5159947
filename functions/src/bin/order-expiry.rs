//! `order-expiry`: every minute, expires unpaid orders past their hold and releases their stock.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shop_functions::run_worker(shop::workers::Worker::OrderExpiry).await
}
