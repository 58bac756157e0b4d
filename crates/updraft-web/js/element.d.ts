import type { Uploader } from "./updraft.js";

/**
 * `<updraft-uploader>`: a drop zone (files and folders), file and folder pickers,
 * paste, and a row per file with its thumbnail, progress, rate, time left, pause /
 * resume / cancel / retry / remove and, when stored, a link and copy-link.
 *
 * Attributes: `accept` (as `<input type=file>`'s, for the picker), `links="presigned"`
 * (link to a presigned GET, for private objects; else the object's URL), `config` (see
 * below); `resize="N"` scales each JPEG, PNG or WebP larger than N pixels on its longest
 * side to fit before it goes (in a worker, `resize.js`), `resize-quality` (0 to 1, JPEG
 * and WebP; default 0.9), `keep-original` sends the original too (the scaled one named
 * `name-Npx.ext`).
 *
 * Two ways to run it. The page makes an `Uploader` and sets `uploader` (the page signs in).
 * Or `config="config.json"` names a JSON file, the same the demo reads, and the element
 * makes its Uploader and signs in itself: `bucket`, `region`, `endpoint`, `pathStyle`;
 * `issuer` and `clientId` (and `redirectUri`, default this page; `issuerName` for its
 * label) give a "Sign in" button for that OpenID Connect issuer (in a window; the redirect URI's page must load the
 * element or call `oidc(...).handleRedirect()`), with `roleArn` and `stsEndpoint` for
 * STS; `google: { clientId }`, `amazon: {}`, `facebook: {}` (each with an optional
 * `scope` and `roleArn`, default the top-level one) a "Sign in with …" button each (the
 * page loads that provider's SDK first, see adapters.d.ts); `identityPoolId` (and
 * `cognitoEndpoint`) a "Continue as a guest" button; `key`
 * (default `{sub}/{uuid}/{path}`), `guestKey` (default `guest/{sub}/{uuid}/{path}`),
 * `acl` (signed-in users only; links are presigned unless it is `public-read…`); `guestLinks: true` when the guest role may read what it
 * wrote (else a guest's rows name the key, with no link that S3 would refuse). It fires `signedin` (`detail.uploader`) on each sign-in.
 * Events: `signin` (bubbles, composed) when the person asks to sign in again after
 * `credentialsExpired`: sign in, then call `uploader.refreshCredentials()`.
 * CSS: `--updraft-rows-height` caps the list's height (default 28rem).
 */
export class UpdraftUploader extends HTMLElement {
  /** The Uploader the element drives; set it before files are added. */
  uploader: Uploader | undefined;
  /** With `config`: the OpenID Connect sign-in the element made (`oidc.d.ts`), else null. */
  readonly auth: unknown;
  /** Adds files and starts them, as dropping them does. */
  add(files: FileList | File[]): Promise<void>;
}

/** What this browser lacks of what the element needs (`WebAssembly`, `Blob.slice`, `XMLHttpRequest`); empty when nothing. */
export function missing(): string[];
/** `n` bytes for a person, in powers of 1000: `1.5 MB`. */
export function bytes(n: number): string;
/** A duration for a person: `12 s`, `3 min`, `2.5 h`. */
export function duration(ms: number): string;

declare global {
  interface HTMLElementTagNameMap {
    "updraft-uploader": UpdraftUploader;
  }
}
