// An admin's second factor, as on AWS: admin screens need an authenticator app
// on the account. An admin without one is shown how to set one up (QR code and
// key), a wrong code is refused, and the next sign-in asks for the app's code.
import { cognito, expect, signInOnThisPage, signInThroughPage, test, totpCode } from "./fixtures";

// Cognito's admin calls are signed on AWS; the emulator reads only the region from the signature.
const SIGNED = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/cognito-idp/aws4_request, SignedHeaders=host, Signature=0";

async function newAdmin(stack: Parameters<typeof cognito>[0]) {
  const user = { username: `admin-${Date.now().toString(36)}`, password: "Admin-Pass2" };
  const pool = stack.userPoolId;
  await cognito(stack, "AdminCreateUser", {
    UserPoolId: pool,
    Username: user.username,
    MessageAction: "SUPPRESS",
    UserAttributes: [{ Name: "email", Value: `${user.username}@example.com` }],
  }, SIGNED);
  await cognito(stack, "AdminSetUserPassword", { UserPoolId: pool, Username: user.username, Password: user.password, Permanent: true }, SIGNED);
  await cognito(stack, "AdminAddUserToGroup", { UserPoolId: pool, Username: user.username, GroupName: "admin" }, SIGNED);
  return user;
}

test("an admin without an authenticator app sets one up, then signs in with its code", async ({ page, stack, snap }) => {
  const admin = await newAdmin(stack);
  await signInThroughPage(page, admin);

  // The admin screens would answer 403: the page asks for an authenticator app instead.
  await page.getByTestId("admin-link").click();
  await expect(page).toHaveURL(/\/account\/security\?redirect=(%2F|\/)admin$/);
  await expect(page.getByTestId("authenticator-needed")).toBeVisible();
  await page.getByTestId("start-authenticator").click();
  await expect(page.getByRole("img", { name: /QR code/ })).toBeVisible();
  const secret = (await page.getByTestId("totp-secret").textContent())!.replace(/\s/g, "");
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  await snap("authenticator-setup");

  // A wrong code is refused; the right one turns it on and ends this session.
  const good = totpCode(secret);
  await page.getByLabel("The 6-digit code the app shows").fill(good === "123456" ? "654321" : "123456");
  await page.getByRole("button", { name: "Turn it on" }).click();
  await expect(page.getByRole("alert")).toContainText("That code is not right");
  await page.getByLabel("The 6-digit code the app shows").fill(totpCode(secret));
  await page.getByRole("button", { name: "Turn it on" }).click();
  await expect(page).toHaveURL(/\/signin\?/);
  await expect(page.getByTestId("signin-reason")).toBeVisible();
  await expect(page.getByTestId("signed-in-as")).toHaveCount(0);

  // The next sign-in asks for the code; with it, the admin screens open.
  await signInOnThisPage(page, { ...admin, totpSecret: secret });
  await expect(page).toHaveURL(/\/admin$/);
  await expect(page.getByRole("heading", { name: "Admin: products and stock" })).toBeVisible();
  await expect(page.getByTestId("admin-row").first()).toBeVisible();
  await page.getByTestId("account-link").click();
  await expect(page.getByTestId("authenticator-on")).toBeVisible();
  await snap("authenticator-on");
});
