// The publishing loop (provenance/publish.ts), with sinks that count: refused
// targets never reach publish(), outcomes map to states, the deadline aborts
// the sink's signal and is named, the concurrency bound holds, and a task with
// 2,000 subjects costs the same serialisations as one with 20 (memory flat in
// the number of subjects beyond the statement itself).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LocalSigner } from '../../functions/adapters/local-signer.js';
import { taskKey, type Identity } from '../../functions/domain/task.js';
import type { Sha256Hex } from '../../functions/domain/report.js';
import {
  PublishConflictError,
  type PublishOutcome,
  type SignedProvenance,
  type Sink,
  type SinkName,
} from '../../functions/ports/publisher.js';
import { PUBLISHING_INTERRUPTED } from '../../functions/provenance/assembler.js';
import { MAX_REASON_LENGTH, publicationTargets, publishAll } from '../../functions/provenance/publish.js';
import { memoryIngest } from '../helpers/memory-ingest.js';

const owner: Identity = { issuer: 'https://accounts.google.com', subject: '42', email: 'builder@example.com' };
const PROV: SignedProvenance = {
  taskId: 't',
  keyId: 'k',
  envelopeJson: '{}',
  envelopeSha256: '0'.repeat(64),
  bundleJson: '{}',
};
const opts = { concurrency: 4, deadlineMs: 5000, now: () => new Date('2026-05-01T00:00:00Z') };

/** A sink that refuses targets containing "off", and otherwise does what the target's last word says. */
class ScriptedSink implements Sink {
  calls: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  provenances = new Set<SignedProvenance>();
  constructor(readonly name: SinkName = 'oci') {}
  refuses(target: string): string | undefined {
    return target.includes('off') ? `${target} is not on the allowlist` : undefined;
  }
  async publish(target: string, provenance: SignedProvenance, signal: AbortSignal): Promise<PublishOutcome> {
    this.calls.push(target);
    this.provenances.add(provenance);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await new Promise((r) => setImmediate(r));
      if (target.endsWith('conflict')) throw new PublishConflictError('other bytes are there');
      if (target.endsWith('fail')) throw new Error(`broke\u0000\n${'x'.repeat(1000)}`);
      if (target.endsWith('hang'))
        await new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
      return target.endsWith('again') ? 'already-published' : 'published';
    } finally {
      this.inFlight--;
    }
  }
}

describe('publishAll', () => {
  it('records one outcome per target of an enabled sink, and calls publish only for targets it does not refuse', async () => {
    const oci = new ScriptedSink('oci');
    const out = await publishAll(
      [oci],
      [
        { sink: 'oci', target: 'ok' },
        { sink: 'oci', target: 'off-list' },
        { sink: 'oci', target: 'a-conflict' },
        { sink: 'oci', target: 'a-fail' },
        { sink: 'oci', target: 'again' },
        { sink: 'gcs', target: 'gs://b/o' }, // not enabled: no publication
      ],
      PROV,
      opts,
    );
    assert.deepEqual(
      out.map((p) => [p.sink, p.target, p.state]),
      [
        ['oci', 'ok', 'published'],
        ['oci', 'off-list', 'skipped'],
        ['oci', 'a-conflict', 'conflict'],
        ['oci', 'a-fail', 'failed'],
        ['oci', 'again', 'published'],
      ],
    );
    assert.deepEqual(oci.calls.sort(), ['a-conflict', 'a-fail', 'again', 'ok'], 'the refused target got no call');
    assert.equal(out[1]?.error, 'off-list is not on the allowlist');
    assert.equal(out[2]?.error, 'other bytes are there');
    const failed = out[3]?.error ?? '';
    assert.ok(failed.length <= MAX_REASON_LENGTH && /^broke x+…$/.test(failed), failed);
  });

  it('aborts the signal at the deadline and records the timeout', async () => {
    const sink = new ScriptedSink();
    const [p] = await publishAll([sink], [{ sink: 'oci', target: 'hang' }], PROV, { ...opts, deadlineMs: 50 });
    assert.equal(p?.state, 'failed');
    assert.match(p?.error ?? '', /no answer within the 0.05s deadline/);
  });

  it('never has more than `concurrency` publications in flight, and hands every sink the same provenance object', async () => {
    const sink = new ScriptedSink();
    const targets = Array.from({ length: 2000 }, (_, i) => ({ sink: 'oci' as const, target: `t${i}` }));
    const out = await publishAll([sink], targets, PROV, { ...opts, concurrency: 8 });
    assert.equal(out.length, 2000);
    assert.equal(sink.calls.length, 2000);
    assert.equal(sink.maxInFlight, 8);
    assert.equal(sink.provenances.size, 1);
  });
});

describe('publishing from the assembler', () => {
  async function signTask(subjects: number) {
    const {
      tasks,
      provenance,
      ingest,
      assembler: newAssembler,
    } = memoryIngest(owner, {
      now: new Date('2026-05-01T00:00:00Z'),
      reportRetentionMs: 86_400_000,
    });
    const id = `t${subjects}`;
    await ingest.reportStage(owner, id, { stage: 'STARTED', recipe: 'r', pid: 7 });
    for (let i = 0; i < subjects; i++)
      await ingest.addReport(owner, id, {
        kind: 'artifact',
        sha256: i.toString(16).padStart(64, '0') as Sha256Hex,
        location: { type: 'oci', image: `reg.example/app${i}` },
        sbomSubjects: [],
      });
    await ingest.addReport(owner, id, {
      kind: 'artifact',
      sha256: 'f'.repeat(64) as Sha256Hex,
      location: { type: 'gcs', uri: 'gs://b/app.tgz' },
      sbomSubjects: [],
    });
    await ingest.reportStage(owner, id, { stage: 'UPLOAD_COMPLETE' });
    const sink = new ScriptedSink('oci');
    const assembler = newAssembler(LocalSigner.ephemeral(), {
      publish: { sinks: [sink], concurrency: 8, deadlineMs: 5000 },
    });
    // Count the serialisations at least half as long as the envelope: the envelope, the bundle, and nothing per subject.
    const stringify = JSON.stringify;
    const lengths: number[] = [];
    JSON.stringify = ((...args: Parameters<typeof stringify>) => {
      const s = stringify(...args);
      if (typeof s === 'string') lengths.push(s.length);
      return s;
    }) as typeof JSON.stringify;
    try {
      assert.equal((await assembler.assemble(taskKey(owner, id))).status, 'signed');
    } finally {
      JSON.stringify = stringify;
    }
    const [envelope] = await provenance.envelopesForTask(taskKey(owner, id));
    const big = lengths.filter((n) => n >= stringify(envelope).length / 2).length;
    return { sink, record: await provenance.get(taskKey(owner, id)), big, tasks, id };
  }

  it('publishes each subject once through its sink and records the outcomes; serialisations do not grow with subjects', async () => {
    const few = await signTask(20);
    const many = await signTask(2000);
    assert.equal(many.sink.calls.length, 2000);
    assert.equal(many.sink.maxInFlight, 8);
    assert.equal(many.sink.provenances.size, 1, 'one SignedProvenance per task');
    assert.equal(many.record?.publications?.length, 2000, 'the gcs target has no enabled sink: no publication');
    assert.ok(many.record?.publications?.every((p) => p.state === 'published'));
    assert.equal(many.big, few.big, `large serialisations: ${few.big} with 20 subjects, ${many.big} with 2,000`);
    assert.ok(
      many.big >= 2 && many.big <= 4,
      `${many.big} large serialisations (the envelope and the bundle at least)`,
    );
  });

  it('records the targets as pending before publishing, so an assembler that stops mid-way leaves them to the sweep', async () => {
    const {
      provenance,
      ingest,
      assembler: newAssembler,
    } = memoryIngest(owner, {
      now: new Date('2026-05-01T00:00:00Z'),
      reportRetentionMs: 86_400_000,
    });
    await ingest.reportStage(owner, 'wa', { stage: 'STARTED', recipe: 'r', pid: 7 });
    await ingest.addReport(owner, 'wa', {
      kind: 'artifact',
      sha256: 'a'.repeat(64) as Sha256Hex,
      location: { type: 'oci', image: 'reg.example/app' },
      sbomSubjects: [],
    });
    await ingest.reportStage(owner, 'wa', { stage: 'UPLOAD_COMPLETE' });
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let started: () => void = () => undefined;
    const publishing = new Promise<void>((r) => {
      started = r;
    });
    const sink: Sink = {
      name: 'oci',
      refuses: () => undefined,
      publish: async () => {
        started();
        await held;
        return 'published';
      },
    };
    const assembler = newAssembler(LocalSigner.ephemeral(), {
      publish: { sinks: [sink], concurrency: 1, deadlineMs: 5000 },
    });
    const key = taskKey(owner, 'wa');
    const done = assembler.assemble(key);
    await publishing;
    const during = (await provenance.get(key))?.publications;
    assert.deepEqual(
      during?.map((p) => [p.target, p.state, p.error]),
      [[`reg.example/app@sha256:${'a'.repeat(64)}`, 'pending', PUBLISHING_INTERRUPTED]],
    );
    release();
    assert.equal((await done).status, 'signed');
    assert.equal((await provenance.get(key))?.publications?.[0]?.state, 'published');
  });

  it('derives canonical, deduplicated, sorted targets from the reports', async () => {
    const { tasks, id } = await signTask(3);
    const task = await tasks.getTask(taskKey(owner, id));
    assert.ok(task);
    const reports = await tasks.listReports(task.key);
    assert.deepEqual(
      publicationTargets(task, [...reports, ...reports]).map((t) => `${t.sink} ${t.target}`),
      [
        'gcs gs://b/app.tgz',
        `oci reg.example/app0@sha256:${'0'.repeat(64)}`,
        `oci reg.example/app1@sha256:${'0'.repeat(63)}1`,
        `oci reg.example/app2@sha256:${'0'.repeat(63)}2`,
      ],
    );
  });
});
