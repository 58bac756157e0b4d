// Sign-in with Google Identity Services: its ID token goes to STS as is (the role
// trusts accounts.google.com with your client id as audience). Load
// https://accounts.google.com/gsi/client on the page first; `gsi` defaults to its global.
export function google({ clientId, gsi = globalThis.google }) {
  let token = null, exp = 0;
  return {
    /** Shows Google's One Tap prompt; resolves when the user signed in. */
    signIn(options = {}) {
      return new Promise((ok, fail) => {
        gsi.accounts.id.initialize({
          client_id: clientId,
          ...options,
          callback: ({ credential }) => {
            if (!credential) return fail(new Error("Google gave no ID token; sign in again"));
            token = credential;
            exp = JSON.parse(atob(credential.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).exp * 1000;
            ok(token);
          },
        });
        gsi.accounts.id.prompt();
      });
    },
    token: async () => (token && exp > Date.now() + 30_000 ? token : null),
    providerId: undefined,
  };
}
