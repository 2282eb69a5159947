// Checkout: one attempt, one Idempotency-Key. The key is kept until the API
// gives a final answer, so a double click or a retry after a lost answer
// returns the same order instead of making a second one.
import { defineStore } from "pinia";
import { ref } from "vue";
import { api, newIdempotencyKey } from "../lib/api";
import { ApiError, isRetryable, plainMessage } from "../lib/errors";
import type { Order, ShortLine } from "../lib/types";
import { useCartStore } from "./cart";

const KEY_STORAGE = "shop.checkoutKey";

export const useCheckoutStore = defineStore("checkout", () => {
  const pending = ref(false);
  const error = ref<string | null>(null);
  let inFlight: Promise<Order | null> | null = null;

  function attemptKey(): string {
    let key = sessionStorage.getItem(KEY_STORAGE);
    if (!key) {
      key = newIdempotencyKey();
      sessionStorage.setItem(KEY_STORAGE, key);
    }
    return key;
  }

  async function run(): Promise<Order | null> {
    const cart = useCartStore();
    pending.value = true;
    error.value = null;
    try {
      const answer = await api.checkout(attemptKey());
      sessionStorage.removeItem(KEY_STORAGE);
      cart.lines = answer.products;
      return answer.order;
    } catch (e) {
      if (!isRetryable(e)) sessionStorage.removeItem(KEY_STORAGE);
      const short = e instanceof ApiError ? (e.body.shortLines as ShortLine[] | undefined) : undefined;
      if (short?.length) {
        for (const line of short) {
          cart.lineErrors[line.productId] =
            line.available === 0 ? "Sold out: none available." : `Only ${line.available} available.`;
        }
        error.value = "Some items are short of stock: change their quantities and check out again.";
      } else {
        error.value = plainMessage(e);
      }
      return null;
    } finally {
      pending.value = false;
    }
  }

  /** Checks out the cart; a second call while one is in flight joins it. */
  function checkout(): Promise<Order | null> {
    inFlight ??= run().finally(() => {
      inFlight = null;
    });
    return inFlight;
  }

  return { pending, error, checkout };
});
