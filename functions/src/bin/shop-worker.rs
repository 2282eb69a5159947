//! `shop-worker`: every event-driven worker of the shop (the cleanup queue,
//! the table's stream, the expiry schedule). Lambda sets `_HANDLER` to the
//! function's `Handler` (template.yaml), which names the one this container runs.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shop_functions::run_worker_from_env().await
}
