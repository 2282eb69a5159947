//! `cart-cleanup`: deletes migrated anonymous cart lines (SQS, partial batch failures).

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shop_functions::run_worker(shop::workers::Worker::CartCleanup).await
}
