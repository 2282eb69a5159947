import { createRouter, createWebHistory, type RouteLocationNormalized } from "vue-router";
import HomeView from "./views/HomeView.vue";
import { applyPageMeta, focusPageHeading, type PageMeta } from "./lib/page";
import { useSessionStore } from "./stores/session";

declare module "vue-router" {
  interface RouteMeta {
    signedIn?: boolean;
    admin?: boolean;
    /** The page's title and description (views with data refine the title). */
    page?: PageMeta;
  }
}

// The first page loads only what browsing needs; sign-in (and Amplify),
// orders and admin screens come in their own chunks when visited.
export const router = createRouter({
  history: createWebHistory(),
  scrollBehavior: () => ({ top: 0 }),
  routes: [
    { path: "/", name: "home", component: HomeView, meta: { page: {} } },
    { path: "/category/:category", name: "category", component: () => import("./views/CategoryView.vue"), props: true },
    { path: "/product/:productId", name: "product", component: () => import("./views/ProductView.vue"), props: true },
    {
      path: "/cart",
      name: "cart",
      component: () => import("./views/CartView.vue"),
      // Public pages a crawler sees as anyone does (an empty cart, the sign-in
      // form): indexable. A shopper's own pages (orders, account) are not.
      meta: { page: { title: "Your cart", description: "Your cart at the shop: what you picked, its total, and checkout." } },
    },
    {
      path: "/signin",
      name: "signin",
      component: () => import("./views/SignInView.vue"),
      meta: { page: { title: "Sign in", description: "Sign in to the shop, or create an account, to check out and see your orders." } },
    },
    {
      path: "/orders",
      name: "orders",
      component: () => import("./views/OrdersView.vue"),
      meta: { signedIn: true, page: { title: "Your orders", noindex: true } },
    },
    {
      path: "/orders/:orderId",
      name: "order",
      component: () => import("./views/OrderView.vue"),
      props: true,
      meta: { signedIn: true, page: { title: "Your order", noindex: true } },
    },
    {
      path: "/account/security",
      name: "security",
      component: () => import("./views/SecurityView.vue"),
      meta: { signedIn: true, page: { title: "Sign-in security", noindex: true } },
    },
    {
      path: "/admin",
      name: "admin",
      component: () => import("./views/AdminView.vue"),
      meta: { admin: true, page: { title: "Admin", noindex: true } },
    },
    {
      path: "/admin/product/:productId?",
      name: "admin-product",
      component: () => import("./views/AdminProductView.vue"),
      props: true,
      meta: { admin: true, page: { title: "Admin: a product", noindex: true } },
    },
    {
      path: "/:rest(.*)*",
      name: "not-found",
      component: () => import("./views/NotFoundView.vue"),
      meta: { page: { title: "Page not found", noindex: true } },
    },
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

// Each page's title and description; after a navigation within the app (not
// the first load), focus on the new page's heading.
router.afterEach((to, from, failure) => {
  if (failure) return;
  const page: PageMeta = to.meta.page ?? {};
  const params = to.params as Record<string, string | undefined>;
  const title = page.title ?? params.category ?? undefined;
  applyPageMeta({ ...page, title });
  if (from.matched.length > 0) focusPageHeading();
});
