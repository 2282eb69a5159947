// The shopper's cart: the cookie cart when anonymous, the user's when signed
// in (the API decides by the token the client sends). The page changes a line
// only after the API said yes, so a refused change leaves the cart as it was.
import { defineStore } from "pinia";
import { computed, ref } from "vue";
import { api } from "../lib/api";
import { ApiError, plainMessage } from "../lib/errors";
import { cartTotal, unitCount } from "../lib/money";
import type { CartLine } from "../lib/types";

export const MAX_LINE_QUANTITY = 100;

export const useCartStore = defineStore("cart", () => {
  const lines = ref<CartLine[]>([]);
  const loading = ref(false);
  const loaded = ref(false);
  const error = ref<string | null>(null);
  /** Per product: why its last change was refused (e.g. "Only 3 available."). */
  const lineErrors = ref<Record<string, string>>({});
  /** Products with a change in flight (their controls wait). */
  const busy = ref<Record<string, boolean>>({});

  // Each read of the whole cart takes a number; an answer that arrives after a
  // newer read started (a load racing the sign-in merge) is dropped.
  let reads = 0;

  const total = computed(() => cartTotal(lines.value));
  const count = computed(() => unitCount(lines.value));

  function quantityOf(productId: string): number {
    return lines.value.find((l) => l.sk === productId)?.quantity ?? 0;
  }

  async function read(fetchLines: () => Promise<{ products: CartLine[] }>): Promise<void> {
    const read = ++reads;
    loading.value = true;
    error.value = null;
    try {
      const answer = await fetchLines();
      if (read !== reads) return;
      lines.value = answer.products;
      loaded.value = true;
    } catch (e) {
      if (read === reads) error.value = plainMessage(e);
    } finally {
      if (read === reads) loading.value = false;
    }
  }

  function load(): Promise<void> {
    return read(api.cart);
  }

  /** Applies the API's answer for one line: its quantity now. */
  async function applied(productId: string, quantity: number): Promise<void> {
    const line = lines.value.find((l) => l.sk === productId);
    if (quantity === 0) {
      lines.value = lines.value.filter((l) => l.sk !== productId);
    } else if (line) {
      line.quantity = quantity;
    } else {
      await load(); // a new line: the cart's answer carries its product details
    }
  }

  async function change(productId: string, run: () => Promise<{ quantity: number }>): Promise<boolean> {
    busy.value[productId] = true;
    delete lineErrors.value[productId];
    try {
      const answer = await run();
      await applied(productId, answer.quantity);
      return true;
    } catch (e) {
      lineErrors.value[productId] = plainMessage(e);
      if (e instanceof ApiError && e.status === 404) await load();
      return false;
    } finally {
      delete busy.value[productId];
    }
  }

  /** Adds (or, negative, removes) units of a product. */
  function add(productId: string, units: number): Promise<boolean> {
    return change(productId, () => api.changeLine(productId, units));
  }

  function setQuantity(productId: string, quantity: number): Promise<boolean> {
    return change(productId, () => api.setLine(productId, quantity));
  }

  function remove(productId: string): Promise<boolean> {
    return setQuantity(productId, 0);
  }

  /** After sign-in: the cookie cart's lines join the user's cart. */
  async function afterSignIn(): Promise<void> {
    lineErrors.value = {};
    // Migration answers the merged cart; with nothing to merge, just read it.
    await read(lines.value.length > 0 ? api.migrateCart : api.cart);
  }

  /** After sign-out: the (anonymous) cookie cart. */
  async function afterSignOut(): Promise<void> {
    lineErrors.value = {};
    lines.value = [];
    await load();
  }

  return {
    lines,
    loading,
    loaded,
    error,
    lineErrors,
    busy,
    total,
    count,
    quantityOf,
    load,
    add,
    setQuantity,
    remove,
    afterSignIn,
    afterSignOut,
  };
});
