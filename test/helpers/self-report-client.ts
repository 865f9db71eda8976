// Builds the selfReport handler around test collaborators and calls it as a
// plain function (no HTTP), the way functions-framework would.
import { DevIssuer, DEV_ISSUER } from '../../functions/adapters/dev-issuer.js';
import { OidcVerifier } from '../../functions/adapters/oidc-verifier.js';
import { MemoryTaskStore } from '../../functions/adapters/memory-task-store.js';
import { selfReportHandler } from '../../functions/app/compose.js';
import { loadConfig } from '../../functions/config.js';
import { fetchHeaders, type HttpHandler, type HttpResponse } from '../../functions/api/http.js';
import type { TaskStore } from '../../functions/ports/task-store.js';
import type { Clock } from '../../functions/ports/clock.js';
import { ManualClock } from './manual-clock.js';

/**
 * A response body as parsed (the text itself when it is not JSON). Tests read
 * only a Connect error's code and message from it.
 */
export type ResponseJson = { code?: string; message: string; [field: string]: unknown };

export const AUDIENCE = 'https://provenance.test';
export const REPORTER = 'builder@example.com';

export interface Harness {
  handler: HttpHandler;
  issuer: DevIssuer;
  store: TaskStore;
  clock: Clock;
  token(opts?: { email?: string; subject?: string }): string;
  call(
    method: string,
    body: unknown,
    opts?: {
      token?: string | null;
      taskId?: string | null;
      contentType?: string;
      raw?: Uint8Array;
      httpMethod?: string;
    },
  ): Promise<{ status: number; json: ResponseJson; res: HttpResponse }>;
}

export function selfReportHarness(
  opts: {
    store?: TaskStore;
    clock?: Clock;
    env?: Record<string, string>;
    onUploadComplete?: (key: string) => Promise<void>;
    issuers?: string[];
    issuer?: DevIssuer;
  } = {},
): Harness {
  const issuer = opts.issuer ?? DevIssuer.ephemeral();
  const store = opts.store ?? new MemoryTaskStore();
  const clock = opts.clock ?? new ManualClock(new Date());
  const config = loadConfig({ AUDIENCE, REPORTER_ALLOWLIST: `${REPORTER},other@example.com`, ...opts.env });
  const certs = issuer.certificates();
  const verifier = new OidcVerifier({
    audience: AUDIENCE,
    issuers: opts.issuers ?? [DEV_ISSUER],
    certificates: async () => certs,
  });
  const handler = selfReportHandler(config, {
    store,
    verifier,
    clock,
    ...(opts.onUploadComplete ? { onUploadComplete: opts.onUploadComplete } : {}),
  });
  const token = (o: { email?: string; subject?: string } = {}) =>
    issuer.mint({ audience: AUDIENCE, email: o.email ?? REPORTER, ...(o.subject ? { subject: o.subject } : {}) });
  const defaultToken = token();
  return {
    handler,
    issuer,
    store,
    clock,
    token,
    async call(method, body, o = {}) {
      const headers = new Headers({ 'content-type': o.contentType ?? 'application/json' });
      const tok = o.token === undefined ? defaultToken : o.token;
      if (tok !== null) headers.set('authorization', `Bearer ${tok}`);
      const taskId = o.taskId === undefined ? 'build-1' : o.taskId;
      if (taskId !== null) headers.set('x-task-id', taskId);
      const res = await handler({
        method: o.httpMethod ?? 'POST',
        url: `/provenance.snooperpb.SelfReport/${method}`,
        headers: fetchHeaders(headers),
        body: o.raw ?? Buffer.from(JSON.stringify(body)),
      });
      const text = Buffer.from(res.body as Uint8Array).toString();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = text;
      }
      return { status: res.status, json: json as ResponseJson, res };
    },
  };
}

export const STARTED = { taskStage: 'STARTED', recipe: 'cloudbuild.yaml', pid: '4242' };
export const SHA = 'a'.repeat(64);
export const COMMIT = 'b'.repeat(40);
