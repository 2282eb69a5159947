// Paying by card through Stripe (localstripe and the stack's Stripe.js):
// 3-D Secure completed or failed in its challenge, and Stripe's webhook
// settling the order before the page's own call does. The page never shows
// one thing while the shop holds another.
import {
  APPROVED_CARD,
  asUser,
  expect,
  fillCard,
  newUser,
  productWithStock,
  signInThroughPage,
  test,
  THREE_D_SECURE_CARD,
} from "./fixtures";

/** A signed-in shopper on the page of their order, awaiting payment. */
async function orderPage(page: import("@playwright/test").Page, stack: import("./fixtures").Stack, tag: string) {
  const user = await newUser(stack, tag);
  const product = await productWithStock(stack, `${tag} tart`, 3, 900);
  await asUser(stack, user, "POST", "/cart", { productId: product, quantity: 1 });
  const checkout = await asUser(stack, user, "POST", "/cart/checkout");
  const orderId: string = checkout.order.orderId;
  await signInThroughPage(page, user);
  await page.goto(`/orders/${orderId}`);
  await expect(page.getByTestId("order-status")).toHaveText("Awaiting payment");
  return { user, orderId };
}

test("a card that asks for 3-D Secure pays once its challenge is completed, and not when it fails", async ({ page, stack, snap }) => {
  await orderPage(page, stack, "threeds");
  await fillCard(page, THREE_D_SECURE_CARD);
  await page.getByTestId("pay").click();
  const challenge = page.getByRole("dialog", { name: "3-D Secure (test)" });
  await expect(challenge).toBeVisible();
  await snap("3ds-challenge");
  await challenge.getByRole("button", { name: "Fail authentication" }).click();
  await expect(page.getByRole("alert")).toContainText("did not confirm the payment");
  await expect(page.getByTestId("order-status")).toHaveText("Awaiting payment");

  await page.getByTestId("pay").click();
  await page.getByRole("dialog", { name: "3-D Secure (test)" }).getByRole("button", { name: "Complete authentication" }).click();
  await expect(page.getByTestId("confirmation")).toBeVisible();
  await expect(page.getByTestId("order-status")).toHaveText("Paid");
});

test("when Stripe's webhook settles the order before the page's call, the page shows it paid", async ({ page, stack }) => {
  const { user, orderId } = await orderPage(page, stack, "webhookfirst");
  // Hold the page's "confirmed" call until the webhook has sold the order.
  await page.route(`**/api/orders/${orderId}/payment`, async (route) => {
    await expect
      .poll(async () => (await asUser(stack, user, "GET", `/orders/${orderId}`)).order.status, { timeout: 20_000 })
      .toBe("PAID");
    await route.continue();
  });
  await fillCard(page, APPROVED_CARD);
  await page.getByTestId("pay").click();
  await expect(page.getByTestId("confirmation")).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId("order-status")).toHaveText("Paid");
  // One sale: the order's line bought once.
  const order = (await asUser(stack, user, "GET", `/orders/${orderId}`)).order;
  expect(order.status).toBe("PAID");
});
