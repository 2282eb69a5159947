// The shopping path with the keyboard alone (home → product → add → cart →
// sign in → checkout), and the confirm step: focus is visible at every Tab
// stop, lands on each new page's heading, and never falls back to the page
// after an action.
import {
  buyThroughApi,
  asUser,
  expect,
  newUser,
  productWithStock,
  signInThroughPage,
  tabTo,
  test,
} from "./fixtures";

test("a shopper goes from the home page to checkout with the keyboard alone", async ({ page, stack, snap }) => {
  const user = await newUser(stack, "keys");
  await page.goto("/");
  await expect(page.getByTestId("product-grid").getByTestId("product-card").first()).toBeVisible();

  // The skip link first, then straight to the content.
  await tabTo(page, page.getByRole("link", { name: "Skip to content" }), { max: 1 });
  await page.keyboard.press("Enter");
  const firstCard = page.getByTestId("product-grid").getByTestId("product-card").first();
  await tabTo(page, firstCard.getByRole("link"));
  await snap("keyboard-card-focus");
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/product\//);
  await expect(page.getByRole("heading", { level: 1 })).toBeFocused();

  // Add to cart: focus stays on the button while it works and after.
  const add = page.getByRole("button", { name: "Add to cart" });
  await tabTo(page, add);
  await page.keyboard.press("Enter");
  await expect(page.getByText("Added.")).toBeVisible();
  await expect(add).toBeFocused();
  await expect(page.getByTestId("cart-count")).toHaveText("1");

  await tabTo(page, page.getByRole("link", { name: "See your cart" }));
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { level: 1, name: "Your cart" })).toBeFocused();

  // One more with the stepper: focus stays on "+".
  const more = page.getByRole("button", { name: /^One more / });
  await tabTo(page, more);
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("cart-count")).toHaveText("2");
  await expect(more).toBeFocused();

  await tabTo(page, page.getByRole("link", { name: "Sign in to check out" }));
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { level: 1, name: "Sign in" })).toBeFocused();
  await tabTo(page, page.getByLabel("Username"));
  await page.keyboard.type(user.username);
  await tabTo(page, page.getByLabel("Password", { exact: true }), { max: 1 });
  await page.keyboard.type(user.password);
  await tabTo(page, page.getByRole("button", { name: "Sign in", exact: true }), { max: 2 });
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("signed-in-as")).toHaveText(user.username);
  await expect(page).toHaveURL(/\/cart$/);
  await expect(page.getByTestId("cart-line")).toHaveCount(1);

  const checkout = page.getByTestId("checkout");
  await tabTo(page, checkout);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/orders\/[0-9a-f-]{36}$/);
  await expect(page.getByRole("heading", { level: 1 })).toBeFocused();
  await expect(page.getByTestId("order-status")).toHaveText("Awaiting payment");

  // Cancelling takes its button away: focus goes to the order's new status.
  await tabTo(page, page.getByTestId("cancel"));
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("order-status")).toHaveText("Cancelled");
  await expect(page.getByTestId("order-status")).toBeFocused();
  await snap("keyboard-cancelled");
});

test("the confirm step: its question is heard, Escape keeps, the safe answer comes first", async ({ page, stack }) => {
  const product = await productWithStock(stack, "keyboard jam", 5);
  const buyer = await newUser(stack, "confirm");
  await buyThroughApi(stack, buyer, product);
  await asUser(stack, buyer, "POST", `/product/${product}/reviews`, { rating: 4, title: "Sweet", body: "" });
  await signInThroughPage(page, buyer);
  await page.goto(`/product/${product}`);

  const remove = page.getByRole("button", { name: "Delete your review" });
  await tabTo(page, remove);
  await page.keyboard.press("Enter");
  const question = page.getByRole("group", { name: "Delete your review?" });
  await expect(question).toBeVisible();
  await expect(question.getByRole("button", { name: "Keep it" })).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(question).toHaveCount(0);
  await expect(remove).toBeFocused();

  await page.keyboard.press("Enter");
  await tabTo(page, question.getByRole("button", { name: "Yes, delete it" }), { max: 1 });
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { name: "Your review" })).toHaveCount(0);
  await expect(page.getByRole("heading", { name: "Reviews" })).toBeFocused();
});

test("Show more brings focus to the first product it loaded", async ({ page }) => {
  await page.goto("/");
  const cards = page.getByTestId("product-grid").getByTestId("product-card");
  await expect(cards).toHaveCount(12);
  await tabTo(page, page.getByRole("button", { name: "Show more products" }), { max: 120 });
  await page.keyboard.press("Enter");
  await expect(cards).toHaveCount(24);
  await expect(cards.nth(12).getByRole("link")).toBeFocused();
});
