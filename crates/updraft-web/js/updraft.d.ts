// Types of the `updraft` package. Defaults are the engine's: see updraft-core's
// `EngineConfig` and `PlanConfig` docs (6 requests at once, CRC64NVME, 8 MiB parts).

/** Something that gives temporary AWS keys to an `Uploader`. */
export interface CredentialsProvider {
  refresh(core: unknown, region: string): Promise<string>;
}

export interface WebIdentityOptions {
  /** The role to assume, e.g. `arn:aws:iam::123456789012:role/uploader`. */
  roleArn: string;
  /** The current ID token (OpenID Connect, Google) or access token (Amazon, Facebook); null when signed out. */
  token: () => Promise<string | null>;
  /** Only for OAuth 2.0 providers: `www.amazon.com`, `graph.facebook.com`. */
  providerId?: string;
  /** Session length asked of STS (900 to the role's maximum); STS's default when absent. */
  durationSeconds?: number;
  /** Default `https://sts.{region}.amazonaws.com`. */
  stsEndpoint?: string;
  /** Default `updraft`. */
  sessionName?: string;
}
export function webIdentity(options: WebIdentityOptions): CredentialsProvider;

export interface CognitoOptions {
  identityPoolId: string;
  /** Default: the uploader's region. */
  region?: string;
  /** Provider name → token; absent or empty for a guest. */
  logins?: Record<string, string> | (() => Promise<Record<string, string>>);
  /** Default `https://cognito-identity.{region}.amazonaws.com`. */
  endpoint?: string;
}
export function cognitoIdentityPool(options: CognitoOptions): CredentialsProvider;

export interface StaticKeys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** When the keys expire (ISO 8601 or a Date). */
  expiration?: string | Date;
}
export function staticCredentials(
  keys: StaticKeys,
  options?: { refresh?: () => Promise<StaticKeys>; sub?: string },
): CredentialsProvider;

export interface Validation {
  maxSize?: number;
  minSize?: number;
  /** `image/png`, or `image/*` for a family. */
  allowedTypes?: string[];
  /** Without the dot, any case. */
  allowedExtensions?: string[];
  maxFiles?: number;
}

export interface UploaderOptions {
  bucket: string;
  /** Default `us-east-1`. */
  region?: string;
  /** An S3-compatible endpoint URL; default AWS S3 in `region`. */
  endpoint?: string;
  pathStyle?: boolean;
  credentials: CredentialsProvider;
  /**
   * Key template with `{sub}`, `{uuid}`, `{name}`, `{path}` (the file's path inside a
   * dropped or picked folder, folders kept), `{ext}`, `{date}`; default `{sub}/{uuid}/{name}`.
   */
  key?: string;
  /** A canned ACL, e.g. `public-read`. */
  acl?: string;
  metadata?: Record<string, string>;
  /** Default: the file's type, else from its extension. */
  contentType?: string;
  storageClass?: string;
  /** Bytes per part; files of at least this size go multipart. */
  partSize?: number;
  /** Requests in flight at once, parts and files together. */
  concurrency?: number;
  checksum?: "CRC64NVME" | "CRC32C" | "none";
  validation?: Validation;
  /**
   * Files up to this many bytes go as POST Object forms (CORS simple requests: no
   * preflight; progress only when done); 0 sends every file by PUT. Default 1 MiB.
   */
  postMaxSize?: number;
  /**
   * More URLs of the bucket, each on a host name of its own, that POST forms are spread
   * over: a browser opens at most 6 connections to a host, so with n of them small files
   * go up to `concurrency` at once to each of the n + 1 hosts (PUTs and parts still to
   * `endpoint` alone). On AWS, the bucket's dual-stack name
   * (`https://BUCKET.s3.dualstack.REGION.amazonaws.com`) and its path-style names
   * (`https://s3.REGION.amazonaws.com/BUCKET`, `https://s3.dualstack.REGION.amazonaws.com/BUCKET`)
   * reach the same bucket under the same CORS rules; the page's Content-Security-Policy
   * (`connect-src`) must allow each. Default none.
   */
  formUrls?: string[];
  /**
   * A request that moves no byte for this many ms is abandoned and retried (a form gets
   * 1 ms more per 16 bytes of its file, a request without a file body five times as
   * long); 0 never. Default 60000 (`STALL_TIMEOUT_MS` in updraft-core's engine).
   */
  stallTimeout?: number;
}

export type Status = "queued" | "uploading" | "paused" | "completed" | "failed" | "cancelled";

export interface Progress {
  sent: number;
  total: number;
  /** Bytes per second. */
  rate: number;
  etaMs?: number;
}

export interface Events {
  submit: { id: number };
  statusChange: { id: number; status: Status };
  progress: Progress & { id: number; all: Progress };
  complete: { id: number; bucket: string; key: string; location: string; etag: string; checksum?: string };
  /**
   * `id` is null for errors not tied to an upload: a file `add()` refused (then `file` is
   * that File, and `name` its name) or a credentials failure.
   */
  error: { id: number | null; name?: string; file?: Blob; key?: string; message: string; signIn?: boolean };
  allComplete: { completed: number; failed: number; cancelled: number };
  /** The sign-in expired: uploads wait; call `refreshCredentials()` after signing in again. */
  credentialsExpired: { message: string };
}

export interface ResumableUpload {
  name: string;
  key: string;
  bucket: string;
  size: number;
  partsDone: number;
  partSize: number;
}

/** An object as a listing shows it. */
export interface StoredObject {
  key: string;
  size: number;
  lastModified: Date;
  /** As S3 gives it, in double quotes. */
  etag: string;
}

export interface ObjectPage {
  objects: StoredObject[];
  /** Pass as `next` to `list()` for the following page; absent on the last. */
  next?: string;
}

export class Uploader {
  constructor(options: UploaderOptions);
  on<K extends keyof Events>(type: K, handler: (detail: Events[K]) => void): () => void;
  add(files: FileList | File[] | Blob): Promise<number[]>;
  start(): void;
  pause(id?: number): void;
  resume(id?: number): void;
  cancel(id?: number): void;
  retry(id?: number): void;
  remove(id?: number): void;
  status(id: number): Status | undefined;
  /** Uploads stored by earlier pages that continue when their file is added again. */
  resumable(): Promise<ResumableUpload[]>;
  refreshCredentials(): Promise<void>;
  /**
   * The signed-in user's folder: the key template up to its first per-file part, cut
   * back to the last `/` (`alice/` for `{sub}/{uuid}/{name}`; `""`, the whole bucket, for
   * a template that starts with `{date}`).
   */
  prefix(): Promise<string>;
  /** One page (up to 1000) of the objects under `prefix`, default `prefix()`. */
  list(options?: { prefix?: string; next?: string }): Promise<ObjectPage>;
  /** Deletes an object; resolves also when there was none (S3 answers the same). */
  delete(key: string): Promise<void>;
  /**
   * A presigned GET URL for the object, signed with the uploads' credentials: it works
   * for private objects, until `expiresIn` seconds pass (default 3600; 1 to 604800) or
   * the session the credentials came from ends, whichever is first.
   */
  link(key: string, options?: { expiresIn?: number }): Promise<string>;
}

/**
 * Jobs for a module worker that `start` makes, answered `{ n, value }` or `{ n, error }`,
 * and `{ n, progress }` on the way for a job's `onprogress`; `here(job)` does one on this
 * thread when workers are unavailable or the worker failed. (How the package's worker —
 * requests and checksums — and the widget's resize worker run.)
 */
export function offThread<J extends { onprogress?: (progress: any) => void }, V>(start: () => Worker, here: (job: J) => Promise<V>): (job: J) => Promise<V>;

/** CRC of a Blob (`CRC64NVME` or `CRC32C`) as S3 computes it. */
export function crcOf(blob: Blob, algorithm: "CRC64NVME" | "CRC32C"): Promise<bigint>;
