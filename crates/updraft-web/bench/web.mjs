// `cargo xtask bench web`: upload throughput in one headless Chromium against one
// `updraft dev`, same files (in-page Blobs), same concurrency (6) and part size (8 MiB),
// each case run RUNS times; prints the median and the ratio to the best peer.
//   updraft            the package's Uploader (POST forms up to 1 MiB, PUT above,
//                      multipart for large files, CRC64NVME per part), the same with PUT
//                      only, and without checksums (the peers send none)
//   aws-sdk lib-storage the AWS SDK v3's Upload (queueSize 6), one file at a time as its
//                      docs show, small files six at a time
//   POST form          small files only: POST-policy forms (no preflight), six at a time
//   Uppy               Uppy 6 with AwsS3 signing in the page (getCredentials), limit 6 files
//                      at once; multipart above 8 MiB, but a file's parts go one at a time;
//                      small files by its default, one presigned PUT each
import { createServer } from "node:http";
import { readFileSync, existsSync, openSync, writeSync, closeSync } from "node:fs";
import { randomFillSync } from "node:crypto";
import { join, extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { startDev, browser, MODULES } from "../tests/e2e/harness.mjs";

const PKG = resolve(process.env.UPDRAFT_WEB_PKG);
const PEERS = resolve(process.env.UPDRAFT_BENCH_PEERS);
const RUNS = Number(process.env.UPDRAFT_BENCH_RUNS ?? 3);
const BIG_MIB = Number(process.env.UPDRAFT_BENCH_BIG_MIB ?? 256);
const SMALL = { n: 200, size: 16 * 1024 };
const MEDIUM = { n: 40, size: 1024 * 1024 };

const dev = await startDev();
// A failed run still stops its `updraft dev`.
process.on("uncaughtException", async (e) => {
  console.error(e);
  await dev.stop().catch(() => {});
  process.exit(1);
});
process.on("unhandledRejection", (e) => {
  throw e;
});
const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" };
const server = createServer((req, res) => {
  const url = req.url.split("?")[0];
  const p = url == "/" ? null : url == "/peers.js" ? PEERS : url.startsWith("/pkg/") ? join(PKG, url.slice(5)) : null;
  if (url == "/") return res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>bench</title>");
  if (!p || !existsSync(p)) return res.writeHead(404).end();
  res.writeHead(200, { "content-type": types[extname(p)] ?? "application/octet-stream" }).end(readFileSync(p));
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const origin = `http://127.0.0.1:${server.address().port}`;

const { S3Client, PutBucketCorsCommand } = await import(pathToFileURL(join(MODULES, "@aws-sdk", "client-s3", "dist-cjs", "index.js")));
const admin = new S3Client({ region: dev.region, endpoint: dev.s3_endpoint, forcePathStyle: true, credentials: { accessKeyId: dev.admin_access_key_id, secretAccessKey: dev.admin_secret_access_key } });
await admin.send(new PutBucketCorsCommand({ Bucket: dev.bucket, CORSConfiguration: { CORSRules: [{ AllowedOrigins: [origin], AllowedMethods: ["GET", "PUT", "POST", "DELETE", "HEAD"], AllowedHeaders: ["*"], ExposeHeaders: ["ETag"], MaxAgeSeconds: 3000 }] } }));

// The large file on disk, chosen through a file input as a user would: a disk-backed File
// (Chromium refuses to read back very large in-memory Blobs).
const bigPath = join(dev.dir, "big.bin");
{
  const fd = openSync(bigPath, "w");
  const chunk = Buffer.alloc(8 << 20);
  for (let i = 0; i < BIG_MIB / 8; i++) writeSync(fd, randomFillSync(chunk));
  closeSync(fd);
}
const b = await browser();
const page = await b.newPage();
await page.goto(`${origin}/`);
await page.evaluate(() => {
  const i = document.createElement("input");
  i.type = "file";
  i.id = "big";
  document.body.append(i);
});
await page.setInputFiles("#big", bigPath);
await page.evaluate(async ([dev, big, small, medium]) => {
  const [u, peers] = await Promise.all([import("/pkg/updraft.js"), import("/peers.js")]);
  const random = (size) => {
    const a = new Uint8Array(size);
    for (let i = 0; i < size; i += 65536) crypto.getRandomValues(a.subarray(i, Math.min(size, i + 65536)));
    return a;
  };
  const bigFile = document.getElementById("big").files[0];
  const smallFiles = Array.from({ length: small.n }, (_, i) => new File([random(small.size)], `s${i}.bin`, { lastModified: 1 }));
  const mediumFiles = Array.from({ length: medium.n }, (_, i) => new File([random(medium.size)], `m${i}.bin`, { lastModified: 1 }));
  const keys = { accessKeyId: dev.admin_access_key_id, secretAccessKey: dev.admin_secret_access_key };
  const client = new peers.S3Client({ region: dev.region, endpoint: dev.s3_endpoint, forcePathStyle: true, credentials: keys });
  let run = 0;
  const pool = async (items, n, f) => {
    let next = 0;
    await Promise.all(Array.from({ length: n }, async () => { while (next < items.length) await f(items[next++]); }));
  };
  globalThis.bench = {
    updraft: (files) => bench.run(files, {}),
    updraftPut: (files) => bench.run(files, { postMaxSize: 0 }),
    updraftNoCrc: (files) => bench.run(files, { checksum: "none" }),
    async run(files, extra) {
      const up = new u.Uploader({ ...extra, bucket: dev.bucket, region: dev.region, endpoint: dev.s3_endpoint, pathStyle: true, concurrency: 6, partSize: 8 * 1024 * 1024,
        key: `bench/u${++run}/{name}`, credentials: u.staticCredentials(keys, { sub: "bench" }) });
      const done = new Promise((ok, fail) => { up.on("allComplete", (s) => (s.failed ? fail(new Error("failed")) : ok())); up.on("error", (e) => fail(new Error(e.message))); });
      const t = performance.now();
      await up.add(files);
      up.start();
      await done;
      return performance.now() - t;
    },
    async sdk(files) {
      const t = performance.now();
      const prefix = `bench/s${++run}/`;
      await pool(files, files.length > 1 ? 6 : 1, (f) => new peers.Upload({ client, queueSize: 6, partSize: 8 * 1024 * 1024, params: { Bucket: dev.bucket, Key: prefix + f.name, Body: f } }).done());
      return performance.now() - t;
    },
    async post(files) {
      const t = performance.now();
      const prefix = `bench/p${++run}/`;
      await pool(files, 6, async (f) => {
        const { url, fields } = await peers.createPresignedPost(client, { Bucket: dev.bucket, Key: prefix + f.name, Expires: 600 });
        const form = new FormData();
        for (const [k, v] of Object.entries(fields)) form.append(k, v);
        form.append("file", f);
        const r = await fetch(url, { method: "POST", body: form });
        if (!r.ok) throw new Error(`POST ${r.status}`);
      });
      return performance.now() - t;
    },
    async uppy(files) {
      const prefix = `bench/y${++run}/`;
      const uppy = new peers.Uppy().use(peers.AwsS3, { s3Endpoint: `${dev.s3_endpoint}/${dev.bucket}`, region: dev.region, limit: 6,
        getCredentials: () => ({ credentials: keys, region: dev.region }), shouldUseMultipart: (f) => f.size > 8 * 1024 * 1024,
        getChunkSize: () => 8 * 1024 * 1024, generateObjectKey: (f) => prefix + f.name });
      const t = performance.now();
      uppy.addFiles(files.map((f) => ({ name: f.name, type: f.type, data: f, source: "Local" })));
      const r = await uppy.upload();
      const ms = performance.now() - t;
      uppy.destroy();
      if (r.failed.length || r.successful.length != files.length) throw new Error(`uppy: ${r.failed.length} failed: ${r.failed[0]?.error}`);
      return ms;
    },
    files: { big: [bigFile], small: smallFiles, medium: mediumFiles },
  };
}, [{ region: dev.region, bucket: dev.bucket, s3_endpoint: dev.s3_endpoint, admin_access_key_id: dev.admin_access_key_id, admin_secret_access_key: dev.admin_secret_access_key }, BIG_MIB * 1024 * 1024, SMALL, MEDIUM]);

const cases = [
  ["1 file, " + BIG_MIB + " MiB", "big", BIG_MIB, ["updraft", "updraftNoCrc", "sdk", "uppy"]],
  [`${SMALL.n} × 16 KiB`, "small", (SMALL.n * SMALL.size) / 1048576, ["updraft", "updraftPut", "sdk", "post", "uppy"]],
  [`${MEDIUM.n} × 1 MiB`, "medium", MEDIUM.n, ["updraft", "updraftPut", "sdk", "post", "uppy"]],
];
const names = { updraft: "updraft (default: POST form ≤ 1 MiB)", updraftPut: "updraft, PUT only (postMaxSize 0)", updraftNoCrc: "updraft, no checksum (as the peers)", sdk: "aws-sdk lib-storage", post: "POST form (presigned-post)", uppy: "Uppy 6 AwsS3 (getCredentials)" };
console.log(`| case | tool | MiB/s (median of ${RUNS}) | vs best peer |\n|---|---|---|---|`);
for (const [label, files, mib, tools] of cases) {
  const rate = {};
  for (const tool of tools) {
    const times = [];
    for (let i = 0; i < RUNS; i++) times.push(await page.evaluate(([tool, files]) => bench[tool](bench.files[files]), [tool, files]));
    times.sort((a, b) => a - b);
    rate[tool] = mib / (times[Math.floor(times.length / 2)] / 1000);
  }
  const best = Math.max(...tools.filter((t) => !t.startsWith("updraft")).map((t) => rate[t]));
  for (const tool of tools) console.log(`| ${label} | ${names[tool]} | ${rate[tool].toFixed(1)} | ${(rate[tool] / best).toFixed(2)}× |`);
}
await b.close();
server.close();
await dev.stop();
