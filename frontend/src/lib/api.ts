// The one client of the shop's API. Every call goes to the same origin as the
// page (the cartId cookie stays first-party) and carries the Cognito ID token
// when a user is signed in: with a token the API answers for the user's cart,
// without one for the cookie's.
import { currentIdToken } from "./auth";
import { ApiError, NetworkError } from "./errors";
import type {
  BestSeller,
  CartLine,
  Order,
  Product,
  ProductDetail,
  ProductPage,
  Review,
  ReviewInput,
  ReviewPage,
  StockLevels,
} from "./types";

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

export const api = {
  categories: () => call<{ categories: string[] }>("GET", "/categories"),
  products: (query: { category?: string; limit?: number; cursor?: string }) =>
    call<ProductPage>("GET", "/product", { query: { limit: 20, ...query } }),
  product: (productId: string) => call<{ product: ProductDetail }>("GET", `/product/${id(productId)}`),
  bestsellers: (limit = 8) => call<{ products: BestSeller[] }>("GET", "/bestsellers", { query: { limit } }),

  cart: () => call<{ products: CartLine[] }>("GET", "/cart"),
  changeLine: (productId: string, quantity: number) =>
    call<{ productId: string; quantity: number }>("POST", "/cart", { body: { productId, quantity } }),
  setLine: (productId: string, quantity: number) =>
    call<{ productId: string; quantity: number }>("PUT", `/cart/${id(productId)}`, { body: { quantity } }),
  migrateCart: () => call<{ products: CartLine[] }>("POST", "/cart/migrate"),
  checkout: (idempotencyKey: string) =>
    call<{ products: CartLine[]; order: Order }>("POST", "/cart/checkout", { idempotencyKey }),

  orders: (cursor?: string, limit = 10) => call<{ orders: Order[]; nextCursor?: string }>("GET", "/orders", { query: { cursor, limit } }),
  order: (orderId: string) => call<{ order: Order }>("GET", `/orders/${id(orderId)}`),
  pay: (orderId: string, cardToken: string) =>
    call<{ order: Order }>("POST", `/orders/${id(orderId)}/payment`, { body: { cardToken } }),
  /** The order's PaymentIntent, for Stripe.js to confirm with the card. */
  startPayment: (orderId: string) =>
    call<{ order: Order; paymentIntent: { id: string; clientSecret: string } }>(
      "POST",
      `/orders/${id(orderId)}/payment/intent`,
    ),
  /** "Stripe confirmed it": the shop asks Stripe, and sells the order if so. */
  paymentConfirmed: (orderId: string) =>
    call<{ order: Order }>("POST", `/orders/${id(orderId)}/payment`, { body: { confirmed: true } }),
  cancel: (orderId: string) => call<{ order: Order }>("POST", `/orders/${id(orderId)}/cancel`),

  createProduct: (product: Partial<Product> & { initialStock: number }) =>
    call<{ product: Product; stock: { available: number } }>("POST", "/product", { body: product }),
  updateProduct: (productId: string, changes: Partial<Product>) =>
    call<{ product: Product }>("PUT", `/product/${id(productId)}`, { body: changes }),
  restock: (productId: string, delta: number, idempotencyKey: string) =>
    call<{ productId: string; stock: StockLevels; replayed: boolean }>("POST", `/product/${id(productId)}/stock`, {
      body: { delta },
      idempotencyKey,
    }),
  reviews: (productId: string, cursor?: string, limit = 5) =>
    call<ReviewPage>("GET", `/product/${id(productId)}/reviews`, { query: { cursor, limit } }),
  writeReview: (productId: string, review: ReviewInput) =>
    call<{ review: Review }>("POST", `/product/${id(productId)}/reviews`, { body: review }),
  editReview: (productId: string, reviewId: string, review: ReviewInput) =>
    call<{ review: Review }>("PUT", `/product/${id(productId)}/reviews/${id(reviewId)}`, { body: review }),
  deleteReview: (productId: string, reviewId: string) =>
    call<{ review: Review }>("DELETE", `/product/${id(productId)}/reviews/${id(reviewId)}`),

  reshard: (productId: string, shards: number) =>
    call<{ shards: { active: number; items: number }; stock: StockLevels; shardStocks: StockLevels[] }>(
      "PUT",
      `/product/${id(productId)}/stock/shards`,
      { body: { shards } },
    ),
  cartTotal: (productId: string) =>
    call<{ product: string; quantity: number }>("GET", `/cart/${id(productId)}/total`),
};
