// Who is signed in, from Amplify's session (never from anything the page made up).
import { defineStore } from "pinia";
import { computed, ref } from "vue";
import { fetchAuthSession, signOut as amplifySignOut } from "aws-amplify/auth";

export interface SignedInUser {
  username: string;
  groups: string[];
}

export const useSessionStore = defineStore("session", () => {
  const user = ref<SignedInUser | null>(null);
  const ready = ref(false);
  const isAdmin = computed(() => user.value?.groups.includes("admin") ?? false);

  /** Reads the current session (Amplify refreshes tokens that are due). */
  async function refresh(): Promise<void> {
    try {
      const session = await fetchAuthSession();
      const claims = session.tokens?.idToken?.payload;
      user.value = claims
        ? {
            username: String(claims["cognito:username"] ?? claims.sub),
            groups: Array.isArray(claims["cognito:groups"]) ? claims["cognito:groups"].map(String) : [],
          }
        : null;
    } catch {
      user.value = null;
    } finally {
      ready.value = true;
    }
  }

  async function signOut(): Promise<void> {
    await amplifySignOut();
    user.value = null;
  }

  return { user, ready, isAdmin, refresh, signOut };
});
