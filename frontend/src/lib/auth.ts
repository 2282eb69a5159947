// Signing in, up and out with Cognito through Amplify's auth library, loaded
// only when it is needed: when this browser holds a session, or when someone
// signs in. Every other module reaches Amplify through here.
import type { StorefrontConfig } from "./config";
import type { AuthEvent } from "./amplify";

type Amplify = typeof import("./amplify");

let settings: { config: StorefrontConfig; onEvent: (event: AuthEvent) => void } | null = null;
let loaded: Promise<Amplify> | null = null;

/** The pool to use and who to tell when this tab signs in, out, or refreshes. */
export function setAuthSettings(config: StorefrontConfig, onEvent: (event: AuthEvent) => void): void {
  settings = { config, onEvent };
}

/** Amplify, configured, loaded on first use. */
export function amplify(): Promise<Amplify> {
  if (!loaded) {
    const current = settings;
    if (!current) return Promise.reject(new Error("auth settings not set"));
    loaded = import("./amplify").then((module) => {
      module.configure(current.config, current.onEvent);
      return module;
    });
    // A chunk that failed to load (offline a moment) is tried again next time.
    loaded.catch(() => (loaded = null));
  }
  return loaded;
}

/** Whether this browser holds a Cognito session: Amplify's token store keeps
 * `CognitoIdentityServiceProvider.<client id>.LastAuthUser` in localStorage
 * from sign-in to sign-out (DefaultTokenStore, AUTH_KEY_PREFIX:
 * https://aws-amplify.github.io/amplify-js/api/classes/aws_amplify.auth_cognito.DefaultTokenStore.html),
 * so without it there is nothing to load Amplify for. */
export function hasStoredSession(): boolean {
  if (!settings) return false;
  try {
    return localStorage.getItem(`CognitoIdentityServiceProvider.${settings.config.userPoolClientId}.LastAuthUser`) !== null;
  } catch {
    return false;
  }
}

export interface IdToken {
  jwt: string;
  claims: Record<string, unknown>;
}

/** The signed-in user's ID token (Amplify refreshes one that is due), or none. */
export async function currentIdToken(): Promise<IdToken | undefined> {
  if (!hasStoredSession()) return undefined;
  const { fetchAuthSession } = await amplify();
  const token = (await fetchAuthSession()).tokens?.idToken;
  return token ? { jwt: token.toString(), claims: token.payload as Record<string, unknown> } : undefined;
}

/** Where a sign-in stands after each answer from Cognito. */
export type SignInStep =
  | { step: "done" }
  /** The account has an authenticator app: its code is the second step. */
  | { step: "totp" }
  /** An account an admin created: its temporary password must be replaced. */
  | { step: "new-password" }
  /** Signed up, not confirmed: the code Cognito sent to `destination`. */
  | { step: "confirm-sign-up"; destination?: string }
  /** Cognito asks for a password reset before this account signs in again. */
  | { step: "reset-password" };

/** A step Cognito may ask for that this shop does not offer (SMS, email codes, passkeys). */
export class UnsupportedStepError extends Error {
  constructor(step: string) {
    super(`unsupported sign-in step ${step}`);
    this.name = "UnsupportedStepError";
  }
}

function stepOf(signInStep: string): SignInStep {
  switch (signInStep) {
    case "DONE":
      return { step: "done" };
    case "CONFIRM_SIGN_IN_WITH_TOTP_CODE":
      return { step: "totp" };
    case "CONFIRM_SIGN_IN_WITH_NEW_PASSWORD_REQUIRED":
      return { step: "new-password" };
    case "CONFIRM_SIGN_UP":
      return { step: "confirm-sign-up" };
    case "RESET_PASSWORD":
      return { step: "reset-password" };
    default:
      throw new UnsupportedStepError(signInStep);
  }
}

// The password flow (USER_PASSWORD_AUTH, over TLS to Cognito) on AWS and
// locally alike: the emulator cannot check an SRP proof, and a local stack
// where a wrong password signs in would hide bugs. The sign-in that follows a
// confirmed sign-up takes the same flow.
const PASSWORD_FLOW = { authFlowType: "USER_PASSWORD_AUTH" } as const;

export async function signInWithPassword(username: string, password: string): Promise<SignInStep> {
  const { signIn } = await amplify();
  const answer = await signIn({ username, password, options: PASSWORD_FLOW });
  return stepOf(answer.nextStep.signInStep);
}

/** The authenticator app's code, or the new password, that the sign-in asked for. */
export async function answerChallenge(response: string): Promise<SignInStep> {
  const { confirmSignIn } = await amplify();
  const answer = await confirmSignIn({ challengeResponse: response });
  return stepOf(answer.nextStep.signInStep);
}

export async function signUpWithEmail(username: string, email: string, password: string): Promise<SignInStep> {
  const auth = await amplify();
  const answer = await auth.signUp({
    username,
    password,
    options: { userAttributes: { email }, autoSignIn: PASSWORD_FLOW },
  });
  if (answer.nextStep.signUpStep === "CONFIRM_SIGN_UP") {
    return { step: "confirm-sign-up", destination: answer.nextStep.codeDeliveryDetails?.destination };
  }
  if (answer.nextStep.signUpStep === "COMPLETE_AUTO_SIGN_IN") return stepOf((await auth.autoSignIn()).nextStep.signInStep);
  return { step: "done" };
}

/** The code from the sign-up email; then the sign-in that sign-up promised. */
export async function confirmSignUpCode(username: string, code: string): Promise<SignInStep | "signed-up"> {
  const auth = await amplify();
  const answer = await auth.confirmSignUp({ username, confirmationCode: code });
  // After a sign-in that found the account unconfirmed, no sign-in was promised: the user signs in.
  if (answer.nextStep.signUpStep !== "COMPLETE_AUTO_SIGN_IN") return "signed-up";
  // Read now, not before: Amplify sets `autoSignIn` while confirming (a live binding).
  return stepOf((await auth.autoSignIn()).nextStep.signInStep);
}

/** Sends the sign-up code again; where it went (a masked address). */
export async function resendSignUpCode(username: string): Promise<string | undefined> {
  const { resendSignUpCode } = await amplify();
  return (await resendSignUpCode({ username })).destination;
}

/** Sends a code to reset the password; where it went. */
export async function startPasswordReset(username: string): Promise<string | undefined> {
  const { resetPassword } = await amplify();
  return (await resetPassword({ username })).nextStep.codeDeliveryDetails?.destination;
}

export async function finishPasswordReset(username: string, code: string, newPassword: string): Promise<void> {
  const { confirmResetPassword } = await amplify();
  await confirmResetPassword({ username, confirmationCode: code, newPassword });
}

/** Cognito's refusals in words a shopper can act on (never its raw message).
 * With PreventUserExistenceErrors (template.yaml), an unknown user is refused
 * as a wrong password, and code requests answer as if sent:
 * https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pool-managing-errors.html */
export function plainAuthError(error: unknown, during: "password" | "code" = "password"): string {
  const name = (error as { name?: string } | null)?.name ?? "";
  // A code step refused as not authorized: the sign-in's session (3 minutes) ran out.
  if (during === "code" && name === "NotAuthorizedException") return "This sign-in took too long. Please sign in again.";
  switch (name) {
    case "NotAuthorizedException":
    case "UserNotFoundException":
      return "Incorrect username or password.";
    case "UsernameExistsException":
    case "AliasExistsException":
      return "That username is taken. Choose another one, or sign in.";
    case "InvalidPasswordException":
      return "The password needs at least 8 characters, with an upper-case letter, a lower-case letter and a number.";
    case "CodeMismatchException":
    case "EnableSoftwareTokenMFAException":
      return "That code is not right. Check it and try again.";
    case "ExpiredCodeException":
      return "That code has expired. Ask for a new one.";
    case "LimitExceededException":
    case "TooManyRequestsException":
    case "TooManyFailedAttemptsException":
      return "Too many attempts. Wait a few minutes, then try again.";
    case "InvalidParameterException":
      return "Check what you typed: the username, the email address or the code is not valid.";
    case "UnsupportedStepError":
      return "This account needs a sign-in step the shop does not offer. Contact us to sign in.";
    case "NetworkError":
    case "TypeError":
      return "The sign-in service cannot be reached right now. Check your connection and try again.";
    default:
      return "Signing in did not work just now. Please try again in a moment.";
  }
}
