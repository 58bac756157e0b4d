// Issue 18: bad input across the JS API (in Chromium), the CLI and the dev stack, one
// table. Each row asserts that the error names the option, file or key and says what to
// do, and — where good files went along — that they were stored all the same.
// UPDRAFT_SHOW_ERRORS=1 prints every message, to read them.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { startDev, browser, setup, aws, BIN } from "./harness.mjs";

let dev, b, page, work;
before(async () => {
  dev = await startDev();
  work = join(dev.dir, "work");
  mkdirSync(work);
  writeFileSync(join(work, "good.txt"), "good");
  mkdirSync(join(work, "tree"));
  writeFileSync(join(work, "tree", "fine.txt"), "fine");
  symlinkSync("/nonexistent/target", join(work, "tree", "broken"));
  writeFileSync(join(work, "bad.toml"), "data_dir = [\n");
  writeFileSync(join(work, "unknown.toml"), "prot = 4181\n");
  b = await browser();
  page = await b.newPage();
  await page.goto(`${dev.app_url}/`);
  await setup(page);
});
after(async () => {
  await b?.close();
  await dev?.stop();
});

/**
 * In the page: an Uploader of `options` (over a base that works), given File objects of
 * `files` (name → size), run to its end; what it threw, or its errors and stored keys.
 */
function js(options, files = [], { token, admin } = {}) {
  return page.evaluate(async ([options, files, token, admin, dev]) => {
    const { m, config } = T;
    const credentials = admin
      ? m.staticCredentials({ accessKeyId: dev.admin_access_key_id, secretAccessKey: dev.admin_secret_access_key }, { sub: "carol" })
      : m.webIdentity({ roleArn: config.roleArn, stsEndpoint: config.stsEndpoint, token: async () => token });
    const events = [];
    try {
      const up = new m.Uploader({ bucket: config.bucket, region: config.region, endpoint: config.endpoint, pathStyle: true, credentials, key: "{sub}/{name}", ...options });
      for (const type of ["error", "complete", "allComplete", "credentialsExpired"]) up.on(type, (d) => events.push({ type, message: d.message, key: d.key }));
      const input = typeof files == "string" ? files : Object.entries(files).map(([name, size]) => new File([new Uint8Array(size)], name));
      await up.add(input);
      up.start();
      const end = Date.now() + 30_000;
      while (!events.some((e) => e.type == "allComplete" || e.type == "credentialsExpired") && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    } catch (e) {
      return { message: e.message, stored: [] };
    }
    return { message: events.filter((e) => e.type == "error" || e.type == "credentialsExpired").map((e) => e.message).join("\n"), stored: events.filter((e) => e.type == "complete").map((e) => e.key) };
  }, [options, files, token ?? dev.token("carol"), admin, { admin_access_key_id: dev.admin_access_key_id, admin_secret_access_key: dev.admin_secret_access_key }]);
}

/** `updraft ARGS` with the stack's admin keys (or `env`); its exit code and output. */
function cli(args, env = {}, timeout = 60_000) {
  const r = spawnSync(resolve(BIN), args, {
    cwd: work,
    encoding: "utf8",
    timeout,
    env: {
      PATH: process.env.PATH, HOME: work, XDG_CACHE_HOME: join(work, "cache"),
      AWS_CONFIG_FILE: "/dev/null", AWS_SHARED_CREDENTIALS_FILE: "/dev/null", AWS_REGION: dev.region,
      AWS_ACCESS_KEY_ID: dev.admin_access_key_id, AWS_SECRET_ACCESS_KEY: dev.admin_secret_access_key,
      ...env,
    },
  });
  return { status: r.status, message: `${r.stdout}${r.stderr}` };
}
const upload = (...args) => cli(["upload", ...args, "--bucket", dev.bucket, "--endpoint-url", dev.s3_endpoint, "--no-progress"]);
const asUser = (token, ...args) => {
  const file = join(work, `token-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, token);
  return cli(["upload", ...args, "--bucket", dev.bucket, "--endpoint-url", dev.s3_endpoint, "--no-progress", "--prefix", "carol/"], {
    AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "", AWS_WEB_IDENTITY_TOKEN_FILE: file, AWS_ROLE_ARN: dev.role_arn, AWS_ENDPOINT_URL_STS: dev.sts_endpoint,
  });
};
/** `updraft dev ARGS` on a fresh data directory: it must refuse to start. */
const devStart = (...args) => cli(["dev", "--data-dir", join(work, `d${Math.random().toString(36).slice(2)}`), "--app-port", "0", "--issuer-port", "0", ...args], {}, 15_000);
const stored = (key) => aws(dev, ["s3api", "list-objects-v2", "--bucket", dev.bucket, "--prefix", key])?.Contents?.some((o) => o.Key == key);
const long = "n".repeat(1100);

// [where, the bad input, how it is given, what the error must say, keys that must be stored]
const table = [
  ["js", "a misspelt option", () => js({ partsize: 5 << 20 }), [/unknown option `partsize`; did you mean `partSize`\?/]],
  ["js", "a negative part size", () => js({ partSize: -1 }), [/`partSize` must be/]],
  ["js", "a part size under S3's 5 MiB", () => js({ partSize: 1024 }), [/`partSize` must be from 5 MiB to 5 GiB/]],
  ["js", "concurrency 0", () => js({ concurrency: 0 }), [/`concurrency` must be at least 1/]],
  ["js", "a key template with an unknown field", () => js({ key: "{sub}/{nmae}" }), [/"\{sub\}\/\{nmae\}"/, /\{nmae\} is not a placeholder; placeholders are \{sub\}/]],
  ["js", "a key over 1024 bytes", () => js({}, { [long]: 10, "fine.txt": 4 }), [/would be 1106 bytes/, /1024-byte key limit; rename the file/], ["carol/fine.txt"]],
  ["js", "an unknown checksum", () => js({ checksum: "md5" }), [/"md5" is not a valid checksum; use one of/]],
  ["js", "a misspelt validation option", () => js({ validation: { maxsize: 10 } }), [/unknown option `validation\.maxsize`; did you mean `validation\.maxSize`\?/]],
  ["js", "an unknown canned ACL", () => js({ acl: "publik" }), [/"publik" is not a valid canned ACL; use one of: private public-read/]],
  ["js", "an unknown storage class", () => js({ storageClass: "FAST" }), [/"FAST" is not a valid storage class; use one of: STANDARD/]],
  ["js", "a metadata name S3 cannot take", () => js({ metadata: { "bad key": "x" } }), [/metadata entry "bad key" cannot be sent: names may hold only/]],
  ["js", "an endpoint that is not a URL", () => js({ endpoint: "not a url" }), [/"not a url" cannot be used \(it must start with https:\/\/ or http:\/\/\)/]],
  ["js", "no bucket", () => js({ bucket: "" }), [/the `bucket` option is required/]],
  ["js", "no credentials provider", () => js({ credentials: undefined }), [/the `credentials` option is required: webIdentity/]],
  ["js", "add() given a string", () => js({}, "good.txt"), [/add\(\) takes Files \(a FileList, an array of Files or one File\), not a string/]],
  // A bucket that does not exist is a CLI row only: in a browser its preflight fails,
  // which a page cannot tell from a network failure.
  ["js", "an endpoint that answers HTML", () => js({ endpoint: dev.app_url }, { "fine.txt": 4 }, { admin: true }), [/does not answer as S3 does; check the endpoint URL/]],
  ["js", "a token for another app", () => js({}, { "fine.txt": 4 }, { token: dev.token("carol", 3600, "other-app") }), [/audience|aud/i, /sign in/i]],
  ["js", "a sign-in expired at the start", () => js({}, { "fine.txt": 4 }, { token: dev.token("carol", -120) }), [/expired/i, /sign in/i]],

  ["cli", "a misspelt option", () => upload("good.txt", "--part-szie", "5MiB"), [/'--part-szie'/, /a similar argument exists: '--part-size'/]],
  ["cli", "a negative part size", () => upload("good.txt", "--part-size", "-5MiB"), [/'--part-size <PART_SIZE>': a part size is not negative; give one from 5MiB to 5GiB/]],
  ["cli", "a part size under S3's 5 MiB", () => upload("good.txt", "--part-size", "1KiB"), [/--part-size .*below S3's smallest part/]],
  ["cli", "concurrency 0", () => upload("good.txt", "--concurrency", "0"), [/--concurrency: must be at least 1/]],
  ["cli", "an unknown checksum", () => upload("good.txt", "--checksum", "md5"), [/invalid value 'md5' for '--checksum/, /possible values: crc32c, crc64nvme, none/]],
  ["cli", "an unknown canned ACL", () => upload("good.txt", "--acl", "publik"), [/'--acl <ACL>': "publik" is not a valid canned ACL; use one of/]],
  ["cli", "an unknown storage class", () => upload("good.txt", "--storage-class", "FAST"), [/'--storage-class <STORAGE_CLASS>': "FAST" is not a valid storage class/]],
  ["cli", "metadata without a value", () => upload("good.txt", "--metadata", "novalue"), [/'--metadata <METADATA>': "novalue" is not name=value/]],
  ["cli", "an endpoint that is not a URL", () => cli(["upload", "good.txt", "--bucket", dev.bucket, "--endpoint-url", "not-a-url"]), [/"not-a-url" cannot be used/, /check --endpoint-url or AWS_ENDPOINT_URL_S3/]],
  ["cli", "a file that does not exist", () => upload("good.txt", "nothere.txt"), [/nothere\.txt cannot be read: No such file or directory/, /check the path/]],
  ["cli", "a directory with an unreadable entry", () => upload("tree", "good.txt", "--prefix", "cli-tree/"), [/tree\/broken cannot be read/, /1 uploaded|2 uploaded/], ["cli-tree/tree/fine.txt", "cli-tree/good.txt"]],
  ["cli", "a bucket that does not exist", () => cli(["upload", "good.txt", "--bucket", "no-such-bucket", "--endpoint-url", dev.s3_endpoint, "--no-progress"]), [/s3:\/\/no-such-bucket\/good\.txt/, /NoSuchBucket/, /check the bucket name and the endpoint/]],
  ["cli", "an endpoint that answers HTML", () => cli(["upload", "good.txt", "--bucket", dev.bucket, "--endpoint-url", dev.app_url, "--no-progress"]), [/the endpoint answered 404/, /check the endpoint URL/]],
  ["cli", "a key over 1024 bytes", () => upload("good.txt", "--key", long), [/would be 1100 bytes/, /1024-byte key limit/]],
  ["cli", "deploy of a directory without index.html", () => cli(["deploy", "tree", "--bucket", dev.bucket, "--endpoint-url", dev.s3_endpoint]), [/tree has no index\.html; give the directory of the built site/]],
  ["cli", "--key for a directory", () => upload("tree", "--key", "k"), [/--key: names one object, but tree is a directory; use --prefix/]],
  ["cli", "a token for another app", () => asUser(dev.token("carol", 3600, "other-app"), "good.txt"), [/audience|aud/i]],
  ["cli", "a sign-in expired at the start", () => asUser(dev.token("carol", -120), "good.txt"), [/expired/i]],

  ["dev", "a malformed config file", () => devStart("--config", "bad.toml"), [/bad\.toml/, /line 1|line 2/]],
  ["dev", "an unknown field in the config file", () => devStart("--config", "unknown.toml"), [/unknown\.toml/, /unknown field `prot`/]],
  ["dev", "a fault rate over 1", () => devStart("--s3-port", "0", "--faults", "503=2"), [/--faults `503=2`: the rate of `503` is `2`: it is a number from 0 to 1/]],
  ["dev", "an unknown fault", () => devStart("--s3-port", "0", "--faults", "timeout=0.1"), [/`timeout` is not a fault; the faults are 500, 503/]],
  ["dev", "a fault seed without faults", () => devStart("--s3-port", "0", "--faults-seed", "3"), [/--faults <SPEC>/]],
  ["dev", "a port in use", () => devStart("--s3-port", new URL(dev.s3_endpoint).port), [/--s3-port/, /in use/]],
  ["js", "a malformed config.json for the widget", async () => {
    await page.route("**/broken-config.json", (r) => r.fulfill({ status: 200, contentType: "application/json", body: "{ nope" }));
    return { message: await page.evaluate(async () => {
      await import("/pkg/element.js");
      const el = document.createElement("updraft-uploader");
      el.setAttribute("config", "/broken-config.json");
      document.body.append(el);
      for (let i = 0; i < 100 && !el.shadowRoot?.querySelector(".bad"); i++) await new Promise((r) => setTimeout(r, 50));
      return el.shadowRoot?.querySelector(".bad")?.textContent ?? "";
    }), stored: [] };
  }, [/The uploader cannot start: \/broken-config\.json is not JSON/]],
];

test("r18: bad input gets a clear error naming what is wrong, and the good files go ahead", { timeout: 300_000 }, async () => {
  assert.ok(table.length >= 30, `${table.length} bad inputs`);
  const failures = [];
  for (const [where, what, run, says, keep = []] of table) {
    const started = Date.now();
    const r = await run();
    if (process.env.UPDRAFT_SHOW_ERRORS) console.log(`${where}: ${what}:\n  ${(r.message ?? "").slice(0, 400).replaceAll("\n", "\n  ")}`);
    if (Date.now() - started > 5000) console.log(`${where}: ${what}: ${Date.now() - started} ms`);
    const message = r.message ?? "";
    for (const re of says) if (!re.test(message)) failures.push(`${where}: ${what}: ${re} not in:\n  ${message.replaceAll("\n", "\n  ")}`);
    if (where != "js" && r.status != 1 && r.status != 2) failures.push(`${where}: ${what}: exit ${r.status} (0: accepted; null: still running):\n  ${message}`);
    for (const key of keep) if (!(r.stored?.includes(key) || stored(key))) failures.push(`${where}: ${what}: ${key} was not stored`);
  }
  assert.deepEqual(failures, [], failures.join("\n\n"));
});
