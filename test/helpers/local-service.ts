// The whole service as npm start serves it (localRoutes over memory stores,
// in-process events, a dev issuer, public reads) on a free loopback port, for
// publishing tests that report a task over HTTP and read back its status.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DevIssuer, DEV_DEFAULT_EMAIL } from '../../functions/adapters/dev-issuer.js';
import { loadConfig } from '../../functions/config.js';
import { TaskSweeper } from '../../functions/lifecycle/sweep.js';
import { localRoutes } from '../../functions/local/routes.js';
import { listen, localServer } from '../../functions/local/server.js';
import type { Sink } from '../../functions/ports/publisher.js';
import { ManualClock } from './manual-clock.js';

export const AUDIENCE = 'https://provenance.test';

/** A task's status as the read API serves it, with its publications. */
export type PublishedStatus = {
  provenance: { state: string; publications?: { sink: string; target: string; state: string; error?: string }[] };
};

export interface LocalService {
  url: string;
  routes: Awaited<ReturnType<typeof localRoutes>>;
  /** Reports one selfReport call for a task as the dev reporter; the raw response. */
  report(taskId: string, method: string, body: object): Promise<Response>;
  /** Reports STARTED, each artifact, then UPLOAD_COMPLETE, asserting each is accepted. */
  build(taskId: string, artifacts: object[]): Promise<void>;
  /** Polls the task until it is signed and no publication is pending. */
  published(taskId: string): Promise<PublishedStatus>;
  /** The envelope or bundle the read API serves for a task. */
  served(taskId: string, what: 'provenance' | 'bundle'): Promise<string>;
  close(): Promise<void>;
}

/** The service on a free loopback port: its URL, its dev issuer's directory and its stores. */
export interface ServedLocally {
  url: string;
  /** DEV_ISSUER_DIR: where the CLI and tests find the dev issuer's key to mint tokens. */
  devDir: string;
  routes: Awaited<ReturnType<typeof localRoutes>>;
  server: Server;
  close(): Promise<void>;
}

/**
 * Serves localRoutes with dev auth, memory stores, in-process events and public
 * reads, overlaid with `env` (a function of the dev directory where a setting
 * names it, e.g. SIGNING_KEY_DIR).
 */
export async function serveLocally(
  env: Record<string, string> | ((devDir: string) => Record<string, string>) = {},
): Promise<ServedLocally> {
  const devDir = mkdtempSync(join(tmpdir(), 'local-service-'));
  const routes = await localRoutes(
    loadConfig({
      AUTH_MODE: 'dev',
      DEV_ISSUER_DIR: devDir,
      TASK_STORE: 'memory',
      EVENTS: 'in-process',
      AUDIENCE,
      READ_ACCESS: 'public',
      ...(typeof env === 'function' ? env(devDir) : env),
    }),
  );
  const server = localServer(routes.routes);
  const url = (await listen(server, 0)).replace('localhost', '127.0.0.1');
  return { url, devDir, routes, server, close: () => new Promise((r) => server.close(() => r())) };
}

/** Starts the service with `env` over serveLocally's settings (publishing settings go there). */
export async function startLocalService(env: Record<string, string>): Promise<LocalService> {
  const { url, devDir, routes, close } = await serveLocally(env);
  const token = DevIssuer.fromDirectory(devDir).mint({ audience: AUDIENCE, email: DEV_DEFAULT_EMAIL });
  const report = (taskId: string, method: string, body: object) =>
    fetch(`${url}/provenance.snooperpb.SelfReport/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-task-id': taskId },
      body: JSON.stringify(body),
    });
  return {
    url,
    routes,
    report,
    async build(taskId, artifacts) {
      assert.equal(
        (await report(taskId, 'ReportTaskStage', { taskStage: 'STARTED', recipe: 'r', pid: '1' })).status,
        200,
      );
      for (const a of artifacts) assert.equal((await report(taskId, 'ReportArtifactDigest', a)).status, 200);
      assert.equal((await report(taskId, 'ReportTaskStage', { taskStage: 'UPLOAD_COMPLETE' })).status, 200);
    },
    async published(taskId) {
      for (let i = 0; i < 400; i++) {
        const s = (await (
          await fetch(`${url}/v1/tasks/${taskId}?reporter=${DEV_DEFAULT_EMAIL}`)
        ).json()) as PublishedStatus;
        if (s.provenance.state === 'signed' && s.provenance.publications?.every((p) => p.state !== 'pending')) return s;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`task ${taskId} was not signed with publications`);
    },
    served: async (taskId, what) =>
      (await (await fetch(`${url}/v1/tasks/${taskId}/${what}?reporter=${DEV_DEFAULT_EMAIL}`)).text()).trim(),
    close,
  };
}

/** A sweeper over the service's stores, an hour later, retrying failed publications through `sinks`. */
export function publicationSweeper(service: LocalService, sinks: Sink[], deadlineMs: number): TaskSweeper {
  return new TaskSweeper({
    tasks: service.routes.stores.tasks,
    provenance: service.routes.stores.provenance,
    uploadComplete: { publishUploadComplete: async () => undefined },
    notifier: { notify: async () => undefined },
    clock: new ManualClock(new Date(Date.now() + 3_600_000)),
    heartbeatTtlSeconds: 86_400,
    recoveryGraceMs: 300_000,
    maxRecoveryAttempts: 5,
    maxTasksPerRun: 100,
    publish: { sinks, concurrency: 4, deadlineMs },
  });
}
