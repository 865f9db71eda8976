// The ProvenanceStore contract: the claim that makes assembly happen once,
// lookup by task and by subject, and envelopes of any size coming back whole.
// Every adapter must pass it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { ProvenanceStore } from '../../functions/ports/provenance-store.js';
import type { Envelope } from '../../functions/provenance/dsse.js';
import type { Publication } from '../../functions/ports/publisher.js';

const t0 = new Date('2026-03-01T00:00:00Z');
const later = (ms: number) => new Date(t0.getTime() + ms);
const key = () => randomBytes(20).toString('hex');
const sha = () => randomBytes(32).toString('hex');
const envelope = (payloadBytes = 64): Envelope => ({
  payloadType: 'application/vnd.in-toto+json',
  payload: randomBytes(payloadBytes).toString('base64'),
  signatures: [{ keyid: 'k1', sig: randomBytes(64).toString('base64') }],
});

async function claimed(store: ProvenanceStore, k: string, at = t0): Promise<string> {
  const c = await store.claim(k, at, 60_000);
  assert.equal(c.outcome, 'claimed');
  return (c as { token: string }).token;
}

export function provenanceStoreContract(name: string, make: () => Promise<ProvenanceStore>): void {
  describe(`ProvenanceStore contract: ${name}`, () => {
    it('grants one claim among concurrent claimers; the others are told it is busy', async () => {
      const store = await make();
      const k = key();
      const claims = await Promise.all(Array.from({ length: 5 }, () => store.claim(k, t0, 60_000)));
      assert.equal(claims.filter((c) => c.outcome === 'claimed').length, 1);
      assert.equal(claims.filter((c) => c.outcome === 'busy').length, 4);
      assert.equal((await store.get(k))!.state, 'assembling');
    });

    it('lets a claim be taken over once its lease has passed, and then the old holder cannot finish', async () => {
      const store = await make();
      const k = key();
      const first = await claimed(store, k);
      const second = await claimed(store, k, later(60_001));
      assert.notEqual(first, second);
      assert.equal(
        await store.finish(k, first, {
          state: 'signed',
          envelope: envelope(),
          subjects: [sha()],
          keyId: 'k1',
          at: later(60_002),
        }),
        false,
      );
      assert.equal((await store.get(k))!.state, 'assembling');
      assert.equal((await store.get(k))!.attempts, 2);
      assert.deepEqual(await store.envelopesForTask(k), []);
    });

    it('hands a released claim to the next delivery at once', async () => {
      const store = await make();
      const k = key();
      await store.release(k, await claimed(store, k));
      await claimed(store, k, later(1));
    });

    it('stores a signed envelope findable by task and by each subject; a finished task is never claimed again', async () => {
      const store = await make();
      const k = key();
      const [a, b] = [sha(), sha()];
      const env = envelope();
      assert.equal(
        await store.finish(k, await claimed(store, k), {
          state: 'signed',
          envelope: env,
          subjects: [a, b],
          keyId: 'k1',
          at: later(5),
        }),
        true,
      );
      assert.deepEqual(await store.envelopesForTask(k), [env]);
      assert.deepEqual(await store.envelopesForSubject(a), [env]);
      assert.deepEqual(await store.envelopesForSubject(b), [env]);
      assert.deepEqual(await store.envelopesForSubject(sha()), []);
      const rec = (await store.get(k))!;
      assert.equal(rec.state, 'signed');
      assert.deepEqual(rec.subjects, [a, b]);
      assert.equal(rec.keyId, 'k1');
      assert.equal(rec.signedAt!.toISOString(), later(5).toISOString());
      assert.deepEqual(await store.claim(k, later(10 * 60_000), 60_000), { outcome: 'signed' });
    });

    it("returns every task's envelope for a subject several tasks produced, oldest first", async () => {
      const store = await make();
      const shared = sha();
      const envs = [envelope(), envelope(), envelope()];
      const keys = [key(), key(), key()];
      for (const i of [2, 0, 1]) {
        await store.finish(keys[i]!, await claimed(store, keys[i]!), {
          state: 'signed',
          envelope: envs[i]!,
          subjects: [shared],
          keyId: 'k1',
          at: later(i * 1000),
        });
      }
      assert.deepEqual(await store.envelopesForSubject(shared), envs);
    });

    it('records a failure with its reason; the task is not claimed again and has no envelope', async () => {
      const store = await make();
      const k = key();
      await store.finish(k, await claimed(store, k), { state: 'failed', reason: 'no artifacts', at: later(1) });
      assert.deepEqual(await store.claim(k, later(2), 60_000), { outcome: 'failed', reason: 'no artifacts' });
      assert.equal((await store.get(k))!.reason, 'no artifacts');
      assert.deepEqual(await store.envelopesForTask(k), []);
    });

    it('round-trips an envelope larger than a Firestore document (2.5 MB)', async () => {
      const store = await make();
      const k = key();
      const s = sha();
      const env = envelope(1_900_000);
      await store.finish(k, await claimed(store, k), {
        state: 'signed',
        envelope: env,
        subjects: [s],
        keyId: 'k1',
        at: later(1),
      });
      assert.deepEqual(await store.envelopesForTask(k), [env]);
      assert.deepEqual(await store.envelopesForSubject(s), [env]);
    });

    it("pages a subject's envelopes oldest first (ties by task key), each page after the last, sizes known", async () => {
      const store = await make();
      const shared = sha();
      const envs = Array.from({ length: 5 }, (_, i) => envelope(100 + i * 50));
      const keys = Array.from({ length: 5 }, () => key());
      // Two signed at the same instant: the task key orders them.
      const at = [0, 1000, 1000, 2000, 3000];
      for (const i of [3, 1, 4, 0, 2]) {
        await store.finish(keys[i]!, await claimed(store, keys[i]!), {
          state: 'signed',
          envelope: envs[i]!,
          subjects: [shared, sha()],
          keyId: 'k1',
          at: later(at[i]!),
        });
      }
      const failed = key();
      await store.finish(failed, await claimed(store, failed), { state: 'failed', reason: 'x', at: later(1) });
      const order = [0, 1, 2, 3, 4].sort((a, b) => at[a]! - at[b]! || (keys[a]! < keys[b]! ? -1 : 1));
      const seen: string[] = [];
      const sizes: number[] = [];
      let page = await store.subjectPage(shared, 2);
      for (;;) {
        sizes.push(page.envelopes.length);
        for (const e of page.envelopes) {
          let text = '';
          for await (const piece of e.text()) text += piece;
          assert.equal(e.bytes, Buffer.byteLength(text));
          assert.ok(text.startsWith(e.frame.head) && text.endsWith(e.frame.tail));
          seen.push(text);
        }
        if (!page.next) break;
        page = await store.subjectPage(shared, 2, page.next);
      }
      assert.deepEqual(sizes, [2, 2, 1]);
      assert.deepEqual(
        seen,
        order.map((i) => JSON.stringify(envs[i])),
      );
      assert.deepEqual(await store.subjectPage(sha(), 2), { envelopes: [] });
    });

    it('gives the stored envelope of a signed task only, its text whole when read', async () => {
      const store = await make();
      const k = key();
      assert.equal(await store.storedForTask(k), undefined);
      const token = await claimed(store, k);
      assert.equal(await store.storedForTask(k), undefined);
      const env = envelope(1_900_000);
      await store.finish(k, token, { state: 'signed', envelope: env, subjects: [sha()], keyId: 'k1', at: later(1) });
      const stored = (await store.storedForTask(k))!;
      assert.equal(stored.taskKey, k);
      let text = '';
      for await (const piece of stored.text()) text += piece;
      assert.equal(text, JSON.stringify(env));
      assert.equal(stored.bytes, text.length);
    });

    it('records publications on signed provenance, replacing the list; a task with no record is left alone', async () => {
      const store = await make();
      const k = key();
      const env = envelope();
      await store.finish(k, await claimed(store, k), {
        state: 'signed',
        envelope: env,
        subjects: [sha()],
        keyId: 'k1',
        at: later(5),
      });
      const first: Publication[] = [
        { sink: 'oci', target: `reg.example/app@sha256:${sha()}`, state: 'failed', error: 'HTTP 503', at: later(6) },
        { sink: 'gcs', target: 'gs://b/app.tgz', state: 'skipped', error: 'b is not on GCS_BUCKETS', at: later(6) },
      ];
      await store.recordPublications(k, first);
      assert.deepEqual((await store.get(k))!.publications, first);
      const second: Publication[] = [{ ...first[0]!, state: 'published', at: later(7) }, first[1]!];
      const { error: _e, ...published } = second[0]!;
      await store.recordPublications(k, [published, first[1]!]);
      assert.deepEqual((await store.get(k))!.publications, [published, first[1]]);
      assert.deepEqual(await store.envelopesForTask(k), [env], 'the envelope is untouched');
      const none = key();
      await store.recordPublications(none, first);
      assert.equal(await store.get(none), undefined);
    });

    it('knows nothing of a task never claimed', async () => {
      const store = await make();
      const k = key();
      assert.equal(await store.get(k), undefined);
      assert.deepEqual(await store.envelopesForTask(k), []);
    });
  });
}
