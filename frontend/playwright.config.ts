import { defineConfig, devices } from "@playwright/test";

// The browser tests drive Debian's Chromium (no browser download here) against
// a whole local stack that e2e/stack.ts starts for the run on free ports.
// Screenshots (each test's last screen, and named steps) land under target/.
const chromium = process.env.CHROMIUM_PATH ?? "/usr/lib/chromium/chromium";

export default defineConfig({
  testDir: "e2e",
  outputDir: "../target/playwright/results",
  globalSetup: "./e2e/stack.ts",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 10_000 },
  reporter: [["list"]],
  use: {
    headless: true,
    testIdAttribute: "data-test",
    screenshot: "on",
    trace: "retain-on-failure",
    launchOptions: { executablePath: chromium },
  },
  projects: [
    { name: "desktop", use: { ...devices["Desktop Chrome"], channel: undefined }, testIgnore: /mobile\.spec/ },
    { name: "mobile-375", use: { viewport: { width: 375, height: 740 }, hasTouch: true }, testMatch: /mobile\.spec/ },
  ],
});
