//! `cart-totals`: keeps per-product cart totals from the table's stream (partial batch failures).

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shop_functions::run_worker(shop::workers::Worker::CartTotals).await
}
