import { createApp } from "vue";
import { createPinia } from "pinia";
import App from "./App.vue";
import { router } from "./router";
import { setApiBase, setSessionGuard } from "./lib/api";
import { setAuthSettings } from "./lib/auth";
import { loadConfig } from "./lib/config";
import { setStripeSettings } from "./lib/stripe";
import { useCartStore } from "./stores/cart";
import { useSessionStore } from "./stores/session";
import "./style.css";

async function start(): Promise<void> {
  const config = await loadConfig();
  setApiBase(config.apiBase);
  setStripeSettings(config.stripe);

  const app = createApp(App).use(createPinia()).use(router);
  const session = useSessionStore();
  const cart = useCartStore();
  // Amplify loads only when a session is stored or someone signs in (lib/auth.ts).
  setAuthSettings(config, async (event) => {
    switch (event) {
      case "signedIn":
        await session.refresh();
        await cart.afterSignIn();
        break;
      case "signedOut":
        await session.refresh();
        await cart.afterSignOut();
        break;
      case "tokenRefresh":
        await session.refresh();
        break;
      case "tokenRefresh_failure":
        await session.refresh();
        break;
    }
  });
  // Mount at once: the catalog needs no session; the header and the cart
  // follow as soon as the session is read.
  // A call as the signed-in user with no session behind it ends the session
  // on the page; another tab signing in or out changes this one too (Amplify
  // keeps its tokens in localStorage, whose changes other tabs are told of).
  setSessionGuard({
    signedIn: () => session.user !== null,
    ended: () => {
      if (!session.user) return;
      session.endedElsewhere();
      void cart.afterSignOut();
    },
  });
  window.addEventListener("storage", (event) => {
    if (event.key !== null && !event.key.startsWith("CognitoIdentityServiceProvider")) return;
    const before = session.user?.username ?? null;
    void session.refresh().then(async () => {
      const after = session.user?.username ?? null;
      if (after === before) return;
      if (after === null) {
        session.ended = true;
        await cart.afterSignOut();
      } else {
        await cart.load();
      }
    });
  });
  app.mount("#app");
  await session.refresh();
  void cart.load();
}

start().catch((error: unknown) => {
  const root = document.getElementById("app");
  if (root) {
    root.textContent = "The shop could not start. Please reload the page in a moment.";
  }
  console.error(error);
});
