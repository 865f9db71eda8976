// The provenance store contract on the Firestore emulator, plus what only
// Firestore has: large envelopes really are split into chunk documents.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
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
