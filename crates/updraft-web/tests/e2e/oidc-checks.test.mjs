// The OIDC adapter's own checks, against the dev issuer's real flow (issue 7): an answer
// whose state this page did not issue, and an ID token whose nonce is not this
// sign-in's, are refused with a message, and nobody is signed in.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDev, browser } from "./harness.mjs";

let dev, b;
before(async () => {
  dev = await startDev();
  b = await browser();
});
after(async () => {
  await b?.close();
  await dev?.stop();
});

test("an answer with a state this page never issued is refused", async () => {
  const page = await b.newPage();
  await page.goto(`${dev.app_url}/?code=stolen-code&state=forged`);
  await page.waitForFunction(() => document.getElementById("status")?.textContent);
  assert.match(await page.textContent("#status"), /state differs/);
  assert.equal(await page.evaluate(() => globalThis.updraftDemo.auth.user), null);
  assert.equal(await page.evaluate(() => globalThis.updraftDemo.auth.token()), null);
  await page.close();
});

test("an ID token carrying another sign-in's nonce is refused", async () => {
  const page = await b.newPage();
  await page.goto(`${dev.app_url}/`);
  // The issuer is asked with a nonce other than the one this sign-in stored.
  await page.route(`${dev.issuer}/authorize?**`, (route) => {
    const url = new URL(route.request().url());
    url.searchParams.set("nonce", "someone-elses-nonce");
    route.continue({ url: url.toString() });
  });
  await page.click("#sign-in");
  await page.waitForURL(`${dev.issuer}/**`);
  await page.locator("input:visible").first().fill("mallory");
  await page.keyboard.press("Enter");
  await page.waitForURL(`${dev.app_url}/**`);
  await page.waitForFunction(() => document.getElementById("status")?.textContent);
  assert.match(await page.textContent("#status"), /nonce differs/);
  assert.equal(await page.evaluate(() => globalThis.updraftDemo.auth.user), null);
  await page.close();
});
