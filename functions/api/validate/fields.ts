// Validators for single fields. Each takes the field's path (named in the
// error) and its raw value, and returns the normalised value or throws
// InvalidFieldError. Limits are deliberately tight: a build step has no reason
// to send anything near them.
import { InvalidFieldError } from '../../domain/errors.js';
import { cipdDigest, type Sha256Hex } from '../../domain/report.js';

export const LIMITS = {
  shortText: 256,
  recipe: 512,
  uri: 2048,
  gcsObject: 1024,
  refs: 64,
  ref: 256,
  cipdPackage: 500,
  cipdTags: 100,
  cipdTagTotal: 400,
  cipdRefs: 100,
  sbomSubjects: 1000,
  digestMapEntries: 8,
  taskId: 128,
} as const;

const bad = (field: string, problem: string) => new InvalidFieldError(field, problem);

/**
 * Characters no free-text field may hold, each with what it is. They break
 * logs and terminals, or make text read differently from what it is
 * (Trojan Source): C0 and C1 controls and DEL; bidirectional embeddings,
 * overrides, isolates and marks; line and paragraph separators; zero-width
 * and invisible formatting characters; U+FFFD, which stands where bytes were
 * not valid UTF-8.
 */
const FORBIDDEN: [RegExp, string][] = [
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is this pattern's job
  [/[\u0000-\u001f\u007f]/u, 'control characters'],
  [/[\u0080-\u009f]/u, 'C1 control characters'],
  [/[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/u, 'bidirectional control characters'],
  [/[\u2028\u2029]/u, 'line or paragraph separators'],
  [/[\u200b-\u200d\u2060-\u2064\ufeff\u00ad\u180e]/u, 'zero-width or invisible characters'],
  [/\ufffd/u, 'U+FFFD (the replacement for invalid UTF-8)'],
  [/[\ud800-\udfff]/u, 'unpaired surrogates'],
];
const ANY_FORBIDDEN = new RegExp(FORBIDDEN.map(([re]) => re.source).join('|'), 'u');

/** The reason `value` may not stand in a free-text field, or undefined when it may. */
export function forbiddenCharacters(value: string): string | undefined {
  if (!ANY_FORBIDDEN.test(value)) return undefined;
  return FORBIDDEN.find(([re]) => re.test(value))?.[1];
}

export function text(field: string, value: string, opts: { max: number; required?: boolean }): string {
  if (value.length === 0) {
    if (opts.required) throw bad(field, 'is required');
    return '';
  }
  if (value.length > opts.max) throw bad(field, `is longer than ${opts.max} characters`);
  const forbidden = forbiddenCharacters(value);
  if (forbidden) throw bad(field, `contains ${forbidden}`);
  if (value.trim() !== value) throw bad(field, 'has leading or trailing whitespace');
  return value;
}

export function sha256(field: string, value: string): Sha256Hex {
  if (value.length === 0)
    throw bad(field, 'is required (a sha256 digest: 64 hex characters, optionally prefixed "sha256:")');
  const hex = value.toLowerCase().startsWith('sha256:') ? value.slice(7) : value;
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw bad(field, 'must be a sha256 digest: 64 hex characters, optionally prefixed "sha256:"');
  }
  return hex.toLowerCase() as Sha256Hex;
}

export function gitCommit(field: string, value: string): string {
  if (value.length === 0) throw bad(field, 'is required');
  if (!/^([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/.test(value)) {
    throw bad(field, 'must be a full commit id: 40 (SHA-1) or 64 (SHA-256) hex characters');
  }
  return value.toLowerCase();
}

const REF_PART = /^[A-Za-z0-9._+-]+$/;

/** A fully qualified git ref, "refs/heads/main"; rules follow git check-ref-format. */
export function gitRef(field: string, value: string): string {
  if (value.length > LIMITS.ref) throw bad(field, `is longer than ${LIMITS.ref} characters`);
  if (!value.startsWith('refs/')) throw bad(field, `"${clip(value)}" must be a full ref starting with "refs/"`);
  const parts = value.split('/');
  for (const p of parts) {
    if (p === '' || !REF_PART.test(p) || p.startsWith('.') || p.endsWith('.lock') || p.includes('..')) {
      throw bad(field, `"${clip(value)}" is not a valid git ref`);
    }
  }
  if (parts.length < 3) throw bad(field, `"${clip(value)}" is not a valid git ref`);
  return value;
}

/** The seed's comma-separated refs string → sorted, unique list. */
export function gitRefList(field: string, value: string): string[] {
  if (value.trim() === '') return [];
  const items = value.split(',').map((s) => s.trim());
  if (items.length > LIMITS.refs) throw bad(field, `has more than ${LIMITS.refs} refs`);
  return unique(items.map((r) => gitRef(field, r)));
}

const REPO_SCHEMES = new Set(['https:', 'http:', 'ssh:', 'git:']);

export function repoUrl(field: string, value: string): string {
  text(field, value, { max: LIMITS.uri, required: true });
  const url = parseUrl(field, value);
  if (!REPO_SCHEMES.has(url.protocol)) {
    throw bad(field, `scheme "${url.protocol.slice(0, -1)}" is not allowed (use https, http, ssh or git)`);
  }
  if (!url.hostname) throw bad(field, 'has no host');
  if (url.password) throw bad(field, 'must not contain credentials');
  if (url.username && url.protocol !== 'ssh:') throw bad(field, 'must not contain credentials');
  if (url.search || url.hash) throw bad(field, 'must not have a query or fragment');
  return value;
}

const CONFIG_SCHEMES = new Set([
  'https:',
  'http:',
  'ssh:',
  'git:',
  'git+https:',
  'git+http:',
  'git+ssh:',
  'gs:',
  'oci:',
]);

export function configUri(field: string, value: string): string {
  text(field, value, { max: LIMITS.uri, required: true });
  const url = parseUrl(field, value);
  if (!CONFIG_SCHEMES.has(url.protocol)) throw bad(field, `scheme "${url.protocol.slice(0, -1)}" is not allowed`);
  if (url.password) throw bad(field, 'must not contain credentials');
  return value;
}

function parseUrl(field: string, value: string): URL {
  if (/\s/.test(value)) throw bad(field, 'must not contain whitespace');
  try {
    return new URL(value);
  } catch {
    throw bad(field, `"${clip(value)}" is not a valid URL`);
  }
}

const BUCKET = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;

/** gs://bucket/object, with Cloud Storage's bucket and object naming rules. */
export function gcsUri(field: string, value: string): string {
  text(field, value, { max: LIMITS.uri, required: true });
  const m = /^gs:\/\/([^/]+)\/(.+)$/.exec(value);
  if (!m) throw bad(field, 'must be a Cloud Storage URI "gs://bucket/object"');
  const [, bucket = '', object = ''] = m;
  const dotted = bucket.includes('.');
  if (
    !BUCKET.test(bucket) ||
    bucket.includes('..') ||
    (!dotted && bucket.length > 63) ||
    /^\d+\.\d+\.\d+\.\d+$/.test(bucket) ||
    bucket.startsWith('goog')
  ) {
    throw bad(field, `"${clip(bucket)}" is not a valid bucket name`);
  }
  if (dotted && bucket.split('.').some((p) => p.length === 0 || p.length > 63)) {
    throw bad(field, `"${clip(bucket)}" is not a valid bucket name`);
  }
  if (Buffer.byteLength(object) > LIMITS.gcsObject)
    throw bad(field, `object name is longer than ${LIMITS.gcsObject} bytes`);
  if (object === '.' || object === '..' || object.startsWith('.well-known/acme-challenge/')) {
    throw bad(field, 'object name is not allowed');
  }
  return value;
}

const CIPD_PACKAGE = /^[a-z0-9_\-.]+(\/[a-z0-9_\-.]+)*$/;

export function cipdPackage(field: string, value: string): string {
  text(field, value, { max: LIMITS.cipdPackage, required: true });
  if (!CIPD_PACKAGE.test(value) || value.split('/').some((p) => p === '.' || p === '..')) {
    throw bad(
      field,
      `"${clip(value)}" is not a valid CIPD package name (lowercase path like "infra/tools/foo/linux-amd64")`,
    );
  }
  return value;
}

/** Legacy 40-hex SHA-1 ids, or the current 44-character base64url form of a SHA-256 digest. */
export function cipdInstanceId(field: string, value: string): string {
  if (value.length === 0) throw bad(field, 'is required');
  if (!cipdDigest(value)) {
    throw bad(
      field,
      'must be a CIPD instance id (40 lowercase hex, or 44 base64url characters encoding a SHA-256 digest)',
    );
  }
  return value;
}

const CIPD_TAG_KEY = /^[a-z0-9_-]+$/;
const CIPD_TAG_VALUE = /^[A-Za-z0-9$()*+,\-./:;<=>@\\_{}~ ]+$/;

export function cipdTag(field: string, key: string, value: string): string {
  if (!CIPD_TAG_KEY.test(key)) throw bad(`${field}.key`, `"${clip(key)}" is not a valid CIPD tag key ([a-z0-9_-]+)`);
  if (!CIPD_TAG_VALUE.test(value)) throw bad(`${field}.value`, 'is not a valid CIPD tag value');
  const tag = `${key}:${value}`;
  if (tag.length >= LIMITS.cipdTagTotal)
    throw bad(field, `"key:value" must be shorter than ${LIMITS.cipdTagTotal} characters`);
  return tag;
}

export function cipdRefName(field: string, value: string): string {
  if (!/^[a-z0-9_./-]{1,256}$/.test(value)) throw bad(field, `"${clip(value)}" is not a valid CIPD ref name`);
  return value;
}

export function hostname(field: string, value: string): string {
  if (value === '') return '';
  if (
    value.length > 253 ||
    !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/.test(value)
  ) {
    throw bad(field, `"${clip(value)}" is not a valid host name`);
  }
  return value;
}

const OCI_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

/** An image name without tag or digest: "registry.example/path/image". */
export function ociImage(field: string, value: string): string {
  text(field, value, { max: LIMITS.uri, required: true });
  const parts = value.split('/');
  const [registry, ...rest] = parts;
  const registryOk =
    registry !== undefined &&
    /^[a-z0-9.-]+(:\d{1,5})?$/.test(registry) &&
    (registry.includes('.') || registry.includes(':') || registry === 'localhost');
  if (!registryOk || rest.length === 0 || !rest.every((p) => OCI_COMPONENT.test(p))) {
    throw bad(field, `"${clip(value)}" is not an image reference "registry/path/image" (no tag or digest)`);
  }
  return value;
}

export function ociTag(field: string, value: string): string | undefined {
  if (value === '') return undefined;
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(value)) throw bad(field, `"${clip(value)}" is not a valid image tag`);
  return value;
}

const PID_MAX = 2n ** 31n - 1n;

export function pid(field: string, value: bigint, required: true): number;
export function pid(field: string, value: bigint, required: boolean): number | undefined;
export function pid(field: string, value: bigint, required: boolean): number | undefined {
  if (value === 0n) {
    if (required) throw bad(field, 'is required');
    return undefined;
  }
  if (value < 1n || value > PID_MAX) throw bad(field, `must be between 1 and ${PID_MAX}`);
  return Number(value);
}

const EARLIEST = Date.UTC(2000, 0, 1);

export function timestamp(
  field: string,
  value: { seconds: bigint; nanos: number } | undefined,
  now: Date,
  maxSkewSeconds: number,
): Date | undefined {
  if (!value) return undefined;
  const ms = Number(value.seconds) * 1000 + Math.floor(value.nanos / 1e6);
  if (!Number.isFinite(ms) || ms < EARLIEST) throw bad(field, 'is before the year 2000');
  if (ms > now.getTime() + maxSkewSeconds * 1000) throw bad(field, `is more than ${maxSkewSeconds}s in the future`);
  return new Date(ms);
}

export function list<T>(field: string, items: T[], max: number): T[] {
  if (items.length > max) throw bad(field, `has more than ${max} entries`);
  return items;
}

export const unique = (items: string[]): string[] => [...new Set(items)].sort();

const clip = (s: string) => (s.length > 80 ? `${s.slice(0, 77)}...` : s);

/** X-Task-Id: what a CI system calls the run (Cloud Build's BUILD_ID is a UUID). */
export function taskId(value: string | null, field = 'X-Task-Id'): string {
  if (value === null || value === '') throw bad(field, field === 'X-Task-Id' ? 'header is required' : 'is required');
  if (value.length > LIMITS.taskId) throw bad(field, `is longer than ${LIMITS.taskId} characters`);
  if (!/^[A-Za-z0-9][A-Za-z0-9._:@-]*$/.test(value)) {
    throw bad(field, 'may contain only letters, digits and . _ : @ - (and must start with a letter or digit)');
  }
  return value;
}

/** An email address, as the read API's ?reporter= names a task's reporter. */
export function email(field: string, value: string | null): string {
  if (value === null || value === '')
    throw bad(field, 'is required (the email of the identity that reported the task)');
  if (value.length > 254 || !/^[^\s@]+@[^\s@]+$/.test(value)) throw bad(field, 'must be an email address');
  const forbidden = forbiddenCharacters(value);
  if (forbidden) throw bad(field, `contains ${forbidden}`);
  return value.toLowerCase();
}
