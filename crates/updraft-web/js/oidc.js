// Sign-in with any OpenID Connect provider: authorization code + PKCE (S256), with
// discovery, and state and nonce checked. The ID token stays in memory; only the
// one-time state, nonce and code verifier wait in sessionStorage across the redirect.
const KEY = "updraft.oidc";
const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const random = () => b64url(crypto.getRandomValues(new Uint8Array(32)));
const claimsOf = (jwt) => JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0))));

/**
 * `issuer` (its discovery document at `/.well-known/openid-configuration`), the client id
 * registered there, and the redirect URI registered for it (default: this page).
 */
export function oidc({ issuer, clientId, redirectUri = location.origin + location.pathname, scope = "openid email" }) {
  issuer = issuer.replace(/\/$/, "");
  let token = null, claims = null, config;
  const discover = async () => {
    if (config) return config;
    const r = await fetch(`${issuer}/.well-known/openid-configuration`);
    if (!r.ok) throw new Error(`the OpenID issuer ${issuer} answered ${r.status} for its discovery document`);
    return (config = await r.json());
  };

  // Exchanges the code in `url` for tokens, after checking state; then the nonce.
  async function finish(url) {
    const p = new URL(url).searchParams, saved = JSON.parse(sessionStorage.getItem(KEY) ?? "null");
    if (p.get("error")) throw new Error(`sign-in at ${issuer} failed: ${p.get("error")} ${p.get("error_description") ?? ""}`.trim());
    if (!saved || p.get("state") !== saved.state) throw new Error("sign-in answer does not match a sign-in this page started (state differs); sign in again");
    sessionStorage.removeItem(KEY);
    const c = await discover();
    const r = await fetch(c.token_endpoint, {
      method: "POST",
      body: new URLSearchParams({ grant_type: "authorization_code", code: p.get("code"), redirect_uri: redirectUri, client_id: clientId, code_verifier: saved.verifier }),
    });
    const body = await r.json().catch(() => ({}));
    if (!r.ok || !body.id_token) throw new Error(`the OpenID issuer ${issuer} refused the code: ${body.error ?? r.status} ${body.error_description ?? ""}`.trim());
    const k = claimsOf(body.id_token);
    if (k.nonce !== saved.nonce) throw new Error("the ID token's nonce differs from this sign-in's; sign in again");
    if (k.iss.replace(/\/$/, "") !== issuer || ![k.aud].flat().includes(clientId)) throw new Error(`the ID token was not issued by ${issuer} for ${clientId}`);
    token = body.id_token;
    claims = k;
    return claims;
  }

  return {
    /** Goes to the issuer's sign-in page; with `{ popup: true }` in a window, resolving to the claims. */
    async signIn({ popup = false, params = {} } = {}) {
      const c = await discover();
      const state = random(), nonce = random(), verifier = random();
      const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
      sessionStorage.setItem(KEY, JSON.stringify({ state, nonce, verifier }));
      const url = `${c.authorization_endpoint}?${new URLSearchParams({ response_type: "code", client_id: clientId, redirect_uri: redirectUri, scope, state, nonce, code_challenge: challenge, code_challenge_method: "S256", ...params })}`;
      if (!popup) return location.assign(url);
      const w = open(url, "updraft-sign-in", "popup,width=480,height=640");
      if (!w) throw new Error("the browser blocked the sign-in window; allow pop-ups for this site");
      return new Promise((ok, fail) => {
        addEventListener("message", async function on(m) {
          if (m.origin !== location.origin || m.source !== w || !m.data?.updraftSignIn) return;
          removeEventListener("message", on);
          w.close();
          finish(m.data.updraftSignIn).then(ok, fail);
        });
      });
    },
    /**
     * On the redirect URI's page load: finishes a sign-in the URL answers (true), or does
     * nothing (false). In a sign-in window, hands the answer to the page that opened it.
     */
    async handleRedirect(url = location.href) {
      const p = new URL(url).searchParams;
      if (!p.has("state") || !(p.has("code") || p.has("error"))) return false;
      let fromOpener = false;
      try {
        fromOpener = !!opener && opener !== window && opener.location.origin === location.origin;
      } catch {}
      if (fromOpener) {
        opener.postMessage({ updraftSignIn: url }, location.origin);
        return true;
      }
      history.replaceState(null, "", location.pathname);
      await finish(url);
      return true;
    },
    /** The ID token while it is valid for another half minute, else null. */
    token: async () => (claims && claims.exp * 1000 > Date.now() + 30_000 ? token : null),
    /** The signed-in user's claims (sub, email...), or null. */
    get user() {
      return claims;
    },
    signOut() {
      token = claims = null;
    },
  };
}
