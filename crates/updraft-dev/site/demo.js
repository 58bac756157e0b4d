// The demo, on the public API only: sign in (OpenID Connect, same tab), choose files,
// watch them upload, follow the link to what was stored. Settings come from config.json,
// so the same files work against real AWS.
import { Uploader, webIdentity } from "./pkg/updraft.js";
import { oidc } from "./pkg/oidc.js";

const $ = (id) => document.getElementById(id);
const config = await (await fetch("config.json")).json();
const auth = oidc({ issuer: config.issuer, clientId: config.clientId, redirectUri: `${location.origin}/` });
try {
  await auth.handleRedirect();
} catch (e) {
  $("status").textContent = e.message;
}
const up = new Uploader({
  bucket: config.bucket,
  region: config.region,
  endpoint: config.endpoint,
  pathStyle: config.pathStyle,
  acl: "public-read",
  credentials: webIdentity({ roleArn: config.roleArn, stsEndpoint: config.stsEndpoint, token: auth.token }),
});
globalThis.updraftDemo = { up, auth }; // for scripts driving the page

const signedIn = () => {
  $("who").textContent = `Signed in as ${auth.user.email ?? auth.user.sub}.`;
  $("sign-in").textContent = "Sign in again";
  $("files").disabled = false;
};
// The first sign-in leaves the page; signing in again (uploads may be running) opens a
// window, and the uploads go on with the new sign-in.
$("sign-in").onclick = async () => {
  if (!auth.user) return auth.signIn();
  try {
    await auth.signIn({ popup: true });
    signedIn();
    $("status").textContent = "";
    await up.refreshCredentials();
  } catch (e) {
    $("status").textContent = e.message;
  }
};
if (auth.user) signedIn();

const rows = new Map();
$("files").onchange = async () => {
  const files = [...$("files").files];
  const ids = await up.add(files);
  ids.forEach((id, i) => {
    const li = document.createElement("li");
    li.dataset.id = id;
    li.textContent = `${files[i].name}: queued`;
    $("list").append(li);
    rows.set(id, { li, name: files[i].name });
  });
  up.start();
};
up.on("progress", (p) => {
  const r = rows.get(p.id);
  if (r) r.li.textContent = `${r.name}: ${Math.floor((100 * p.sent) / Math.max(p.total, 1))} %`;
});
up.on("complete", (c) => {
  const r = rows.get(c.id);
  if (!r) return;
  const a = document.createElement("a");
  a.href = c.location;
  a.textContent = c.key;
  a.download = r.name;
  r.li.replaceChildren(`${r.name}: stored as `, a);
});
up.on("error", (e) => {
  const r = rows.get(e.id);
  (r ? r.li : $("status")).textContent = e.message;
  (r ? r.li : $("status")).className = "error";
});
up.on("credentialsExpired", () => {
  $("status").textContent = "Your sign-in expired: sign in again to go on (uploads wait).";
});
