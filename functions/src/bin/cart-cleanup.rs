//! `cart-cleanup`: deletes migrated anonymous cart lines (SQS, partial batch failures).

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shop::telemetry::init();
    let store = shop::store_from_env().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| async {
        Ok::<_, Error>(shop::workers::cleanup_migrated_lines(&store, event.payload).await)
    }))
    .await
}
