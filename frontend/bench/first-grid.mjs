// Time to the first product grid on a warm local stack: Chromium loads the home
// page RUNS times (after WARMUP loads) and the page itself reports when the
// grid shows products and the best sellers have answered (they show together) (performance.now(),
// from navigation start). Prints each run and the median: `make bench-storefront`.
import { chromium } from "@playwright/test";

const url = process.env.STOREFRONT_URL ?? "http://localhost:8080";
const runs = Number(process.env.RUNS ?? 5);
const warmup = Number(process.env.WARMUP ?? 2);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/lib/chromium/chromium" });
const times = [];
for (let i = 0; i < warmup + runs; i++) {
  const context = await browser.newContext(); // a new visitor: no cache, no cookie
  const page = await context.newPage();
  await page.goto(url, { waitUntil: "commit" });
  const shown = await page.waitForFunction(
    () => {
      // The home page shows the best sellers and the catalog together, when both answered.
      const grid = document.querySelector('[data-test="product-grid"] [data-test="product-card"]');
      const loading = document.querySelector('[data-test="home-loading"]');
      return grid && !loading ? performance.now() : false;
    },
    undefined,
    { polling: "raf", timeout: 30_000 },
  );
  const ms = await shown.jsonValue();
  if (i >= warmup) times.push(ms);
  await context.close();
}
await browser.close();
times.sort((a, b) => a - b);
console.log(`home page, products shown (ms from navigation start), ${runs} runs: ${times.map((t) => t.toFixed(0)).join(", ")}`);
console.log(`median ${times[Math.floor(times.length / 2)].toFixed(0)} ms`);
