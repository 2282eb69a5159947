import { beforeEach, describe, expect, it, vi } from "vitest";
import { mount } from "@vue/test-utils";
import { createPinia, setActivePinia } from "pinia";
import { MAX_LINE_QUANTITY, useCartStore } from "../stores/cart";
import QuantityStepper from "./QuantityStepper.vue";

const props = { productId: "p-1", name: "jam", quantity: 2 };

beforeEach(() => setActivePinia(createPinia()));

function mountWithCart(quantity = 2) {
  const cart = useCartStore();
  const add = vi.spyOn(cart, "add").mockResolvedValue(true);
  const setQuantity = vi.spyOn(cart, "setQuantity").mockResolvedValue(true);
  const wrapper = mount(QuantityStepper, { props: { ...props, quantity } });
  return { cart, add, setQuantity, wrapper };
}

describe("QuantityStepper", () => {
  it("− and + change the line by one, named for screen readers", async () => {
    const { add, wrapper } = mountWithCart();
    await wrapper.get('[aria-label="One fewer jam"]').trigger("click");
    await wrapper.get('[aria-label="One more jam"]').trigger("click");
    expect(add.mock.calls).toEqual([
      ["p-1", -1],
      ["p-1", 1],
    ]);
    expect(wrapper.get('[role="group"]').attributes("aria-label")).toBe("Quantity of jam");
  });

  it("a typed number sets the line; nonsense is refused in words and changes nothing", async () => {
    const { cart, setQuantity, wrapper } = mountWithCart();
    const input = wrapper.get("input");
    await input.setValue("5");
    expect(setQuantity).toHaveBeenCalledWith("p-1", 5);

    setQuantity.mockClear();
    for (const typed of ["-1", "2.5", String(MAX_LINE_QUANTITY + 1), ""]) {
      await input.setValue(typed);
      expect(cart.lineErrors["p-1"]).toBe(`Enter a whole number from 0 to ${MAX_LINE_QUANTITY}.`);
      expect((input.element as HTMLInputElement).value).toBe("2");
    }
    expect(setQuantity).not.toHaveBeenCalled();
  });

  it("while a change is in flight its buttons wait, still focusable", async () => {
    const { cart, add, wrapper } = mountWithCart();
    cart.busy["p-1"] = true;
    await wrapper.vm.$nextTick();
    const more = wrapper.get('[aria-label="One more jam"]');
    expect(more.attributes("aria-disabled")).toBe("true");
    expect(more.attributes("disabled")).toBeUndefined();
    await more.trigger("click");
    expect(add).not.toHaveBeenCalled();
  });

  it("+ waits at the most a line may hold", () => {
    const { wrapper } = mountWithCart(MAX_LINE_QUANTITY);
    expect(wrapper.get('[aria-label="One more jam"]').attributes("aria-disabled")).toBe("true");
    expect(wrapper.get('[aria-label="One fewer jam"]').attributes("aria-disabled")).toBeUndefined();
  });
});
