// Sign-in with Login with Amazon: its access token goes to STS with
// ProviderId=www.amazon.com. Load the LWA SDK (`amazon.Login`) on the page first and
// call `amazon.Login.setClientId` as Amazon describes; `sdk` defaults to its global.
export function amazon({ sdk = globalThis.amazon, scope = "profile" } = {}) {
  let token = null, exp = 0;
  return {
    /** Opens Amazon's sign-in; resolves when the user signed in. */
    signIn() {
      return new Promise((ok, fail) =>
        sdk.Login.authorize({ scope, response_type: "token" }, (r) => {
          if (r.error || !r.access_token) return fail(new Error(`Login with Amazon failed: ${r.error ?? "no access token"}`));
          token = r.access_token;
          exp = Date.now() + (r.expires_in ?? 3600) * 1000;
          ok(token);
        }));
    },
    token: async () => (token && exp > Date.now() + 30_000 ? token : null),
    providerId: "www.amazon.com",
  };
}
