// Starts a whole local stack (emulator, API, pollers, storefront) for the
// browser tests on free ports, and stops it (by its PID) when they end.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "../..");

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? done(address.port) : fail(new Error("no port"))));
    });
  });
}

export default async function startStack(): Promise<() => Promise<void>> {
  const binary = join(root, "target/debug/shop-local");
  const dist = join(root, "frontend/dist/index.html");
  for (const needed of [binary, dist, join(root, ".venv/bin/python")]) {
    if (!existsSync(needed)) throw new Error(`${needed} is missing: run the browser tests with \`make e2e\``);
  }
  const dir = mkdtempSync(join(tmpdir(), "shop-e2e-"));
  const stackFile = join(dir, "stack.json");
  const child = spawn(binary, [], {
    cwd: root,
    stdio: ["pipe", "ignore", "inherit"],
    env: {
      ...process.env,
      SHOP_API_PORT: "0",
      SHOP_INVOKE_PORT: "0",
      SHOP_STOREFRONT_PORT: "0",
      SHOP_EMULATOR_PORT: String(await freePort()),
      SHOP_STRIPE_PORT: String(await freePort()),
      SHOP_STACK_FILE: stackFile,
      SHOP_STOP_ON_STDIN_EOF: "1",
      RUST_LOG: process.env.RUST_LOG ?? "warn",
    },
  });
  const deadline = Date.now() + 120_000;
  while (!existsSync(stackFile)) {
    if (child.exitCode !== null) throw new Error(`the stack exited (${child.exitCode}) before it was ready`);
    if (Date.now() > deadline) throw new Error("the stack did not come up in 120 s");
    await new Promise((r) => setTimeout(r, 100));
  }
  process.env.SHOP_STACK_FILE = stackFile;
  const stack = JSON.parse(readFileSync(stackFile, "utf8")) as { storefrontUrl: string };
  console.log(`local stack for the browser tests: ${stack.storefrontUrl}`);
  return async () => {
    child.stdin?.end(); // the stack stops when its standard input closes
    const stopped = new Promise((r) => child.once("exit", r));
    const timer = setTimeout(() => child.kill("SIGTERM"), 10_000);
    await stopped;
    clearTimeout(timer);
  };
}
