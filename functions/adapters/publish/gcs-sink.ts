// The GCS sink: puts a task's provenance beside each artifact it names,
// `gs://b/app.tgz` → `gs://b/app.tgz.intoto.jsonl` (the DSSE envelope as one
// JSON line, the in-toto convention tools such as GUAC read) and
// `gs://b/app.tgz.sigstore.json` (the Sigstore bundle). Both are created only
// if absent (`ifGenerationMatch=0`): an object already there with our bytes is
// a retry that already succeeded; one with other bytes is a conflict, never
// overwritten.
//
// @google-cloud/storage supplies the endpoint (its `apiEndpoint`, which
// follows STORAGE_EMULATOR_HOST, so any local GCS-API server stands in) and the
// credentials (none for an emulator, as the library does). The requests
// themselves are the JSON API's, sent with node:http(s): the library's save()
// and download() take no AbortSignal, and the port demands that a deadline
// cancels the request and closes its socket, which http.request's `signal`
// does (the socket is destroyed, whatever state the request is in).
import { createHash } from 'node:crypto';
import { crc32c } from '@aws-crypto/crc32c';
import { isBucketName } from '../../domain/publish-names.js';
import { PublishConflictError, type PublishOutcome, type SignedProvenance, type Sink } from '../../ports/publisher.js';
import { clip, HttpCaller, type HttpResult, untilAborted } from './http-call.js';

/** The most of a name or an answer a recorded reason shows. */
const SHOWN = 120;

/** What is written beside `object`: the suffix, its content type and which bytes. */
const OBJECTS = [
  { suffix: '.intoto.jsonl', contentType: 'application/x-ndjson', bytes: envelopeLine },
  { suffix: '.sigstore.json', contentType: 'application/vnd.dev.sigstore.bundle.v0.3+json', bytes: bundleBytes },
] as const;

/** Cloud Storage's limit on an object name, in UTF-8 bytes. */
const MAX_OBJECT_NAME = 1024;
const LONGEST_SUFFIX = Math.max(...OBJECTS.map((o) => Buffer.byteLength(o.suffix)));
/** Response bodies we read whole (object resources, error JSON) are small; a larger one is not GCS's. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/** The .intoto.jsonl content: the envelope as one JSON line (the port's envelopeJson, no trailing newline). */
function envelopeLine(p: SignedProvenance): Buffer {
  return Buffer.from(p.envelopeJson);
}
function bundleBytes(p: SignedProvenance): Buffer {
  return Buffer.from(p.bundleJson);
}

/**
 * What the sink takes from a @google-cloud/storage `Storage`: its endpoint and
 * credentials (structural, so both the library's CommonJS and ESM builds fit).
 */
export interface StorageClient {
  /** https://storage.googleapis.com, or STORAGE_EMULATOR_HOST / the apiEndpoint option. */
  apiEndpoint: string;
  /** True for an emulator or a custom endpoint: the library sends no credentials there unless asked. */
  customEndpoint: boolean;
  useAuthWithCustomEndpoint?: boolean | undefined;
  authClient: { getRequestHeaders(url?: string): Promise<Headers> };
}

interface Encoded {
  bytes: Buffer;
  hashes: { md5Hash: string; crc32c: string };
}

export interface GcsTarget {
  bucket: string;
  object: string;
}

export class GcsSink implements Sink {
  readonly name = 'gcs' as const;
  private readonly buckets: ReadonlySet<string>;

  constructor(
    /** GCS_BUCKETS: exact bucket names. */
    buckets: Iterable<string>,
    private readonly storage: StorageClient,
  ) {
    this.buckets = new Set(buckets);
  }

  refuses(target: string): string | undefined {
    const parsed = parseGcsTarget(target);
    if (typeof parsed === 'string') return parsed;
    if (!this.buckets.has(parsed.bucket)) return `bucket "${parsed.bucket}" is not in GCS_BUCKETS`;
    return undefined;
  }

  /** gs://b/x → gs://b/x.intoto.jsonl and gs://b/x.sigstore.json. */
  writes(target: string): string[] {
    return OBJECTS.map((o) => target + o.suffix);
  }

  async publish(target: string, provenance: SignedProvenance, signal: AbortSignal): Promise<PublishOutcome> {
    const refused = this.refuses(target);
    if (refused !== undefined) throw new Error(refused); // publishAll asks first; never trust that
    const { bucket, object } = parseGcsTarget(target) as GcsTarget;
    const metadata = { task: provenance.taskId, keyId: provenance.keyId, envelopeSha256: provenance.envelopeSha256 };
    const conflicts: string[] = [];
    let wrote = false;
    for (const [i, o] of OBJECTS.entries()) {
      const name = object + o.suffix;
      const { bytes, hashes } = this.encoded(provenance)[i] as Encoded;
      const outcome = await this.createOnly(bucket, name, bytes, hashes, o.contentType, metadata, signal);
      if (outcome === 'published') wrote = true;
      else if (outcome !== 'already-published') conflicts.push(outcome.conflict);
    }
    if (conflicts.length > 0) throw new PublishConflictError(conflicts.join('; '));
    return wrote ? 'published' : 'already-published';
  }

  /**
   * The objects' bytes and hashes, computed once per task (per provenance),
   * however many objects it publishes: per subject they cost a task of 1,000
   * GCS subjects ~2 GB of buffers and hashing.
   */
  private encoded(provenance: SignedProvenance): Encoded[] {
    let encoded = this.encodings.get(provenance);
    if (!encoded) {
      encoded = OBJECTS.map((o) => {
        const bytes = o.bytes(provenance);
        return { bytes, hashes: { md5Hash: md5(bytes), crc32c: crc32cBase64(bytes) } };
      });
      this.encodings.set(provenance, encoded);
    }
    return encoded;
  }

  private readonly encodings = new WeakMap<SignedProvenance, Encoded[]>();

  /** One objects.insert (multipart: metadata and bytes in one request) that fails with 412 if the name exists. */
  private async createOnly(
    bucket: string,
    name: string,
    bytes: Buffer,
    hashes: { md5Hash: string; crc32c: string },
    contentType: string,
    metadata: Record<string, string>,
    signal: AbortSignal,
  ): Promise<PublishOutcome | { conflict: string }> {
    // GCS checks the hashes we send against what it received: a corrupted upload fails instead of being stored.
    const resource = { name, contentType, metadata, ...hashes };
    const boundary = `provenance-${Buffer.from(hashes.md5Hash, 'base64').toString('hex')}`;
    const body = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n${JSON.stringify(resource)}\r\n` +
          `--${boundary}\r\nContent-Type: ${contentType}\r\n\r\n`,
      ),
      bytes,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const url = `${this.endpoint()}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=multipart&ifGenerationMatch=0`;
    const res = await this.request(
      url,
      'POST',
      { 'content-type': `multipart/related; boundary=${boundary}` },
      body,
      MAX_RESPONSE_BYTES,
      signal,
    );
    if (res.status === 200) return 'published';
    if (res.status !== 412) throw gcsError(res, `writing gs://${bucket}/${name}`);
    return this.compareExisting(bucket, name, bytes, hashes, signal);
  }

  /** The name exists: ours (a retry, or a concurrent sweep) or someone else's. */
  private async compareExisting(
    bucket: string,
    name: string,
    bytes: Buffer,
    ours: { md5Hash: string; crc32c: string },
    signal: AbortSignal,
  ): Promise<PublishOutcome | { conflict: string }> {
    const objectUrl = `${this.endpoint()}/storage/v1/b/${encodeURIComponent(bucket)}/o/${encodeURIComponent(name)}`;
    const res = await this.request(objectUrl, 'GET', {}, undefined, MAX_RESPONSE_BYTES, signal);
    if (res.status !== 200) throw gcsError(res, `reading gs://${bucket}/${name}`);
    const existing = JSON.parse(res.body.toString('utf8')) as {
      size?: unknown;
      md5Hash?: unknown;
      crc32c?: unknown;
      generation?: unknown;
    };
    const conflict = {
      conflict: `gs://${bucket}/${name} exists with other content (generation ${String(existing.generation)}); not overwritten`,
    };
    if (String(existing.size) !== String(bytes.length)) return conflict;
    if (typeof existing.md5Hash === 'string') {
      // MD5 and CRC32C both over the same bytes: a second preimage of both is not a practical attack.
      return existing.md5Hash === ours.md5Hash && existing.crc32c === ours.crc32c ? 'already-published' : conflict;
    }
    // Composite objects have no MD5: compare the bytes themselves (no more than ours).
    const media = await this.request(`${objectUrl}?alt=media`, 'GET', {}, undefined, bytes.length, signal);
    if (media.status !== 200) throw gcsError(media, `reading gs://${bucket}/${name}`);
    return media.body.equals(bytes) ? 'already-published' : conflict;
  }

  private endpoint(): string {
    return this.storage.apiEndpoint.replace(/\/+$/, '');
  }

  /** One JSON API request with the library's credentials (none for an emulator, like the library). */
  private async request(
    url: string,
    method: 'GET' | 'POST',
    headers: Record<string, string>,
    body: Buffer | undefined,
    maxBytes: number,
    signal: AbortSignal,
  ): Promise<HttpResult> {
    const all: Record<string, string> = { ...headers };
    if (!this.storage.customEndpoint || this.storage.useAuthWithCustomEndpoint) {
      for (const [k, v] of await untilAborted(this.storage.authClient.getRequestHeaders(url), signal)) all[k] = v;
    }
    return this.http.call({ url, method, headers: all, body, maxBytes, signal, peer: 'Cloud Storage' });
  }

  private readonly http = new HttpCaller();
}

/**
 * `gs://<bucket>/<object>` with Cloud Storage's naming rules, stricter where
 * the rules allow names that read as something else: no control characters,
 * no "." or ".." path segments, and room for the longest derived name.
 */
export function parseGcsTarget(target: string): GcsTarget | string {
  const shown = clip(target, SHOWN);
  if (!target.startsWith('gs://')) return `"${shown}" is not a gs://bucket/object URI`;
  const rest = target.slice('gs://'.length);
  const slash = rest.indexOf('/');
  if (slash < 0 || slash === rest.length - 1) return `"${shown}" names no object`;
  const bucket = rest.slice(0, slash);
  const object = rest.slice(slash + 1);
  if (!isBucketName(bucket)) return `"${clip(bucket, SHOWN)}" is not a valid bucket name`;
  if (Buffer.from(object, 'utf8').toString('utf8') !== object) return 'the object name is not valid UTF-8';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f-\u009f]/.test(object)) return 'the object name holds control characters';
  if (object.split('/').some((s) => s === '.' || s === '..')) return 'the object name has a "." or ".." segment';
  if (object.startsWith('.well-known/acme-challenge/')) return 'the object name is reserved by Cloud Storage';
  if (Buffer.byteLength(object) + LONGEST_SUFFIX > MAX_OBJECT_NAME)
    return `the object name is longer than ${MAX_OBJECT_NAME - LONGEST_SUFFIX} bytes (room for the provenance suffix)`;
  return { bucket, object };
}

function md5(bytes: Buffer): string {
  return createHash('md5').update(bytes).digest('base64');
}

/** CRC32C as GCS reports it: the big-endian 4 bytes, base64. */
export function crc32cBase64(bytes: Uint8Array): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(crc32c(bytes) >>> 0);
  return b.toString('base64');
}

/** GCS's error JSON ({error:{code,message}}) as an Error naming what we were doing. */
function gcsError(res: HttpResult, doing: string): Error {
  let message = '';
  try {
    const json = JSON.parse(res.body.toString('utf8')) as { error?: { message?: unknown } };
    if (typeof json.error?.message === 'string') message = `: ${clip(json.error.message, SHOWN)}`;
  } catch {
    // no JSON: the status says enough
  }
  return new Error(`${doing}: HTTP ${res.status}${message}`);
}
