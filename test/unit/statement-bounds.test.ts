// Size bounds of provenance: the statement grows linearly with what was
// reported (a relation is written once, never copied per subject), and a task
// whose statement is over MAX_STATEMENT_BYTES ends FAILED with a reason naming
// the limit and the size, a provenance.failed event, nothing signed or stored,
// and no retry (neither a redelivery nor the sweep signs or republishes it).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryTaskStore } from '../../functions/adapters/memory-task-store.js';
import { MemoryProvenanceStore } from '../../functions/adapters/memory-provenance-store.js';
import { LocalSigner } from '../../functions/adapters/local-signer.js';
import { ReportIngest } from '../../functions/lifecycle/ingest.js';
import { applyStage, taskKey, type Identity, type TaskRecord } from '../../functions/domain/task.js';
import { reportId, type ContentReport, type Sha256Hex, type StoredReport } from '../../functions/domain/report.js';
import { ManualClock } from '../helpers/manual-clock.js';
import type { ProvenanceEvent } from '../../functions/ports/notifier.js';
import type { Signer } from '../../functions/ports/signer.js';
import { ProvenanceAssembler } from '../../functions/provenance/assembler.js';
import { statementBytes } from '../../functions/provenance/dsse.js';
import { assembleProvenance } from '../../functions/provenance/statement.js';
import { TaskSweeper } from '../../functions/lifecycle/sweep.js';
import { MAX_EVENT_SUBJECTS } from '../../functions/provenance/events.js';
import { assertStatementToSpec } from '../helpers/statement-spec.js';

const owner: Identity = { issuer: 'https://accounts.google.com', subject: '42', email: 'builder@example.com' };
const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
const digest = (i: number) => i.toString(16).padStart(64, '0') as Sha256Hex;
/** A long artifact name (the GCS URI limit is 2048 characters). */
const longName = (i: number) => `gs://bucket/${'n'.repeat(1900)}/${i}.spdx.json`;

function task(): TaskRecord {
  let task: TaskRecord | undefined;
  const stage = (s: 'STARTED' | 'UPLOAD_COMPLETE', at: number, extra = {}) => {
    task = applyStage(task, { key: 'k', taskId: 'b', owner, now: t(at), report: { stage: s, ...extra } });
  };
  stage('STARTED', 0, { recipe: 'r', pid: 1 });
  stage('UPLOAD_COMPLETE', 100);
  if (!task) throw new Error('no task');
  return task;
}

const stored = (report: ContentReport, at = 10): StoredReport => ({
  id: reportId(report),
  report,
  receivedAt: t(at),
  lastReceivedAt: t(at),
  expireAt: t(1000),
});

/** n artifacts with long names, each declaring itself the SBOM of all the others. */
function crossProduct(n: number): StoredReport[] {
  return Array.from({ length: n }, (_, i) =>
    stored({
      kind: 'artifact',
      sha256: digest(i + 1),
      location: { type: 'gcs', uri: longName(i) },
      sbomSubjects: Array.from({ length: n }, (_, j) => digest(j + 1)).filter((_, j) => j !== i),
    }),
  );
}

const reportedBytes = (reports: StoredReport[]) =>
  reports.reduce((n, r) => n + Buffer.byteLength(JSON.stringify(r.report)), 0);

const occurrences = (haystack: string, needle: string) => haystack.split(needle).length - 1;

describe('statement size is linear in what was reported', () => {
  it('SBOMs of each other with long names: bytes per reported byte do not grow with the count', () => {
    const ratio = (n: number) => {
      const reports = crossProduct(n);
      const statement = assembleProvenance(task(), reports, { builderId: 'https://b.test' });
      assertStatementToSpec(statement);
      const json = statementBytes(statement).toString('utf8');
      // Every name is written once: on its own subject, not on the subjects its SBOMs describe.
      for (let i = 0; i < n; i++) assert.equal(occurrences(json, longName(i)), 1, `name ${i}`);
      return json.length / reportedBytes(reports);
    };
    const small = ratio(10);
    const large = ratio(120);
    // Quadratic copying made the large ratio ~12x the small one; linear output keeps it flat (and near 1).
    assert.ok(large <= small * 1.1, `ratio grew from ${small.toFixed(2)} to ${large.toFixed(2)}`);
    assert.ok(large < 1.5, `the statement is ${large.toFixed(2)}x what was reported`);
  });

  it('an SBOM describing a digest reported under many names is written once', () => {
    const shared = digest(7);
    const reports = [
      ...Array.from({ length: 200 }, (_, i) =>
        stored({ kind: 'artifact', sha256: shared, location: { type: 'gcs', uri: longName(i) }, sbomSubjects: [] }),
      ),
      stored({
        kind: 'artifact',
        sha256: digest(8),
        location: { type: 'gcs', uri: 'gs://bucket/the.spdx.json' },
        sbomSubjects: [shared],
      }),
    ];
    const statement = assembleProvenance(task(), reports, { builderId: 'https://b.test' });
    const json = statementBytes(statement).toString('utf8');
    assert.equal(occurrences(json, 'gs://bucket/the.spdx.json'), 1);
    assert.equal(occurrences(json, `sha256:${shared}`), 1);
    const sbom = statement.subject.find((s) => s.name === 'gs://bucket/the.spdx.json');
    assert.deepEqual(sbom?.annotations, { sbomFor: [`sha256:${shared}`] });
    assert.equal(statement.subject.filter((s) => s.annotations).length, 1);
  });

  it('a git commit reported many times with refs is one dependency with the union of refs', () => {
    const reports = [
      stored({ kind: 'artifact', sha256: digest(1), location: { type: 'gcs', uri: 'gs://b/o' }, sbomSubjects: [] }),
      ...Array.from({ length: 300 }, (_, i) =>
        stored({ kind: 'git', repo: 'https://g.test/r', commit: 'a'.repeat(40), refs: [`refs/heads/b${i}`] }),
      ),
    ];
    const statement = assembleProvenance(task(), reports, { builderId: 'https://b.test' });
    const json = statementBytes(statement).toString('utf8');
    assert.equal(occurrences(json, 'git+https://g.test/r'), 1);
    assert.equal(occurrences(json, 'refs/heads/b299"'), 1);
    assert.ok(json.length < reportedBytes(reports));
  });
});

function setup(maxStatementBytes: number, signer: Signer = LocalSigner.ephemeral()) {
  const tasks = new MemoryTaskStore();
  const provenance = new MemoryProvenanceStore();
  const clock = new ManualClock(new Date('2026-05-01T00:00:00Z'));
  const events: ProvenanceEvent[] = [];
  const notifier = { notify: async (e: ProvenanceEvent) => void events.push(e) };
  const ingest = new ReportIngest(tasks, clock, {
    reporterAllowlist: new Set([owner.email]),
    pidReporterAllowlist: new Set(),
    reportRetentionMs: 86_400_000,
  });
  let signs = 0;
  const counting: Signer = {
    sign: (data) => {
      signs++;
      return signer.sign(data);
    },
    publicKey: () => signer.publicKey(),
    verificationKeys: () => signer.verificationKeys(),
  };
  const assembler = new ProvenanceAssembler({
    tasks,
    provenance,
    signer: counting,
    clock,
    builderId: 'https://builder.test',
    leaseMs: 60_000,
    notifier,
    maxStatementBytes,
  });
  const build = async (id: string, artifacts: number) => {
    await ingest.reportStage(owner, id, { stage: 'STARTED', recipe: 'cloudbuild.yaml', pid: 7 });
    clock.advance(1000);
    for (const r of crossProduct(artifacts)) await ingest.addReport(owner, id, r.report);
    clock.advance(1000);
    await ingest.reportStage(owner, id, { stage: 'UPLOAD_COMPLETE' });
    return taskKey(owner, id);
  };
  return { tasks, provenance, clock, assembler, build, events, notifier, signs: () => signs };
}

describe('MAX_STATEMENT_BYTES', () => {
  it('a task over the limit ends FAILED naming the limit and the size; nothing is signed or stored', async () => {
    const s = setup(64 * 1024);
    const key = await s.build('big', 25); // 25 names of ~1.9 KB and 25×24 digests: over 64 KiB, reports under twice that
    const outcome = await s.assembler.assemble(key);
    assert.equal(outcome.status, 'failed');
    const reason = outcome.status === 'failed' ? outcome.reason : '';
    const size = /would be (\d+) bytes/.exec(reason)?.[1];
    assert.ok(size && Number(size) > 64 * 1024, reason);
    assert.match(reason, /limit of 65536 bytes \(MAX_STATEMENT_BYTES\)/);
    assert.equal(s.signs(), 0);
    assert.deepEqual(await s.provenance.envelopesForTask(key), []);
    assert.deepEqual(await s.provenance.envelopesForSubject(digest(1)), []);
    const record = await s.provenance.get(key);
    assert.equal(record?.state, 'failed');
    assert.equal(record?.reason, reason);
    const t = await s.tasks.getTask(key);
    assert.equal(t?.state, 'FAILED');
    assert.equal(t?.closedReason, reason);
    assert.equal(t?.recoverAt, undefined);
    assert.deepEqual(
      s.events.map((e) => [e.type, e.type === 'provenance.failed' ? e.reason : '']),
      [['provenance.failed', reason]],
    );
  });

  it('is not retried: a redelivery and the sweep neither sign nor republish it', async () => {
    const s = setup(64 * 1024);
    const key = await s.build('big', 25);
    await s.assembler.assemble(key);
    assert.equal((await s.assembler.assemble(key)).status, 'ignored'); // the task is FAILED
    let published = 0;
    const sweeper = new TaskSweeper({
      tasks: s.tasks,
      provenance: s.provenance,
      uploadComplete: { publishUploadComplete: async () => void published++ },
      notifier: s.notifier,
      clock: s.clock,
      heartbeatTtlSeconds: 300,
      recoveryGraceMs: 60_000,
      maxRecoveryAttempts: 5,
      maxTasksPerRun: 100,
    });
    for (let i = 0; i < 3; i++) {
      s.clock.advance(3_600_000);
      const r = await sweeper.sweep();
      assert.equal(r.republished + r.failed, 0);
    }
    assert.equal(published, 0);
    assert.equal(s.signs(), 0);
    assert.equal(s.events.length, 1);
  });

  it("stops reading a task's reports past twice the limit: FAILED before they fill memory", async () => {
    const s = setup(64 * 1024);
    await s.build('dup', 1);
    // 400 git reports of one commit, differing only in their event time: stored apart, merged in the statement.
    const id = 'dup';
    for (let i = 0; i < 400; i++)
      await s.tasks.addReport(taskKey(owner, id), {
        id: `dup-${i}`,
        report: {
          kind: 'git',
          repo: 'https://github.com/example/app',
          commit: 'c'.repeat(40),
          refs: Array.from({ length: 60 }, (_, j) => `refs/heads/branch-${j}`),
          eventTime: new Date(Date.UTC(2026, 0, 1) + i),
        },
        receivedAt: s.clock.now(),
        lastReceivedAt: s.clock.now(),
        expireAt: s.clock.now(),
      });
    const outcome = await s.assembler.assemble(taskKey(owner, id));
    assert.equal(outcome.status, 'failed');
    const reason = outcome.status === 'failed' ? outcome.reason : '';
    assert.match(reason, /more than 131072 bytes of reports \(\d+ read; .*limit of 65536 bytes, MAX_STATEMENT_BYTES\)/);
    assert.equal(s.signs(), 0);
    assert.equal((await s.tasks.getTask(taskKey(owner, id)))?.state, 'FAILED');
    assert.deepEqual(
      s.events.map((e) => e.type),
      ['provenance.failed'],
    );
  });

  it('a task just under the limit is signed, and one byte less of limit fails it', async () => {
    const probe = setup(64 * 1024 * 1024);
    const key = await probe.build('fit', 12);
    const statement = assembleProvenance((await probe.tasks.getTask(key))!, await probe.tasks.listReports(key), {
      builderId: 'https://builder.test',
    });
    const bytes = statementBytes(statement).length;
    const fits = setup(bytes);
    assert.equal((await fits.assembler.assemble(await fits.build('fit', 12))).status, 'signed');
    const over = setup(bytes - 1);
    const outcome = await over.assembler.assemble(await over.build('fit', 12));
    assert.equal(outcome.status, 'failed');
    assert.match(outcome.status === 'failed' ? outcome.reason : '', new RegExp(`would be ${bytes} bytes`));
  });
});

describe('provenance.signed', () => {
  it('lists at most MAX_EVENT_SUBJECTS subjects and says how many it left out, so it fits a Pub/Sub message', async () => {
    const s = setup(64 * 1024 * 1024);
    const id = 'many';
    const ingest = new ReportIngest(s.tasks, s.clock, {
      reporterAllowlist: new Set([owner.email]),
      pidReporterAllowlist: new Set(),
      reportRetentionMs: 86_400_000,
    });
    await ingest.reportStage(owner, id, { stage: 'STARTED', recipe: 'r', pid: 1 });
    const n = MAX_EVENT_SUBJECTS + 250;
    for (let i = 0; i < n; i++)
      await ingest.addReport(owner, id, {
        kind: 'artifact',
        sha256: digest(i + 1),
        location: { type: 'gcs', uri: longName(i) },
        sbomSubjects: [],
      });
    s.clock.advance(1000);
    await ingest.reportStage(owner, id, { stage: 'UPLOAD_COMPLETE' });
    assert.equal((await s.assembler.assemble(taskKey(owner, id))).status, 'signed');
    const [event] = s.events;
    assert.ok(event?.type === 'provenance.signed');
    assert.equal(event.subjects.length, MAX_EVENT_SUBJECTS);
    assert.equal(event.subjectsOmitted, 250);
    assert.equal(event.fetch.artifacts.length, MAX_EVENT_SUBJECTS);
    assert.ok(Buffer.byteLength(JSON.stringify(event)) < 10_000_000);
  });
});
