//! `shop-endpoint`: every HTTP endpoint of the shop. Lambda sets `_HANDLER`
//! to the function's `Handler` (template.yaml), which names the one this
//! container serves.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shop_functions::run_endpoint_from_env().await
}
