// Sign-in with Facebook Login: its access token goes to STS with
// ProviderId=graph.facebook.com. Load the Facebook SDK and call `FB.init` first; `sdk`
// defaults to its global `FB`.
export function facebook({ sdk = globalThis.FB, scope = "public_profile" } = {}) {
  let token = null, exp = 0;
  return {
    /** Opens Facebook's sign-in; resolves when the user signed in. */
    signIn() {
      return new Promise((ok, fail) =>
        sdk.login((r) => {
          const a = r?.authResponse;
          if (r?.status !== "connected" || !a?.accessToken) return fail(new Error(`Facebook Login failed: ${r?.status ?? "no answer"}`));
          token = a.accessToken;
          exp = Date.now() + (a.expiresIn ?? 3600) * 1000;
          ok(token);
        }, { scope }));
    },
    token: async () => (token && exp > Date.now() + 30_000 ? token : null),
    providerId: "graph.facebook.com",
  };
}
