import { beforeEach, describe, expect, it, vi } from "vitest";
import { flushPromises, mount } from "@vue/test-utils";
import { ApiError } from "../lib/errors";
import type { Review } from "../lib/types";
import ReviewForm from "./ReviewForm.vue";

const api = vi.hoisted(() => ({ writeReview: vi.fn(), editReview: vi.fn() }));
vi.mock("../lib/api", () => ({ api }));

const saved: Review = {
  reviewId: "r-1",
  productId: "p-1",
  rating: 4,
  title: "Sweet",
  body: "",
  displayName: "Anonymous",
  createdAt: 1,
  verifiedPurchase: true,
};

beforeEach(() => vi.resetAllMocks());

describe("ReviewForm", () => {
  it("asks for a rating before sending anything", async () => {
    const wrapper = mount(ReviewForm, { props: { productId: "p-1" } });
    await wrapper.get("input:not([type=radio])").setValue("Sweet");
    await wrapper.get("form").trigger("submit");
    expect(wrapper.get('[role="alert"]').text()).toBe("Choose a rating from 1 to 5 stars.");
    expect(api.writeReview).not.toHaveBeenCalled();
  });

  it("posts a new review as plain text, the name left out when not given", async () => {
    api.writeReview.mockResolvedValue({ review: saved });
    const wrapper = mount(ReviewForm, { props: { productId: "p-1" } });
    await wrapper.get('input[type=radio][value="4"]').setValue(true);
    const [title] = wrapper.findAll("input:not([type=radio])");
    await title.setValue("<b>Sweet</b>");
    await wrapper.get("form").trigger("submit");
    await flushPromises();
    expect(api.writeReview).toHaveBeenCalledWith("p-1", { rating: 4, title: "<b>Sweet</b>", body: "" });
    expect(wrapper.emitted("saved")).toEqual([[saved]]);
  });

  it("edits the reader's review, and an empty name goes back to the default", async () => {
    api.editReview.mockResolvedValue({ review: saved });
    const wrapper = mount(ReviewForm, { props: { productId: "p-1", editing: { ...saved, displayName: "Ann" } } });
    const inputs = wrapper.findAll("input:not([type=radio])");
    await inputs[inputs.length - 1].setValue("");
    await wrapper.get("form").trigger("submit");
    await flushPromises();
    expect(api.editReview).toHaveBeenCalledWith("p-1", "r-1", {
      rating: 4,
      title: "Sweet",
      body: "",
      displayName: "Anonymous",
    });
  });

  it("a refusal is shown in words and the form stays", async () => {
    api.writeReview.mockRejectedValue(new ApiError(403, { message: "only buyers may review this product" }));
    const wrapper = mount(ReviewForm, { props: { productId: "p-1" } });
    await wrapper.get('input[type=radio][value="5"]').setValue(true);
    await wrapper.findAll("input:not([type=radio])")[0].setValue("Great");
    await wrapper.get("form").trigger("submit");
    await flushPromises();
    expect(wrapper.get('[role="alert"]').text()).toBe("You are not allowed to do that.");
    expect(wrapper.emitted("saved")).toBeUndefined();
    expect(wrapper.find("form").exists()).toBe(true);
  });
});
