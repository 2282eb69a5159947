// The one client of the shop's API. Every call goes to the same origin as the
// page (the cartId cookie stays first-party) and carries the Cognito ID token
// when a user is signed in: with a token the API answers for the user's cart,
// without one for the cookie's.
import { currentIdToken } from "./auth";
import { ApiError, NetworkError } from "./errors";
import type { Answer, NewProduct, ProductChanges, ReviewInput } from "./types";

let apiBase = "/api";

export function setApiBase(base: string): void {
  apiBase = base.replace(/\/$/, "");
}

/** What the page believes about the session, and what to do when that is
 * no longer true: a call the page makes as a signed-in user never goes out
 * as the anonymous shopper instead. */
export interface SessionGuard {
  /** The page shows a signed-in user. */
  signedIn(): boolean;
  /** The session is gone (signed out elsewhere, tokens gone, refused): show it. */
  ended(): void;
}

let guard: SessionGuard = { signedIn: () => false, ended: () => undefined };

export function setSessionGuard(next: SessionGuard): void {
  guard = next;
}

/** A call meant for the signed-in user whose session has ended. */
export class SessionEndedError extends Error {
  constructor() {
    super("Your session has ended: sign in again to go on.");
    this.name = "SessionEndedError";
  }
}

/** The signed-in user's ID token (refreshed by Amplify when it is due), or none. */
async function idToken(): Promise<string | undefined> {
  try {
    return (await currentIdToken())?.jwt;
  } catch {
    return undefined;
  }
}

interface Options {
  body?: unknown;
  idempotencyKey?: string;
  query?: Record<string, string | number | boolean | undefined>;
}

async function call<T>(method: string, path: string, options: Options = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const token = await idToken();
  if (token) {
    headers.Authorization = token;
  } else if (guard.signedIn()) {
    // Amplify could not give a token (signed out in another tab, tokens gone and
    // not refreshable): never act as the anonymous shopper behind a signed-in page.
    guard.ended();
    throw new SessionEndedError();
  }
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (options.idempotencyKey) headers["Idempotency-Key"] = options.idempotencyKey;
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(options.query ?? {})) {
    if (value !== undefined && value !== "") params.set(name, String(value));
  }
  const url = `${apiBase}${path}${params.size ? `?${params}` : ""}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch {
    throw new NetworkError();
  }
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    body = { message: `unexpected answer (HTTP ${response.status})` };
  }
  if (response.status === 401 && token) guard.ended(); // the token was refused (revoked, expired)
  if (!response.ok) throw new ApiError(response.status, body);
  return body as T;
}

const id = encodeURIComponent;

/** A fresh key for one attempt at a change; retries of that attempt reuse it. */
export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}

// Each call's answer is the type openapi.yaml gives its route.
export const api = {
  categories: () => call<Answer<"/categories", "get">>("GET", "/categories"),
  products: (query: { category?: string; limit?: number; cursor?: string }) =>
    call<Answer<"/product", "get">>("GET", "/product", { query: { limit: 20, ...query } }),
  product: (productId: string) => call<Answer<"/product/{product_id}", "get">>("GET", `/product/${id(productId)}`),
  bestsellers: (limit = 8) => call<Answer<"/bestsellers", "get">>("GET", "/bestsellers", { query: { limit } }),

  cart: () => call<Answer<"/cart", "get">>("GET", "/cart"),
  changeLine: (productId: string, quantity: number) =>
    call<Answer<"/cart", "post">>("POST", "/cart", { body: { productId, quantity } }),
  setLine: (productId: string, quantity: number) =>
    call<Answer<"/cart/{product_id}", "put">>("PUT", `/cart/${id(productId)}`, { body: { quantity } }),
  migrateCart: () => call<Answer<"/cart/migrate", "post">>("POST", "/cart/migrate"),
  checkout: (idempotencyKey: string) =>
    call<Answer<"/cart/checkout", "post">>("POST", "/cart/checkout", { idempotencyKey }),

  orders: (cursor?: string, limit = 10) =>
    call<Answer<"/orders", "get">>("GET", "/orders", { query: { cursor, limit } }),
  order: (orderId: string) => call<Answer<"/orders/{order_id}", "get">>("GET", `/orders/${id(orderId)}`),
  pay: (orderId: string, cardToken: string) =>
    call<Answer<"/orders/{order_id}/payment", "post">>("POST", `/orders/${id(orderId)}/payment`, { body: { cardToken } }),
  /** The order's PaymentIntent, for Stripe.js to confirm with the card. */
  startPayment: (orderId: string) =>
    call<Answer<"/orders/{order_id}/payment/intent", "post">>("POST", `/orders/${id(orderId)}/payment/intent`),
  /** "Stripe confirmed it": the shop asks Stripe, and sells the order if so. */
  paymentConfirmed: (orderId: string) =>
    call<Answer<"/orders/{order_id}/payment", "post">>("POST", `/orders/${id(orderId)}/payment`, {
      body: { confirmed: true },
    }),
  cancel: (orderId: string) => call<Answer<"/orders/{order_id}/cancel", "post">>("POST", `/orders/${id(orderId)}/cancel`),

  createProduct: (product: NewProduct) => call<Answer<"/product", "post">>("POST", "/product", { body: product }),
  updateProduct: (productId: string, changes: ProductChanges) =>
    call<Answer<"/product/{product_id}", "put">>("PUT", `/product/${id(productId)}`, { body: changes }),
  restock: (productId: string, delta: number, idempotencyKey: string) =>
    call<Answer<"/product/{product_id}/stock", "post">>("POST", `/product/${id(productId)}/stock`, {
      body: { delta },
      idempotencyKey,
    }),
  reviews: (productId: string, cursor?: string, limit = 5) =>
    call<Answer<"/product/{product_id}/reviews", "get">>("GET", `/product/${id(productId)}/reviews`, {
      query: { cursor, limit },
    }),
  writeReview: (productId: string, review: ReviewInput) =>
    call<Answer<"/product/{product_id}/reviews", "post">>("POST", `/product/${id(productId)}/reviews`, { body: review }),
  editReview: (productId: string, reviewId: string, review: ReviewInput) =>
    call<Answer<"/product/{product_id}/reviews/{review_id}", "put">>(
      "PUT",
      `/product/${id(productId)}/reviews/${id(reviewId)}`,
      { body: review },
    ),
  deleteReview: (productId: string, reviewId: string) =>
    call<Answer<"/product/{product_id}/reviews/{review_id}", "delete">>(
      "DELETE",
      `/product/${id(productId)}/reviews/${id(reviewId)}`,
    ),

  reshard: (productId: string, shards: number) =>
    call<Answer<"/product/{product_id}/stock/shards", "put">>("PUT", `/product/${id(productId)}/stock/shards`, {
      body: { shards },
    }),
  cartTotal: (productId: string) =>
    call<Answer<"/cart/{product_id}/total", "get">>("GET", `/cart/${id(productId)}/total`),
};
