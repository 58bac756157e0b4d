// The public API in headless Chromium against `updraft dev`, signed in through the dev
// issuer's real code + PKCE flow (issue 7). The store's view is read back with the AWS
// CLI or anonymous GETs of public-read objects, never through updraft.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startDev, browser, signIn, bytes, get, aws, setup, addFiles, events, waitFor, throttle } from "./harness.mjs";

const MiB = 1024 * 1024;
let dev, b, page;
const file = (name, size, seed) => {
  const path = join(dev.dir, name);
  writeFileSync(path, bytes(size, seed));
  return path;
};
const sameBytes = async (url, path) => {
  const r = await get(url);
  assert.equal(r.status, 200, `GET ${url}`);
  assert.equal(r.bytes.length, readFileSync(path).length, `length of ${url}`);
  assert.equal(Buffer.compare(r.bytes, readFileSync(path)), 0, `bytes of ${url}`);
};
// Part numbers of the UploadPart requests the page sends.
let partsSent = [];
// POST Object forms the page sends to the bucket URL.
let forms = 0;
// The host of each POST form (issue 17: `formUrls` spreads them over host names).
let formHosts = [];

before(async () => {
  dev = await startDev("min_session_seconds = 1");
  b = await browser();
  page = await b.newPage();
  page.on("request", (r) => {
    const m = /[?&]partNumber=(\d+)/.exec(r.url());
    if (m && r.method() == "PUT") partsSent.push(Number(m[1]));
    if (r.method() == "POST" && r.url() == `${dev.s3_endpoint}/${dev.bucket}`) forms++;
    const u = new URL(r.url());
    if (r.method() == "POST" && !u.search && (u.pathname == `/${dev.bucket}` || u.hostname.startsWith(`${dev.bucket}.`))) formHosts.push(u.host);
  });
  await signIn(page, dev, "alice");
  await setup(page);
});

after(async () => {
  await b?.close();
  await dev?.stop();
});

test("0 B, 1 B, 5 MiB - 1, 5 MiB, 5 MiB + 1 and 64 MiB arrive byte for byte", async () => {
  const paths = [
    file("empty.bin", 0, 1), file("one.bin", 1, 2), file("five-minus.bin", 5 * MiB - 1, 3),
    file("five.bin", 5 * MiB, 4), file("five-plus.bin", 5 * MiB + 1, 5), file("sixty-four.bin", 64 * MiB, 6),
  ];
  await page.evaluate(() => T.make("sizes", { partSize: 5 * 1024 * 1024 }));
  forms = 0;
  const ids = await addFiles(page, "sizes", paths);
  assert.equal(ids.length, 6);
  await waitFor(page, "sizes", "allComplete");
  const ev = await events(page, "sizes");
  assert.deepEqual(ev.filter((e) => e.type == "error"), []);
  const done = ev.filter((e) => e.type == "complete");
  assert.equal(done.length, 6);
  for (const [i, path] of paths.entries()) {
    const c = done.find((e) => e.id == ids[i]);
    assert.match(c.key, /^alice\/[0-9a-f-]{36}\//);
    assert.ok(c.checksum, `a whole-object checksum for ${path}`);
    assert.match(c.etag, /^"[0-9a-f]{32}(-\d+)?"$/, `the ETag of ${path}`);
    await sameBytes(c.location, path);
  }
  assert.equal(forms, 2, "0 B and 1 B went as POST forms (no preflight), the rest as PUTs");
});

test("pause stops sending, resume finishes, the bytes are the file's", async () => {
  const path = file("pause.bin", 64 * MiB, 7);
  const cdp = await throttle(page, 16 * MiB);
  try {
    await page.evaluate(() => T.make("pause", { partSize: 5 * 1024 * 1024, concurrency: 2 }));
    const [id] = await addFiles(page, "pause", [path]);
    await page.waitForFunction(() => T.u.pause.events.some((e) => e.type == "progress" && e.sent > 12 * 1024 * 1024), null, { polling: 50 });
    await page.evaluate((id) => T.u.pause.up.pause(id), id);
    await waitFor(page, "pause", "statusChange", (e) => e.status == "paused");
    await new Promise((r) => setTimeout(r, 2500)); // requests in flight finish
    const settled = partsSent.length;
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(partsSent.length, settled, "no part is sent while paused");
    assert.equal(await page.evaluate((id) => T.u.pause.up.status(id), id), "paused");
    await page.evaluate((id) => T.u.pause.up.resume(id), id);
    await waitFor(page, "pause", "complete");
    const c = (await events(page, "pause")).find((e) => e.type == "complete");
    await sameBytes(c.location, path);
  } finally {
    await throttle(page, -1);
    await cdp.detach();
  }
});

test("going offline pauses the upload, coming back online finishes it", async () => {
  const path = file("offline.bin", 32 * MiB, 14);
  const cdp = await throttle(page, 8 * MiB);
  try {
    await page.evaluate(() => T.make("offline", { partSize: 5 * 1024 * 1024, concurrency: 2 }));
    const [id] = await addFiles(page, "offline", [path]);
    await page.waitForFunction(() => T.u.offline.events.some((e) => e.type == "progress" && e.sent > 6 * 1024 * 1024), null, { polling: 50 });
    await page.context().setOffline(true);
    await waitFor(page, "offline", "statusChange", (e) => e.status == "paused");
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await page.evaluate((id) => T.u.offline.up.status(id), id), "paused");
    await page.context().setOffline(false);
    await waitFor(page, "offline", "complete");
  } finally {
    await page.context().setOffline(false);
    await throttle(page, -1);
    await cdp.detach();
  }
  const ev = await events(page, "offline");
  assert.deepEqual(ev.filter((e) => e.type == "error"), []);
  await sameBytes(ev.find((e) => e.type == "complete").location, path);
});

test("a part whose connection stalls is abandoned and sent again", async () => {
  const path = file("stall.bin", 12 * MiB, 15);
  let held = 0;
  // The first request for part 2 gets no answer, ever: the connection hangs.
  await page.route(/partNumber=2&/, (route) => {
    if (held++ == 0) return; // neither continued nor fulfilled
    route.continue();
  });
  try {
    await page.evaluate(() => T.make("stall", { partSize: 5 * 1024 * 1024, stallTimeout: 2000 }));
    await addFiles(page, "stall", [path]);
    await waitFor(page, "stall", "allComplete", () => true, 60_000);
  } finally {
    await page.unroute(/partNumber=2&/);
  }
  const ev = await events(page, "stall");
  assert.deepEqual(ev.filter((e) => e.type == "error"), []);
  assert.equal(held, 2, "part 2 was sent twice");
  await sameBytes(ev.find((e) => e.type == "complete").location, path);
});

test("cancel aborts the multipart upload: none is left (ListMultipartUploads)", async () => {
  const path = file("cancel.bin", 64 * MiB, 8);
  const cdp = await throttle(page, 16 * MiB);
  try {
    await page.evaluate(() => T.make("cancel", { partSize: 5 * 1024 * 1024, concurrency: 2, key: "{sub}/cancel/{name}" }));
    const [id] = await addFiles(page, "cancel", [path]);
    await page.waitForFunction(() => T.u.cancel.events.some((e) => e.type == "progress" && e.sent > 8 * 1024 * 1024), null, { polling: 50 });
    const before = aws(dev, ["s3api", "list-multipart-uploads", "--bucket", dev.bucket, "--prefix", "alice/cancel/"]);
    assert.equal(before?.Uploads?.length, 1, "the upload is multipart and in progress");
    await page.evaluate((id) => T.u.cancel.up.cancel(id), id);
    await waitFor(page, "cancel", "statusChange", (e) => e.status == "cancelled");
    const left = aws(dev, ["s3api", "list-multipart-uploads", "--bucket", dev.bucket, "--prefix", "alice/cancel/"]);
    assert.equal(left?.Uploads?.length ?? 0, 0, `uploads left: ${JSON.stringify(left)}`);
    const gone = await get(`${dev.s3_endpoint}/${dev.bucket}/alice/cancel/cancel.bin`);
    assert.notEqual(gone.status, 200, "no object was stored");
  } finally {
    await throttle(page, -1);
    await cdp.detach();
  }
});

test("r15: a file that cannot be read any more fails, naming it, and its multipart upload stays for a resume", async () => {
  const path = file("read-error.bin", 64 * MiB, 12);
  const cdp = await throttle(page, 16 * MiB);
  try {
    await page.evaluate(() => T.make("unread", { partSize: 5 * 1024 * 1024, concurrency: 2, key: "{sub}/unread/{name}" }));
    const [id] = await addFiles(page, "unread", [path]);
    // Two 5 MiB parts at most are in flight: past 11 MiB at least one part is stored.
    await page.waitForFunction(() => T.u.unread.events.some((e) => e.type == "progress" && e.sent > 11 * 1024 * 1024), null, { polling: 50 });
    // The file changes on disk: Chromium refuses to read the File it picked (NotReadableError).
    writeFileSync(path, bytes(MiB, 13));
    await waitFor(page, "unread", "statusChange", (e) => e.status == "failed");
    const ev = await events(page, "unread");
    const error = ev.find((e) => e.type == "error");
    assert.match(error?.message ?? "", /read-error\.bin.*could not be read/s, JSON.stringify(ev));
    assert.equal(ev.filter((e) => e.type == "statusChange" && e.status == "cancelled").length, 0, "not cancelled");
    const left = aws(dev, ["s3api", "list-multipart-uploads", "--bucket", dev.bucket, "--prefix", "alice/unread/"]);
    assert.equal(left?.Uploads?.length, 1, `the upload stays: ${JSON.stringify(left)}`);
    const listed = await page.evaluate(() => T.u.unread.up.resumable());
    assert.ok(listed.some((r) => r.name == "read-error.bin" && r.partsDone >= 1), JSON.stringify(listed));
    await page.evaluate((id) => T.u.unread.up.cancel(id), id);
    await waitFor(page, "unread", "statusChange", (e) => e.status == "cancelled");
  } finally {
    await throttle(page, -1);
    await cdp.detach();
  }
});

test("reload mid-upload, sign in again, add the file again: only the missing parts are sent (r15: a name with | and %)", async () => {
  // `|` separates the fields of the record's storage key: resumable() used to cut the
  // name at it (issue 15).
  const path = file("re|lo%7Cad.bin", 64 * MiB, 9);
  const cdp = await throttle(page, 16 * MiB);
  let record;
  try {
    await page.evaluate(() => T.make("reload", { partSize: 5 * 1024 * 1024, concurrency: 2 }));
    await addFiles(page, "reload", [path]);
    const handle = await page.waitForFunction(() => {
      for (let i = 0; i < localStorage.length; i++) {
        const k = localStorage.key(i);
        if (k.startsWith("updraft:re%7Clo%257Cad.bin|")) {
          const r = JSON.parse(localStorage.getItem(k));
          if (r.parts.length >= 4) return r;
        }
      }
      return null;
    }, null, { polling: 20 });
    record = await handle.jsonValue();
    const stored = JSON.stringify(await page.evaluate(() => ({ ...localStorage })));
    for (const secret of [dev.admin_secret_access_key, "Signature", "X-Amz-Security-Token", "eyJ"]) {
      assert.ok(!stored.includes(secret), `localStorage holds no secret (${secret.slice(0, 12)}…)`);
    }
    await page.reload();
  } finally {
    await cdp.detach();
  }
  // The reload ended the sign-in (the token lives in memory): sign in again, as a user would.
  await signIn(page, dev, "alice");
  await setup(page);
  const resumable = await page.evaluate(() => new T.m.Uploader({ bucket: T.config.bucket, credentials: T.m.staticCredentials({}) }).resumable());
  const entry = resumable.find((r) => r.name == "re|lo%7Cad.bin");
  assert.ok(entry, `resumable() lists the upload: ${JSON.stringify(resumable)}`);
  assert.equal(entry.key, record.key);
  partsSent = [];
  await page.evaluate(() => T.make("reload2", { partSize: 5 * 1024 * 1024, concurrency: 2 }));
  await addFiles(page, "reload2", [path]);
  await waitFor(page, "reload2", "complete");
  const done = (await events(page, "reload2")).find((e) => e.type == "complete");
  assert.equal(done.key, record.key, "the same object, continued");
  const recorded = record.parts.map((p) => p.number);
  assert.deepEqual(partsSent.filter((n) => recorded.includes(n)), [], `parts ${recorded} were stored before the reload`);
  assert.ok(partsSent.length <= 13 - recorded.length, `sent ${partsSent} after the reload`);
  await sameBytes(done.location, path);
  assert.equal(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("updraft:re%7Clo%257Cad.bin|")).length), 0, "the record is gone once complete");
});

test("temporary keys that expire mid-upload are refreshed silently", async () => {
  const path = file("refresh.bin", 48 * MiB, 10);
  let sts = 0;
  const count = (r) => {
    if (r.method() == "POST" && (r.postData() ?? "").includes("AssumeRoleWithWebIdentity")) sts++;
  };
  page.on("request", count);
  const cdp = await throttle(page, 12 * MiB);
  try {
    await page.evaluate(() => T.make("refresh", { partSize: 5 * 1024 * 1024, concurrency: 2, durationSeconds: 2 }));
    await addFiles(page, "refresh", [path]);
    await waitFor(page, "refresh", "complete");
  } finally {
    page.off("request", count);
    await throttle(page, -1);
    await cdp.detach();
  }
  const ev = await events(page, "refresh");
  assert.deepEqual(ev.filter((e) => e.type == "error" || e.type == "credentialsExpired"), []);
  assert.ok(sts >= 3, `keys lasting 2 s over a 4 s upload were fetched ${sts} times`);
  await sameBytes(ev.find((e) => e.type == "complete").location, path);
});

test("an expired sign-in fires credentialsExpired, uploads wait, and finish after signing in again", async () => {
  const path = file("expired.bin", 40 * MiB, 11);
  const cdp = await throttle(page, 8 * MiB);
  try {
    await page.evaluate(async () => {
      T.token = await globalThis.updraftDemo.auth.token();
      T.make("expired", { partSize: 5 * 1024 * 1024, concurrency: 2, durationSeconds: 2 });
    });
    const [id] = await addFiles(page, "expired", [path]);
    await page.waitForFunction(() => T.u.expired.events.some((e) => e.type == "progress" && e.sent > 5 * 1024 * 1024), null, { polling: 50 });
    await page.evaluate(() => (T.token = "")); // signed out: the token function has none
    await waitFor(page, "expired", "credentialsExpired");
    await new Promise((r) => setTimeout(r, 3000));
    assert.notEqual(await page.evaluate((id) => T.u.expired.up.status(id), id), "failed", "the upload waits");
    await throttle(page, -1);
    // Sign in again in a window, through the dev issuer's real page.
    const signedIn = page.evaluate(() => globalThis.updraftDemo.auth.signIn({ popup: true }));
    const popup = await page.waitForEvent("popup");
    await popup.waitForURL(`${dev.issuer}/**`);
    await popup.locator("input:visible").first().fill("alice");
    await popup.keyboard.press("Enter");
    const claims = await signedIn;
    assert.equal(claims.sub, "alice");
    await page.evaluate(() => {
      T.token = null;
      return T.u.expired.up.refreshCredentials();
    });
    await waitFor(page, "expired", "complete");
  } finally {
    await cdp.detach();
  }
  const ev = await events(page, "expired");
  assert.equal(ev.filter((e) => e.type == "credentialsExpired").length, 1);
  assert.deepEqual(ev.filter((e) => e.type == "error"), []);
  await sameBytes(ev.find((e) => e.type == "complete").location, path);
});

test("r15: a misspelt option is refused, naming it and the option meant", async () => {
  const message = await page.evaluate(async () => {
    const u = new T.m.Uploader({ bucket: T.config.bucket, credentials: T.m.staticCredentials({}), partsize: 5 * 1024 * 1024 });
    try {
      await u.add([]);
      return "no error";
    } catch (e) {
      return e.message;
    }
  });
  assert.match(message, /unknown option `partsize`; did you mean `partSize`\?/);
});

test("writing outside ${sub}/ fails with a clear AccessDenied naming the key", async () => {
  const path = file("elsewhere.txt", 1000, 12);
  await page.evaluate(() => T.make("denied", { key: "bob/{name}" }));
  await addFiles(page, "denied", [path]);
  await waitFor(page, "denied", "error");
  const e = (await events(page, "denied")).find((e) => e.type == "error");
  assert.equal(e.key, "bob/elsewhere.txt");
  assert.match(e.message, /AccessDenied|denied/i);
  assert.match(e.message, /bob\/elsewhere\.txt/);
  assert.equal((await get(`${dev.s3_endpoint}/${dev.bucket}/bob/elsewhere.txt`)).status == 200, false);
});

test("a bucket whose CORS hides ETag gives the error that says what to add; after the fix, retry() finishes", async () => {
  aws(dev, ["s3api", "put-bucket-cors", "--bucket", dev.bucket, "--cors-configuration", JSON.stringify({
    CORSRules: [{ AllowedOrigins: [dev.app_url], AllowedMethods: ["GET", "PUT", "POST", "DELETE", "HEAD"], AllowedHeaders: ["*"] }],
  })]);
  const path = file("hidden-etag.bin", 6 * MiB, 13);
  await page.evaluate(() => T.make("etag", { partSize: 5 * 1024 * 1024 }));
  await addFiles(page, "etag", [path]);
  await waitFor(page, "etag", "error");
  const e = (await events(page, "etag")).find((e) => e.type == "error");
  assert.match(e.message, /<ExposeHeader>ETag<\/ExposeHeader>/);
  // The owner fixes the bucket's CORS as told; retry() then finishes the same file.
  aws(dev, ["s3api", "put-bucket-cors", "--bucket", dev.bucket, "--cors-configuration", JSON.stringify({
    CORSRules: [{ AllowedOrigins: [dev.app_url], AllowedMethods: ["GET", "PUT", "POST", "DELETE", "HEAD"], AllowedHeaders: ["*"], ExposeHeaders: ["ETag"] }],
  })]);
  await page.evaluate((id) => T.u.etag.up.retry(id), e.id);
  await waitFor(page, "etag", "complete");
  await sameBytes((await events(page, "etag")).find((e) => e.type == "complete").location, path);
});

test("r13 list, link and delete: a private upload is listed, read only through its link, and deleted as the store sees it", async () => {
  const paths = [file("own-a.txt", 3000, 21), file("own-b.txt", 5000, 22)];
  await page.evaluate(() => T.make("own", { acl: "private", postMaxSize: 0 }));
  const ids = await addFiles(page, "own", paths);
  await waitFor(page, "own", "allComplete");
  const done = (await events(page, "own")).filter((e) => e.type == "complete");
  const key = (i) => done.find((e) => e.id == ids[i]).key;
  assert.equal(done.length, 2);

  const seen = await page.evaluate(async (keys) => {
    const up = T.u.own.up;
    const page1 = await up.list();
    return {
      prefix: await up.prefix(),
      mine: page1.objects.filter((o) => keys.includes(o.key)),
      next: page1.next,
      links: await Promise.all(keys.map((k) => up.link(k))),
      short: await up.link(keys[0], { expiresIn: 60 }),
    };
  }, [key(0), key(1)]);
  assert.equal(seen.prefix, "alice/");
  assert.deepEqual(seen.mine.map((o) => [o.key, o.size]).sort(), [[key(0), 3000], [key(1), 5000]].sort());
  assert.ok(seen.mine.every((o) => /^"[0-9a-f]{32}"$/.test(o.etag) && !isNaN(new Date(o.lastModified))), JSON.stringify(seen.mine));
  assert.equal(seen.next, undefined, "all of alice's objects fit one page");
  // Private: a plain GET is refused, the presigned link reads the bytes.
  assert.equal((await get(`${dev.s3_endpoint}/${dev.bucket}/${key(0)}`)).status, 403);
  await sameBytes(seen.links[0], paths[0]);
  await sameBytes(seen.links[1], paths[1]);
  assert.match(seen.short, /X-Amz-Expires=60&/);

  await page.evaluate((k) => T.u.own.up.delete(k), key(0));
  const stored = aws(dev, ["s3api", "list-objects-v2", "--bucket", dev.bucket, "--prefix", "alice/"]);
  const storedKeys = (stored?.Contents ?? []).map((o) => o.Key);
  assert.ok(!storedKeys.includes(key(0)), "the deleted object is gone from the store");
  assert.ok(storedKeys.includes(key(1)), "the other stays");
  assert.equal((await get(seen.links[0])).status, 404, "its link now finds nothing");

  const refused = await page.evaluate(async () => {
    const up = T.u.own.up, out = {};
    for (const [name, f] of [["list", () => up.list({ prefix: "bob/" })], ["link", () => up.link("alice/x", { expiresIn: 0 })], ["delete", () => up.delete("bob/x.txt")]]) {
      try {
        await f();
        out[name] = "no error";
      } catch (e) {
        out[name] = e.message;
      }
    }
    return out;
  });
  assert.match(refused.list, /AccessDenied|denied/i);
  assert.match(refused.list, new RegExp(dev.bucket));
  assert.match(refused.link, /1 to 604800 seconds/);
  assert.match(refused.delete, /AccessDenied|denied/i);
  assert.match(refused.delete, /bob\/x\.txt/);
});

test("r13: requests and checksums go in the package's worker; a page without Web Workers sends them itself, byte for byte", async () => {
  const paths = [file("small-worker.bin", 300 * 1024, 31), file("big-worker.bin", 11 * MiB, 32)];
  for (const p of [page, await b.newPage()]) {
    const bare = p != page;
    if (bare) {
      await p.addInitScript(() => delete globalThis.Worker);
      await signIn(p, dev, "alice");
      await setup(p);
    }
    await p.evaluate(() => {
      // XHRs the page itself sends (the worker's are its own).
      globalThis.sends = 0;
      const send = XMLHttpRequest.prototype.send;
      XMLHttpRequest.prototype.send = function (...a) { sends++; return send.apply(this, a); };
      T.make("worker", { partSize: 5 * 1024 * 1024 });
    });
    const ids = await addFiles(p, "worker", paths);
    await waitFor(p, "worker", "allComplete");
    const ev = await events(p, "worker");
    assert.deepEqual(ev.filter((e) => e.type == "error"), []);
    for (const [i, path] of paths.entries()) await sameBytes(ev.find((e) => e.type == "complete" && e.id == ids[i]).location, path);
    const progress = await p.evaluate(() => T.u.worker.events.filter((e) => e.type == "progress" && e.id != null).length);
    assert.ok(progress > 0, "progress events");
    const workers = p.workers().map((w) => w.url()), sends = await p.evaluate(() => sends);
    assert.equal(sends > 0, bare, `XHRs sent by the page itself: ${sends}`);
    if (bare) {
      assert.deepEqual(workers, []);
      await p.close();
    } else assert.ok(workers.some((u) => u.endsWith("/worker.js")), `workers: ${workers}`);
  }
});

test("r17: formUrls spreads small files' forms over three host names of the bucket, each stored byte for byte", async () => {
  const port = new URL(dev.s3_endpoint).port;
  const paths = Array.from({ length: 18 }, (_, i) => file(`spread-${i}.bin`, 1000 + i * 4096, 170 + i));
  const formUrls = [`http://localhost:${port}/${dev.bucket}`, `http://${dev.bucket}.localhost:${port}`];
  await page.evaluate((formUrls) => T.make("spread", { formUrls, concurrency: 2 }), formUrls);
  formHosts = [];
  const ids = await addFiles(page, "spread", paths);
  await waitFor(page, "spread", "allComplete");
  const ev = await events(page, "spread");
  assert.deepEqual(ev.filter((e) => e.type == "error"), []);
  for (const [i, path] of paths.entries()) await sameBytes(ev.find((e) => e.type == "complete" && e.id == ids[i]).location, path);
  const hosts = {};
  for (const h of formHosts) hosts[h] = (hosts[h] ?? 0) + 1;
  const expected = [new URL(dev.s3_endpoint).host, `localhost:${port}`, `${dev.bucket}.localhost:${port}`];
  assert.deepEqual(Object.keys(hosts).sort(), expected.sort(), `forms by host: ${JSON.stringify(hosts)}`);
  assert.equal(formHosts.length, 18, `one form a file: ${JSON.stringify(hosts)}`);
  // A URL that is not one is refused, naming the option.
  const refused = await page.evaluate(async () => {
    const u = new T.m.Uploader({ bucket: T.config.bucket, credentials: T.m.staticCredentials({}), formUrls: ["ftp://example.com/b"] });
    return u.add([]).then(() => "no error", (e) => e.message);
  });
  assert.match(refused, /`formUrls`: ftp:\/\/example\.com\/b is not a URL of the bucket \(https:\/\/host\[:port\]\[\/path\]\)/);
});
