// Who is signed in, from Amplify's session (never from anything the page made up).
import { defineStore } from "pinia";
import { computed, ref } from "vue";
import { amplify, currentIdToken } from "../lib/auth";

export interface SignedInUser {
  username: string;
  groups: string[];
}

export const useSessionStore = defineStore("session", () => {
  const user = ref<SignedInUser | null>(null);
  const ready = ref(false);
  /**
   * Whether the account has an authenticator app (TOTP), as Cognito says
   * (null: not asked, for shoppers, or unknown). The API grants an admin
   * admin rights only with one, so the admin screens ask for it first.
   */
  const hasAuthenticator = ref<boolean | null>(null);
  const isAdmin = computed(() => user.value?.groups.includes("admin") ?? false);
  /** The session ended without this tab signing out (another tab did, or its
   * tokens are gone): the page says so, and shows the signed-out state. */
  const ended = ref(false);

  /** Reads the current session (Amplify refreshes tokens that are due). */
  async function refresh(): Promise<void> {
    try {
      const claims = (await currentIdToken())?.claims;
      const next = claims
        ? {
            username: String(claims["cognito:username"] ?? claims.sub),
            groups: Array.isArray(claims["cognito:groups"]) ? claims["cognito:groups"].map(String) : [],
          }
        : null;
      // Both at once: an admin link never shows before the page knows whether
      // the admin has an authenticator app (the screens need one).
      const authenticator = next?.groups.includes("admin") ? await readAuthenticator() : null;
      if (next) ended.value = false;
      user.value = next;
      hasAuthenticator.value = authenticator;
    } catch {
      user.value = null;
      hasAuthenticator.value = null;
    } finally {
      ready.value = true;
    }
  }

  async function readAuthenticator(): Promise<boolean | null> {
    try {
      const { fetchMFAPreference } = await amplify();
      const preference = await fetchMFAPreference();
      return preference.enabled?.includes("TOTP") ?? false;
    } catch {
      return null;
    }
  }

  /** The session is gone: show the signed-out state at once (and say why). */
  function endedElsewhere(): void {
    if (!user.value) return;
    user.value = null;
    hasAuthenticator.value = null;
    ended.value = true;
  }

  async function signOut(options?: { everywhere?: boolean }): Promise<void> {
    const auth = await amplify();
    await auth.signOut({ global: options?.everywhere ?? false });
    user.value = null;
    hasAuthenticator.value = null;
  }

  return { user, ready, isAdmin, hasAuthenticator, ended, refresh, endedElsewhere, signOut };
});
