//! No endpoint makes more AWS calls than its design needs (one of `make
//! bench`'s targets, kept here because counting calls is exact, unlike
//! timing them). The walk reads each request's calls from the local API's
//! headers, so other tests' requests on the shared stack do not count.

use shop_local::endpoint_tour::{route_calls, DESIGN_MINIMUM};
use shop_local::template::Template;

use crate::support::*;

#[tokio::test]
async fn no_endpoint_makes_more_aws_calls_than_its_design_minimum() {
    let client = shop_local::endpoint_tour::Client::new(http(), stack().api.clone())
        .with_webhook_secret(stack().webhook_secret.clone());
    let (a, b) = (product_for(45).await, product_for(46).await);
    shop_local::endpoint_tour::every_endpoint(&client, &new_user_token("calls").await, &admin_token().await, (&a, &b))
        .await
        .unwrap();
    let costliest = client.costliest_calls();

    // Every route of the API has a minimum, and the walk took every route.
    let template = Template::load(&workspace_root().join("template.yaml")).unwrap();
    let mut routes: Vec<String> = template.routes().map(|(_, path, method, _)| format!("{method} {path}")).collect();
    routes.sort();
    let mut with_minimum: Vec<String> = DESIGN_MINIMUM.iter().map(|(route, _, _)| route.to_string()).collect();
    with_minimum.sort();
    assert_eq!(routes, with_minimum, "the routes of template.yaml against those with a design minimum");
    let walked: Vec<String> = costliest.keys().cloned().collect();
    assert_eq!(walked, with_minimum, "the routes the walk took");

    let over: Vec<String> = DESIGN_MINIMUM
        .iter()
        .filter(|(route, minimum, _)| route_calls(&costliest[*route]) > *minimum)
        .map(|(route, minimum, why)| format!("{route}: {:?}, design minimum {minimum} ({why})", costliest[*route]))
        .collect();
    assert!(over.is_empty(), "over the design minimum:\n{}", over.join("\n"));
    // The admin check is one call at most, and only where an admin called.
    for (route, calls) in &costliest {
        assert!(calls.len() - route_calls(calls) <= 1, "{route}: {calls:?}");
    }

    // The headers name real calls: the catalog page is one Query.
    assert_eq!(costliest["GET /product"], vec!["DynamoDB.Query".to_owned()]);
}
