// A session the page can trust: it never shows one identity and acts as
// another. Signing out in one tab signs this one out too; tokens gone from
// storage either come back (refreshed) or the page says the session ended
// and shows the signed-out state, and its calls never go out as the
// anonymous shopper behind a signed-in header.
import { expect, newUser, signInThroughPage, test } from "./fixtures";

const PRODUCT = "/product/ae518e73-b734-56bb-98bc-70185a5f2652";

test("signing out in another tab signs this tab out too", async ({ page, context, stack }) => {
  const user = await newUser(stack, "twotabs");
  await signInThroughPage(page, user);
  await page.goto(PRODUCT);
  await page.getByRole("button", { name: "Add to cart" }).click();
  await expect(page.getByTestId("cart-count")).toHaveText("1");

  const other = await context.newPage();
  await other.goto("/");
  await expect(other.getByTestId("signed-in-as")).toHaveText(user.username);
  await other.getByRole("button", { name: "Sign out" }).click();
  await expect(other.getByRole("link", { name: "Sign in" })).toBeVisible();

  // The first tab agrees, without a reload: signed out, and says why.
  await expect(page.getByTestId("signed-in-as")).toHaveCount(0);
  await expect(page.getByTestId("session-ended")).toBeVisible();
  await expect(page.getByTestId("cart-count")).toHaveText("0");
});

test("tokens gone from storage: the page never acts as the anonymous shopper while showing the user", async ({ page, stack }) => {
  const user = await newUser(stack, "notokens");
  await signInThroughPage(page, user);
  await page.goto(PRODUCT);
  await page.getByRole("button", { name: "Add to cart" }).click();
  await expect(page.getByTestId("cart-count")).toHaveText("1");
  // The ID and access tokens go (the refresh token stays), as a storage cleanup might leave it.
  await page.evaluate(() => {
    for (const key of Object.keys(localStorage)) {
      if (key.endsWith(".idToken") || key.endsWith(".accessToken")) localStorage.removeItem(key);
    }
  });
  await page.getByRole("link", { name: /^Cart/ }).click();
  // Either the session came back (refreshed) and the cart is the user's, or the
  // page says the session ended and shows the signed-out state: never both at once.
  await expect
    .poll(async () => {
      const signedIn = (await page.getByTestId("signed-in-as").count()) > 0;
      const ended = (await page.getByTestId("session-ended").count()) > 0;
      const count = await page.getByTestId("cart-count").textContent();
      if (signedIn && !ended && count === "1") return "refreshed";
      if (!signedIn && ended) return "ended";
      return "inconsistent";
    })
    .not.toBe("inconsistent");
  const signedIn = (await page.getByTestId("signed-in-as").count()) > 0;
  if (!signedIn) {
    // Adding to the cart now is the anonymous shopper's, and the page says so.
    await page.goto(PRODUCT);
    await expect(page.getByTestId("signed-in-as")).toHaveCount(0);
  }
});
