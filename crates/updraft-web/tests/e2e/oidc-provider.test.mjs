// The OIDC adapter against npm's oidc-provider (a certified OpenID provider nobody here
// wrote), with the dev STS trusting that issuer: sign in with code + PKCE in a window,
// then upload under the user's own folder with the keys STS gives for its ID token.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { startDev, browser, bytes, get, setup, addFiles, events, waitFor, MODULES as modules } from "./harness.mjs";

test("oidc adapter signs in at oidc-provider; STS trusts it; the upload lands under the user's sub", async () => {
  const { default: Provider } = await import(pathToFileURL(join(modules, "oidc-provider", "lib", "index.js")));
  let handler = (req, res) => res.end();
  const server = createServer((req, res) => handler(req, res));
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const dev = await startDev(`trusted_issuers = ["${issuer}"]`);
  const b = await browser();
  try {
    const provider = new Provider(issuer, {
      clients: [{
        client_id: "updraft-dev", redirect_uris: [`${dev.app_url}/`], token_endpoint_auth_method: "none",
        grant_types: ["authorization_code"], response_types: ["code"],
      }],
      pkce: { required: () => true },
      clientBasedCORS: () => true,
      findAccount: (ctx, id) => ({ accountId: id, claims: () => ({ sub: id, email: `${id}@example.org` }) }),
    });
    handler = provider.callback();

    const page = await b.newPage();
    await page.goto(`${dev.app_url}/`);
    await setup(page);
    const signedIn = page.evaluate(async (issuer) => {
      const { oidc } = await import("/pkg/oidc.js");
      globalThis.op = oidc({ issuer, clientId: "updraft-dev", redirectUri: `${location.origin}/` });
      return op.signIn({ popup: true });
    }, issuer);
    const popup = await page.waitForEvent("popup");
    await popup.waitForURL(`${issuer}/**`);
    await popup.fill("input[name=login]", "carol");
    await popup.fill("input[name=password]", "any");
    await popup.click("button[type=submit]");
    await popup.waitForSelector("button[type=submit]"); // the consent page
    await popup.click("button[type=submit]");
    const claims = await signedIn;
    assert.equal(claims.sub, "carol");
    assert.equal(claims.iss, issuer);

    const path = join(dev.dir, "carol.bin");
    writeFileSync(path, bytes(6 * 1024 * 1024 + 3, 21));
    await page.evaluate(() => T.make("op", { partSize: 5 * 1024 * 1024 }, T.m.webIdentity({
      roleArn: T.config.roleArn, stsEndpoint: T.config.stsEndpoint, token: () => globalThis.op.token(),
    })));
    await addFiles(page, "op", [path]);
    await waitFor(page, "op", "allComplete");
    const ev = await events(page, "op");
    assert.deepEqual(ev.filter((e) => e.type == "error"), []);
    const done = ev.find((e) => e.type == "complete");
    assert.match(done.key, /^carol\//);
    const r = await get(done.location);
    assert.equal(Buffer.compare(r.bytes, bytes(6 * 1024 * 1024 + 3, 21)), 0);
  } finally {
    await b.close();
    await dev.stop();
    server.close();
  }
});
