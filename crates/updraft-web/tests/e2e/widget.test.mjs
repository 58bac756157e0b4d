// <updraft-uploader> on the demo page as a person uses it (issue 13), in headless Chromium
// against `updraft dev`: sign in through the dev issuer's page, choose files and a folder,
// pause, resume, cancel, follow the links, reload and see "your files", delete one. Also
// the keyboard path, axe-core's WCAG 2.1 A/AA rules, a refusal, the credentials-expired
// prompt, an old browser; screenshots of each state under UPDRAFT_SCREENSHOTS.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startDev, browser, signIn, bytes, get, aws, setup, throttle, MODULES } from "./harness.mjs";

const MiB = 1024 * 1024;
const SHOTS = process.env.UPDRAFT_SCREENSHOTS ?? "target/screenshots";
mkdirSync(SHOTS, { recursive: true });
let dev, b;

before(async () => {
  dev = await startDev("min_session_seconds = 1");
  b = await browser();
});
after(async () => {
  await b?.close();
  await dev?.stop();
});

const file = (name, size, seed) => {
  const path = join(dev.dir, name);
  writeFileSync(path, bytes(size, seed));
  return path;
};
// A page at a phone's or a laptop's width, light or dark.
async function newPage({ width = 1024, dark = false } = {}) {
  const page = await b.newPage({ viewport: { width, height: 800 }, colorScheme: dark ? "dark" : "light" });
  page.on("pageerror", (e) => console.log(`page error: ${e.message}`));
  return page;
}
// The file chooser the next action opens. Listening from the page's start: Playwright
// turns on its interception asynchronously, so a `waitForEvent` set just before a key
// press can miss the chooser (seen in CI).
function choosers(page) {
  const seen = [];
  page.on("filechooser", (c) => seen.push(c));
  return async (action) => {
    const n = seen.length;
    await action();
    for (let i = 0; i < 300 && seen.length == n; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(seen.length > n, "a file chooser opened");
    return seen[seen.length - 1];
  };
}
const shot = (page, name) => page.screenshot({ path: join(SHOTS, `widget-${name}.png`), fullPage: true });
const rows = (page) => page.locator("updraft-uploader li");
const row = (page, name) => rows(page).filter({ has: page.locator(".name", { hasText: name }) });
const statusOf = (page, name) => row(page, name).getAttribute("data-status");
async function waitStatus(page, name, status, timeout = 120_000) {
  await row(page, name).and(page.locator(`[data-status=${status}]`)).waitFor({ timeout });
}
// axe-core in the page: the WCAG 2.1 A and AA violations, shadow DOM included.
async function axe(page) {
  if (!(await page.evaluate(() => !!globalThis.axe))) await page.addScriptTag({ path: join(MODULES, "axe-core", "axe.min.js") });
  const r = await page.evaluate(() => axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] }));
  return r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}
// A small PNG made by the browser's own canvas, for the thumbnail.
async function png(page) {
  const b64 = await page.evaluate(async () => {
    const c = new OffscreenCanvas(320, 200), g = c.getContext("2d");
    g.fillStyle = "#2a7de1"; g.fillRect(0, 0, 320, 200);
    g.fillStyle = "#ffd23f"; g.beginPath(); g.arc(230, 70, 40, 0, 7); g.fill();
    g.fillStyle = "#1b6e3a"; g.fillRect(0, 140, 320, 60);
    const blob = await c.convertToBlob({ type: "image/png" });
    return btoa(String.fromCharCode(...new Uint8Array(await blob.arrayBuffer())));
  });
  const path = join(dev.dir, "sky.png");
  writeFileSync(path, Buffer.from(b64, "base64"));
  return path;
}

test("widget: a person signs in, adds files and a folder, pauses, resumes, cancels, follows the links, reloads, deletes", async () => {
  const page = await newPage();
  await page.goto(`${dev.app_url}/`);
  await shot(page, "signed-out");
  await signIn(page, dev, "alice");
  assert.deepEqual(await axe(page), [], "empty state");
  await shot(page, "empty-light");

  const text = join(dev.dir, "notes.txt");
  writeFileSync(text, "hello from the widget\n");
  const big = file("big.bin", 20 * MiB, 31), doomed = file("doomed.bin", 12 * MiB, 32);
  const folder = join(dev.dir, "holiday");
  mkdirSync(join(folder, "day 1"), { recursive: true });
  writeFileSync(join(folder, "day 1", "a.txt"), "first day\n");
  writeFileSync(join(folder, "b.txt"), "second\n");
  const picture = await png(page);

  // Slow enough to see the rows move, and to pause and cancel mid-upload.
  const cdp = await throttle(page, 4 * MiB);
  await page.setInputFiles("#updraft-files", [text, big, doomed, picture]);
  await page.setInputFiles("#updraft-folder", folder);
  await waitStatus(page, "big.bin", "uploading");
  await waitStatus(page, "doomed.bin", "uploading");
  await row(page, "big.bin").getByRole("button", { name: "Pause big.bin" }).click();
  await waitStatus(page, "big.bin", "paused");
  await page.waitForFunction(() => document.querySelector("updraft-uploader").shadowRoot.querySelector("canvas"));
  await shot(page, "uploading-light");
  assert.deepEqual(await axe(page), [], "uploading state");
  const uploadId = () => (aws(dev, ["s3api", "list-multipart-uploads", "--bucket", dev.bucket])?.Uploads ?? []).filter((u) => u.Key.endsWith("/doomed.bin"));
  await row(page, "doomed.bin").getByRole("button", { name: "Cancel doomed.bin" }).click();
  await waitStatus(page, "doomed.bin", "cancelled");
  await row(page, "big.bin").getByRole("button", { name: "Resume big.bin" }).click();
  await throttle(page, -1);
  await cdp.detach();
  for (const name of ["notes.txt", "big.bin", "sky.png", "holiday/day 1/a.txt", "holiday/b.txt"]) await waitStatus(page, name, "completed");
  assert.deepEqual(uploadId(), [], "the cancelled file left no multipart upload");
  const total = await page.locator("updraft-uploader .total").textContent();
  assert.match(total, /^5 of 5 files done · 1 cancelled · 21 MB of 21 MB$/);
  assert.deepEqual(await axe(page), [], "done state");
  await shot(page, "done-light");

  // Each row's link downloads the stored object: the same bytes.
  for (const [name, path] of [["notes.txt", text], ["big.bin", big], ["holiday/b.txt", join(folder, "b.txt")]]) {
    const href = await row(page, name).getByRole("link", { name: `Open ${name}` }).getAttribute("href");
    const r = await get(href);
    assert.equal(r.status, 200, href);
    assert.equal(Buffer.compare(r.bytes, readFileSync(path)), 0, `the download of ${name}`);
  }
  const sky = await get(await row(page, "sky.png").getByRole("link").getAttribute("href"));
  assert.equal(Buffer.compare(sky.bytes, readFileSync(picture)), 0, "the picture");

  // Reload (the sign-in lives in the page's memory only: sign in again): "your files"
  // lists what is stored; delete one, and the store agrees.
  await page.reload();
  await signIn(page, dev, "alice");
  await page.locator("#yours li").nth(4).waitFor();
  const listed = await page.locator("#yours .key").allTextContents();
  for (const name of ["notes.txt", "big.bin", "sky.png", "holiday/day 1/a.txt", "holiday/b.txt"]) assert.ok(listed.includes(name), `${name} in ${listed}`);
  assert.ok(!listed.includes("doomed.bin"));
  await shot(page, "your-files-light");
  await page.getByRole("button", { name: "Delete notes.txt" }).click();
  await page.locator("#yours .key", { hasText: "notes.txt" }).waitFor({ state: "detached" });
  const keys = (aws(dev, ["s3api", "list-objects-v2", "--bucket", dev.bucket, "--prefix", "alice/"])?.Contents ?? []).map((o) => o.Key);
  assert.ok(!keys.some((k) => k.endsWith("/notes.txt")), "notes.txt is gone from the store");
  assert.ok(keys.some((k) => k.endsWith("/big.bin")));
  assert.ok(keys.some((k) => /^alice\/[0-9a-f-]{36}\/holiday\/day 1\/a\.txt$/.test(k)), `the folder's file keeps its folders: ${keys}`);
  await page.close();
});

test("widget: keyboard only — tab to the picker, choose, pause, resume, open the link", async () => {
  const page = await newPage();
  const chooser = choosers(page);
  await signIn(page, dev, "alice");
  // Text, so the link opens in a tab (a .bin would download and close it).
  const path = join(dev.dir, "keys.txt");
  writeFileSync(path, "keyboard\n".repeat(MiB));
  const cdp = await throttle(page, 2 * MiB);
  const focused = () => page.evaluate(() => {
    let e = document.activeElement;
    while (e?.shadowRoot?.activeElement) e = e.shadowRoot.activeElement;
    return e?.getAttribute("aria-label") ?? e?.textContent;
  });
  const tabTo = async (label) => {
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press("Tab");
      if ((await focused()) == label) return;
    }
    throw new Error(`Tab never reached ${label}`);
  };
  await tabTo("Choose files");
  await (await chooser(() => page.keyboard.press("Enter"))).setFiles([path]);
  await waitStatus(page, "keys.txt", "uploading");
  await tabTo("Pause keys.txt");
  await page.keyboard.press("Enter");
  await waitStatus(page, "keys.txt", "paused");
  await tabTo("Resume keys.txt");
  await page.keyboard.press("Enter");
  await throttle(page, -1);
  await cdp.detach();
  await waitStatus(page, "keys.txt", "completed");
  await tabTo("Open keys.txt");
  const [tab] = await Promise.all([page.context().waitForEvent("page"), page.keyboard.press("Enter")]);
  await tab.waitForURL(/keys\.txt$/, { waitUntil: "commit" });
  assert.match(tab.url(), /\/alice\/[0-9a-f-]{36}\/keys\.txt$/);
  await tab.close();
  await page.close();
});

test("widget: a refused file says what the limit is; an expired sign-in prompts and the upload goes on after it", async () => {
  const page = await newPage();
  await signIn(page, dev, "alice");
  await setup(page);
  // An element of its own on an Uploader with a size limit, beside the demo's.
  await page.evaluate(() => {
    T.token = null;
    T.make("limited", { validation: { maxSize: 1000 }, partSize: 5 * 1024 * 1024, durationSeconds: 2 });
    const el = document.createElement("updraft-uploader");
    el.id = "limited";
    el.uploader = T.u.limited.up;
    document.getElementById("uploader").replaceWith(el);
  });
  const large = file("large.txt", 5000, 34), fits = file("fits.txt", 500, 39);
  await page.setInputFiles("#limited >> #updraft-files", [large, fits]);
  const msg = page.locator("#limited .msg");
  await msg.filter({ hasText: "large.txt" }).waitFor();
  assert.match(await msg.textContent(), /large\.txt.*1000 bytes/);
  // The refused file gets no row; the one after it gets its own (not the refused one's).
  await waitStatus(page, "fits.txt", "completed");
  assert.equal(await row(page, "large.txt").count(), 0);
  await shot(page, "refused-light");

  // Signed out mid-upload: the prompt shows, the upload waits, signing in again finishes it.
  const slow = file("slow.bin", 12 * MiB, 35);
  const cdp = await throttle(page, 3 * MiB);
  await page.evaluate(async () => (T.token = await globalThis.updraftDemo.auth.token()));
  await page.evaluate(() => {
    T.make("expiring", { partSize: 5 * 1024 * 1024, durationSeconds: 2 });
    document.getElementById("limited").uploader = T.u.expiring.up;
  });
  await page.setInputFiles("#limited >> #updraft-files", [slow]);
  await waitStatus(page, "slow.bin", "uploading");
  await page.evaluate(() => (T.token = ""));
  const again = page.locator("#limited").getByRole("button", { name: "Sign in again" });
  await again.waitFor({ timeout: 60_000 });
  assert.match(await msg.textContent(), /sign-in has expired/);
  assert.equal(await statusOf(page, "slow.bin"), "uploading", "the upload waits");
  await shot(page, "expired-light");
  await page.emulateMedia({ colorScheme: "dark" });
  await shot(page, "expired-dark");
  await page.emulateMedia({ colorScheme: "light" });
  await throttle(page, -1);
  await cdp.detach();
  // The element asks the page to sign in; the demo does it in a window.
  const [popup] = await Promise.all([page.waitForEvent("popup"), again.click()]);
  await popup.waitForURL(`${dev.issuer}/**`);
  await popup.locator("input:visible").first().fill("alice");
  await popup.keyboard.press("Enter");
  await popup.waitForEvent("close");
  await page.evaluate(() => {
    T.token = null;
    return T.u.expiring.up.refreshCredentials();
  });
  await waitStatus(page, "slow.bin", "completed");
  await page.close();
});

test("widget: dark mode and a phone's width, uploading and done", async () => {
  for (const [name, opts] of [["phone-light", { width: 360 }], ["phone-dark", { width: 360, dark: true }], ["dark", { dark: true }]]) {
    const page = await newPage(opts);
    await signIn(page, dev, "alice");
    const cdp = await throttle(page, 1 * MiB);
    await page.setInputFiles("#updraft-files", [file(`a-rather-long-file-name-for-a-small-screen-${name}.bin`, 6 * MiB, 36), await png(page)]);
    await waitStatus(page, "sky.png", "completed");
    await page.locator("updraft-uploader li[data-status=uploading] .meta", { hasText: "left" }).waitFor();
    await shot(page, `uploading-${name}`);
    assert.deepEqual(await axe(page), [], `uploading, ${name}`);
    await throttle(page, -1);
    await cdp.detach();
    await page.locator("updraft-uploader li[data-status=uploading]").waitFor({ state: "detached" });
    await page.locator("#yours .key", { hasText: `screen-${name}.bin` }).waitFor();
    await shot(page, `done-${name}`);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= (opts.width ?? 1024), `nothing wider than the screen (${width} px)`);
    await page.close();
  }
});

test("widget: after a reload mid-upload the unfinished file is listed; choosing it again sends only the missing parts", async () => {
  const page = await newPage();
  const chooser = choosers(page);
  await signIn(page, dev, "alice");
  const path = file("resumed.bin", 20 * MiB, 37);
  const cdp = await throttle(page, 4 * MiB);
  await page.setInputFiles("#updraft-files", [path]);
  // Until a part is stored (the record counts it), then the page goes away.
  await page.waitForFunction(() => Object.keys(localStorage).some((k) => k.startsWith("updraft:resumed.bin|") && JSON.parse(localStorage[k]).parts?.length > 0), null, { timeout: 60_000, polling: 100 });
  const stored = await page.evaluate(() => {
    const k = Object.keys(localStorage).find((k) => k.startsWith("updraft:resumed.bin|"));
    return JSON.parse(localStorage[k]).parts.map((p) => p.number);
  });
  await throttle(page, -1);
  await cdp.detach();
  await page.reload();
  await signIn(page, dev, "alice");
  const unfinished = page.locator("updraft-uploader .resume li", { hasText: "resumed.bin" });
  await unfinished.waitFor();
  assert.match(await unfinished.textContent(), /21 MB · \d+ % sent · add resumed\.bin again to continue/);
  assert.deepEqual(await axe(page), [], "with an unfinished upload listed");
  await shot(page, "resume-light");
  const parts = [];
  page.on("request", (r) => {
    const m = /[?&]partNumber=(\d+)/.exec(r.url());
    if (m && r.method() == "PUT") parts.push(Number(m[1]));
  });
  await (await chooser(() => unfinished.getByRole("button", { name: "Choose again: resumed.bin" }).click())).setFiles([path]);
  await unfinished.waitFor({ state: "detached" });
  await waitStatus(page, "resumed.bin", "completed");
  assert.ok(parts.length > 0 && parts.every((n) => !stored.includes(n)), `only the missing parts were sent again: ${parts}, stored before: ${stored}`);
  const r = await get(await row(page, "resumed.bin").getByRole("link").getAttribute("href"));
  assert.equal(Buffer.compare(r.bytes, readFileSync(path)), 0);
  await page.close();
});

test("widget resize=800 keep-original: a large image goes scaled to fit 800 px, and as it was", async () => {
  const page = await newPage();
  const workers = [];
  page.on("worker", (w) => workers.push(w.url()));
  await signIn(page, dev, "alice");
  const b64 = await page.evaluate(async () => {
    const c = new OffscreenCanvas(2000, 1200), g = c.getContext("2d");
    g.fillStyle = "#d94f30"; g.fillRect(0, 0, 2000, 1200);
    g.fillStyle = "#fff"; g.fillRect(900, 500, 200, 200);
    const blob = await c.convertToBlob({ type: "image/png" });
    let s = "";
    for (const x of new Uint8Array(await blob.arrayBuffer())) s += String.fromCharCode(x);
    return btoa(s);
  });
  const path = join(dev.dir, "wide.png");
  writeFileSync(path, Buffer.from(b64, "base64"));
  await page.evaluate(() => {
    const el = document.querySelector("updraft-uploader");
    el.setAttribute("resize", "800");
    el.setAttribute("keep-original", "");
  });
  await page.setInputFiles("#updraft-files", [path]);
  await waitStatus(page, "wide-800px.png", "completed");
  await waitStatus(page, "wide.png", "completed");
  const size = (name) => row(page, name).getByRole("link").getAttribute("href").then((href) =>
    page.evaluate(async (href) => {
      const bmp = await createImageBitmap(await (await fetch(href)).blob());
      return [bmp.width, bmp.height];
    }, href));
  assert.deepEqual(await size("wide-800px.png"), [800, 480]);
  assert.ok(workers.some((u) => u.endsWith("/pkg/resize.js")), `scaled in a worker: ${workers}`);
  assert.deepEqual(await size("wide.png"), [2000, 1200]);
  const original = await get(await row(page, "wide.png").getByRole("link").getAttribute("href"));
  assert.equal(Buffer.compare(original.bytes, readFileSync(path)), 0, "the original goes byte for byte");
  await page.close();
});

test("widget: 3,000 files — only the rows in view are in the document; scrolling brings the others", async () => {
  const page = await newPage();
  await signIn(page, dev, "alice");
  await setup(page);
  const shown = await page.evaluate(async () => {
    // Credentials that never come: the files stay queued, nothing is sent.
    T.make("many", {}, T.m.staticCredentials(null, { sub: "alice", refresh: async () => null }));
    const el = document.querySelector("updraft-uploader");
    el.uploader = T.u.many.up;
    const files = Array.from({ length: 3000 }, (_, i) => new File([`${i}\n`], `many-${i}.txt`, { type: "text/plain" }));
    await el.add(files);
    const names = () => [...el.shadowRoot.querySelectorAll("li:not(.spacer) .name")].map((n) => n.textContent);
    await new Promise((r) => setTimeout(r, 500));
    const before = names();
    const list = el.shadowRoot.querySelector("ul[aria-label=Uploads]");
    list.scrollTop = list.scrollHeight;
    await new Promise((r) => setTimeout(r, 500));
    return { before, after: names(), total: el.shadowRoot.querySelector(".total").textContent, setsize: el.shadowRoot.querySelector("li:not(.spacer)").getAttribute("aria-setsize") };
  });
  assert.ok(shown.before.length > 0 && shown.before.length <= 40, `rows in the document: ${shown.before.length}`);
  assert.equal(shown.before[0], "many-0.txt");
  assert.ok(shown.after.includes("many-2999.txt"), `scrolled to the end: ${shown.after.slice(-3)}`);
  assert.ok(!shown.after.includes("many-0.txt"));
  assert.ok(shown.after.length <= 40);
  assert.match(shown.total, /^0 of 3000 files done/);
  assert.equal(shown.setsize, "3000");
  await shot(page, "many-light");
  await page.close();
});

test("widget: files dropped on the zone and pasted into it are added and stored", async () => {
  const page = await newPage();
  await signIn(page, dev, "alice");
  // A drop and a paste as the page sees them: a DataTransfer holding files.
  await page.evaluate(() => {
    const el = document.querySelector("updraft-uploader");
    const zone = el.shadowRoot.querySelector(".zone");
    const dt = new DataTransfer();
    dt.items.add(new File(["dropped\n"], "dropped.txt", { type: "text/plain" }));
    zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: dt, bubbles: true, cancelable: true }));
    zone.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
    const pasted = new DataTransfer();
    pasted.items.add(new File(["pasted\n"], "pasted.txt", { type: "text/plain" }));
    el.dispatchEvent(new ClipboardEvent("paste", { clipboardData: pasted, bubbles: true, cancelable: true }));
  });
  for (const name of ["dropped.txt", "pasted.txt"]) {
    await waitStatus(page, name, "completed");
    const r = await get(await row(page, name).getByRole("link").getAttribute("href"));
    assert.equal(r.bytes.toString(), `${name.split(".")[0]}\n`);
  }
  await page.close();
});

test("widget with config=: signs in itself (the issuer in a window, or a Cognito guest), uploads, signs out", async () => {
  const page = await newPage();
  await page.goto(`${dev.app_url}/`);
  await page.waitForFunction(() => globalThis.updraftDemo); // the demo's own script is done
  // A page holding only the element, on the origin the issuer redirects to.
  await page.evaluate(() => {
    document.body.replaceChildren();
    const el = document.createElement("updraft-uploader");
    el.setAttribute("config", "/config.json");
    el.setAttribute("links", "presigned");
    document.body.append(el);
  });
  const el = page.locator("updraft-uploader");
  await el.getByRole("button", { name: "Continue as a guest" }).waitFor();
  assert.equal(await page.locator("updraft-uploader .zone").isVisible(), false, "no drop zone before sign-in");
  assert.deepEqual(await axe(page), [], "signed out, config mode");
  await shot(page, "config-signed-out");
  const [popup] = await Promise.all([page.waitForEvent("popup"), el.getByRole("button", { name: "Sign in" }).click()]);
  await popup.waitForURL(`${dev.issuer}/**`);
  await popup.locator("input:visible").first().fill("carol");
  await popup.keyboard.press("Enter");
  await el.getByText("Signed in as carol").waitFor();
  const path = file("by-config.txt", 2000, 38);
  await page.setInputFiles("#updraft-files", [path]);
  await waitStatus(page, "by-config.txt", "completed");
  const href = await row(page, "by-config.txt").getByRole("link").getAttribute("href");
  assert.match(href, /\/carol\/[0-9a-f-]{36}\/by-config\.txt\?X-Amz-/, "a presigned link under carol's folder");
  assert.equal(Buffer.compare((await get(href)).bytes, readFileSync(path)), 0);
  await shot(page, "config-done");
  // Sign out: no drop zone; a guest instead, whose keys go under guest/<identity id>/.
  await el.getByRole("button", { name: "Sign out" }).click();
  await el.getByRole("button", { name: "Continue as a guest" }).click();
  await el.getByText("Uploading as a guest").waitFor();
  await page.setInputFiles("#updraft-files", [path]);
  await waitStatus(page, "by-config.txt", "completed");
  // The guest role only writes: the row names the key and offers no link S3 would refuse.
  const meta = await row(page, "by-config.txt").locator(".meta").textContent();
  const key = /Stored as (guest\/[^/]+\/[0-9a-f-]{36}\/by-config\.txt)$/.exec(meta)?.[1];
  assert.ok(key, meta);
  assert.equal(await row(page, "by-config.txt").getByRole("link").count(), 0);
  const stored = aws(dev, ["s3api", "head-object", "--bucket", dev.bucket, "--key", key]);
  assert.equal(stored.ContentLength, 2000);
  await shot(page, "config-guest");
  await page.close();
});

test("widget with config=: Google and Amazon buttons sign in through their SDKs (stand-ins) and STS", async () => {
  // The providers' SDKs cannot load here: stand-ins are the outermost boundary, the only
  // fake. A real ID token of the dev issuer plays Google's; Amazon's token is refused by STS.
  const page = await newPage();
  await page.goto(`${dev.app_url}/`);
  await page.waitForFunction(() => globalThis.updraftDemo);
  await page.evaluate((token) => {
    let callback;
    globalThis.google = { accounts: { id: { initialize: (o) => (callback = o.callback), prompt: () => setTimeout(() => callback({ credential: token })) } } };
    globalThis.amazon = { Login: { authorize: (o, cb) => setTimeout(() => cb({ access_token: "Atza|stand-in", expires_in: 3600 })) } };
    document.body.replaceChildren();
  }, dev.token("erin"));
  await page.evaluate(async () => {
    const config = { ...(await (await fetch("/config.json")).json()), google: { clientId: "updraft-dev" }, amazon: {} };
    const el = document.createElement("updraft-uploader");
    el.setAttribute("config", URL.createObjectURL(new Blob([JSON.stringify(config)], { type: "application/json" })));
    document.body.append(el);
  });
  const el = page.locator("updraft-uploader");
  await el.getByRole("button", { name: "Sign in with Amazon" }).waitFor();
  await shot(page, "config-providers");
  await el.getByRole("button", { name: "Sign in with Google" }).click();
  await el.getByText("Signed in as your Google account").waitFor();
  const path = file("by-google.txt", 1500, 40);
  await page.setInputFiles("#updraft-files", [path]);
  await waitStatus(page, "by-google.txt", "completed");
  const href = await row(page, "by-google.txt").getByRole("link").getAttribute("href");
  assert.match(href, /\/erin\/[0-9a-f-]{36}\/by-google\.txt\?X-Amz-/, "private without an ACL: a presigned link");
  assert.equal(Buffer.compare((await get(href)).bytes, readFileSync(path)), 0);
  // Amazon: STS refuses the stand-in's token, and the drop zone says so.
  await el.getByRole("button", { name: "Sign out" }).click();
  await el.getByRole("button", { name: "Sign in with Amazon" }).click();
  await el.getByText("Signed in as your Amazon account").waitFor();
  await page.setInputFiles("#updraft-files", [path]);
  const msg = page.locator("updraft-uploader .msg");
  await msg.filter({ hasText: "by-google.txt was not added" }).waitFor();
  assert.match(await msg.textContent(), /STS|token/i);
  await page.close();
});

test("widget: a browser without WebAssembly gets a plain message saying so", async () => {
  const page = await newPage();
  await page.addInitScript(() => delete globalThis.WebAssembly);
  await page.goto(`${dev.app_url}/`);
  const message = page.locator("updraft-uploader .unsupported");
  await message.waitFor();
  assert.match(await message.textContent(), /lacks WebAssembly/);
  assert.equal(await page.locator("#sign-in").isVisible(), false);
  await shot(page, "unsupported-light");
  await page.close();
});

test("r13 widget: a browser without custom elements gets the message in the element's place", async () => {
  const page = await newPage();
  await page.addInitScript(() => delete globalThis.customElements);
  await page.goto(`${dev.app_url}/`);
  await page.waitForFunction(() => document.querySelector("updraft-uploader")?.textContent.includes("lacks custom elements"));
  assert.match(await page.locator("updraft-uploader").textContent(), /^This browser cannot upload here: it lacks custom elements\. Use a current/);
  await page.close();
});

test("r13 widget: its strings from one table a page changes, its colours from --updraft-* properties, the Uploader's events again as DOM events, completions announced", async () => {
  const page = await newPage();
  await signIn(page, dev, "alice");
  await setup(page);
  const got = await page.evaluate(async () => {
    const { strings } = await import("/pkg/element.js");
    document.documentElement.style.setProperty("--updraft-accent", "rgb(150, 20, 90)");
    const el = document.createElement("updraft-uploader");
    el.strings = {
      chooseFiles: "Dateien wählen", status: { ...strings.status, completed: "Fertig" },
      filesDone: (done, files) => `${done} von ${files} fertig`, stored: (name) => `${name} ist gespeichert.`,
    };
    document.body.replaceChildren(el);
    const seen = [];
    for (const type of ["updraft-submit", "updraft-statuschange", "updraft-progress", "updraft-complete", "updraft-allcomplete"]) {
      document.addEventListener(type, (e) => seen.push([type, e.detail]));
    }
    T.make("i18n");
    el.uploader = T.u.i18n.up;
    const all = new Promise((ok) => document.addEventListener("updraft-allcomplete", ok, { once: true }));
    await el.add([new File(["hallo\n"], "hallo.txt", { type: "text/plain" })]);
    await all;
    await new Promise((r) => setTimeout(r, 1500)); // the live region speaks within a second
    const root = el.shadowRoot, button = root.querySelector(".primary");
    return {
      types: [...new Set(seen.map(([type]) => type))].sort(), key: seen.find(([type]) => type == "updraft-complete")?.[1].key,
      button: button.textContent, colour: getComputedStyle(button).backgroundColor,
      meta: root.querySelector("li:not(.spacer) .meta").textContent, total: root.querySelector(".total").textContent,
      live: root.querySelector("[aria-live]").textContent,
    };
  });
  assert.deepEqual(got.types, ["updraft-allcomplete", "updraft-complete", "updraft-statuschange", "updraft-submit"].concat(got.types.includes("updraft-progress") ? ["updraft-progress"] : []).sort());
  assert.match(got.key, /^alice\/[0-9a-f-]{36}\/hallo\.txt$/);
  assert.equal(got.button, "Dateien wählen");
  assert.equal(got.colour, "rgb(150, 20, 90)");
  assert.equal(got.meta, "6 B · Fertig");
  assert.match(got.total, /^1 von 1 fertig · 6 B of 6 B/);
  assert.match(got.live, /hallo\.txt ist gespeichert\./);
  await shot(page, "strings-theme");
  await page.close();
});
