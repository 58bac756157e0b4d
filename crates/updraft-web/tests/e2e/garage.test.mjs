// Issue 19: the browser package's conformance cases against `updraft dev` and a 3-node
// Garage cluster (crates/updraft/tests/garage/cluster.sh, UPDRAFT_GARAGE), from the page
// of a real `updraft dev` in Chromium, with static keys (Garage has no STS): a POST form,
// a single PUT, multipart with CRC64NVME and CRC32C, odd keys, resume after a reload
// (ListParts), and cancel (AbortMultipartUpload). Every object read back with the AWS CLI.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir, homedir } from "node:os";
import { join, resolve } from "node:path";
import { startDev, browser, setup, addFiles, events, waitFor, throttle, bytes, BIN } from "./harness.mjs";

const GARAGE = process.env.UPDRAFT_GARAGE;
const CLI = process.env.UPDRAFT_AWS_CLI ?? join(homedir(), ".cache", "updraft", "venv", "bin", "aws");
const MiB = 1024 * 1024;
let dev, b, cluster;
after(async () => {
  await b?.close();
  await dev?.stop();
  for (const n of cluster?.nodes ?? []) {
    try {
      process.kill(n.pid, "SIGKILL");
    } catch {}
  }
});

const files = mkdtempSync(join(tmpdir(), "updraft-conf-"));
const file = (name, size, seed) => {
  const p = join(files, name);
  writeFileSync(p, bytes(size, seed));
  return p;
};

/** The AWS CLI against a target with its static key; JSON, or null. */
function cli(t, args) {
  const out = execFileSync(CLI, [...args, "--endpoint-url", t.endpoint, "--region", t.region, "--output", "json"], {
    env: { PATH: process.env.PATH, AWS_ACCESS_KEY_ID: t.accessKeyId, AWS_SECRET_ACCESS_KEY: t.secretAccessKey, AWS_CONFIG_FILE: "/dev/null", AWS_SHARED_CREDENTIALS_FILE: "/dev/null" },
  }).toString();
  return out.trim() ? JSON.parse(out) : null;
}

function sameObject(t, key, path) {
  const into = join(files, "got");
  cli(t, ["s3api", "get-object", "--bucket", t.bucket, "--key", key, into]);
  assert.equal(Buffer.compare(readFileSync(into), readFileSync(path)), 0, `${t.name}: ${key}`);
}

/** An Uploader of the public API in the page, on target `t`, with static keys; its events
 * recorded in `T.u[name]` as the harness's `T.make` does. */
const make = (page, name, t, opts = {}) => page.evaluate(([name, t, opts]) => {
  const events = [];
  const up = new T.m.Uploader({
    bucket: t.bucket, region: t.region, endpoint: t.endpoint, pathStyle: true, key: `conf/${name}/{name}`,
    credentials: T.m.staticCredentials({ accessKeyId: t.accessKeyId, secretAccessKey: t.secretAccessKey }, { sub: "conf" }),
    ...opts,
  });
  for (const type of ["submit", "progress", "statusChange", "complete", "error", "allComplete"]) {
    up.on(type, (d) => events.push({ ...d, type, all: undefined }));
  }
  T.u[name] = { up, events };
}, [name, t, opts]);

async function conformance(page, t) {
  // A POST form (≤ 1 MiB), a single PUT, odd names.
  const small = [file("form.txt", 3000, 1), file("put.bin", 3 * MiB, 2), file("a b+ü%41;(x)'~日本.txt", 1234, 3), file("hash#question?.txt", 99, 4)];
  await make(page, `small-${t.tag}`, t);
  const sent = [];
  const onRequest = (r) => { if (r.url().startsWith(t.endpoint) && r.method() != "OPTIONS") sent.push(r.method()); };
  page.on("request", onRequest);
  await addFiles(page, `small-${t.tag}`, small);
  await waitFor(page, `small-${t.tag}`, "allComplete");
  page.off("request", onRequest);
  const done = (await events(page, `small-${t.tag}`)).filter((e) => e.type == "complete");
  assert.equal(done.length, small.length, `${t.name}: ${JSON.stringify(await events(page, `small-${t.tag}`))}`);
  assert.ok(sent.includes("POST") && sent.includes("PUT"), `${t.name}: a form and a PUT: ${sent}`);
  for (const p of small) {
    const name = p.split("/").pop();
    sameObject(t, done.find((e) => e.key.endsWith(`/${name}`)).key, p);
  }

  // Multipart with each checksum: 12 MiB in 5 MiB parts.
  for (const checksum of ["CRC64NVME", "CRC32C"]) {
    const name = `mp-${checksum}-${t.tag}`;
    const path = file(`${name}.bin`, 12 * MiB, checksum.length);
    await make(page, name, t, { partSize: 5 * MiB, checksum });
    await addFiles(page, name, [path]);
    await waitFor(page, name, "complete");
    const c = (await events(page, name)).find((e) => e.type == "complete");
    sameObject(t, c.key, path);
  }

  // Cancel mid-upload: the multipart upload is aborted, nothing left.
  const cancelPath = file(`cancel-${t.tag}.bin`, 30 * MiB, 7);
  let cdp = await throttle(page, 8 * MiB);
  try {
    await make(page, `cancel-${t.tag}`, t, { partSize: 5 * MiB, concurrency: 2 });
    const [id] = await addFiles(page, `cancel-${t.tag}`, [cancelPath]);
    await page.waitForFunction((n) => T.u[n].events.some((e) => e.type == "progress" && e.sent > 6 * 1024 * 1024), `cancel-${t.tag}`, { polling: 50 });
    await page.evaluate(([n, id]) => T.u[n].up.cancel(id), [`cancel-${t.tag}`, id]);
    await waitFor(page, `cancel-${t.tag}`, "statusChange", (e) => e.status == "cancelled");
  } finally {
    await throttle(page, -1);
    await cdp.detach();
  }
  for (let i = 0; ; i++) {
    const open = cli(t, ["s3api", "list-multipart-uploads", "--bucket", t.bucket, "--prefix", `conf/cancel-${t.tag}/`]);
    if (!open?.Uploads?.length) break;
    assert.ok(i < 100, `${t.name}: still open after cancel: ${JSON.stringify(open.Uploads)}`);
    await new Promise((r) => setTimeout(r, 50));
  }

  // Resume after a reload: the parts stored before it are found by ListParts and not
  // sent again.
  const big = file(`resume-${t.tag}.bin`, 40 * MiB, 8);
  cdp = await throttle(page, 8 * MiB);
  let record;
  try {
    await make(page, `resume-${t.tag}`, t, { partSize: 5 * MiB, concurrency: 2, key: `conf/resume-${t.tag}/{name}` });
    await addFiles(page, `resume-${t.tag}`, [big]);
    const handle = await page.waitForFunction((prefix) => {
      for (let i = 0; i < localStorage.length; i++) {
        const k = localStorage.key(i);
        if (k.startsWith(prefix)) {
          const r = JSON.parse(localStorage.getItem(k));
          if (r.parts.length >= 2) return r;
        }
      }
      return null;
    }, `updraft:resume-${t.tag}.bin|`, { polling: 20 });
    record = await handle.jsonValue();
    await page.reload();
  } finally {
    await throttle(page, -1);
    await cdp.detach();
  }
  await setup(page);
  const parts = [];
  const onPart = (r) => {
    const m = r.method() == "PUT" && /[?&]partNumber=(\d+)/.exec(r.url());
    if (m) parts.push(Number(m[1]));
  };
  page.on("request", onPart);
  await make(page, `resume2-${t.tag}`, t, { partSize: 5 * MiB, concurrency: 2, key: `conf/resume-${t.tag}/{name}` });
  await addFiles(page, `resume2-${t.tag}`, [big]);
  await waitFor(page, `resume2-${t.tag}`, "complete");
  page.off("request", onPart);
  const c = (await events(page, `resume2-${t.tag}`)).find((e) => e.type == "complete");
  assert.equal(c.key, record.key, `${t.name}: the same object, continued`);
  const before = record.parts.map((p) => p.number);
  assert.deepEqual(parts.filter((n) => before.includes(n)), [], `${t.name}: parts ${before} were stored before the reload; sent ${parts}`);
  sameObject(t, c.key, big);
}

test("r19 the browser package: the same cases against updraft dev and a 3-node Garage cluster", async () => {
  assert.ok(GARAGE, "UPDRAFT_GARAGE: run through `cargo xtask test`");
  dev = await startDev();
  const dir = mkdtempSync(join(tmpdir(), "updraft-garage-"));
  execFileSync("bash", [resolve("crates/updraft/tests/garage/cluster.sh"), GARAGE, dir, dev.app_url, resolve(BIN), CLI]);
  cluster = JSON.parse(readFileSync(join(dir, "cluster.json"), "utf8"));
  const targets = [
    { name: "updraft dev", tag: "dev", endpoint: dev.s3_endpoint, region: dev.region, bucket: dev.bucket, accessKeyId: dev.admin_access_key_id, secretAccessKey: dev.admin_secret_access_key },
    { name: "Garage", tag: "garage", ...cluster },
  ];
  const page = await (b = await browser()).newPage();
  await page.goto(`${dev.app_url}/`);
  await setup(page);
  for (const t of targets) await conformance(page, t);

  // The widget on Garage, as docs/self-hosted-s3.md sets it up: an element given an
  // Uploader with the page's keys; a file chosen, stored, and its link works.
  const g = targets[1];
  await make(page, "widget", g, { key: "widget/{name}" });
  await page.evaluate(() => {
    document.body.replaceChildren();
    const el = document.createElement("updraft-uploader");
    el.id = "garage";
    // Garage has no anonymous access: links are presigned GETs.
    el.setAttribute("links", "presigned");
    el.uploader = T.u.widget.up;
    document.body.append(el);
  });
  const chosen = file("chosen on garage.txt", 4321, 11);
  await page.setInputFiles("#garage >> #updraft-files", [chosen]);
  const row = page.locator("#garage li").filter({ hasText: "chosen on garage.txt" });
  await row.getByText("Done", { exact: false }).or(row.getByRole("link")).first().waitFor();
  sameObject(g, "widget/chosen on garage.txt", chosen);
  const href = await row.getByRole("link").getAttribute("href");
  const got = await page.evaluate(async (href) => (await fetch(href)).text(), href);
  assert.equal(got, readFileSync(chosen, "utf8"), "the row's link reads the object back");
  await page.screenshot({ path: join(process.env.UPDRAFT_SCREENSHOTS ?? "target/screenshots", "garage-widget.png"), fullPage: true });
  await page.close();
});
