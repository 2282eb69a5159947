//! Cognito: the user pool's tokens, verified against its keys (`tokens`),
//! and whether an admin has an authenticator app (`authenticators`).

pub mod authenticators;
pub mod tokens;
