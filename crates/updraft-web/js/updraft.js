// updraft: upload files from the browser straight into S3 with short-lived keys.
// The engine (planning, signing, retries, resume) is WebAssembly (./core_bg.wasm, built
// from crates/updraft-web); this module does the browser's part: XHR, Blob.slice,
// timers, localStorage, online/offline, and the credentials providers' HTTP calls.
import init, { Core, crcUpdate, resumable } from "./core.js";

let wasm;
const load = () => (wasm ??= init());
const now = () => Date.now();
// The bytes of `file` in `range`: the file itself when the range is all of it (or runs
// past its end), since each `Blob.slice` costs Chromium a round trip to its blob registry
// (1.5 ms on average, up to 10 ms, measured by `cargo xtask bench ui`).
const part = (file, [from, to]) => (from == 0 && to >= file.size ? file : file.slice(from, to));
const PREFIX = "updraft:";
// What `core.tell` is told: its `what` numbers (`Tell` in the crate says the same).
const TELL = { pause: 0, resume: 1, cancel: 2, retry: 3, remove: 4, progress: 5, networkError: 6, readFailed: 7, credentialsFailed: 8 };

/** Temporary keys for a role, from STS AssumeRoleWithWebIdentity with a sign-in token. */
export const webIdentity = (o) => ({
  async refresh(core, region) {
    let token;
    try {
      token = await o.token();
    } catch (e) {
      token = null;
    }
    if (!token) return failed(core, true, "sign-in:the sign-in token is missing or expired; sign in again");
    const sts = (status, body) => core.sts(
      o.stsEndpoint ?? `https://sts.${region}.amazonaws.com`, o.roleArn,
      o.sessionName ?? "updraft", token, o.providerId, o.durationSeconds ?? 0, status, body, now());
    const r = await http(sts(0, ""));
    return r ? sts(r.status, r.body) : failed(core, false, `STS at ${o.stsEndpoint} did not answer`);
  },
});

/** Keys of a Cognito identity pool: a guest without `logins`, else the signed-in user. */
export const cognitoIdentityPool = (o) => {
  let id, seen;
  return {
    async refresh(core, region) {
      const logins = JSON.stringify((typeof o.logins == "function" ? await o.logins() : o.logins) ?? {});
      const endpoint = o.endpoint ?? `https://cognito-identity.${o.region ?? region}.amazonaws.com`;
      if (logins != seen) id = undefined;
      seen = logins;
      // GetId (once per sign-in), then GetCredentialsForIdentity.
      const call = (keys, id) => http(core.cognito(keys, endpoint, id, logins, 0, "", 0));
      if (!id) {
        const r = await call(false, o.identityPoolId);
        if (!r) return failed(core, false, `Cognito at ${endpoint} did not answer`);
        try {
          id = core.cognito(false, endpoint, o.identityPoolId, logins, r.status, r.body, 0);
        } catch (e) {
          return failed(core, r.status == 400, e.message);
        }
      }
      const r = await call(true, id);
      return r ? core.cognito(true, endpoint, id, logins, r.status, r.body, now()) : failed(core, false, `Cognito at ${endpoint} did not answer`);
    },
  };
};

/** Keys the page already has; `refresh` (async) gives new ones when they expire. */
export const staticCredentials = (c, { refresh, sub } = {}) => {
  let next = c;
  return {
    async refresh(core) {
      if (sub) core.sub = sub;
      let k = next;
      next = null;
      if (!k && refresh) k = await refresh().catch(() => null);
      if (!k) return failed(core, true, "sign-in:the keys expired and no refresh gave new ones");
      const exp = k.expiration ? new Date(k.expiration).getTime() / 1000 : -1;
      core.setCredentials(k.accessKeyId, k.secretAccessKey, k.sessionToken, exp, now());
      return "";
    },
  };
};

const failed = (core, signIn, message) => (core.tell(TELL.credentialsFailed, 0, signIn ? 1 : 0, "", now()), message);

// One unsigned STS/Cognito call: {status, body}, or null when nothing answered.
async function http(json) {
  const a = typeof json == "string" ? JSON.parse(json) : json;
  try {
    const r = await fetch(a.url, { method: a.method, headers: a.headers, body: a.body });
    return { status: r.status, body: await r.text() };
  } catch {
    return null;
  }
}

/**
 * Jobs for a module worker that `start()` makes (a literal `new Worker(new URL(…))`, so
 * bundlers emit it), answered `{ n, value }` or `{ n, error }`, and `{ n, progress }` for
 * `job.onprogress` on the way; `here(job)` does one on this thread when workers are
 * unavailable or the worker failed. Resolves to the value.
 */
export function offThread(start, here) {
  let worker, jobs = new Map(), seq = 0;
  return (job) => {
    if (worker === undefined) {
      try {
        worker = start();
        worker.onmessage = ({ data }) => jobs.get(data.n)?.(data);
        worker.onerror = () => { worker = null; for (const [, f] of jobs) f({ retry: true }); };
      } catch {
        worker = null;
      }
    }
    if (!worker) return here(job);
    const n = ++seq, { onprogress, ...message } = job;
    return new Promise((ok, fail) => {
      jobs.set(n, (d) => {
        if (d.progress != null) return onprogress(d.progress);
        jobs.delete(n);
        d.retry ? here(job).then(ok, fail) : d.error ? fail(new Error(d.error)) : ok(d.value);
      });
      worker.postMessage({ ...message, n });
    });
  };
}

/** The requests in flight on this thread, by the engine's request id (for worker.js). */
export const xhrs = new Map();

/**
 * (For worker.js.) One request of the engine's (its `send` or `post` action, the body in place): resolves
 * to [status, headers, body text], fails if no answer came (or it was aborted).
 * `progress(bytes)` gets the bytes sent of a PUT; a POST form gets none, since an upload
 * listener would make it need a CORS preflight.
 */
export function request({ id, type, method, url, headers, body, fields }, progress) {
  return new Promise((ok, fail) => {
    const x = new XMLHttpRequest(), end = (f, v) => f(v, xhrs.delete(id));
    xhrs.set(id, x);
    x.open(type == "post" ? "POST" : method, url);
    for (const [n, v] of headers ?? []) x.setRequestHeader(n, v);
    x.onload = () => end(ok, [x.status, x.getAllResponseHeaders(), x.responseText]);
    x.onerror = x.ontimeout = x.onabort = () => end(fail);
    if (fields) {
      // A form: a CORS simple request (no preflight) as long as no upload listener is set.
      const form = new FormData();
      for (const [n, v] of fields) form.append(n, v);
      form.append("file", body);
      body = form;
    } else if (body instanceof Blob) {
      // Only forward: Chromium may report a smaller `loaded` after a larger one.
      let sent = 0;
      x.upload.onprogress = (e) => e.loaded > sent && progress((sent = e.loaded));
    }
    x.send(typeof body == "string" ? new Blob([body]) : body); // no type: no unsigned Content-Type
  });
}

// Two workers: the requests in one, so the page's frames are not spent on sending (each
// XHR send costs Chromium a round trip to its blob registry); the CRCs of parts in the
// other, so a CRC of 8 MiB does not hold up the requests' events.
const worker = () => new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
const work = offThread(worker, async (job) => (job.send ? request(job.send, job.onprogress) : xhrs.get(job.abort)?.abort()));
const crc = offThread(worker, (job) => crcOf(job.blob, job.algorithm));

export async function crcOf(blob, algorithm) {
  await load();
  let crc = 0n;
  // Chunk by chunk as the Blob's stream gives them: no buffer of the whole part, and each
  // chunk's copy into the wasm is summed while still in cache. 8 × 8 MiB in Chromium: 95
  // ms against 111 ms as one ArrayBuffer a part (issue 17).
  for (const reader = blob.stream().getReader(); ;) {
    const { done, value } = await reader.read();
    if (done) return crc;
    crc = crcUpdate(algorithm, crc, value);
  }
}

// The engine's event names that the page's differ from; the others (`progress`,
// `credentialsExpired`, `allComplete`) are the same.
const EVENTS = { submitted: "submit", statusChanged: "statusChange", completed: "complete", failed: "error" };

/** Uploads files to one bucket. See updraft.d.ts for every option and event. */
export class Uploader {
  #o; #core; #ready; #files = new Map(); #status = new Map();
  #on = {}; #started = false; #queued = false; #timer = 0; #refreshing = null;
  #offline = new Set(); #why = "";

  constructor({ credentials, ...options }) {
    if (!credentials?.refresh) throw new TypeError("updraft: the `credentials` option is required: webIdentity(…), cognitoIdentityPool(…) or staticCredentials(…)");
    this.#o = { credentials, region: options.region ?? "us-east-1" };
    // Every option goes to the engine, which refuses a name it does not know (a misspelt
    // option is an error naming it, not silently ignored).
    this.#ready = load().then(() => {
      this.#core = new Core(JSON.stringify(options), crypto.getRandomValues(new Uint32Array(1))[0]);
    });
    if (typeof addEventListener == "function") {
      addEventListener("offline", () => this.#network(false));
      addEventListener("online", () => this.#network(true));
    }
  }

  /** `handler` for `type`; returns a function that removes it. */
  on(type, handler) {
    (this.#on[type] ??= new Set()).add(handler);
    return () => this.#on[type].delete(handler);
  }

  #emit(type, detail) {
    for (const h of this.#on[type] ?? []) {
      try {
        h(detail);
      } catch (e) {
        setTimeout(() => { throw e; });
      }
    }
  }

  /** Adds files (a FileList, an array, one File); resolves to their ids. */
  async add(files) {
    if (typeof files == "string" || !files?.[Symbol.iterator] && !(files instanceof Blob)) throw new TypeError(`updraft: add() takes Files (a FileList, an array of Files or one File), not ${typeof files == "string" ? "a string" : files}`);
    await this.#ready;
    if (this.#core.sub == null) await this.refreshCredentials();
    const ids = [];
    for (const file of files instanceof Blob ? [files] : files) {
      const name = file?.name ?? "blob", modified = file?.lastModified ?? 0;
      try {
        if (!(file instanceof Blob)) throw new TypeError(`updraft: add() takes Files; ${file} is not one`);
        // Keys name the user: without credentials there is no one to name yet.
        if (this.#core.sub == null && this.#why) throw new Error(`${name} was not added: no credentials (${this.#why}); sign in, then add it again`);
        const sk = this.#core.storageKey(name, file.size, modified);
        const id = this.#core.add(name, file.size, modified, file.type ?? "", crypto.getRandomValues(new Uint8Array(16)), now(), localStorage.getItem(sk) ?? undefined);
        this.#files.set(id, file);
        ids.push(id);
      } catch (e) {
        this.#emit("error", { id: null, name, file, message: e.message });
      }
    }
    this.#schedule();
    return ids;
  }

  /** Starts (or goes on) sending what was added. */
  start() {
    this.#started = true;
    this.#schedule();
  }

  pause(id) { this.#call("pause", id); }
  resume(id) { this.#call("resume", id); }
  cancel(id) { this.#call("cancel", id); }
  retry(id) { this.#call("retry", id); }
  /** Forgets a finished, failed or cancelled file. */
  remove(id) { this.#call("remove", id); this.#files.delete(id); }

  #call(what, id) {
    this.#ready.then(() => {
      for (const f of id == null ? this.#files.keys() : [id]) this.#core.tell(TELL[what], f, 0, "", 0);
      this.#schedule();
    });
  }

  /** Where file `id` stands: queued, uploading, paused, completed, failed, cancelled. */
  status(id) { return this.#status.get(id); }

  /** Uploads stored by an earlier page (reload, crash) that continue when their file is added again. */
  async resumable() {
    await this.#ready;
    const entries = [];
    for (let i = 0; i < localStorage.length; i++) {
      const k = localStorage.key(i);
      if (k?.startsWith(PREFIX)) entries.push([k, localStorage.getItem(k)]);
    }
    return JSON.parse(resumable(JSON.stringify(entries)));
  }

  /** The signed-in user's folder (e.g. `alice/`), where `list()` looks by default. */
  async prefix() {
    await this.#ready;
    if (this.#core.sub == null) await this.refreshCredentials();
    return this.#core.own("prefix", "", "", 0, 0, "", now());
  }

  /** One page of the objects under `prefix` (default: the user's folder); `next` is the page after. */
  async list({ prefix, next } = {}) {
    prefix ??= await this.prefix();
    const x = new DOMParser().parseFromString(await this.#own("list", prefix, next), "application/xml");
    const text = (e, n) => e.getElementsByTagName(n)[0]?.textContent;
    if (x.getElementsByTagName("parsererror").length) throw new Error(`the listing of ${prefix} could not be read: the server may not be S3-compatible`);
    return {
      objects: [...x.getElementsByTagName("Contents")].map((c) => ({
        key: text(c, "Key"), size: +text(c, "Size"), lastModified: new Date(text(c, "LastModified")), etag: text(c, "ETag"),
      })),
      next: text(x.documentElement, "NextContinuationToken"),
    };
  }

  /** Deletes the object `key`. */
  async delete(key) { await this.#own("delete", key); }

  /** A presigned GET URL for `key`, valid `expiresIn` seconds (at most 7 days). */
  link(key, { expiresIn = 3600 } = {}) { return this.#own("link", key, "", expiresIn); }

  // One of the page's own S3 calls: the engine builds and signs it with the uploads' keys
  // (refreshing them when there are none), fetch sends it, the engine checks the answer.
  async #own(op, key, token = "", expires = 0) {
    await this.#ready;
    let r;
    for (let i = 0; i < 2 && !(r = this.#core.own(op, key, token, expires, 0, "", now())); i++) await this.refreshCredentials();
    if (!r) throw new Error(`${op} ${key}: no credentials (${this.#why || "the provider gave none"}); sign in, then try again`);
    if (op == "link") return r;
    const a = JSON.parse(r);
    let res;
    try {
      res = await fetch(a.url, { method: a.method, headers: a.headers });
    } catch {
      throw new Error(`${op} ${key}: no answer from ${new URL(a.url).origin} (the network failed, or the bucket's CORS rules do not admit ${location.origin} or ${a.method})`);
    }
    const body = await res.text();
    this.#core.own(op, key, token, expires, res.status, body, now());
    return body;
  }

  /** Asks the credentials provider again: call it after the user signed in again. */
  refreshCredentials() {
    return (this.#refreshing ??= (async () => {
      await this.#ready;
      const m = await this.#o.credentials.refresh(this.#core, this.#o.region).catch((e) => failed(this.#core, false, String(e)));
      if (m) {
        this.#why = m.replace(/^sign-in:/, "");
        if (m == this.#why) this.#emit("error", { id: null, message: `getting credentials failed: ${m}` });
      }
    })().finally(() => {
      this.#refreshing = null;
      this.#schedule();
    }));
  }

  #network(online) {
    this.#ready.then(() => {
      if (online) {
        for (const id of this.#offline) this.#core.tell(TELL.resume, id, 0, "", 0);
        this.#offline.clear();
      } else {
        for (const [id, s] of this.#status) {
          if (s == "queued" || s == "uploading") { this.#offline.add(id); this.#core.tell(TELL.pause, id, 0, "", 0); }
        }
      }
      this.#schedule();
    });
  }

  #schedule() {
    if (this.#queued || !this.#core) return;
    this.#queued = true;
    queueMicrotask(() => {
      this.#queued = false;
      this.#pump();
    });
  }

  #pump() {
    const core = this.#core;
    if (this.#started) {
      for (let a; (a = core.poll(now())) !== undefined; ) this.#act(JSON.parse(a));
    }
    for (let e; (e = core.event()) !== undefined; ) this.#event(JSON.parse(e));
    clearTimeout(this.#timer);
    const t = core.nextTimeout();
    if (t >= 0) {
      // Polling fires what is due (retries, stalled requests, refreshes).
      this.#timer = setTimeout(() => this.#schedule(), Math.min(2 ** 31 - 1, Math.max(0, t - now()))); // setTimeout's longest wait
    }
  }

  #act(a) {
    const core = this.#core;
    if (a.type == "send" || a.type == "post") {
      // Answers to a cancelled request (aborted, or answered first) are the engine's to ignore.
      const id = a.id, file = this.#files.get(a.file);
      work({
        send: { ...a, body: a.range ? part(file, a.range) : a.body },
        onprogress: (sent) => { core.tell(TELL.progress, id, sent, "", now()); this.#schedule(); },
      }).then((r) => {
        core.response(id, ...r, now());
        this.#schedule();
      }, async () => {
        // A body the browser can no longer read (the file changed or went) fails the
        // same way as the network: tell them apart by reading a byte of it.
        const unread = a.range && await file.slice(a.range[0], a.range[0] + 1).arrayBuffer().then(() => null, (e) => e);
        if (unread) core.tell(TELL.readFailed, a.file, 0, `reading ${file.name} failed: ${unread.message}`, 0);
        else core.tell(TELL.networkError, id, 0, `no answer from ${new URL(a.url).origin} (the network failed, or the bucket's CORS rules do not admit ${location.origin})`, now());
        this.#schedule();
      });
    } else if (a.type == "checksum") {
      const file = this.#files.get(a.file);
      crc({ blob: part(file, a.range), algorithm: a.algorithm }).then(
        (crc) => core.checksum(a.file, a.part, crc),
        // The file fails; its upload stays, so adding the file again continues it.
        (e) => core.tell(TELL.readFailed, a.file, 0, `reading ${file.name} failed: ${e.message}`, 0),
      ).finally(() => this.#schedule());
    } else if (a.type == "cancel") {
      work({ abort: a.id });
    } else {
      this.refreshCredentials();
    }
  }

  #event(e) {
    const id = e.file, type = EVENTS[e.type] ?? e.type;
    switch (e.type) {
      case "resumeRecordChanged":
        try {
          e.record ? localStorage.setItem(e.storageKey, e.record) : localStorage.removeItem(e.storageKey);
        } catch {}
        return;
      case "statusChanged":
        this.#status.set(id, e.status);
        break;
      case "progress":
        e = { ...e.file_progress, file: id, all: e.total };
        break;
      case "completed":
        e = { file: id, ...e.completed };
        break;
      case "credentialsExpired":
        e = { message: this.#why };
        break;
    }
    this.#emit(type, { ...e, type, id });
  }
}
