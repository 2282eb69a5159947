//! `shop-local`: runs the shop on 127.0.0.1 until Ctrl-C. Settings (all optional):
//! SHOP_API_PORT (3000), SHOP_STOREFRONT_PORT (8080), SHOP_STOREFRONT_DIR (frontend/dist),
//! SHOP_INVOKE_PORT (3001), SHOP_EMULATOR_PORT (4566),
//! SHOP_STACK_FILE (.local/stack.json), SHOP_PYTHON (.venv/bin/python),
//! SHOP_ALLOWED_ORIGIN (http://localhost:8080), SHOP_RESERVATION_HOLD_SECONDS (900),
//! SHOP_SCHEDULE_SECONDS (the template's rate), SHOP_STOP_ON_STDIN_EOF (0).

#[tokio::main]
async fn main() -> Result<(), shop_local::LocalError> {
    shop_local::sdk_time::init();
    let options = shop_local::stack::Options::from_env();
    shop_local::stack::run(options).await
}
