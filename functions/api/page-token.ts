// The read API's page tokens, for every paged route: an opaque position
// (where the previous page ended: a time and the 40-hex key of its last item)
// that callers hand back. A token is caller input: it is decoded strictly
// (bounded length, one exact shape per route, a real time and a key) and only
// ever used as a query position, so a forged one can do no more than start a
// page elsewhere in the same list. Each route has its own tag, so a token from
// one route is refused by another; an empty token is refused like any other
// that this API did not give.
import { ServiceError } from '../domain/errors.js';
import type { SubjectCursor } from '../ports/provenance-store.js';
import type { ReportCursor } from '../ports/task-store.js';

/** v1: a subject's envelopes (/v1/artifacts/…); r1: a task's reports (/v1/tasks/…/reports). */
type Route = 'v1' | 'r1';
const MAX_TOKEN = 96;
const TOKEN = /^[A-Za-z0-9_-]+$/;
const POSITION = /^([a-z][0-9])\.(\d{1,15})\.([0-9a-f]{40})$/;
const NOT_OURS = 'is not a page token from this API (use the Link or X-Next-Page-Token of the previous page)';

function encode(route: Route, at: Date, key: string): string {
  return Buffer.from(`${route}.${at.getTime()}.${key}`).toString('base64url');
}

function decode(route: Route, raw: string | null): { at: Date; key: string } | undefined {
  if (raw === null) return undefined;
  const bad = new ServiceError('invalid_argument', `pageToken: ${NOT_OURS}`, 'pageToken');
  if (raw.length === 0 || raw.length > MAX_TOKEN || !TOKEN.test(raw)) throw bad;
  const m = POSITION.exec(Buffer.from(raw, 'base64url').toString('latin1'));
  const ms = Number(m?.[2]);
  if (m?.[1] !== route || !m[3] || !Number.isSafeInteger(ms) || Number.isNaN(new Date(ms).getTime())) throw bad;
  return { at: new Date(ms), key: m[3] };
}

export function subjectPageToken(cursor: SubjectCursor): string {
  return encode('v1', cursor.signedAt, cursor.taskKey);
}

/** The cursor a token names, or undefined without one; 400 naming pageToken when it is not one of ours. */
export function parseSubjectPageToken(raw: string | null): SubjectCursor | undefined {
  const p = decode('v1', raw);
  return p && { signedAt: p.at, taskKey: p.key };
}

export function reportsPageToken(cursor: ReportCursor): string {
  return encode('r1', cursor.receivedAt, cursor.id);
}

export function parseReportsPageToken(raw: string | null): ReportCursor | undefined {
  const p = decode('r1', raw);
  return p && { receivedAt: p.at, id: p.key };
}
