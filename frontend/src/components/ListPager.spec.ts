import { describe, expect, it } from "vitest";
import { mount } from "@vue/test-utils";
import ListPager from "./ListPager.vue";

const base = { loadingText: "Loading products…", moreLabel: "Show more products" };

describe("ListPager", () => {
  it("offers the next page, and nothing after the last", () => {
    const more = mount(ListPager, { props: { ...base, loading: false, error: null, done: false } });
    expect(more.get("button").text()).toBe("Show more products");
    const last = mount(ListPager, { props: { ...base, loading: false, error: null, done: true } });
    expect(last.find("button").exists()).toBe(false);
  });

  it("while a page loads, the button stays (focus stays on it), waits, and the list says it is loading", async () => {
    const wrapper = mount(ListPager, { props: { ...base, loading: true, error: null, done: false } });
    const button = wrapper.get("button");
    expect(button.attributes("aria-disabled")).toBe("true");
    await button.trigger("click");
    expect(wrapper.emitted("more")).toBeUndefined();
    expect(wrapper.get('[role="status"]').text()).toBe("Loading products…");
  });

  it("a failed page is said once, with Try again", async () => {
    const wrapper = mount(ListPager, {
      props: { ...base, loading: false, error: "The shop cannot be reached right now.", done: false },
    });
    expect(wrapper.get('[role="alert"]').text()).toBe("The shop cannot be reached right now.");
    await wrapper.get("button").trigger("click");
    expect(wrapper.get("button").text()).toBe("Try again");
    expect(wrapper.emitted("more")).toHaveLength(1);
  });
});
