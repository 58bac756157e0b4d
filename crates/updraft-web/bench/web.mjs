// `cargo xtask bench web`: upload throughput in one headless Chromium against one
// `updraft dev`, same files (in-page Blobs), same concurrency (6) and part size (8 MiB),
// the same temporary keys from the dev STS for every tool (what a page has), each case
// run RUNS times interleaved (A B C … A B C …, so a noisy minute does not land on one
// tool), every run's objects checked (count and sizes) before its time counts; prints the
// median, the spread (min–max) and the ratio to the best peer.
//   updraft            the package's Uploader (POST forms up to 1 MiB, PUT above,
//                      multipart for large files, CRC64NVME per part), the same with PUT
//                      only, and without checksums (the peers send none)
//   aws-sdk lib-storage the AWS SDK v3's Upload (queueSize 6), one file at a time as its
//                      docs show, small files six at a time
//   POST form          small files only: POST-policy forms (no preflight), six at a time
//   Uppy               Uppy 6 with AwsS3 signing in the page (getCredentials), limit 6 files
//                      at once; multipart above 8 MiB, but a file's parts go one at a time;
//                      small files by its default, one presigned PUT each
//   the limit          raw XHR PUTs of the same bytes, 6 at a time, to URLs presigned
//                      before the clock starts (a large file's parts to an upload made
//                      then too, completed after it stops): no signing, no checksums
import { createServer } from "node:http";
import { readFileSync, existsSync, openSync, writeSync, writeFileSync, closeSync } from "node:fs";
import { randomFillSync } from "node:crypto";
import { join, extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { startDev, browser, MODULES } from "../tests/e2e/harness.mjs";

const PKG = resolve(process.env.UPDRAFT_WEB_PKG);
const PEERS = resolve(process.env.UPDRAFT_BENCH_PEERS);
const RUNS = Number(process.env.UPDRAFT_BENCH_RUNS ?? 3);
const BIG_MIB = Number(process.env.UPDRAFT_BENCH_BIG_MIB ?? 256);
// `--quick` (UPDRAFT_BENCH_QUICK): fewer files, for a run in about two minutes.
const QUICK = process.env.UPDRAFT_BENCH_QUICK == "1";
// `--tools a,b` (UPDRAFT_BENCH_TOOLS): only these (and the limit), to look at one peer.
const ONLY = process.env.UPDRAFT_BENCH_TOOLS ? process.env.UPDRAFT_BENCH_TOOLS.split(",") : null;
const SMALL = { n: QUICK ? 200 : 500, size: 64 * 1024 };
const MEDIUM = { n: 40, size: 1024 * 1024 };
const EIGHT = { n: QUICK ? 5 : 20, size: 8 * 1024 * 1024 };
// loopback, and a WAN: about 40 ms round trip and 200 Mbit/s each way (Chromium's
// network emulation, which also holds the package's worker requests).
const NETWORKS = (process.env.UPDRAFT_BENCH_NETWORKS ?? "loopback,wan").split(",");
const WAN = { offline: false, latency: 40, uploadThroughput: 25_000_000, downloadThroughput: 25_000_000 };

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

const { S3Client, PutBucketCorsCommand, ListObjectsV2Command } = await import(pathToFileURL(join(MODULES, "@aws-sdk", "client-s3", "dist-cjs", "index.js")));
const admin = new S3Client({ region: dev.region, endpoint: dev.s3_endpoint, forcePathStyle: true, credentials: { accessKeyId: dev.admin_access_key_id, secretAccessKey: dev.admin_secret_access_key } });

// The keys a signed-in page has: temporary ones from the dev STS for the user `bench`,
// who may write under `bench/` (the role's own folder rule).
const sts = await fetch(dev.sts_endpoint, {
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams({ Action: "AssumeRoleWithWebIdentity", Version: "2011-06-15", RoleArn: dev.role_arn, RoleSessionName: "bench", WebIdentityToken: dev.token("bench", 7200), DurationSeconds: "7200" }),
});
const stsXml = await sts.text();
const field = (name) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(stsXml)?.[1];
const keys = { accessKeyId: field("AccessKeyId"), secretAccessKey: field("SecretAccessKey"), sessionToken: field("SessionToken") };
if (!keys.accessKeyId?.startsWith("ASIA")) throw new Error(`STS gave no temporary keys: ${stsXml}`);

/** The objects under `prefix`: their sizes by key. */
async function stored(prefix) {
  const sizes = new Map();
  let token;
  do {
    const page = await admin.send(new ListObjectsV2Command({ Bucket: dev.bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) sizes.set(o.Key.slice(prefix.length), o.Size);
    token = page.NextContinuationToken;
  } while (token);
  return sizes;
}
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
page.on("crash", () => console.error("bench: the page crashed"));
page.on("pageerror", (e) => console.error(`bench: in the page: ${e.message}`));
await page.goto(`${origin}/`);
await page.evaluate(() => {
  const i = document.createElement("input");
  i.type = "file";
  i.id = "big";
  document.body.append(i);
});
await page.setInputFiles("#big", bigPath);
await page.evaluate(async ([dev, big, small, medium, eight]) => {
  const [u, peers] = await Promise.all([import("/pkg/updraft.js"), import("/peers.js")]);
  const random = (size) => {
    const a = new Uint8Array(size);
    for (let i = 0; i < size; i += 65536) crypto.getRandomValues(a.subarray(i, Math.min(size, i + 65536)));
    return a;
  };
  const bigFile = document.getElementById("big").files[0];
  const smallFiles = Array.from({ length: small.n }, (_, i) => new File([random(small.size)], `s${i}.bin`, { lastModified: 1 }));
  const mediumFiles = Array.from({ length: medium.n }, (_, i) => new File([random(medium.size)], `m${i}.bin`, { lastModified: 1 }));
  const eightFiles = Array.from({ length: eight.n }, (_, i) => new File([random(eight.size)], `e${i}.bin`, { lastModified: 1 }));
  const keys = dev.keys;
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
      return { ms: performance.now() - t, prefix: `bench/u${run}/` };
    },
    async sdk(files) {
      const t = performance.now();
      const prefix = `bench/s${++run}/`;
      await pool(files, files.length > 1 ? 6 : 1, (f) => new peers.Upload({ client, queueSize: 6, partSize: 8 * 1024 * 1024, params: { Bucket: dev.bucket, Key: prefix + f.name, Body: f } }).done());
      return { ms: performance.now() - t, prefix };
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
      return { ms: performance.now() - t, prefix };
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
      return { ms, prefix };
    },
    async fine(files) {
      // Fine Uploader S3 addresses buckets by host name only (it signs `/KEY`): the stack
      // answers `BUCKET.localhost:PORT`, which Chromium sends to loopback.
      const prefix = `bench/f${++run}/`;
      const host = `${dev.bucket}.localhost:${new URL(dev.s3_endpoint).port}`;
      let up;
      const t = performance.now();
      await new Promise((ok, fail) => {
        up = new peers.FineUploader.s3.FineUploaderBasic({
          request: { endpoint: `http://${host}`, accessKey: keys.accessKeyId },
          credentials: { accessKey: keys.accessKeyId, secretKey: keys.secretAccessKey, sessionToken: keys.sessionToken, expiration: new Date(Date.now() + 3600_000) },
          objectProperties: { bucket: dev.bucket, region: dev.region, host, key: (id) => prefix + up.getName(id) },
          signature: { version: 4 },
          chunking: { enabled: true, partSize: 8 * 1024 * 1024, concurrent: { enabled: true } },
          maxConnections: 6,
          cors: { expected: true },
          retry: { enableAuto: false },
          callbacks: {
            onAllComplete: (ok_, failed) => (failed.length ? fail(new Error(`fine uploader: ${failed.length} failed`)) : ok()),
            onError: (id, name, reason) => id != null && fail(new Error(`fine uploader: ${name}: ${reason}`)),
          },
        });
        up.addFiles(files);
      });
      return { ms: performance.now() - t, prefix };
    },
    async limit(files) {
      const prefix = `bench/l${++run}/`;
      const PART = 8 * 1024 * 1024;
      // WebCrypto SHA-256 and HMAC in the interface the signer wants.
      class Sha256 {
        constructor(secret) { this.secret = secret; this.parts = []; }
        update(d) { this.parts.push(typeof d == "string" ? new TextEncoder().encode(d) : new Uint8Array(d)); }
        async digest() {
          const data = new Uint8Array(await new Blob(this.parts).arrayBuffer());
          if (this.secret == null) return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
          const raw = typeof this.secret == "string" ? new TextEncoder().encode(this.secret) : this.secret;
          const key = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
          return new Uint8Array(await crypto.subtle.sign("HMAC", key, data));
        }
      }
      const signer = new peers.SignatureV4({ credentials: keys, region: dev.region, service: "s3", sha256: Sha256, uriEscapePath: false, applyChecksum: false });
      const url = new URL(dev.s3_endpoint);
      const presign = async (key, query = {}) => {
        const r = await signer.presign({ method: "PUT", protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: `/${dev.bucket}/${key.split("/").map(encodeURIComponent).join("/")}`, query, headers: { host: url.host, "x-amz-content-sha256": "UNSIGNED-PAYLOAD" } }, { expiresIn: 3600, unsignableHeaders: new Set(["x-amz-content-sha256"]) });
        const q = new URLSearchParams(r.query).toString();
        return `${url.origin}${r.path}?${q}`;
      };
      // Before the clock: every URL, and the multipart uploads.
      const jobs = [];
      const multipart = [];
      for (const f of files) {
        if (f.size <= PART) {
          jobs.push({ url: await presign(prefix + f.name), body: f });
          continue;
        }
        const { UploadId } = await client.send(new peers.CreateMultipartUploadCommand({ Bucket: dev.bucket, Key: prefix + f.name }));
        const parts = [];
        for (let n = 1, at = 0; at < f.size; n++, at += PART) {
          const part = { PartNumber: n };
          parts.push(part);
          jobs.push({ url: await presign(prefix + f.name, { partNumber: String(n), uploadId: UploadId }), body: f.slice(at, Math.min(f.size, at + PART)), part });
        }
        multipart.push({ Key: prefix + f.name, UploadId, parts });
      }
      const put = (job) => new Promise((ok, fail) => {
        const x = new XMLHttpRequest();
        x.open("PUT", job.url);
        x.onload = () => (x.status == 200 ? ok(job.part && (job.part.ETag = x.getResponseHeader("etag"))) : fail(new Error(`PUT ${x.status}`)));
        x.onerror = () => fail(new Error("PUT: network error"));
        x.send(job.body);
      });
      const t = performance.now();
      await pool(jobs, 6, put);
      const ms = performance.now() - t;
      for (const m of multipart) {
        await client.send(new peers.CompleteMultipartUploadCommand({ Bucket: dev.bucket, Key: m.Key, UploadId: m.UploadId, MultipartUpload: { Parts: m.parts } }));
      }
      return { ms, prefix };
    },
    files: { big: [bigFile], small: smallFiles, medium: mediumFiles, eight: eightFiles },
  };
}, [{ region: dev.region, bucket: dev.bucket, s3_endpoint: dev.s3_endpoint, keys }, BIG_MIB * 1024 * 1024, SMALL, MEDIUM, EIGHT]);
const sizes = { big: [BIG_MIB * 1024 * 1024], small: Array(SMALL.n).fill(SMALL.size), medium: Array(MEDIUM.n).fill(MEDIUM.size), eight: Array(EIGHT.n).fill(EIGHT.size) };

const cases = [
  ["1 file, " + BIG_MIB + " MiB", "big", BIG_MIB, ["updraft", "updraftNoCrc", "sdk", "uppy", "fine", "limit"]],
  [`${EIGHT.n} × 8 MiB`, "eight", (EIGHT.n * EIGHT.size) / 1048576, ["updraft", "updraftNoCrc", "sdk", "uppy", "fine", "limit"]],
  [`${MEDIUM.n} × 1 MiB`, "medium", MEDIUM.n, ["updraft", "updraftPut", "sdk", "post", "uppy", "fine", "limit"]],
  [`${SMALL.n} × 64 KiB`, "small", (SMALL.n * SMALL.size) / 1048576, ["updraft", "updraftPut", "sdk", "post", "uppy", "fine", "limit"]],
];
const names = { updraft: "updraft (default: POST form ≤ 1 MiB)", updraftPut: "updraft, PUT only (postMaxSize 0)", updraftNoCrc: "updraft, no checksum (as the peers)", sdk: "aws-sdk lib-storage", post: "POST form (presigned-post)", uppy: "Uppy 6 AwsS3 (getCredentials)", fine: "Fine Uploader S3 5.16 (no server, v4, concurrent chunks)", limit: "the limit: raw presigned XHR PUTs" };
// Every request the page makes (the worker's included), and how long each waited for its
// answer's first byte: on the WAN every one must pay the round trip.
let requests = 0, fastest = Infinity;
page.on("request", () => requests++);
page.on("requestfinished", (r) => {
  const t = r.timing();
  if (t.responseStart >= 0) fastest = Math.min(fastest, t.responseStart - Math.max(t.requestStart, 0));
});
const lines = [`| network | case | tool | MiB/s (median of ${RUNS}) | files/s | spread (MiB/s) | vs best peer | vs the limit | requests per run |`, "|---|---|---|---|---|---|---|---|---|"];
console.log(lines.join("\n"));
for (const network of NETWORKS) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  if (network == "wan") await cdp.send("Network.emulateNetworkConditions", WAN);
  fastest = Infinity;
  for (const [label, files, mib, all] of cases) {
    const tools = all.filter((t) => !ONLY || ONLY.includes(t) || t == "limit");
    const times = Object.fromEntries(tools.map((t) => [t, []]));
    const count = Object.fromEntries(tools.map((t) => [t, 0]));
    for (let i = 0; i < RUNS; i++) {
      for (const tool of tools) {
        const before = requests;
        if (process.env.UPDRAFT_BENCH_TRACE) console.error(`bench: ${tool} on ${files}`);
        const { ms, prefix } = await page.evaluate(([tool, files]) => bench[tool](bench.files[files]), [tool, files]);
        count[tool] = requests - before;
        // Counted only once what it stored is there, whole.
        const got = await stored(prefix);
        const want = sizes[files];
        const wrong = [...got.values()].filter((size) => !want.includes(size)).length;
        if (got.size != want.length || wrong) throw new Error(`${tool}: ${got.size} of ${want.length} objects under ${prefix}, ${wrong} of the wrong size`);
        times[tool].push(ms);
      }
    }
    const rate = {}, spread = {};
    for (const tool of tools) {
      const t = times[tool].sort((a, b) => a - b);
      rate[tool] = mib / (t[Math.floor(t.length / 2)] / 1000);
      spread[tool] = `${(mib / (t[t.length - 1] / 1000)).toFixed(1)}–${(mib / (t[0] / 1000)).toFixed(1)}`;
    }
    const best = Math.max(...tools.filter((t) => !t.startsWith("updraft") && t != "limit").map((t) => rate[t]));
    for (const tool of tools) {
      const line = `| ${network} | ${label} | ${names[tool]} | ${rate[tool].toFixed(1)} | ${((rate[tool] / mib) * sizes[files].length).toFixed(1)} | ${spread[tool]} | ${(rate[tool] / best).toFixed(2)}× | ${(rate[tool] / rate.limit).toFixed(2)}× | ${count[tool]} |`;
      lines.push(line);
      console.log(line);
    }
  }
  if (network == "wan") {
    const note = `WAN: the fastest of its requests waited ${fastest.toFixed(0)} ms for its first byte (emulated round trip ${WAN.latency} ms)`;
    lines.push("", note);
    console.log(note);
    if (fastest < WAN.latency * 0.9) throw new Error(`${note}: a request did not pay the latency`);
  }
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await cdp.detach();
}
if (process.env.UPDRAFT_BENCH_OUT) writeFileSync(process.env.UPDRAFT_BENCH_OUT, lines.join("\n") + "\n");
await b.close();
server.close();
await dev.stop();
