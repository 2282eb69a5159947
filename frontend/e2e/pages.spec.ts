// Every page says what it is, and a screen reader lands on it: the tab's
// title per page, focus on the new page's heading after a click, a page that
// does not exist kept out of search engines; the server answers robots.txt
// and a missing file with 404, as CloudFront does.
import { expect, pageUntilVisible, productWithStock, test } from "./fixtures";

test("each page has its own title and, after a navigation, focus on its heading", async ({ page }) => {
  await page.goto("/");
  await expect(page).toHaveTitle("The shop");
  const card = page.getByTestId("product-grid").getByTestId("product-card").first();
  await expect(card).toBeVisible();
  await card.getByRole("link").first().click();
  await expect(page).toHaveURL(/\/product\//);
  const heading = page.getByRole("heading", { level: 1 });
  const name = (await heading.textContent())?.trim() ?? "";
  expect(name).not.toBe("");
  await expect(page).toHaveTitle(new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} · The shop$`, "i"));
  await expect(heading).toBeFocused();

  await page.getByRole("link", { name: /^Cart/ }).click();
  await expect(page).toHaveTitle("Your cart · The shop");
  await expect(page.getByRole("heading", { level: 1, name: "Your cart" })).toBeFocused();
});

test("a page that does not exist says so and is kept out of search engines", async ({ page, stack }) => {
  await page.goto("/no/such/page");
  await expect(page).toHaveTitle("Page not found · The shop");
  await expect(page.locator('meta[name="robots"]')).toHaveAttribute("content", "noindex");
  const robots = await fetch(`${stack.storefrontUrl}/robots.txt`);
  expect(robots.status).toBe(200);
  expect(await robots.text()).toContain("Disallow: /account");
  expect((await fetch(`${stack.storefrontUrl}/images/no-such-picture.png`)).status).toBe(404);
});

test("with the API unreachable the home page says so once, and Try again recovers", async ({ page }) => {
  await page.route("**/api/**", (route) => route.abort());
  await page.goto("/");
  const alerts = page.getByRole("alert");
  await expect(alerts).toHaveCount(1);
  await expect(alerts).toHaveText("The shop cannot be reached right now. Check your connection and try again.");
  await expect(page.getByTestId("home-loading")).toHaveCount(0);

  await page.unroute("**/api/**");
  await page.getByRole("button", { name: "Try again" }).click();
  await expect(page.getByTestId("product-grid").getByTestId("product-card")).toHaveCount(12);
  await expect(page.getByRole("alert")).toHaveCount(0);
});

test("a card's Add puts one in the cart, with the product page's stock checks", async ({ page, stack }) => {
  const product = await productWithStock(stack, "last jar", 1);
  await page.goto("/category/e2e");
  const card = page.getByTestId("product-card").filter({ has: page.locator(`a[href="/product/${product}"]`) });
  const more = page.getByRole("button", { name: "Show more products" });
  await pageUntilVisible(card, more);
  await card.getByRole("button", { name: /^Add .* to cart$/ }).click();
  await expect(card.getByTestId("quick-added")).toHaveText("Added to your cart.");
  await expect(page.getByTestId("cart-count")).toHaveText("1");
  await card.getByTestId("quick-add").click();
  await expect(card.getByTestId("line-error")).toHaveText("Only 1 available.");
  await expect(page.getByTestId("cart-count")).toHaveText("1");
});
