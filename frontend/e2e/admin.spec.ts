// The admin's screens: only for the admin group; a restock that a shopper sees,
// and the stock split into shards before a sale.
import { ADMIN, CUSTOMER, expect, pageUntilVisible, productWithStock, signInThroughPage, test } from "./fixtures";

test("an admin restocks a product and a shopper sees it; customers get no admin screens", async ({
  page,
  browser,
  stack,
  snap,
}) => {
  const product = await productWithStock(stack, "restocked tea", 3, 450);
  const shopper = await browser.newPage();
  await shopper.goto(`${stack.storefrontUrl}/product/${product}`);
  await expect(shopper.getByTestId("stock")).toHaveText("Only 3 left");

  await signInThroughPage(page, ADMIN);
  await page.getByTestId("admin-link").click();
  const row = page.locator(`[data-test="admin-row"][data-product="${product}"]`);
  // Page through the list until the product shows.
  const more = page.getByRole("button", { name: "More products" });
  await pageUntilVisible(row, more);
  await expect(row.getByTestId("available")).toHaveText("3");
  await snap("admin-products");
  await row.getByRole("link").click();
  await page.getByLabel(/Units to add/).fill("10");
  await page.getByTestId("restock").click();
  await expect(page.getByText("Stock now: 13 available.")).toBeVisible();
  await expect(page.getByTestId("stock-levels")).toContainText("13 available, 0 reserved, 0 sold");
  await page.getByLabel("Price in dollars").fill("3.75");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByText("Saved.")).toBeVisible();
  await snap("admin-restock");
  // Before a flash sale: the stock split into 4 shards, the 13 units spread, none lost.
  await page.getByLabel(/Stock shards/).fill("4");
  await page.getByTestId("reshard").click();
  await expect(page.getByTestId("shards-done")).toHaveText("Stock now in 4 shards: 4 / 3 / 3 / 3 available.");
  await expect(page.getByTestId("stock-levels")).toContainText("13 available, 0 reserved, 0 sold");

  await shopper.reload();
  await expect(shopper.getByTestId("stock")).toHaveText("In stock");
  await expect(shopper.getByText("$3.75")).toBeVisible();
  await shopper.close();
});

test("a customer sees no admin menu, and the admin screen sends them home", async ({ page }) => {
  await signInThroughPage(page, CUSTOMER);
  await expect(page.getByTestId("admin-link")).toHaveCount(0);
  await page.goto("/admin");
  await expect(page).toHaveURL(/\/$/);
  // The API refuses them whatever the page shows.
  const status = await page.evaluate(async () => {
    const key = Object.keys(localStorage).find((k) => k.endsWith(".idToken"));
    const token = key ? localStorage.getItem(key) : null;
    const answer = await fetch("/api/product", {
      method: "POST",
      headers: { Authorization: token ?? "", "Content-Type": "application/json" },
      body: JSON.stringify({ name: "x", category: "x", price: 1 }),
    });
    return answer.status;
  });
  expect(status).toBe(403);
});
