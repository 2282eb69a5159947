//! A token that is present must be valid: every kind of bad token is a 401,
//! never a silent fall-back to the anonymous cart.

use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::*;

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn claims() -> Value {
    let s = stack();
    json!({
        "sub": "forged-user-0001",
        "aud": s.client_id,
        "iss": s.issuer,
        "token_use": "id",
        "cognito:username": "forged",
        "iat": now(),
        "auth_time": now(),
        "exp": now() + 3600,
    })
}

fn sign(claims: &Value, kid: &str) -> String {
    let (private_pem, _, _) = pool_signing_key();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    encode(&header, claims, &EncodingKey::from_rsa_pem(private_pem.as_bytes()).unwrap()).unwrap()
}

fn b64(value: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value)
}

async fn cart_status(token: &str) -> StatusCode {
    call(Method::GET, "/cart").token(token).send().await.status
}

#[tokio::test]
async fn a_well_formed_token_signed_by_the_pool_is_accepted() {
    // The baseline for the forgeries below: same key, same claims but one.
    let (_, _, kid) = pool_signing_key();
    assert_eq!(cart_status(&sign(&claims(), &kid)).await, StatusCode::OK);
    let real = customer_token().await;
    assert_eq!(cart_status(&real).await, StatusCode::OK);
    assert_eq!(cart_status(&format!("Bearer {real}")).await, StatusCode::OK);
}

#[tokio::test]
async fn bad_claims_are_refused() {
    let (_, _, kid) = pool_signing_key();
    let mut cases: Vec<(&str, Value)> = Vec::new();
    let mut c = claims();
    c["exp"] = json!(now() - 600);
    cases.push(("expired", c));
    let mut c = claims();
    c["nbf"] = json!(now() + 600);
    cases.push(("not yet valid", c));
    let mut c = claims();
    c["iss"] = json!("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_someoneelse");
    cases.push(("wrong issuer", c));
    let mut c = claims();
    c["aud"] = json!("another-client");
    cases.push(("wrong client id", c));
    let mut c = claims();
    c["token_use"] = json!("access");
    cases.push(("access token_use", c));
    let mut c = claims();
    c.as_object_mut().unwrap().remove("exp");
    cases.push(("no expiry", c));
    for (what, claims) in cases {
        let status = cart_status(&sign(&claims, &kid)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}");
    }
}

#[tokio::test]
async fn forged_and_broken_tokens_are_refused() {
    let (_, public_pem, kid) = pool_signing_key();
    let payload = b64(claims().to_string().as_bytes());
    let alg_none =
        format!("{}.{payload}.", b64(json!({ "alg": "none", "typ": "JWT", "kid": kid }).to_string().as_bytes()));
    let mut hs_header = Header::new(Algorithm::HS256);
    hs_header.kid = Some(kid.clone());
    let hs256_with_public_key =
        encode(&hs_header, &claims(), &EncodingKey::from_secret(public_pem.as_bytes())).unwrap();
    let unknown_kid = sign(&claims(), "not-a-pool-key");

    let real = customer_token().await;
    let parts: Vec<&str> = real.split('.').collect();
    let mut tampered_claims: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    tampered_claims["sub"] = json!("someone-else");
    let tampered = format!("{}.{}.{}", parts[0], b64(tampered_claims.to_string().as_bytes()), parts[2]);
    let truncated = real[..real.len() - 10].to_owned();
    let access_token = tokens("customer", "Customer-Pass1").await["AccessToken"].as_str().unwrap().to_owned();

    for (what, token) in [
        ("alg none", alg_none.as_str()),
        ("HS256 signed with the public key", hs256_with_public_key.as_str()),
        ("unknown kid", unknown_kid.as_str()),
        ("tampered payload", tampered.as_str()),
        ("truncated", truncated.as_str()),
        ("an access token", access_token.as_str()),
        ("garbage", "not-a-token"),
        ("empty bearer", "Bearer "),
    ] {
        let reply = call(Method::GET, "/cart").token(token).send().await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{what}");
        assert_eq!(reply.body["message"], "invalid or expired token", "{what}");
        assert!(reply.set_cookie.is_none(), "{what}: fell back to an anonymous cart");
    }
}

#[tokio::test]
async fn signed_in_routes_need_a_token_and_admin_routes_the_admin_group() {
    let product = product_for(40).await;
    let total = format!("/cart/{product}/total");
    let reply = call(Method::GET, &total).send().await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let reply = call(Method::POST, "/cart/migrate").send().await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);

    let reply = call(Method::GET, &total).token(&customer_token().await).send().await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.body["message"].as_str().unwrap().contains("admin"));

    let reply = call(Method::GET, &total).token(&admin_token().await).send().await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["product"], product);
}
