import { beforeEach, describe, expect, it, vi } from "vitest";
import { createPinia, setActivePinia } from "pinia";
import { ApiError, NetworkError } from "../../src/lib/errors";
import type { CartLine } from "../../src/lib/types";

// The stores against a stand-in for the API client (the one seam the page has).
const api = vi.hoisted(() => ({
  cart: vi.fn(),
  changeLine: vi.fn(),
  setLine: vi.fn(),
  migrateCart: vi.fn(),
  checkout: vi.fn(),
}));
vi.mock("../../src/lib/api", () => ({ api, newIdempotencyKey: () => crypto.randomUUID() }));

const { useCartStore } = await import("../../src/stores/cart");
const { useCheckoutStore } = await import("../../src/stores/checkout");

const product = (id: string, price: number) => ({
  productId: id,
  name: id,
  category: "sweet",
  description: "",
  price,
  pictures: [],
  tags: [],
  createdDate: "2026-01-01T00:00:00Z",
  modifiedDate: "2026-01-01T00:00:00Z",
  package: { height: 1, length: 1, weight: 1, width: 1 },
});
const cartLine = (id: string, quantity: number, price = 100): CartLine => ({ sk: id, quantity, productDetail: product(id, price) });

beforeEach(() => {
  setActivePinia(createPinia());
  sessionStorage.clear();
  for (const fn of Object.values(api)) fn.mockReset();
});

describe("cart store", () => {
  it("totals the lines the API answered", async () => {
    api.cart.mockResolvedValue({ products: [cartLine("a", 2, 250), cartLine("b", 1, 1000)] });
    const cart = useCartStore();
    await cart.load();
    expect(cart.total).toBe(1500);
    expect(cart.count).toBe(3);
  });

  it("leaves the cart as it was when stock refuses a change, and says how many are left", async () => {
    api.cart.mockResolvedValue({ products: [cartLine("a", 2)] });
    api.changeLine.mockRejectedValue(new ApiError(409, { message: "not enough stock", available: 2 }));
    const cart = useCartStore();
    await cart.load();
    expect(await cart.add("a", 1)).toBe(false);
    expect(cart.quantityOf("a")).toBe(2);
    expect(cart.lineErrors.a).toBe("Only 2 available.");
  });

  it("applies the quantity the API answered, and drops a line set to zero", async () => {
    api.cart.mockResolvedValue({ products: [cartLine("a", 2), cartLine("b", 1)] });
    api.changeLine.mockResolvedValue({ productId: "a", quantity: 3 });
    api.setLine.mockResolvedValue({ productId: "b", quantity: 0 });
    const cart = useCartStore();
    await cart.load();
    await cart.add("a", 1);
    await cart.remove("b");
    expect(cart.lines.map((l) => [l.sk, l.quantity])).toEqual([["a", 3]]);
    expect(api.cart).toHaveBeenCalledTimes(1); // known lines need no reload
  });

  it("merges the anonymous cart on sign-in, and an older read cannot overwrite the merge", async () => {
    let answerStaleRead: (v: unknown) => void = () => {};
    api.cart
      .mockResolvedValueOnce({ products: [cartLine("a", 1)] })
      .mockReturnValueOnce(new Promise((resolve) => (answerStaleRead = resolve)));
    api.migrateCart.mockResolvedValue({ products: [cartLine("a", 3), cartLine("b", 1)] });
    const cart = useCartStore();
    await cart.load();
    const staleRead = cart.load(); // e.g. a page that loads the cart while sign-in merges it
    await cart.afterSignIn();
    answerStaleRead({ products: [cartLine("a", 2)] });
    await staleRead;
    expect(api.migrateCart).toHaveBeenCalledTimes(1);
    expect(cart.lines.map((l) => [l.sk, l.quantity])).toEqual([["a", 3], ["b", 1]]);
  });

  it("does not migrate an empty anonymous cart", async () => {
    api.cart.mockResolvedValue({ products: [] });
    const cart = useCartStore();
    await cart.afterSignIn();
    expect(api.migrateCart).not.toHaveBeenCalled();
  });
});

describe("checkout store", () => {
  const order = { orderId: "o1", status: "PENDING_PAYMENT", lines: [], total: 0, createdAt: 0, updatedAt: 0, expiresAt: 0 };

  it("sends the same Idempotency-Key when a lost answer is retried, a new one after an order", async () => {
    api.checkout.mockRejectedValueOnce(new NetworkError()).mockRejectedValueOnce(new ApiError(503, { message: "x" }));
    api.checkout.mockResolvedValueOnce({ products: [], order }).mockResolvedValueOnce({ products: [], order });
    const checkout = useCheckoutStore();
    expect(await checkout.checkout()).toBeNull();
    expect(await checkout.checkout()).toBeNull();
    expect(await checkout.checkout()).toEqual(order);
    await checkout.checkout();
    const keys = api.checkout.mock.calls.map((c) => c[0]);
    expect(keys[0]).toBe(keys[1]);
    expect(keys[1]).toBe(keys[2]);
    expect(keys[3]).not.toBe(keys[2]);
  });

  it("joins a double click to the checkout in flight", async () => {
    api.checkout.mockResolvedValue({ products: [], order });
    const checkout = useCheckoutStore();
    const [first, second] = await Promise.all([checkout.checkout(), checkout.checkout()]);
    expect(first).toEqual(order);
    expect(second).toEqual(order);
    expect(api.checkout).toHaveBeenCalledTimes(1);
  });

  it("marks each short line with what is available, and forgets the key", async () => {
    api.checkout.mockRejectedValue(
      new ApiError(409, { message: "short", shortLines: [{ productId: "a", requested: 4, available: 1 }] }),
    );
    const checkout = useCheckoutStore();
    const cart = useCartStore();
    expect(await checkout.checkout()).toBeNull();
    expect(cart.lineErrors.a).toBe("Only 1 available.");
    expect(checkout.error).toMatch(/short of stock/);
    await checkout.checkout();
    const keys = api.checkout.mock.calls.map((c) => c[0]);
    expect(keys[0]).not.toBe(keys[1]);
  });
});
