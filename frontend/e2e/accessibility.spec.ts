// Every screen, signed out, signed in and as the admin, checked by axe-core
// (WCAG 2.2 A and AA, and its best practices) as a shopper reaches it: any
// violation fails, named with the elements it was found on.
import {
  ADMIN,
  buyThroughApi,
  expect,
  expectAccessible,
  newUser,
  productWithStock,
  signInThroughPage,
  test,
} from "./fixtures";

test("signed out: home, a category, a product, the cart, sign-in and its steps, a missing page", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByTestId("product-grid").getByTestId("product-card").first()).toBeVisible();
  await expectAccessible(page, "home");

  await page.getByRole("navigation", { name: "Categories" }).getByRole("link").first().click();
  await expect(page.getByTestId("product-grid").getByTestId("product-card").first()).toBeVisible();
  await expectAccessible(page, "category");

  await page.getByTestId("product-grid").getByTestId("product-card").first().getByRole("link").click();
  await expect(page.getByTestId("stock")).toBeVisible();
  await expect(page.getByTestId("your-review")).toBeVisible();
  await expectAccessible(page, "product");

  await page.getByRole("link", { name: /^Cart/ }).click();
  await expect(page.getByTestId("empty-cart")).toBeVisible();
  await expectAccessible(page, "empty cart");

  await page.goto("/");
  await page.getByTestId("product-grid").getByTestId("quick-add").first().click();
  await expect(page.getByTestId("quick-added")).toBeVisible();
  await expectAccessible(page, "home after a quick add");
  await page.getByRole("link", { name: /^Cart/ }).click();
  await expect(page.getByTestId("cart-line")).toHaveCount(1);
  await expectAccessible(page, "cart with a line");

  await page.goto("/signin");
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  await expectAccessible(page, "sign in");
  await page.getByLabel("Username").fill("nobody-here");
  await page.getByLabel("Password", { exact: true }).fill("Wrong-Pass1");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByRole("alert")).toBeVisible();
  await expectAccessible(page, "sign in refused");
  await page.getByRole("link", { name: "Create an account" }).click();
  await expect(page.getByRole("heading", { name: "Create an account" })).toBeVisible();
  await expectAccessible(page, "create an account");
  const username = `axe-${Date.now().toString(36)}`;
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Email").fill(`${username}@example.com`);
  await page.getByLabel("Password", { exact: true }).fill("Shopper-Pass1");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("heading", { name: "Confirm your email address" })).toBeVisible();
  await expectAccessible(page, "confirm the email address");
  await page.goto("/signin?mode=reset");
  await expect(page.getByRole("heading", { name: "Reset your password" })).toBeVisible();
  await expectAccessible(page, "reset the password");

  await page.goto("/no/such/page");
  await expectAccessible(page, "page not found");
});

test("signed in: cart, order awaiting payment, paid order, orders, review form, confirm step, account", async ({
  page,
  stack,
}) => {
  const product = await productWithStock(stack, "accessible tea", 10);
  const user = await newUser(stack, "axe");
  await buyThroughApi(stack, user, product);
  await signInThroughPage(page, user);
  await expectAccessible(page, "home, signed in");

  await page.goto(`/product/${product}`);
  await page.getByRole("button", { name: "Add to cart" }).click();
  await expect(page.getByText("Added.")).toBeVisible();
  await page.getByRole("button", { name: "Write a review" }).click();
  await expect(page.getByTestId("review-form")).toBeVisible();
  await expectAccessible(page, "product with the review form");
  await page.getByText("5 stars").click();
  await page.getByLabel("Title").fill("Good tea");
  await page.getByRole("button", { name: "Post review" }).click();
  await page.getByRole("button", { name: "Delete your review" }).click();
  await expect(page.getByRole("group", { name: "Delete your review?" })).toBeVisible();
  await expectAccessible(page, "the confirm step");

  await page.getByRole("link", { name: /^Cart/ }).click();
  await expect(page.getByTestId("cart-line")).toHaveCount(1);
  await expectAccessible(page, "cart, signed in");
  await page.getByTestId("checkout").click();
  await expect(page.getByTestId("order-status")).toHaveText("Awaiting payment");
  await expect(page.getByTestId("card-element").getByLabel("Card number")).toBeVisible();
  await expectAccessible(page, "order awaiting payment");
  await page.getByTestId("cancel").click();
  await expect(page.getByTestId("order-status")).toHaveText("Cancelled");
  await expectAccessible(page, "cancelled order");

  await page.getByRole("link", { name: "Orders", exact: true }).click();
  await expect(page.getByTestId("order-row")).toHaveCount(2);
  await expectAccessible(page, "orders");
  await page.getByTestId("order-row").filter({ hasText: "Paid" }).getByRole("link").click();
  await expect(page.getByTestId("confirmation")).toBeVisible();
  await expectAccessible(page, "paid order");

  await page.getByTestId("account-link").click();
  await expect(page.getByRole("heading", { name: "Sign-in security" })).toBeVisible();
  await expectAccessible(page, "sign-in security");
});

test("as the admin: products and stock, a product's edit and restock, a new product", async ({ page }) => {
  await signInThroughPage(page, ADMIN);
  await page.getByTestId("admin-link").click();
  await expect(page.getByTestId("admin-row").first()).toBeVisible();
  await expectAccessible(page, "admin products");
  await page.getByTestId("admin-row").first().getByRole("link").click();
  await expect(page.getByTestId("restock")).toBeVisible();
  await expectAccessible(page, "admin product");
  await page.goto("/admin/product");
  await expect(page.getByRole("button", { name: "Create product" })).toBeVisible();
  await expectAccessible(page, "admin new product");
});
