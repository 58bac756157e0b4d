// <updraft-uploader>: a drop zone, file and folder pickers, paste, and a row per file
// (thumbnail, progress, rate, time left, pause/resume/cancel/retry/remove, link and
// copy-link) over the package's public API. Plain DOM in a shadow root: no framework.
// The page gives it an Uploader (`el.uploader = up`); see element.d.ts.
import { offThread } from "./updraft.js";

const CSS = `
:host{display:block;font:var(--updraft-font,15px/1.4 system-ui,sans-serif);--fg:var(--updraft-fg,#1d1f23);--muted:var(--updraft-muted,#5b6270);--bg:var(--updraft-bg,#fff);--line:var(--updraft-line,#c9ced6);--accent:var(--updraft-accent,#0b5cd5);--bad:var(--updraft-bad,#b3261e);--ok:var(--updraft-ok,#1b6e3a);--zone:var(--updraft-zone,#f4f7fb);color:var(--fg)}
@media (prefers-color-scheme:dark){:host{--fg:var(--updraft-fg,#e8eaee);--muted:var(--updraft-muted,#a9b0bd);--bg:var(--updraft-bg,#17191d);--line:var(--updraft-line,#3b414b);--accent:var(--updraft-accent,#7fb0ff);--bad:var(--updraft-bad,#ff8a80);--ok:var(--updraft-ok,#7bd88f);--zone:var(--updraft-zone,#20242b)}}
*{box-sizing:border-box}
[hidden]{display:none!important}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
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

/**
 * Every string the element shows or announces, in one table a page may change (i18n):
 * `Object.assign(strings, { … })` for every element, or `el.strings = { … }` for one,
 * before it connects. Entries with parameters are functions. Messages that come from the
 * Uploader (S3's and the engine's errors) are its own, in English.
 */
export const strings = {
  units: ["B", "KB", "MB", "GB", "TB"],
  seconds: (n) => `${n} s`, minutes: (n) => `${n} min`, hours: (n) => `${n} h`,
  unsupported: (lacks) => `This browser cannot upload here: it lacks ${lacks}. Use a current Chrome, Edge, Firefox or Safari.`,
  drop: "Drop files or folders here, paste them, or", chooseFiles: "Choose files", chooseFolder: "Choose a folder",
  filesInput: "Files to upload", folderInput: "A folder to upload", uploads: "Uploads", unfinished: "Unfinished uploads",
  status: { queued: "Waiting", uploading: "Uploading", paused: "Paused", completed: "Done", failed: "Failed", cancelled: "Cancelled" },
  pause: "Pause", resume: "Resume", cancel: "Cancel", retry: "Retry", remove: "Remove", open: "Open", copyLink: "Copy link",
  copied: "Copied", copyFailed: "Copy failed", chooseAgain: "Choose again",
  // A button's accessible name: what it does, to which file.
  action: (action, name) => `${action} ${name}`, copyLinkTo: (name) => `Copy link to ${name}`,
  chooseAgainFor: (name) => `Choose again: ${name}`,
  removeFromList: (name) => `Remove ${name} from the list`, sent: (name) => `${name} sent`,
  percent: (n) => `${n} %`, rate: (bytes) => `${bytes}/s`, left: (time) => `${time} left`,
  storedAs: (key) => `Stored as ${key}`,
  unfinishedRow: (percent, name) => `${percent} % sent · add ${name} again to continue`,
  filesDone: (done, files) => `${done} of ${files} file${files == 1 ? "" : "s"} done`,
  failedCount: (n) => `${n} failed`, cancelledCount: (n) => `${n} cancelled`, bytesOf: (sent, size) => `${sent} of ${size}`,
  // Announced (the live region): a file done or failed, and all done.
  stored: (name) => `${name} is stored.`, failed: (name, why) => `${name} failed: ${why}`,
  allDone: (files, failed) => `All ${files} done${failed ? `, ${failed} failed` : ""}.`,
  expired: "Your sign-in has expired: the uploads wait. Sign in again to go on.", signInAgain: "Sign in again",
  waitingForSignIn: "Waiting for you to sign in again",
  notResized: (name, why) => `${name} goes as it is: it could not be resized (${why})`,
  noUploader: "No uploader is set: the page must set `uploader` first.",
  notSignedIn: "Not signed in.", signInToUpload: "Sign in to upload.", signIn: "Sign in", signInWith: (provider) => `Sign in with ${provider}`,
  signInFailed: (provider, why) => `Signing in with ${provider} failed: ${why}`, yourAccount: (provider) => `your ${provider} account`,
  signedInAs: (name) => `Signed in as ${name}.`, guest: "Uploading as a guest.", continueAsGuest: "Continue as a guest", signOut: "Sign out",
  cannotStart: (why) => `The uploader cannot start: ${why}`,
};

/** `n` bytes for a person: 1.5 MB (powers of 1000, as file managers show them). */
export const bytes = (n, t = strings) => {
  let i = 0;
  for (; n >= 1000 && i < t.units.length - 1; i++) n /= 1000;
  return `${i ? n.toFixed(n < 10 ? 1 : 0) : n} ${t.units[i]}`;
};
/** A duration for a person: 12 s, 3 min, 2 h. */
export const duration = (ms, t = strings) => {
  const s = Math.ceil(ms / 1000);
  return s < 60 ? t.seconds(s) : s < 3600 ? t.minutes(Math.round(s / 60)) : t.hours(Math.round(s / 360) / 10);
};

/** What this browser lacks of what the element needs (empty: nothing); without it the element says so instead. */
export const missing = () => [
  typeof WebAssembly != "object" && "WebAssembly",
  typeof Blob == "undefined" || !Blob.prototype.slice ? "Blob.slice" : false,
  typeof XMLHttpRequest == "undefined" && "XMLHttpRequest",
  typeof customElements == "undefined" && "custom elements",
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

export class UpdraftUploader extends HTMLElement {
  #up; #off = []; #rows = new Map(); #dirty = new Set(); #frame = 0; #all = null; #notes = []; #expired = false;
  #shadow = this.attachShadow({ mode: "open" }); #els = {}; #auth = null; #linkless = false; #private = false;
  #order = null; #shown = []; #rowHeight = 68; #strings = {}; #said = []; #saying = 0; #spacers = [h("li", { className: "spacer", "aria-hidden": "true" }), h("li", { className: "spacer", "aria-hidden": "true" })];

  /** The strings this element shows: the table's, with this element's own changes. */
  get strings() { return { ...strings, ...this.#strings }; }
  set strings(changes) { this.#strings = changes; }

  connectedCallback() {
    if (this.#els.zone || this.#shadow.firstChild) return;
    const lack = missing(), t = this.strings;
    if (lack.length) {
      this.#shadow.append(h("style", {}, CSS), h("p", { className: "unsupported", role: "alert" },
        t.unsupported(lack.join(", "))));
      return;
    }
    const id = (s) => `updraft-${s}`;
    const files = h("input", { type: "file", multiple: true, id: id("files"), tabIndex: -1, "aria-label": t.filesInput });
    const folder = h("input", { type: "file", id: id("folder"), tabIndex: -1, "aria-label": t.folderInput });
    folder.webkitdirectory = true;
    if (this.hasAttribute("accept")) files.accept = this.getAttribute("accept");
    const choose = h("button", { type: "button", className: "primary", onclick: () => files.click() }, t.chooseFiles);
    const chooseFolder = h("button", { type: "button", onclick: () => folder.click() }, t.chooseFolder);
    const msg = h("p", { className: "msg", role: "status" });
    const zone = h("div", { className: "zone" },
      h("p", {}, t.drop), choose, " ", chooseFolder, files, folder, msg);
    // The total line changes with every byte: completions and errors are announced in a
    // live region of their own instead.
    const total = h("p", { className: "total" }), live = h("p", { className: "sr", "aria-live": "polite" });
    const list = h("ul", { "aria-label": t.uploads, onscroll: () => (this.#frame ||= requestAnimationFrame(() => this.#paint())) });
    const resume = h("ul", { className: "resume", "aria-label": t.unfinished, hidden: true });
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
    this.#els = { zone, msg, total, list, choose, files, resume, live, t };
    this.#shadow.append(h("style", {}, CSS), zone, resume, total, list, live);
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
    const { zone, t } = this.#els;
    const who = h("span", {}, t.notSignedIn), bar = h("p", { className: "who" }, who);
    this.#shadow.insertBefore(bar, zone);
    zone.hidden = true;
    let c, m, o, auth;
    try {
      [c, m, o] = await Promise.all([
        fetch(url).then((r) => (r.ok ? r.json().catch((e) => Promise.reject(new Error(`${url} is not JSON (${e.message})`))) : Promise.reject(new Error(`${url} answered ${r.status}`)))),
        import("./updraft.js"),
        import("./oidc.js"),
      ]);
      if (c.issuer && c.clientId) {
        auth = this.#auth = o.oidc({ issuer: c.issuer, clientId: c.clientId, redirectUri: c.redirectUri });
        // In the sign-in window this hands the answer to the page that opened it.
        await auth.handleRedirect();
      }
    } catch (e) {
      return bar.replaceChildren(h("span", { className: "bad" }, t.cannotStart(e.message)));
    }
    const button = (label, onclick, primary) => h("button", { type: "button", className: primary ? "primary" : "", onclick }, label);
    const start = (name, credentials, guest) => {
      // A guest may only write (the usual guest role): no link that would be refused.
      this.#linkless = guest && !c.guestLinks;
      // Without a public ACL the object's URL would be refused: link to a presigned GET.
      this.#private = !/^public-read/.test((!guest && c.acl) || "");
      this.uploader = new m.Uploader({
        bucket: c.bucket, region: c.region, endpoint: c.endpoint, pathStyle: c.pathStyle, formUrls: c.formUrls, credentials,
        key: guest ? c.guestKey ?? "guest/{sub}/{uuid}/{path}" : c.key ?? "{sub}/{uuid}/{path}",
        ...(c.acl && !guest ? { acl: c.acl } : {}),
      });
      who.textContent = guest ? t.guest : t.signedInAs(name);
      bar.replaceChildren(who, " ", button(t.signOut, () => {
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
      .map(([k, label]) => button(t.signInWith(label), async () => {
        try {
          const a = (await import(`./${k}.js`))[k]({ clientId: c[k].clientId, scope: c[k].scope });
          await a.signIn();
          again = () => a.signIn();
          start(t.yourAccount(label), m.webIdentity({ roleArn: c[k].roleArn ?? c.roleArn, stsEndpoint: c.stsEndpoint, token: a.token, providerId: a.providerId }));
        } catch (e) {
          this.#say(t.signInFailed(label, e.message), true);
        }
      }));
    const signedOut = () => {
      again = null;
      who.textContent = t.signInToUpload;
      bar.replaceChildren(who, " ",
        ...(auth ? [button(c.issuerName ? t.signInWith(c.issuerName) : t.signIn, signIn, true), " "] : []),
        ...social.flatMap((b) => [b, " "]),
        ...(c.identityPoolId ? [button(t.continueAsGuest, () => start("",
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
    const on = (type, f) => this.#off.push(up.on(type, f)), t = this.#t;
    // Every event of the Uploader again as a DOM event of the element: `updraft-` and its
    // name in lower case (`updraft-complete`, `updraft-statuschange`), the event in `detail`.
    for (const type of ["submit", "statusChange", "progress", "complete", "error", "allComplete", "credentialsExpired"]) {
      on(type, (detail) => this.dispatchEvent(new CustomEvent(`updraft-${type.toLowerCase()}`, { detail, bubbles: true, composed: true })));
    }
    on("statusChange", ({ id, status }) => this.#update(id, { status }));
    on("progress", (p) => {
      // Bytes move after the person chose to sign in again: the prompt has done its work.
      if (this.#expired == "asked") { this.#expired = false; this.#say(""); this.#repaint(); }
      this.#all = p.all;
      this.#update(p.id, { progress: p });
    });
    on("complete", (c) => {
      this.#update(c.id, { status: "completed", done: c });
      this.#announce(t.stored(this.#rows.get(c.id)?.file.name ?? c.key));
    });
    on("error", (e) => {
      if (e.id == null) return this.#note(e.message);
      this.#update(e.id, { status: "failed", error: e.message });
      this.#announce(t.failed(this.#rows.get(e.id)?.file.name ?? "", e.message));
    });
    on("allComplete", (a) => this.#announce(t.allDone(a.completed + a.failed, a.failed)));
    on("credentialsExpired", () => {
      this.#expired = true;
      this.#repaint();
      this.#say(t.expired, true,
        h("button", { type: "button", onclick: () => {
          this.#expired = "asked";
          this.dispatchEvent(new Event("signin", { bubbles: true, composed: true }));
        } }, t.signInAgain));
    });
    if (this.#els.zone) this.#resumable();
  }

  /** Adds files (File[] or a FileList) and starts them. */
  async add(files) {
    if (!this.#up) return this.#say(this.#t.noUploader, true);
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
          this.#note(this.#t.notResized(f.name, e.message));
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

  // The strings of this element (fixed when it connects).
  get #t() { return this.#els.t ?? this.strings; }

  // Said once by a screen reader (a live region): completions, failures, all done.
  #announce(text) {
    const live = this.#els.live;
    if (!live) return;
    this.#said.push(text);
    // Many at once (a batch finishing) are said together, once a second at most.
    this.#saying ||= setTimeout(() => {
      live.textContent = this.#said.length > 3 ? this.#said.slice(-1)[0] : this.#said.join(" ");
      this.#said = [];
      this.#saying = 0;
    }, 1000);
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
    const left = await this.#up.resumable().catch(() => []), t = this.#t;
    const list = this.#els.resume;
    list.replaceChildren(...left.map((r) => {
      const pct = Math.min(99, Math.floor((100 * r.partsDone * r.partSize) / Math.max(r.size, 1)));
      const li = h("li", {},
        h("div", { className: "thumb", "aria-hidden": "true" }, "…"),
        h("div", {}, h("div", { className: "name" }, r.name),
          h("span", { className: "meta" }, `${bytes(r.size, t)} · ${t.unfinishedRow(pct, r.name)}`)),
        h("div", { className: "actions" }, h("button", { type: "button", "aria-label": t.chooseAgainFor(r.name), onclick: () => this.#els.files.click() }, t.chooseAgain)));
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
    const t = this.#t, parts = [t.filesDone(n.completed, files)];
    if (n.failed) parts.push(t.failedCount(n.failed));
    if (n.cancelled) parts.push(t.cancelledCount(n.cancelled));
    parts.push(t.bytesOf(bytes(sent, t), bytes(size, t)));
    if (n.uploading && this.#all?.rate && !this.#expired) parts.push(t.rate(bytes(this.#all.rate, t)));
    this.#els.total.textContent = parts.join(" · ");
  }

  #row(id, at, of) {
    const r = this.#rows.get(id), up = this.#up, name = r.file.name, t = this.#t;
    if (!r.li) {
      r.bar = h("progress", { max: 1, value: 0, "aria-label": t.sent(name) });
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
    const meta = [bytes(r.file.size, t), t.status[s] ?? s];
    if (s == "uploading" && this.#expired) meta.push(t.waitingForSignIn);
    else if (s == "uploading" && p) {
      meta.push(t.percent(Math.floor((100 * p.sent) / Math.max(p.total, 1))));
      if (p.rate) meta.push(t.rate(bytes(p.rate, t)));
      if (p.etaMs != null) meta.push(t.left(duration(p.etaMs, t)));
    }
    r.meta.textContent = s == "failed" && r.error ? r.error : meta.join(" · ");
    r.meta.className = s == "failed" ? "meta bad" : s == "completed" ? "meta ok" : "meta";
    const b = (what) => h("button", { type: "button", "aria-label": t.action(t[what], name), onclick: () => (what == "remove" ? this.#remove(id) : up[what](id)) }, t[what]);
    const shown = s == "completed" && r.done ? "linked" : s;
    if (r.actions.dataset.for == shown) return;
    r.actions.dataset.for = shown;
    const buttons = {
      queued: [b("pause"), b("cancel")],
      uploading: [b("pause"), b("cancel")],
      paused: [b("resume"), b("cancel")],
      failed: [b("retry"), b("remove")],
      cancelled: [b("remove")],
      completed: [],
    }[s] ?? [];
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
    const t = this.#t, remove = h("button", { type: "button", "aria-label": t.removeFromList(r.file.name), onclick: () => this.#remove(id) }, t.remove);
    if (this.#linkless) {
      r.meta.textContent = `${bytes(r.file.size, t)} · ${t.storedAs(r.done.key)}`;
      return r.actions.replaceChildren(remove);
    }
    let href = r.done.location;
    const links = this.getAttribute("links") ?? (this.#private ? "presigned" : "");
    if (links == "presigned") href = await this.#up.link(r.done.key).catch(() => null);
    if (!href) return;
    const open = h("a", { className: "button", href, target: "_blank", rel: "noopener", "aria-label": t.action(t.open, r.file.name) }, t.open);
    const copy = h("button", { type: "button", "aria-label": t.copyLinkTo(r.file.name) }, t.copyLink);
    copy.onclick = async () => {
      await navigator.clipboard.writeText(href).then(() => (copy.textContent = t.copied), () => (copy.textContent = t.copyFailed));
      setTimeout(() => (copy.textContent = t.copyLink), 2000);
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

if (typeof customElements == "undefined") {
  // No custom elements (Edge before 79): the element cannot run, so it says so in place.
  for (const e of document.querySelectorAll("updraft-uploader")) e.textContent = strings.unsupported(missing().join(", "));
} else if (!customElements.get("updraft-uploader")) {
  customElements.define("updraft-uploader", UpdraftUploader);
}
