//! Cognito ID-token verification inside the functions: RS256 signature against
//! the user pool's JWKS, issuer, client id (`aud`), `token_use`, expiry.
//!
//! The JWKS is fetched on first use and cached for the container's life; a
//! token signed with an unknown `kid` triggers one refetch (key rotation), at
//! most once per [`JWKS_REFRESH_INTERVAL`] so forged kids cannot hammer Cognito.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::sync::RwLock;

#[derive(Debug, Clone)]
pub struct CognitoConfig {
    /// `https://cognito-idp.<region>.amazonaws.com/<pool id>`, the tokens' `iss`.
    pub issuer: String,
    /// Usually `<issuer>/.well-known/jwks.json`; a separate setting because the
    /// local emulator serves the keys at its own address.
    pub jwks_url: String,
    pub client_id: String,
}

impl CognitoConfig {
    /// The pool's id: the issuer's last path segment.
    pub fn user_pool_id(&self) -> &str {
        self.issuer.rsplit('/').next().unwrap_or_default()
    }
}

const JWKS_REFRESH_INTERVAL: Duration = Duration::from_secs(60);
/// Clock skew tolerated on `exp` and `nbf`.
const LEEWAY_SECS: u64 = 5;
pub const ADMIN_GROUP: &str = "admin";

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The caller's token is not acceptable; the text goes to the log only.
    #[error("invalid token: {0}")]
    InvalidToken(String),
    /// The key set could not be fetched: an outage, not the caller's fault.
    #[error("cannot fetch the user pool's keys: {0}")]
    KeysUnavailable(String),
    /// Cognito could not say what it knows of the user (an admin's
    /// authenticator): an outage, and no rights meanwhile.
    #[error("cannot read the user from the user pool: {0}")]
    UserPoolUnavailable(String),
}

/// Who a verified token says the caller is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub sub: String,
    pub username: Option<String>,
    pub email: Option<String>,
    pub groups: Vec<String>,
}

impl Identity {
    pub fn is_admin(&self) -> bool {
        self.groups.iter().any(|g| g == ADMIN_GROUP)
    }
}

#[derive(Debug, Deserialize)]
struct IdTokenClaims {
    sub: String,
    token_use: String,
    #[serde(rename = "cognito:username")]
    username: Option<String>,
    email: Option<String>,
    #[serde(rename = "cognito:groups", default)]
    groups: Vec<String>,
}

struct KeyCache {
    keys: HashMap<String, DecodingKey>,
    fetched_at: Option<Instant>,
}

pub struct TokenVerifier {
    config: CognitoConfig,
    http: reqwest::Client,
    cache: RwLock<KeyCache>,
}

impl TokenVerifier {
    pub fn new(config: CognitoConfig) -> Self {
        // reqwest is built without a crypto provider of its own (one crypto
        // library per binary): it takes the process default, set here to the
        // SDK's aws-lc-rs. Err only means a default is already set.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap_or_default();
        Self { config, http, cache: RwLock::new(KeyCache { keys: HashMap::new(), fetched_at: None }) }
    }

    /// Verifies a raw `Authorization` header value: the token itself, as
    /// Amplify sends it, or `Bearer <token>`.
    pub async fn verify_header(&self, header: &str) -> Result<Identity, AuthError> {
        let header = header.trim();
        let token = header.strip_prefix("Bearer ").or_else(|| header.strip_prefix("bearer ")).unwrap_or(header).trim();
        self.verify(token).await
    }

    pub async fn verify(&self, token: &str) -> Result<Identity, AuthError> {
        let header = decode_header(token).map_err(|e| AuthError::InvalidToken(e.to_string()))?;
        // Pinning RS256 defeats `alg: none` and HS256-with-the-public-key.
        if header.alg != Algorithm::RS256 {
            return Err(AuthError::InvalidToken(format!("algorithm {:?} not accepted", header.alg)));
        }
        let kid = header.kid.ok_or_else(|| AuthError::InvalidToken("no kid".into()))?;
        let key = self.key_for(&kid).await?;

        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&[&self.config.client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        let data =
            decode::<IdTokenClaims>(token, &key, &validation).map_err(|e| AuthError::InvalidToken(e.to_string()))?;
        let claims = data.claims;
        // Access tokens carry `client_id`, not `aud`, so `aud` already rules most
        // of them out; `token_use` makes the intent explicit.
        if claims.token_use != "id" {
            return Err(AuthError::InvalidToken(format!("token_use {} is not id", claims.token_use)));
        }
        Ok(Identity { sub: claims.sub, username: claims.username, email: claims.email, groups: claims.groups })
    }

    async fn key_for(&self, kid: &str) -> Result<DecodingKey, AuthError> {
        {
            let cache = self.cache.read().await;
            if let Some(key) = cache.keys.get(kid) {
                return Ok(key.clone());
            }
            if cache.fetched_at.is_some_and(|t| t.elapsed() < JWKS_REFRESH_INTERVAL) {
                return Err(AuthError::InvalidToken(format!("unknown kid {kid}")));
            }
        }
        let mut cache = self.cache.write().await;
        // Another request may have refreshed while this one waited for the lock.
        if cache.fetched_at.is_none_or(|t| t.elapsed() >= JWKS_REFRESH_INTERVAL) {
            cache.keys = self.fetch_keys().await?;
            cache.fetched_at = Some(Instant::now());
        }
        cache.keys.get(kid).cloned().ok_or_else(|| AuthError::InvalidToken(format!("unknown kid {kid}")))
    }

    async fn fetch_keys(&self) -> Result<HashMap<String, DecodingKey>, AuthError> {
        let unavailable = |e: reqwest::Error| AuthError::KeysUnavailable(e.to_string());
        let set: JwkSet = self
            .http
            .get(&self.config.jwks_url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(unavailable)?
            .json()
            .await
            .map_err(unavailable)?;
        Ok(keys_by_kid(&set))
    }
}

fn keys_by_kid(set: &JwkSet) -> HashMap<String, DecodingKey> {
    set.keys
        .iter()
        .filter_map(|jwk| {
            let kid = jwk.common.key_id.clone()?;
            DecodingKey::from_jwk(jwk).ok().map(|key| (kid, key))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::{json, Value};

    const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_test";
    const CLIENT: &str = "client-123";
    const KID: &str = "test-key-1";

    fn verifier() -> TokenVerifier {
        let set: JwkSet = serde_json::from_str(include_str!("../../../testdata/jwks.json")).unwrap();
        let config = CognitoConfig {
            issuer: ISSUER.into(),
            // Never reached: the keys are already cached.
            jwks_url: "http://127.0.0.1:9/unused".into(),
            client_id: CLIENT.into(),
        };
        let verifier = TokenVerifier::new(config);
        let mut cache = verifier.cache.try_write().unwrap();
        cache.keys = keys_by_kid(&set);
        cache.fetched_at = Some(Instant::now());
        drop(cache);
        verifier
    }

    fn now() -> i64 {
        crate::clock::now_epoch_secs()
    }

    fn claims() -> Value {
        json!({
            "sub": "user-1", "aud": CLIENT, "iss": ISSUER, "token_use": "id",
            "cognito:username": "alice", "email": "alice@example.com",
            "cognito:groups": ["admin"], "iat": now(), "exp": now() + 3600,
        })
    }

    fn sign_with(claims: &Value, kid: &str) -> String {
        let key = EncodingKey::from_rsa_pem(include_bytes!("../../../testdata/token-signing-key.pem")).unwrap();
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.into());
        encode(&header, claims, &key).unwrap()
    }

    fn sign(claims: &Value) -> String {
        sign_with(claims, KID)
    }

    fn rejects(token: &str) -> bool {
        matches!(
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(verifier().verify(token)),
            Err(AuthError::InvalidToken(_))
        )
    }

    #[tokio::test]
    async fn a_valid_id_token_gives_the_identity_and_groups() {
        let identity = verifier().verify_header(&format!("Bearer {}", sign(&claims()))).await.unwrap();
        assert_eq!(identity.sub, "user-1");
        assert_eq!(identity.username.as_deref(), Some("alice"));
        assert!(identity.is_admin());
        let raw = verifier().verify_header(&sign(&claims())).await.unwrap();
        assert_eq!(raw, identity);
    }

    #[test]
    fn each_claim_is_checked() {
        let with = |key: &str, value: Value| {
            let mut c = claims();
            c[key] = value;
            sign(&c)
        };
        assert!(rejects(&with("exp", json!(now() - 60))), "expired");
        assert!(rejects(&with("nbf", json!(now() + 600))), "not yet valid");
        assert!(rejects(&with("iss", json!("https://evil.example.com"))), "issuer");
        assert!(rejects(&with("aud", json!("other-client"))), "audience");
        assert!(rejects(&with("token_use", json!("access"))), "token_use");
        let mut no_exp = claims();
        no_exp.as_object_mut().unwrap().remove("exp");
        assert!(rejects(&sign(&no_exp)), "no exp");
    }

    #[test]
    fn forged_and_broken_tokens_are_refused() {
        let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        let alg_none = format!("{}.{}.", b64(&json!({"alg": "none", "kid": KID})), b64(&claims()));
        let mut hs = Header::new(Algorithm::HS256);
        hs.kid = Some(KID.into());
        let public_pem = include_bytes!("../../../testdata/token-public-key.pem");
        let hs256 = encode(&hs, &claims(), &EncodingKey::from_secret(public_pem)).unwrap();
        let good = sign(&claims());
        let parts: Vec<&str> = good.split('.').collect();
        let mut other = claims();
        other["sub"] = json!("user-2");
        let tampered = format!("{}.{}.{}", parts[0], b64(&other), parts[2]);
        for (what, token) in [
            ("alg none", alg_none.as_str()),
            ("HS256 with the public key", hs256.as_str()),
            ("unknown kid", sign_with(&claims(), "other-kid").as_str()),
            ("tampered", tampered.as_str()),
            ("truncated", &good[..good.len() - 5]),
            ("garbage", "abc"),
            ("empty", ""),
        ] {
            assert!(rejects(token), "{what}");
        }
    }

    #[tokio::test]
    async fn an_unreachable_key_set_is_an_outage_not_a_bad_token() {
        let config = CognitoConfig {
            issuer: ISSUER.into(),
            jwks_url: "http://127.0.0.1:9/jwks.json".into(),
            client_id: CLIENT.into(),
        };
        let result = TokenVerifier::new(config).verify(&sign(&claims())).await;
        assert!(matches!(result, Err(AuthError::KeysUnavailable(_))), "{result:?}");
    }
}
