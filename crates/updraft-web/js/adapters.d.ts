/** A sign-in adapter: `token` and `providerId` go to `webIdentity`. */
export interface SignIn {
  signIn(options?: Record<string, unknown>): Promise<string>;
  token(): Promise<string | null>;
  providerId: string | undefined;
}
/** Google Identity Services (ID token); `gsi` defaults to the global `google`. */
export function google(options: { clientId: string; gsi?: unknown }): SignIn;
/** Login with Amazon (access token, `www.amazon.com`); `sdk` defaults to the global `amazon`. */
export function amazon(options?: { sdk?: unknown; scope?: string }): SignIn;
/** Facebook Login (access token, `graph.facebook.com`); `sdk` defaults to the global `FB`. */
export function facebook(options?: { sdk?: unknown; scope?: string }): SignIn;
