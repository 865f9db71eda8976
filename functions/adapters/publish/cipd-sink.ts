// The CIPD sink: attaches a task's provenance to each CIPD package instance it
// names, as instance metadata (CIPD's Repository.AttachMetadata over pRPC):
// key `slsa-provenance`, content type `application/x-ndjson`, value the
// envelope line exactly as the .intoto.jsonl beside a GCS artifact holds it
// (one JSON line, no trailing newline).
// CIPD keeps metadata as a multimap (a key may hold several values; an
// identical key/value pair is stored once), so a retry or a concurrent sweep
// cannot duplicate an entry, and another value under the same key (another
// task's provenance for the same instance) is no conflict. ListMetadata first
// tells a retry ('already-published') from a first write.
//
// Only hosts on CIPD_HOSTS are contacted, over https with the service
// account's token. A loopback host over plain http is admitted only with the
// test-only `insecureLoopback` option (CIPD_INSECURE_LOOPBACK), only for
// 127.0.0.1 and [::1], and gets no token: a credential never travels over
// plain http (as an emulator gets none from the Google clients).
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { canonicalCipdHost, isLoopbackHost } from '../../domain/publish-names.js';
import { cipdDigest } from '../../domain/report.js';
import { HashAlgo, type ObjectRef, ObjectRefSchema } from '../../gen/cipd/cipd_pb.js';
import {
  AttachMetadataRequestSchema,
  InstanceMetadataSchema,
  ListMetadataRequestSchema,
  ListMetadataResponseSchema,
} from '../../gen/cipd/repo_pb.js';
import type { PublishOutcome, SignedProvenance, Sink } from '../../ports/publisher.js';
import { clip, googleAccessToken, HttpCaller, untilAborted } from './http-call.js';

/** The most of a name or an answer a recorded reason shows. */
const SHOWN = 200;

export const CIPD_METADATA_KEY = 'slsa-provenance';
export const CIPD_METADATA_CONTENT_TYPE = 'application/x-ndjson';
/** CIPD stores metadata values "smaller than 512 Kb". */
export const CIPD_MAX_METADATA_VALUE = 512 * 1024;
const MAX_PACKAGE_NAME = 500;
/** ListMetadata pages followed at most (one key: CIPD answers in one page today). */
const MAX_PAGES = 20;
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
const PRPC_BINARY = 'application/prpc; encoding=binary';

export interface CipdTarget {
  /** Lowercase host[:port], as matched against CIPD_HOSTS. */
  host: string;
  package: string;
  instanceId: string;
  instance: ObjectRef;
}

export interface CipdSinkOptions {
  /** CIPD_HOSTS: backend hosts (host or host:port), e.g. chrome-infra-packages.appspot.com. */
  hosts: Iterable<string>;
  /** An OAuth access token of the service account (scope userinfo.email), sent as a Bearer token. */
  accessToken: () => Promise<string>;
  /** Test only: a listed 127.0.0.1 / [::1] host is reached over plain http, without a token. */
  insecureLoopback?: boolean;
  /** Sends the requests (tests record them); a real HttpCaller by default. */
  http?: Pick<HttpCaller, 'call'>;
}

export class CipdSink implements Sink {
  readonly name = 'cipd' as const;
  private readonly hosts: ReadonlySet<string>;
  private readonly http: Pick<HttpCaller, 'call'>;

  constructor(private readonly options: CipdSinkOptions) {
    this.http = options.http ?? new HttpCaller();
    this.hosts = new Set([...options.hosts].map((h) => canonicalCipdHost(h) ?? `invalid:${h}`));
  }

  refuses(target: string): string | undefined {
    const parsed = parseCipdTarget(target);
    if (typeof parsed === 'string') return parsed;
    if (!this.hosts.has(parsed.host)) return `host "${parsed.host}" is not in CIPD_HOSTS`;
    return undefined;
  }

  async publish(target: string, provenance: SignedProvenance, signal: AbortSignal): Promise<PublishOutcome> {
    const refused = this.refuses(target);
    if (refused !== undefined) throw new Error(refused); // publishAll asks first; never trust that
    const t = parseCipdTarget(target) as CipdTarget;
    const value = Buffer.from(provenance.envelopeJson);
    if (value.length >= CIPD_MAX_METADATA_VALUE)
      throw new Error(
        `the envelope is ${value.length} bytes; CIPD metadata values must be smaller than ${CIPD_MAX_METADATA_VALUE} bytes`,
      );
    if (await this.alreadyAttached(t, value, signal)) return 'already-published';
    const request = create(AttachMetadataRequestSchema, {
      package: t.package,
      instance: t.instance,
      metadata: [
        create(InstanceMetadataSchema, { key: CIPD_METADATA_KEY, value, contentType: CIPD_METADATA_CONTENT_TYPE }),
      ],
    });
    await this.call(t, 'AttachMetadata', Buffer.from(toBinary(AttachMetadataRequestSchema, request)), signal);
    return 'published';
  }

  /** Whether our exact value is already attached under our key. */
  private async alreadyAttached(t: CipdTarget, value: Buffer, signal: AbortSignal): Promise<boolean> {
    let pageToken = '';
    for (let page = 0; page < MAX_PAGES; page++) {
      const request = create(ListMetadataRequestSchema, {
        package: t.package,
        instance: t.instance,
        keys: [CIPD_METADATA_KEY],
        pageToken,
      });
      const body = await this.call(
        t,
        'ListMetadata',
        Buffer.from(toBinary(ListMetadataRequestSchema, request)),
        signal,
      );
      const response = fromBinary(ListMetadataResponseSchema, body);
      if (response.metadata.some((m) => m.key === CIPD_METADATA_KEY && value.equals(m.value))) return true;
      pageToken = response.nextPageToken;
      if (pageToken === '') return false;
    }
    return false; // attaching again is harmless: CIPD stores an identical pair once
  }

  /** One pRPC call (binary encoding); a non-OK gRPC code is an error naming it. */
  private async call(t: CipdTarget, method: string, body: Buffer, signal: AbortSignal): Promise<Buffer> {
    const insecure = this.options.insecureLoopback === true && isLoopbackHost(t.host);
    const headers: Record<string, string> = { 'content-type': PRPC_BINARY, accept: PRPC_BINARY };
    if (!insecure) headers.authorization = `Bearer ${await untilAborted(this.options.accessToken(), signal)}`;
    const res = await this.http.call({
      url: `${insecure ? 'http' : 'https'}://${t.host}/prpc/cipd.Repository/${method}`,
      method: 'POST',
      headers,
      body,
      maxBytes: MAX_RESPONSE_BYTES,
      signal,
      peer: 'CIPD',
    });
    const code = res.headers['x-prpc-grpc-code'];
    const text = () => clip(res.body.toString('utf8').trim(), SHOWN);
    if (code === undefined)
      throw new Error(`CIPD ${method} on ${t.host}: HTTP ${res.status} without a pRPC status: ${text()}`);
    if (code !== '0') {
      const name = GRPC_CODES[Number(code)] ?? `code ${clip(String(code), SHOWN)}`;
      const hint = name === 'PERMISSION_DENIED' ? ' (the service account needs WRITER on the package prefix)' : '';
      throw new Error(`CIPD ${method} ${t.package}@${t.instanceId} on ${t.host}: ${name}: ${text()}${hint}`);
    }
    // An OK answer in another encoding is not CIPD's (a proxy, a catch-all): its body would be misread.
    const type = String(res.headers['content-type'] ?? '');
    if (!/^application\/prpc;\s*encoding=binary\b/i.test(type))
      throw new Error(
        `CIPD ${method} on ${t.host}: answered ${clip(type, SHOWN) || 'no content type'}, not binary pRPC`,
      );
    return res.body;
  }
}

const GRPC_CODES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

const PACKAGE = /^[a-z0-9_\-.]+(\/[a-z0-9_\-.]+)*$/;
/** `cipd://<host>/<package name>@<instance id>`, with CIPD's package and instance id rules. */
export function parseCipdTarget(target: string): CipdTarget | string {
  const shown = clip(target, SHOWN);
  if (!target.startsWith('cipd://')) return `"${shown}" is not a cipd://host/package@instance URI`;
  const rest = target.slice('cipd://'.length);
  const slash = rest.indexOf('/');
  const at = rest.lastIndexOf('@');
  if (slash < 0 || at < slash) return `"${shown}" is not cipd://host/package@instance`;
  const host = canonicalCipdHost(rest.slice(0, slash));
  if (host === undefined) return `"${clip(rest.slice(0, slash), SHOWN)}" is not a valid CIPD host`;
  const pkg = rest.slice(slash + 1, at);
  const instanceId = rest.slice(at + 1);
  if (
    pkg.length === 0 ||
    pkg.length > MAX_PACKAGE_NAME ||
    !PACKAGE.test(pkg) ||
    pkg.split('/').some((p) => /^\.+$/.test(p)) // CIPD forbids dots-only components, not only "." and ".."
  )
    return `"${clip(pkg, SHOWN)}" is not a valid CIPD package name`;
  const digest = cipdDigest(instanceId);
  if (!digest) return `"${clip(instanceId, SHOWN)}" is not a CIPD instance id`;
  const instance =
    'sha1' in digest
      ? create(ObjectRefSchema, { hashAlgo: HashAlgo.SHA1, hexDigest: digest.sha1 })
      : create(ObjectRefSchema, { hashAlgo: HashAlgo.SHA256, hexDigest: digest.sha256 });
  return { host, package: pkg, instanceId, instance };
}

/** The service account's token for CIPD (its backends check the caller's email). */
export const cipdAccessToken = () => googleAccessToken('https://www.googleapis.com/auth/userinfo.email', 'CIPD');
