// The read API's page tokens: an opaque cursor (where the previous page of a
// subject's envelopes ended) that callers hand back. A token is caller input:
// it is decoded strictly (bounded length, one exact shape, a real time and a
// task key) and only ever used as a query position, so a forged one can do no
// more than start a page elsewhere in the same subject's list.
import { ServiceError } from '../domain/errors.js';
import type { SubjectCursor } from '../ports/provenance-store.js';

const PREFIX = 'v1.';
const MAX_TOKEN = 96;
const TOKEN = /^[A-Za-z0-9_-]+$/;
const CURSOR = /^v1\.(\d{1,15})\.([0-9a-f]{40})$/;

export function pageToken(cursor: SubjectCursor): string {
  return Buffer.from(`${PREFIX}${cursor.signedAt.getTime()}.${cursor.taskKey}`).toString('base64url');
}

/** The cursor a token names, or undefined without one; 400 naming pageToken when it is not one of ours. */
export function parsePageToken(raw: string | null): SubjectCursor | undefined {
  if (raw === null) return undefined;
  const bad = (why: string) => new ServiceError('invalid_argument', `pageToken: ${why}`, 'pageToken');
  if (raw.length === 0 || raw.length > MAX_TOKEN || !TOKEN.test(raw))
    throw bad('is not a page token from this API (use the Link or X-Next-Page-Token of the previous page)');
  const m = CURSOR.exec(Buffer.from(raw, 'base64url').toString('latin1'));
  const ms = Number(m?.[1]);
  if (!m?.[2] || !Number.isSafeInteger(ms) || Number.isNaN(new Date(ms).getTime()))
    throw bad('is not a page token from this API (use the Link or X-Next-Page-Token of the previous page)');
  return { signedAt: new Date(ms), taskKey: m[2] };
}
