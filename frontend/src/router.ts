import { createRouter, createWebHistory, type RouteLocationNormalized } from "vue-router";
import HomeView from "./views/HomeView.vue";
import { useSessionStore } from "./stores/session";

// The first page loads only what browsing needs; sign-in (the Authenticator),
// orders and admin screens come in their own chunks when visited.
export const router = createRouter({
  history: createWebHistory(),
  scrollBehavior: () => ({ top: 0 }),
  routes: [
    { path: "/", name: "home", component: HomeView },
    { path: "/category/:category", name: "category", component: () => import("./views/CategoryView.vue"), props: true },
    { path: "/product/:productId", name: "product", component: () => import("./views/ProductView.vue"), props: true },
    { path: "/cart", name: "cart", component: () => import("./views/CartView.vue") },
    { path: "/signin", name: "signin", component: () => import("./views/SignInView.vue") },
    { path: "/orders", name: "orders", component: () => import("./views/OrdersView.vue"), meta: { signedIn: true } },
    {
      path: "/orders/:orderId",
      name: "order",
      component: () => import("./views/OrderView.vue"),
      props: true,
      meta: { signedIn: true },
    },
    {
      path: "/account/security",
      name: "security",
      component: () => import("./views/SecurityView.vue"),
      meta: { signedIn: true },
    },
    { path: "/admin", name: "admin", component: () => import("./views/AdminView.vue"), meta: { admin: true } },
    {
      path: "/admin/product/:productId?",
      name: "admin-product",
      component: () => import("./views/AdminProductView.vue"),
      props: true,
      meta: { admin: true },
    },
    { path: "/:rest(.*)*", name: "not-found", component: () => import("./views/NotFoundView.vue") },
  ],
});

// Screens for signed-in users send others to sign in first. (The API refuses
// them anyway: this only spares a shopper a screen of errors.)
router.beforeEach(async (to: RouteLocationNormalized) => {
  if (!to.meta.signedIn && !to.meta.admin) return true;
  const session = useSessionStore();
  if (!session.ready) await session.refresh();
  if (!session.user) return { name: "signin", query: { redirect: to.fullPath } };
  if (to.meta.admin && !session.isAdmin) return { name: "home" };
  // The API refuses an admin without an authenticator app (TOTP): set one up first.
  if (to.meta.admin && session.hasAuthenticator === false) {
    return { name: "security", query: { redirect: to.fullPath } };
  }
  return true;
});
