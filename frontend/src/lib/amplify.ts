// Amplify, configured: the one module that imports it. It is a chunk of its
// own, loaded by lib/auth.ts only when a session is stored or someone signs
// in, so an anonymous shopper's first visit never downloads it.
import { Amplify } from "aws-amplify";
import { Hub } from "aws-amplify/utils";
import { amplifyAuthConfig, type StorefrontConfig } from "./config";

export {
  autoSignIn,
  confirmResetPassword,
  confirmSignIn,
  confirmSignUp,
  fetchAuthSession,
  fetchMFAPreference,
  resendSignUpCode,
  resetPassword,
  setUpTOTP,
  signIn,
  signOut,
  signUp,
  updateMFAPreference,
  verifyTOTPSetup,
} from "aws-amplify/auth";

/** What happened to the session in this tab (Amplify's Hub "auth" channel). */
export type AuthEvent = "signedIn" | "signedOut" | "tokenRefresh" | "tokenRefresh_failure";

export function configure(config: StorefrontConfig, onEvent: (event: AuthEvent) => void): void {
  Amplify.configure(amplifyAuthConfig(config));
  Hub.listen("auth", ({ payload }) => {
    switch (payload.event) {
      case "signedIn":
      case "signedOut":
      case "tokenRefresh":
      case "tokenRefresh_failure":
        onEvent(payload.event);
    }
  });
}
