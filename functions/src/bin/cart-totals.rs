//! `cart-totals`: keeps per-product cart totals from the table's stream (partial batch failures).

use aws_lambda_events::event::dynamodb::Event;
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shop::telemetry::init();
    let store = shop::store_from_env().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Event>| async {
        Ok::<_, Error>(shop::workers::apply_cart_totals(&store, event.payload, shop::now_epoch_secs()).await)
    }))
    .await
}
