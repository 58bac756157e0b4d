// The demo, on the public API only: sign in (OpenID Connect), drop or choose files in
// <updraft-uploader>, follow the link to what was stored, see and delete your files.
// Settings come from config.json, so the same files work against real AWS.
import { Uploader, webIdentity } from "./pkg/updraft.js";
import { oidc } from "./pkg/oidc.js";
import { bytes, missing } from "./pkg/element.js";

const $ = (id) => document.getElementById(id);
const say = (text, bad = false) => { $("status").textContent = text; $("status").className = bad ? "error" : ""; };
const config = await (await fetch("config.json")).json();
const auth = oidc({ issuer: config.issuer, clientId: config.clientId, redirectUri: `${location.origin}/` });
try {
  await auth.handleRedirect();
} catch (e) {
  say(e.message, true);
}
const up = new Uploader({
  bucket: config.bucket,
  region: config.region,
  endpoint: config.endpoint,
  pathStyle: config.pathStyle,
  acl: "public-read",
  key: "{sub}/{uuid}/{path}", // a folder's files keep their folders
  credentials: webIdentity({ roleArn: config.roleArn, stsEndpoint: config.stsEndpoint, token: auth.token }),
});
globalThis.updraftDemo = { up, auth }; // for scripts driving the page
const widget = $("uploader");
widget.uploader = up;

const signedIn = () => {
  $("who").textContent = `Signed in as ${auth.user.email ?? auth.user.sub}.`;
  $("sign-in").textContent = "Sign in again";
  $("sign-in").className = "";
  $("sign-out").hidden = false;
  $("signed-out-hint").hidden = true;
  widget.hidden = $("your-files").hidden = false;
  yours();
};
// The first sign-in leaves the page; signing in again (uploads may be running) opens a
// window, and the uploads go on with the new sign-in.
const signIn = async () => {
  if (!auth.user) return auth.signIn();
  try {
    await auth.signIn({ popup: true });
    signedIn();
    say("");
    await up.refreshCredentials();
  } catch (e) {
    say(e.message, true);
  }
};
$("sign-in").onclick = signIn;
document.addEventListener("signin", signIn); // the widget asks after `credentialsExpired`
$("sign-out").onclick = () => {
  auth.signOut();
  location.reload();
};
if (missing().length) {
  // The widget says what this browser lacks; nothing here can work without it.
  widget.hidden = false;
  $("signed-out-hint").hidden = $("sign-in").hidden = true;
} else if (auth.user) signedIn();

// Your files: the objects under your folder, newest first, a page at a time.
let next;
async function yours(more = false) {
  const list = $("yours");
  try {
    const page = await up.list({ next: more ? next : undefined });
    next = page.next;
    if (!more) list.replaceChildren();
    page.objects.sort((a, b) => b.lastModified - a.lastModified);
    for (const o of page.objects) list.append(row(o));
    $("more").hidden = !next;
    $("yours-status").textContent = list.children.length ? "" : "No files yet.";
  } catch (e) {
    $("yours-status").textContent = e.message;
  }
}
function row(o) {
  const li = document.createElement("li");
  const name = o.key.split("/").slice(2).join("/"); // {sub}/{uuid}/ cut off
  const key = Object.assign(document.createElement("span"), { className: "key", textContent: name, title: o.key });
  const meta = Object.assign(document.createElement("span"), { className: "meta", textContent: `${bytes(o.size)} · ${o.lastModified.toLocaleString()}` });
  const open = Object.assign(document.createElement("a"), { className: "button", textContent: "Open", target: "_blank", rel: "noopener" });
  open.setAttribute("aria-label", `Open ${name}`);
  up.link(o.key).then((href) => (open.href = href), () => open.remove());
  const del = Object.assign(document.createElement("button"), { type: "button", textContent: "Delete" });
  del.setAttribute("aria-label", `Delete ${name}`);
  del.onclick = async () => {
    del.disabled = true;
    try {
      await up.delete(o.key);
      li.remove();
      if (!$("yours").children.length) $("yours-status").textContent = "No files yet.";
    } catch (e) {
      del.disabled = false;
      $("yours-status").textContent = e.message;
    }
  };
  const actions = Object.assign(document.createElement("span"), { className: "actions" });
  actions.append(open, del);
  li.append(key, meta, actions);
  return li;
}
$("more").onclick = () => yours(true);
// A stored file shows up in the list (one listing for a burst of completions).
let relist = 0;
up.on("complete", () => {
  clearTimeout(relist);
  relist = setTimeout(() => yours(), 300);
});
