import { describe, expect, it } from "vitest";
import { mount } from "@vue/test-utils";
import { nextTick } from "vue";
import ConfirmButton from "./ConfirmButton.vue";

const props = { label: "Delete your review", question: "Delete your review?", confirmLabel: "Yes, delete it" };

function mountAttached() {
  return mount(ConfirmButton, { props, attachTo: document.body });
}

describe("ConfirmButton", () => {
  it("asks first, as a group named by its question, with focus on the safe answer", async () => {
    const wrapper = mountAttached();
    await wrapper.get("button").trigger("click");
    await nextTick();
    const group = wrapper.get('[role="group"]');
    const labelledBy = group.attributes("aria-labelledby")!;
    expect(wrapper.get(`[id="${labelledBy}"]`).text()).toBe("Delete your review?");
    expect(document.activeElement?.textContent?.trim()).toBe("Keep it");
    expect(wrapper.emitted("confirm")).toBeUndefined();
    wrapper.unmount();
  });

  it("Escape keeps it, and focus returns to the first button", async () => {
    const wrapper = mountAttached();
    await wrapper.get("button").trigger("click");
    await nextTick();
    await wrapper.get('[role="group"]').trigger("keydown", { key: "Escape" });
    await nextTick();
    expect(wrapper.find('[role="group"]').exists()).toBe(false);
    expect(document.activeElement?.textContent?.trim()).toBe("Delete your review");
    expect(wrapper.emitted("confirm")).toBeUndefined();
    wrapper.unmount();
  });

  it("confirms once with the second answer", async () => {
    const wrapper = mountAttached();
    await wrapper.get("button").trigger("click");
    await nextTick();
    const yes = wrapper.findAll("button").find((b) => b.text() === "Yes, delete it")!;
    await yes.trigger("click");
    expect(wrapper.emitted("confirm")).toHaveLength(1);
    expect(wrapper.find('[role="group"]').exists()).toBe(false);
    wrapper.unmount();
  });
});
