// Reviews in the storefront: a buyer writes, edits and deletes theirs; stars
// and the histogram follow; and a hostile review is shown as text, running
// nothing.
import { ADMIN, buyThroughApi, asUser, expect, newUser, productWithStock, signInThroughPage, test } from "./fixtures";

const SCRIPT = "<script>alert(1)</script>";
const IMAGE = `<img src=x onerror="window.__pwned = true; alert(2)">`;

test("a hostile review is shown as text and runs nothing", async ({ page, stack, snap }) => {
  const product = await productWithStock(stack, "review target", 10);
  const mallory = await newUser(stack, "mallory");
  await buyThroughApi(stack, mallory, product);
  await asUser(stack, mallory, "POST", `/product/${product}/reviews`, {
    rating: 1,
    title: SCRIPT,
    body: `${IMAGE}\nSecond line`,
    displayName: "<b>Mallory</b>",
  });

  const dialogs: string[] = [];
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.goto(`/product/${product}`);
  const review = page.getByTestId("review");
  await expect(review.getByTestId("review-title")).toHaveText(SCRIPT);
  await expect(review.getByTestId("review-body")).toContainText(IMAGE);
  await expect(review.getByTestId("review-author")).toHaveText("<b>Mallory</b>");
  // Nothing of it became markup: no script, image or bold element in the review.
  await expect(review.locator("script, img, b")).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { __pwned?: boolean }).__pwned)).toBeUndefined();
  expect(dialogs).toEqual([]);
  await expect(page.getByTestId("histogram").locator('[data-stars="1"]').getByTestId("histogram-count")).toHaveText("1");
  await snap("review-as-text");
});

test("a buyer writes, edits and deletes a review; the stars follow", async ({ page, stack, snap }) => {
  const product = await productWithStock(stack, "reviewed honey", 10);
  const [buyer, other] = [await newUser(stack, "buyer"), await newUser(stack, "other")];
  await buyThroughApi(stack, buyer, product);
  await buyThroughApi(stack, other, product);
  await asUser(stack, other, "POST", `/product/${product}/reviews`, { rating: 4, title: "Good honey" });

  // Not signed in: the reviews, no form.
  await page.goto(`/product/${product}`);
  await expect(page.getByRole("img", { name: "Rated 4.0 out of 5 from 1 review" }).first()).toBeVisible();
  await expect(page.getByRole("button", { name: "Write a review" })).toHaveCount(0);

  await signInThroughPage(page, buyer);
  await page.goto(`/product/${product}`);
  await page.getByRole("button", { name: "Write a review" }).click();
  await page.getByLabel("5 stars").check();
  await page.getByLabel("Title").fill("Best honey I had");
  await page.getByLabel("Your review (optional)").fill("Thick, floral,\nnot too sweet.");
  await page.getByLabel("Name shown with it").fill("Kim");
  await page.getByRole("button", { name: "Post review" }).click();
  const yours = page.getByTestId("your-review");
  await expect(yours.getByTestId("review-title")).toHaveText("Best honey I had");
  await expect(yours.getByTestId("review-author")).toHaveText("Kim");
  await expect(page.getByRole("img", { name: "Rated 4.5 out of 5 from 2 reviews" }).first()).toBeVisible();
  await expect(page.getByTestId("histogram").locator('[data-stars="5"]').getByTestId("histogram-count")).toHaveText("1");
  await snap("review-written");

  await yours.getByRole("button", { name: "Edit your review" }).click();
  await page.getByLabel("3 stars").check();
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(yours.getByText("(edited)")).toBeVisible();
  await expect(page.getByRole("img", { name: "Rated 3.5 out of 5 from 2 reviews" }).first()).toBeVisible();
  await expect(page.getByTestId("histogram").locator('[data-stars="5"]').getByTestId("histogram-count")).toHaveText("0");

  // The grid shows the stars too.
  await page.goto("/category/e2e");
  const card = page.getByTestId("product-card").filter({ hasText: "reviewed honey" });
  await expect(card.getByRole("img", { name: "Rated 3.5 out of 5 from 2 reviews" })).toBeVisible();

  await page.goto(`/product/${product}`);
  await yours.getByRole("button", { name: "Delete your review" }).click();
  await yours.getByRole("button", { name: "Yes, delete it" }).click();
  await expect(page.getByRole("button", { name: "Write a review" })).toBeVisible();
  await expect(page.getByRole("img", { name: "Rated 4.0 out of 5 from 1 review" }).first()).toBeVisible();
  await snap("review-deleted");
});

test("an admin removes a review", async ({ page, stack }) => {
  const product = await productWithStock(stack, "moderated tea", 10);
  const spammer = await newUser(stack, "spammer");
  await buyThroughApi(stack, spammer, product);
  await asUser(stack, spammer, "POST", `/product/${product}/reviews`, { rating: 1, title: "Buy followers here" });
  await signInThroughPage(page, ADMIN);
  await page.goto(`/product/${product}`);
  await page.getByRole("button", { name: "Remove (moderation)" }).click();
  await page.getByRole("button", { name: "Yes, remove it" }).click();
  await expect(page.getByText("No reviews yet.")).toBeVisible();
});
