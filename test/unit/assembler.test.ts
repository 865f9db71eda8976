// ProvenanceAssembler on the in-memory stores: signs once however often it is
// called, records what no retry can fix, throws what a retry can, and hands
// the claim back when it fails.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LocalSigner } from '../../functions/adapters/local-signer.js';
import { ReportIngest } from '../../functions/lifecycle/ingest.js';
import { taskKey, type Identity } from '../../functions/domain/task.js';
import type { Sha256Hex } from '../../functions/domain/report.js';
import type { Signer } from '../../functions/ports/signer.js';
import { AssemblyBusyError } from '../../functions/provenance/assembler.js';
import { verifyEnvelope } from '../../functions/verify/engine.js';
import { parsePublicKeys } from '../../functions/verify/keys.js';
import { at } from '../../functions/verify/text.js';
import { memoryIngest } from '../helpers/memory-ingest.js';

const owner: Identity = { issuer: 'https://accounts.google.com', subject: '42', email: 'builder@example.com' };
const SHA = 'ab'.repeat(32) as Sha256Hex;

function setup(signer: Signer = LocalSigner.ephemeral()) {
  const {
    tasks,
    provenance,
    clock,
    ingest,
    assembler: newAssembler,
  } = memoryIngest(owner, {
    now: new Date('2026-05-01T00:00:00Z'),
    reportRetentionMs: 86_400_000,
  });
  const assembler = newAssembler(signer);
  const build = async (id: string, opts: { artifact?: boolean; upload?: boolean } = {}) => {
    await ingest.reportStage(owner, id, { stage: 'STARTED', recipe: 'cloudbuild.yaml', pid: 7 });
    clock.advance(1000);
    await ingest.addReport(owner, id, {
      kind: 'git',
      repo: 'https://github.com/example/app',
      commit: 'c'.repeat(40),
      refs: ['refs/heads/main'],
    });
    if (opts.artifact !== false)
      await ingest.addReport(owner, id, {
        kind: 'artifact',
        sha256: SHA,
        location: { type: 'gcs', uri: 'gs://out/app.tar' },
        sbomSubjects: [],
      });
    clock.advance(1000);
    if (opts.upload !== false) await ingest.reportStage(owner, id, { stage: 'UPLOAD_COMPLETE' });
    return taskKey(owner, id);
  };
  return { tasks, provenance, clock, assembler, build, signer };
}

describe('ProvenanceAssembler', () => {
  it('signs a statement that verifies, and stores it by task and by subject', async () => {
    const s = setup();
    const key = await s.build('b1');
    const outcome = await s.assembler.assemble(key);
    assert.equal(outcome.status, 'signed');
    const [env] = await s.provenance.envelopesForTask(key);
    assert.ok(env);
    assert.deepEqual(await s.provenance.envelopesForSubject(SHA), [env]);
    const r = verifyEnvelope(
      env,
      parsePublicKeys((await s.signer.publicKey()).pem),
      {
        expectedDigest: SHA,
        expectedBuilderIds: ['https://builder.test'],
        expectedSources: [{ uri: 'https://github.com/example/app', refs: ['refs/heads/main'] }],
      },
      new Date(),
    );
    assert.deepEqual(r.failures, []);
    assert.deepEqual(r.subjects, [{ name: 'gs://out/app.tar', digest: { sha256: SHA } }]);
    assert.equal(at(r.statement, 'predicate', 'runDetails', 'metadata', 'invocationId'), 'b1');
  });

  it('signs once for 5 concurrent deliveries; the others are told to retry, and a retry is a no-op', async () => {
    let signs = 0;
    const inner = LocalSigner.ephemeral();
    const counting: Signer = {
      publicKey: () => inner.publicKey(),
      verificationKeys: () => inner.verificationKeys(),
      sign: (d) => {
        signs++;
        return inner.sign(d);
      },
    };
    const s = setup(counting);
    const key = await s.build('b2');
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => s.assembler.assemble(key)));
    assert.equal(results.filter((r) => r.status === 'fulfilled' && r.value.status === 'signed').length, 1);
    assert.ok(
      results
        .filter((r) => r.status === 'rejected')
        .every((r) => (r as PromiseRejectedResult).reason instanceof AssemblyBusyError),
    );
    assert.deepEqual(await s.assembler.assemble(key), { status: 'already-signed' });
    assert.equal(signs, 1);
    assert.equal((await s.provenance.envelopesForTask(key)).length, 1);
  });

  it('records "no artifacts" as the reason, once, and acknowledges', async () => {
    const s = setup();
    const key = await s.build('b3', { artifact: false });
    const first = await s.assembler.assemble(key);
    assert.equal(first.status, 'failed');
    assert.match((first as { reason: string }).reason, /no artifacts/);
    assert.deepEqual(await s.assembler.assemble(key), first);
    assert.equal((await s.provenance.get(key))!.state, 'failed');
    assert.deepEqual(await s.provenance.envelopesForTask(key), []);
  });

  it('ignores unknown tasks and tasks that have not reported UPLOAD_COMPLETE, writing nothing', async () => {
    const s = setup();
    const key = await s.build('b4', { upload: false });
    assert.equal((await s.assembler.assemble(key)).status, 'ignored');
    assert.equal((await s.assembler.assemble('0'.repeat(40))).status, 'ignored');
    assert.equal(await s.provenance.get(key), undefined);
  });

  it('throws when signing fails and releases the claim, so the redelivery signs at once', async () => {
    const inner = LocalSigner.ephemeral();
    let fail = true;
    const flaky: Signer = {
      publicKey: () => inner.publicKey(),
      verificationKeys: () => inner.verificationKeys(),
      sign: (d) => (fail ? Promise.reject(new Error('KMS unavailable')) : inner.sign(d)),
    };
    const s = setup(flaky);
    const key = await s.build('b5');
    await assert.rejects(s.assembler.assemble(key), /KMS unavailable/);
    assert.equal((await s.provenance.get(key))!.state, 'assembling');
    fail = false;
    assert.equal((await s.assembler.assemble(key)).status, 'signed'); // same clock: the lease has not passed
    assert.equal((await s.provenance.get(key))!.attempts, 2);
  });

  it('leaves reports received after UPLOAD_COMPLETE out of the provenance', async () => {
    const s = setup();
    const key = await s.build('b6');
    s.clock.advance(1000);
    const ingest = new ReportIngest(s.tasks, s.clock, {
      reporterAllowlist: new Set([owner.email]),
      pidReporterAllowlist: new Set(),
      reportRetentionMs: 1,
    });
    await ingest.addReport(owner, 'b6', {
      kind: 'artifact',
      sha256: 'cd'.repeat(32) as Sha256Hex,
      location: { type: 'gcs', uri: 'gs://out/late.tar' },
      sbomSubjects: [],
    });
    await s.assembler.assemble(key);
    assert.deepEqual((await s.provenance.get(key))!.subjects, [SHA]);
  });
});
