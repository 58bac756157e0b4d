import type { Uploader } from "./updraft.js";

/**
 * `<updraft-uploader>`: a drop zone (files and folders), file and folder pickers,
 * paste, and a row per file with its thumbnail, progress, rate, time left, pause /
 * resume / cancel / retry / remove and, when stored, a link and copy-link.
 *
 * Attributes: `accept` (as `<input type=file>`'s, for the picker), `links="presigned"`
 * (link to a presigned GET, for private objects; else the object's URL).
 * Events: `signin` (bubbles, composed) when the person asks to sign in again after
 * `credentialsExpired`: sign in, then call `uploader.refreshCredentials()`.
 * CSS: `--updraft-rows-height` caps the list's height (default 28rem).
 */
export class UpdraftUploader extends HTMLElement {
  /** The Uploader the element drives; set it before files are added. */
  uploader: Uploader | undefined;
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
