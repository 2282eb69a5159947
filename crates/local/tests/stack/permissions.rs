//! Every AWS call a function makes is allowed by its policy in
//! `template.yaml`: the emulator does not enforce IAM, so a call the policy
//! forgets would pass every local test and fail on AWS with AccessDenied.

use std::time::{Duration, Instant};

use reqwest::Method;
use shop_local::permissions::Permission;
use shop_local::template::Template;

use crate::support::*;

#[tokio::test]
async fn every_call_of_every_function_is_allowed_by_its_policy() {
    let client = shop_local::endpoint_tour::Client::new(http(), stack().api.clone())
        .with_webhook_secret(stack().webhook_secret.clone());
    let (a, b) = (product_for(43).await, product_for(44).await);
    shop_local::endpoint_tour::every_endpoint(&client, &customer_token().await, &admin_token().await, (&a, &b))
        .await
        .unwrap();

    // The walk's cart writes reach the totals worker by the stream, its
    // migration the cleanup worker by the queue; the expiry schedule runs
    // every second here.
    let template = Template::load(&workspace_root().join("template.yaml")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let used = loop {
        let used = call(Method::GET, "/_local/aws-calls").send().await.body["functions"].clone();
        let idle: Vec<&str> = template
            .functions
            .iter()
            .map(|f| f.handler.as_str())
            .filter(|binary| used[*binary]["invocations"].as_u64().unwrap_or(0) == 0)
            .collect();
        if idle.is_empty() {
            break used;
        }
        assert!(Instant::now() < deadline, "never invoked: {idle:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    let used: Vec<(String, Permission)> = used
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(binary, usage)| {
            let permissions: Vec<Permission> = serde_json::from_value(usage["permissions"].clone()).unwrap();
            permissions.into_iter().map(move |p| (binary.clone(), p))
        })
        .collect();
    assert!(used.len() >= 20, "too few permissions recorded: {used:?}");
    let missing = template.missing_permissions(used.iter().map(|(binary, p)| (binary.as_str(), p)));
    assert!(missing.is_empty(), "policies in template.yaml lack:\n{}", missing.join("\n"));
}
