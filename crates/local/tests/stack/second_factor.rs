//! Admin routes require an authenticator app (TOTP) on the admin's account,
//! as on AWS (`RequireAdminMfa`): the emulator keeps a secret per user and
//! checks codes as Cognito does.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::*;

const PASSWORD: &str = "Admin-Pass2";

/// An admin of the test's own, with no authenticator app yet.
async fn new_admin() -> String {
    let username = format!("new-admin-{}", uuid::Uuid::new_v4().simple());
    let pool = &stack().user_pool_id;
    for (action, body) in [
        (
            "AdminCreateUser",
            json!({ "UserPoolId": pool, "Username": username, "MessageAction": "SUPPRESS",
                    "UserAttributes": [{ "Name": "email", "Value": format!("{username}@example.com") }] }),
        ),
        (
            "AdminSetUserPassword",
            json!({ "UserPoolId": pool, "Username": username, "Password": PASSWORD, "Permanent": true }),
        ),
        ("AdminAddUserToGroup", json!({ "UserPoolId": pool, "Username": username, "GroupName": "admin" })),
    ] {
        let answer = cognito(action, body).await;
        assert!(answer.get("__type").is_none(), "{action}: {answer}");
    }
    username
}

/// Every admin route, on a product of the test's own.
fn admin_calls(product: &str) -> Vec<Call> {
    vec![
        call(Method::POST, "/product")
            .json(json!({ "name": "mfa test", "category": "test-goods", "price": 100, "initialStock": 1 })),
        call(Method::PUT, &format!("/product/{product}")).json(json!({ "price": 200 })),
        call(Method::POST, &format!("/product/{product}/stock")).json(json!({ "delta": 1 })),
        call(Method::PUT, &format!("/product/{product}/stock/shards")).json(json!({ "shards": 1 })),
        call(Method::GET, &format!("/cart/{product}/total")),
        call(Method::GET, "/orders?all=true"),
    ]
}

/// A code of `secret` that is not valid now, nor a step before or after.
fn wrong_code(secret: &str) -> String {
    let valid: Vec<String> = [-30, 0, 30]
        .iter()
        .map(|drift| shop_local::resources::totp_code(secret, (now() + drift) as u64).unwrap())
        .collect();
    (0..).map(|n: u32| format!("{:06}", (n * 7919) % 1_000_000)).find(|c| !valid.contains(c)).unwrap()
}

#[tokio::test]
async fn an_admin_without_an_authenticator_is_refused_until_one_is_set_up_and_used() {
    let product = new_product(5, 900).await;
    let username = new_admin().await;
    let first = tokens_with_totp(&username, PASSWORD, None).await;
    let (id_token, access_token) = (first["IdToken"].as_str().unwrap(), first["AccessToken"].as_str().unwrap());

    for request in admin_calls(&product) {
        let what = format!("{} {}", request.method, request.path);
        let reply = request.token(id_token).send().await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{what}: {:?}", reply.body);
        let message = reply.body["message"].as_str().unwrap_or_default();
        assert!(message.contains("authenticator app") && message.contains("/account/security"), "{what}: {message}");
    }
    // Shopping still works, with a shopper's view.
    let page = call(Method::GET, &format!("/product/{product}")).token(id_token).send().await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.body["product"]["stock"], json!({ "available": 5 }), "no admin counters without the second factor");

    // Set up: a new secret, a wrong code refused, the right one accepted.
    let associated = cognito("AssociateSoftwareToken", json!({ "AccessToken": access_token })).await;
    let secret = associated["SecretCode"].as_str().expect("a secret").to_owned();
    assert_eq!(secret.len(), 32, "a base32 secret of 160 bits, as Cognito's");
    let refused = cognito(
        "VerifySoftwareToken",
        json!({ "AccessToken": access_token, "UserCode": wrong_code(&secret), "FriendlyDeviceName": "phone" }),
    )
    .await;
    assert!(refused["__type"].as_str().unwrap_or_default().contains("CodeMismatch"), "{refused}");
    let verified = cognito(
        "VerifySoftwareToken",
        json!({ "AccessToken": access_token, "UserCode": totp_now(&secret), "FriendlyDeviceName": "phone" }),
    )
    .await;
    assert_eq!(verified["Status"], "SUCCESS", "{verified}");
    let preferred = cognito(
        "SetUserMFAPreference",
        json!({ "AccessToken": access_token, "SoftwareTokenMfaSettings": { "Enabled": true, "PreferredMfa": true } }),
    )
    .await;
    assert!(preferred.get("__type").is_none(), "{preferred}");

    // Every sign-in now asks for a code; a wrong one is refused.
    let challenged = tokens_with_totp(&username, PASSWORD, None).await;
    assert_eq!(challenged["ChallengeName"], "SOFTWARE_TOKEN_MFA", "{challenged}");
    let wrong = cognito(
        "RespondToAuthChallenge",
        json!({ "ClientId": stack().client_id, "ChallengeName": "SOFTWARE_TOKEN_MFA", "Session": challenged["Session"],
                "ChallengeResponses": { "USERNAME": username, "SOFTWARE_TOKEN_MFA_CODE": wrong_code(&secret) } }),
    )
    .await;
    assert!(wrong["__type"].as_str().unwrap_or_default().contains("CodeMismatch"), "{wrong}");
    let signed_in = tokens_with_totp(&username, PASSWORD, Some(&secret)).await;
    let id_token = signed_in["IdToken"].as_str().expect("tokens after the code").to_owned();

    // Admin rights, once the functions' short memory of "no authenticator" lapses.
    let total = format!("/cart/{product}/total");
    eventually(
        "admin rights after TOTP set-up",
        || call(Method::GET, &total).token(&id_token).send(),
        |r: &Reply| r.status == StatusCode::OK,
    )
    .await;
    for request in admin_calls(&product) {
        let what = format!("{} {}", request.method, request.path);
        let reply = request.token(&id_token).send().await;
        assert!(reply.status.is_success(), "{what}: {} {:?}", reply.status, reply.body);
    }
    let page: Value = call(Method::GET, &format!("/product/{product}")).token(&id_token).send().await.body;
    assert!(page["product"]["stock"]["added"].is_number(), "an admin's view: {page}");
}
