// The shop at 375 px: the grid, a product page and the cart fit the screen.
import { expect, test } from "./fixtures";

test("at 375 px a shopper browses, adds and changes a cart line without sideways scrolling", async ({ page, snap }) => {
  await page.goto("/");
  await expect(page.getByTestId("product-grid").getByTestId("product-card").first()).toBeVisible();
  const fits = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  expect(await fits()).toBe(true);
  await snap("home");
  await page.getByTestId("product-grid").getByTestId("product-card").first().getByRole("link").click();
  await page.getByRole("button", { name: "Add to cart" }).click();
  await expect(page.getByTestId("cart-count")).toHaveText("1");
  expect(await fits()).toBe(true);
  await snap("product");
  await page.getByRole("link", { name: /^Cart/ }).click();
  const line = page.getByTestId("cart-line").first();
  await line.getByRole("button", { name: /^One more/ }).click();
  await expect(line.getByTestId("line-quantity")).toHaveValue("2");
  expect(await fits()).toBe(true);
  await snap("cart");
  // The page loads the grid within a second on a warm stack; the figure is measured in the bench, not asserted here.
});
