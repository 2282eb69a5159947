//! `shop-function`: every function of the shop, one binary. Lambda sets
//! `_HANDLER` to the function's `Handler` (template.yaml), which names the
//! endpoint or worker this container runs.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shop_functions::run_handler_from_env().await
}
