// Shared by the end-to-end tests: a real `updraft dev` (its binary from UPDRAFT_BIN,
// which serves the package `cargo xtask web` built beside it) and Debian's Chromium,
// driven by npm's playwright-core (found in UPDRAFT_NODE_MODULES). Nothing is faked.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";

const require = createRequire(join(process.env.UPDRAFT_NODE_MODULES ?? "node_modules", "x.js"));
const { chromium } = require("playwright-core");
export const BIN = process.env.UPDRAFT_BIN ?? "target/debug/updraft";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts `updraft dev` on free ports with `config` (TOML lines); resolves to its stack.json. */
export async function startDev(config = "") {
  const dir = mkdtempSync(join(tmpdir(), "updraft-e2e-"));
  const data = join(dir, "data");
  writeFileSync(join(dir, "dev.toml"), `data_dir = "${data}"\napp_port = 0\ns3_port = 0\nissuer_port = 0\n${config}\n`);
  const child = spawn(BIN, ["dev", "--config", join(dir, "dev.toml")], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  for (let i = 0; i < 600; i++) {
    try {
      const stack = JSON.parse(readFileSync(join(data, "stack.json"), "utf8"));
      return {
        ...stack, dir, data,
        token: (sub, ttl = 3600) => execFileSync(BIN, ["dev", "token", "--sub", sub, "--ttl", String(ttl), "--data-dir", data]).toString().trim(),
        stop: async () => {
          child.kill("SIGINT");
          await new Promise((r) => child.once("exit", r));
          rmSync(dir, { recursive: true, force: true });
        },
      };
    } catch {}
    if (child.exitCode != null) throw new Error(`updraft dev exited: ${stderr}`);
    await sleep(50);
  }
  child.kill();
  throw new Error(`updraft dev wrote no stack.json: ${stderr}`);
}

/** Headless Chromium as this machine allows it. */
export async function browser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/** Opens the demo and signs in as `name` through the dev issuer's page (code + PKCE). */
export async function signIn(page, dev, name) {
  await page.goto(`${dev.app_url}/`);
  await page.click("#sign-in");
  await page.waitForURL(`${dev.issuer}/**`);
  await page.locator("input:visible").first().fill(name);
  await page.keyboard.press("Enter");
  await page.waitForURL(`${dev.app_url}/**`);
  await page.waitForFunction(() => document.getElementById("who")?.textContent.startsWith("Signed in"));
}

/** The admin's view of the store, via the AWS CLI when the harness has one, else none. */
export async function get(url) {
  const r = await fetch(url);
  return { status: r.status, bytes: Buffer.from(await r.arrayBuffer()) };
}

/** Deterministic bytes: the same `seed` and `size` always give the same file. */
export function bytes(size, seed = 1) {
  const b = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}
