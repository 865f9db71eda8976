// The `expireTasks` entry module under functions-framework: a sweep-topic
// CloudEvent runs one sweep against the Firestore emulator.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { Firestore } from '@google-cloud/firestore';
import { FirestoreTaskStore } from '../../functions/adapters/firestore-task-store.js';
import { ReportIngest } from '../../functions/lifecycle/ingest.js';
import { taskKey } from '../../functions/domain/task.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { requireEmulator } from '../helpers/emulator-env.js';
import { deliverCloudEvent, pubSubMessage } from '../helpers/cloud-events.js';

it('expireTasks: a sweep event expires a silent task', async () => {
  requireEmulator('FIRESTORE_EMULATOR_HOST');
  const projectId = `sweep-${process.pid}`;
  Object.assign(process.env, {
    AUTH_MODE: 'dev',
    TASK_STORE: 'firestore',
    GOOGLE_CLOUD_PROJECT: projectId,
    EVENTS: 'pubsub',
    HEARTBEAT_TTL_SECONDS: '60',
  });
  const db = new Firestore({ projectId, ignoreUndefinedProperties: true });
  const owner = { issuer: 'https://accounts.google.com', subject: 'x', email: 'builder@example.com' };
  const past = new ManualClock(new Date(Date.now() - 3_600_000)); // silent for an hour
  await new ReportIngest(new FirestoreTaskStore(db), past, {
    reporterAllowlist: new Set([owner.email]),
    pidReporterAllowlist: new Set(),
    reportRetentionMs: 1e9,
  }).reportStage(owner, 'silent', {
    stage: 'STARTED',
    recipe: 'r',
    pid: 1,
  });
  await import('../../functions/entry/expire-tasks.js');
  const { getTestServer } = await import('@google-cloud/functions-framework/testing');
  const server: Server = getTestServer('expireTasks');
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    assert.ok((await deliverCloudEvent(url, pubSubMessage('{}'))) < 300);
    const task = (await db.collection('tasks').doc(taskKey(owner, 'silent')).get()).data()!;
    assert.equal(task.state, 'EXPIRED');
    assert.equal(task.aliveAt, undefined);
  } finally {
    await new Promise((r) => server.close(r));
    await db.terminate();
  }
});
