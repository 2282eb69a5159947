// What every browser test shares: the stack's coordinates, the storefront as
// baseURL, named screenshots under target/, and a few calls made straight to
// the API or Cognito to set a scene (a product with little stock, a user).
import { test as base, expect, type Locator, type Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { Secret, TOTP } from "otpauth";

export interface Stack {
  storefrontUrl: string;
  emulatorEndpoint: string;
  clientId: string;
  userPoolId: string;
  /** The demo users; the admin with its authenticator app's secret. */
  demoUsers: { username: string; totpSecret?: string }[];
}

export interface User {
  username: string;
  password: string;
  /** The authenticator app's secret (base32), for a user who has one. */
  totpSecret?: string;
}

export const CUSTOMER = { username: "customer", password: "Customer-Pass1" };
export const ADMIN = { username: "admin", password: "Admin-Pass1" };

function stackCoordinates(): Stack {
  const file = process.env.SHOP_STACK_FILE;
  if (!file) throw new Error("SHOP_STACK_FILE is unset: the global setup did not run");
  return JSON.parse(readFileSync(file, "utf8")) as Stack;
}

/** The user's authenticator secret: its own, or the stack's for a demo user (the admin's is made per stack). */
function totpSecretOf(user: User): string | undefined {
  return user.totpSecret ?? stackCoordinates().demoUsers?.find((u) => u.username === user.username)?.totpSecret;
}

/** The code an authenticator app shows now for `secret` (RFC 6238, as Cognito checks it). */
export function totpCode(secret: string): string {
  return new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: "SHA1" }).generate();
}

export async function cognito(
  stack: Stack,
  action: string,
  body: unknown,
  authorization?: string,
): Promise<Record<string, any>> {
  const response = await fetch(stack.emulatorEndpoint, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": `AWSCognitoIdentityProviderService.${action}`,
      ...(authorization ? { Authorization: authorization } : {}),
    },
    body: JSON.stringify(body),
  });
  const answer = (await response.json()) as Record<string, any>;
  if (!response.ok) throw new Error(`${action}: ${JSON.stringify(answer)}`);
  return answer;
}

export async function idToken(stack: Stack, user: User): Promise<string> {
  let answer = await cognito(stack, "InitiateAuth", {
    ClientId: stack.clientId,
    AuthFlow: "USER_PASSWORD_AUTH",
    AuthParameters: { USERNAME: user.username, PASSWORD: user.password },
  });
  const secret = totpSecretOf(user);
  if (answer.ChallengeName === "SOFTWARE_TOKEN_MFA" && secret) {
    answer = await cognito(stack, "RespondToAuthChallenge", {
      ClientId: stack.clientId,
      ChallengeName: "SOFTWARE_TOKEN_MFA",
      Session: answer.Session,
      ChallengeResponses: { USERNAME: user.username, SOFTWARE_TOKEN_MFA_CODE: totpCode(secret) },
    });
  }
  return answer.AuthenticationResult.IdToken as string;
}

/** A new, confirmed user (signed up through Cognito, not the page). */
export async function newUser(stack: Stack, tag: string): Promise<{ username: string; password: string }> {
  const user = { username: `${tag}-${randomUUID().slice(0, 8)}`, password: "Shopper-Pass1" };
  await cognito(stack, "SignUp", {
    ClientId: stack.clientId,
    Username: user.username,
    Password: user.password,
    UserAttributes: [{ Name: "email", Value: `${user.username}@example.com` }],
  });
  await cognito(stack, "ConfirmSignUp", { ClientId: stack.clientId, Username: user.username, ConfirmationCode: "123456" });
  return user;
}

/** Calls the API as the admin (to set a scene the test then shops in). */
export async function asAdmin(stack: Stack, method: string, path: string, body?: unknown): Promise<any> {
  const response = await fetch(`${stack.storefrontUrl}/api${path}`, {
    method,
    headers: { Authorization: await idToken(stack, ADMIN), "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(answer)}`);
  return answer;
}

/** Calls the API as `user` (to set a scene: an order paid, a review written). */
export async function asUser(
  stack: Stack,
  user: { username: string; password: string },
  method: string,
  path: string,
  body?: unknown,
): Promise<any> {
  const response = await fetch(`${stack.storefrontUrl}/api${path}`, {
    method,
    headers: { Authorization: await idToken(stack, user), "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(answer)}`);
  return answer;
}

/** `user` buys one unit of `productId` and pays for it, through the API. */
export async function buyThroughApi(stack: Stack, user: { username: string; password: string }, productId: string) {
  await asUser(stack, user, "POST", "/cart", { productId, quantity: 1 });
  const checkout = await asUser(stack, user, "POST", "/cart/checkout");
  await asUser(stack, user, "POST", `/orders/${checkout.order.orderId}/payment`, { cardToken: "tok_visa" });
}

/** A product of its own for a test, with `stock` units. */
export async function productWithStock(stack: Stack, name: string, stock: number, price = 1250): Promise<string> {
  const created = await asAdmin(stack, "POST", "/product", {
    name: `${name} ${randomUUID().slice(0, 4)}`,
    category: "e2e",
    price,
    description: `A ${name} made for a browser test.`,
    initialStock: stock,
  });
  return created.product.productId as string;
}

export const test = base.extend<{ stack: Stack; snap: (name: string, page?: Page) => Promise<void> }>({
  stack: async ({}, use) => use(stackCoordinates()),
  baseURL: async ({}, use) => use(stackCoordinates().storefrontUrl),
  snap: async ({ page }, use, testInfo) => {
    await use(async (name: string, which?: Page) => {
      await (which ?? page).screenshot({
        path: `../target/playwright/screens/${testInfo.project.name}-${name}.png`,
        fullPage: true,
      });
    });
  },
});

export { expect };

/** Signs in through the sign-in page, as a shopper would; a user with an
 *  authenticator app (the admin) types its code when asked. */
export async function signInThroughPage(page: Page, user: User): Promise<void> {
  await page.goto("/signin");
  await signInOnThisPage(page, user);
}

export async function signInOnThisPage(page: Page, user: User): Promise<void> {
  await page.getByLabel("Username").fill(user.username);
  await page.getByLabel("Password", { exact: true }).fill(user.password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  const secret = totpSecretOf(user);
  if (secret) {
    await page.getByRole("heading", { name: "Type your authenticator code" }).waitFor();
    await page.getByLabel("The 6-digit code your authenticator app shows").fill(totpCode(secret));
    await page.getByRole("button", { name: "Confirm" }).click();
  }
  await expect(page.getByTestId("signed-in-as")).toHaveText(user.username);
}

/** Stripe's test cards (docs.stripe.com/testing), as localstripe takes them. */
export const APPROVED_CARD = "4242424242424242";
export const DECLINED_CARD = "4000000000000341";
/** A card whose bank asks for 3-D Secure. */
export const THREE_D_SECURE_CARD = "4000002500003155";

/** Types a card into the order page's card form (Stripe's card element). */
export async function fillCard(page: Page, number: string): Promise<void> {
  const form = page.getByTestId("card-element");
  await form.getByLabel("Card number").fill(number);
  await form.getByLabel("MM / YY").fill("12 / 34");
  await form.getByLabel("CVC").fill("123");
}


/** axe-core's rules for WCAG 2.2 A and AA, and its best practices. */
const AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"];

/** The screen as it is now has no accessibility violation axe-core finds:
 *  each one is named with the elements it found it on. */
export async function expectAccessible(page: Page, screen: string): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(AXE_TAGS).analyze();
  expect(results.passes.length, "axe-core ran its rules").toBeGreaterThan(0);
  const found = results.violations.map(
    (v) => `${screen}: ${v.id} (${v.impact}) on ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`,
  );
  expect(found, `axe-core on ${screen}`).toEqual([]);
}

/** What has focus, and whether a sighted keyboard user can see where it is:
 *  matched by :focus-visible and drawn with an outline at least 2 px wide. */
async function focused(page: Page): Promise<{ what: string; visible: boolean }> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return { what: "the page itself", visible: false };
    const style = getComputedStyle(el);
    const what = `${el.tagName.toLowerCase()} "${(el.getAttribute("aria-label") ?? el.textContent ?? "").trim().slice(0, 40)}"`;
    const drawn = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
    return { what, visible: el.matches(":focus-visible") && drawn };
  });
}

/** Presses Tab (Shift+Tab with `backwards`) until `target` has focus, at most
 *  `max` times; at every stop focus must be visible, never on the page itself. */
export async function tabTo(page: Page, target: Locator, options: { max?: number; backwards?: boolean } = {}) {
  for (let i = 0; i < (options.max ?? 60); i++) {
    await page.keyboard.press(options.backwards ? "Shift+Tab" : "Tab");
    const now = await focused(page);
    expect(now.visible, `focus visible on ${now.what}`).toBe(true);
    if (await target.evaluate((el) => el === document.activeElement).catch(() => false)) return;
  }
  throw new Error(`Tab never reached ${target}`);
}

/** Pages a list with its "more" button until `target` shows (at most a
 *  minute). While a page loads the button waits (aria-disabled), and after
 *  the last one it is gone: a click that cannot land soon is dropped, and the
 *  list looked at again. */
export async function pageUntilVisible(target: Locator, more: Locator): Promise<void> {
  await expect(async () => {
    if (await target.isVisible()) return;
    if (await more.isVisible()) await more.click({ timeout: 2_000 }).catch(() => undefined);
    throw new Error("not listed yet");
  }).toPass({ timeout: 60_000 });
}
