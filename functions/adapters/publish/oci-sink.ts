// The OCI sink: a task's Sigstore bundle as an OCI 1.1 artifact whose subject
// is the image manifest (the scheme of cosign v3, Tekton Chains, GitHub and
// @sigstore/oci): the bundle is a blob, an artifact manifest (artifactType =
// the bundle media type, config = the empty descriptor) points at it, and where
// the registry has no Referrers API the sha256-<digest> referrers tag index
// lists it. A registry off OCI_REGISTRIES is refused without a request.
//
// The distribution API calls are made here (http-call.ts) rather than
// through @sigstore/oci, which cannot do what the port requires: it stamps
// each artifact with the time of the push (so a retry pushes a second
// referrer), cannot look for an existing one first, and follows a registry's
// redirects to any host. Every request carries the publication's AbortSignal,
// which aborts the request and its socket; redirects are never followed;
// bodies are read with a size cap. The artifact manifest is deterministic (no timestamp), so
// the same bundle for the same image is the same manifest digest, and a retry
// finds it and writes nothing.
import { createHash } from 'node:crypto';
import { PublishConflictError, type PublishOutcome, type SignedProvenance, type Sink } from '../../ports/publisher.js';
import { googleAccessToken, HttpCaller, type HttpCall, type HttpResult, untilAborted } from './http-call.js';
import {
  ociAllowed,
  OciNameError,
  parseOciTarget,
  type OciRegistryRule,
  type OciTarget,
} from '../../domain/oci-allowlist.js';

export const BUNDLE_ARTIFACT_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
const MANIFEST_TYPES = [
  OCI_MANIFEST,
  OCI_INDEX,
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');
/** Names the bundle inside the artifact manifest, and so in the referrers list (how a retry finds it). */
export const BUNDLE_DIGEST_ANNOTATION = 'dev.sigstore.bundle.digest';
const EMPTY_BLOB = Buffer.from('{}');
/** Writes of the referrers tag per publication while concurrent writers keep replacing it. */
const TAG_WRITES = 3;
/** Largest index or error body read from a registry. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

export class OciRegistryError extends Error {
  readonly code = 'OCI_REGISTRY_ERROR';
}

export interface OciSinkOptions {
  /** The Authorization header for a registry, or undefined for none (e.g. Artifact Registry: a Bearer access token). */
  authorization?: (registry: string, signal: AbortSignal) => Promise<string | undefined>;
  /** Counts every request made (the bench's requests per subject). */
  onRequest?: (method: string, url: string) => void;
}

interface Bundle {
  bytes: Buffer;
  digest: string;
  uploads: Map<string, Promise<void>>;
  noReferrersApi: Set<string>;
}

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

interface Index {
  schemaVersion: 2;
  mediaType: string;
  manifests: Descriptor[];
}

export class OciSink implements Sink {
  readonly name = 'oci' as const;
  /**
   * Per provenance (per task): the bundle's bytes, encoded once however many
   * images it has, and the blob uploads in flight per repository, so images of
   * one repository published at once upload the bundle once (registries race,
   * or fail, on concurrent uploads of one blob).
   */
  private readonly bundles = new WeakMap<SignedProvenance, Bundle>();
  private readonly http = new HttpCaller();

  constructor(
    private readonly registries: readonly OciRegistryRule[],
    private readonly options: OciSinkOptions = {},
  ) {}

  refuses(target: string): string | undefined {
    let parsed: OciTarget;
    try {
      parsed = parseOciTarget(target);
    } catch (err) {
      if (err instanceof OciNameError) return `not an OCI image target: ${err.message}`;
      throw err;
    }
    if (!ociAllowed(this.registries, parsed)) return `${parsed.registry}/${parsed.repository} is not on OCI_REGISTRIES`;
    return undefined;
  }

  async publish(target: string, provenance: SignedProvenance, signal: AbortSignal): Promise<PublishOutcome> {
    const refusal = this.refuses(target);
    if (refusal) throw new OciRegistryError(refusal); // the loop asks first; a sink never trusts that it did
    const image = parseOciTarget(target);
    const registry = new Registry(image, signal, this.http, this.options);
    await registry.signIn();
    const bundle = this.bundleOf(provenance);

    const referrers = await registry.referrers(bundle.noReferrersApi);
    const subject = await registry.manifestDescriptor(image.digest);
    const annotations = {
      [BUNDLE_DIGEST_ANNOTATION]: bundle.digest,
      'dev.sigstore.bundle.predicateType': 'https://slsa.dev/provenance/v1',
    };
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        artifactType: BUNDLE_ARTIFACT_TYPE,
        config: { mediaType: OCI_EMPTY, digest: sha256(EMPTY_BLOB), size: EMPTY_BLOB.length },
        layers: [{ mediaType: BUNDLE_ARTIFACT_TYPE, digest: bundle.digest, size: bundle.bytes.length }],
        subject,
        annotations,
      }),
    );
    const manifestDigest = sha256(manifest);
    // Ours is deterministic: found by its digest, it is a retry. Another manifest claiming
    // our bundle is not ours (forged, or corrupted): a conflict, recorded, and nothing pushed.
    if (referrers.list.some((d) => d.digest === manifestDigest)) return 'already-published';
    const claimant = referrers.list.find((d) => d.annotations?.[BUNDLE_DIGEST_ANNOTATION] === bundle.digest);
    if (claimant)
      throw new PublishConflictError(
        `a referrer of ${image.digest} claims this bundle but is another manifest (${clipped(claimant.digest)}); not overwritten`,
      );
    await once(bundle.uploads, `${image.registry}/${image.repository}`, async () => {
      await registry.ensureBlob(bundle.bytes, bundle.digest);
      await registry.ensureBlob(EMPTY_BLOB, sha256(EMPTY_BLOB));
    });
    const { subjectHonoured } = await registry.putManifest(manifestDigest, manifest, OCI_MANIFEST);
    if (subjectHonoured && referrers.api) return 'published';
    // No Referrers API: list the artifact in the referrers tag's index (distribution-spec's fallback).
    // The index is read, extended and written whole, so another task publishing to the same image
    // at the same moment can replace it with its own list: the write is read back and redone from
    // the fresh list until ours is listed. Each writer only adds; none drops another's for good.
    const ours: Descriptor = {
      mediaType: OCI_MANIFEST,
      digest: manifestDigest,
      size: manifest.length,
      artifactType: BUNDLE_ARTIFACT_TYPE,
      annotations,
    };
    let listed = referrers.list;
    for (let write = 0; !listed.some((d) => d.digest === manifestDigest); write++) {
      if (write === TAG_WRITES)
        throw new OciRegistryError(`the referrers tag of ${image.digest} kept changing while it was written`);
      const index: Index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [...listed, ours] };
      await registry.putManifest(image.digest.replace(':', '-'), Buffer.from(JSON.stringify(index)), OCI_INDEX);
      listed = await registry.referrersTag();
    }
    return 'published';
  }

  private bundleOf(provenance: SignedProvenance): Bundle {
    let bundle = this.bundles.get(provenance);
    if (!bundle) {
      const bytes = Buffer.from(provenance.bundleJson, 'utf8');
      bundle = { bytes, digest: sha256(bytes), uploads: new Map(), noReferrersApi: new Set() };
      this.bundles.set(provenance, bundle);
    }
    return bundle;
  }
}

/** Runs `work` once per key while it succeeds; a failure is forgotten, so the next caller tries again. */
function once(inFlight: Map<string, Promise<void>>, key: string, work: () => Promise<void>): Promise<void> {
  let running = inFlight.get(key);
  if (!running) {
    running = work();
    inFlight.set(key, running);
    running.catch(() => inFlight.delete(key));
  }
  return running;
}

/** One publication's requests to one repository, all under its signal. */
class Registry {
  private readonly base: string;
  private readonly origin: string;
  private auth: string | undefined;

  constructor(
    private readonly image: OciTarget,
    private readonly signal: AbortSignal,
    private readonly http: HttpCaller,
    private readonly options: OciSinkOptions,
  ) {
    // Plain HTTP only for a registry on loopback (tests, a local mirror); TLS for every other.
    const host = image.registry.replace(/:\d+$/, '');
    const scheme = host === 'localhost' || host === '127.0.0.1' ? 'http' : 'https';
    this.origin = `${scheme}://${image.registry}`;
    this.base = `${this.origin}/v2/${image.repository}`;
  }

  async signIn(): Promise<void> {
    const auth = this.options.authorization?.(this.image.registry, this.signal);
    this.auth = auth && (await untilAborted(auth, this.signal));
  }

  /**
   * The artifacts already referring to the image: the Referrers API's list,
   * or else the referrers tag's index. `noApi` remembers, per task, the
   * registries that answered the Referrers API with 404 (a registry that has
   * it answers 200 even when the list is empty), so they are not asked again.
   */
  async referrers(noApi: Set<string>): Promise<{ api: boolean; list: Descriptor[] }> {
    if (!noApi.has(this.image.registry)) {
      const viaApi = await this.request('GET', `${this.base}/referrers/${this.image.digest}`, { accept: OCI_INDEX });
      if (viaApi.status === 200 && (header(viaApi, 'content-type') ?? '').startsWith(OCI_INDEX))
        return { api: true, list: indexManifests(parseJson(viaApi.body)) };
      if (viaApi.status === 404 || viaApi.status === 405) noApi.add(this.image.registry);
      else if (viaApi.status !== 200) throw this.unexpected('GET referrers', viaApi);
    }
    return { api: false, list: await this.referrersTag() };
  }

  /** The referrers tag's index (sha256-<hex>), empty when there is none. */
  async referrersTag(): Promise<Descriptor[]> {
    const tag = this.image.digest.replace(':', '-');
    const viaTag = await this.request('GET', `${this.base}/manifests/${tag}`, { accept: OCI_INDEX });
    if (viaTag.status === 404) return [];
    if (viaTag.status !== 200) throw this.unexpected(`GET the referrers tag ${tag}`, viaTag);
    const index = parseJson(viaTag.body);
    if ((index as { mediaType?: unknown }).mediaType !== OCI_INDEX)
      throw new OciRegistryError(`the referrers tag ${tag} is not an OCI image index; left as it is`);
    return indexManifests(index);
  }

  /** The image manifest as a descriptor (the artifact's subject); it must exist. */
  async manifestDescriptor(digest: string): Promise<Descriptor> {
    const res = await this.request('HEAD', `${this.base}/manifests/${digest}`, { accept: MANIFEST_TYPES });
    if (res.status === 404) throw new OciRegistryError(`the image manifest ${digest} is not in the registry`);
    if (res.status !== 200) throw this.unexpected('HEAD the image manifest', res);
    const size = Number(header(res, 'content-length'));
    const mediaType = (header(res, 'content-type') ?? '').split(';')[0]?.trim() ?? '';
    if (!Number.isSafeInteger(size) || size <= 0 || !mediaType)
      throw new OciRegistryError('the registry did not give the image manifest a media type and size');
    return { mediaType, digest, size };
  }

  async ensureBlob(bytes: Buffer, digest: string): Promise<void> {
    const head = await this.request('HEAD', `${this.base}/blobs/${digest}`);
    // A registry may answer an existing blob with a redirect to its storage: it exists.
    if (head.status === 200 || head.status === 307 || head.status === 302) return;
    if (head.status !== 404) throw this.unexpected('HEAD a blob', head);
    const start = await this.request('POST', `${this.base}/blobs/uploads/`);
    if (start.status !== 202) throw this.unexpected('start a blob upload', start);
    const location = new URL(header(start, 'location') ?? '', this.origin);
    if (location.origin !== this.origin)
      throw new OciRegistryError(`the registry sent the upload to another origin (${location.origin}); not followed`);
    location.searchParams.set('digest', digest);
    const put = await this.request('PUT', location.href, { 'content-type': 'application/octet-stream' }, bytes);
    if (put.status !== 201) throw this.unexpected('upload a blob', put);
  }

  async putManifest(reference: string, body: Buffer, mediaType: string): Promise<{ subjectHonoured: boolean }> {
    const res = await this.request('PUT', `${this.base}/manifests/${reference}`, { 'content-type': mediaType }, body);
    if (res.status !== 201) throw this.unexpected(`PUT the manifest ${reference}`, res);
    return { subjectHonoured: 'oci-subject' in res.headers };
  }

  private request(method: HttpCall['method'], url: string, headers: Record<string, string> = {}, body?: Buffer) {
    this.options.onRequest?.(method, url);
    return this.http.call({
      method,
      url,
      headers: { ...headers, ...(this.auth ? { authorization: this.auth } : {}) },
      body,
      signal: this.signal,
      maxBytes: MAX_BODY_BYTES,
      peer: `the registry ${this.image.registry}`,
    });
  }

  private unexpected(what: string, res: HttpResult): OciRegistryError {
    const detail = res.body.subarray(0, 200).toString('utf8');
    return new OciRegistryError(
      `${what} at ${this.image.registry}/${this.image.repository}: HTTP ${res.status}${detail ? ` ${detail}` : ''}`,
    );
  }
}

function indexManifests(index: unknown): Descriptor[] {
  const manifests = (index as { manifests?: unknown }).manifests;
  if (!Array.isArray(manifests)) throw new OciRegistryError('the referrers index has no manifests list');
  return manifests.filter(
    (d): d is Descriptor => typeof d === 'object' && d !== null && typeof (d as Descriptor).digest === 'string',
  );
}

function header(res: HttpResult, name: string): string | undefined {
  const value = res.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw new OciRegistryError('the registry answered JSON that does not parse');
  }
}

/** A registry-supplied string as shown in a reason: short, printable. */
const clipped = (s: string) => s.slice(0, 80).replace(/[^\x20-\x7e]/g, '?');

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Artifact Registry and gcr.io take the service account's access token as a Bearer token; other registries get none. */
export function googleRegistryAuthorization(
  accessToken: () => Promise<string>,
): (registry: string) => Promise<string | undefined> {
  return async (registry) => {
    const host = registry.replace(/:\d+$/, '');
    const google = host.endsWith('-docker.pkg.dev') || host === 'gcr.io' || host.endsWith('.gcr.io');
    return google ? `Bearer ${await accessToken()}` : undefined;
  };
}

/** The service account's token for Artifact Registry and gcr.io. */
export const registryAccessToken = () =>
  googleAccessToken('https://www.googleapis.com/auth/cloud-platform', 'the registry');
