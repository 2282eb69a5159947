import { beforeEach, describe, expect, it, vi } from "vitest";
import { createPinia, setActivePinia } from "pinia";

// The session store against a stand-in for Amplify's auth library (loaded
// through lib/auth.ts, which reads the stored session's ID token).
const auth = vi.hoisted(() => ({
  fetchAuthSession: vi.fn(),
  fetchMFAPreference: vi.fn(),
  signOut: vi.fn(),
}));
vi.mock("../../src/lib/auth", () => ({
  amplify: async () => auth,
  currentIdToken: async () => {
    const token = (await auth.fetchAuthSession())?.tokens?.idToken;
    return token ? { jwt: "jwt", claims: token.payload } : undefined;
  },
}));

const { useSessionStore } = await import("../../src/stores/session");

const signedInAs = (username: string, groups: string[]) => ({
  tokens: { idToken: { payload: { sub: "s-1", "cognito:username": username, "cognito:groups": groups } } },
});

beforeEach(() => {
  setActivePinia(createPinia());
  vi.resetAllMocks();
});

describe("session", () => {
  it("asks Cognito whether an admin has an authenticator app", async () => {
    auth.fetchAuthSession.mockResolvedValue(signedInAs("boss", ["admin"]));
    auth.fetchMFAPreference.mockResolvedValue({ enabled: [] });
    const session = useSessionStore();
    await session.refresh();
    expect(session.isAdmin).toBe(true);
    expect(session.hasAuthenticator).toBe(false);

    auth.fetchMFAPreference.mockResolvedValue({ enabled: ["TOTP"], preferred: "TOTP" });
    await session.refresh();
    expect(session.hasAuthenticator).toBe(true);
  });

  it("does not ask for shoppers, and an unanswered question is unknown, not yes", async () => {
    auth.fetchAuthSession.mockResolvedValue(signedInAs("shopper", []));
    const session = useSessionStore();
    await session.refresh();
    expect(auth.fetchMFAPreference).not.toHaveBeenCalled();
    expect(session.hasAuthenticator).toBeNull();

    auth.fetchAuthSession.mockResolvedValue(signedInAs("boss", ["admin"]));
    auth.fetchMFAPreference.mockRejectedValue(new Error("network"));
    await session.refresh();
    expect(session.hasAuthenticator).toBeNull();
  });

  it("signs out everywhere when asked (after an authenticator is set up)", async () => {
    auth.fetchAuthSession.mockResolvedValue(signedInAs("boss", ["admin"]));
    auth.fetchMFAPreference.mockResolvedValue({ enabled: ["TOTP"] });
    const session = useSessionStore();
    await session.refresh();
    await session.signOut({ everywhere: true });
    expect(auth.signOut).toHaveBeenCalledWith({ global: true });
    expect(session.user).toBeNull();
    expect(session.hasAuthenticator).toBeNull();
  });
});
