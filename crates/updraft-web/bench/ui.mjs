// `cargo xtask bench ui`: how a widget copes with many files, in one headless Chromium
// against one `updraft dev`; `<updraft-uploader>` and Uppy's Dashboard (with AwsS3) take
// turns (A B A B …), each run in a fresh page, with the same files and keys.
//   add      ADD files (tiny, in-page) are given to the widget at once: the time until the
//            first frame shows a row, until every file is taken (the widget's total line;
//            Uppy's addFiles returns), and the longest frame from the call until 1 s after
//            the last file was taken. Nothing is sent: updraft's keys never come, Uppy does
//            not proceed.
//   upload   UPLOAD files of 1 MiB upload with each widget's defaults: the time until all
//            are stored (each object's size checked in the store afterwards) and the
//            longest frame while they upload.
// A frame's length is a long-animation-frame entry's duration (Chromium reports frames
// over 50 ms); "script" is the most time scripts took in one of those frames (the rest of
// a long frame is the browser's own work, or the main thread waiting for a core);
// "gap" is the longest time between two requestAnimationFrame callbacks.
// Targets (issue 13): first frame under 500 ms, no frame over 50 ms.
import { createServer } from "node:http";
import { readFileSync, existsSync, writeFileSync } from "node:fs";
import { join, extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { startDev, browser, stopOnCrash, MODULES } from "../tests/e2e/harness.mjs";

const PKG = resolve(process.env.UPDRAFT_WEB_PKG);
const PEERS = resolve(process.env.UPDRAFT_BENCH_PEERS);
const RUNS = Number(process.env.UPDRAFT_BENCH_RUNS ?? 3);
const ADD = Number(process.env.UPDRAFT_BENCH_ADD ?? 10000);
const UPLOAD = Number(process.env.UPDRAFT_BENCH_UPLOAD ?? 100);
const PROFILE = process.env.UPDRAFT_BENCH_PROFILE;

const dev = await startDev();
stopOnCrash(dev);
const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".wasm": "application/wasm" };
const server = createServer((req, res) => {
  const url = req.url.split("?")[0];
  if (url == "/") return res.writeHead(200, { "content-type": "text/html" }).end('<!doctype html><meta charset="utf-8"><title>bench ui</title><body style="margin:0;padding:16px;font:16px system-ui">');
  const p = url == "/peers.js" ? PEERS : url == "/peers.css" ? PEERS.replace(/\.js$/, ".css") : url.startsWith("/pkg/") ? join(PKG, url.slice(5)) : null;
  if (!p || !existsSync(p)) return res.writeHead(404).end();
  res.writeHead(200, { "content-type": types[extname(p)] ?? "application/octet-stream" }).end(readFileSync(p));
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const origin = `http://127.0.0.1:${server.address().port}`;

const { S3Client, PutBucketCorsCommand, ListObjectsV2Command } = await import(pathToFileURL(join(MODULES, "@aws-sdk", "client-s3", "dist-cjs", "index.js")));
const admin = new S3Client({ region: dev.region, endpoint: dev.s3_endpoint, forcePathStyle: true, credentials: { accessKeyId: dev.admin_access_key_id, secretAccessKey: dev.admin_secret_access_key } });
await admin.send(new PutBucketCorsCommand({ Bucket: dev.bucket, CORSConfiguration: { CORSRules: [{ AllowedOrigins: [origin], AllowedMethods: ["GET", "PUT", "POST", "DELETE", "HEAD"], AllowedHeaders: ["*"], ExposeHeaders: ["ETag", "x-amz-checksum-crc64nvme"], MaxAgeSeconds: 3000 }] } }));
const stored = async (prefix) => {
  let n = 0, token;
  do {
    const r = await admin.send(new ListObjectsV2Command({ Bucket: dev.bucket, Prefix: prefix, ContinuationToken: token }));
    n += (r.Contents ?? []).filter((o) => o.Size == 1 << 20).length;
    token = r.NextContinuationToken;
  } while (token);
  return n;
};

const b = await browser();
const stack = { region: dev.region, bucket: dev.bucket, endpoint: dev.s3_endpoint, keys: { accessKeyId: dev.admin_access_key_id, secretAccessKey: dev.admin_secret_access_key } };

// One run of `tool` ("updraft" or "uppy") for `phase` ("add" or "upload") in a fresh page.
let run = 0;
async function once(tool, phase) {
  const page = await b.newPage({ viewport: { width: 1024, height: 800 } });
  const prefix = `bench/ui${++run}-${tool}/`;
  await page.goto(`${origin}/`);
  // UPDRAFT_BENCH_PROFILE=DIR: a CPU profile of each run's page (open it in DevTools).
  const cdp = PROFILE && (await page.context().newCDPSession(page));
  if (cdp) await cdp.send("Profiler.enable").then(() => cdp.send("Profiler.start"));
  const r = await page.evaluate(async ([tool, phase, n, stack, prefix]) => {
    const files = phase == "add"
      ? Array.from({ length: n }, (_, i) => new File([`${i}\n`], `file-${i}.txt`, { type: "text/plain" }))
      : Array.from({ length: n }, (_, i) => {
          const a = new Uint8Array(1 << 20);
          for (let o = 0; o < a.length; o += 65536) crypto.getRandomValues(a.subarray(o, o + 65536));
          return new File([a], `file-${i}.bin`, { type: "application/octet-stream" });
        });
    let start, first, all;
    if (tool == "updraft") {
      const u = await import("/pkg/updraft.js");
      await import("/pkg/element.js");
      const el = document.createElement("updraft-uploader");
      document.body.append(el);
      const credentials = phase == "add" ? u.staticCredentials(null, { sub: "bench", refresh: async () => null }) : u.staticCredentials(stack.keys, { sub: "bench" });
      const up = new u.Uploader({ bucket: stack.bucket, region: stack.region, endpoint: stack.endpoint, pathStyle: true, key: `${prefix}{name}`, credentials });
      el.uploader = up;
      const done = new Promise((ok, fail) => up.on("allComplete", (s) => (s.failed ? fail(new Error(`${s.failed} failed`)) : ok())));
      start = phase == "add" ? () => el.add(files) : async () => { await el.add(files); await done; };
      first = () => el.shadowRoot.querySelector("li:not(.spacer)");
      all = () => el.shadowRoot.querySelector(".total")?.textContent.includes(`of ${n} files`);
    } else {
      const P = await import("/peers.js");
      const css = document.createElement("link");
      css.rel = "stylesheet";
      css.href = "/peers.css";
      await new Promise((ok) => { css.onload = ok; document.head.append(css); });
      const target = document.createElement("div");
      document.body.append(target);
      const uppy = new P.Uppy({ autoProceed: false })
        .use(P.Dashboard, { inline: true, target, proudlyDisplayPoweredByUppy: false })
        .use(P.AwsS3, { s3Endpoint: `${stack.endpoint}/${stack.bucket}`, region: stack.region, getCredentials: () => ({ credentials: stack.keys, region: stack.region }), generateObjectKey: (f) => prefix + f.name });
      const add = () => uppy.addFiles(files.map((f) => ({ name: f.name, type: f.type, data: f, source: "Local" })));
      start = phase == "add" ? add : async () => {
        add();
        const r = await uppy.upload();
        if (r.failed.length || r.successful.length != n) throw new Error(`uppy: ${r.failed.length} failed: ${r.failed[0]?.error}`);
      };
      first = () => target.querySelector(".uppy-Dashboard-Item");
      all = () => uppy.getFiles().length == n;
    }
    // The measurement: the same for both.
    const type = PerformanceObserver.supportedEntryTypes.includes("long-animation-frame") ? "long-animation-frame" : "longtask";
    const long = [];
    let why = "", frames = [], t0, script = 0;
    const po = new PerformanceObserver((l) => {
      for (const e of l.getEntries()) {
        // The longest frame's scripts, for the log: what to look at first.
        // Each long frame's make-up, for the log (UPDRAFT_BENCH_FRAMES=1 logs all).
        const end = e.startTime + e.duration, layout = e.styleAndLayoutStart ? end - e.styleAndLayoutStart : 0;
        const said = [`@${(e.startTime - t0).toFixed(0)} ${e.duration.toFixed(0)} ms: style and layout ${layout.toFixed(0)}, forced in scripts ${(e.scripts ?? []).reduce((s, x) => s + x.forcedStyleAndLayoutDuration, 0).toFixed(0)}`,
          ...(e.scripts ?? []).map((s) => `${s.invoker} ${s.sourceFunctionName || ""} ${s.sourceURL?.split("/").pop() ?? ""} ${s.duration.toFixed(0)} ms`)].join("; ");
        if (e.duration > Math.max(0, ...long)) why = said;
        script = Math.max(script, (e.scripts ?? []).reduce((s, x) => s + x.duration, 0));
        frames.push(said);
        long.push(e.duration);
      }
    });
    po.observe({ type });
    let gap = 0, last = performance.now(), ticking = true;
    const tick = (t) => { gap = Math.max(gap, t - last); last = t; if (ticking) requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
    t0 = performance.now();
    let tFirst = null, tAll = null;
    // Checked in each frame; a time is taken in a task after that frame's paint.
    const seen = new Promise((ok) => {
      const f = () => {
        const a = tFirst == null && first(), b = tAll == null && all();
        if (a || b) setTimeout(() => { const t = performance.now() - t0; if (a) tFirst ??= t; if (b) tAll ??= t; });
        if ((tFirst != null || a) && (tAll != null || b)) setTimeout(ok);
        else requestAnimationFrame(f);
      };
      requestAnimationFrame(f);
    });
    await start();
    const tDone = performance.now() - t0;
    await seen;
    await new Promise((r) => setTimeout(r, 1000));
    ticking = false;
    po.disconnect();
    return { type, first: tFirst, all: tAll, done: tDone, longest: Math.max(0, ...long), over: long.length, script, gap, why, frames };
  }, [tool, phase, phase == "add" ? ADD : UPLOAD, stack, prefix]);
  if (cdp) writeFileSync(join(PROFILE, `${phase}-${tool}-${run}.cpuprofile`), JSON.stringify((await cdp.send("Profiler.stop")).profile));
  await page.close();
  if (phase == "upload") {
    const n = await stored(prefix);
    if (n != UPLOAD) throw new Error(`${tool}: ${n} of ${UPLOAD} objects of 1 MiB stored under ${prefix}`);
  }
  return r;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const spread = (xs) => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;
const names = { updraft: "updraft <updraft-uploader>", uppy: "Uppy 6 Dashboard + AwsS3" };
let type;
for (const phase of ["add", "upload"]) {
  const got = { updraft: [], uppy: [] };
  for (let i = 0; i < RUNS; i++) for (const tool of ["updraft", "uppy"]) {
    const r = await once(tool, phase);
    type = r.type;
    got[tool].push(r);
    const { frames, ...said } = r;
    console.error(`${phase} ${tool} run ${i + 1}: ${JSON.stringify(said)}`);
    if (process.env.UPDRAFT_BENCH_FRAMES) for (const f of frames) console.error(`  ${f}`);
  }
  const label = phase == "add" ? `add ${ADD} files` : `upload ${UPLOAD} × 1 MiB`;
  console.log(`\n| ${label} (median of ${RUNS}, min–max) | ${phase == "add" ? "first frame ms | all taken ms" : "all stored ms"} | longest frame ms (0: none > 50) | frames > 50 ms | most script in one of them ms | longest rAF gap ms |`);
  console.log(`|---|---:|${phase == "add" ? "---:|" : ""}---:|---:|---:|---:|`);
  for (const tool of ["updraft", "uppy"]) {
    const rs = got[tool];
    const col = (k) => `${median(rs.map((r) => r[k])).toFixed(0)} (${spread(rs.map((r) => r[k]))})`;
    const times = phase == "add" ? `${col("first")} | ${col("all")}` : col("done");
    console.log(`| ${names[tool]} | ${times} | ${col("longest")} | ${col("over")} | ${col("script")} | ${col("gap")} |`);
  }
}
console.log(`\nframes measured by PerformanceObserver "${type}"; targets: first frame < 500 ms, no frame > 50 ms`);
await b.close();
server.close();
await dev.stop();
