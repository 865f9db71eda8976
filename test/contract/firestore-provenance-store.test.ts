// The provenance store contract on the Firestore emulator, plus what only
// Firestore has: large envelopes really are split into chunk documents.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { FieldValue } from '@google-cloud/firestore';
import {
  CHUNKS,
  CHUNK_BYTES,
  FirestoreProvenanceStore,
  PROVENANCE,
} from '../../functions/adapters/firestore-provenance-store.js';
import { emulatorFirestore } from '../helpers/emulator-env.js';
import { provenanceStoreContract } from './provenance-store.contract.js';

provenanceStoreContract('Firestore (emulator)', async () => new FirestoreProvenanceStore(emulatorFirestore().db));

it('Firestore: keeps a small envelope inline and splits one over 1 MiB into chunk documents under the limit', async () => {
  const { db } = emulatorFirestore();
  const store = new FirestoreProvenanceStore(db);
  const big = {
    payloadType: 'application/vnd.in-toto+json',
    payload: randomBytes(1_500_000).toString('base64'),
    signatures: [{ keyid: 'k', sig: 'c2ln' }],
  };
  const small = { ...big, payload: 'e30=' };
  for (const [k, env] of [
    ['a'.repeat(40), big],
    ['b'.repeat(40), small],
  ] as const) {
    const c = await store.claim(k, new Date(), 60_000);
    assert.equal(c.outcome, 'claimed');
    assert.ok(
      await store.finish(k, (c as { token: string }).token, {
        state: 'signed',
        envelope: env,
        subjects: ['c'.repeat(64)],
        keyId: 'k',
        at: new Date(),
      }),
    );
  }
  const bigChunks = await db.collection(PROVENANCE).doc('a'.repeat(40)).collection(CHUNKS).get();
  const json = JSON.stringify(big);
  assert.equal(bigChunks.size, Math.ceil(json.length / CHUNK_BYTES));
  assert.ok(bigChunks.docs.every((d) => (d.get('data') as string).length <= CHUNK_BYTES));
  assert.equal((await db.collection(PROVENANCE).doc('a'.repeat(40)).get()).get('envelope'), undefined);
  assert.equal((await db.collection(PROVENANCE).doc('b'.repeat(40)).collection(CHUNKS).get()).size, 0);
  assert.deepEqual(await store.envelopesForSubject('c'.repeat(64)), [big, small]);
});

it('Firestore: a stored envelope is read one chunk at a time; a record from before frames were kept still serves', async () => {
  const { db } = emulatorFirestore();
  const store = new FirestoreProvenanceStore(db, 10_000);
  const env = {
    payloadType: 'application/vnd.in-toto+json',
    payload: randomBytes(60_000).toString('base64'),
    signatures: [{ keyid: 'k', sig: 'c2ln' }],
  };
  const subject = randomBytes(32).toString('hex');
  const keys = [randomBytes(20).toString('hex'), randomBytes(20).toString('hex')];
  for (const [i, k] of keys.entries()) {
    const c = await store.claim(k, new Date(), 60_000);
    assert.ok(
      await store.finish(k, (c as { token: string }).token, {
        state: 'signed',
        envelope: env,
        subjects: [subject],
        keyId: 'k',
        at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
      }),
    );
  }
  // The second as written before this release: no envelopeBytes nor envelopeFrame.
  await db
    .collection(PROVENANCE)
    .doc(keys[1]!)
    .update({ envelopeBytes: FieldValue.delete(), envelopeFrame: FieldValue.delete() });
  const page = await store.subjectPage(subject, 10);
  assert.deepEqual(
    page.envelopes.map((e) => e.taskKey),
    keys,
  );
  const json = JSON.stringify(env);
  for (const e of page.envelopes) {
    const pieces: string[] = [];
    for await (const piece of e.text()) pieces.push(piece);
    assert.equal(pieces.join(''), json);
    assert.equal(e.bytes, json.length);
  }
  const first: string[] = [];
  for await (const piece of page.envelopes[0]!.text()) first.push(piece);
  assert.equal(first.length, Math.ceil(json.length / 10_000));
  assert.ok(first.every((p) => p.length <= 10_000));
});

it('Firestore: keeps publications out of the task document, in chunks under the limit, however many and however long', async () => {
  const { db } = emulatorFirestore();
  const store = new FirestoreProvenanceStore(db);
  const k = randomBytes(20).toString('hex');
  const c = await store.claim(k, new Date(), 60_000);
  assert.equal(c.outcome, 'claimed');
  const envelope = {
    payloadType: 'application/vnd.in-toto+json',
    payload: 'e30=',
    signatures: [{ keyid: 'k', sig: 'c2ln' }],
  };
  await store.finish(k, (c as { token: string }).token, {
    state: 'signed',
    envelope,
    subjects: ['c'.repeat(64)],
    keyId: 'k',
    at: new Date(),
  });
  // 2,000 targets of ~1 KiB with non-ASCII names: ~2.5 MB, more than a document holds.
  const publications = Array.from({ length: 2000 }, (_, i) => ({
    sink: 'gcs' as const,
    target: `gs://b/${'é🙂'.repeat(300)}/${i}`,
    state: 'failed' as const,
    error: `HTTP 503 ${'x'.repeat(200)}`,
    at: new Date(1_800_000_000_000 + i),
  }));
  await store.recordPublications(k, publications);
  await store.recordPublications(k, publications); // replaced, not appended; the old chunks go
  assert.deepEqual((await store.get(k))!.publications, publications);
  const doc = await db.collection(PROVENANCE).doc(k).get();
  assert.equal(doc.get('publications'), undefined, 'not in the task document');
  const chunks = await db.collection(PROVENANCE).doc(k).collection(CHUNKS).get();
  assert.ok(chunks.size >= 3, `${chunks.size} chunk documents`);
  assert.ok(chunks.docs.every((d) => Buffer.byteLength(d.get('data') as string) <= CHUNK_BYTES));
  assert.equal(chunks.size, doc.get('publicationChunks'), 'the replaced set was deleted');
});

it('Firestore: reads what OCI_ATTACH recorded (attachments) as OCI publications, so the sweep still retries a failed one', async () => {
  const { db } = emulatorFirestore();
  const store = new FirestoreProvenanceStore(db);
  const k = randomBytes(20).toString('hex');
  const at = new Date('2026-06-01T00:00:00Z');
  await db
    .collection(PROVENANCE)
    .doc(k)
    .set({
      taskKey: k,
      state: 'signed',
      subjects: ['c'.repeat(64)],
      attempts: 1,
      updatedAt: at,
      attachments: [
        { image: `reg.example/a@sha256:${'a'.repeat(64)}`, state: 'attached', at },
        { image: `reg.example/b@sha256:${'b'.repeat(64)}`, state: 'failed', error: 'HTTP 503', at },
      ],
    });
  const record = (await store.get(k))!;
  assert.deepEqual(record.publications, [
    { sink: 'oci', target: `reg.example/a@sha256:${'a'.repeat(64)}`, state: 'published', at },
    { sink: 'oci', target: `reg.example/b@sha256:${'b'.repeat(64)}`, state: 'failed', error: 'HTTP 503', at },
  ]);
  assert.equal('attachments' in record, false);
});
