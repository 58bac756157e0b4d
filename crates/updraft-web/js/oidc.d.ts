export interface OidcOptions {
  /** The issuer URL; its discovery document is at `/.well-known/openid-configuration`. */
  issuer: string;
  clientId: string;
  /** Registered at the issuer; default this page's URL without query. */
  redirectUri?: string;
  /** Default `openid email`. */
  scope?: string;
}
export interface Oidc {
  /** Redirects to the issuer (same tab), or with `popup` resolves to the user's claims. */
  signIn(options?: { popup?: boolean; params?: Record<string, string> }): Promise<unknown>;
  /** Call on the redirect URI's page load: true when it finished a sign-in. */
  handleRedirect(url?: string): Promise<boolean>;
  /** The ID token while valid, else null: pass as `webIdentity({ token })`. */
  token(): Promise<string | null>;
  readonly user: Record<string, unknown> | null;
  signOut(): void;
}
export function oidc(options: OidcOptions): Oidc;
