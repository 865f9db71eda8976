// Reads from the read API on this page's own origin (relative URLs only, so
// the page works behind a path prefix or `gcloud run services proxy`).
import { apiBase } from './dom';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function get(path: string): Promise<Response> {
  const res = await fetch(new URL(path, apiBase()), { credentials: 'same-origin', cache: 'no-cache' });
  if (res.ok) return res;
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as { message?: unknown };
    if (typeof body.message === 'string') message = body.message;
  } catch {
    // not a JSON error body: keep the status line
  }
  throw new ApiError(res.status, message);
}

export async function getJson(path: string): Promise<unknown> {
  return (await get(path)).json() as Promise<unknown>;
}

/** Pages of an artifact's envelopes followed at most: the page says when there were more. */
export const MAX_ENVELOPE_PAGES = 10;

/**
 * Every envelope naming the artifact, following the read API's pages
 * (X-Next-Page-Token) up to MAX_ENVELOPE_PAGES; pages concatenate as ndjson.
 */
export async function artifactEnvelopes(hex: string): Promise<{ body: string; more: boolean }> {
  let body = '';
  let token: string | null = null;
  for (let page = 0; page < MAX_ENVELOPE_PAGES; page++) {
    const res = await get(`${paths.artifactProvenance(hex)}${token ? `?pageToken=${encodeURIComponent(token)}` : ''}`);
    const text = await res.text();
    body += text.endsWith('\n') || text === '' ? text : `${text}\n`;
    token = res.headers.get('x-next-page-token');
    if (!token) return { body, more: false };
  }
  return { body, more: true };
}

export const paths = {
  keys: () => 'v1/keys',
  artifactProvenance: (hex: string) => `v1/artifacts/sha256:${hex}/provenance`,
  artifactBundle: (hex: string) => `v1/artifacts/sha256:${hex}/bundle`,
  task: (id: string, reporter: string) => `v1/tasks/${encodeURIComponent(id)}?reporter=${encodeURIComponent(reporter)}`,
  taskReports: (id: string, reporter: string, pageToken?: string) =>
    `v1/tasks/${encodeURIComponent(id)}/reports?reporter=${encodeURIComponent(reporter)}${pageToken ? `&pageToken=${encodeURIComponent(pageToken)}` : ''}`,
};

/** JSON lines (the .intoto.jsonl layout); a line that is not JSON is kept as an error, not dropped. */
export function jsonLines(body: string): { value?: unknown; error?: string }[] {
  return body
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line, i) => {
      try {
        return { value: JSON.parse(line) as unknown };
      } catch {
        return { error: `line ${i + 1} is not JSON` };
      }
    });
}
