// <updraft-uploader>: a drop zone, file and folder pickers, paste, and a row per file
// (thumbnail, progress, rate, time left, pause/resume/cancel/retry/remove, link and
// copy-link) over the package's public API. Plain DOM in a shadow root: no framework.
// The page gives it an Uploader (`el.uploader = up`); see element.d.ts.
import { offThread } from "./updraft.js";

const CSS = `
:host{display:block;font:15px/1.4 system-ui,sans-serif;--fg:#1d1f23;--muted:#5b6270;--bg:#fff;--line:#c9ced6;--accent:#0b5cd5;--bad:#b3261e;--ok:#1b6e3a;--zone:#f4f7fb;color:var(--fg)}
@media (prefers-color-scheme:dark){:host{--fg:#e8eaee;--muted:#a9b0bd;--bg:#17191d;--line:#3b414b;--accent:#7fb0ff;--bad:#ff8a80;--ok:#7bd88f;--zone:#20242b}}
*{box-sizing:border-box}
[hidden]{display:none!important}
.zone{border:2px dashed var(--line);border-radius:10px;background:var(--zone);padding:1.2rem;text-align:center}
.zone.over{border-color:var(--accent)}
.zone p{margin:.2rem 0 .7rem;color:var(--muted)}
button,.button{font:inherit;color:var(--fg);background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:.3rem .7rem;cursor:pointer;text-decoration:none;display:inline-flex;align-items:center;justify-content:center;min-height:2rem;vertical-align:middle}
button:hover,.button:hover{border-color:var(--accent)}
:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.primary{background:var(--accent);border-color:var(--accent);color:var(--bg);font-weight:600}
input[type=file]{position:absolute;width:1px;height:1px;opacity:0;pointer-events:none}
.msg{margin:.6rem 0 0;min-height:1.4em}
.msg:empty{display:none}
.zone .msg.bad{color:var(--bad);font-weight:500}
.bad{color:var(--bad)}
.total{margin:.8rem 0 .3rem;color:var(--muted);font-variant-numeric:tabular-nums}
.total:empty{display:none}
ul{list-style:none;margin:0;padding:0;max-height:var(--updraft-rows-height,28rem);overflow:auto}
li{display:grid;grid-template-columns:3rem 1fr auto;gap:.2rem .8rem;align-items:center;padding:.6rem 0;border-bottom:1px solid var(--line)}
li.spacer{display:block;padding:0;border:0}
.thumb{width:3rem;height:3rem;border-radius:6px;background:var(--zone);display:grid;place-items:center;color:var(--muted);font-size:.7rem;overflow:hidden}
.thumb canvas{width:100%;height:100%;object-fit:cover}
.name{font-weight:600;overflow-wrap:anywhere}
.meta{color:var(--muted);font-size:.85rem;font-variant-numeric:tabular-nums;overflow-wrap:anywhere}
.meta.bad{color:var(--bad)}
.meta.ok{color:var(--ok)}
progress{width:100%;height:.5rem;accent-color:var(--accent)}
.actions{display:flex;gap:.3rem;flex-wrap:wrap;justify-content:flex-end}
.actions button,.actions .button{padding:.15rem .55rem;font-size:.85rem}
.resume{margin-top:.6rem}
.resume li{border-bottom-style:dashed}
.who{display:flex;gap:.5rem;align-items:center;flex-wrap:wrap;margin:0 0 .8rem}
.unsupported{padding:1rem;border:1px solid var(--bad);border-radius:8px;color:var(--bad)}
@media (max-width:30rem){li{grid-template-columns:2.5rem 1fr}.thumb{width:2.5rem;height:2.5rem}.actions{grid-column:1/-1;justify-content:flex-start}}
`;

const UNITS = ["B", "KB", "MB", "GB", "TB"];
/** `n` bytes for a person: 1.5 MB (powers of 1000, as file managers show them). */
export const bytes = (n) => {
  let i = 0;
  for (; n >= 1000 && i < UNITS.length - 1; i++) n /= 1000;
  return `${i ? n.toFixed(n < 10 ? 1 : 0) : n} ${UNITS[i]}`;
};
/** A duration for a person: 12 s, 3 min, 2 h. */
export const duration = (ms) => {
  const s = Math.ceil(ms / 1000);
  return s < 60 ? `${s} s` : s < 3600 ? `${Math.round(s / 60)} min` : `${Math.round(s / 360) / 10} h`;
};

/** What this browser lacks of what the element needs (empty: nothing); without it the element says so instead. */
export const missing = () => [
  typeof WebAssembly != "object" && "WebAssembly",
  typeof Blob == "undefined" || !Blob.prototype.slice ? "Blob.slice" : false,
  typeof XMLHttpRequest == "undefined" && "XMLHttpRequest",
].filter(Boolean);

const h = (tag, props = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) k in e && !k.includes("-") ? (e[k] = v) : e.setAttribute(k, v);
  e.append(...children.filter((c) => c != null));
  return e;
};

// The files of a drop, folders walked (each file named by its path inside the drop).
async function dropped(dt) {
  const entries = [...dt.items].map((i) => i.webkitGetAsEntry?.()).filter(Boolean);
  if (!entries.length) return [...dt.files];
  const out = [];
  const walk = async (entry, path) => {
    if (entry.isFile) {
      const f = await new Promise((ok, fail) => entry.file(ok, fail));
      out.push(path ? new File([f], path + f.name, { type: f.type, lastModified: f.lastModified }) : f);
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (let batch; (batch = await new Promise((ok, fail) => reader.readEntries(ok, fail))).length; ) {
        for (const e of batch) await walk(e, `${path}${entry.name}/`);
      }
    }
  };
  for (const e of entries) await walk(e, "");
  return out;
}

// A picked folder's files, each named by its path inside the folder.
const picked = (input) => [...input.files].map((f) =>
  f.webkitRelativePath ? new File([f], f.webkitRelativePath, { type: f.type, lastModified: f.lastModified }) : f);

// Images this browser can decode and encode again in their own type.
const RESIZABLE = /^image\/(jpeg|png|webp)$/;
// `{ file, max, quality }` → the file scaled to fit `max` pixels, or null when it already
// fits: in a worker, else on this thread.
const resized = offThread(
  () => new Worker(new URL("./resize.js", import.meta.url), { type: "module" }),
  ({ file, max, quality }) => import("./resize.js").then((m) => m.shrink(file, max, quality)),
);

const LABEL = { queued: "Waiting", uploading: "Uploading", paused: "Paused", completed: "Done", failed: "Failed", cancelled: "Cancelled" };

export class UpdraftUploader extends HTMLElement {
  #up; #off = []; #rows = new Map(); #dirty = new Set(); #frame = 0; #all = null; #notes = []; #expired = false;
  #shadow = this.attachShadow({ mode: "open" }); #els = {}; #auth = null; #linkless = false; #private = false;
  #order = null; #shown = []; #rowHeight = 68; #spacers = [h("li", { className: "spacer", "aria-hidden": "true" }), h("li", { className: "spacer", "aria-hidden": "true" })];

  connectedCallback() {
    if (this.#els.zone || this.#shadow.firstChild) return;
    const lack = missing();
    if (lack.length) {
      this.#shadow.append(h("style", {}, CSS), h("p", { className: "unsupported", role: "alert" },
        `This browser cannot upload here: it lacks ${lack.join(", ")}. Use a current Chrome, Edge, Firefox or Safari.`));
      return;
    }
    const id = (s) => `updraft-${s}`;
    const files = h("input", { type: "file", multiple: true, id: id("files"), tabIndex: -1, "aria-label": "Files to upload" });
    const folder = h("input", { type: "file", id: id("folder"), tabIndex: -1, "aria-label": "A folder to upload" });
    folder.webkitdirectory = true;
    if (this.hasAttribute("accept")) files.accept = this.getAttribute("accept");
    const choose = h("button", { type: "button", className: "primary", onclick: () => files.click() }, "Choose files");
    const chooseFolder = h("button", { type: "button", onclick: () => folder.click() }, "Choose a folder");
    const msg = h("p", { className: "msg", role: "status" });
    const zone = h("div", { className: "zone" },
      h("p", {}, "Drop files or folders here, paste them, or"), choose, " ", chooseFolder, files, folder, msg);
    const total = h("p", { className: "total", "aria-live": "polite" });
    const list = h("ul", { "aria-label": "Uploads", onscroll: () => (this.#frame ||= requestAnimationFrame(() => this.#paint())) });
    const resume = h("ul", { className: "resume", "aria-label": "Unfinished uploads", hidden: true });
    files.onchange = () => { this.add([...files.files]); files.value = ""; };
    folder.onchange = () => { this.add(picked(folder)); folder.value = ""; };
    zone.ondragover = (e) => { e.preventDefault(); zone.classList.add("over"); };
    zone.ondragleave = () => zone.classList.remove("over");
    zone.ondrop = async (e) => {
      e.preventDefault();
      zone.classList.remove("over");
      this.add(await dropped(e.dataTransfer));
    };
    this.addEventListener("paste", (e) => {
      const f = [...(e.clipboardData?.files ?? [])];
      if (f.length) { e.preventDefault(); this.add(f); }
    });
    this.#els = { zone, msg, total, list, choose, files, resume };
    this.#shadow.append(h("style", {}, CSS), zone, resume, total, list);
    if (this.#up) {
      this.#resumable();
      this.#paint();
    } else if (this.hasAttribute("config")) this.#configure(this.getAttribute("config"));
  }

  /** With `config`: the sign-in (`oidc.js`) the element made, else null. */
  get auth() { return this.#auth; }

  // `config="config.json"`: the element makes its Uploader and signs in itself, with the
  // buttons the configuration enables — its OpenID Connect issuer (`issuer`, `clientId`,
  // in a window), a Cognito guest (`identityPoolId`) — and a sign-out.
  async #configure(url) {
    const zone = this.#els.zone;
    const who = h("span", {}, "Not signed in."), bar = h("p", { className: "who" }, who);
    this.#shadow.insertBefore(bar, zone);
    zone.hidden = true;
    let c, m, o, auth;
    try {
      [c, m, o] = await Promise.all([
        fetch(url).then((r) => (r.ok ? r.json() : Promise.reject(new Error(`${url} answered ${r.status}`)))),
        import("./updraft.js"),
        import("./oidc.js"),
      ]);
      if (c.issuer && c.clientId) {
        auth = this.#auth = o.oidc({ issuer: c.issuer, clientId: c.clientId, redirectUri: c.redirectUri });
        // In the sign-in window this hands the answer to the page that opened it.
        await auth.handleRedirect();
      }
    } catch (e) {
      return bar.replaceChildren(h("span", { className: "bad" }, `The uploader cannot start: ${e.message}`));
    }
    const button = (label, onclick, primary) => h("button", { type: "button", className: primary ? "primary" : "", onclick }, label);
    const start = (name, credentials, guest) => {
      // A guest may only write (the usual guest role): no link that would be refused.
      this.#linkless = guest && !c.guestLinks;
      // Without a public ACL the object's URL would be refused: link to a presigned GET.
      this.#private = !/^public-read/.test((!guest && c.acl) || "");
      this.uploader = new m.Uploader({
        bucket: c.bucket, region: c.region, endpoint: c.endpoint, pathStyle: c.pathStyle, credentials,
        key: guest ? c.guestKey ?? "guest/{sub}/{uuid}/{path}" : c.key ?? "{sub}/{uuid}/{path}",
        ...(c.acl && !guest ? { acl: c.acl } : {}),
      });
      who.textContent = guest ? "Uploading as a guest." : `Signed in as ${name}.`;
      bar.replaceChildren(who, " ", button("Sign out", () => {
        auth?.signOut();
        this.#up?.cancel();
        this.#rows.clear();
        this.#order = null;
        this.#paint();
        zone.hidden = true;
        this.#up = undefined;
        signedOut();
      }));
      zone.hidden = false;
      this.dispatchEvent(new CustomEvent("signedin", { detail: { uploader: this.#up } }));
    };
    const viaIssuer = () => start(auth.user.email ?? auth.user.sub,
      m.webIdentity({ roleArn: c.roleArn, stsEndpoint: c.stsEndpoint, token: auth.token }));
    // How this session signs in again after `credentialsExpired`.
    let again = null;
    const signIn = async () => {
      try {
        if (again) await again();
        else await auth.signIn({ popup: true });
        if (this.#up) await this.#up.refreshCredentials();
        else viaIssuer();
      } catch (e) {
        this.#say(e.message, true);
      }
    };
    // Google, Amazon, Facebook: `c.google` (`clientId`), `c.amazon`, `c.facebook` (`scope`),
    // each with an optional `roleArn` of its own; the page loads the provider's SDK.
    const social = [["google", "Google"], ["amazon", "Amazon"], ["facebook", "Facebook"]].filter(([k]) => c[k])
      .map(([k, label]) => button(`Sign in with ${label}`, async () => {
        try {
          const a = (await import(`./${k}.js`))[k]({ clientId: c[k].clientId, scope: c[k].scope });
          await a.signIn();
          again = () => a.signIn();
          start(`your ${label} account`, m.webIdentity({ roleArn: c[k].roleArn ?? c.roleArn, stsEndpoint: c.stsEndpoint, token: a.token, providerId: a.providerId }));
        } catch (e) {
          this.#say(`Signing in with ${label} failed: ${e.message}`, true);
        }
      }));
    const signedOut = () => {
      again = null;
      who.textContent = "Sign in to upload.";
      bar.replaceChildren(who, " ",
        ...(auth ? [button(c.issuerName ? `Sign in with ${c.issuerName}` : "Sign in", signIn, true), " "] : []),
        ...social.flatMap((b) => [b, " "]),
        ...(c.identityPoolId ? [button("Continue as a guest", () => start("",
          m.cognitoIdentityPool({ identityPoolId: c.identityPoolId, endpoint: c.cognitoEndpoint }), true))] : []));
    };
    // After `credentialsExpired` the prompt's button signs in again here.
    this.addEventListener("signin", signIn);
    if (auth?.user) viaIssuer();
    else signedOut();
  }

  /** The Uploader the element drives. */
  get uploader() { return this.#up; }
  set uploader(up) {
    for (const off of this.#off) off();
    // Another Uploader: the rows of the last one (its ids) go.
    if (this.#up && up != this.#up) {
      this.#rows.clear();
      this.#order = null;
      this.#paint();
    }
    this.#up = up;
    const on = (type, f) => this.#off.push(up.on(type, f));
    on("statusChange", ({ id, status }) => this.#update(id, { status }));
    on("progress", (p) => {
      // Bytes move after the person chose to sign in again: the prompt has done its work.
      if (this.#expired == "asked") { this.#expired = false; this.#say(""); this.#repaint(); }
      this.#all = p.all;
      this.#update(p.id, { progress: p });
    });
    on("complete", (c) => this.#update(c.id, { status: "completed", done: c }));
    on("error", (e) => {
      if (e.id == null) this.#note(e.message);
      else this.#update(e.id, { status: "failed", error: e.message });
    });
    on("credentialsExpired", () => {
      this.#expired = true;
      this.#repaint();
      this.#say("Your sign-in has expired: the uploads wait. Sign in again to go on.", true,
        h("button", { type: "button", onclick: () => {
          this.#expired = "asked";
          this.dispatchEvent(new Event("signin", { bubbles: true, composed: true }));
        } }, "Sign in again"));
    });
    if (this.#els.zone) this.#resumable();
  }

  /** Adds files (File[] or a FileList) and starts them. */
  async add(files) {
    if (!this.#up) return this.#say("No uploader is set: the page must set `uploader` first.", true);
    this.#notes = [];
    this.#say("");
    const all = await this.#resize([...files]);
    // In batches of about 12 ms of work each (the first of 50 files; each next sized by the
    // last one's time), one a frame: the page paints and takes input between them.
    for (let at = 0, n = 50, t; at < all.length; at += n, n = Math.min(2000, Math.max(20, Math.round((n * 12) / Math.max(1, performance.now() - t))))) {
      // After the next frame (rAF), or 100 ms in a hidden tab, where frames stop.
      if (at) await new Promise((r) => { requestAnimationFrame(() => setTimeout(r)); setTimeout(r, 100); });
      t = performance.now();
      const batch = all.slice(at, at + n), refused = new Set();
      const off = this.#up.on("error", (e) => e.file && refused.add(e.file));
      const ids = await this.#up.add(batch).finally(off);
      let k = 0;
      for (const file of batch) {
        if (!refused.has(file)) this.#added(ids[k++], file); // refused: its `error` event said why
      }
    }
    this.#up.start();
  }

  // A row for an added file; an unfinished upload it continues leaves the list.
  #added(id, file) {
    this.#rows.set(id, { file, status: "queued" });
    this.#order = null;
    const resume = this.#els.resume;
    for (const li of [...(resume?.children ?? [])]) {
      if (li.dataset.name == file.name && li.dataset.size == file.size) li.remove();
    }
    if (resume) resume.hidden = !resume.children.length;
    this.#update(id, {});
    this.#thumb(id, file);
  }

  // With `resize="N"`: each JPEG, PNG or WebP larger than N pixels on its longest side
  // goes scaled to fit (`resize-quality`, 0 to 1, for JPEG and WebP; default 0.9); with
  // `keep-original` the original goes too. An image that cannot be decoded goes as it is.
  async #resize(files) {
    const max = Number(this.getAttribute("resize"));
    if (!(max > 0)) return files;
    const quality = Number(this.getAttribute("resize-quality") ?? 0.9);
    const out = [];
    for (const f of files) {
      let small = null;
      if (RESIZABLE.test(f.type)) {
        try {
          small = await resized({ file: f, max, quality });
        } catch (e) {
          this.#note(`${f.name} goes as it is: it could not be resized (${e.message})`);
        }
      }
      if (!small) {
        out.push(f);
        continue;
      }
      const keep = this.hasAttribute("keep-original");
      const name = keep ? f.name.replace(/(\.[^./]*)?$/, (ext) => `-${max}px${ext}`) : f.name;
      out.push(new File([small], name, { type: small.type || f.type, lastModified: f.lastModified }));
      if (keep) out.push(f);
    }
    return out;
  }

  // Refusals of one add() (too large, wrong type, too many), each on its line.
  #note(text) {
    this.#notes.push(text);
    this.#say("", true);
    this.#els.msg?.replaceChildren(...this.#notes.flatMap((n, i) => (i ? [h("br"), n] : [n])));
  }

  #say(text, bad = false, ...extra) {
    const m = this.#els.msg;
    if (!m) return;
    m.className = bad ? "msg bad" : "msg";
    m.replaceChildren(text, ...(extra.length ? [" ", ...extra] : []));
  }

  // Uploads an earlier page left unfinished, a row each: adding the same file again
  // continues it (the engine finds its record), and its row goes.
  async #resumable() {
    const left = await this.#up.resumable().catch(() => []);
    const list = this.#els.resume;
    list.replaceChildren(...left.map((r) => {
      const pct = Math.min(99, Math.floor((100 * r.partsDone * r.partSize) / Math.max(r.size, 1)));
      const li = h("li", {},
        h("div", { className: "thumb", "aria-hidden": "true" }, "…"),
        h("div", {}, h("div", { className: "name" }, r.name),
          h("span", { className: "meta" }, `${bytes(r.size)} · ${pct} % sent · add ${r.name} again to continue`)),
        h("div", { className: "actions" }, h("button", { type: "button", "aria-label": `Choose again: ${r.name}`, onclick: () => this.#els.files.click() }, "Choose again")));
      li.dataset.name = r.name;
      li.dataset.size = r.size;
      return li;
    }));
    list.hidden = !left.length;
  }

  // Row state changes are painted once per animation frame, however many arrive.
  #update(id, change) {
    const r = this.#rows.get(id);
    if (!r) return;
    Object.assign(r, change);
    this.#dirty.add(id);
    this.#frame ||= requestAnimationFrame(() => this.#paint());
  }

  // Every row again (the sign-in prompt changes what waiting rows say).
  #repaint() {
    for (const id of this.#rows.keys()) this.#update(id, {});
  }

  // Only the rows in view (and 6 either side) are in the document, however many files
  // there are: spacers stand for the rest, at the rows' measured mean height. Rows out of
  // view are brought up to date when they come into it.
  #paint() {
    this.#frame = 0;
    if (!this.#els.list) return; // not connected yet: connecting paints
    const list = this.#els.list, order = (this.#order ??= [...this.#rows.keys()]);
    const top = list.scrollTop, view = list.clientHeight || 450, est = this.#rowHeight;
    const start = Math.max(0, Math.floor(top / est) - 6);
    const end = Math.min(order.length, Math.ceil((top + view) / est) + 6);
    const shown = order.slice(start, end);
    for (const id of shown) {
      const r = this.#rows.get(id);
      if (!r.li || this.#dirty.has(id)) this.#row(id, start + shown.indexOf(id), order.length);
      this.#dirty.delete(id);
    }
    const lis = shown.map((id) => this.#rows.get(id).li), [above, below] = this.#spacers;
    above.style.height = `${start * est}px`;
    below.style.height = `${(order.length - end) * est}px`;
    if (lis.length != this.#shown.length || lis.some((li, i) => li != this.#shown[i]) || !order.length) {
      this.#shown = lis;
      list.replaceChildren(above, ...lis, below);
      // The mean height of what is shown, for the spacers from now on: read once this
      // frame is drawn and its layout done (read now, it would force the layout here).
      setTimeout(() => {
        const drawn = lis.filter((li) => li.isConnected);
        const measured = drawn.reduce((sum, li) => sum + li.offsetHeight, 0) / (drawn.length || 1);
        if (measured > 0 && Math.abs(measured - this.#rowHeight) > 2) {
          this.#rowHeight = measured;
          this.#shown = [];
          this.#frame ||= requestAnimationFrame(() => this.#paint());
        }
      });
    }
    // Cancelled files leave the count and the bytes; failed ones stay (retry finishes them).
    const n = { completed: 0, uploading: 0, failed: 0, cancelled: 0 };
    let sent = 0, size = 0;
    for (const r of this.#rows.values()) {
      n[r.status]++;
      if (r.status == "cancelled") continue;
      size += r.file.size;
      sent += r.status == "completed" ? r.file.size : r.progress?.sent ?? 0;
    }
    const files = this.#rows.size - n.cancelled;
    const parts = [`${n.completed} of ${files} file${files == 1 ? "" : "s"} done`];
    if (n.failed) parts.push(`${n.failed} failed`);
    if (n.cancelled) parts.push(`${n.cancelled} cancelled`);
    parts.push(`${bytes(sent)} of ${bytes(size)}`);
    if (n.uploading && this.#all?.rate && !this.#expired) parts.push(`${bytes(this.#all.rate)}/s`);
    this.#els.total.textContent = parts.join(" · ");
  }

  #row(id, at, of) {
    const r = this.#rows.get(id), up = this.#up, name = r.file.name;
    if (!r.li) {
      r.bar = h("progress", { max: 1, value: 0, "aria-label": `${name} sent` });
      r.meta = h("span", { className: "meta" });
      r.actions = h("div", { className: "actions" });
      r.icon = h("div", { className: "thumb", "aria-hidden": "true" }, (name.split(".").pop() ?? "").slice(0, 4).toUpperCase());
      if (r.canvas) r.icon.replaceChildren(r.canvas);
      r.li = h("li", {}, r.icon, h("div", {}, h("div", { className: "name" }, name), r.bar, r.meta), r.actions);
    }
    r.li.setAttribute("aria-posinset", at + 1);
    r.li.setAttribute("aria-setsize", of);
    const s = r.status, p = r.progress;
    r.li.dataset.status = s;
    r.bar.value = s == "completed" ? 1 : p ? p.sent / Math.max(p.total, 1) : 0;
    r.bar.hidden = s == "completed" || s == "failed" || s == "cancelled";
    let meta = `${bytes(r.file.size)} · ${LABEL[s] ?? s}`;
    if (s == "uploading" && this.#expired) meta += " · Waiting for you to sign in again";
    else if (s == "uploading" && p) meta += ` · ${Math.floor((100 * p.sent) / Math.max(p.total, 1))} %${p.rate ? ` · ${bytes(p.rate)}/s` : ""}${p.etaMs != null ? ` · ${duration(p.etaMs)} left` : ""}`;
    if (s == "failed" && r.error) meta = r.error;
    r.meta.textContent = meta;
    r.meta.className = s == "failed" ? "meta bad" : s == "completed" ? "meta ok" : "meta";
    const b = (label, what) => h("button", { type: "button", "aria-label": `${label} ${name}`, onclick: () => up[what](id) }, label);
    const shown = s == "completed" && r.done ? "linked" : s;
    if (r.actions.dataset.for == shown) return;
    r.actions.dataset.for = shown;
    const buttons = {
      queued: [b("Pause", "pause"), b("Cancel", "cancel")],
      uploading: [b("Pause", "pause"), b("Cancel", "cancel")],
      paused: [b("Resume", "resume"), b("Cancel", "cancel")],
      failed: [b("Retry", "retry"), b("Remove", "remove")],
      cancelled: [b("Remove", "remove")],
      completed: [],
    }[s] ?? [];
    for (const btn of buttons) if (btn.textContent == "Remove") btn.onclick = () => this.#remove(id);
    r.actions.replaceChildren(...buttons);
    if (s == "completed" && r.done) this.#links(id, r);
  }

  #remove(id) {
    this.#up.remove(id);
    this.#rows.get(id)?.li?.remove();
    this.#rows.delete(id);
    this.#order = null;
    this.#paint();
  }

  // The stored object's link: its URL, or (attribute `links="presigned"`, for private
  // buckets) a presigned GET; and a button that copies it.
  async #links(id, r) {
    const remove = h("button", { type: "button", "aria-label": `Remove ${r.file.name} from the list`, onclick: () => this.#remove(id) }, "Remove");
    if (this.#linkless) {
      r.meta.textContent = `${bytes(r.file.size)} · Stored as ${r.done.key}`;
      return r.actions.replaceChildren(remove);
    }
    let href = r.done.location;
    const links = this.getAttribute("links") ?? (this.#private ? "presigned" : "");
    if (links == "presigned") href = await this.#up.link(r.done.key).catch(() => null);
    if (!href) return;
    const open = h("a", { className: "button", href, target: "_blank", rel: "noopener", "aria-label": `Open ${r.file.name}` }, "Open");
    const copy = h("button", { type: "button", "aria-label": `Copy link to ${r.file.name}` }, "Copy link");
    copy.onclick = async () => {
      await navigator.clipboard.writeText(href).then(() => (copy.textContent = "Copied"), () => (copy.textContent = "Copy failed"));
      setTimeout(() => (copy.textContent = "Copy link"), 2000);
    };
    r.actions.replaceChildren(open, copy, remove);
  }

  // An image's thumbnail, decoded and scaled off the main thread (createImageBitmap).
  async #thumb(id, file) {
    if (!/^image\//.test(file.type) || typeof createImageBitmap != "function" || file.size > 50e6) return;
    try {
      const bmp = await createImageBitmap(file, { resizeHeight: 96, resizeQuality: "medium" });
      const c = h("canvas", { width: bmp.width, height: bmp.height });
      c.getContext("bitmaprenderer").transferFromImageBitmap(bmp);
      const r = this.#rows.get(id);
      if (r) r.icon ? r.icon.replaceChildren(c) : (r.canvas = c);
    } catch {
      // Not decodable (a format the browser lacks): the extension stays.
    }
  }
}

if (typeof customElements != "undefined" && !customElements.get("updraft-uploader")) {
  customElements.define("updraft-uploader", UpdraftUploader);
}
