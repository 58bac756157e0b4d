// The package from a bundler: a page importing "updraft" built by Vite (its wasm and
// worker emitted as assets by the `new URL(..., import.meta.url)` pattern), served
// statically and run in Chromium, computes S3's CRC64NVME check value in WebAssembly.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, readdirSync, symlinkSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { browser, MODULES, BIN } from "./harness.mjs";

const PKG = resolve(process.env.UPDRAFT_WEB_PKG ?? join(BIN, "..", "..", "web", "pkg"));

test("vite build of a page importing updraft runs in Chromium (wasm and worker emitted)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "updraft-vite-"));
  const b = await browser();
  let server;
  try {
    mkdirSync(join(dir, "node_modules"));
    symlinkSync(PKG, join(dir, "node_modules", "updraft"));
    writeFileSync(join(dir, "index.html"), '<!doctype html><script type="module" src="./main.js"></script>');
    writeFileSync(join(dir, "main.js"), [
      'import { Uploader, webIdentity, crcOf } from "updraft";',
      'import { oidc } from "updraft/oidc";',
      "globalThis.result = { crc: (await crcOf(new Blob(['123456789']), 'CRC64NVME')).toString(16),",
      "  api: typeof Uploader == 'function' && typeof webIdentity == 'function' && typeof oidc == 'function' };",
    ].join("\n"));
    const { build } = await import(pathToFileURL(join(MODULES, "vite", "dist", "node", "index.js")));
    await build({ root: dir, logLevel: "error", build: { target: "es2022", outDir: join(dir, "dist") } });
    const assets = readdirSync(join(dir, "dist", "assets"));
    assert.ok(assets.some((a) => a.endsWith(".wasm")), `wasm emitted: ${assets}`);
    assert.ok(assets.some((a) => a.startsWith("worker")), `worker emitted: ${assets}`);

    const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" };
    server = createServer((req, res) => {
      const p = join(dir, "dist", req.url == "/" ? "index.html" : req.url.split("?")[0]);
      if (!existsSync(p)) return res.writeHead(404).end();
      res.writeHead(200, { "content-type": types[extname(p)] ?? "application/octet-stream" }).end(readFileSync(p));
    });
    await new Promise((r) => server.listen(0, "127.0.0.1", r));
    const page = await b.newPage();
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    const result = await (await page.waitForFunction(() => globalThis.result)).jsonValue();
    assert.deepEqual(result, { crc: "ae8b14860a799888", api: true });
  } finally {
    server?.close();
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
