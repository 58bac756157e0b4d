// Shared by the end-to-end tests: a real `updraft dev` (its binary from UPDRAFT_BIN,
// which serves the package `cargo xtask web` built beside it) and Debian's Chromium,
// driven by npm's playwright-core (found in UPDRAFT_NODE_MODULES). Nothing is faked.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";

export const MODULES = process.env.UPDRAFT_NODE_MODULES ?? join(homedir(), ".cache", "updraft", "node", "node_modules");
const require = createRequire(join(MODULES, "x.js"));
const { chromium } = require("playwright-core");
export const BIN = process.env.UPDRAFT_BIN ?? "target/debug/updraft";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts `updraft dev` on free ports with `config` (TOML lines), on the data directory
 * `data` when given (else a fresh one); resolves to its stack.json, `stop()` and
 * `stderr()` (what it wrote there so far: the `--verbose` log, the faults' summary).
 */
export async function startDev(config = "", { data: keep } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "updraft-e2e-"));
  const data = keep ?? join(dir, "data");
  writeFileSync(join(dir, "dev.toml"), `data_dir = "${data}"\napp_port = 0\ns3_port = 0\nissuer_port = 0\n${config}\n`);
  const child = spawn(BIN, ["dev", "--config", join(dir, "dev.toml")], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  for (let i = 0; i < 600; i++) {
    try {
      const stack = JSON.parse(readFileSync(join(data, "stack.json"), "utf8"));
      return {
        ...stack, dir, data,
        stderr: () => stderr,
        token: (sub, ttl = 3600, aud) => execFileSync(BIN, ["dev", "token", "--sub", sub, "--ttl", String(ttl), ...(aud ? ["--aud", aud] : []), "--data-dir", data]).toString().trim(),
        // `keep`: leave the data directory for another stack (`startDev(…, { data })`).
        stop: async ({ keep = false } = {}) => {
          if (child.exitCode == null) {
            child.kill("SIGINT");
            await new Promise((r) => child.once("exit", r));
          }
          if (!keep) rmSync(dir, { recursive: true, force: true });
        },
      };
    } catch {}
    if (child.exitCode != null) throw new Error(`updraft dev exited: ${stderr}`);
    await sleep(50);
  }
  child.kill();
  throw new Error(`updraft dev wrote no stack.json: ${stderr}`);
}

/** For a bench script: an uncaught failure still stops `dev` (its `updraft dev`), then exits 1. */
export function stopOnCrash(dev) {
  process.on("uncaughtException", async (e) => {
    console.error(e);
    await dev.stop().catch(() => {});
    process.exit(1);
  });
  process.on("unhandledRejection", (e) => {
    throw e;
  });
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

/** The AWS CLI (UPDRAFT_AWS_CLI) as the stack's admin: the store's view, independent of updraft. */
export function aws(dev, args) {
  const cli = process.env.UPDRAFT_AWS_CLI ?? join(homedir(), ".cache", "updraft", "venv", "bin", "aws");
  const out = execFileSync(cli, [...args, "--endpoint-url", dev.s3_endpoint, "--region", dev.region, "--output", "json"], {
    env: { ...process.env, AWS_ACCESS_KEY_ID: dev.admin_access_key_id, AWS_SECRET_ACCESS_KEY: dev.admin_secret_access_key, AWS_CONFIG_FILE: "/dev/null", AWS_SHARED_CREDENTIALS_FILE: "/dev/null" },
  }).toString();
  return out.trim() ? JSON.parse(out) : null;
}

/**
 * In the page (signed in on the demo): `T.make(options)` builds an Uploader of the
 * public API against the stack, recording every event in `events`; `T.token` overrides
 * the sign-in token (null: the demo's OIDC sign-in).
 */
export async function setup(page) {
  await page.evaluate(async () => {
    if (globalThis.T) return;
    const m = await import("/pkg/updraft.js");
    const config = await (await fetch("/config.json")).json();
    const T = (globalThis.T = { m, config, token: null, u: {} });
    T.make = (name, { durationSeconds, ...opts } = {}, credentials) => {
      const events = [];
      const up = new m.Uploader({
        bucket: config.bucket, region: config.region, endpoint: config.endpoint, pathStyle: true, acl: "public-read",
        credentials: credentials ?? m.webIdentity({
          roleArn: config.roleArn, stsEndpoint: config.stsEndpoint, durationSeconds,
          token: async () => (T.token === null ? globalThis.updraftDemo.auth.token() : T.token),
        }),
        ...opts,
      });
      for (const type of ["submit", "progress", "statusChange", "complete", "error", "allComplete", "credentialsExpired"]) {
        up.on(type, (d) => events.push({ ...d, type, all: undefined }));
      }
      T.u[name] = { up, events };
      return name;
    };
    T.input = () => {
      const i = document.createElement("input");
      i.type = "file";
      i.multiple = true;
      i.id = `t${Math.random().toString(36).slice(2)}`;
      document.body.append(i);
      return i.id;
    };
  });
}

/** A stack, a browser and a page on the demo origin with `setup` done (not signed in). */
export async function demoPage() {
  const dev = await startDev();
  const b = await browser();
  const page = await b.newPage();
  await page.goto(`${dev.app_url}/`);
  await setup(page);
  return { dev, b, page };
}

/** Adds the files at `paths` to uploader `name` in the page and starts it; resolves to their ids. */
export async function addFiles(page, name, paths) {
  const input = await page.evaluate(() => T.input());
  await page.setInputFiles(`#${input}`, paths);
  return page.evaluate(async ([name, input]) => {
    const ids = await T.u[name].up.add(document.getElementById(input).files);
    T.u[name].up.start();
    return ids;
  }, [name, input]);
}

/** Events of uploader `name` recorded so far. */
export const events = (page, name) => page.evaluate((name) => T.u[name].events.map((e) => ({ ...e, progress: undefined })).filter((e) => e.type != "progress"), name);

/** Waits until uploader `name` recorded an event `type` matching `pred`. */
export async function waitFor(page, name, type, pred = () => true, timeout = 120_000) {
  const fn = `(e) => (${pred.toString()})(e)`;
  await page.waitForFunction(([name, type, fn]) => T.u[name].events.some((e) => e.type == type && eval(fn)(e)), [name, type, fn], { timeout, polling: 50 });
}

/** Limits the page's upload rate (Chromium's network emulation), bytes per second; -1 lifts it. */
export async function throttle(page, upload) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: upload });
  return cdp;
}
