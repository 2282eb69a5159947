// A shopper's whole journey: browse, an anonymous cart that survives a reload,
// sign-up, sign-in (the cart merges), checkout, a declined card, payment, and
// the order history.
import { expect, productWithStock, test, APPROVED_CARD, DECLINED_CARD, fillCard } from "./fixtures";

test("a shopper browses, fills a cart anonymously, signs up, checks out and pays", async ({ page, stack, snap }) => {
  const scarce = await productWithStock(stack, "scarce jam", 2, 1250);

  // Browse: home page with best sellers and the catalog grid, a category, a product.
  await page.goto("/");
  await expect(page.getByTestId("product-grid").getByTestId("product-card").first()).toBeVisible();
  await expect(page.getByRole("heading", { name: "Best sellers" })).toBeVisible();
  await expect(page.locator("img.picture").first()).toHaveJSProperty("complete", true);
  expect(await page.locator("img.picture").first().evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
  await snap("home");
  await page.getByRole("navigation", { name: "Categories" }).getByRole("link", { name: "sweet" }).click();
  await expect(page.getByRole("heading", { name: "sweet" })).toBeVisible();
  const sweets = page.getByTestId("product-grid").getByTestId("product-card");
  await expect(sweets).toHaveCount(8);
  await page.getByRole("link", { name: "candied prunes" }).click();
  await expect(page.getByRole("heading", { name: "candied prunes" })).toBeVisible();
  await expect(page.getByTestId("stock")).toHaveText(/In stock|Only \d+ left/);
  await page.getByLabel("Quantity").fill("2");
  await page.getByRole("button", { name: "Add to cart" }).click();
  await expect(page.getByText("Added.")).toBeVisible();
  await expect(page.getByTestId("cart-count")).toHaveText("2");
  await snap("product");

  // The scarce product: only 2 exist.
  await page.goto(`/product/${scarce}`);
  await expect(page.getByTestId("stock")).toHaveText("Only 2 left");
  await page.getByRole("button", { name: "Add to cart" }).click();
  await expect(page.getByTestId("cart-count")).toHaveText("3");

  // The cart: +/−, typed quantities, a stock refusal next to its line, a reload.
  await page.getByRole("link", { name: /^Cart/ }).click();
  const prunes = page.locator('[data-test="cart-line"]', { hasText: "candied prunes" });
  await expect(prunes.getByTestId("line-quantity")).toHaveValue("2");
  await expect(prunes.getByTestId("line-total")).toHaveText("$23.20");
  await prunes.getByRole("button", { name: "One more candied prunes" }).click();
  await expect(prunes.getByTestId("line-quantity")).toHaveValue("3");
  await prunes.getByRole("button", { name: "One fewer candied prunes" }).click();
  await expect(prunes.getByTestId("line-quantity")).toHaveValue("2");
  const jam = page.locator(`[data-product="${scarce}"]`);
  await jam.getByTestId("line-quantity").fill("5");
  await jam.getByTestId("line-quantity").press("Enter");
  await expect(jam.getByTestId("line-error")).toHaveText("Only 2 available.");
  await expect(jam.getByTestId("line-quantity")).toHaveValue("1");
  await expect(page.getByTestId("cart-total")).toHaveText("$35.70");
  await snap("cart-stock-refused");
  await page.reload();
  await expect(page.locator(`[data-product="${scarce}"]`).getByTestId("line-quantity")).toHaveValue("1");
  await expect(page.getByTestId("cart-total")).toHaveText("$35.70");

  // Sign up on the shop's own form (the local Cognito takes any code).
  await page.getByRole("link", { name: "Sign in to check out" }).click();
  const username = `shopper-${Date.now().toString(36)}`;
  await page.getByRole("link", { name: "Create an account" }).click();
  await expect(page.getByRole("heading", { name: "Create an account" })).toBeFocused();
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Email").fill(`${username}@example.com`);
  await page.getByLabel("Password", { exact: true }).fill("Shopper-Pass1");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByTestId("auth-notice")).toContainText(/We emailed a code to s\*\*\*@e\*\*\*/);
  await page.getByLabel("The code we emailed you").fill("123456");
  await snap("sign-up-confirm");
  await page.getByRole("button", { name: "Confirm" }).click();

  // Signed in: the anonymous cart merged into the user's, shown at once.
  await expect(page.getByTestId("signed-in-as")).toHaveText(username);
  await expect(page).toHaveURL(/\/cart$/);
  await expect(page.getByTestId("cart-line")).toHaveCount(2);
  await expect(page.getByTestId("cart-total")).toHaveText("$35.70");
  await snap("merged-cart");

  // Checkout reserves the stock: an order awaiting payment, with its countdown.
  // A double click makes one order (the history below has exactly two).
  await page.getByTestId("checkout").dblclick();
  await expect(page).toHaveURL(/\/orders\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId("order-status")).toHaveText("Awaiting payment");
  await expect(page.getByTestId("countdown")).toContainText(/1[45]:\d\d/);
  const firstOrder = page.url();

  // A declined card (Stripe's test card ...0341): a clear message; nothing
  // charged, the order still waits.
  await fillCard(page, DECLINED_CARD);
  await page.getByTestId("pay").click();
  await expect(page.getByRole("alert")).toContainText("Your card was declined");
  await expect(page.getByTestId("order-status")).toHaveText("Awaiting payment");
  await snap("declined");

  // The same order, paid with a card that is approved; the cart empties.
  await expect(page).toHaveURL(firstOrder);
  await fillCard(page, APPROVED_CARD);
  await page.getByTestId("pay").click();
  await expect(page.getByTestId("confirmation")).toBeVisible();
  await expect(page.getByTestId("order-status")).toHaveText("Paid");
  await expect(page.getByTestId("cart-count")).toHaveText("0");
  await snap("paid");

  // The history: one order (a double click and a decline made no second one).
  await page.getByRole("link", { name: "Orders", exact: true }).click();
  const rows = page.getByTestId("order-row");
  await expect(rows).toHaveCount(1);
  await expect(rows.nth(0)).toHaveAttribute("data-status", "PAID");
  await snap("orders");
  await page.goto(`/product/${scarce}`);
  await expect(page.getByTestId("stock")).toHaveText("Only 1 left");
});
