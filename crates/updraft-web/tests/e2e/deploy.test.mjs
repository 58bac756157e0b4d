// Issue 14: `updraft deploy` puts the demo (its page, script, the browser package and a
// config.json) into `updraft dev`'s bucket: anonymous GETs answer with the right content
// types and cache headers, and the deployed page loads in headless Chromium, served by
// the store alone.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { startDev, browser, BIN } from "./harness.mjs";

let dev, b;
after(async () => {
  await b?.close();
  await dev?.stop();
});

test("r14 deploy: the demo into a bucket, public, typed and cached right, and it loads", async () => {
  dev = await startDev();
  const site = join(dev.dir, "site");
  mkdirSync(site);
  cpSync(resolve("crates/updraft-dev/site"), site, { recursive: true });
  cpSync(dev.web_pkg, join(site, "pkg"), { recursive: true });
  const config = join(dev.dir, "page-config.json");
  writeFileSync(config, await (await fetch(`${dev.app_url}/config.json`)).text());
  const out = execFileSync(resolve(BIN), ["deploy", site, "--bucket", dev.bucket, "--prefix", "site/", "--config", config, "--endpoint-url", dev.s3_endpoint, "--region", dev.region], {
    env: { PATH: process.env.PATH, HOME: dev.dir, AWS_ACCESS_KEY_ID: dev.admin_access_key_id, AWS_SECRET_ACCESS_KEY: dev.admin_secret_access_key, AWS_CONFIG_FILE: "/dev/null", AWS_SHARED_CREDENTIALS_FILE: "/dev/null" },
  }).toString();
  const url = out.trim().split("\n").pop();
  assert.equal(url, `${dev.s3_endpoint}/${dev.bucket}/site/index.html`, out);

  // Anonymous GETs: what a visitor's browser gets.
  const base = url.replace(/index\.html$/, "");
  for (const [path, type, cache] of [
    ["index.html", "text/html", "no-cache"],
    ["config.json", "application/json", "no-cache"],
    ["demo.js", "text/javascript", "public, max-age=3600"],
    ["pkg/updraft.js", "text/javascript", "public, max-age=3600"],
    ["pkg/worker.js", "text/javascript", "public, max-age=3600"],
    ["pkg/core_bg.wasm", "application/wasm", "public, max-age=3600"],
  ]) {
    const r = await fetch(base + path);
    assert.equal(r.status, 200, path);
    assert.equal(r.headers.get("content-type"), type, path);
    assert.equal(r.headers.get("cache-control"), cache, path);
  }
  const cfg = await (await fetch(base + "config.json")).json();
  assert.equal(cfg.bucket, dev.bucket, "the config given is the one deployed");

  // The deployed page, served by the store alone, loads and is ready to sign in.
  b = await browser();
  const page = await b.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on("response", (r) => r.status() >= 400 && problems.push(`${r.status()}: ${r.url()}`));
  await page.goto(url);
  await page.locator("#sign-in").waitFor({ state: "visible" });
  // The package itself loads from the bucket: its wasm compiles in the page.
  const loaded = await page.evaluate(async () => {
    const m = await import("./pkg/updraft.js");
    return typeof m.Uploader;
  });
  assert.equal(loaded, "function");
  if (process.env.UPDRAFT_SCREENSHOTS) {
    mkdirSync(process.env.UPDRAFT_SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(process.env.UPDRAFT_SCREENSHOTS, "deploy-demo.png"), fullPage: true });
  }
  assert.deepEqual(problems, []);
});
