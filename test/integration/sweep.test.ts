// The sweep on the Firestore emulator with a controllable clock: heartbeats
// keep a task alive, silence expires it; a lost publish is recovered; two
// concurrent sweeps neither expire twice nor publish twice; a poison task ends
// FAILED with its reason; reads are proportional to stale tasks, not all tasks.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FirestoreTaskStore } from '../../functions/adapters/firestore-task-store.js';
import { FirestoreProvenanceStore } from '../../functions/adapters/firestore-provenance-store.js';
import { LocalSigner } from '../../functions/adapters/local-signer.js';
import { ReportIngest } from '../../functions/lifecycle/ingest.js';
import { taskKey, type Identity } from '../../functions/domain/task.js';
import type { Sha256Hex } from '../../functions/domain/report.js';
import { ManualClock } from '../helpers/manual-clock.js';
import type { Notifier, ProvenanceEvent } from '../../functions/ports/notifier.js';
import type { Signer } from '../../functions/ports/signer.js';
import { ProvenanceAssembler } from '../../functions/provenance/assembler.js';
import { taskStatus } from '../../functions/provenance/status.js';
import { TaskSweeper } from '../../functions/lifecycle/sweep.js';
import { emulatorFirestore } from '../helpers/emulator-env.js';
import { firestoreOps, installFirestoreOpCounter } from '../helpers/firestore-ops.js';
import { captureLogs } from '../helpers/capture-logs.js';
import { TaskRedriver, type RedriveOutcome } from '../../functions/lifecycle/redrive.js';

installFirestoreOpCounter();
const owner: Identity = { issuer: 'https://accounts.google.com', subject: 's', email: 'builder@example.com' };
const TTL = 300;
const GRACE = 60_000;

function world(opts: { signer?: Signer; maxAttempts?: number } = {}) {
  const { db } = emulatorFirestore();
  const tasks = new FirestoreTaskStore(db);
  const provenance = new FirestoreProvenanceStore(db);
  const clock = new ManualClock(new Date('2026-07-01T00:00:00Z'));
  const ingest = new ReportIngest(tasks, clock, {
    reporterAllowlist: new Set([owner.email]),
    pidReporterAllowlist: new Set(),
    reportRetentionMs: 1e10,
    recoveryGraceMs: GRACE,
  });
  const events: ProvenanceEvent[] = [];
  const notifier: Notifier = { notify: async (e) => void events.push(e) };
  const assembler = new ProvenanceAssembler({
    tasks,
    provenance,
    signer: opts.signer ?? LocalSigner.ephemeral(),
    clock,
    builderId: 'b',
    leaseMs: 30_000,
    notifier,
  });
  const published: string[] = [];
  // What Pub/Sub would do with a republish: deliver it to the assembler (an error = a failed delivery).
  const uploadComplete = { publishUploadComplete: async (key: string) => void published.push(key) };
  const deliverAll = async () => {
    for (const key of published.splice(0)) await assembler.assemble(key).catch(() => undefined);
  };
  const sweeper = () =>
    new TaskSweeper({
      tasks,
      provenance,
      uploadComplete,
      notifier,
      clock,
      heartbeatTtlSeconds: TTL,
      recoveryGraceMs: GRACE,
      maxRecoveryAttempts: opts.maxAttempts ?? 3,
      maxTasksPerRun: 1000,
      pageSize: 50,
    });
  const start = async (id: string) => {
    await ingest.reportStage(owner, id, { stage: 'STARTED', recipe: 'r', pid: 1 });
    return taskKey(owner, id);
  };
  const uploaded = async (id: string) => {
    const key = await start(id);
    await ingest.addReport(owner, id, {
      kind: 'artifact',
      sha256: 'ef'.repeat(32) as Sha256Hex,
      location: { type: 'gcs', uri: `gs://o/${id}` },
      sbomSubjects: [],
    });
    await ingest.reportStage(owner, id, { stage: 'UPLOAD_COMPLETE' });
    return key;
  };
  // Uploaded, its one assembly fails (with maxAttempts 1), and the next sweep's recovery check gives up on it.
  const failed = async (id: string) => {
    const key = await uploaded(id);
    await assembler.assemble(key).catch(() => undefined);
    clock.advance(GRACE + 1);
    await ingest.heartbeat(owner, id, { pid: 1, reporter: 'p' });
    await sweeper().sweep();
    return key;
  };
  const status = async (key: string) => taskStatus((await tasks.getTask(key))!, await provenance.get(key));
  return {
    tasks,
    provenance,
    clock,
    ingest,
    assembler,
    events,
    published,
    deliverAll,
    sweeper,
    start,
    uploaded,
    failed,
    status,
  };
}

describe('the sweep (Firestore emulator, manual clock)', () => {
  it('keeps a task alive while heartbeats arrive, and expires it once they stop, with the last sign of life as its end', async () => {
    const w = world();
    const key = await w.start('hb');
    for (let i = 0; i < 5; i++) {
      w.clock.advance(200_000); // inside the 300 s TTL each time
      await w.ingest.heartbeat(owner, 'hb', { pid: 1, reporter: 'provenance' });
      assert.equal((await w.sweeper().sweep()).expired, 0);
    }
    const lastBeat = w.clock.now();
    w.clock.advance(TTL * 1000 + 1);
    const r = await w.sweeper().sweep();
    assert.equal(r.expired, 1);
    const s = await w.status(key);
    assert.equal(s.stage, 'EXPIRED');
    assert.equal(s.endedAt, lastBeat.toISOString());
    assert.match(s.closedReason!, /expired at STARTED before UPLOAD_COMPLETE: it has no provenance/);
    assert.equal(s.provenance.state, 'none');
    assert.match(s.provenance.reason!, /expired before UPLOAD_COMPLETE/);
    assert.deepEqual(
      w.events.map((e) => e.type),
      ['task.expired'],
    );
    await assert.rejects(w.ingest.reportStage(owner, 'hb', { stage: 'FETCH' }), /is EXPIRED/);
    assert.equal((await w.sweeper().sweep()).expired, 0); // idempotent
  });

  it('counts a content report as a sign of life for a task that sends no heartbeats', async () => {
    const w = world();
    const key = await w.start('quiet');
    w.clock.advance(250_000);
    await w.ingest.addReport(owner, 'quiet', {
      kind: 'git',
      repo: 'https://github.com/e/a',
      commit: 'a'.repeat(40),
      refs: [],
    });
    w.clock.advance(100_000); // 350 s after STARTED, 100 s after the report
    const r = await w.sweeper().sweep();
    assert.deepEqual([r.expired, r.refreshed], [0, 1]);
    w.clock.advance(TTL * 1000);
    assert.equal((await w.sweeper().sweep()).expired, 1);
    assert.equal((await w.tasks.getTask(key))!.state, 'EXPIRED');
  });

  it('keeps signed provenance when a task expires after UPLOAD_COMPLETE', async () => {
    const w = world();
    const key = await w.uploaded('late');
    assert.equal((await w.assembler.assemble(key)).status, 'signed');
    w.clock.advance(TTL * 1000 + 1);
    assert.equal((await w.sweeper().sweep()).expired, 1);
    const s = await w.status(key);
    assert.deepEqual([s.stage, s.provenance.state], ['EXPIRED', 'signed']);
    assert.equal((await w.provenance.envelopesForTask(key)).length, 1);
  });

  it('recovers a lost publish: republished after the grace period, then signed, with an attempt count', async () => {
    const w = world();
    const key = await w.uploaded('lost'); // nobody delivered UPLOAD_COMPLETE
    w.clock.advance(GRACE - 1);
    assert.equal((await w.sweeper().sweep()).republished, 0);
    w.clock.advance(2);
    assert.equal((await w.sweeper().sweep()).republished, 1);
    assert.deepEqual(w.published, [key]);
    assert.equal((await w.status(key)).recovery?.republished, 1);
    await w.deliverAll();
    const s = await w.status(key);
    assert.equal(s.provenance.state, 'signed');
    assert.equal((await w.tasks.getTask(key))!.recoverAt, undefined);
    w.clock.advance(GRACE * 2);
    assert.equal((await w.sweeper().sweep()).republished, 0);
  });

  it('two concurrent sweeps neither expire twice nor publish twice', async () => {
    const w = world();
    const stale = await Promise.all([1, 2, 3].map((i) => w.start(`stale-${i}`)));
    const lost = await Promise.all([1, 2].map((i) => w.uploaded(`lost-${i}`)));
    w.clock.advance(TTL * 1000 + 1);
    const [a, b] = await Promise.all([w.sweeper().sweep(), w.sweeper().sweep()]);
    assert.equal(a.expired + b.expired, stale.length + lost.length); // the uploaded tasks went silent too
    assert.equal(a.republished + b.republished, lost.length);
    assert.deepEqual([...w.published].sort(), [...lost].sort());
    assert.equal(w.events.filter((e) => e.type === 'task.expired').length, stale.length + lost.length);
  });

  it('ends a poison task FAILED with the last error as its reason', async () => {
    const failing: Signer = {
      publicKey: () => LocalSigner.ephemeral().publicKey(),
      verificationKeys: () => LocalSigner.ephemeral().verificationKeys(),
      sign: () => Promise.reject(new Error('KMS: key version is disabled')),
    };
    const w = world({ signer: failing, maxAttempts: 2 });
    const key = await w.uploaded('poison');
    await w.assembler.assemble(key).catch(() => undefined); // the first delivery fails
    for (let i = 0; i < 3; i++) {
      w.clock.advance(GRACE + 1);
      await w.ingest.heartbeat(owner, 'poison', { pid: 1, reporter: 'p' }); // still alive: only recovery acts
      await w.sweeper().sweep();
      await w.deliverAll();
    }
    const s = await w.status(key);
    assert.equal(s.stage, 'FAILED');
    assert.equal(s.recovery?.assemblyFailures, 2);
    assert.match(
      s.closedReason!,
      /2 assembly attempt\(s\) ran without producing it \(2 failed with an error, 0 stopped while holding the claim\); last error: KMS: key version is disabled/,
    );
    assert.deepEqual([s.provenance.state, s.provenance.reason], ['failed', s.closedReason]);
    assert.deepEqual(
      w.events.map((e) => e.type),
      ['task.failed'],
    );
    assert.equal((await w.sweeper().sweep()).republished, 0);
  });

  it('never fails a task for republishes that no assembly followed (no subscriber, lost messages)', async () => {
    const w = world({ maxAttempts: 2 });
    const key = await w.uploaded('unheard');
    for (let i = 0; i < 6; i++) {
      w.clock.advance(GRACE + 1);
      await w.ingest.heartbeat(owner, 'unheard', { pid: 1, reporter: 'p' });
      await w.sweeper().sweep();
      w.published.splice(0); // lost: nobody delivers
    }
    const s = await w.status(key);
    assert.equal(s.stage, 'UPLOAD_COMPLETE');
    assert.equal(s.provenance.state, 'pending');
    assert.match(s.provenance.reason!, /published again 6 time\(s\) and no assembly has run yet/);
    assert.deepEqual(w.events, []);
    await w.deliverAll();
    w.published.push(key);
    await w.deliverAll();
    assert.equal((await w.status(key)).provenance.state, 'signed');
  });

  it('a process killed inside the claim does not fail the task: the lease runs out, the next delivery takes over and signs', async () => {
    const w = world({ maxAttempts: 2 });
    const key = await w.uploaded('killed');
    const dead = await w.provenance.claim(key, w.clock.now(), 30_000); // claimed, then the process died
    assert.equal(dead.outcome, 'claimed');
    w.clock.advance(10_000);
    await w.sweeper().sweep(); // not due yet
    w.clock.advance(GRACE);
    await w.ingest.heartbeat(owner, 'killed', { pid: 1, reporter: 'p' });
    const r = await w.sweeper().sweep();
    assert.equal(r.republished, 1);
    await w.deliverAll();
    const s = await w.status(key);
    assert.deepEqual([s.stage, s.provenance.state], ['UPLOAD_COMPLETE', 'signed']);
    const record = await w.provenance.get(key);
    assert.deepEqual([record?.interrupted, record?.failures], [1, 0]);
  });

  it('does not republish while a live assembly holds the claim', async () => {
    const w = world();
    const key = await w.uploaded('slow');
    w.clock.advance(GRACE + 1);
    await w.provenance.claim(key, w.clock.now(), 30_000); // an assembly started just now
    await w.ingest.heartbeat(owner, 'slow', { pid: 1, reporter: 'p' });
    assert.equal((await w.sweeper().sweep()).republished, 0);
    assert.deepEqual(w.published, []);
    assert.ok((await w.tasks.getTask(key))!.recoverAt! > w.clock.now());
  });

  it('fails a task whose assembler dies every time, saying so', async () => {
    const w = world({ maxAttempts: 2 });
    const key = await w.uploaded('oom');
    for (let i = 0; i < 4; i++) {
      await w.provenance.claim(key, w.clock.now(), 30_000); // each delivery dies holding the claim
      w.clock.advance(GRACE + 1);
      await w.ingest.heartbeat(owner, 'oom', { pid: 1, reporter: 'p' });
      await w.sweeper().sweep();
      w.published.splice(0);
    }
    const s = await w.status(key);
    assert.equal(s.stage, 'FAILED');
    assert.match(
      s.closedReason!,
      /0 failed with an error, 2 stopped while holding the claim\); last error: an assembly stopped while holding the claim/,
    );
  });

  it('an operator re-drive sends a FAILED task back to assembly; it is signed, and the re-drive is audited', async () => {
    let broken = true;
    const good = LocalSigner.ephemeral();
    const flaky: Signer = {
      publicKey: () => good.publicKey(),
      verificationKeys: () => good.verificationKeys(),
      sign: (d) => (broken ? Promise.reject(new Error('KMS: permission denied')) : good.sign(d)),
    };
    const w = world({ signer: flaky, maxAttempts: 1 });
    const key = await w.failed('redrive');
    assert.equal((await w.status(key)).stage, 'FAILED');
    broken = false; // the operator fixed the key's IAM
    const redriver = new TaskRedriver({
      tasks: w.tasks,
      provenance: w.provenance,
      uploadComplete: { publishUploadComplete: async (k) => void w.published.push(k) },
      clock: w.clock,
      recoveryGraceMs: GRACE,
    });
    const logs = captureLogs();
    let outcome: RedriveOutcome;
    try {
      outcome = await redriver.redrive((await w.tasks.getTask(key))!, 'oncall@example.com');
    } finally {
      logs.restore();
    }
    assert.deepEqual([outcome.from, outcome.to, outcome.published], ['FAILED', 'UPLOAD_COMPLETE', true]);
    const audit = logs
      .lines()
      .map((l) => JSON.parse(l))
      .find((e) => e.audit === 'redrive');
    assert.deepEqual(
      [audit?.severity, audit?.operator, audit?.taskId, audit?.from],
      ['NOTICE', 'oncall@example.com', 'redrive', 'FAILED'],
    );
    assert.match(audit?.previousReason, /KMS: permission denied/);
    await w.deliverAll();
    const s = await w.status(key);
    assert.deepEqual([s.stage, s.provenance.state], ['UPLOAD_COMPLETE', 'signed']);
    await assert.rejects(
      redriver.redrive((await w.tasks.getTask(key))!, 'oncall@example.com'),
      /already has signed provenance/,
    );
  });

  it('a re-drive without a publisher (the deployed read API) leaves the task due, and the next sweep publishes it', async () => {
    const failing: Signer = {
      publicKey: () => LocalSigner.ephemeral().publicKey(),
      verificationKeys: () => LocalSigner.ephemeral().verificationKeys(),
      sign: () => Promise.reject(new Error('KMS: disabled')),
    };
    const w = world({ signer: failing, maxAttempts: 1 });
    const key = await w.failed('redrive-later');
    assert.equal((await w.status(key)).stage, 'FAILED');
    const logs = captureLogs();
    let outcome: RedriveOutcome;
    try {
      outcome = await new TaskRedriver({
        tasks: w.tasks,
        provenance: w.provenance,
        clock: w.clock,
        recoveryGraceMs: GRACE,
      }).redrive((await w.tasks.getTask(key))!, 'oncall@example.com');
    } finally {
      logs.restore();
    }
    assert.equal(outcome.published, false);
    assert.deepEqual(w.published, []);
    assert.equal((await w.sweeper().sweep()).republished, 1);
    assert.deepEqual(w.published, [key]);
  });

  it('reads documents in proportion to the stale tasks, not to all tasks', async () => {
    const w = world();
    const keys = await Promise.all(Array.from({ length: 300 }, (_, i) => w.start(`t-${i}`)));
    w.clock.advance(TTL * 1000 + 1);
    // All but 3 stay alive.
    await Promise.all(keys.slice(3).map((_, i) => w.ingest.heartbeat(owner, `t-${i + 3}`, { pid: 1, reporter: 'p' })));
    const before = { ...firestoreOps };
    const r = await w.sweeper().sweep();
    const reads = firestoreOps.reads - before.reads;
    assert.equal(r.expired, 3);
    assert.equal(r.scanned, 3);
    // Per stale task: the query's document, its newest report (1), the transaction's read (1); plus one read per empty query.
    assert.ok(reads <= 3 * 3 + 2, `read ${reads} documents for 3 stale tasks of 300`);
  });
});
