// The shop at 375 px: the grid, a product page, its reviews and the cart fit the
// screen, and axe-core finds nothing on them.
import {
  APPROVED_CARD,
  asUser,
  buyThroughApi,
  expect,
  expectAccessible,
  fillCard,
  newUser,
  productWithStock,
  signInThroughPage,
  test,
} from "./fixtures";

test("at 375 px a shopper browses, adds and changes a cart line without sideways scrolling", async ({ page, snap }) => {
  await page.goto("/");
  await expect(page.getByTestId("product-grid").getByTestId("product-card").first()).toBeVisible();
  const fits = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  expect(await fits()).toBe(true);
  await snap("home");
  await expectAccessible(page, "home at 375 px");
  await page.getByTestId("product-grid").getByTestId("product-card").first().getByRole("link").click();
  await page.getByRole("button", { name: "Add to cart" }).click();
  await expect(page.getByTestId("cart-count")).toHaveText("1");
  expect(await fits()).toBe(true);
  await snap("product");
  await expectAccessible(page, "product at 375 px");
  await page.getByRole("link", { name: /^Cart/ }).click();
  const line = page.getByTestId("cart-line").first();
  await line.getByRole("button", { name: /^One more/ }).click();
  await expect(line.getByTestId("line-quantity")).toHaveValue("2");
  expect(await fits()).toBe(true);
  await snap("cart");
  await expectAccessible(page, "cart at 375 px");
  // The page loads the grid within a second on a warm stack; the figure is measured in the bench, not asserted here.
});

test("at 375 px a product's reviews and the review form fit without sideways scrolling", async ({ page, stack, snap }) => {
  const product = await productWithStock(stack, "reviewed on a phone", 10);
  const [writer, reader] = [await newUser(stack, "phone-writer"), await newUser(stack, "phone-reader")];
  await buyThroughApi(stack, writer, product);
  await buyThroughApi(stack, reader, product);
  await asUser(stack, writer, "POST", `/product/${product}/reviews`, {
    rating: 4,
    title: "Wraps: " + "supercalifragilistic".repeat(4),
    body: "Good.\n" + "x".repeat(300),
    displayName: "Someone with a rather long name",
  });
  const fits = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  await signInThroughPage(page, reader);
  await page.goto(`/product/${product}`);
  await expect(page.getByTestId("review")).toHaveCount(1);
  await expect(page.getByTestId("histogram")).toBeVisible();
  expect(await fits()).toBe(true);
  await page.getByRole("button", { name: "Write a review" }).click();
  await expect(page.getByTestId("review-form")).toBeVisible();
  expect(await fits()).toBe(true);
  await snap("reviews");
  await expectAccessible(page, "reviews at 375 px");
});

test("at 375 px an order is paid by card without sideways scrolling", async ({ page, stack, snap }) => {
  const user = await newUser(stack, "phone-payer");
  const product = await productWithStock(stack, "paid on a phone", 3, 700);
  await asUser(stack, user, "POST", "/cart", { productId: product, quantity: 1 });
  const checkout = await asUser(stack, user, "POST", "/cart/checkout");
  await signInThroughPage(page, user);
  await page.goto(`/orders/${checkout.order.orderId}`);
  await expect(page.getByTestId("card-element").getByLabel("Card number")).toBeVisible();
  const fits = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  await fillCard(page, APPROVED_CARD);
  expect(await fits()).toBe(true);
  await snap("card-form");
  await expectAccessible(page, "card-form at 375 px");
  await page.getByTestId("pay").click();
  await expect(page.getByTestId("confirmation")).toBeVisible();
  expect(await fits()).toBe(true);
});
