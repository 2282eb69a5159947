// Signing in and out against the local Cognito, as on AWS: a wrong password is
// refused, a forced token refresh keeps the session, sign-out leaves the
// anonymous cart and no console errors.
import { CUSTOMER, expect, newUser, signInThroughPage, test } from "./fixtures";

test("a wrong password is refused", async ({ page, snap }) => {
  await page.goto("/signin");
  await page.getByLabel("Username").fill(CUSTOMER.username);
  await page.getByLabel("Password", { exact: true }).fill("Wrong-Pass1");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByText(/Incorrect username or password/i)).toBeVisible();
  await snap("wrong-password");
  await expect(page.getByTestId("signed-in-as")).toHaveCount(0);
  await page.goto("/orders");
  await expect(page).toHaveURL(/\/signin\?redirect=/);
});

test("a forced token refresh keeps the session, and the API takes the new token", async ({ page, stack, snap }) => {
  const user = await newUser(stack, "refresh");
  await signInThroughPage(page, user);
  const storageKey = `CognitoIdentityServiceProvider.${stack.clientId}.${user.username}`;
  const before = await page.evaluate((k) => localStorage.getItem(`${k}.idToken`), storageKey);
  // Amplify refreshes a token it thinks has expired: tell it the clock is two hours ahead.
  await page.evaluate((k) => localStorage.setItem(`${k}.clockDrift`, String(2 * 3600 * 1000)), storageKey);
  const refreshed = page.waitForRequest(
    (r) => r.headers()["x-amz-target"] === "AWSCognitoIdentityProviderService.GetTokensFromRefreshToken",
  );
  const ordersCall = page.waitForResponse((r) => r.url().includes("/api/orders"));
  await page.getByRole("link", { name: "Orders", exact: true }).click();
  await refreshed;
  expect((await ordersCall).status()).toBe(200);
  await expect(page.getByText("No orders yet.")).toBeVisible();
  const after = await page.evaluate((k) => localStorage.getItem(`${k}.idToken`), storageKey);
  expect(after).toBeTruthy();
  expect(after).not.toBe(before);
  await expect(page.getByTestId("signed-in-as")).toHaveText(user.username);
  await snap("after-refresh");
});

test("signing out shows the empty anonymous cart, without console errors", async ({ page, stack, snap }) => {
  const user = await newUser(stack, "signout");
  await signInThroughPage(page, user);
  await page.goto("/product/ae518e73-b734-56bb-98bc-70185a5f2652");
  await page.getByRole("button", { name: "Add to cart" }).click();
  await expect(page.getByTestId("cart-count")).toHaveText("1");
  const errors: string[] = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(e.message));
  const revoked = page.waitForResponse(
    (r) => r.request().headers()["x-amz-target"] === "AWSCognitoIdentityProviderService.RevokeToken",
  );
  await page.getByRole("button", { name: "Sign out" }).click();
  expect((await revoked).status()).toBe(200);
  await expect(page.getByRole("link", { name: "Sign in" })).toBeVisible();
  await expect(page.getByTestId("cart-count")).toHaveText("0");
  await page.getByRole("link", { name: /^Cart/ }).click();
  await expect(page.getByTestId("empty-cart")).toBeVisible();
  await snap("signed-out");
  expect(errors).toEqual([]);
  // Signing in again brings the user's cart back.
  await signInThroughPage(page, user);
  await expect(page.getByTestId("cart-count")).toHaveText("1");
});

test("a forgotten password is reset with the emailed code; the old one stops working", async ({ page, stack, snap }) => {
  const user = await newUser(stack, "reset");
  await page.goto("/signin");
  await page.getByRole("link", { name: "Forgot your password?" }).click();
  await expect(page.getByRole("heading", { name: "Reset your password" })).toBeFocused();
  await page.getByLabel("Username").fill(user.username);
  await page.getByRole("button", { name: "Send me a code" }).click();
  await expect(page.getByRole("heading", { name: "Choose a new password" })).toBeFocused();
  await expect(page.getByTestId("auth-notice")).toContainText("We emailed");
  await page.getByLabel("The code we emailed you").fill("123456");
  // The pool's rules are shown, and a weak password is refused in plain words.
  await page.getByLabel("New password", { exact: true }).fill("weakpass");
  await page.getByRole("button", { name: "Set the new password" }).click();
  await expect(page.getByRole("alert")).toContainText("at least 8 characters, with an upper-case letter");
  await page.getByLabel("New password", { exact: true }).fill("Renewed-Pass2");
  await page.getByRole("button", { name: "Set the new password" }).click();
  await expect(page.getByTestId("auth-notice")).toHaveText("Your password is changed: sign in with it.");
  await snap("password-reset");

  // The form already knows who is signing in.
  await expect(page.getByLabel("Username")).toHaveValue(user.username);
  await page.getByLabel("Password", { exact: true }).fill(user.password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByText("Incorrect username or password.")).toBeVisible();
  await page.getByLabel("Password", { exact: true }).fill("Renewed-Pass2");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByTestId("signed-in-as")).toHaveText(user.username);
});

test("an anonymous visit never downloads Amplify; signing in does", async ({ page }) => {
  const scripts: string[] = [];
  page.on("request", (r) => r.resourceType() === "script" && scripts.push(new URL(r.url()).pathname));
  await page.goto("/");
  await expect(page.getByTestId("product-card").first()).toBeVisible();
  await page.getByRole("link", { name: "Cart", exact: false }).click();
  await expect(page.getByTestId("empty-cart")).toBeVisible();
  expect(scripts.filter((s) => s.includes("amplify"))).toEqual([]);
  await page.getByRole("link", { name: "Sign in" }).click();
  await page.getByLabel("Username").fill(CUSTOMER.username);
  await page.getByLabel("Password", { exact: true }).fill(CUSTOMER.password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByTestId("signed-in-as")).toHaveText(CUSTOMER.username);
  expect(scripts.filter((s) => s.includes("amplify"))).toHaveLength(1);
});
