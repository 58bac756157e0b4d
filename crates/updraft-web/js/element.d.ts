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
 * makes its Uploader and signs in itself: `bucket`, `region`, `endpoint`, `pathStyle`,
 * `formUrls`;
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
 * Every event of its Uploader is fired again by the element as a DOM event (bubbles,
 * composed): `updraft-` and the event's name in lower case — `updraft-submit`,
 * `updraft-statuschange`, `updraft-progress`, `updraft-complete`, `updraft-error`,
 * `updraft-allcomplete`, `updraft-credentialsexpired` — with the Uploader's event in
 * `detail`. A live region announces each file stored or failed and "All n done" (at most
 * once a second), never the percentages.
 * Strings: every one it shows or announces is in {@link strings} (i18n).
 * CSS custom properties, set on the element or any ancestor: `--updraft-fg`,
 * `--updraft-muted`, `--updraft-bg`, `--updraft-line`, `--updraft-accent`, `--updraft-bad`,
 * `--updraft-ok`, `--updraft-zone` (colours; without them it follows
 * `prefers-color-scheme` with its own light and dark ones), `--updraft-font` (default
 * `15px/1.4 system-ui, sans-serif`), `--updraft-rows-height` caps the list's height
 * (default 28rem).
 */
export class UpdraftUploader extends HTMLElement {
  /** The Uploader the element drives; set it before files are added. */
  uploader: Uploader | undefined;
  /** With `config`: the OpenID Connect sign-in the element made (`oidc.d.ts`), else null. */
  readonly auth: unknown;
  /** Adds files and starts them, as dropping them does. */
  add(files: FileList | File[]): Promise<void>;
  /** This element's strings: {@link strings} with the changes set here (before it connects). */
  strings: Partial<Strings>;
}

/** The element's strings; entries with parameters are functions (see element.js for each one's English). */
export interface Strings {
  units: string[];
  seconds(n: number): string; minutes(n: number): string; hours(n: number): string;
  unsupported(lacks: string): string;
  drop: string; chooseFiles: string; chooseFolder: string; filesInput: string; folderInput: string;
  uploads: string; unfinished: string;
  status: Record<"queued" | "uploading" | "paused" | "completed" | "failed" | "cancelled", string>;
  pause: string; resume: string; cancel: string; retry: string; remove: string; open: string;
  copyLink: string; copied: string; copyFailed: string; chooseAgain: string;
  action(action: string, name: string): string; copyLinkTo(name: string): string; chooseAgainFor(name: string): string;
  removeFromList(name: string): string; sent(name: string): string;
  percent(n: number): string; rate(bytes: string): string; left(time: string): string; storedAs(key: string): string;
  unfinishedRow(percent: number, name: string): string;
  filesDone(done: number, files: number): string; failedCount(n: number): string; cancelledCount(n: number): string;
  bytesOf(sent: string, size: string): string;
  stored(name: string): string; failed(name: string, why: string): string; allDone(files: number, failed: number): string;
  expired: string; signInAgain: string; waitingForSignIn: string;
  notResized(name: string, why: string): string; noUploader: string;
  notSignedIn: string; signInToUpload: string; signIn: string; signInWith(provider: string): string;
  signInFailed(provider: string, why: string): string; yourAccount(provider: string): string;
  signedInAs(name: string): string; guest: string; continueAsGuest: string; signOut: string;
  cannotStart(why: string): string;
}

/**
 * Every string the element shows or announces, in English; a page changes entries
 * (`Object.assign(strings, { chooseFiles: "Dateien wählen" })`) for every element, or sets
 * an element's `strings` for that one, before the element connects. Messages that come
 * from the Uploader (S3's and the engine's errors) are its own, in English.
 */
export declare const strings: Strings;

/** What this browser lacks of what the element needs (`WebAssembly`, `Blob.slice`, `XMLHttpRequest`); empty when nothing. */
export function missing(): string[];
/** `n` bytes for a person, in powers of 1000: `1.5 MB`. */
export function bytes(n: number, strings?: Strings): string;
/** A duration for a person: `12 s`, `3 min`, `2.5 h`. */
export function duration(ms: number, strings?: Strings): string;

declare global {
  interface HTMLElementTagNameMap {
    "updraft-uploader": UpdraftUploader;
  }
}
