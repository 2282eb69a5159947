//! `order-expiry`: every minute, expires unpaid orders past their hold and releases their stock.

use aws_lambda_events::event::cloudwatch_events::CloudWatchEvent;
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shop::telemetry::init();
    let store = shop::store_from_env().await?;
    let payments = shop::payments::SandboxPayments::new(store.clone());
    lambda_runtime::run(service_fn(|_: LambdaEvent<CloudWatchEvent>| async {
        Ok::<_, Error>(shop::workers::expire_overdue_orders(&store, &payments, shop::now_epoch_secs()).await?)
    }))
    .await
}
