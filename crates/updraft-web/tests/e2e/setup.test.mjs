// Issue 14: the `config.json` that `updraft setup aws --config-out` writes is one the widget
// runs on unchanged. The setup is made in moto (UPDRAFT_MOTO_SERVER) for the app origin of
// a real `updraft dev`, whose page loads the package; the widget, given the written file,
// offers a sign-in for each provider set up, and the bucket's CORS rule, as setup wrote it,
// admits the package's preflight in Chromium. moto's STS sends no CORS headers (AWS's
// does), so the sign-in itself is not carried out here: the widget tests do that against
// `updraft dev`.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { startDev, browser, BIN } from "./harness.mjs";

const SHOTS = process.env.UPDRAFT_SCREENSHOTS ?? "target/screenshots";
const MOTO = process.env.UPDRAFT_MOTO_SERVER;
let dev, b, moto;
after(async () => {
  await b?.close();
  await dev?.stop();
  moto?.kill();
});

const freePort = () => new Promise((ok) => {
  const s = createServer().listen(0, "127.0.0.1", () => {
    const { port } = s.address();
    s.close(() => ok(port));
  });
});

test("r14 setup aws: the config.json it writes runs the widget, and its CORS rule admits the package", async () => {
  assert.ok(MOTO, "UPDRAFT_MOTO_SERVER: run through `cargo xtask test`");
  dev = await startDev();
  const port = await freePort();
  moto = spawn(MOTO, ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
  const endpoint = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      await fetch(endpoint);
      break;
    } catch (e) {
      if (i > 200) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const config = join(dev.dir, "setup-config.json");
  const env = {
    PATH: process.env.PATH, HOME: dev.dir, AWS_ENDPOINT_URL: endpoint, AWS_REGION: "eu-west-1",
    AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_CONFIG_FILE: "/dev/null", AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
  };
  const out = execFileSync(resolve(BIN), ["setup", "aws", "--bucket", "page-uploads", "--app-origin", dev.app_url,
    "--provider", "google:1234.apps.googleusercontent.com", "--provider", "amazon:amzn1.application.abc", "--provider", "facebook:4242",
    "--provider", "oidc:https://id.example.com,web", "--yes", "--config-out", config], { env }).toString();
  assert.match(out, /Applied \d+ change\(s\)\./, out);
  const c = JSON.parse(readFileSync(config, "utf8"));

  const page = await (b = await browser()).newPage();
  await page.goto(`${dev.app_url}/`);
  await page.waitForFunction(() => globalThis.updraftDemo);
  await page.evaluate((c) => {
    document.body.replaceChildren();
    const el = document.createElement("updraft-uploader");
    el.setAttribute("config", URL.createObjectURL(new Blob([JSON.stringify(c)], { type: "application/json" })));
    document.body.append(el);
  }, c);
  const el = page.locator("updraft-uploader");
  for (const name of ["Sign in with id.example.com", "Sign in with Google", "Sign in with Amazon", "Sign in with Facebook"]) {
    await el.getByRole("button", { name, exact: true }).waitFor();
  }
  assert.equal(await el.getByRole("button", { name: "Continue as guest" }).count(), 0, "no pool was set up");
  assert.equal(await el.locator(".bad").count(), 0, await el.textContent());
  await page.screenshot({ path: join(SHOTS, "setup-aws-config.png"), fullPage: true });

  // The bucket's CORS rule, from the page: the PUT the package sends, with its headers.
  const put = await page.evaluate(async ({ endpoint, bucket }) => {
    const r = await fetch(`${endpoint}/${bucket}/probe/x.txt`, {
      method: "PUT", body: "x",
      headers: { "x-amz-date": "20261204T000000Z", "x-amz-security-token": "t", "x-amz-checksum-crc64nvme": "AAAAAAAAAAA=", "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
    });
    return { status: r.status, etag: r.headers.get("etag") };
  }, { endpoint: c.endpoint, bucket: c.bucket });
  // moto checks no signature: the PUT is stored, and its ETag is readable, as the
  // package needs to complete a multipart upload.
  assert.equal(put.status, 200, JSON.stringify(put));
  assert.match(put.etag ?? "", /^"[0-9a-f]{32}"$/, "ETag exposed to the page");
  await page.close();
});
