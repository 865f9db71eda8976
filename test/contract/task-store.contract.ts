// The TaskStore contract: every adapter must pass this suite, including the
// cost invariants (content report and heartbeat: one write, no reads).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ReportsOverBudgetError, type TaskStore } from '../../functions/ports/task-store.js';
import { reportId, type ContentReport, type StoredReport } from '../../functions/domain/report.js';
import { applyStage, taskKey, type TaskRecord } from '../../functions/domain/task.js';

export interface StoreFixture {
  store: TaskStore;
  /** Reads and writes so far (the adapter's own or counted at the SDK). */
  ops(): { reads: number; writes: number };
}

const owner = { issuer: 'https://issuer.example', subject: 'sub-1', email: 'builder@example.com' };
let seq = 0;
const freshKey = () => taskKey(owner, `task-${process.pid}-${++seq}-${Math.random().toString(36).slice(2)}`);

const git = (n: number): ContentReport => ({
  kind: 'git',
  repo: 'https://github.com/example/repo',
  commit: n.toString(16).padStart(40, '0'),
  refs: ['refs/heads/main'],
});

const stored = (r: ContentReport, at: Date): StoredReport => ({
  id: reportId(r),
  report: r,
  receivedAt: at,
  lastReceivedAt: at,
  expireAt: new Date(at.getTime() + 86_400_000),
});

const started = (key: string, now: Date) => (current: TaskRecord | undefined) =>
  applyStage(current, {
    key,
    taskId: 't',
    owner,
    now,
    report: { stage: 'STARTED', recipe: 'cloudbuild.yaml', pid: 42 },
  });

async function cost(fx: StoreFixture, fn: () => Promise<unknown>) {
  const before = fx.ops();
  await fn();
  const after = fx.ops();
  return { reads: after.reads - before.reads, writes: after.writes - before.writes };
}

export function taskStoreContract(name: string, make: () => Promise<StoreFixture>): void {
  describe(`TaskStore contract: ${name}`, () => {
    it('stores a content report with one write and no reads', async () => {
      const fx = await make();
      const key = freshKey();
      const c = await cost(fx, () => fx.store.addReport(key, stored(git(1), new Date('2026-01-01T00:00:00Z'))));
      assert.deepEqual(c, { reads: 0, writes: 1 });
      const reports = await fx.store.listReports(key);
      assert.equal(reports.length, 1);
      assert.deepEqual(reports[0]!.report, git(1));
      assert.equal(reports[0]!.receivedAt.toISOString(), '2026-01-01T00:00:00.000Z');
    });

    it('stores a retried report once, keeping the first receipt and moving the last one forward', async () => {
      const fx = await make();
      const key = freshKey();
      await fx.store.addReport(key, stored(git(2), new Date('2026-01-01T00:00:00Z')));
      const c = await cost(fx, () => fx.store.addReport(key, stored(git(2), new Date('2026-01-01T00:05:00Z'))));
      assert.deepEqual(c, { reads: 0, writes: 1 });
      // A retry that arrives late (out of order) moves neither bound the wrong way.
      await fx.store.addReport(key, stored(git(2), new Date('2026-01-01T00:02:00Z')));
      const reports = await fx.store.listReports(key);
      assert.equal(reports.length, 1);
      assert.equal(reports[0]!.receivedAt.toISOString(), '2026-01-01T00:00:00.000Z');
      assert.equal(reports[0]!.lastReceivedAt.toISOString(), '2026-01-01T00:05:00.000Z');
      assert.deepEqual(reports[0]!.report, git(2));
      assert.equal((await fx.store.lastReportAt(key))?.toISOString(), '2026-01-01T00:05:00.000Z');
    });

    it('lists reports in receipt order and keeps tasks apart', async () => {
      const fx = await make();
      const [a, b] = [freshKey(), freshKey()];
      await fx.store.addReport(a, stored(git(3), new Date('2026-01-01T00:00:03Z')));
      await fx.store.addReport(a, stored(git(4), new Date('2026-01-01T00:00:01Z')));
      await fx.store.addReport(b, stored(git(5), new Date('2026-01-01T00:00:02Z')));
      const listed = await fx.store.listReports(a);
      assert.deepEqual(
        listed.map((r) => (r.report as { commit: string }).commit),
        [git(4), git(3)].map((r) => (r as { commit: string }).commit),
      );
      assert.equal((await fx.store.listReports(b)).length, 1);
    });

    it('lists more reports than one page in receipt order, and stops past a byte budget', async () => {
      const fx = await make();
      const key = freshKey();
      const n = 450; // over two of the Firestore adapter's pages
      const t0 = Date.UTC(2026, 0, 1);
      for (let i = 0; i < n; i += 25)
        await Promise.all(
          Array.from({ length: Math.min(25, n - i) }, (_, j) =>
            fx.store.addReport(key, stored(git(i + j + 1), new Date(t0 + (n - i - j) * 1000))),
          ),
        );
      const all = await fx.store.listReports(key);
      assert.equal(all.length, n);
      assert.deepEqual(
        all.map((r) => r.receivedAt.getTime()),
        all.map((r) => r.receivedAt.getTime()).sort((a, b) => a - b),
      );
      const bytes = all.reduce((sum, r) => sum + Buffer.byteLength(JSON.stringify(r.report)), 0);
      assert.equal((await fx.store.listReports(key, bytes)).length, n);
      await assert.rejects(fx.store.listReports(key, 1000), (err: Error) => {
        assert.ok(err instanceof ReportsOverBudgetError);
        assert.equal(err.budget, 1000);
        assert.ok(err.bytes > 1000 && err.bytes <= bytes, String(err.bytes));
        return true;
      });
    });

    it('pages reports in receipt order, reading only the page', async () => {
      const fx = await make();
      const key = freshKey();
      // Two reports share a receipt time: the id orders them, so no page repeats or skips one.
      const times = [3, 1, 2, 2, 5];
      for (const [i, t] of times.entries())
        await fx.store.addReport(key, stored(git(40 + i), new Date(`2026-01-01T00:00:0${t}Z`)));
      const all = await fx.store.listReports(key);
      const seen: string[] = [];
      let after: { receivedAt: Date; id: string } | undefined;
      for (let i = 0; i < 3; i++) {
        let page: Awaited<ReturnType<typeof fx.store.reportsPage>> = [];
        const c = await cost(fx, async () => {
          page = await fx.store.reportsPage(key, 2, after);
        });
        assert.ok(c.reads <= Math.max(1, page.length), `a page of ${page.length} read ${c.reads} documents`);
        assert.equal(c.writes, 0);
        seen.push(...page.map((r) => r.id));
        const last = page[page.length - 1];
        if (!last) break;
        after = { receivedAt: last.receivedAt, id: last.id };
      }
      assert.deepEqual(
        seen,
        all.map((r) => r.id),
      );
      assert.deepEqual(await fx.store.reportsPage(freshKey(), 10), []);
    });

    it('records a heartbeat with one write and no reads, and only on an existing task', async () => {
      const fx = await make();
      const key = freshKey();
      const missing = await cost(fx, async () =>
        assert.equal(await fx.store.recordHeartbeat(key, { pid: 7, reporter: '/bin/r' }, new Date()), false),
      );
      assert.deepEqual(missing, { reads: 0, writes: 1 });
      assert.equal(await fx.store.getTask(key), undefined, 'a heartbeat must not create a task');
      await fx.store.updateTask(key, started(key, new Date('2026-01-01T00:00:00Z')));
      const at = new Date('2026-01-01T00:01:00Z');
      const c = await cost(fx, async () =>
        assert.equal(await fx.store.recordHeartbeat(key, { pid: 7, reporter: '/bin/r' }, at), true),
      );
      assert.deepEqual(c, { reads: 0, writes: 1 });
      const task = await fx.store.getTask(key);
      assert.equal(task?.lastHeartbeatAt?.toISOString(), at.toISOString());
      assert.equal(task?.pid, 7);
    });

    it('creates and updates a task in a transaction; dates round-trip', async () => {
      const fx = await make();
      const key = freshKey();
      const t0 = new Date('2026-01-01T00:00:00Z');
      const created = await fx.store.updateTask(key, started(key, t0));
      assert.equal(created.state, 'STARTED');
      const got = await fx.store.getTask(key);
      assert.ok(got);
      assert.equal(got.stageTimes.STARTED?.toISOString(), t0.toISOString());
      assert.ok(got.createdAt instanceof Date);
      assert.deepEqual(got.owner, owner);
      assert.equal(got.recipe, 'cloudbuild.yaml');
    });

    it('writes nothing when the update throws or returns the record unchanged', async () => {
      const fx = await make();
      const key = freshKey();
      await assert.rejects(
        fx.store.updateTask(key, () => {
          throw new Error('refused');
        }),
        /refused/,
      );
      assert.equal(await fx.store.getTask(key), undefined);
      await fx.store.updateTask(key, started(key, new Date()));
      const c = await cost(fx, () => fx.store.updateTask(key, (cur) => cur!));
      assert.equal(c.writes, 0);
    });

    it('serialises concurrent updates of one task (none lost)', async () => {
      const fx = await make();
      const key = freshKey();
      await fx.store.updateTask(key, started(key, new Date()));
      await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          fx.store.updateTask(key, (cur) => ({
            ...cur!,
            findings: [...cur!.findings, { code: 'FETCH_AFTER_COMPILE', message: String(i), at: new Date() }],
          })),
        ),
      );
      const task = await fx.store.getTask(key);
      assert.deepEqual(task!.findings.map((f) => f.message).sort(), ['0', '1', '2', '3', '4']);
    });

    it("finds tasks by task id and reporter email, newest first, and no one else's", async () => {
      const fx = await make();
      const id = `find-${Math.random().toString(36).slice(2)}`;
      const other = { ...owner, subject: 'sub-2' }; // same email, another identity (e.g. issuer)
      const stranger = { ...owner, subject: 'sub-3', email: 'someone@example.com' };
      const start = (who: typeof owner, at: string) => {
        const key = taskKey(who, id);
        return fx.store.updateTask(key, (cur) =>
          applyStage(cur, {
            key,
            taskId: id,
            owner: who,
            now: new Date(at),
            report: { stage: 'STARTED', recipe: 'r', pid: 1 },
          }),
        );
      };
      const older = await start(owner, '2026-01-01T00:00:00Z');
      const newer = await start(other, '2026-01-02T00:00:00Z');
      await start(stranger, '2026-01-03T00:00:00Z');
      const found = await fx.store.findTasks(id, owner.email);
      assert.deepEqual(
        found.map((t) => t.key),
        [newer.key, older.key],
      );
      assert.deepEqual(await fx.store.findTasks(id, 'nobody@example.com'), []);
      assert.deepEqual(await fx.store.findTasks(`${id}-x`, owner.email), []);
    });

    it('returns undefined for an unknown task and no reports', async () => {
      const fx = await make();
      const key = freshKey();
      assert.equal(await fx.store.getTask(key), undefined);
      assert.deepEqual(await fx.store.listReports(key), []);
    });
  });
}
