import { beforeEach, describe, expect, it, vi } from "vitest";

// lib/auth.ts against a stand-in for the Amplify chunk: Amplify is loaded only
// when a session is stored or someone signs in, and Cognito's answers become
// the shop's steps and plain words.
const amplify = vi.hoisted(() => ({
  configure: vi.fn(),
  fetchAuthSession: vi.fn(),
  signIn: vi.fn(),
  confirmSignIn: vi.fn(),
}));
vi.mock("../../src/lib/amplify", () => amplify);

const auth = await import("../../src/lib/auth");
const config = { apiBase: "/api", region: "us-east-1", userPoolId: "pool", userPoolClientId: "client-1" };

beforeEach(() => {
  vi.resetAllMocks();
  localStorage.clear();
  auth.setAuthSettings(config, () => undefined);
});

describe("auth", () => {
  it("without a stored session, there is no token and Amplify is not loaded", async () => {
    expect(auth.hasStoredSession()).toBe(false);
    expect(await auth.currentIdToken()).toBeUndefined();
    expect(amplify.configure).not.toHaveBeenCalled();
    expect(amplify.fetchAuthSession).not.toHaveBeenCalled();
  });

  it("with one, Amplify is configured once and gives the ID token", async () => {
    localStorage.setItem("CognitoIdentityServiceProvider.client-1.LastAuthUser", "customer");
    amplify.fetchAuthSession.mockResolvedValue({
      tokens: { idToken: { toString: () => "jwt", payload: { "cognito:username": "customer" } } },
    });
    expect(await auth.currentIdToken()).toEqual({ jwt: "jwt", claims: { "cognito:username": "customer" } });
    await auth.currentIdToken();
    expect(amplify.configure).toHaveBeenCalledTimes(1);
  });

  it("signs in with the password flow and follows Cognito's next step", async () => {
    amplify.signIn.mockResolvedValue({ nextStep: { signInStep: "CONFIRM_SIGN_IN_WITH_TOTP_CODE" } });
    expect(await auth.signInWithPassword("admin", "Admin-Pass1")).toEqual({ step: "totp" });
    expect(amplify.signIn).toHaveBeenCalledWith({
      username: "admin",
      password: "Admin-Pass1",
      options: { authFlowType: "USER_PASSWORD_AUTH" },
    });
    amplify.confirmSignIn.mockResolvedValue({ nextStep: { signInStep: "DONE" } });
    expect(await auth.answerChallenge("123456")).toEqual({ step: "done" });
  });

  it("a step the shop does not offer is refused in words, not half-done", async () => {
    amplify.signIn.mockResolvedValue({ nextStep: { signInStep: "CONFIRM_SIGN_IN_WITH_SMS_CODE" } });
    const refused = await auth.signInWithPassword("someone", "Pass-word1").catch((e: unknown) => e);
    expect(auth.plainAuthError(refused)).toContain("sign-in step the shop does not offer");
  });

  it("Cognito's refusals in plain words, never its raw message", () => {
    const named = (name: string) => Object.assign(new Error("raw Cognito text"), { name });
    expect(auth.plainAuthError(named("NotAuthorizedException"))).toBe("Incorrect username or password.");
    expect(auth.plainAuthError(named("UserNotFoundException"))).toBe("Incorrect username or password.");
    expect(auth.plainAuthError(named("NotAuthorizedException"), "code")).toContain("took too long");
    expect(auth.plainAuthError(named("CodeMismatchException"), "code")).toContain("That code is not right");
    expect(auth.plainAuthError(named("UsernameExistsException"))).toContain("taken");
    expect(auth.plainAuthError(named("SomethingNew"))).not.toContain("raw Cognito text");
  });
});
