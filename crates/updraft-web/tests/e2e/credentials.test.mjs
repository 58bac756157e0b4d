// The two other credentials providers: a Cognito identity pool guest (GetId +
// GetCredentialsForIdentity at the dev stack's Cognito), and keys the page already has,
// refreshed through its callback before they expire.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { demoPage, bytes, get, addFiles, events, waitFor, throttle } from "./harness.mjs";

let dev, b, page;
before(async () => {
  ({ dev, b, page } = await demoPage());
});
after(async () => {
  await b?.close();
  await dev?.stop();
});

test("cognitoIdentityPool without logins: a guest uploads under guest/<identity id>/", async () => {
  const path = join(dev.dir, "guest.bin");
  writeFileSync(path, bytes(6 * 1024 * 1024, 41));
  await page.evaluate(() => T.make("guest", { key: "guest/{sub}/{name}", partSize: 5 * 1024 * 1024, acl: undefined },
    T.m.cognitoIdentityPool({ identityPoolId: T.config.identityPoolId, endpoint: T.config.cognitoEndpoint })));
  await addFiles(page, "guest", [path]);
  await waitFor(page, "guest", "allComplete");
  const ev = await events(page, "guest");
  assert.deepEqual(ev.filter((e) => e.type == "error"), []);
  const done = ev.find((e) => e.type == "complete");
  assert.match(done.key, /^guest\/us-east-1:[0-9a-f-]+\/guest\.bin$/);
  // Private object: read it back as the admin.
  const { aws } = await import("./harness.mjs");
  const head = aws(dev, ["s3api", "head-object", "--bucket", dev.bucket, "--key", done.key]);
  assert.equal(head.ContentLength, 6 * 1024 * 1024);
});

test("staticCredentials: the refresh callback gives new keys before the old ones expire", async () => {
  const path = join(dev.dir, "static.bin");
  writeFileSync(path, bytes(24 * 1024 * 1024, 42));
  const cdp = await throttle(page, 6 * 1024 * 1024);
  try {
    await page.evaluate(([id, secret]) => {
      const keys = () => ({ accessKeyId: id, secretAccessKey: secret, expiration: new Date(Date.now() + 3000) });
      T.refreshes = 0;
      T.make("static", { partSize: 5 * 1024 * 1024, concurrency: 2 }, T.m.staticCredentials(keys(), {
        sub: "admin",
        refresh: async () => (T.refreshes++, keys()),
      }));
    }, [dev.admin_access_key_id, dev.admin_secret_access_key]);
    await addFiles(page, "static", [path]);
    await waitFor(page, "static", "allComplete");
  } finally {
    await throttle(page, -1);
    await cdp.detach();
  }
  const ev = await events(page, "static");
  assert.deepEqual(ev.filter((e) => e.type == "error" || e.type == "credentialsExpired"), []);
  assert.ok((await page.evaluate(() => T.refreshes)) >= 1, "refreshed at least once over a 4 s upload of 3 s keys");
  const done = ev.find((e) => e.type == "complete");
  assert.match(done.key, /^admin\//);
  assert.equal(Buffer.compare((await get(done.location)).bytes, bytes(24 * 1024 * 1024, 42)), 0);
});
