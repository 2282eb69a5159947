// Two shoppers in two browsers race for the last unit: one order, and the
// other is told the stock is gone (never an oversell).
import { asAdmin, expect, newUser, productWithStock, signInThroughPage, test } from "./fixtures";

test("two shoppers race for the last unit: one order, the other sees the stock message", async ({ browser, stack, snap }) => {
  const product = await productWithStock(stack, "last loaf", 1, 800);
  const shoppers = await Promise.all([0, 1].map(async (i) => {
    const context = await browser.newContext({ baseURL: stack.storefrontUrl });
    const page = await context.newPage();
    await signInThroughPage(page, await newUser(stack, `racer${i}`));
    await page.goto(`/product/${product}`);
    await page.getByRole("button", { name: "Add to cart" }).click();
    await expect(page.getByTestId("cart-count")).toHaveText("1");
    await page.goto("/cart");
    await expect(page.getByTestId("checkout")).toBeEnabled();
    return { context, page };
  }));

  await Promise.all(shoppers.map(({ page }) => page.getByTestId("checkout").click()));
  const outcomes = await Promise.all(
    shoppers.map(async ({ page }) => {
      const won = page.waitForURL(/\/orders\//).then(() => "order" as const);
      const lost = page.getByTestId("line-error").waitFor().then(() => "refused" as const);
      return Promise.race([won, lost]);
    }),
  );
  expect([...outcomes].sort()).toEqual(["order", "refused"]);
  const loser = shoppers[outcomes.indexOf("refused")].page;
  await expect(loser.getByTestId("line-error")).toHaveText("Sold out: none available.");
  await expect(loser.getByRole("alert").last()).toContainText("short of stock");
  await snap("race-loser", loser);
  await snap("race-winner", shoppers[outcomes.indexOf("order")].page);

  const stock = (await asAdmin(stack, "GET", `/product/${product}`)).product.stock;
  expect(stock).toMatchObject({ available: 0, reserved: 1, sold: 0, added: 1 });
  await Promise.all(shoppers.map(({ context }) => context.close()));
});
