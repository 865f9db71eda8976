// The deployed shape of assembly: the `assembleProvenance` and `provenanceApi`
// entry modules under functions-framework's test server, real CloudEvents over
// HTTP, Firestore on the emulator, and KmsSigner (the real @google-cloud/kms
// client) against the local gRPC KMS server.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { Firestore } from '@google-cloud/firestore';
import { FirestoreTaskStore } from '../../functions/adapters/firestore-task-store.js';
import { CHUNKS, PROVENANCE } from '../../functions/adapters/firestore-provenance-store.js';
import { ReportIngest } from '../../functions/lifecycle/ingest.js';
import { taskKey, type Identity } from '../../functions/domain/task.js';
import type { Sha256Hex } from '../../functions/domain/report.js';
import { systemClock } from '../../functions/ports/clock.js';
import { parseEnvelopes } from '../../functions/provenance/dsse.js';
import { verifyEnvelope } from '../../functions/verify/engine.js';
import { parsePublicKeys } from '../../functions/verify/keys.js';
import { at } from '../../functions/verify/text.js';
import { assertStatementToSpec, statementOf } from '../helpers/statement-spec.js';
import { requireEmulator } from '../helpers/emulator-env.js';
import { startLocalKms, type LocalKms } from '../helpers/kms-server.js';
import { deliverCloudEvent, pubSubMessage } from '../helpers/cloud-events.js';

const KEY = 'projects/p/locations/global/keyRings/r/cryptoKeys/provenance/cryptoKeyVersions/1';
const owner: Identity = { issuer: 'https://accounts.google.com', subject: '7', email: 'builder@example.com' };
const listen = async (server: Server) => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
};

describe('assembleProvenance (functions-framework CloudEvents, Firestore emulator, KMS over gRPC)', () => {
  let kms: LocalKms;
  let db: Firestore;
  let ingest: ReportIngest;
  let assemblerUrl: string;
  let apiUrl: string;
  const servers: Server[] = [];
  const projectId = `asm-${process.pid}`;

  before(async () => {
    requireEmulator('FIRESTORE_EMULATOR_HOST');
    kms = await startLocalKms();
    kms.addKey(KEY, 'EC_SIGN_P256_SHA256');
    Object.assign(process.env, {
      AUTH_MODE: 'dev',
      DEV_ISSUER_DIR: mkdtempSync(join(tmpdir(), 'asm-')),
      TASK_STORE: 'firestore',
      GOOGLE_CLOUD_PROJECT: projectId,
      KMS_KEY_VERSION: KEY,
      KMS_EMULATOR_HOST: `127.0.0.1:${kms.port}`,
      BUILDER_ID: 'https://builder.test/v1',
      READ_ACCESS: 'public',
    });
    await import('../../functions/index.js');
    const { getTestServer } = await import('@google-cloud/functions-framework/testing');
    servers.push(getTestServer('assembleProvenance'), getTestServer('provenanceApi'));
    assemblerUrl = await listen(servers[0]!);
    apiUrl = await listen(servers[1]!);
    db = new Firestore({ projectId, ignoreUndefinedProperties: true });
    ingest = new ReportIngest(new FirestoreTaskStore(db), systemClock, {
      reporterAllowlist: new Set([owner.email]),
      pidReporterAllowlist: new Set(),
      reportRetentionMs: 86_400_000,
    });
  });
  after(async () => {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    await db.terminate();
    await kms.stop();
  });

  async function uploadedTask(id: string, dependencies: number, artifact: Sha256Hex): Promise<string> {
    await ingest.reportStage(owner, id, { stage: 'STARTED', recipe: 'cloudbuild.yaml', pid: 1 });
    for (let i = 0; i < dependencies; i += 250) {
      await Promise.all(
        Array.from({ length: Math.min(250, dependencies - i) }, (_, j) =>
          ingest.addReport(owner, id, {
            kind: 'git',
            repo: `https://github.com/example/dep-${i + j}`,
            commit: (i + j).toString(16).padStart(40, '0'),
            refs: ['refs/heads/main'],
          }),
        ),
      );
    }
    await ingest.addReport(owner, id, {
      kind: 'artifact',
      sha256: artifact,
      location: { type: 'gcs', uri: `gs://out/${id}.tar` },
      sbomSubjects: [],
    });
    await ingest.reportStage(owner, id, { stage: 'UPLOAD_COMPLETE' });
    return taskKey(owner, id);
  }

  it('signs once for the same message delivered 5 times at once; a 6th delivery is a no-op', async () => {
    const artifact = '5a'.repeat(32) as Sha256Hex;
    const key = await uploadedTask('five', 3, artifact);
    const message = pubSubMessage({ taskKey: key });
    const signsBefore = kms.calls.sign;
    const statuses = await Promise.all(Array.from({ length: 5 }, () => deliverCloudEvent(assemblerUrl, message)));
    // One delivery signs; each other one either found the claim held (5xx, so
    // Pub/Sub retries it) or found the task signed (2xx, a no-op).
    assert.ok(
      statuses.some((s) => s < 300),
      `statuses: ${statuses}`,
    );
    assert.ok(
      statuses.every((s) => s < 300 || s >= 500),
      `statuses: ${statuses}`,
    );
    const retry = await deliverCloudEvent(assemblerUrl, message);
    assert.ok(retry < 300);
    assert.equal(kms.calls.sign - signsBefore, 1);
    const doc = await db.collection(PROVENANCE).doc(key).get();
    assert.equal(doc.get('state'), 'signed');
    assert.equal(doc.get('attempts'), 1);
    const res = await fetch(`${apiUrl}/v1/artifacts/sha256:${artifact}/provenance`);
    const envelopes = parseEnvelopes(await res.text());
    assert.equal(envelopes.length, 1);
    assert.equal(envelopes[0]!.signatures[0]!.keyid, KEY);
  });

  it('acknowledges a malformed message without retrying it, logs why, and writes nothing', async () => {
    const before = (await db.collection(PROVENANCE).get()).size;
    const logged: string[] = [];
    const original = console.error;
    console.error = (line: unknown) => void logged.push(String(line));
    try {
      for (const body of ['not json', { taskKey: 'nope' }, {}]) {
        assert.ok((await deliverCloudEvent(assemblerUrl, pubSubMessage(body))) < 300);
      }
    } finally {
      console.error = original;
    }
    const warnings = logged.map((l) => JSON.parse(l) as { severity: string; message: string });
    assert.deepEqual(
      warnings.map((w) => w.severity),
      ['WARNING', 'WARNING', 'WARNING'],
    );
    assert.match(
      warnings[0]!.message,
      /^malformed upload-complete message acknowledged: message.data is not base64-encoded JSON/,
    );
    assert.match(warnings[1]!.message, /message.taskKey: expected 40 lowercase hex/);
    assert.equal((await db.collection(PROVENANCE).get()).size, before);
  });

  it('works end to end for a task with 10,000 dependency reports: chunked, served and verified', async () => {
    const artifact = '10'.repeat(32) as Sha256Hex;
    const key = await uploadedTask('ten-thousand', 10_000, artifact);
    assert.ok((await deliverCloudEvent(assemblerUrl, pubSubMessage({ taskKey: key }))) < 300);
    const chunks = await db.collection(PROVENANCE).doc(key).collection(CHUNKS).get();
    assert.ok(chunks.size >= 2, `expected a chunked envelope, got ${chunks.size} chunk(s)`);
    const res = await fetch(`${apiUrl}/v1/tasks/ten-thousand/provenance?reporter=${owner.email}`);
    assert.equal(res.status, 200);
    const [envelope] = parseEnvelopes(await res.text());
    const keys = (await (await fetch(`${apiUrl}/v1/keys`)).json()) as {
      pem: string;
      keyId: string;
      algorithm: string;
      state: string;
      createTime: string;
    }[];
    assert.deepEqual(
      keys.map((k) => [k.keyId, k.algorithm]),
      [[KEY, 'ECDSA_P256_SHA256']],
    );
    assert.deepEqual(Object.keys(keys[0]!).sort(), ['algorithm', 'createTime', 'keyId', 'pem', 'state']);
    assert.equal(keys[0]!.state, 'ENABLED');
    const result = verifyEnvelope(
      envelope!,
      parsePublicKeys(keys[0]!.pem),
      {
        expectedDigest: artifact,
        expectedBuilderIds: ['https://builder.test/v1'],
        expectedSources: [{ uri: 'https://github.com/example/dep-9999', refs: ['refs/heads/main'] }],
      },
      new Date(),
    );
    assert.deepEqual(result.failures, []);
    assert.equal(
      (at(result.statement, 'predicate', 'buildDefinition', 'resolvedDependencies') as unknown[]).length,
      10_000,
    );
    assertStatementToSpec(statementOf(envelope!));
  });
});
