// The README walkthrough, end to end: STARTED → git → artifact →
// UPLOAD_COMPLETE → fetch → verify, with the `provenance` CLI as a separate
// process. Twice: as deployed (selfReport, assembleProvenance and provenanceApi
// entry modules under functions-framework; Firestore and Pub/Sub emulators, a
// push subscription to the running assembler; KMS over gRPC) and as `npm
// start` serves it (one port, in-process events, local key).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { PubSub } from '@google-cloud/pubsub';
import { DevIssuer } from '../../functions/adapters/dev-issuer.js';
import { listen } from '../../functions/local/server.js';
import { parseEnvelopes } from '../../functions/provenance/dsse.js';
import { assertStatementToSpec, statementOf } from '../helpers/statement-spec.js';
import { requireEmulator } from '../helpers/emulator-env.js';
import { startLocalKms, type LocalKms } from '../helpers/kms-server.js';
import { reportReadmeTask } from '../helpers/readme-task.js';
import { type ServedLocally, serveLocally } from '../helpers/local-service.js';

const run = promisify(execFile);
const root = join(__dirname, '..', '..', '..');
const KEY = 'projects/p/locations/global/keyRings/r/cryptoKeys/provenance/cryptoKeyVersions/3';
const AUDIENCE = 'https://provenance.e2e';

interface Service {
  reportUrl: string;
  apiUrl: string;
  reporterToken: string;
  readerToken?: string;
}

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(root, 'bin', 'provenance.js'), ...args], {
      cwd: root,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The walkthrough's steps; returns what the CLI said at each. */
async function walkthrough(svc: Service, taskId: string) {
  const dir = mkdtempSync(join(tmpdir(), 'walk-'));
  const artifact = join(dir, 'app.tar');
  writeFileSync(artifact, `artifact of ${taskId}\n`);
  const digest = createHash('sha256').update(readFileSync(artifact)).digest('hex');
  await reportReadmeTask(svc.reportUrl, svc.reporterToken, taskId, digest);

  const token = svc.readerToken ? ['--token', svc.readerToken] : [];
  const jsonl = join(dir, 'app.intoto.jsonl');
  let fetched = await cli(['fetch', artifact, '--url', svc.apiUrl, '-o', jsonl, ...token]);
  for (let i = 0; fetched.code !== 0 && i < 100; i++) {
    await new Promise((r) => setTimeout(r, 100)); // assembly is asynchronous: wait for it
    fetched = await cli(['fetch', artifact, '--url', svc.apiUrl, '-o', jsonl, ...token]);
  }
  assert.equal(fetched.code, 0, fetched.stderr);
  for (const envelope of parseEnvelopes(readFileSync(jsonl, 'utf8'))) assertStatementToSpec(statementOf(envelope));
  const keyFile = join(dir, 'key.pem');
  assert.equal((await cli(['keys', '--url', svc.apiUrl, '-o', keyFile])).code, 0);
  const policy = ['--source-uri', 'https://github.com/example/app', '--source-ref', 'refs/heads/main'];
  return {
    digest,
    fetched,
    fromFile: await cli(['verify', '--key', keyFile, '--artifact', artifact, '--provenance', jsonl, ...policy]),
    fromService: await cli([
      'verify',
      '--key',
      keyFile,
      '--digest',
      `sha256:${digest}`,
      '--url',
      svc.apiUrl,
      ...token,
      ...policy,
    ]),
    wrongRef: await cli([
      'verify',
      '--key',
      keyFile,
      '--artifact',
      artifact,
      '--provenance',
      jsonl,
      '--source-uri',
      'https://github.com/example/app',
      '--source-ref',
      'refs/heads/release',
      '--builder-id',
      'https://someone.else',
    ]),
    otherArtifact: await cli([
      'verify',
      '--key',
      keyFile,
      '--digest',
      `sha256:${'0'.repeat(64)}`,
      '--provenance',
      jsonl,
    ]),
    keyFile,
  };
}

function assertWalkthrough(r: Awaited<ReturnType<typeof walkthrough>>, keyId: string): void {
  assert.match(r.fetched.stderr, new RegExp(`1 envelope\\(s\\) for sha256:${r.digest}`));
  assert.equal(r.fromFile.code, 0, r.fromFile.stderr);
  assert.match(
    r.fromFile.stdout,
    new RegExp(`^verified sha256:${r.digest}: signed by ${keyId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
  );
  assert.equal(r.fromService.code, 0, r.fromService.stderr);
  assert.equal(r.wrongRef.code, 1);
  const [builderLine, sourceLine, ...more] = r.wrongRef.stderr.trim().split('\n').sort();
  assert.deepEqual(more, []);
  assert.equal(
    builderLine,
    `FAIL: builder id is "${r.fromFile.stdout.match(/builder (\S+);/)?.[1] ?? '?'}", not "https://someone.else"`,
  );
  assert.match(
    sourceLine ?? '',
    /^FAIL: source git\+https:\/\/github\.com\/example\/app@[0-9a-f]{40} is on refs\/heads\/main, not on refs\/heads\/release$/,
  );
  assert.equal(r.otherArtifact.code, 1);
  assert.equal(r.otherArtifact.stderr.trim(), `FAIL: no subject has sha256 ${'0'.repeat(64)}`);
}

describe('walkthrough as deployed: functions-framework entries, Firestore + Pub/Sub emulators (push), KMS over gRPC', () => {
  let kms: LocalKms;
  let pubsub: PubSub;
  const servers: Server[] = [];
  let svc: Service;

  before(async () => {
    requireEmulator('FIRESTORE_EMULATOR_HOST');
    requireEmulator('PUBSUB_EMULATOR_HOST');
    const projectId = `e2e-${process.pid}`;
    kms = await startLocalKms();
    kms.addKey(KEY, 'EC_SIGN_P384_SHA384');
    const devDir = mkdtempSync(join(tmpdir(), 'e2e-dev-'));
    Object.assign(process.env, {
      AUTH_MODE: 'dev',
      DEV_ISSUER_DIR: devDir,
      AUDIENCE,
      REPORTER_ALLOWLIST: 'builder@example.com',
      TASK_STORE: 'firestore',
      GOOGLE_CLOUD_PROJECT: projectId,
      EVENTS: 'pubsub',
      UPLOAD_COMPLETE_TOPIC: 'upload-complete',
      KMS_KEY_VERSION: KEY,
      KMS_EMULATOR_HOST: `127.0.0.1:${kms.port}`,
      READ_ACCESS: 'allowlist',
      READER_ALLOWLIST: 'release@example.com',
    });
    await import('../../functions/index.js');
    const { getTestServer } = await import('@google-cloud/functions-framework/testing');
    const urls: string[] = [];
    for (const name of ['selfReport', 'assembleProvenance', 'provenanceApi']) {
      const server = getTestServer(name);
      servers.push(server);
      urls.push(await listen(server, 0));
    }
    // The deployed wiring: a push subscription on the topic, delivering to the assembler.
    pubsub = new PubSub({ projectId });
    const [topic] = await pubsub.createTopic('upload-complete');
    await topic.createSubscription('assemble-provenance', {
      pushConfig: { pushEndpoint: `${urls[1]}/projects/${projectId}/topics/upload-complete` },
    });
    const issuer = DevIssuer.fromDirectory(devDir);
    svc = {
      reportUrl: urls[0]!,
      apiUrl: urls[2]!,
      reporterToken: issuer.mint({ audience: AUDIENCE, email: 'builder@example.com' }),
      readerToken: issuer.mint({ audience: AUDIENCE, email: 'release@example.com' }),
    };
  });
  after(async () => {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    await pubsub.close();
    await kms.stop();
  });

  it('STARTED → git → artifact → UPLOAD_COMPLETE → fetch → verify', async () => {
    const r = await walkthrough(svc, 'e2e-build-1');
    assertWalkthrough(r, KEY);
    assert.match(readFileSync(r.keyFile, 'utf8'), /ECDSA_P384_SHA384/);
  });

  it('refuses reads without a reader token', async () => {
    const anon = await cli(['fetch', `sha256:${'1'.repeat(64)}`, '--url', svc.apiUrl]);
    assert.equal(anon.code, 2);
    assert.match(anon.stderr, /401 .*missing "Authorization: Bearer/);
  });
});

describe('walkthrough as npm start serves it: one port, in-process events, local key', () => {
  let service: ServedLocally;
  let svc: Service;
  let keyId: string;

  before(async () => {
    service = await serveLocally({ AUDIENCE });
    keyId = (await service.routes.signer.publicKey()).keyId;
    svc = {
      reportUrl: service.url,
      apiUrl: service.url,
      reporterToken: DevIssuer.fromDirectory(service.devDir).mint({
        audience: AUDIENCE,
        email: 'builder@dev.provenance.local',
      }),
    };
  });
  after(() => service.close());

  it('STARTED → git → artifact → UPLOAD_COMPLETE → fetch → verify', async () => {
    assertWalkthrough(await walkthrough(svc, 'local-build-1'), keyId);
  });
});
