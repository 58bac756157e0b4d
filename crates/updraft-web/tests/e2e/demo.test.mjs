// A person's path through the demo page: open, sign in, choose a file, follow the link,
// and the download equals the file (issue 7).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startDev, browser, signIn, bytes, get } from "./harness.mjs";

test("demo: sign in, choose two files, follow the links: the downloads equal the files", async () => {
  const dev = await startDev();
  const b = await browser();
  try {
    const page = await b.newPage();
    await signIn(page, dev, "alice");
    const small = join(dev.dir, "hello.txt"), big = join(dev.dir, "big.bin");
    writeFileSync(small, "hello, updraft\n");
    writeFileSync(big, bytes(9 * 1024 * 1024 + 7, 3));
    await page.setInputFiles("#updraft-files", [small, big]);
    const links = page.locator("updraft-uploader li a");
    await links.nth(1).waitFor({ timeout: 60_000 });
    // Each link downloads the stored object (public-read in the demo): the same bytes.
    for (const [i, file] of [[0, small], [1, big]]) {
      const href = await links.nth(i).getAttribute("href");
      assert.match(href, /\/uploads\/alice\/[0-9a-f-]{36}\//);
      const r = await get(href);
      assert.equal(r.status, 200);
      assert.equal(Buffer.compare(r.bytes, readFileSync(file)), 0, `download of ${file} differs`);
    }
    // And a person clicking the text file's link sees its text (in a new tab).
    const [tab] = await Promise.all([page.context().waitForEvent("page"), links.nth(0).click()]);
    await tab.waitForURL(/hello\.txt$/);
    assert.equal((await tab.textContent("body")).trim(), "hello, updraft");
  } finally {
    await b.close();
    await dev.stop();
  }
});

test("demo: signing in again happens in a window; the page is not left", async () => {
  const dev = await startDev();
  const b = await browser();
  try {
    const page = await b.newPage();
    await signIn(page, dev, "alice");
    await page.evaluate(() => (globalThis.marker = "same page"));
    const [popup] = await Promise.all([page.waitForEvent("popup"), page.click("#sign-in")]);
    await popup.waitForURL(`${dev.issuer}/**`);
    await popup.locator("input:visible").first().fill("alice");
    await popup.keyboard.press("Enter");
    await popup.waitForEvent("close");
    await page.waitForFunction(() => globalThis.updraftDemo.auth.user?.sub == "alice");
    assert.equal(await page.evaluate(() => globalThis.marker), "same page");
    assert.match(await page.textContent("#who"), /^Signed in as alice/);
    assert.equal(await page.textContent("#status"), "");
  } finally {
    await b.close();
    await dev.stop();
  }
});
