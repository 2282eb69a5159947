import { beforeEach, describe, expect, it, vi } from "vitest";
import { flushPromises, mount } from "@vue/test-utils";
import { createPinia, setActivePinia } from "pinia";
import { useCheckoutStore } from "../stores/checkout";
import type { Order } from "../lib/types";
import CheckoutButton from "./CheckoutButton.vue";

const push = vi.fn();
vi.mock("vue-router", () => ({ useRouter: () => ({ push }) }));

const order = { orderId: "0190-order", status: "PENDING_PAYMENT" } as Order;

beforeEach(() => {
  setActivePinia(createPinia());
  push.mockReset();
});

describe("CheckoutButton", () => {
  it("checks out and opens the new order", async () => {
    const checkout = useCheckoutStore();
    const run = vi.spyOn(checkout, "checkout").mockResolvedValue(order);
    const wrapper = mount(CheckoutButton);
    await wrapper.get('[data-test="checkout"]').trigger("click");
    await flushPromises();
    expect(run).toHaveBeenCalledTimes(1);
    expect(push).toHaveBeenCalledWith({ name: "order", params: { orderId: "0190-order" } });
  });

  it("while it reserves, says so and ignores more clicks", async () => {
    const checkout = useCheckoutStore();
    const run = vi.spyOn(checkout, "checkout").mockResolvedValue(null);
    checkout.pending = true;
    const wrapper = mount(CheckoutButton);
    const button = wrapper.get('[data-test="checkout"]');
    expect(button.text()).toBe("Reserving your items…");
    expect(button.attributes("aria-disabled")).toBe("true");
    await button.trigger("click");
    expect(run).not.toHaveBeenCalled();
  });

  it("a refusal is announced and opens nothing", async () => {
    const checkout = useCheckoutStore();
    vi.spyOn(checkout, "checkout").mockImplementation(async () => {
      checkout.error = "Some items are short of stock: change their quantities and check out again.";
      return null;
    });
    const wrapper = mount(CheckoutButton);
    await wrapper.get('[data-test="checkout"]').trigger("click");
    await flushPromises();
    expect(wrapper.get('[role="alert"]').text()).toContain("short of stock");
    expect(push).not.toHaveBeenCalled();
  });
});
