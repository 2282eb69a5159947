//! Whether an admin has an authenticator app (TOTP MFA) on their Cognito
//! account. Admin routes require one (`ADMIN_MFA_REQUIRED`, the template's
//! `RequireAdminMfa`), and they ask Cognito, not the token:
//!
//! - The ID token's `amr` claim cannot say it: Cognito writes `amr` only for a
//!   step-up sign-in (`USER_AUTH` with target ACR values, Essentials or Plus
//!   plan, "rolling out gradually"), which this pool's password sign-in never
//!   is. AWS: "Understanding the identity (ID) token",
//!   <https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-id-token.html>.
//! - A user whose TOTP MFA is enabled is "prompted for MFA during all sign-in
//!   attempts, unless device tracking is turned on and the device has been
//!   trusted" (the pool tracks no devices). AWS: `SoftwareTokenMfaSettingsType`,
//!   <https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_SoftwareTokenMfaSettingsType.html>,
//!   and "TOTP software token MFA",
//!   <https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-mfa-totp.html>.
//! - `AdminGetUser` answers it in `UserMFASettingList`. AWS:
//!   <https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminGetUser.html>.
//!
//! So an admin token is honoured only while its user has TOTP enabled, and
//! the answer is cached briefly per container (admins are few; their calls
//! are not). It fails closed: when Cognito cannot be asked, the caller gets a
//! 503, never admin rights.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_sdk_cognitoidentityprovider::operation::admin_get_user::AdminGetUserError;

use crate::outbound::cognito::tokens::AuthError;

/// How long a "TOTP enabled" answer is trusted: switching it off takes
/// admin rights away within this time.
const ENABLED_FOR: Duration = Duration::from_secs(60);
/// How long a "no TOTP" answer is trusted: an admin who has just set one up
/// waits at most this long.
const MISSING_FOR: Duration = Duration::from_secs(5);
/// Cognito's name for TOTP MFA in `UserMFASettingList`.
const TOTP: &str = "SOFTWARE_TOKEN_MFA";

pub struct AuthenticatorCheck {
    cognito: aws_sdk_cognitoidentityprovider::Client,
    user_pool_id: String,
    answers: Mutex<HashMap<String, (Instant, bool)>>,
}

impl AuthenticatorCheck {
    pub fn new(cognito: aws_sdk_cognitoidentityprovider::Client, user_pool_id: String) -> Self {
        Self { cognito, user_pool_id, answers: Mutex::new(HashMap::new()) }
    }

    /// Whether `username` (the token's `cognito:username`, or its `sub`) has
    /// TOTP MFA enabled. A user Cognito does not know has none.
    pub async fn has_totp(&self, username: &str) -> Result<bool, AuthError> {
        if let Some(answer) = self.remembered(username, Instant::now()) {
            return Ok(answer);
        }
        let enabled =
            match self.cognito.admin_get_user().user_pool_id(&self.user_pool_id).username(username).send().await {
                Ok(user) => user.user_mfa_setting_list().iter().any(|m| m == TOTP),
                Err(e) if matches!(e.as_service_error(), Some(AdminGetUserError::UserNotFoundException(_))) => false,
                Err(e) => {
                    let why = aws_sdk_cognitoidentityprovider::error::DisplayErrorContext(e).to_string();
                    return Err(AuthError::UserPoolUnavailable(why));
                }
            };
        self.remember(username, enabled, Instant::now());
        Ok(enabled)
    }

    fn remembered(&self, username: &str, now: Instant) -> Option<bool> {
        let answers = self.answers.lock().ok()?;
        let (at, enabled) = answers.get(username)?;
        let trusted_for = if *enabled { ENABLED_FOR } else { MISSING_FOR };
        (now.duration_since(*at) < trusted_for).then_some(*enabled)
    }

    fn remember(&self, username: &str, enabled: bool, now: Instant) {
        if let Ok(mut answers) = self.answers.lock() {
            // Only admins are asked about; drop what is stale before it grows.
            answers.retain(|_, (at, _)| now.duration_since(*at) < ENABLED_FOR);
            answers.insert(username.to_owned(), (now, enabled));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check() -> AuthenticatorCheck {
        let config = aws_sdk_cognitoidentityprovider::Config::builder()
            .behavior_version(aws_sdk_cognitoidentityprovider::config::BehaviorVersion::latest())
            .build();
        AuthenticatorCheck::new(aws_sdk_cognitoidentityprovider::Client::from_conf(config), "pool".into())
    }

    #[test]
    fn an_enabled_authenticator_is_trusted_for_a_minute_a_missing_one_for_seconds() {
        let check = check();
        let t0 = Instant::now();
        check.remember("admin", true, t0);
        check.remember("new-admin", false, t0);
        assert_eq!(check.remembered("admin", t0 + Duration::from_secs(59)), Some(true));
        assert_eq!(check.remembered("admin", t0 + Duration::from_secs(61)), None, "asked again after a minute");
        assert_eq!(check.remembered("new-admin", t0 + Duration::from_secs(4)), Some(false));
        assert_eq!(check.remembered("new-admin", t0 + Duration::from_secs(6)), None, "set up since? ask again");
        assert_eq!(check.remembered("someone", t0), None);
    }
}
