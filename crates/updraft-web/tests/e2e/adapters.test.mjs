// Google Identity Services, Login with Amazon and Facebook Login cannot load here (no
// internet, no accounts): these tests give each adapter a STAND-IN for the provider's
// SDK object — the outermost boundary, and the only fake in these tests. Everything
// behind it is real: the adapter, the Uploader, Chromium, and the dev STS.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { demoPage, bytes, get, addFiles, events, waitFor } from "./harness.mjs";

let dev, b, page;
before(async () => {
  ({ dev, b, page } = await demoPage());
});
after(async () => {
  await b?.close();
  await dev?.stop();
});

test("google: the ID token from a stand-in GIS goes to STS as is and the upload lands", async () => {
  // A real ID token of the dev issuer plays the one Google would give.
  const token = dev.token("dave");
  const path = join(dev.dir, "g.txt");
  writeFileSync(path, bytes(3000, 31));
  const claims = await page.evaluate(async (token) => {
    const { google } = await import("/pkg/google.js");
    let callback;
    const gsi = { accounts: { id: { initialize: (o) => (callback = o.callback), prompt: () => setTimeout(() => callback({ credential: token })) } } };
    const g = google({ clientId: "updraft-dev", gsi });
    await g.signIn();
    T.make("google", {}, T.m.webIdentity({ roleArn: T.config.roleArn, stsEndpoint: T.config.stsEndpoint, token: g.token, providerId: g.providerId }));
    return JSON.parse(atob((await g.token()).split(".")[1]));
  }, token);
  assert.equal(claims.sub, "dave");
  await addFiles(page, "google", [path]);
  await waitFor(page, "google", "allComplete");
  const done = (await events(page, "google")).find((e) => e.type == "complete");
  assert.match(done?.key ?? "", /^dave\//);
  assert.equal(Buffer.compare((await get(done.location)).bytes, bytes(3000, 31)), 0);
});

for (const [name, providerId, sdk] of [
  ["amazon", "www.amazon.com", "({ Login: { authorize: (o, cb) => setTimeout(() => cb({ access_token: 'Atza|stand-in', expires_in: 3600 })) } })"],
  ["facebook", "graph.facebook.com", "({ login: (cb) => setTimeout(() => cb({ status: 'connected', authResponse: { accessToken: 'EAAB-stand-in', expiresIn: 3600 } })) })"],
]) {
  test(`${name}: the access token from a stand-in SDK goes to STS with ProviderId=${providerId}; a refusal is reported, not thrown`, async () => {
    const sts = [];
    const seen = (r) => r.method() == "POST" && (r.postData() ?? "").includes("AssumeRoleWithWebIdentity") && sts.push(new URLSearchParams(r.postData()));
    page.on("request", seen);
    try {
      const path = join(dev.dir, `${name}.txt`);
      writeFileSync(path, "x");
      const got = await page.evaluate(async ([name, sdk]) => {
        const mod = await import(`/pkg/${name}.js`);
        const a = mod[name]({ sdk: eval(sdk) });
        const token = await a.signIn();
        T.make(name, {}, T.m.webIdentity({ roleArn: T.config.roleArn, stsEndpoint: T.config.stsEndpoint, token: a.token, providerId: a.providerId }));
        return { token, providerId: a.providerId };
      }, [name, sdk]);
      assert.equal(got.providerId, providerId);
      const ids = await page.evaluate(async (name) => {
        const ids = await T.u[name].up.add([new File(["x"], "x.txt")]);
        T.u[name].up.start();
        return ids;
      }, name);
      assert.equal(ids.length, 0, "no file is queued without credentials");
      await waitFor(page, name, "error");
      const e = (await events(page, name)).find((e) => e.type == "error");
      // The dev STS trusts no Amazon or Facebook: it refuses, and the page hears why.
      assert.match(e.message, /^x\.txt was not added: no credentials \(.*(STS|token).*\); sign in, then add it again$/);
      assert.equal((await page.evaluate((name) => T.u[name].events.filter((e) => e.type == "credentialsExpired").length, name)), 1);
      assert.equal(sts.length, 1);
      assert.equal(sts[0].get("ProviderId"), providerId);
      assert.equal(sts[0].get("WebIdentityToken"), got.token);
    } finally {
      page.off("request", seen);
    }
  });
}
